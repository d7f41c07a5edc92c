// The thumbnail action's own path, /index.php/extwidget/thumbnail/... (and /extwidget/...), which
// names no partner: old pages and feeds wrote it beside /p/{pid}/sp/{sp}/thumbnail/..., as they
// wrote raw's and download's. And a picture's ETag, compared as every media answer's.
import t from 'tap';
import sharp from 'sharp';
import { startServer } from '../helpers/server.js';

const srv = await startServer(t);
const get = (path: string, init?: RequestInit) => fetch(srv.url + path, init);
const errorCode = (r: Response) => (r.headers.get('x-kaltura') ?? '').match(/error-(\d+)/)?.[1];

t.test('the action path answers the picture /p/{pid} answers', async (t) => {
  const tail = 'thumbnail/entry_id/1_rcit0qgs/width/200';
  const ref = await get(`/p/309/sp/30900/${tail}`);
  const refBody = Buffer.from(await ref.arrayBuffer());
  for (const prefix of ['/index.php/extwidget', '/extwidget']) {
    const r = await get(`${prefix}/${tail}`);
    t.equal(r.status, 200, prefix);
    t.equal(r.headers.get('content-type'), 'image/jpeg');
    const body = Buffer.from(await r.arrayBuffer());
    const meta = await sharp(body).metadata();
    t.same([meta.width, meta.height], [200, 113]);
    t.same(body, refBody, 'the same picture');
    t.equal(r.headers.get('etag'), ref.headers.get('etag'));
    const head = await get(`${prefix}/${tail}`, { method: 'HEAD' });
    t.equal(head.headers.get('content-length'), String(refBody.length));
  }
  // it names no partner: the entry's own (1_secure01 is partner 310's)
  t.equal((await get('/index.php/extwidget/thumbnail/entry_id/1_secure01')).status, 200);
});

t.test('the action path refuses as /p/{pid} does', async (t) => {
  for (const [path, code] of [
    ['/index.php/extwidget/thumbnail/entry_id/1_nosuch00', '1'],
    ['/index.php/extwidget/thumbnail/entry_id/1_deleted0', '9'],
    ['/index.php/extwidget/thumbnail/width/20', '20'],
    ['/index.php/extwidget/thumbnail/entry_id/1_rcit0qgs/width/abc', '25'],
    ['/index.php/extwidget/thumbnail/entry_id/1_kssecure/ks/garbage', '7'],
  ] as const) {
    const r = await get(path);
    t.equal(errorCode(r), code, path);
    t.ok(r.status >= 400 && r.status < 500, `${path}: ${r.status}`);
    t.not(r.headers.get('content-type'), 'image/jpeg');
  }
});

t.test('a picture\'s ETag is compared as every media answer\'s: weak forms and lists get 304', async (t) => {
  for (const path of ['/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/width/64', '/p/309/sp/30900/flvclipper/entry_id/1_image000/width/64']) {
    const r = await get(path);
    await r.arrayBuffer();
    const etag = r.headers.get('etag')!;
    for (const inm of [etag, `W/${etag}`, `"other", ${etag}`, '*']) {
      const c = await get(path, { headers: { 'If-None-Match': inm } });
      t.equal(c.status, 304, `${path}: If-None-Match ${inm}`);
    }
    t.equal((await get(path, { headers: { 'If-None-Match': '"other"' } })).status, 200, `${path}: another ETag`);
  }
});
