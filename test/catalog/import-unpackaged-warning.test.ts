// `kdeliver import` of a flavor whose MP4 the packager will not package (a recording cut short, a
// file named .mp4 that is none) went through without a word: the entry was READY, and only its
// HLS and DASH URLs said, later, that the file cannot be packaged. The import now says so on
// stderr, one line per such flavor, and still imports it (the file is served as a file). A file
// that is neither MP4 by its boxes nor by its name (WebM for progressive download) is not warned
// of, nor is a fragmented MP4 (ffmpeg's -movflags frag_keyframe, OBS's fragmented recordings),
// which is packaged since its moofs are read (test/http/fragmented-input.test.ts).
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binTarget, cleanEnv, run } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';
import { requireCommands } from '../helpers/system.js';
import { pgDatabase } from '../helpers/postgres.js';
import { startServer } from '../helpers/server.js';
import { launchBrowser } from '../helpers/browser.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');
const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-warning-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const media = join(work, 'media');
mkdirSync(media);
const ffmpeg = (...args: string[]): void => {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25:duration=2', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
};
ffmpeg('-c:v', 'libx264', '-preset', 'ultrafast', '-movflags', 'frag_keyframe+empty_moov', join(media, 'fragmented.mp4'));
ffmpeg('-c:v', 'libvpx-vp9', '-deadline', 'realtime', join(media, 'clip.webm'));
// a recording cut short: the moov at the end is gone
copyFileSync(join(projectRoot, 'fixtures/media/h264-240p.mp4'), join(media, 'cut.mp4'));
truncateSync(join(media, 'cut.mp4'), 20000);
copyFileSync(join(projectRoot, 'fixtures/media/h264-240p.mp4'), join(media, 'good.mp4'));
// named MP4 but no MP4 at all, and shorter than a box header
writeFileSync(join(media, 'notes.mp4'), 'notes\n');

const entry = (n: number, file: string) => ({ id: `0_warn000${n}`, partnerId: 7001, name: file, flavors: [{ id: `0_warnf00${n}`, flavorParamsId: 301951, file }] });
const file = join(work, 'lib.json');
writeFileSync(file, JSON.stringify({
  version: 1,
  partners: [{ id: 7001, name: 'Mine', adminSecret: 'mine-admin-secret', userSecret: 'mine-user-secret' }],
  entries: [entry(1, 'good.mp4'), entry(2, 'fragmented.mp4'), entry(3, 'clip.webm'), entry(4, 'cut.mp4'), entry(5, 'notes.mp4')],
}));

t.test('import names the flavors that will not be packaged, and imports them', async (t) => {
  const r = await run(process.execPath, [binTarget(), 'import', file], { env: { ...cleanEnv, KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_SAMPLE_LIBRARY: 'false' } });
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /imported .*lib\.json: 5 entries/);
  const warned = r.stderr.split('\n').filter((l) => /not packaged/.test(l));
  t.equal(warned.length, 2, warned.join('\n'));
  t.match(warned[0], /^import lib\.json: entries\[3\] \(0_warn0004\) flavor 0_warnf004 \(cut\.mp4\): not packaged for HLS, DASH or Smooth Streaming, only served as a file: /);
  // it said "empty file" of a 6-byte file
  t.match(warned[1], /^import lib\.json: entries\[4\] \(0_warn0005\) flavor 0_warnf005 \(notes\.mp4\): not packaged.*: not an MP4 file \(6 bytes, too short for a box\)$/);
  t.notMatch(r.stderr, /good\.mp4|clip\.webm|fragmented\.mp4/, 'a good MP4, a WebM and a fragmented MP4 are not warned of');
});

// What the import found is kept (flavor_assets.packaging_refusal): playManifest leaves such a
// flavor out of HLS and DASH, where a player would pick a rendition that cannot play (it listed
// it with BANDWIDTH=0, and its playlist answered error 5), and still offers it as a file. On
// both catalogs: the column is a migration of each. Where one flavor is picked for the entry
// (progressive play, download, flvclipper), the refused one is picked only when named: its
// unknown bitrate (0) made it the lowest, the one picked.
writeFileSync(join(media, 'junk.mp4'), 'not a video\n');
const both = join(work, 'both.json');
writeFileSync(both, JSON.stringify({
  version: 1,
  partners: [{ id: 7002, name: 'Mine', adminSecret: 'mine-admin-secret', userSecret: 'mine-user-secret' }],
  entries: [
    { id: '0_mixed001', partnerId: 7002, name: 'one good, one cut', flavors: [
      { id: '0_mixedf01', flavorParamsId: 301951, file: 'good.mp4' },
      { id: '0_mixedf02', flavorParamsId: 301971, file: 'cut.mp4' }] },
    { id: '0_notmp401', partnerId: 7002, name: 'only notes', flavors: [{ id: '0_notmpf01', flavorParamsId: 301951, file: 'notes.mp4' }] },
    { id: '0_junk0001', partnerId: 7002, name: 'text', flavors: [{ id: '0_junkf001', flavorParamsId: 301951, file: 'junk.mp4' }] },
  ],
}));

for (const catalog of ['sqlite', 'postgres'] as const) {
  t.test(`${catalog}: a flavor the packager refuses is no HLS or DASH rendition, and still a file`, async (t) => {
    const dataDir = join(work, `data-${catalog}`);
    const env: Record<string, string> = { KDELIVER_DATA_DIR: dataDir, KDELIVER_SAMPLE_LIBRARY: 'false' };
    if (catalog === 'postgres') env.KDELIVER_DATABASE_URL = await pgDatabase(t);
    const imported = await run(process.execPath, [binTarget(), 'import', both], { env: { ...cleanEnv, ...env } });
    t.equal(imported.code, 0, imported.stderr);
    // it quoted bytes 4-7 as what the file "starts with"
    t.match(imported.stderr, /flavor 0_junkf001 \(junk\.mp4\): not packaged.*: not an MP4 file \(bytes 4-7 read "a vi" where an MP4 names its first box, ftyp in most\)\n/);
    const server = await startServer(t, { env });
    const play = (entry: string, format: string, extra = '') => fetch(`${server.url}/p/7002/sp/700200/playManifest/entryId/${entry}${extra}/format/${format}/protocol/http/a.${format === 'mpegdash' ? 'mpd' : format === 'url' ? 'mp4' : 'm3u8'}`);

    const hls = await play('0_mixed001', 'applehttp');
    t.equal(hls.status, 200);
    const master = await hls.text();
    t.equal(master.match(/#EXT-X-STREAM-INF/g)?.length, 1, master);
    t.match(master, /0_mixedf01/, 'the good flavor is listed');
    t.notMatch(master, /0_mixedf02|BANDWIDTH=0\b/, 'the cut one is not');

    const dash = await play('0_mixed001', 'mpegdash');
    t.equal(dash.status, 200);
    const mpd = await dash.text();
    t.match(mpd, /0_mixedf01/);
    t.notMatch(mpd, /0_mixedf02/, 'nor in DASH');

    // asked by name: as any flavorIds that name no usable flavor, the entry's others (the reference's fallback)
    const named = await (await play('0_mixed001', 'applehttp', '/flavorIds/0_mixedf02')).text();
    t.match(named, /0_mixedf01/);
    t.notMatch(named, /0_mixedf02/);
    // none left: not found, saying why, as the import did
    const only = await play('0_notmp401', 'mpegdash');
    t.equal(only.status, 404);
    t.equal(only.headers.get('x-kaltura'), 'error-6');
    t.match(await only.text(), /the packager refuses the file of flavor 0_notmpf01: not an MP4 file \(6 bytes, too short for a box\)/);

    // as a file it is served
    const file = await play('0_notmp401', 'url');
    t.ok(file.status === 200 || file.status === 302, `progressive: ${file.status}`);
    const bytes = file.status === 302 ? await fetch(new URL(file.headers.get('location')!, server.url)) : file;
    t.equal(await bytes.text(), 'notes\n', 'the file itself');

    // one flavor picked for the entry: the good one, unless the cut one is named
    const goodSize = statSync(join(media, 'good.mp4')).size;
    const base = `${server.url}/p/7002/sp/700200`;
    const progressive = await play('0_mixed001', 'url');
    t.equal((await progressive.arrayBuffer()).byteLength, goodSize, 'format/url plays the good file');
    const download = await fetch(`${base}/download/entry_id/0_mixed001`);
    t.equal(download.status, 200);
    t.equal((await download.arrayBuffer()).byteLength, goodSize, 'download: the good file');
    const clip = await fetch(`${base}/flvclipper/entry_id/0_mixed001`);
    t.equal(clip.status, 200, 'flvclipper: the good file (the cut one answered error 5)');
    await clip.arrayBuffer();
    const namedFile = await play('0_mixed001', 'url', '/flavorIds/0_mixedf02');
    t.equal((await namedFile.arrayBuffer()).byteLength, 20000, 'named, the cut file is served as it is');
    if (catalog === 'postgres') return;

    // the console's flavor table says it, with why (it showed the cut video as "audio", ready)
    const browser = await launchBrowser(t);
    const page = await browser.newPage();
    await page.goto(`${server.url}/console`);
    await page.fill('#login-partner', '7002');
    await page.fill('#login-credential', 'mine-admin-secret');
    await page.click('#login-submit');
    await page.click('#entries tbody tr[data-entry-id="0_mixed001"]');
    await page.waitForSelector('#flavors tbody tr:nth-child(2)');
    const rows = await page.locator('#flavors tbody tr').allTextContents();
    t.match(rows.find((r) => r.includes('0_mixedf02')), /\?.*ready, a file only: not packaged \(.+\)$/, 'the cut flavor');
    t.match(rows.find((r) => r.includes('0_mixedf01')), /426x240.*ready$/, 'the good one as before');
    await page.close();

    // exported and imported elsewhere, it is found again (the export leaves out the fields the
    // file could not tell, so the import reads it)
    const exported = join(work, 'exported', 'library.json');
    const out = await run(process.execPath, [binTarget(), 'export', exported], { env: { ...cleanEnv, ...env } });
    t.equal(out.code, 0, out.stderr);
    const cut = (JSON.parse(readFileSync(exported, 'utf8')) as { entries: { flavors: Record<string, unknown>[] }[] }).entries.flatMap((e) => e.flavors).find((f) => f.id === '0_mixedf02')!;
    t.same(['codecs', 'videoCodec', 'audioCodec', 'width', 'height', 'frameRate', 'bitrate', 'durationMs'].filter((k) => k in cut), [], 'no media field the file did not tell');
    const elsewhere = { KDELIVER_DATA_DIR: join(work, 'data-elsewhere'), KDELIVER_SAMPLE_LIBRARY: 'false' };
    const again = await run(process.execPath, [binTarget(), 'import', exported], { env: { ...cleanEnv, ...elsewhere } });
    t.equal(again.code, 0, again.stderr);
    t.match(again.stderr, /flavor 0_mixedf02 \(.*\): not packaged/, 'the import says so again');
    const there = await startServer(t, { env: elsewhere });
    const relisted = await (await fetch(`${there.url}/p/7002/sp/700200/playManifest/entryId/0_mixed001/format/applehttp/protocol/http/a.m3u8`)).text();
    t.match(relisted, /0_mixedf01/);
    t.notMatch(relisted, /0_mixedf02/, 'and leaves it out of HLS');
  });
}
