// The memos of the session path in /metrics, on the real server: widget sessions handed out again
// (src/api/services/session.ts), verified KSs (src/access/ks.ts) and the SQLite catalog's
// revocation memo (src/catalog/catalog.ts). Each series must move when its memo is (not) hit,
// and a catalog change must empty what it keeps.
import t from 'tap';
import { generateKs } from '../../src/access/ks.js';
import { startServer, testBackends } from '../helpers/server.js';

// the api_v3 answer cache off: a second startWidgetSession must reach the session service
const s = await startServer(t, { env: { KDELIVER_API_CACHE_ENTRIES: '0' } });

const metricValue = (text: string, series: string): number | null => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : null;
};

async function memo(prefix: string): Promise<{ entries: number | null; hits: number | null; misses: number | null }> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  return { entries: metricValue(text, `${prefix}_entries`), hits: metricValue(text, `${prefix}_hits_total`), misses: metricValue(text, `${prefix}_misses_total`) };
}

async function api(service: string, action: string, params: Record<string, string>): Promise<unknown> {
  const r = await fetch(`${s.url}/api_v3/service/${service}/action/${action}?${new URLSearchParams({ format: '1', ...params })}`);
  if (r.status !== 200) throw new Error(`${service}.${action}: HTTP ${r.status}`);
  return r.json();
}

const adminKs = () => generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 3600, now: Math.floor(Date.now() / 1000), privileges: '' });
/** A catalog change: a session ended (revoked) through the API. */
const change = async () => api('session', 'end', { ks: adminKs() });

t.test('widget sessions handed out again', async (t) => {
  const W = 'kdeliver_api_widget_session_cache';
  const before = await memo(W);
  t.same(before, { entries: 0, hits: 0, misses: 0 }, 'none kept before the first');
  const a = (await api('session', 'startWidgetSession', { widgetId: '_309' })) as { ks: string };
  t.same(await memo(W), { entries: 1, hits: 0, misses: 1 }, 'the first is made: a miss, one kept');
  const b = (await api('session', 'startWidgetSession', { widgetId: '_309' })) as { ks: string };
  t.equal(b.ks, a.ks, 'the same session handed out again');
  t.same(await memo(W), { entries: 1, hits: 1, misses: 1 }, 'a hit');
  await api('session', 'startWidgetSession', { widgetId: '_310' });
  t.same(await memo(W), { entries: 2, hits: 1, misses: 2 }, 'another partner: a miss, two kept');
  await change();
  await api('session', 'startWidgetSession', { widgetId: '_309' });
  t.same(await memo(W), { entries: 1, hits: 1, misses: 3 }, 'after a catalog change: a miss, and the old sessions are gone');
});

t.test('verified KSs', async (t) => {
  const V = 'kdeliver_ks_verified_cache';
  const ks = adminKs();
  const before = await memo(V);
  t.ok(before.hits !== null && before.misses !== null && before.entries !== null, 'the series are there');
  await api('baseEntry', 'get', { ks, entryId: '1_rcit0qgs' });
  const first = await memo(V);
  t.ok(first.misses! > before.misses!, 'a new KS is opened: a miss');
  t.ok(first.entries! > before.entries!, 'and kept');
  await api('baseEntry', 'get', { ks, entryId: '1_rcit0qgs' });
  const second = await memo(V);
  t.ok(second.hits! > first.hits!, 'the same KS again: a hit');
  t.equal(second.misses, first.misses, 'and no miss');
  t.equal(second.entries, first.entries);
});

t.test('the revocation memo', async (t) => {
  const R = 'kdeliver_catalog_revocation_cache';
  if (testBackends.catalog === 'postgres') {
    // revocations are kept by the read cache there, and counted with it
    t.same(await memo(R), { entries: null, hits: null, misses: null }, 'no series on PostgreSQL');
    return;
  }
  const ks = adminKs();
  await api('baseEntry', 'get', { ks, entryId: '1_rcit0qgs' });
  const first = await memo(R);
  t.ok(first.hits !== null && first.misses !== null && first.entries !== null, 'the series are there');
  await api('baseEntry', 'get', { ks, entryId: '1_rcit0qgs' });
  const second = await memo(R);
  t.ok(second.hits! > first.hits!, 'asked again without a change: a hit');
  t.equal(second.misses, first.misses, 'no statement');
  const ended = await memo(R);
  await change();
  await api('baseEntry', 'get', { ks, entryId: '1_rcit0qgs' });
  const after = await memo(R);
  t.ok(after.misses! > ended.misses!, 'after a change (a revocation): read again, a miss');
  t.ok(after.entries! >= 1, `the revocations are kept (${after.entries})`);
});
