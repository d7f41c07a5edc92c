// /healthz, /readyz and /metrics on the real server, after real requests: the counters must say
// what was served, and readiness must follow the storage.
import t from 'tap';
import { renameSync } from 'node:fs';
import { startServer } from '../helpers/server.js';
import { sqliteDb } from '../helpers/sqlite.js';

const metricValue = (text: string, series: string): number | null => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : null;
};

t.test('health, readiness and metrics', async (t) => {
  const s = await startServer(t);
  const get = (path: string, init?: RequestInit) => fetch(s.url + path, { redirect: 'manual', ...init });

  const h = await get('/healthz');
  t.equal(h.status, 200);
  t.same(await h.json(), { status: 'ok' });
  t.equal(h.headers.get('cache-control'), 'no-store');

  const r = await get('/readyz');
  t.equal(r.status, 200);
  t.same(await r.json(), { status: 'ready', checks: [{ name: 'catalog', ok: true }, { name: 'storage', ok: true }] });

  const pm = '/p/309/sp/30900/playManifest/entryId';
  const ok = await get(`${pm}/1_rcit0qgs/format/url/protocol/http/flavorParamId/301951/a.mp4`);
  t.equal(ok.status, 302, 'playManifest redirect');
  const media = await fetch(new URL(ok.headers.get('location')!, s.url));
  t.equal(media.status, 200);
  const mediaBytes = (await media.arrayBuffer()).byteLength;
  t.ok(mediaBytes > 100_000, `media bytes served (${mediaBytes})`);
  t.equal((await get(`${pm}/1_kssecure/format/url/protocol/http/a.mp4`)).status, 403);
  t.equal((await get(`${pm}/1_kssecure/format/applehttp/protocol/http/a.m3u8`)).status, 403);
  t.equal((await get(`${pm}/1_deleted0/format/url/protocol/http/a.mp4`)).status, 404);
  t.equal((await get('/no/such/path')).status, 404);

  // onResponse runs when the server has finished writing, which may be just after the client
  // has read the last byte: scrape until the last request is counted (briefly)
  let m = await get('/metrics');
  let text = await m.text();
  for (let i = 0; i < 50 && metricValue(text, 'kdeliver_http_requests_total{family="other",method="GET",status="404"}') !== 1; i++) {
    await new Promise((r) => setTimeout(r, 20));
    m = await get('/metrics');
    text = await m.text();
  }
  t.equal(m.status, 200);
  t.match(m.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  t.equal(metricValue(text, 'kdeliver_http_requests_total{family="playManifest",method="GET",status="302"}'), 1);
  t.equal(metricValue(text, 'kdeliver_http_requests_total{family="playManifest",method="GET",status="403"}'), 2);
  t.equal(metricValue(text, 'kdeliver_http_requests_total{family="playManifest",method="GET",status="404"}'), 1);
  t.equal(metricValue(text, 'kdeliver_http_requests_total{family="health",method="GET",status="200"}'), 2);
  t.equal(metricValue(text, 'kdeliver_http_requests_total{family="other",method="GET",status="404"}'), 1);
  t.equal(metricValue(text, 'kdeliver_playmanifest_errors_total{code="3"}'), 2, 'access-control refusals by reference code');
  t.equal(metricValue(text, 'kdeliver_playmanifest_errors_total{code="1"}'), 1, 'entry not found');
  const servedFamily = new URL(ok.headers.get('location')!, s.url).pathname.includes('/serveFlavor/') ? 'serveFlavor' : 'other';
  t.equal(metricValue(text, `kdeliver_http_response_bytes_total{family="${servedFamily}"}`), mediaBytes, 'bytes served count the media body');
  t.equal(metricValue(text, 'kdeliver_http_request_duration_seconds_count{family="playManifest"}'), 4);
  t.equal(metricValue(text, 'kdeliver_http_request_duration_seconds_bucket{family="playManifest",le="+Inf"}'), 4);
  t.match(text, /# TYPE kdeliver_http_request_duration_seconds histogram/);

  // the packager's index cache, through a real HLS playback path: master → variant → segments
  const master = await (await get(`${pm}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`)).text();
  const variantUrl = new URL(master.split('\n').find((l) => l && !l.startsWith('#'))!, s.url + pm + '/');
  const variant = await (await fetch(variantUrl)).text();
  const segs = variant.split('\n').filter((l) => l && !l.startsWith('#')).slice(0, 2).map((l) => new URL(l, variantUrl));
  t.equal(segs.length, 2, 'two segments to fetch');
  let segBytes = 0;
  for (const u of [...segs, segs[0]]) {
    const r = await fetch(u);
    t.equal(r.status, 200);
    segBytes += (await r.arrayBuffer()).byteLength;
  }
  const expectedHls = variant.length + segBytes;
  let after = '';
  for (let i = 0; i < 50; i++) {
    after = await (await get('/metrics')).text();
    if (metricValue(after, 'kdeliver_http_response_bytes_total{family="hls"}') === expectedHls) break;
    await new Promise((r) => setTimeout(r, 20));
  }
  const misses = metricValue(after, 'kdeliver_packager_index_cache_misses_total')!;
  const hits = metricValue(after, 'kdeliver_packager_index_cache_hits_total')!;
  t.ok(misses >= 1, `index parsed (${misses} misses)`);
  t.ok(hits >= 3, `later requests hit the cache (${hits} hits)`);
  t.ok(metricValue(after, 'kdeliver_packager_index_cache_bytes')! > 0, 'cache size in bytes');
  t.ok(metricValue(after, 'kdeliver_packager_index_cache_entries')! >= 1, 'cache entries');
  t.equal(metricValue(after, 'kdeliver_http_response_bytes_total{family="hls"}'), expectedHls, 'hls bytes served = playlist + segments');

  // storage gone: not ready (and back)
  const aside = s.config.mediaRoot + '.aside';
  renameSync(s.config.mediaRoot, aside);
  const down = await get('/readyz');
  t.equal(down.status, 503);
  const body = await down.json();
  t.equal(body.status, 'not ready');
  t.same(body.checks.find((c: { name: string }) => c.name === 'storage'), { name: 'storage', ok: false, error: 'ENOENT' });
  renameSync(aside, s.config.mediaRoot);
  t.equal((await get('/readyz')).status, 200);

  // catalog unusable (its partners table gone): not ready, and back
  sqliteDb(s.app.catalog).exec('ALTER TABLE partners RENAME TO partners_aside');
  const noDb = await get('/readyz');
  t.equal(noDb.status, 503);
  t.match((await noDb.json()).checks[0], { name: 'catalog', ok: false, error: /no such table: partners/ });
  t.equal((await get('/healthz')).status, 200, 'the process is still up');
  sqliteDb(s.app.catalog).exec('ALTER TABLE partners_aside RENAME TO partners');
  t.equal((await get('/readyz')).status, 200);

  // the readiness query is prepared once, not on every probe
  const db = sqliteDb(s.app.catalog);
  const prepare = db.prepare;
  const prepared: string[] = [];
  db.prepare = ((sql: string) => {
    prepared.push(sql);
    return prepare.call(db, sql);
  }) as typeof db.prepare;
  for (let i = 0; i < 3; i++) t.equal((await get('/readyz')).status, 200);
  db.prepare = prepare;
  t.same(prepared.filter((sql) => /partners/.test(sql)), [], 'no statement prepared by /readyz');

  // catalog closed (as on server close): not ready, never a throw
  db.close();
  const closed = await get('/readyz');
  t.equal(closed.status, 503);
  t.match((await closed.json()).checks[0], { name: 'catalog', ok: false, error: /not open/ });
  t.equal((await get('/healthz')).status, 200, 'the process is still up');
});

t.test('readiness when the catalog cannot answer the very first probe', async (t) => {
  const s = await startServer(t);
  sqliteDb(s.app.catalog).exec('ALTER TABLE partners RENAME TO partners_aside');
  const down = await fetch(s.url + '/readyz');
  t.equal(down.status, 503);
  t.match((await down.json()).checks[0], { name: 'catalog', ok: false, error: /no such table: partners/ });
  sqliteDb(s.app.catalog).exec('ALTER TABLE partners_aside RENAME TO partners');
  t.equal((await fetch(s.url + '/readyz')).status, 200, 'ready once the catalog answers');
});
