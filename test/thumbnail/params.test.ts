// The thumbnail URL parameters: every number checked, and the reference's names.
import t from 'tap';
import { parseThumbnailParams, renditionKey } from '../../src/thumbnail/params.js';
import { DeliveryError } from '../../src/errors.js';

const p = (o: Record<string, string>) => new Map(Object.entries(o));
const errorOf = (fn: () => unknown): DeliveryError | null => {
  try {
    fn();
    return null;
  } catch (e) {
    return e instanceof DeliveryError ? e : null;
  }
};

t.test('defaults and the parameters the player sends', async (t) => {
  const r = parseThumbnailParams('309', p({ entry_id: '1_rcit0qgs', version: '100002', width: '164', vid_slices: '100' }));
  t.match(r, { partnerId: 309, entryId: '1_rcit0qgs', version: 100002, asked: { width: 164, height: null }, width: 164, height: 0, type: 1, quality: 75, bgcolor: 'ffffff', vidSlices: 100, vidSlice: null, vidSec: null, crop: null, ks: null });
  const s = parseThumbnailParams('309', p({ entry_id: 'x', width: '10', height: '20', type: '3', quality: '90', vid_sec: '2.5', start_sec: '1', end_sec: '4', bgcolor: 'FF00aa', src_x: '5', src_w: '100', src_h: '50', ks: 'abc' }));
  t.match(s, { type: 3, quality: 90, vidSec: 2.5, startSec: 1, endSec: 4, bgcolor: 'ff00aa', crop: { x: 5, y: 0, w: 100, h: 50 }, ks: 'abc' });
});

t.test('bad values are 400 errors with the reference code', async (t) => {
  const bad: Record<string, string>[] = [
    { width: 'abc' }, { width: '-1' }, { width: '5000' }, { height: '1e3' }, { type: '0' }, { type: '6' },
    { quality: '101' }, { vid_sec: 'x' }, { vid_sec: '-2' }, { vid_slices: '0' }, { vid_slices: '1000' },
    { vid_slices: '100', width: '400' }, { vid_slice: '3' }, { vid_slices: '3', vid_slice: '200' }, { start_sec: '5', end_sec: '2' },
    { bgcolor: 'red' }, { entry_id: '../etc' },
  ];
  for (const extra of bad) {
    t.match(errorOf(() => parseThumbnailParams('309', p({ entry_id: '1_rcit0qgs', ...extra }))), { code: 25, httpStatus: 400 }, JSON.stringify(extra));
  }
  t.match(errorOf(() => parseThumbnailParams('309', p({}))), { code: 20, httpStatus: 400 });
  t.match(errorOf(() => parseThumbnailParams('abc', p({ entry_id: 'x' }))), { code: 25, httpStatus: 400 });
});

t.test('a value ending in .jpg, .gif or .png is read without it, as the reference reads it', async (t) => {
  // partners end thumbnail URLs with an image extension (feeds, og:image, <img> checkers):
  // /width/300/height/200.jpg, /entry_id/1_abc.jpg
  const r = parseThumbnailParams('309', p({ entry_id: '1_rcit0qgs.jpg', width: '300', height: '200.jpg', version: '7.png', type: '3.gif' }));
  t.match(r, { entryId: '1_rcit0qgs', width: 300, height: 200, version: 7, type: 3 });
  t.match(errorOf(() => parseThumbnailParams('309', p({ entry_id: 'x', width: '300.jpeg' }))), { code: 25 }, 'only those three');
  t.match(errorOf(() => parseThumbnailParams('309', p({ entry_id: 'x', width: '.jpg' }))), { code: 25 }, 'nothing before it');
});

t.test('a width or height ending in ! stretches (type 5), as KMS asks for it', async (t) => {
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', width: '300!', height: '100' })), { width: 300, height: 100, type: 5 });
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', width: '300', height: '100!', type: '3' })), { width: 300, height: 100, type: 5 });
  t.match(errorOf(() => parseThumbnailParams('309', p({ entry_id: 'x', width: '!' }))), { code: 25 });
  t.match(errorOf(() => parseThumbnailParams('309', p({ entry_id: 'x', width: '3!0' }))), { code: 25 });
});

t.test("the reference's lenient readings: quality 0 is the default, a slice past the last is the last", async (t) => {
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', quality: '0' })), { quality: 75 }, 'quality/0: the default quality, as Kaltura reads 0');
  // a player that computes slice = floor(t / duration * n) asks for slice n at the very end
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', vid_slices: '10', vid_slice: '10' })), { vidSlices: 10, vidSlice: 9 });
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', vid_slices: '10', vid_slice: '150' })), { vidSlices: 10, vidSlice: 9 });
});

t.test("the size: Kaltura's 120 x 90 when the URL names neither side, the stored size for both 0", async (t) => {
  const none = parseThumbnailParams('309', p({ entry_id: 'x' }));
  t.match(none, { asked: { width: null, height: null }, width: 120, height: 90, type: 1 }, 'neither: 120 x 90, type 1 (fit inside)');
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', type: '3' })), { width: 120, height: 90, type: 3 }, "the request's type applies to it");
  const zero = parseThumbnailParams('309', p({ entry_id: 'x', width: '0', height: '0' }));
  t.match(zero, { asked: { width: 0, height: 0 }, width: 0, height: 0 }, 'both 0: the stored size');
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', width: '0' })), { asked: { width: 0, height: null }, width: 0, height: 0 }, 'width 0 alone: the stored size too');
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', height: '200' })), { asked: { width: null, height: 200 }, width: 0, height: 200 }, 'a height alone');
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', def_width: '640', def_height: '480' })), { width: 640, height: 480 }, 'def_width and def_height stand in for the default');
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', def_width: '640' })), { width: 640, height: 90 }, 'each on its own');
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', width: '300', def_width: '640', def_height: '480' })), { width: 300, height: 0 }, 'unused when a side is given');
  t.match(parseThumbnailParams('309', p({ entry_id: 'x', vid_slices: '100' })), { width: 120, height: 90, vidSlices: 100 }, 'a sprite without a size');
  t.match(errorOf(() => parseThumbnailParams('309', p({ entry_id: 'x', def_width: 'abc' }))), { code: 25, httpStatus: 400 }, 'def_width is checked as width is');

  const key = (o: Record<string, string>) => renditionKey(parseThumbnailParams('309', p({ entry_id: 'x', ...o })));
  t.not(key({}), key({ width: '0', height: '0' }), 'the default size and the stored size are kept apart in the cache');
  t.not(key({}), key({ width: '120', height: '90' }), 'and the default apart from 120 x 90 asked for (their sprites differ)');
  // the cache outlives an upgrade: a request that names a size keeps the key it had before the
  // default size, so the player's sprites and resized pictures already made are found again
  t.equal(key({ width: '164', vid_slices: '100' }), JSON.stringify([164, 0, 1, 75, 'ffffff', null, 100, null, null, null, null]), "the seek sprite's key is unchanged");
  t.equal(key({ width: '0', height: '0' }), JSON.stringify([0, 0, 1, 75, 'ffffff', null, null, null, null, null, null]), 'both 0: the key the stored size had');
});

t.test('a bad width or height is still the 400 it was, with its message', async (t) => {
  for (const [extra, message] of [
    [{ width: 'abc' }, /width must be a whole number/],
    [{ height: '-5' }, /height must be a whole number/],
    [{ width: '4097' }, /width must be from 0 to 4096/],
    [{ width: '10', height: '1.5' }, /height must be a whole number/],
  ] as const) {
    t.match(errorOf(() => parseThumbnailParams('309', p({ entry_id: 'x', ...extra }))), { code: 25, httpStatus: 400, message }, JSON.stringify(extra));
  }
});
