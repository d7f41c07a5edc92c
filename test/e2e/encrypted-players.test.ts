// Encrypted playback in real players (Debian's chromium, playwright-core): hls.js plays the HLS
// AES-128 of 1_aeshls01 with the key from kdeliver's key URI, dash.js plays the CENC DASH of
// 1_cenc0001 with ClearKey, its licence from kdeliver's licence endpoint; both with a KS, from
// playManifest, as a page would. Without the KS neither plays.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { launchBrowser, playUntil, startPlayerPageServer, type PlayResult } from '../helpers/browser.js';
import { generateKs } from '../../src/access/ks.js';

const UNTIL = 8;
const ks = (privileges: string): string => generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 3600, privileges, now: Math.floor(Date.now() / 1000) });

t.test('hls.js and dash.js play the encrypted sample entries in chromium', async (t) => {
  const server = await startServer(t);
  const browser = await launchBrowser(t);
  const page = await startPlayerPageServer(t);
  const pm = (entry: string, tail: string) => `${server.url}/p/309/sp/30900/playManifest/entryId/${entry}/${tail}`;
  const played = (what: string, r: PlayResult) => {
    const diag = { events: r.events, console: r.console, failedRequests: r.failedRequests };
    t.same(r.errors, [], `${what}: no error event`, diag);
    t.ok(r.reached, `${what}: currentTime ${r.currentTime.toFixed(2)} s passes ${UNTIL} s`, diag);
  };

  await t.test('hls.js, HLS AES-128 of 1_aeshls01', async () => {
    const r = await playUntil(browser, page.url, 'hls', pm('1_aeshls01', `format/applehttp/protocol/http/ks/${ks('sview:1_aeshls01')}/a.m3u8`), { untilSec: UNTIL });
    played('hls.js AES-128', r);
  });
  await t.test('dash.js, CENC DASH of 1_cenc0001 with ClearKey from the licence endpoint', async () => {
    const r = await playUntil(browser, page.url, 'dash', pm('1_cenc0001', `format/mpegdash/protocol/http/ks/${ks('sview:1_cenc0001')}/a.mpd`), { untilSec: UNTIL });
    played('dash.js ClearKey', r);
  });
  await t.test('without a KS for the entry neither plays', async (t) => {
    const hls = await playUntil(browser, page.url, 'hls', pm('1_aeshls01', `format/applehttp/protocol/http/ks/${ks('sview:1_cenc0001')}/a.m3u8`), { untilSec: 2, timeoutMs: 15_000 });
    t.notOk(hls.reached, 'hls.js does not play');
    t.ok(hls.errors.length > 0, `hls.js reports ${hls.errors[0] ?? 'nothing'}`);
    const dash = await playUntil(browser, page.url, 'dash', pm('1_cenc0001', `format/mpegdash/protocol/http/ks/${ks('sview:1_aeshls01')}/a.mpd`), { untilSec: 2, timeoutMs: 15_000 });
    t.notOk(dash.reached, 'dash.js does not play');
  });
});
