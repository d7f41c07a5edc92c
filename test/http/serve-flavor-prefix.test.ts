// serveFlavor under any path prefix: Kaltura's web server sends every path holding /serveFlavor/
// (not right after extwidget) to its serveFlavor action, whatever comes before it
// (`/s/p/{pid}/sp/{sp}/`, a CDN's or proxy's folder, nothing). These URLs were 404s. The prefix
// skips no check: a prefix ending with /p/{pid} still scopes the entry to that partner, the
// media signature of a protected entry covers the path from its start, and the packager and every
// other route keep their URLs.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';
import { startServer } from '../helpers/server.js';

const s = await startServer(t);
const TAIL = '/serveFlavor/entryId/1_audio001/v/1/flavorId/1_f1audio0/name/a.mp4';
const flavor = (await s.app.catalog.getFlavor('1_f1audio0'))!;
const file = readFileSync(s.app.media.locate(flavor.filePath));
const errorOf = (r: Response) => r.headers.get('x-kaltura');

t.test('the flavor under /s/, a folder, or at the root: the same answer as under /p/{pid}/sp/{sp}', async (t) => {
  const plain = await fetch(`${s.url}/p/309/sp/30900${TAIL}`);
  t.equal(plain.status, 200);
  const plainBytes = Buffer.from(await plain.arrayBuffer());
  t.same(plainBytes, file);
  for (const prefix of ['/s/p/309/sp/30900', '/s/p/309', '/foo/p/309/sp/30900', '/cdn/origin', '', '/s']) {
    const r = await fetch(`${s.url}${prefix}${TAIL}`);
    t.equal(r.status, 200, `${prefix || '(root)'}: served`);
    t.equal(r.headers.get('content-type'), plain.headers.get('content-type'), `${prefix}: same type`);
    t.equal(r.headers.get('etag'), plain.headers.get('etag'), `${prefix}: same validator`);
    t.equal(r.headers.get('cache-control'), plain.headers.get('cache-control'), `${prefix}: same caching`);
    t.same(Buffer.from(await r.arrayBuffer()), plainBytes, `${prefix}: the flavor's file`);

    const head = await fetch(`${s.url}${prefix}${TAIL}`, { method: 'HEAD' });
    t.equal(head.headers.get('content-length'), String(file.length), `${prefix}: HEAD keeps the length`);
    const ranged = await fetch(`${s.url}${prefix}${TAIL}`, { headers: { range: 'bytes=10-19' } });
    t.equal(ranged.status, 206, `${prefix}: ranges`);
    t.same(Buffer.from(await ranged.arrayBuffer()), file.subarray(10, 20));
  }
});

t.test("a prefix ending with /p/{pid} names the partner, as the /p/{pid} routes do", async (t) => {
  for (const prefix of ['/s/p/310/sp/31000', '/foo/p/310']) {
    const r = await fetch(`${s.url}${prefix}${TAIL}`);
    t.equal(r.status, 404, `${prefix}: another partner's entry`);
    t.equal(errorOf(r), 'error-1', `${prefix}: ENTRY_NOT_FOUND`);
    await r.arrayBuffer();
  }
  const missing = await fetch(`${s.url}/s/p/309/sp/30900/serveFlavor/entryId/1_audio001/v/1/flavorId/1_nosuch00/name/a.mp4`);
  t.equal(errorOf(missing), 'error-6', 'an unknown flavor is FLAVOR_NOT_FOUND, as without the prefix');
  await missing.arrayBuffer();
});

t.test("a protected entry's media: the signature covers the whole path, prefix included", async (t) => {
  const pm = await fetch(`${s.url}/p/309/sp/0/playManifest/entryId/1_flavlim0/format/url/protocol/http/a.mp4`, { redirect: 'manual' });
  t.equal(pm.status, 302);
  const signed = new URL(pm.headers.get('location')!).pathname;
  t.match(signed, /^\/p\/309\/sp\/30900\/serveFlavor\/.*\/exp\/\d+\/sig\//, 'playManifest signed a serveFlavor URL');
  const ok = await fetch(s.url + signed);
  t.equal(ok.status, 200, 'the signed URL plays');
  await ok.arrayBuffer();

  const unsigned = signed.replace(/\/exp\/\d+\/sig\/[^/]+/, '');
  for (const url of [`/s${unsigned}`, `/foo${unsigned}`, `/s${signed}`, `/foo${signed}`]) {
    const r = await fetch(s.url + url);
    t.equal(r.status, 403, `${url.slice(0, 40)}…: refused`);
    t.equal(errorOf(r), 'error-27', 'INVALID_TOKEN: a prefix put in front breaks the signature');
    await r.arrayBuffer();
  }
  // signed for the prefixed path (a CDN profile whose URL has a folder): verified as a whole
  const underFolder = signMediaUrl(`/cdn${unsigned}`, s.config.mediaUrlSecret, Math.floor(Date.now() / 1000));
  const r = await fetch(s.url + underFolder);
  t.equal(r.status, 200, 'a URL signed with its prefix plays');
  await r.arrayBuffer();
  const hidden = signMediaUrl(`/cdn${unsigned.replace(/flavorId\/[^/]+/, 'flavorId/1_f3flim00')}`, s.config.mediaUrlSecret, Math.floor(Date.now() / 1000));
  const refused = await fetch(s.url + hidden);
  t.equal(errorOf(refused), 'error-6', "the SERVE rules still apply (a flavor the rule hides)");
  await refused.arrayBuffer();
});

t.test('every other route keeps its URLs; other paths stay unknown', async (t) => {
  const hls = await fetch(`${s.url}/hls/p/309/sp/30900${TAIL}/index.m3u8`);
  t.equal(hls.status, 200, "the packager's /hls form");
  t.match(hls.headers.get('content-type') ?? '', /mpegurl/i, 'answered by the packager');
  await hls.arrayBuffer();
  const pm = await fetch(`${s.url}/s/p/309/sp/0/playManifest/entryId/1_audio001/format/url/protocol/http/a.mp4`, { redirect: 'manual' });
  t.equal(pm.status, 302, 'playManifest under /s/ is still playManifest');
  await pm.arrayBuffer();
  for (const path of ['/foo/bar', '/foo/serveFlavorx/entryId/1_audio001', '/foo/extwidget/serveFlavor/entryId/1_audio001/flavorId/1_f1audio0/name/a.mp4', '/foo/serveFlavor']) {
    const r = await fetch(s.url + path);
    t.equal(r.status, 404, `${path}: not found`);
    t.match(await r.text(), /is not a kdeliver URL/, `${path}: the unknown-path answer`);
  }
  const post = await fetch(`${s.url}/s/p/309/sp/30900${TAIL}`, { method: 'POST' });
  t.equal(post.status, 404, 'GET and HEAD only, as the other serveFlavor routes');
  await post.arrayBuffer();
});
