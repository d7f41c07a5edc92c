// The test console in headless Chromium: log in with the partner admin secret, pick an entry,
// build its HLS URL, play it with hls.js; then a blocked entry, whose "why" panel must show the
// access-control rule that refused it. Screenshots go to test-artifacts/ (git-ignored).
import t from 'tap';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { launchBrowser } from '../helpers/browser.js';
import { projectRoot } from '../helpers/repo.js';

const artifacts = join(projectRoot, 'test-artifacts');

t.test('console: log in, play an entry, see why a blocked entry is refused', async (t) => {
  mkdirSync(artifacts, { recursive: true });
  const s = await startServer(t);
  const browser = await launchBrowser(t);
  const page = await browser.newPage({ viewport: { width: 1400, height: 1100 } });
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const requests: string[] = [];
  page.on('request', (r) => requests.push(r.url()));

  await page.goto(`${s.url}/console`);
  t.equal(await page.title(), 'kdeliver test console');
  t.ok(await page.isVisible('#login'), 'login form first');

  // a wrong secret is refused on the page
  await page.fill('#login-partner', '309');
  await page.fill('#login-credential', 'not-the-secret');
  await page.click('#login-submit');
  await page.waitForFunction(() => document.querySelector('#login-error')!.textContent !== '');
  t.match(await page.textContent('#login-error'), /wrong partner id or admin secret/);

  await page.fill('#login-credential', 'sample-admin-secret-309');
  await page.click('#login-submit');
  await page.waitForSelector('#entries tbody tr[data-entry-id="1_rcit0qgs"]');
  t.match(await page.textContent('#who-text'), /partner 309 \(Sample Partner\)/);
  // the entry it opens on plays as it is: ready and without access-control rules (the first in
  // order, 1_aeshls01, needs a KS, and a first Play was a 403)
  await page.waitForFunction(() => (document.querySelector('#f-entryId') as HTMLInputElement).value !== '');
  const opened = await page.inputValue('#f-entryId');
  t.equal(await page.locator(`#entries tbody tr[data-entry-id="${opened}"] td`).last().textContent(), '', `it opens on ${opened}, an entry without rules`);
  const stored = await page.evaluate(() => ({ ks: sessionStorage.getItem('kdeliver.console.ks'), local: JSON.stringify(localStorage) }));
  t.match(stored.ks, /^djJ8/, 'an admin KS in sessionStorage');
  t.notMatch(JSON.stringify(stored), /sample-admin-secret/, 'the secret itself is not kept');

  // play 1_rcit0qgs over HLS with hls.js
  await page.click('#entries tbody tr[data-entry-id="1_rcit0qgs"]');
  t.equal(await page.inputValue('#f-entryId'), '1_rcit0qgs');
  t.equal(await page.locator('#flavors tbody tr').count(), 5, 'five flavors listed');
  await page.selectOption('#f-format', 'applehttp');
  await page.selectOption('#player-kind', 'hlsjs');
  const url = await page.inputValue('#url');
  t.equal(url, `${s.url}/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`, 'the built URL');
  await page.click('#play-button');
  await page.waitForFunction(() => {
    const v = document.querySelector('video') as HTMLVideoElement;
    return v.currentTime > 1.5 || /failed/.test(document.querySelector('#play-status')!.textContent!);
  }, undefined, { timeout: 30_000 });
  const status = await page.textContent('#play-status');
  t.match(status, /^playing /, `played: ${status}`);
  t.ok(requests.some((r) => r.includes('/playManifest/entryId/1_rcit0qgs/format/applehttp')), 'hls.js fetched the playManifest URL');
  t.ok(requests.some((r) => r.endsWith('/console/vendor/hls.js')), 'hls.js came from the console route');
  await page.click('#why-button');
  await page.waitForSelector('#why-verdict.verdict-plays');
  t.match(await page.textContent('#why-verdict'), /^Plays: \d flavor\(s\) .* delivery profile 1001/);
  await page.screenshot({ path: join(artifacts, 'console-playing.png'), fullPage: true });
  await page.click('#stop-button');

  // a blocked entry: playback fails and the why panel shows the rule
  await page.click('#entries tbody tr[data-entry-id="1_kssecure"]');
  await page.click('#play-button');
  await page.waitForSelector('#why-rules .rule', { timeout: 30_000 });
  t.match(await page.textContent('#play-status'), /playback failed: .*(403|error)/i);
  t.match(await page.textContent('#why-verdict'), /Refused: error 3 ACCESS_CONTROL_RESTRICTED/);
  t.match(await page.textContent('#why-rules'), /Access-control rule #0 fired/);
  t.match(await page.textContent('#why-rules'), /authenticated/);
  t.ok(await page.isVisible('#why-steps li[data-stage="access"]'), 'the access step is listed');
  await page.screenshot({ path: join(artifacts, 'console-blocked.png'), fullPage: true });

  // the IP allow-list entry, through the Why button and the native player path
  await page.click('#entries tbody tr[data-entry-id="1_iponly00"]');
  await page.selectOption('#f-format', 'url');
  await page.click('#why-button');
  await page.waitForFunction(() => /Refused/.test(document.querySelector('#why-verdict')!.textContent!));
  t.match(await page.textContent('#why-rules'), /10\.0\.0\.0\/8/, 'the IP rule and its allow-list');

  // the same entry in the Kaltura web player (api_v3 multirequest, then its own HLS engine)
  await page.click('#entries tbody tr[data-entry-id="1_rcit0qgs"]');
  await page.selectOption('#player-kind', 'kaltura');
  await page.click('#play-button');
  await page.waitForFunction(() => /playing ([1-9]|\d\d)\.\d s \(Kaltura player\)|failed/.test(document.querySelector('#play-status')!.textContent!), undefined, { timeout: 30_000 });
  t.match(await page.textContent('#play-status'), /^playing .* \(Kaltura player\)$/, 'the Kaltura web player plays the entry');
  t.ok(requests.some((r) => r.endsWith('/console/vendor/kaltura-ovp-player.js')), 'the player bundle came from the console route');
  t.ok(requests.some((r) => r.includes('/api_v3/service/multirequest')), 'the player asked api_v3');
  t.notOk(requests.some((r) => !r.startsWith(s.url) && !r.startsWith('blob:') && !r.startsWith('data:')), 'no request left the server');
  await page.screenshot({ path: join(artifacts, 'console-kaltura-player.png'), fullPage: true });

  t.same(problems, [], 'no page errors');
});
