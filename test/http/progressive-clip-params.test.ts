// serveFlavor's clipTo/seekFrom and flvclipper's clip_to/seek_from as Kaltura's actions read them:
// an end of 0 is no end, a seek of 0 or less (its "no seek", -1) none; a negative end or a time
// that is no number is still error 25.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { startServer } from '../helpers/server.js';

const s = await startServer(t);
const get = (path: string, init: RequestInit = {}) => fetch(s.url + path, { redirect: 'manual', ...init });
const errorCode = (r: Response) => (r.headers.get('x-kaltura') ?? '').match(/error-(\d+)/)?.[1];
const SF = '/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f1rcit00';
const file240 = readFileSync('fixtures/media/h264-240p.mp4');

t.test('serveFlavor: clipTo/0 and seekFrom/0 or less serve the whole file', async (t) => {
  for (const p of ['clipTo/0', 'seekFrom/-1', 'seekFrom/0', 'seekFrom/-1/clipTo/0']) {
    const r = await get(`${SF}/${p}/name/a.mp4`);
    t.equal(r.status, 200, `${p}: ${r.headers.get('x-kaltura-app') ?? ''}`);
    t.same(Buffer.from(await r.arrayBuffer()), file240, `${p}: the flavor's file`);
  }
  // with a real end, a "no seek" seekFrom still clips to it
  const clipped = await get(`${SF}/seekFrom/-1/clipTo/3000/name/a.mp4`, { method: 'HEAD' });
  t.equal(clipped.status, 200);
  t.ok(Number(clipped.headers.get('content-length')) < file240.length / 2, 'clipped to 3 s');
  for (const p of ['clipTo/-5', 'clipTo/abc', 'seekFrom/abc', 'clipFrom/-1']) {
    const r = await get(`${SF}/${p}/name/a.mp4`);
    t.equal(r.status, 400, p);
    t.equal(errorCode(r), '25', p);
  }
});

t.test('flvclipper: seek_from/-1 is no seek, clip_to/0 no end', async (t) => {
  const whole = await get('/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs', { method: 'HEAD' });
  for (const p of ['seek_from/-1', 'seek_from/0', 'seek_from/-1/clip_to/0']) {
    const r = await get(`/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/${p}`, { method: 'HEAD' });
    t.equal(r.status, 200, `${p}: ${r.headers.get('x-kaltura-app') ?? ''}`);
    t.equal(r.headers.get('content-length'), whole.headers.get('content-length'), `${p}: the whole clip`);
  }
  t.equal(errorCode(await get('/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/clip_to/-5')), '25');
});
