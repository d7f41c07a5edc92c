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
  t.match(r, { partnerId: 309, entryId: '1_rcit0qgs', version: 100002, width: 164, height: 0, type: 1, quality: 75, bgcolor: '000000', vidSlices: 100, vidSlice: null, vidSec: null, crop: null, ks: null });
  const s = parseThumbnailParams('309', p({ entry_id: 'x', width: '10', height: '20', type: '3', quality: '90', vid_sec: '2.5', start_sec: '1', end_sec: '4', bgcolor: 'FF00aa', src_x: '5', src_w: '100', src_h: '50', ks: 'abc' }));
  t.match(s, { type: 3, quality: 90, vidSec: 2.5, startSec: 1, endSec: 4, bgcolor: 'ff00aa', crop: { x: 5, y: 0, w: 100, h: 50 }, ks: 'abc' });
});

t.test('bad values are 400 errors with the reference code', async (t) => {
  const bad: Record<string, string>[] = [
    { width: 'abc' }, { width: '-1' }, { width: '5000' }, { height: '1e3' }, { type: '0' }, { type: '6' }, { quality: '0' },
    { quality: '101' }, { vid_sec: 'x' }, { vid_sec: '-2' }, { vid_slices: '0' }, { vid_slices: '1000' },
    { vid_slices: '100', width: '400' }, { vid_slice: '3' }, { vid_slices: '3', vid_slice: '3' }, { start_sec: '5', end_sec: '2' },
    { bgcolor: 'red' }, { entry_id: '../etc' },
  ];
  for (const extra of bad) {
    t.match(errorOf(() => parseThumbnailParams('309', p({ entry_id: '1_rcit0qgs', ...extra }))), { code: 25, httpStatus: 400 }, JSON.stringify(extra));
  }
  t.match(errorOf(() => parseThumbnailParams('309', p({}))), { code: 20, httpStatus: 400 });
  t.match(errorOf(() => parseThumbnailParams('abc', p({ entry_id: 'x' }))), { code: 25, httpStatus: 400 });
});
