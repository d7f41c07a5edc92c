// Chromium's own <video> plays the sample entry's HLS MPEG-TS master with no player library:
// Chromium's MPEG-2 TS H.264 parser cuts the stream into access units at their access unit
// delimiters (NAL type 9), so TS segments without them failed in the element with
// DEMUXER_ERROR_COULD_NOT_PARSE while hls.js (which does not need them) played them. Segments
// with two AUDs per access unit (kdeliver's and the one an MP4 remuxed from TS keeps in each
// sample) failed there too, with PIPELINE_ERROR_DECODE (src/media/ts/writer.ts says how that
// source's own AUDs are dropped).
import t from 'tap';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { launchBrowser, playUntil, startPlayerPageServer } from '../helpers/browser.js';
import { SAMPLE, playManifest } from '../helpers/packager-urls.js';
import { installedCommand } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';
import { requireCommands } from '../helpers/system.js';

const UNTIL = 2;

t.test("Chromium's native <video> plays the HLS MPEG-TS master", async (t) => {
  const server = await startServer(t);
  const browser = await launchBrowser(t);
  const page = await startPlayerPageServer(t);
  const r = await playUntil(browser, page.url, 'native', server.url + playManifest(SAMPLE.entryId, 'applehttp'), { untilSec: UNTIL, rate: 1, timeoutMs: 60_000 });
  const diag = { events: r.events, console: r.console, failedRequests: r.failedRequests };
  t.same(r.errors, [], 'no media error', diag);
  t.ok(r.reached, `currentTime ${r.currentTime.toFixed(2)} s passes ${UNTIL} s`, diag);
});

t.test("... and the master of an MP4 remuxed from TS, whose samples keep their own AUDs", async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const work = mkdtempSync(join(tmpdir(), 'kdeliver-own-aud-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const lib = join(work, 'lib');
  mkdirSync(join(lib, 'media'), { recursive: true });
  // what `ffmpeg -c copy` of an HLS recording gives: an AUD at the head of every video sample
  const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', join(projectRoot, 'fixtures', 'media', 'h264-360p.mp4'), '-c', 'copy',
    '-bsf:v', 'h264_metadata=aud=insert', join(lib, 'media', 'recording.mp4')], { encoding: 'utf8' });
  t.equal(made.status, 0, made.stderr);
  writeFileSync(join(lib, 'library.json'), JSON.stringify({
    version: 1,
    partners: [{ id: 778, name: 'Recordings', adminSecret: 'own-aud-admin-secret-778', userSecret: 'own-aud-user-secret-778' }],
    entries: [{
      id: '0_recorded', partnerId: 778, name: 'A recording', mediaType: 1, duration: 12,
      flavors: [{ id: '0_recflv01', flavorParamsId: 301951, file: 'recording.mp4', tags: 'mobile,web,mbr,iphone,iphonenew,applembr,dash', bitrate: 628 }],
    }],
  }));
  const cmd = installedCommand(t, work);
  const env = { KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const loaded = await cmd.kdeliver(['import', join(lib, 'library.json')], env);
  t.equal(loaded.code, 0, loaded.stderr);
  const server = await cmd.serve(env);
  t.teardown(() => server.stop());
  const browser = await launchBrowser(t);
  const page = await startPlayerPageServer(t);
  const src = `${server.url}/p/778/sp/77800/playManifest/entryId/0_recorded/format/applehttp/protocol/http/a.m3u8`;
  const r = await playUntil(browser, page.url, 'native', src, { untilSec: UNTIL, rate: 1, timeoutMs: 60_000 });
  const diag = { events: r.events, console: r.console, failedRequests: r.failedRequests, log: server.log().slice(-2000) };
  t.same(r.errors, [], 'no media error', diag);
  t.ok(r.reached, `currentTime ${r.currentTime.toFixed(2)} s passes ${UNTIL} s`, diag);
});
