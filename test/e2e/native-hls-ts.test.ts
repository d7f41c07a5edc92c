// Chromium's own <video> plays the sample entry's HLS MPEG-TS master with no player library:
// Chromium's MPEG-2 TS H.264 parser cuts the stream into access units at their access unit
// delimiters (NAL type 9), so TS segments without them failed in the element with
// DEMUXER_ERROR_COULD_NOT_PARSE while hls.js (which does not need them) played them.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { launchBrowser, playUntil, startPlayerPageServer } from '../helpers/browser.js';
import { SAMPLE, playManifest } from '../helpers/packager-urls.js';

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
