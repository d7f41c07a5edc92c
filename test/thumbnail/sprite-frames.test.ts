// Which frames a vid_slices sprite shows, read from the pictures themselves: slice i of a sprite is
// the frame vid_slice i answers alone (the sample video draws a clock and a frame counter, so one
// frame apart is a visible difference), with or without start_sec and end_sec, at the seconds
// Kaltura's thumbnail action takes them.
import t, { type Test } from 'tap';
import sharp from 'sharp';
import { requireCommands } from '../helpers/system.js';
import { startServer } from '../helpers/server.js';

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
async function slicesAreTheirVidSlice(t: Test, sprite: string, slices: number, which = Array.from({ length: slices }, (_, i) => i)): Promise<Buffer[]> {
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
