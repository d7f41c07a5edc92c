// Proof by real players: hls.js and dash.js (npm) in Debian's chromium play the sample entry
// from the running server, from playManifest or the packager's own URLs, until currentTime
// passes 8 s with no error event. HLS over MPEG-TS and fMP4, DASH, and Smooth Streaming
// through dash.js's MSS support. One browser for the file; playback at 2x to keep it short.
import t, { type Test } from 'tap';
import { startServer, type TestServer } from '../helpers/server.js';
import { launchBrowser, playUntil, startPlayerPageServer, type PlayerKind, type PlayResult } from '../helpers/browser.js';
import { ALT, SAMPLE, hlsMaster, mssManifest, playManifest } from '../helpers/packager-urls.js';

const UNTIL = 8;

function assertPlayed(t: Test, what: string, r: PlayResult): void {
  const diag = { events: r.events, console: r.console, failedRequests: r.failedRequests };
  t.same(r.errors, [], `${what}: no error event`, diag);
  t.ok(r.reached, `${what}: currentTime ${r.currentTime.toFixed(2)} s passes ${UNTIL} s`, diag);
}

t.test('hls.js and dash.js play the packager output in chromium', async (t) => {
  const server: TestServer = await startServer(t);
  const browser = await launchBrowser(t);
  const page = await startPlayerPageServer(t);
  const play = (kind: PlayerKind, path: string) => playUntil(browser, page.url, kind, server.url + path, { untilSec: UNTIL });

  const cases: [string, PlayerKind, string][] = [
    ['hls.js, MPEG-TS, master from playManifest applehttp', 'hls', playManifest(SAMPLE.entryId, 'applehttp')],
    ['hls.js, fMP4, urlset master.m3u8', 'hls', hlsMaster({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240, SAMPLE.p360, SAMPLE.p720], container: 'fmp4' })],
    // dash.js follows playManifest's 302 itself and resolves segments against the final URL
    ['dash.js, DASH through the playManifest mpegdash redirect', 'dash', playManifest(SAMPLE.entryId, 'mpegdash', '', 'a.mpd')],
    ['dash.js MSS support, Smooth Streaming manifest', 'mss', mssManifest({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240, SAMPLE.p360] })],
    ['hls.js, alternate audio and subtitles from playManifest applehttp', 'hls', playManifest(ALT.entryId, 'applehttp')],
    ['dash.js, alternate audio and text tracks from playManifest mpegdash', 'dash', playManifest(ALT.entryId, 'mpegdash', '', 'a.mpd')],
  ];
  for (const [what, kind, path] of cases) {
    await t.test(what, async (t) => {
      const r = await play(kind, path);
      assertPlayed(t, what, r);
    });
  }
});
