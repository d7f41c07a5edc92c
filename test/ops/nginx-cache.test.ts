// docker/nginx.conf (the compose file's caching proxy) in front of the real server, run by the
// machine's nginx: media is cached and served from the cache, requests carrying a KS are never
// cached, operator endpoints are never cached. Only the upstream address, listen port and cache
// directory are changed from the shipped files (test/helpers/shipped-nginx.ts).
import t from 'tap';
import { request } from 'node:http';
import { startNginxWith } from '../helpers/nginx.js';
import { shippedSite } from '../helpers/shipped-nginx.js';
import { startServer } from '../helpers/server.js';
import { generateKs } from '../../src/access/ks.js';

t.test('nginx caching proxy from docker/nginx.conf', async (t) => {
  const s = await startServer(t);
  const nginx = await startNginxWith(t, (port, prefix) => shippedSite('nginx.conf', prefix, port, { 'kdeliver:8080': new URL(s.url).host }));
  const port = nginx.port;
  const proxy = nginx.url;
  const get = (path: string, headers: Record<string, string> = {}) => fetch(proxy + path, { redirect: 'manual', headers });

  // progressive media through playManifest: the redirect points at the proxy, the file is cached
  const pm = '/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/url/protocol/http/flavorParamId/301961/a.mp4';
  const redirect = await get(pm);
  t.equal(redirect.status, 302);
  const media = new URL(redirect.headers.get('location')!, proxy);
  t.equal(media.host, `127.0.0.1:${port}`, 'URLs the origin emits name the proxy (Host passed through)');
  const first = await get(media.pathname + media.search);
  const firstBytes = Buffer.from(await first.arrayBuffer());
  t.equal(first.status, 200);
  t.equal(first.headers.get('x-cache-status'), 'MISS');
  const second = await get(media.pathname + media.search);
  const secondBytes = Buffer.from(await second.arrayBuffer());
  t.equal(second.headers.get('x-cache-status'), 'HIT', 'second fetch of the media file comes from the cache');
  t.ok(firstBytes.equals(secondBytes) && firstBytes.length > 10_000, `same ${firstBytes.length} bytes`);
  const direct = Buffer.from(await (await fetch(s.url + media.pathname + media.search)).arrayBuffer());
  t.ok(direct.equals(firstBytes), 'the proxy serves exactly the origin bytes');

  const range = await get(media.pathname + media.search, { range: 'bytes=100-199' });
  t.equal(range.status, 206);
  t.ok(Buffer.from(await range.arrayBuffer()).equals(direct.subarray(100, 200)), 'ranges are served from the cached slices');

  // packager manifests are kept per Host: an MPD's segment URLs are absolute, on the Host it was asked with
  const mpdUrl = new URL((await get('/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/mpegdash/protocol/http/a.mpd')).headers.get('location')!, proxy);
  const mpdVia = (host: string) => new Promise<{ cache: string; body: string }>((resolve, reject) => {
    const req = request(`${proxy}${mpdUrl.pathname}`, { headers: { host }, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (d: string) => (body += d)).on('end', () => resolve({ cache: String(res.headers['x-cache-status']), body }));
    });
    req.on('error', reject).end();
  });
  const a1 = await mpdVia('a.example.com');
  const a2 = await mpdVia('a.example.com');
  const b1 = await mpdVia('b.example.com');
  t.same([a1.cache, a2.cache, b1.cache], ['MISS', 'HIT', 'MISS'], 'the MPD is cached per Host');
  t.match(a2.body, 'initialization="http://a.example.com/dash/');
  t.match(b1.body, 'initialization="http://b.example.com/dash/');
  t.notMatch(b1.body, 'a.example.com', 'no other Host\'s URLs');

  // per-viewer requests (a KS) are never cached
  const ks = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 600, now: Math.floor(Date.now() / 1000), privileges: 'sview:*' });
  const withKs = `/p/309/sp/30900/playManifest/entryId/1_kssecure/format/url/protocol/http/ks/${ks}/a.mp4`;
  const k1 = await get(withKs);
  const k2 = await get(withKs);
  t.equal(k1.status, 302);
  t.equal(k1.headers.get('x-cache-status'), 'BYPASS');
  t.equal(k2.headers.get('x-cache-status'), 'BYPASS', 'a KS URL is not served from the cache');

  // operator endpoints pass through uncached; metrics stay inside
  const ready = await get('/readyz');
  t.equal(ready.status, 200);
  t.equal(ready.headers.get('x-cache-status'), null, '/readyz is not cached');
  const ready2 = await get('/readyz');
  t.equal(ready2.headers.get('x-cache-status'), null);
  t.equal((await get('/metrics')).status, 403, '/metrics is not published by the proxy');
  const text = await (await fetch(s.url + '/metrics')).text();
  t.match(text, /kdeliver_http_requests_total\{family="health"/, 'the origin counted the proxied requests');
});
