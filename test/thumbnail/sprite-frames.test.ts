// Which frames a vid_slices sprite shows, read from the pictures themselves: slice i of a sprite is
// the frame vid_slice i answers alone (the sample video draws a clock and a frame counter, so one
// frame apart is a visible difference), with or without start_sec and end_sec, at the seconds
// Kaltura's thumbnail action takes them.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { requireCommands } from '../helpers/system.js';
import { startServer } from '../helpers/server.js';
import { sqliteDb } from '../helpers/sqlite.js';
import { loadConfig } from '../../src/config.js';
import { openCatalog } from '../../src/catalog/open.js';
import { getThumbnail, type ThumbnailContext } from '../../src/thumbnail/service.js';
import { parseThumbnailParams } from '../../src/thumbnail/params.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');

const srv = await startServer(t);
const base = `${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs`;

async function get(path: string): Promise<Buffer> {
  const res = await fetch(`${base}${path}`);
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return Buffer.from(await res.arrayBuffer());
}

// Slices are asked 320x180; what is compared is the band across the top where the sample draws
// the time and the frame number (the colour bars below are the same in every frame)
const W = 320;
const H = 180;
const BAND = { width: 192, height: 20 };

/** The grey levels of the top band of slice `i` of a picture of W x H slices side by side. */
async function band(body: Buffer, i: number): Promise<Buffer> {
  const meta = await sharp(body).metadata();
  if (meta.height !== H || (meta.width ?? 0) < (i + 1) * W) throw new Error(`a ${meta.width}x${meta.height} picture has no slice ${i} of ${W}x${H}`);
  return sharp(body).extract({ left: i * W, top: 0, ...BAND }).grayscale().raw().toBuffer();
}

/** Mean absolute difference of two grey pictures of one size, 0-255. */
function difference(a: Buffer, b: Buffer): number {
  let d = 0;
  for (let k = 0; k < a.length; k++) d += Math.abs(a[k] - b[k]);
  return d / a.length;
}

// Measured on the sample: the same frame scaled by ffmpeg (the sprite) and by sharp (a single
// slice) differs by about 1.6 there; the next frame (40 ms later) by 4.4 or more, another second by 7 or more
const SAME_FRAME = 3;
const size = `/width/${W}/quality/100`;

/**
 * Slice i of `sprite` against vid_slice i of the same request, for each i of `which` (default
 * every slice); the vid_slices asked, alone.
 */
async function slicesAreTheirVidSlice(t: Test, sprite: string, slices: number, which = Array.from({ length: slices }, (_, i) => i), size = `/width/${W}/quality/100`): Promise<Buffer[]> {
  const strip = await get(`${sprite}${size}`);
  t.same(await sharp(strip).metadata().then((m) => [m.width, m.height]), [W * slices, H], `${sprite}: ${slices} slices of ${W}x${H}`);
  const alone: Buffer[] = [];
  for (const i of which) alone.push(await band(await get(`${sprite}/vid_slice/${i}${size}`), 0));
  for (const [k, i] of which.entries()) {
    const d = difference(await band(strip, i), alone[k]);
    t.ok(d < SAME_FRAME, `${sprite}: slice ${i} is the frame of vid_slice/${i} (difference ${d.toFixed(2)})`);
  }
  // the comparison tells these frames apart
  for (let k = 1; k < which.length; k++) {
    const d = difference(alone[k - 1], alone[k]);
    t.ok(d > SAME_FRAME, `${sprite}: vid_slice ${which[k - 1]} and ${which[k]} are different frames (${d.toFixed(2)})`);
  }
  return alone;
}

/** The band of the frame at `sec`, as vid_sec answers it. */
const atSecond = async (sec: number) => band(await get(`/vid_sec/${sec}${size}`), 0);

t.test('a sprite over the whole video: slice i is vid_slice i', async (t) => {
  const alone = await slicesAreTheirVidSlice(t, '/vid_slices/6', 6);
  // 12 s in 6 slices: 0, 2, 4 ... 10 s; slice 0 is the first frame
  for (const [i, sec] of [[0, 0], [1, 2], [5, 10]]) {
    const d = difference(alone[i], await atSecond(sec));
    t.ok(d < SAME_FRAME, `vid_slice ${i} of 6 is the frame at ${sec} s (difference ${d.toFixed(2)})`);
  }
  // without start_sec and end_sec, whole seconds, as Kaltura computes them: floor(12 * i / 7) s
  const seventh = await slicesAreTheirVidSlice(t, '/vid_slices/7', 7);
  for (const [i, sec] of [[1, 1], [2, 3], [6, 10]]) {
    const d = difference(seventh[i], await atSecond(sec));
    t.ok(d < SAME_FRAME, `vid_slice ${i} of 7 is the frame at ${sec} s, floor(12 * ${i} / 7) (difference ${d.toFixed(2)})`);
  }
  // as many slices as the player's seek sprite asks: slice 9 is 1 s (not 1.08), 91 is 10 s (not 10.92)
  const hundredth = await slicesAreTheirVidSlice(t, '/vid_slices/100', 100, [0, 9, 17, 50, 91, 99]);
  for (const [k, sec] of [[1, 1], [4, 10], [5, 11]]) {
    const d = difference(hundredth[k], await atSecond(sec));
    t.ok(d < SAME_FRAME, `vid_slice ${[0, 9, 17, 50, 91, 99][k]} of 100 is the frame at ${sec} s (difference ${d.toFixed(2)})`);
  }
});

t.test('a sprite between start_sec and end_sec: slice i is vid_slice i, at start + (end - start) * i / n', async (t) => {
  const alone = await slicesAreTheirVidSlice(t, '/start_sec/2/end_sec/6/vid_slices/4', 4);
  for (let i = 0; i < 4; i++) {
    const d = difference(alone[i], await atSecond(2 + i));
    t.ok(d < SAME_FRAME, `vid_slice ${i} of start_sec 2, end_sec 6, 4 slices is the frame at ${2 + i} s (difference ${d.toFixed(2)})`);
  }
  // seconds between frames (1.3 + 7.2 i / 7): each slice is still the frame its vid_slice is, and
  // with start_sec the seconds are not made whole
  const between = await slicesAreTheirVidSlice(t, '/start_sec/1.3/end_sec/8.5/vid_slices/7', 7);
  const d = difference(between[1], await atSecond(2.329));
  t.ok(d < SAME_FRAME, `vid_slice 1 of start_sec 1.3, end_sec 8.5, 7 slices is the frame at 2.329 s (difference ${d.toFixed(2)})`);
  // start_sec alone runs to the end of the video
  await slicesAreTheirVidSlice(t, '/start_sec/3.7/vid_slices/5', 5);
});

/** The mean grey level of each of the `count` slices of `w` x `h` side by side in a picture. */
async function sliceMeans(body: Buffer, count: number, w: number, h: number): Promise<number[]> {
  const px = await sharp(body).grayscale().raw().toBuffer();
  const width = count * w;
  const means: number[] = [];
  for (let i = 0; i < count; i++) {
    let sum = 0;
    for (let y = 0; y < h; y++) for (let x = i * w; x < (i + 1) * w; x++) sum += px[y * width + x];
    means.push(sum / (w * h));
  }
  return means;
}

// the sample's frames are colour bars, mean grey about 120-160; a black slice is below 20
const NOT_BLACK = 40;

t.test('sprites that end with the video: every slice is a frame, none black', async (t) => {
  // 100 slices over the last 0.5 s: 5 ms apart, 8 to a frame; the last ones at or past 11.96 s, the last frame
  const half = await get(`/start_sec/11.5/vid_slices/100${size}`);
  t.same(await sharp(half).metadata().then((m) => [m.width, m.height]), [W * 100, H]);
  const means = await sliceMeans(half, 100, W, H);
  t.same(means.flatMap((m, i) => (m < NOT_BLACK ? [i] : [])), [], `no black slice among 100 from 11.5 s (lowest mean ${Math.min(...means).toFixed(0)})`);
  await slicesAreTheirVidSlice(t, '/start_sec/11.5/vid_slices/100', 100, [0, 50, 84, 99]);
  // 200 slices in the last 0.1 s, 0.5 ms apart: three frames (11.92, 11.96 and, past 11.96, the last one again)
  const tenth = await get('/start_sec/11.9/end_sec/12/vid_slices/200/width/160');
  const small = await sliceMeans(tenth, 200, 160, 90);
  t.same(small.flatMap((m, i) => (m < NOT_BLACK ? [i] : [])), [], `no black slice among 200 from 11.9 to 12 s (lowest mean ${Math.min(...small).toFixed(0)})`);
});

t.test('a video track that ends before the entry: the slices past its last frame show that frame', async (t) => {
  // 1.6 s of video in a 2 s file (the audio runs on): the entry lasts 2 s, slices are taken up to 1.96 s
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-sprite-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ KDELIVER_DATA_DIR: dir, KDELIVER_LOG_LEVEL: 'silent' });
  const catalog = await openCatalog(config);
  t.teardown(() => sqliteDb(catalog).close());
  mkdirSync(join(config.mediaRoot, 'short'), { recursive: true });
  const made = spawnSync('ffmpeg', ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y',
    '-f', 'lavfi', '-t', '1.6', '-i', 'testsrc2=size=320x180:rate=25', '-f', 'lavfi', '-t', '2', '-i', 'sine=frequency=440:sample_rate=48000',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-c:a', 'aac', join(config.mediaRoot, 'short', 'short.mp4')], { encoding: 'utf8' });
  t.equal(made.status, 0, `the test video is made ${made.stderr}`);
  const sample = (await catalog.getEntry('1_rcit0qgs'))!;
  const source = (await catalog.listFlavors(sample.id)).find((f) => f.isOriginal)!;
  const entry = { ...sample, id: '1_short0000', duration: 2 };
  const flavor = { ...source, id: '1_fshort000', filePath: 'short/short.mp4', width: 320, height: 180, durationMs: 2000 };
  const ctx = { catalog: { listFlavors: async () => [flavor] } as unknown as ThumbnailContext['catalog'], config, ffmpeg: 'ffmpeg' };
  const req = parseThumbnailParams('309', new Map([['entry_id', entry.id], ['start_sec', '1'], ['vid_slices', '20'], ['width', '64']]));
  const sprite = await getThumbnail(ctx, entry, req);
  t.equal(sprite.source, 'sprite');
  t.same(await sharp(sprite.data).metadata().then((m) => [m.width, m.height]), [64 * 20, 36]);
  const means = await sliceMeans(sprite.data, 20, 64, 36);
  t.same(means.flatMap((m, i) => (m < NOT_BLACK ? [i] : [])), [], `no black slice (means ${means.map((m) => m.toFixed(0)).join(' ')})`);
  // slice 11 (1.55 s) is the last frame, 1.56 s; slices 12-19 (1.6-1.96 s) have none at or after them
  const px = await sharp(sprite.data).grayscale().raw().toBuffer();
  const sliceOf = (i: number) => Buffer.concat(Array.from({ length: 36 }, (_, y) => px.subarray(y * 64 * 20 + i * 64, y * 64 * 20 + (i + 1) * 64)));
  for (const i of [12, 16, 19]) {
    const d = difference(sliceOf(i), sliceOf(11));
    t.ok(d < SAME_FRAME, `slice ${i} repeats the last frame, slice 11 (difference ${d.toFixed(2)})`);
  }
  t.ok(difference(sliceOf(0), sliceOf(11)) > SAME_FRAME, 'and slice 0 (1 s) is another frame');
});

t.test('a sprite with a height alone: slices that high and as wide as the aspect ratio makes them', async (t) => {
  for (const [n, h] of [[3, 100], [2, 50], [4, 90]]) {
    const sprite = await sharp(await get(`/vid_slices/${n}/height/${h}`)).metadata();
    const one = await sharp(await get(`/vid_slices/${n}/vid_slice/1/height/${h}`)).metadata();
    t.equal(one.height, h);
    t.same([sprite.width, sprite.height], [n * one.width!, h], `/vid_slices/${n}/height/${h}: ${n} slices of ${one.width}x${h}, as vid_slice/1 alone`);
  }
  t.same(await sharp(await get('/vid_slices/3/width/0/height/100')).metadata().then((m) => [m.width, m.height]), [534, 100], 'width 0 is a height alone too');
  // the sprite's bound holds whatever the video's shape: 200 slices of 178 would be 35600 wide
  const wide = await sharp(await get('/vid_slices/200/height/100')).metadata();
  t.ok(wide.width! <= 32768 && wide.width! % 200 === 0, `200 slices 100 high stay within 32768 pixels (${wide.width}x${wide.height})`);

  // without ffmpeg the default thumbnail is repeated at the same size
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-sprite-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ KDELIVER_DATA_DIR: dir, KDELIVER_LOG_LEVEL: 'silent' });
  const catalog = await openCatalog(config);
  t.teardown(() => sqliteDb(catalog).close());
  const entry = (await catalog.getEntry('1_rcit0qgs'))!;
  const ctx = { catalog, config, ffmpeg: join(dir, 'no-such-ffmpeg') };
  const repeated = await getThumbnail(ctx, entry, parseThumbnailParams('309', new Map([['entry_id', entry.id], ['vid_slices', '3'], ['height', '100']])));
  t.equal(repeated.source, 'repeated-sprite');
  t.same(await sharp(repeated.data).metadata().then((m) => [m.width, m.height]), [534, 100], 'the 640x360 thumbnail, 3 slices of 178x100');

  // 180 high: 320 wide, the whole frame as vid_slice of that height shows it (they were 120 wide, squashed)
  await slicesAreTheirVidSlice(t, '/vid_slices/3', 3, [0, 1, 2], '/height/180/quality/100');
});
