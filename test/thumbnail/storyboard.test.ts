// Storyboards and thumbnail tracks, judged by clients nobody here wrote: the WebVTT storyboard
// parses in webvtt-parser, its cues cover the whole duration without a gap and point inside their
// sheet; every tile shows the frame a vid_sec grab of the same second shows (image similarity with
// sharp, and farther from the grab of another second); dash.js finds the DASH thumbnail track
// (provideThumbnail gives the right sheet URL and rectangle), Shaka Player the HLS image playlist;
// the THUMBNAIL access-control rules guard the storyboard, its sheets and the image playlist.
import t, { type Test } from 'tap';
import sharp from 'sharp';
import webvtt from 'webvtt-parser';
import { requireCommands } from '../helpers/system.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { launchBrowser, startPlayerPageServer } from '../helpers/browser.js';
import { SAMPLE, dashManifest, hlsMaster, playManifest } from '../helpers/packager-urls.js';
import { generateKs } from '../../src/access/ks.js';
import { readLibraryFile } from '../../src/catalog/library.js';
import { DEFAULT_STORYBOARD, type StoryboardConfig } from '../../src/catalog/types.js';
import { storyboardLayout, storyboardVtt, tile } from '../../src/thumbnail/storyboard.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sqliteDb } from '../helpers/sqlite.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');

interface Cue { startTime: number; endTime: number; text: string }
const parseVtt = (text: string): { errors: unknown[]; cues: Cue[] } => new webvtt.WebVTTParser().parse(text, 'metadata') as any;

/** Asserts a storyboard's cues run back to back from 0 to the end and each names a rectangle inside its sheet. */
function checkCues(t: Test, vtt: string, durationSec: number, sheet: { width: number; height: number; count: number }): Array<{ start: number; end: number; sheet: number; x: number; y: number; w: number; h: number }> {
  const parsed = parseVtt(vtt);
  t.same(parsed.errors, [], 'webvtt-parser finds no error');
  const out = [];
  let at = 0;
  let gaps = 0;
  let outside = 0;
  for (const c of parsed.cues) {
    if (Math.abs(c.startTime - at) > 1e-6) gaps++;
    at = c.endTime;
    const m = /^sheet-(\d+)\.jpg#xywh=(\d+),(\d+),(\d+),(\d+)$/.exec(c.text.trim());
    if (!m) {
      outside++;
      continue;
    }
    const [n, x, y, w, h] = m.slice(1).map(Number);
    if (n < 1 || n > sheet.count || x + w > sheet.width || y + h > sheet.height || w <= 0 || h <= 0) outside++;
    out.push({ start: c.startTime, end: c.endTime, sheet: n, x, y, w, h });
  }
  t.equal(gaps, 0, 'no gap or overlap between cues');
  t.ok(parsed.cues.length > 0 && parsed.cues[0].startTime === 0, 'the first cue starts at 0');
  t.ok(Math.abs(at - durationSec) < 1e-6, `the last cue ends at the end (${at} s of ${durationSec})`);
  t.equal(outside, 0, 'every cue names a sheet that exists and a rectangle inside it');
  return out;
}

t.test('layouts: cues cover the duration without gaps and stay inside their sheets', async (t) => {
  const configs: StoryboardConfig[] = [DEFAULT_STORYBOARD, { tileWidth: 320, columns: 4, rows: 2, intervalMs: 1000, quality: 70 }, { tileWidth: 97, columns: 1, rows: 7, intervalMs: 2500, quality: 50 }];
  for (const cfg of configs) {
    for (const [w, h, ms] of [[1280, 720, 12000], [720, 1280, 3_600_000 + 1], [640, 480, 400], [1920, 800, 125_000]]) {
      const l = storyboardLayout(cfg, { width: w, height: h }, ms);
      await t.test(`${cfg.columns}x${cfg.rows} of ${cfg.tileWidth}px every ${cfg.intervalMs} ms, ${w}x${h}, ${ms} ms`, async (t) => {
        checkCues(t, storyboardVtt(l), ms / 1000, { width: l.sheetWidth, height: l.sheetHeight, count: l.sheets });
        t.equal(l.tileWidth % 2, 0, 'even tile width');
        t.equal(l.tileHeight % 2, 0, 'even tile height');
        t.ok(Math.abs((l.tileWidth / l.tileHeight) / (w / h) - 1) < 0.03, 'tiles keep the aspect ratio (to the nearest even pixel)');
        t.same(tile(l, l.tiles - 1).sheet, l.sheets, 'the last tile is on the last sheet');
      });
    }
  }
});

t.test('a partner\'s storyboard settings are checked at import', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-sb-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const lib = (storyboard: unknown) => {
    const f = join(dir, 'lib.json');
    writeFileSync(f, JSON.stringify({ version: 1, partners: [{ id: 1, name: 'p', adminSecret: 'admin-secret-1', userSecret: 'user-secret-1', storyboard }] }));
    return f;
  };
  t.doesNotThrow(() => readLibraryFile(lib({ tileWidth: 240, columns: 6, rows: 4, intervalSec: 2, quality: 80 })));
  t.throws(() => readLibraryFile(lib({ columns: 0 })), /partners\[0\]\.storyboard: columns must be a whole number from 1 to 20/);
  t.throws(() => readLibraryFile(lib({ intervalSec: 0.1 })), /partners\[0\]\.storyboard: intervalSec must be a number from 0\.5 to 600/);
  t.throws(() => readLibraryFile(lib({ tileWidth: 640, columns: 10 })), /must stay within 4096 pixels/);
  t.throws(() => readLibraryFile(lib('big')), /storyboard: must be an object/);
});

/** Mean absolute difference of two pictures of the same size, 0-255 per channel. */
async function mad(a: Buffer, b: Buffer): Promise<number> {
  const [pa, pb] = await Promise.all([a, b].map((x) => sharp(x).removeAlpha().raw().toBuffer()));
  let sum = 0;
  for (let i = 0; i < pa.length; i++) sum += Math.abs(pa[i] - pb[i]);
  return sum / pa.length;
}

const crop = (sheet: Buffer, r: { x: number; y: number; w: number; h: number }): Promise<Buffer> =>
  sharp(sheet).extract({ left: r.x, top: r.y, width: r.w, height: r.h }).png().toBuffer();

const grabs = new Map<string, Promise<Buffer>>();
/** The frame of second `s` as the thumbnail service grabs it (vid_sec), scaled to a tile. */
function grab(srv: TestServer, s: number, w: number, h: number): Promise<Buffer> {
  const key = `${srv.url} ${s} ${w}x${h}`;
  let p = grabs.get(key);
  if (!p) {
    grabs.set(key, (p = (async () => {
      const res = await fetch(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/${SAMPLE.entryId}/vid_sec/${s}/width/0/height/0/quality/95`);
      if (res.status !== 200) throw new Error(`vid_sec ${s}: HTTP ${res.status}`);
      return sharp(Buffer.from(await res.arrayBuffer())).resize({ width: w, height: h, fit: 'fill' }).png().toBuffer();
    })()));
  }
  return p;
}

/**
 * Which second of the 12 s sample a picture shows: the vid_sec grab it differs least from. The
 * sample's frames share their colour bars and differ in a burnt-in clock and a moving line, so
 * the nearest grab is the test, with a bound on how far even that one may be (scaling and JPEG).
 */
async function secondShown(t: Test, srv: TestServer, pic: Buffer, w: number, h: number, expected: number, what: string): Promise<void> {
  const diffs: number[] = [];
  for (let s = 0; s < 12; s++) diffs.push(await mad(pic, await grab(srv, s, w, h)));
  const best = diffs.indexOf(Math.min(...diffs));
  const runnerUp = Math.min(...diffs.filter((_, s) => s !== expected));
  t.equal(best, expected, `${what}: shows second ${expected} (difference ${diffs[expected].toFixed(2)}, next closest ${runnerUp.toFixed(2)})`);
  t.ok(diffs[expected] < 8, `${what}: within scaling and JPEG noise of the grab`);
}

const SB = `/p/309/sp/30900/storyboard/entry_id/${SAMPLE.entryId}/version/1`;
// 320 px tiles, 4 x 2, one a second: the 12 s sample makes 12 tiles on two sheets, the second half full
const CONFIG = { tileWidth: 320, columns: 4, rows: 2, intervalMs: 1000 };

t.test('storyboard, sheets and thumbnail tracks from the server', async (t) => {
  const srv = await startServer(t);
  const sheetOf = new Map<number, Buffer>();
  const sheet = async (n: number): Promise<Buffer> => {
    if (!sheetOf.has(n)) {
      const res = await fetch(`${srv.url}${SB}/sheet-${n}.jpg`);
      t.equal(res.status, 200, `sheet ${n}`);
      t.equal(res.headers.get('content-type'), 'image/jpeg');
      sheetOf.set(n, Buffer.from(await res.arrayBuffer()));
    }
    return sheetOf.get(n)!;
  };

  await t.test('defaults: the WebVTT storyboard and a sheet under 200 kB', async (t) => {
    const res = await fetch(`${srv.url}${SB}/storyboard.vtt`);
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /^text\/vtt/);
    t.equal(res.headers.get('access-control-allow-origin'), '*');
    const cues = checkCues(t, await res.text(), 12, { width: 800, height: 450, count: 1 });
    t.equal(cues.length, 3, 'one tile every 5 s: 0, 5 and 10 s');
    const s = await sheet(1);
    const meta = await sharp(s).metadata();
    t.same([meta.width, meta.height], [800, 450], '5 x 5 tiles of 160 x 90');
    t.ok(s.length < 200 * 1024, `${s.length} bytes`);
    sheetOf.clear();
  });

  sqliteDb(srv.app.catalog).prepare('UPDATE partners SET storyboard = ? WHERE id = 309').run(JSON.stringify(CONFIG));
  const layout = storyboardLayout({ ...DEFAULT_STORYBOARD, ...CONFIG }, { width: 1280, height: 720 }, 12000);

  await t.test('each tile shows the frame a vid_sec grab of its second shows', async (t) => {
    const vtt = await (await fetch(`${srv.url}${SB}/storyboard.vtt`)).text();
    const cues = checkCues(t, vtt, 12, { width: 1280, height: 360, count: 2 });
    t.equal(cues.length, 12);
    t.same((await sharp(await sheet(2)).metadata()).width, 1280, 'the last sheet keeps its full size');
    for (const c of cues) await secondShown(t, srv, await crop(await sheet(c.sheet), c), c.w, c.h, c.start, `tile at ${c.start} s`);
  });

  await t.test('the HLS image playlist and the master line', async (t) => {
    const res = await fetch(`${srv.url}${SB}/images.m3u8`);
    t.equal(res.status, 200);
    t.equal(res.headers.get('content-type'), 'application/vnd.apple.mpegurl');
    t.equal(await res.text(), [
      '#EXTM3U', '#EXT-X-TARGETDURATION:8', '#EXT-X-VERSION:7', '#EXT-X-MEDIA-SEQUENCE:1', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-IMAGES-ONLY',
      '#EXTINF:8.000,', '#EXT-X-TILES:RESOLUTION=320x180,LAYOUT=4x2,DURATION=1.000', 'sheet-1.jpg',
      '#EXTINF:4.000,', '#EXT-X-TILES:RESOLUTION=320x180,LAYOUT=4x2,DURATION=1.000', 'sheet-2.jpg',
      '#EXT-X-ENDLIST', '',
    ].join('\n'));
    const master = await (await fetch(srv.url + hlsMaster({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240, SAMPLE.p360] }))).text();
    t.match(master, new RegExp(`\\n#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=\\d+,RESOLUTION=320x180,CODECS="jpeg",URI="${SB}/images.m3u8"\\n`));
    const clipped = await (await fetch(srv.url + hlsMaster({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240], clipToMs: 6000 }))).text();
    t.notMatch(clipped, /IMAGE-STREAM/, 'a clip has no thumbnail track (the storyboard is the whole entry\'s)');
    const off = await startServer(t, { env: { KDELIVER_THUMBNAIL_TRACKS: 'false' } });
    t.notMatch(await (await fetch(off.url + hlsMaster({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240] }))).text(), /IMAGE-STREAM/, 'KDELIVER_THUMBNAIL_TRACKS=false leaves it out');
    t.notMatch(await (await fetch(off.url + dashManifest({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240] }))).text(), /contentType="image"/);
  });

  await t.test('errors', async (t) => {
    for (const [path, status] of [[`${SB}/sheet-3.jpg`, 404], [`${SB}/sheet-0.jpg`, 404], [`${SB}/other.txt`, 404], ['/p/309/sp/30900/storyboard/entry_id/1_nosuch00/storyboard.vtt', 404], ['/p/309/sp/30900/storyboard/entry_id/1_document/storyboard.vtt', 404], ['/p/309/sp/30900/storyboard/storyboard.vtt', 400], [`/p/309/sp/30900/storyboard/entry_id/${SAMPLE.entryId}/version/abc/storyboard.vtt`, 400], [`/p/309/sp/30900/storyboard/entry_id/${SAMPLE.entryId}/version/-1/sheet-1.jpg`, 400]] as const) {
      const res = await fetch(srv.url + path);
      t.equal(res.status, status, path);
      t.match(res.headers.get('x-kaltura'), /^error-\d+/, `${path}: a Kaltura error code`);
    }
    // the file name left off (a trailing slash): it says which names there are, not that the entry id is missing
    for (const path of ['/p/309/sp/30900/storyboard/entry_id/1_rcit0qgs/', '/p/309/sp/30900/storyboard/entry_id/1_rcit0qgs/version/1']) {
      const res = await fetch(srv.url + path);
      t.equal(res.status, 404, path);
      t.equal(res.headers.get('x-kaltura'), 'error-5', `${path}: FILE_NOT_FOUND`);
      t.match(await res.text(), /storyboard\.vtt, images\.m3u8, sheet-\{n\}\.jpg/, `${path}: names the files there are`);
    }
  });

  const browser = await launchBrowser(t);
  const page = await startPlayerPageServer(t);

  await t.test('dash.js: provideThumbnail gives the sheet and the rectangle of the tile, showing the frame of that second', async (t) => {
    const mpdUrl = srv.url + dashManifest({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240, SAMPLE.p360] });
    t.match(await (await fetch(mpdUrl)).text(), /<EssentialProperty schemeIdUri="http:\/\/dashif.org\/thumbnail_tile" value="4x2"\/>/);
    const p = await browser.newPage();
    t.teardown(() => p.close());
    await p.goto(page.url);
    const times = [0.2, 1.5, 3.9, 6.01, 7.99, 8.5, 11.7];
    const got = await p.evaluate(([src, ts]) => new Promise<any>((resolve) => {
      const d = (window as any).dashjs;
      const player = d.MediaPlayer().create();
      player.initialize(document.getElementById('v'), src as string, false);
      player.on(d.MediaPlayer.events.ERROR, (e: any) => resolve({ error: JSON.stringify(e.error ?? e).slice(0, 300) }));
      player.on(d.MediaPlayer.events.STREAM_INITIALIZED, async () => {
        const out = [];
        for (const time of ts as number[]) out.push(await new Promise((r) => player.provideThumbnail(time, (th: any) => r(th && { url: th.url, x: th.x, y: th.y, width: th.width, height: th.height }))));
        resolve({ thumbs: out });
      });
    }), [mpdUrl, times] as const);
    t.notOk(got.error, 'dash.js loads the manifest');
    for (const [k, time] of times.entries()) {
      const th = got.thumbs?.[k];
      const want = tile(layout, Math.floor(time));
      t.equal(th?.url, `${srv.url}${SB}/sheet-${want.sheet}.jpg`, `t=${time}: the URL of sheet ${want.sheet}`);
      t.same([th?.x, th?.y, th?.width, th?.height], [want.x, want.y, want.w, want.h], `t=${time}: the tile's rectangle`);
      if (!th?.url) continue;
      const pic = await crop(Buffer.from(await (await fetch(th.url)).arrayBuffer()), { x: th.x, y: th.y, w: th.width, h: th.height });
      await secondShown(t, srv, pic, th.width, th.height, Math.floor(time), `t=${time}`);
    }
  });

  await t.test('Shaka Player reads the HLS image playlist', async (t) => {
    const masterUrl = srv.url + hlsMaster({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240, SAMPLE.p360], container: 'fmp4' });
    const p = await browser.newPage();
    t.teardown(() => p.close());
    await p.goto(page.url);
    await p.addScriptTag({ url: '/lib/shaka.js' });
    const times = [0.5, 5.2, 9.9];
    const got = await p.evaluate(async ([src, ts]) => {
      const shaka = (window as any).shaka;
      shaka.polyfill.installAll();
      const player = new shaka.Player();
      await player.attach(document.getElementById('v'));
      try {
        await player.load(src);
      } catch (e: any) {
        return { error: `load: ${e?.code} ${JSON.stringify(e?.data ?? '').slice(0, 200)}` };
      }
      const tracks = player.getImageTracks();
      const out = [];
      for (const time of ts as number[]) {
        const th = await player.getThumbnails(tracks[0]?.id, time);
        out.push(th && { uris: th.uris, x: th.positionX, y: th.positionY, width: th.width, height: th.height, startTime: th.startTime, duration: th.duration });
      }
      return { tracks: tracks.map((x: any) => ({ width: x.width, height: x.height, tilesLayout: x.tilesLayout })), thumbs: out };
    }, [masterUrl, times] as const);
    t.notOk(got.error, 'Shaka loads the master', { error: got.error });
    t.same(got.tracks, [{ width: 320, height: 180, tilesLayout: '4x2' }], 'one image track: 4 x 2 tiles of 320 x 180');
    for (const [k, time] of times.entries()) {
      const want = tile(layout, Math.floor(time));
      const th = got.thumbs?.[k];
      t.same(th?.uris, [`${srv.url}${SB}/sheet-${want.sheet}.jpg`], `t=${time}: sheet ${want.sheet}`);
      t.same([th?.x, th?.y, th?.width, th?.height], [want.x, want.y, want.w, want.h], `t=${time}: the tile's rectangle`);
      t.ok(Math.abs(th?.startTime - want.startMs / 1000) < 1e-6 && Math.abs(th?.duration - 1) < 1e-6, `t=${time}: the tile's time`);
    }
  });
});

t.test('the THUMBNAIL rules guard the storyboard, its sheets and the thumbnail tracks', async (t) => {
  const srv = await startServer(t);
  const db = sqliteDb(srv.app.catalog);
  const now = Math.floor(Date.now() / 1000);
  db.prepare(`INSERT INTO access_control_profiles (id, partner_id, name, rules, created_at, updated_at) VALUES (903, 309, 'thumbs need a session', ?, ?, ?)`)
    .run(JSON.stringify([{ message: 'thumbnails need a session', contexts: ['THUMBNAIL'], conditions: [{ type: 'authenticated', not: true }], actions: [{ type: 'block' }] }]), now, now);
  db.prepare('UPDATE entries SET access_control_profile_id = 903 WHERE id = ?').run(SAMPLE.entryId);
  const ks = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 600, now, privileges: 'sview:*' });
  const plainKs = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 600, now, privileges: '' });

  for (const file of ['storyboard.vtt', 'images.m3u8', 'sheet-1.jpg']) {
    const anon = await fetch(`${srv.url}${SB}/${file}`);
    t.equal(anon.status, 403, `${file}: refused without a session`);
    t.match(anon.headers.get('x-kaltura'), /access-control: thumbnails need a session, error-3/);
    t.equal((await fetch(`${srv.url}${SB}/ks/${ks}/${file}`)).status, 200, `${file}: a session in the path lets it through`);
    t.equal((await fetch(`${srv.url}${SB}/${file}`, { headers: { 'x-kaltura-ks': ks } })).status, 200, `${file}: so does the X-Kaltura-Ks header`);
    t.equal((await fetch(`${srv.url}${SB}/ks/${plainKs}/${file}`)).status, 403, `${file}: a session without the privilege does not`);
  }
  // the manifests still list the track (playback is a SERVE/PLAY matter); its files stay guarded
  // a protected entry's packager URLs are signed: the manifest comes through playManifest
  const mpd = await (await fetch(srv.url + playManifest(SAMPLE.entryId, 'mpegdash', '', 'a.mpd'))).text();
  const media = /<SegmentTemplate media="([^"]+)"/.exec(mpd.slice(mpd.indexOf('contentType="image"')))?.[1];
  t.equal(media, `${srv.url}${SB}/sheet-$Number$.jpg`, 'an absolute URL, as every URL of the MPD');
  t.equal((await fetch(media!.replace('$Number$', '1'))).status, 403, 'the DASH track\'s sheet is refused without a session');
  // asked with a session the rules let see it, the tracks' URLs carry it (they came without it,
  // so that session's player was refused every sheet)
  const withKs = await (await fetch(srv.url + playManifest(SAMPLE.entryId, 'mpegdash', `/ks/${ks}`, 'a.mpd'))).text();
  const sheets = /<SegmentTemplate media="([^"]+)"/.exec(withKs.slice(withKs.indexOf('contentType="image"')))?.[1] ?? '';
  t.match(sheets, new RegExp(`^${srv.url}${SB}/ks/[^/]+/sheet-\\$Number\\$\\.jpg$`), 'the DASH track carries the session');
  t.equal((await fetch(sheets.replace('$Number$', '1'))).status, 200, 'and its sheet is served to it');
  const redirect = await fetch(srv.url + playManifest(SAMPLE.entryId, 'applehttp', `/deliveryProfileId/1006/ks/${ks}`, 'a.m3u8'), { redirect: 'manual' });
  const master = await (await fetch(redirect.headers.get('location')!)).text();
  const images = /#EXT-X-IMAGE-STREAM-INF:.*URI="([^"]+)"/.exec(master)?.[1] ?? '';
  t.match(images, /\/ks\/[^/]+\/images\.m3u8$/, 'the HLS image stream carries the session');
  const imagesUrl = new URL(images, redirect.headers.get('location')!).toString();
  const imageList = await fetch(imagesUrl);
  t.equal(imageList.status, 200, 'its image playlist is served to it');
  const sheet = new URL(/^(sheet-\d+\.jpg)$/m.exec(await imageList.text())![1], imagesUrl).toString();
  t.equal((await fetch(sheet)).status, 200, 'and the sheets it names');
  // an entry whose rules do not guard its thumbnails (1_kssecure: PLAY and DOWNLOAD): the session
  // stays off the tracks, whose sheets anyone may see (the storyboard would judge a KS as of now,
  // and refuse the sheets once a short KS ends while the video plays on)
  const viewer = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 600, now, privileges: 'sview:1_kssecure' });
  const open = await (await fetch(srv.url + playManifest('1_kssecure', 'mpegdash', `/ks/${viewer}`, 'a.mpd'))).text();
  const openSheets = /<SegmentTemplate media="([^"]+)"/.exec(open.slice(open.indexOf('contentType="image"')))?.[1] ?? '';
  t.match(openSheets, /\/storyboard\/entry_id\/1_kssecure\/version\/\d+\/sheet-\$Number\$\.jpg$/, 'no session on the tracks of an entry whose thumbnails are not guarded');

  const api = (k: string) => fetch(`${srv.url}/api_v3/service/baseEntry/action/getPlaybackContext?format=1&entryId=${SAMPLE.entryId}&ks=${encodeURIComponent(k)}`).then((r) => r.json());
  const allowed = await api(ks);
  t.equal(allowed.storyboards?.length, 1, 'getPlaybackContext lists the storyboard for a caller the rules let see it');
  t.equal(allowed.storyboards[0].objectType, 'KdeliverStoryboard');
  t.equal(allowed.storyboards[0].url, `${srv.url}${SB}/ks/${ks}/storyboard.vtt`, 'with the caller\'s KS in the path, so the sheets it names inherit it');
  const vtt = await (await fetch(allowed.storyboards[0].url)).text();
  const firstSheet = new URL(/^(sheet-\d+\.jpg)/m.exec(vtt)![1], allowed.storyboards[0].url).toString();
  t.equal((await fetch(firstSheet)).status, 200, 'a sheet named by the listed storyboard is served');
  t.same((await api(plainKs)).storyboards, [], 'a caller the THUMBNAIL rules refuse gets none');
});
