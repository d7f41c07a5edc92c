// The thumbnail URL parameters: every number checked, and the reference's names.
import t from 'tap';
import { parseThumbnailParams } from '../../src/thumbnail/params.js';
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
  t.match(r, { partnerId: 309, entryId: '1_rcit0qgs', version: 100002, width: 164, height: 0, type: 1, quality: 75, bgcolor: 'ffffff', vidSlices: 100, vidSlice: null, vidSec: null, crop: null, ks: null });
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
