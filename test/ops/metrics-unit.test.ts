// The metric registry's text format and the URL facts the metric hooks read, checked directly.
import t from 'tap';
import { createRegistry } from '../../src/metrics/registry.js';
import { createHttpMetrics, kalturaErrorCode } from '../../src/metrics/http-metrics.js';
import { playManifestFacts, routeFamily } from '../../src/metrics/request-facts.js';

t.test('registry renders the Prometheus text format', async (t) => {
  const r = createRegistry();
  const c = r.counter('x_total', 'Things.');
  c.inc({ b: 'two', a: '1' });
  c.inc({ a: '1', b: 'two' }, 2);
  c.inc({ a: 'q"uo\\te\n' });
  const h = r.histogram('lat_seconds', 'Latency.', [0.1, 1]);
  h.observe({ f: 'x' }, 0.05);
  h.observe({ f: 'x' }, 0.5);
  h.observe({ f: 'x' }, 5);
  r.gauge('g', 'A gauge.', () => [{ labels: {}, value: 7 }]);
  const text = r.render();
  t.match(text, /^# HELP x_total Things\.\n# TYPE x_total counter\n/);
  t.match(text, /\nx_total\{a="1",b="two"\} 3\n/, 'label order is stable, increments add up');
  t.match(text, /\nx_total\{a="q\\"uo\\\\te\\n"\} 1\n/, 'label values are escaped');
  t.match(text, /lat_seconds_bucket\{f="x",le="0.1"\} 1\n/);
  t.match(text, /lat_seconds_bucket\{f="x",le="1"\} 2\n/);
  t.match(text, /lat_seconds_bucket\{f="x",le="\+Inf"\} 3\n/);
  t.match(text, /lat_seconds_sum\{f="x"\} 5.55\n/);
  t.match(text, /lat_seconds_count\{f="x"\} 3\n/);
  t.match(text, /# TYPE g gauge\ng 7\n$/);
  t.throws(() => r.counter('x_total', 'again'), /registered twice/);
  t.throws(() => r.counter('bad-name', 'x'), /bad metric name/);
  // Prometheus's rule, enforced by OpenMetrics parsers: _total is a counter's suffix and only a counter's
  t.throws(() => r.counter('things', 'x'), /only a counter's name ends in _total/);
  t.throws(() => r.gauge('held_total', 'x', () => []), /only a counter's name ends in _total/);
  r.counterRead('kept_hits_total', 'Hits since start, counted elsewhere.', () => [{ labels: {}, value: 4 }]);
  t.match(r.render(), /# TYPE kept_hits_total counter\nkept_hits_total 4\n$/, 'a counter read at scrape time is typed a counter');
});

t.test('route families are a small fixed set', async (t) => {
  const cases: [string, string][] = [
    ['/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/url/a.mp4', 'playManifest'],
    ['/p/309/playManifest/entryId/x', 'playManifest'],
    ['/index.php/extwidget/playManifest/entryId/x', 'playManifest'],
    ['/playManifest?entryId=x', 'playManifest'],
    ['/p/309/sp/30900/serveFlavor/entryId/x/flavorId/y/name/a.mp4', 'serveFlavor'],
    // serveFlavor under any prefix (routes/serve-flavor.ts), however deep
    ['/a/b/c/d/e/f/p/309/sp/30900/serveFlavor/entryId/x/flavorId/y/name/a.mp4', 'serveFlavor'],
    ['/a/b/c/d/e/f/extwidget/serveFlavor/entryId/x', 'other'],
    ['/p/309/sp/30900/raw/entry_id/x', 'raw'],
    ['/p/309/sp/30900/download/entry_id/x', 'download'],
    ['/p/309/sp/30900/thumbnail/entry_id/x', 'thumbnail'],
    ['/hls/p/309/sp/30900/serveFlavor/entryId/x/flavorId/y/seg-1-v1-a1.ts', 'hls'],
    ['/dash/p/309/manifest.mpd', 'dash'],
    ['/hls/p/309/sp/30900/serveFlavor/entryId/x/flavorId/y/ks/k/name/a.mp4/encryption.key', 'drmKey'],
    ['/p/309/sp/30900/clearKeyLicense/entryId/x/ks/k/license', 'drmLicence'],
    ['/api_v3/service/baseEntry/action/list', 'api_v3'],
    ['/api_v3/index.php?service=system&action=ping', 'api_v3'],
    ['/console/', 'console'], ['/healthz', 'health'], ['/readyz', 'health'], ['/metrics', 'metrics'],
    ['/', 'other'], ['/favicon.ico', 'other'], ['/a/b/c/d/e/f/g/playManifest', 'other'],
  ];
  for (const [url, fam] of cases) t.equal(routeFamily(url), fam, url);
});

t.test('playManifest facts: partner and entry from path pairs, aliases or query', async (t) => {
  t.same(playManifestFacts('/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/url/a.mp4'), { partnerId: 309, entryId: '1_rcit0qgs' });
  t.same(playManifestFacts('/p/309/sp/30900/playManifest/e/1_rcit0qgs/f/url'), { partnerId: 309, entryId: '1_rcit0qgs' });
  t.same(playManifestFacts('/playManifest?partnerId=310&entryId=1_secure01'), { partnerId: 310, entryId: '1_secure01' });
  t.same(playManifestFacts('/p/abc/playManifest/format/url'), { partnerId: null, entryId: null });
  t.same(playManifestFacts('/p/309/playManifest/entryId/%2Fetc'), { partnerId: 309, entryId: null }, 'a refused path still yields the partner');
  const odd = playManifestFacts('/p/309/playManifest/entryId/a%0Ab%22c');
  t.equal(odd.entryId, 'a?b?c', 'control characters and quotes never reach a log field');
});

t.test('X-Kaltura error codes', async (t) => {
  t.equal(kalturaErrorCode('error-3'), 3);
  t.equal(kalturaErrorCode(['access-control: x', 'error-13']), 13);
  t.equal(kalturaErrorCode('cache-key: abc'), null);
  t.equal(kalturaErrorCode(undefined), null);
});

t.test('http metrics: counters, histograms, playManifest errors and index-cache gauges', async (t) => {
  let stats: { bytes: number; entries: number; hits: number; misses: number } | null = null;
  const m = createHttpMetrics({ indexCache: () => stats });
  m.observe({ family: 'playManifest', method: 'GET', status: 403, seconds: 0.002, bytes: 0, errorCode: 3 });
  m.observe({ family: 'playManifest', method: 'GET', status: 302, seconds: 0.001, bytes: 0, errorCode: null });
  m.observe({ family: 'serveFlavor', method: 'GET', status: 200, seconds: 0.02, bytes: 1234, errorCode: null });
  let text = m.registry.render();
  t.match(text, /kdeliver_http_requests_total\{family="playManifest",method="GET",status="403"\} 1/);
  t.match(text, /kdeliver_playmanifest_errors_total\{code="3"\} 1/);
  t.match(text, /kdeliver_http_response_bytes_total\{family="serveFlavor"\} 1234/);
  t.match(text, /kdeliver_http_request_duration_seconds_count\{family="playManifest"\} 2/);
  t.notMatch(text, /kdeliver_packager_index_cache_hits_total \d/, 'no cache values before a packager exists');
  stats = { bytes: 4096, entries: 2, hits: 5, misses: 2 };
  text = m.registry.render();
  t.match(text, /kdeliver_packager_index_cache_hits_total 5\n/);
  t.match(text, /kdeliver_packager_index_cache_misses_total 2\n/);
  t.match(text, /kdeliver_packager_index_cache_bytes 4096\n/);
  t.match(text, /kdeliver_packager_index_cache_entries 2\n/);
  // what a cache counted since start is a counter, what it holds now a gauge
  const types = new Map([...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((x) => [x[1], x[2]]));
  for (const [name, type] of types) t.equal(type, name.endsWith('_total') ? 'counter' : name.endsWith('_seconds') && name.includes('duration') ? 'histogram' : 'gauge', name);
  for (const name of types.keys()) t.notMatch(name, /_(hits|misses|joined|evictions)$/, `${name}: a figure counted since start ends in _total`);
});
