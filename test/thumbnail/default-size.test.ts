// The thumbnail's size when the URL names none, as Kaltura's thumbnail action settles it: neither
// width nor height is 120 x 90 (def_width / def_height where given), made by the request's type
// (type 1 fits inside it); width and height both 0 is the picture at its stored size; a width
// alone keeps the aspect ratio, and the player's seek sprite (/width/164/vid_slices/100) is as it
// was. Sizes are read from the JPEG's own frame header (its SOF marker), and compared with the
// stored files' sizes read the same way, not with numbers written here.
import t, { type Test } from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireCommands } from '../helpers/system.js';
import { startServer } from '../helpers/server.js';
import { repoPath } from '../helpers/repo.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');

/** Width and height from a JPEG's start-of-frame segment; throws when the bytes are no JPEG. */
function jpegSize(b: Buffer): { width: number; height: number } {
  if (b[0] !== 0xff || b[1] !== 0xd8) throw new Error('not a JPEG (no SOI marker)');
  let i = 2;
  while (i + 4 <= b.length) {
    if (b[i] !== 0xff) throw new Error(`not a JPEG segment at byte ${i}`);
    const marker = b[i + 1];
    if (marker === 0xff) { i++; continue; }
    const length = b.readUInt16BE(i + 2);
    // SOF0-SOF15, but DHT (C4), JPG (C8) and DAC (CC), which share the range
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { height: b.readUInt16BE(i + 5), width: b.readUInt16BE(i + 7) };
    }
    i += 2 + length;
  }
  throw new Error('a JPEG without a frame header');
}

/** Width and height from a PNG's IHDR chunk. */
function pngSize(b: Buffer): { width: number; height: number } {
  if (b.toString('latin1', 1, 4) !== 'PNG' || b.toString('latin1', 12, 16) !== 'IHDR') throw new Error('not a PNG');
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

const media = repoPath('fixtures', 'media');
const stored = jpegSize(readFileSync(join(media, 'thumb-640x360.jpg'))); // 1_rcit0qgs's default thumbnail
const storedImage = pngSize(readFileSync(join(media, 'image-320x240.png'))); // 1_image000's picture

const srv = await startServer(t);
const base = `${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs`;

async function jpeg(url: string) {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  return { res, body, size: res.status === 200 ? jpegSize(body) : null };
}

/** Asserts that `got` is `src` scaled to fit inside `box`: one side on the bound, the ratio kept. */
function fitsInside(t: Test, got: { width: number; height: number } | null, src: { width: number; height: number }, box: { width: number; height: number }, what: string) {
  if (!got) return t.fail(`${what}: no picture`);
  const scale = Math.min(box.width / src.width, box.height / src.height);
  const exact = { width: src.width * scale, height: src.height * scale };
  t.ok(got.width <= box.width && got.height <= box.height, `${what}: ${got.width}x${got.height} within ${box.width}x${box.height}`);
  t.ok(Math.abs(got.width - exact.width) <= 1 && Math.abs(got.height - exact.height) <= 1, `${what}: ${got.width}x${got.height} is ${src.width}x${src.height} fitted (${exact.width}x${exact.height})`);
}

t.test('neither width nor height: the picture fits inside 120 x 90, as a JPEG', async (t) => {
  const a = await jpeg(base);
  t.equal(a.res.status, 200);
  t.equal(a.res.headers.get('content-type'), 'image/jpeg');
  fitsInside(t, a.size, stored, { width: 120, height: 90 }, 'no size');
  const versioned = await jpeg(`${base}/version/100002`);
  t.same(versioned.size, a.size, "the entry's thumbnailUrl (it carries a version) alike");
  const jpgEnd = await jpeg(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs.jpg`);
  t.same(jpgEnd.size, a.size, 'an entry id ending in .jpg alike');
});

t.test("without a size the request's type applies to 120 x 90", async (t) => {
  t.same((await jpeg(`${base}/type/2`)).size, { width: 120, height: 90 }, 'type 2 pads to it');
  t.same((await jpeg(`${base}/type/3`)).size, { width: 120, height: 90 }, 'type 3 crops to it');
  t.same((await jpeg(`${base}/type/5`)).size, { width: 120, height: 90 }, 'type 5 stretches to it');
  fitsInside(t, (await jpeg(`${base}/type/1`)).size, stored, { width: 120, height: 90 }, 'type 1 fits inside it');
});

t.test('width and height both 0: the stored size', async (t) => {
  const z = await jpeg(`${base}/width/0/height/0`);
  t.equal(z.res.status, 200);
  t.same(z.size, stored, `the stored ${stored.width}x${stored.height}`);
  const none = await jpeg(base);
  t.not(z.res.headers.get('etag'), none.res.headers.get('etag'), 'kept apart from the no-size picture in the cache');
  const img = await jpeg(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_image000/width/0/height/0`);
  t.same(img.size, storedImage, "an image entry's picture at its stored size");
  fitsInside(t, (await jpeg(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_image000`)).size, storedImage, { width: 120, height: 90 }, 'and without a size, within 120x90');
});

t.test('one side given: the other follows the aspect ratio, as before', async (t) => {
  fitsInside(t, (await jpeg(`${base}/width/320`)).size, stored, { width: 320, height: 10000 }, 'width only');
  fitsInside(t, (await jpeg(`${base}/height/90`)).size, stored, { width: 10000, height: 90 }, 'height only');
  fitsInside(t, (await jpeg(`${base}/width/0`)).size, stored, { width: stored.width, height: stored.height }, 'width 0 alone: the stored size');
});

t.test('def_width and def_height stand in for the default when neither side is given', async (t) => {
  // API v2's thumbnail URL of an image entry (src/api/v2/objects.ts)
  const v2 = await jpeg(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_image000/def_height/480/def_width/640/type/1`);
  fitsInside(t, v2.size, storedImage, { width: 640, height: 480 }, 'def 640x480');
  fitsInside(t, (await jpeg(`${base}/def_width/200`)).size, stored, { width: 200, height: 90 }, 'def_width alone: 200 x 90');
  fitsInside(t, (await jpeg(`${base}/width/320/def_width/640/def_height/480`)).size, stored, { width: 320, height: 10000 }, 'a width given wins over them');
});

t.test('frames and sprites', async (t) => {
  const frame = await jpeg(`${base}/vid_sec/3`);
  t.equal(frame.res.headers.get('x-kdeliver-thumbnail'), 'frame');
  fitsInside(t, frame.size, { width: 1280, height: 720 }, { width: 120, height: 90 }, 'a vid_sec frame without a size');
  t.same((await jpeg(`${base}/vid_sec/3/width/0/height/0`)).size, { width: 1280, height: 720 }, 'a vid_sec frame with both 0: the source frame (h264-720p)');

  // the player's seek sprite: a width alone, slices that wide keeping the aspect ratio
  const player = await jpeg(`${base}/version/100002/width/164/vid_slices/100`);
  t.equal(player.res.headers.get('x-kdeliver-thumbnail'), 'sprite');
  t.same(player.size, { width: 16400, height: 92 }, 'the seek sprite is as before');
  // without a size, each slice fits inside 120 x 90
  const four = await jpeg(`${base}/vid_slices/4`);
  t.equal(four.res.headers.get('x-kdeliver-thumbnail'), 'sprite');
  const slice = four.size && { width: four.size.width / 4, height: four.size.height };
  fitsInside(t, slice, { width: 1280, height: 720 }, { width: 120, height: 90 }, 'a slice of a sprite without a size');
  const one = await jpeg(`${base}/vid_slices/4/vid_slice/1`);
  fitsInside(t, one.size, { width: 1280, height: 720 }, { width: 120, height: 90 }, 'a single slice without a size');
});

t.test('a bad size is still error 25 (400), with its message', async (t) => {
  for (const [path, message] of [
    ['/width/abc', 'width must be a whole number'],
    ['/height/-1', 'height must be a whole number'],
    ['/width/5000/height/0', 'width must be from 0 to 4096'],
    ['/def_width/abc', 'def_width must be a whole number'],
  ]) {
    const res = await fetch(`${base}${path}`);
    t.equal(res.status, 400, path);
    t.equal(res.headers.get('x-kaltura'), 'error-25', path);
    t.match(await res.text(), message, path);
  }
});
