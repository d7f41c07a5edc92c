// The delivery actions named without a path after them, their parameters in the query
// (/index.php/extwidget/raw?entry_id=…), as Kaltura's action URLs take them: the same answers as
// the path form.
import t from 'tap';
import { startServer } from '../helpers/server.js';

const s = await startServer(t);
const get = (path: string, init: RequestInit = {}) => fetch(s.url + path, { redirect: 'manual', ...init });
const errorCode = (r: Response) => (r.headers.get('x-kaltura') ?? '').match(/error-(\d+)/)?.[1];

t.test('raw, serveFlavor, thumbnail and flvclipper answer the query form as the path form', async (t) => {
  for (const [bare, path] of [
    ['/index.php/extwidget/raw?entry_id=1_image000', '/index.php/extwidget/raw/entry_id/1_image000'],
    ['/p/309/sp/30900/raw?entry_id=1_document', '/p/309/sp/30900/raw/entry_id/1_document'],
    ['/index.php/extwidget/serveFlavor?entryId=1_rcit0qgs&flavorId=1_f1rcit00', '/index.php/extwidget/serveFlavor/entryId/1_rcit0qgs/flavorId/1_f1rcit00'],
    ['/index.php/extwidget/thumbnail?entry_id=1_rcit0qgs&width=100', '/index.php/extwidget/thumbnail/entry_id/1_rcit0qgs/width/100'],
    ['/p/309/sp/30900/thumbnail?entry_id=1_rcit0qgs&width=100', '/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/width/100'],
    ['/index.php/keditorservices/flvclipper?entry_id=1_rcit0qgs&clip_to=2000', '/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/clip_to/2000'],
    ['/flvclipper?entry_id=1_rcit0qgs&clip_to=2000', '/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/clip_to/2000'],
  ]) {
    const [a, b] = await Promise.all([get(bare), get(path)]);
    t.equal(a.status, 200, `${bare}: ${a.headers.get('x-kaltura-app') ?? ''}`);
    t.equal(a.headers.get('content-type'), b.headers.get('content-type'), bare);
    t.same(Buffer.from(await a.arrayBuffer()), Buffer.from(await b.arrayBuffer()), `${bare}: the same bytes`);
    t.equal((await get(bare, { method: 'HEAD' })).headers.get('content-length'), b.headers.get('content-length'), `${bare}: HEAD`);
  }
});

t.test('the redirecting actions keep the query form through their relocate step', async (t) => {
  for (const [bare, disposition] of [
    ['/index.php/extwidget/raw?entry_id=1_rcit0qgs', 'attachment; filename="Sample video.mp4"'],
    ['/index.php/extwidget/download?entry_id=1_rcit0qgs', 'attachment; filename="Sample video (Basic/Small (H264) 240p).mp4"'],
  ]) {
    const first = await get(bare);
    t.equal(first.status, 302, bare);
    const next = await get(first.headers.get('location')!, { method: 'HEAD' });
    t.equal(next.status, 200, `${bare} → ${first.headers.get('location')}`);
    t.equal(next.headers.get('content-disposition'), disposition);
  }
  t.equal(errorCode(await get('/index.php/extwidget/raw?entry_id=1_nosuch00')), '1');
  t.equal(errorCode(await get('/index.php/extwidget/download')), '1', 'no entry_id at all');
});
