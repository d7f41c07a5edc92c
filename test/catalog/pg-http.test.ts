// The server on a PostgreSQL catalog (KDELIVER_DATABASE_URL), against a real throwaway cluster:
// it answers playManifest and api_v3 as the SQLite server does; two nodes on one database see
// each other's changes (an access-control change, a KS revoked) within a second; a database that
// goes away gives a clear 503, never a hang or a 500.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKs } from '../../src/access/ks.js';
import { startPostgres } from '../helpers/postgres.js';
import { startServer, type TestServer } from '../helpers/server.js';

const PUBLIC = 'http://media.example.com';
const cluster = await startPostgres(t);
const url = await cluster.createDatabase();
const lite = await startServer(t, { env: { KDELIVER_PUBLIC_URL: PUBLIC } });
const a = await startServer(t, { env: { KDELIVER_PUBLIC_URL: PUBLIC, KDELIVER_DATABASE_URL: url } });
// node B: the same catalog and the same media folder (shared media is i14-media's part: here, one data directory)
const b = await startServer(t, { env: { KDELIVER_PUBLIC_URL: PUBLIC, KDELIVER_DATABASE_URL: url, KDELIVER_DATA_DIR: a.dataDir } });

const adminKs = (privileges = '') => generateKs({
  partnerId: 309, secret: 'sample-admin-secret-309', type: 2, userId: 'tester', expiry: 3600, privileges, version: 2,
  now: Math.floor(Date.now() / 1000),
});
const PM = '/p/309/sp/0/playManifest/entryId';

async function get(s: TestServer, path: string): Promise<{ status: number; body: string; type: string | null }> {
  const res = await fetch(s.url + path, { redirect: 'manual', signal: AbortSignal.timeout(20_000) });
  const location = res.headers.get('location');
  return { status: res.status, body: (location ? `Location: ${location}\n` : '') + (await res.text()), type: res.headers.get('content-type') };
}
async function api(s: TestServer, service: string, body: Record<string, unknown>) {
  const res = await fetch(`${s.url}/api_v3/service/${service}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...body }),
  });
  return JSON.parse(await res.text());
}
// the time of the answer, and the times each server imported the sample library at (they differ by a second)
const withoutTimes = (v: unknown): unknown => JSON.parse(JSON.stringify(v, (k, x) => (['executionTime', 'updatedAt', 'createdAt'].includes(k) ? undefined : x)));

t.test('playManifest and api_v3 answer the same on PostgreSQL as on SQLite', async (t) => {
  const ks = adminKs();
  const paths = [
    `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`,
    `${PM}/1_rcit0qgs/format/mpegdash/protocol/http/manifest.mpd`,
    `${PM}/1_rcit0qgs/format/url/flavorParamId/301971/video.mp4`,
    `${PM}/1_rcit0qgs/format/http/responseFormat/smil/a.smil`,
    `${PM}/1_alt0audi/format/applehttp/protocol/http/a.m3u8`,
    `${PM}/1_flavlim0/format/applehttp/protocol/http/a.m3u8`,
    `${PM}/1_kssecure/format/applehttp/protocol/http/a.m3u8`,
    `${PM}/1_kssecure/ks/${ks}/format/applehttp/protocol/http/a.m3u8`,
    `${PM}/1_deleted0/format/applehttp/protocol/http/a.m3u8`,
    `${PM}/1_convert0/format/applehttp/protocol/http/a.m3u8`,
    `${PM}/no_such_entry/format/applehttp/protocol/http/a.m3u8`,
  ];
  for (const path of paths) {
    const want = await get(lite, path);
    for (const [name, node] of [['A', a], ['B', b]] as const) {
      const got = await get(node, path);
      t.same({ status: got.status, type: got.type }, { status: want.status, type: want.type }, `${name} ${path.slice(PM.length)}: status ${want.status}`);
      // signed media URLs end at a time of the answering second, and their signature covers it
      const norm = (body: string) => body.replace(/\/exp\/\d+\/sig\/[\w-]+/g, '/exp/T/sig/S').replace(/\d{10}/g, 'T');
      t.equal(norm(got.body), norm(want.body), `${name} ${path.slice(PM.length)}: the same body`);
    }
  }
  const calls: [string, Record<string, unknown>][] = [
    ['baseentry/action/list', { ks, filter: { orderBy: '+name' }, pager: { pageSize: 50 } }],
    ['baseentry/action/get', { ks, entryId: '1_rcit0qgs' }],
    ['flavorasset/action/list', { ks, filter: { entryIdEqual: '1_rcit0qgs' } }],
    ['accesscontrolprofile/action/list', { ks }],
    ['baseentry/action/get', { ks, entryId: 'no_such' }],
  ];
  for (const [service, body] of calls) {
    t.same(withoutTimes(await api(a, service, body)), withoutTimes(await api(lite, service, body)), `api_v3 ${service}`);
  }
});

async function within(ms: number, check: () => Promise<boolean>): Promise<number> {
  const start = Date.now();
  for (;;) {
    if (await check()) return Date.now() - start;
    if (Date.now() - start > ms) return -1;
    await sleep(25);
  }
}

t.test('a change through node A is seen by node B within one second', async (t) => {
  const path = `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`;
  t.equal((await get(b, path)).status, 200, 'B plays the entry (and keeps the answer)');
  t.equal((await get(b, path)).status, 200);
  const upd = await api(a, 'baseentry/action/update', { ks: adminKs(), entryId: '1_rcit0qgs', baseEntry: { objectType: 'KalturaBaseEntry', accessControlId: 1 } });
  t.equal(upd.accessControlId, 1, 'A: the entry now requires a KS');
  const ms = await within(1000, async () => (await get(b, path)).status === 403);
  t.ok(ms >= 0, `B refuses anonymous playback after ${ms} ms`);
  await api(a, 'baseentry/action/update', { ks: adminKs(), entryId: '1_rcit0qgs', baseEntry: { objectType: 'KalturaBaseEntry', accessControlId: null } });

  // a KS ended on A no longer plays on B
  const ks = adminKs();
  const secured = `${PM}/1_kssecure/ks/${ks}/format/applehttp/protocol/http/a.m3u8`;
  t.equal((await get(b, secured)).status, 200, 'B plays with the KS');
  const end = await fetch(`${a.url}/api_v3/service/session/action/end?format=1&ks=${ks}`);
  t.equal(end.status, 200);
  const revokedMs = await within(1000, async () => (await get(b, secured)).status === 403);
  t.ok(revokedMs >= 0, `B refuses the ended KS after ${revokedMs} ms`);
});

t.test('the database goes away: 503 with a clear body, then service again', async (t) => {
  cluster.kill();
  t.teardown(() => cluster.restart()); // (when the test fails before its own restart)
  const started = Date.now();
  const r = await get(b, `${PM}/1_audio001/format/applehttp/protocol/http/a.m3u8`);
  t.equal(r.status, 503, 'playManifest: 503');
  t.match(r.body, 'the catalog database does not answer');
  t.notMatch(r.body, /kdeliver-test-pw|at \w+ \(/, 'no password, no stack');
  t.ok(Date.now() - started < 10_000, `answered in ${Date.now() - started} ms`);
  const ready = await get(b, '/readyz');
  t.equal(ready.status, 503, '/readyz says so');
  // API v2 says why too, in its own words (it said "Internal server error " and nothing more)
  const v2 = await get(b, '/index.php/partnerservices2/startsession?format=1&partner_id=309&secret=sample-admin-secret-309&admin=1');
  t.match(JSON.parse(v2.body).error, [{ code: 'INTERNAL_SERVER_ERROR', desc: /^Internal server error the catalog database does not answer; try again shortly$/ }], 'API v2: the database');
  cluster.restart();
  const back = await within(10_000, async () => (await get(b, `${PM}/1_audio001/format/applehttp/protocol/http/a.m3u8`)).status === 200);
  t.ok(back >= 0, `plays again ${back} ms after the database is back`);
});
