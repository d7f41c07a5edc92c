// The console plays one entry after another in the same page. Players add text tracks to the
// <video> element that cannot be taken off again (HTMLMediaElement.addTextTrack has no remove), so
// the captions of the entry played before must not stay offered on the next one.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { launchBrowser } from '../helpers/browser.js';

t.test('console: a second entry does not show the captions of the first', async (t) => {
  const s = await startServer(t);
  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  const problems: string[] = [];
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  await page.goto(`${s.url}/console`);
  await page.fill('#login-partner', '309');
  await page.fill('#login-credential', 'sample-admin-secret-309');
  await page.click('#login-submit');
  await page.waitForSelector('#entries tbody tr[data-entry-id="1_alt0audi"]');

  const playFor = async (entryId: string, kind: string, format: string) => {
    await page.click(`#entries tbody tr[data-entry-id="${entryId}"]`);
    await page.selectOption('#f-format', format);
    await page.selectOption('#player-kind', kind);
    await page.click('#play-button');
    await page.waitForFunction(() => {
      const v = document.querySelector('#video') as HTMLVideoElement;
      return v.currentTime > 1 || /failed/.test(document.querySelector('#play-status')!.textContent!);
    }, undefined, { timeout: 30_000 });
    t.match(await page.textContent('#play-status'), /^playing /, `${entryId} plays with ${kind}`);
    return page.evaluate(() => [...(document.querySelector('#video') as HTMLVideoElement).textTracks].map((x) => x.label || x.language));
  };

  const captioned = await playFor('1_alt0audi', 'hlsjs', 'applehttp');
  t.ok(captioned.length >= 2, `the captioned entry offers its captions (${captioned.join(', ')})`);
  await page.click('#stop-button');
  t.same(await playFor('1_rcit0qgs', 'hlsjs', 'applehttp'), [], 'after hls.js: the next entry, without captions, offers none');
  await page.click('#stop-button');
  await playFor('1_alt0audi', 'dashjs', 'mpegdash');
  await page.click('#stop-button');
  t.same(await playFor('1_rcit0qgs', 'dashjs', 'mpegdash'), [], 'after dash.js: none either');
  await page.click('#stop-button');
  t.same(problems, [], 'no page errors');
});
