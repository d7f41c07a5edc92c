// The test console as a newcomer meets it, in headless Chromium: the page before login, the
// login mistakes a user makes, a session that ends under the page, the Kaltura web player's
// refusals, and formats a player cannot play. Each message must say what happened.
import t from 'tap';
import type { Page } from 'playwright-core';
import { startServer } from '../helpers/server.js';
import { launchBrowser } from '../helpers/browser.js';
import { CONSOLE_KS_SECONDS } from '../../src/console/auth.js';
import { generateKs, KsType } from '../../src/access/ks.js';

// the server's clock, moved past the console KS's lifetime to end the session
let offset = 0;
const clock = () => Math.floor(Date.now() / 1000) + offset;

const loggedIn = (page: Page) => page.waitForSelector('#entries tbody tr[data-entry-id="1_rcit0qgs"]');
const loginError = async (page: Page) => {
  await page.waitForFunction(() => document.querySelector('#login-error')!.textContent !== '');
  return page.textContent('#login-error');
};
const playStatus = async (page: Page) => {
  await page.waitForFunction(() => /playing ([1-9]|\d\d)\.\d s|failed/.test(document.querySelector('#play-status')!.textContent!), undefined, { timeout: 30_000 });
  return page.textContent('#play-status');
};

t.test('console: what a newcomer meets', async (t) => {
  const s = await startServer(t, { now: clock });
  const browser = await launchBrowser(t);
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  const login = async (partner: string, mode: 'secret' | 'ks', credential: string) => {
    await page.fill('#login-partner', partner);
    await page.check(`input[name=mode][value=${mode}]`);
    await page.fill('#login-credential', credential);
    await page.click('#login-submit');
  };
  const adminKs = async (partnerId: number) => {
    const r = await fetch(`${s.url}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partnerId, secret: `sample-admin-secret-${partnerId}` }) });
    return ((await r.json()) as { ks: string }).ks;
  };

  await page.goto(`${s.url}/console`);
  t.ok(await page.isVisible('#login'), 'the login form');
  t.notOk(await page.isVisible('#app'), 'and nothing of the console before login');
  t.notOk(await page.isVisible('#play-button'), 'no Play button to press without a session');

  await login('abc', 'secret', 'sample-admin-secret-309');
  t.equal(await loginError(page), 'Partner id: a number, such as 309', 'a partner id that is not a number');

  // an admin KS of partner 310 typed under partner id 309
  await login('309', 'ks', await adminKs(310));
  t.equal(await loginError(page), 'this KS is of partner 310, not 309', 'a KS of another partner than the one typed');
  t.notOk(await page.isVisible('#app'), 'not logged in as partner 310');
  t.equal(await page.evaluate(() => sessionStorage.getItem('kdeliver.console.ks')), null, 'that KS is not kept');

  await login('309', 'secret', 'sample-admin-secret-309');
  await loggedIn(page);
  t.notOk(await page.isVisible('#login'), 'logged in: the login form is gone');
  // a ready entry that playManifest refuses for its moderation or schedule says so in the list
  const status = (id: string) => page.textContent(`#entries tbody tr[data-entry-id="${id}"] td:nth-child(3)`);
  t.equal(await status('1_moderat0'), 'ready, pending moderation');
  t.equal(await status('1_sched000'), 'ready, schedule ended');
  t.equal(await status('1_rcit0qgs'), 'ready');
  t.equal(await status('1_convert0'), 'converting');
  t.equal(await status('1_deleted0'), 'deleted');
  // an image and a document: no flavors to play, their file is the raw URL
  for (const [id, type] of [['1_image000', 'image/png'], ['1_document', 'application/pdf']]) {
    await page.click(`#entries tbody tr[data-entry-id="${id}"]`);
    t.ok(await page.isVisible('#raw-file a'), `${id}: a link to its file`);
    const href = await page.getAttribute('#raw-file a', 'href');
    const r = await fetch(s.url + href!);
    t.equal(r.headers.get('content-type'), type, `${id}: ${href} is its file`);
    await r.arrayBuffer();
  }
  await page.click('#entries tbody tr[data-entry-id="1_rcit0qgs"]');
  t.notOk(await page.isVisible('#raw-file'), 'a video has no such line');

  t.test('a player that cannot play the format says so', async (t) => {
    await page.click('#entries tbody tr[data-entry-id="1_rcit0qgs"]');
    await page.selectOption('#player-kind', 'auto');
    await page.selectOption('#f-format', 'http');
    await page.click('#play-button');
    t.match(await playStatus(page), /^playback failed: format http answers an F4M manifest \(Flash HDS\), which no player in a browser plays/);
    await page.selectOption('#player-kind', 'hlsjs');
    await page.selectOption('#f-format', 'mpegdash');
    await page.click('#play-button');
    t.match(await playStatus(page), /^playback failed: hls\.js does not play format mpegdash: choose dash\.js or the Kaltura web player$/);
    await page.selectOption('#player-kind', 'auto');
    await page.selectOption('#f-format', 'applehttp');
    await page.selectOption('#f-responseFormat', 'json');
    await page.click('#play-button');
    t.match(await playStatus(page), /^playback failed: responseFormat json answers a description of the media/);
    await page.selectOption('#f-responseFormat', '');
    // Smooth Streaming plays with dash.js and its MSS bundle
    await page.selectOption('#f-format', 'sl');
    await page.click('#play-button');
    t.match(await playStatus(page), /^playing /, 'format sl plays with dash.js');
    await page.waitForFunction(() => (document.querySelector('#video') as HTMLVideoElement).currentTime > 1.5 || /failed/.test(document.querySelector('#play-status')!.textContent!), undefined, { timeout: 30_000 });
    t.ok(await page.evaluate(() => (document.querySelector('#video') as HTMLVideoElement).currentTime > 1.5), 'currentTime advanced');
    await page.click('#stop-button');
  });

  t.test('the why panel explains a pasted key URI, licence URL or mistake', async (t) => {
    const ks = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: KsType.USER, userId: 'viewer', expiry: 3600, privileges: 'sview:*', version: 2, now: clock() });
    const master = await (await fetch(`${s.url}/p/309/sp/30900/playManifest/entryId/1_aeshls01/format/applehttp/protocol/http/ks/${ks}/a.m3u8`)).text();
    const variant = master.split('\n').find((l) => l.startsWith('http'))!;
    const playlist = await (await fetch(variant)).text();
    const keyUri = new URL(/URI="([^"]+)"/.exec(playlist)![1], variant).href;
    const explain = async (url: string) => {
      await page.fill('#trace-url', url);
      await page.click('#trace-button');
      await page.waitForFunction(() => !/asking/.test(document.querySelector('#why-verdict')!.textContent!));
      return page.textContent('#why-verdict');
    };
    t.match(await explain(keyUri), /^Key given: 1_aeshls01, key id\(s\) [0-9a-f]{32}\.$/, 'the HLS key URI');
    t.ok(await page.isVisible('#why-steps li[data-stage="key"]'), 'its steps');
    t.match(await explain(keyUri.replace(/\/ks\/[^/]+/, '')), /^Refused: error 27 INVALID_TOKEN/, 'the key URI without its KS');
    const licence = `${s.url}/p/309/sp/30900/clearKeyLicense/entryId/1_cenc0001/ks/${ks}/license`;
    t.match(await explain(licence), /^Key given: 1_cenc0001, key id\(s\) b0eb8a17323924b6d8d36875aacb0b48\.$/, 'the ClearKey licence URL');
    t.match(await explain('not a url at all'), /^trace unavailable: url: expected a playManifest path/, 'a mistake');
    t.match(await explain('/p/310/sp/31000/playManifest/entryId/1_secure01/format/url/a.mp4'), /^trace unavailable: the URL names partner 310; this KS is of partner 309$/, 'another partner\'s URL');
    t.match(await explain(`/p/309/sp/30900/playManifest/entryId/${'x'.repeat(20_000)}/a.mp4`), /^trace unavailable: Request body is too large/, 'a huge URL: the server\'s plain-text refusal, not a bare status');
    t.ok(await page.isVisible('#app'), 'a refused trace is not a refused session');
    await page.fill('#trace-url', '');
  });

  t.test('the Kaltura web player\'s refusals are spelled out', async (t) => {
    await page.selectOption('#player-kind', 'kaltura');
    for (const [entryId, said] of [
      ['1_kssecure', /^playback failed: Kaltura player error \d+ .*: a session \(KS\) is required \(SESSION_RESTRICTED\)$/],
      ['1_moderat0', /^playback failed: Kaltura player error \d+ .*the entry is pending moderation \(ENTRY_MODERATION_ERROR\)$/],
    ] as const) {
      await page.click(`#entries tbody tr[data-entry-id="${entryId}"]`);
      await page.click('#play-button');
      const status = await playStatus(page);
      t.match(status, said, `${entryId}: ${status}`);
      t.notMatch(status, /object Object/);
      await page.waitForSelector('#why-verdict.verdict-refused');
      await page.click('#stop-button');
    }
  });

  t.test('a session that ends sends the page back to the login form', async (t) => {
    offset = CONSOLE_KS_SECONDS + 60;
    await page.click('#entries tbody tr[data-entry-id="1_rcit0qgs"]');
    await page.click('#why-button');
    t.equal(await loginError(page), 'Your session ended (KS refused: EXPIRED): log in again.');
    t.ok(await page.isVisible('#login'), 'the login form');
    t.notOk(await page.isVisible('#app'), 'the console is hidden');
    t.equal(await page.evaluate(() => sessionStorage.getItem('kdeliver.console.ks')), null, 'the dead KS is dropped');
    offset = 0;
    await login('309', 'secret', 'sample-admin-secret-309');
    await loggedIn(page);
    t.equal(await page.textContent('#login-error'), '', 'logged in again');
    // a KS stored in the tab that has expired since: the reload says so
    offset = CONSOLE_KS_SECONDS + 60;
    await page.reload();
    t.equal(await loginError(page), 'Your session ended (KS refused: EXPIRED): log in again.', 'on reload too');
    t.notOk(await page.isVisible('#app'));
    offset = 0;
  });

  t.test('a reload while kdeliver does not answer keeps the session for the next reload', async (t) => {
    await page.goto(`${s.url}/console`);
    await login('309', 'secret', 'sample-admin-secret-309');
    await loggedIn(page);
    // the network refuses the session check once, as while the server restarts
    await page.route('**/console/api/session', (route) => route.abort('connectionrefused'), { times: 1 });
    await page.reload();
    t.match(await loginError(page), /^Could not reach kdeliver \(.+\): reload the page to try again\.$/);
    t.notOk(await page.isVisible('#app'));
    await page.reload();
    await loggedIn(page);
    t.match(await page.textContent('#who-text'), /^partner 309 /, 'the next reload resumes the session');
    await page.click('#logout');
    await page.waitForSelector('#login');
  });

  t.test('Log out ends the KS the page got for the secret, not a KS the user brought', async (t) => {
    await page.goto(`${s.url}/console`);
    await login('309', 'secret', 'sample-admin-secret-309');
    await loggedIn(page);
    const minted = (await page.evaluate(() => sessionStorage.getItem('kdeliver.console.ks')))!;
    const session = (ks: string) => fetch(`${s.url}/console/api/session`, { headers: { 'x-kaltura-ks': ks } });
    t.equal((await session(minted)).status, 200, 'valid while logged in');
    await page.click('#logout');
    await page.waitForSelector('#login');
    t.notOk(await page.isVisible('#app'), 'logged out');
    const after = await session(minted);
    t.equal(after.status, 401, 'the console\'s KS no longer opens the console');
    t.same(await after.json(), { message: 'KS refused: REVOKED' });

    const own = await adminKs(309);
    await login('309', 'ks', own);
    await loggedIn(page);
    await page.click('#logout');
    await page.waitForSelector('#login');
    t.equal((await session(own)).status, 200, 'a KS the user brought stays theirs');
  });

  t.same(problems, [], 'no page errors');
});
