// Two real `kdeliver serve` processes (the built command, as an operator starts it) on one
// throwaway PostgreSQL catalog and one media store. A change made through node A over HTTP, as a
// client makes it, is seen by node B within a second: B is asked first, twice, so its answer
// cache and catalog read cache hold the old answer when A changes it (without cross-node
// notifications B would go on answering from them). Then the database stops under both nodes:
// each answers 503 with a clear body, promptly, and both serve again once it is back, still
// hearing each other's changes.
import t from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKs } from '../../src/access/ks.js';
import { startPostgres } from '../helpers/postgres.js';
import { twoNodes } from '../helpers/nodes.js';
import type { Served } from '../helpers/command.js';

const FRESH_MS = 1000;
const PM = '/p/309/sp/0/playManifest/entryId';

const cluster = await startPostgres(t);
const { A, B } = await twoNodes(t, cluster);

const adminKs = () => generateKs({
  partnerId: 309, secret: 'sample-admin-secret-309', type: 2, userId: 'multinode', expiry: 3600, privileges: '', version: 2,
  now: Math.floor(Date.now() / 1000),
});

interface Answer { status: number; body: string; error: string | null; app: string | null }
async function get(node: Served, path: string): Promise<Answer> {
  const res = await fetch(node.url + path, { redirect: 'manual', signal: AbortSignal.timeout(15_000) });
  const location = res.headers.get('location');
  return {
    status: res.status, body: (location ? `Location: ${location}\n` : '') + (await res.text()),
    error: res.headers.get('x-kaltura'), app: res.headers.get('x-kaltura-app'),
  };
}
async function api(node: Served, service: string, body: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${node.url}/api_v3/service/${service}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...body }),
    signal: AbortSignal.timeout(15_000),
  });
  const v = JSON.parse(await res.text());
  if (v && v.objectType === 'KalturaAPIException') throw new Error(`${service}: ${v.code} ${v.message}`);
  return v;
}

/** Asks `node` until `check` holds: the milliseconds it took, or -1 after `ms`. */
async function seenWithin(ms: number, node: Served, path: string, check: (a: Answer) => boolean): Promise<{ ms: number; last: Answer }> {
  const start = performance.now();
  for (;;) {
    const last = await get(node, path);
    const took = performance.now() - start;
    if (check(last)) return { ms: Math.round(took), last };
    if (took > ms) return { ms: -1, last };
    await sleep(20);
  }
}

/** B answers `path` the same way twice (the second from its caches where it may keep it). */
async function warm(t: { ok(v: unknown, m: string): void }, path: string, check: (a: Answer) => boolean, what: string) {
  for (let i = 0; i < 2; i++) t.ok(check(await get(B, path)), `B before: ${what}`);
  // and A too, so that the change below is not the first time A reads it either
  t.ok(check(await get(A, path)), `A before: ${what}`);
}

t.test('an entry deleted through A: B answers the deleted-entry error within a second', async (t) => {
  const path = `${PM}/1_flavlim0/format/applehttp/protocol/http/a.m3u8`;
  await warm(t, path, (a) => a.status === 200 && a.body.startsWith('#EXTM3U'), 'the entry plays');
  // what the reference's deleted entry answers on this server (the sample 1_deleted0)
  const reference = await get(B, `${PM}/1_deleted0/format/applehttp/protocol/http/a.m3u8`);
  t.equal(reference.status, 404);
  t.match(reference.app, /ENTRY_DELETED_MODERATED/);
  await api(A, 'baseentry/action/delete', { ks: adminKs(), entryId: '1_flavlim0' });
  const { ms, last } = await seenWithin(FRESH_MS, B, path, (a) => a.status !== 200);
  t.ok(ms >= 0, `B stops playing the deleted entry after ${ms} ms`, { last });
  t.same({ status: last.status, error: last.error }, { status: reference.status, error: reference.error }, "B answers the deleted entry's error");
  t.match(last.app, /ENTRY_DELETED_MODERATED/);
});

t.test('an access-control profile changed through A: B applies the new rules within a second', async (t) => {
  const ks = adminKs();
  const path = `${PM}/1_iponly00/format/applehttp/protocol/http/a.m3u8`;
  await warm(t, path, (a) => a.status === 403 && /\berror-3$/.test(a.error ?? ''), 'refused from 127.0.0.1 (IP allow-list 10.0.0.0/8)');
  const profiles = await api(A, 'accesscontrolprofile/action/list', { ks, pager: { pageSize: 100 } });
  const profile = profiles.objects.find((p: any) => p.systemName === 'ip_10_8');
  t.ok(profile, 'the sample profile of 1_iponly00');
  const rules = JSON.parse(JSON.stringify(profile.rules).replaceAll('10.0.0.0/8', '127.0.0.0/8'));
  t.not(JSON.stringify(rules), JSON.stringify(profile.rules), 'the allow-list now names loopback');
  await api(A, 'accesscontrolprofile/action/update', { ks, id: profile.id, accessControlProfile: { objectType: 'KalturaAccessControlProfile', rules } });
  const allowed = await seenWithin(FRESH_MS, B, path, (a) => a.status === 200);
  t.ok(allowed.ms >= 0, `B plays it after ${allowed.ms} ms`, { last: allowed.last });

  // and back: B starts refusing again
  await warm(t, path, (a) => a.status === 200, 'plays from loopback');
  await api(A, 'accesscontrolprofile/action/update', { ks, id: profile.id, accessControlProfile: { objectType: 'KalturaAccessControlProfile', rules: profile.rules } });
  const refused = await seenWithin(FRESH_MS, B, path, (a) => a.status === 403);
  t.ok(refused.ms >= 0, `B refuses it again after ${refused.ms} ms`, { last: refused.last });
  t.match(refused.last.error, /\berror-3$/, 'access control, error 3');
});

t.test('a KS ended with session.end on A: B refuses it within a second', async (t) => {
  const ks = adminKs();
  const path = `${PM}/1_kssecure/ks/${ks}/format/applehttp/protocol/http/a.m3u8`;
  await warm(t, path, (a) => a.status === 200, 'plays with the KS');
  const end = await fetch(`${A.url}/api_v3/service/session/action/end?format=1&ks=${encodeURIComponent(ks)}`);
  t.equal(end.status, 200);
  t.equal(await end.text(), 'null', 'session.end answers null');
  const { ms, last } = await seenWithin(FRESH_MS, B, path, (a) => a.status === 403);
  t.ok(ms >= 0, `B refuses the ended KS after ${ms} ms`, { last });
  t.match(last.error, /\berror-(7|31|32|34)$/, 'a KS error code');
  // the api on B refuses it too
  const res = await fetch(`${B.url}/api_v3/service/baseentry/action/get?format=1&entryId=1_rcit0qgs&ks=${encodeURIComponent(ks)}`);
  t.match(JSON.parse(await res.text()), { objectType: 'KalturaAPIException' }, 'api_v3 on B refuses the ended KS');
});

t.test('a flavor deleted through A: B stops offering it within a second', async (t) => {
  const path = `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`;
  await warm(t, path, (a) => a.status === 200 && a.body.includes('1_f3rcit00'), 'the HLS master lists the 720p flavor 1_f3rcit00');
  await api(A, 'flavorasset/action/delete', { ks: adminKs(), id: '1_f3rcit00' });
  const { ms, last } = await seenWithin(FRESH_MS, B, path, (a) => a.status === 200 && !a.body.includes('1_f3rcit00'));
  t.ok(ms >= 0, `B's master no longer lists it after ${ms} ms`, { last });
  t.match(last.body, /1_f1rcit00/, 'the other flavors stay');
});

t.test('flavors added by a reconversion: the node that did not run the job sees them within a second of the one that did', async (t) => {
  const path = `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`;
  const flavorsOf = (body: string) => [...new Set(body.match(/1_f\drcit00|0_[a-z0-9]{8}/g) ?? [])].sort();
  const before = flavorsOf((await get(B, path)).body);
  await warm(t, path, (a) => a.status === 200 && flavorsOf(a.body).join() === before.join(), `B lists ${before.join(', ')}`);
  // the job is queued on the shared catalog: either node's worker may run it
  await api(A, 'flavorasset/action/reconvert', { ks: adminKs(), id: '1_f1rcit00' });
  const seen: Record<'A' | 'B', number> = { A: -1, B: -1 };
  const start = performance.now();
  const changed = (a: Answer) => a.status === 200 && flavorsOf(a.body).join() !== before.join();
  await Promise.all((['A', 'B'] as const).map(async (name) => {
    const node = name === 'A' ? A : B;
    while (seen[name] < 0 && performance.now() - start < 240_000) {
      if (changed(await get(node, path))) seen[name] = performance.now();
      else await sleep(20);
    }
  }));
  t.ok(seen.A > 0 && seen.B > 0, `both nodes list new flavors (A after ${Math.round(seen.A - start)} ms, B after ${Math.round(seen.B - start)} ms)`);
  const ranOn = /ingest job done: entry READY/.test(A.log()) ? 'A' : 'B';
  const other = ranOn === 'A' ? 'B' : 'A';
  const lag = Math.round(seen[other] - seen[ranOn]);
  t.ok(lag < FRESH_MS, `the job ran on ${ranOn}; ${other} listed the new flavors ${lag} ms after it`);
  const a = await get(A, path);
  const b = await get(B, path);
  t.same(flavorsOf(b.body), flavorsOf(a.body), 'both list the same flavors');
});

t.test("the player's first call kept by B (api_v3 answer cache): an entry renamed through A shows on B within a second", async (t) => {
  // the Kaltura web player's anonymous multirequest (test/api/answer-cache.test.ts has it whole)
  const call = JSON.stringify({
    1: { service: 'session', action: 'startWidgetSession', widgetId: '_309' },
    2: { service: 'baseEntry', action: 'list', ks: '{1:result:ks}', filter: { redirectFromEntryId: '1_rcit0qgs' } },
    3: { service: 'baseEntry', action: 'getPlaybackContext', entryId: '{2:result:objects:0:id}', ks: '{1:result:ks}', contextDataParams: { objectType: 'KalturaContextDataParams', flavorTags: 'all' } },
    format: 1, ks: '', clientTag: 'html5:v3.17.78', partnerId: 309,
  });
  const ask = async () => {
    const res = await fetch(`${B.url}/api_v3/service/multirequest`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: call, signal: AbortSignal.timeout(15_000) });
    return { cached: res.headers.get('x-kaltura'), name: (await res.json())[1].objects[0].name as string };
  };
  await ask();
  await ask(); // kept from its second asking
  const before = await ask();
  t.match(before.cached, /^cached-dispatcher,/, 'B keeps the answer');
  await api(A, 'baseentry/action/update', { ks: adminKs(), entryId: '1_rcit0qgs', baseEntry: { objectType: 'KalturaBaseEntry', name: 'renamed on A' } });
  const start = performance.now();
  let last = before;
  while (performance.now() - start < FRESH_MS && last.name !== 'renamed on A') {
    await sleep(20);
    last = await ask();
  }
  t.equal(last.name, 'renamed on A', `B answers the new name after ${Math.round(performance.now() - start)} ms`);
});

t.test('the database stops under both nodes: 503 with a clear body from each, then both serve again', async (t) => {
  cluster.kill();
  t.teardown(() => cluster.restart()); // when the test fails before its own restart
  // entries neither node was asked for yet: nothing of them is in any cache
  for (const [name, node, entry] of [['A', A, '1_alt0audi'], ['B', B, '1_audio001']] as const) {
    const started = performance.now();
    const r = await get(node, `${PM}/${entry}/format/applehttp/protocol/http/a.m3u8`);
    const took = Math.round(performance.now() - started);
    t.equal(r.status, 503, `${name}: playManifest 503 (in ${took} ms)`);
    t.match(r.body, 'the catalog database does not answer', `${name}: the body says why`);
    t.notMatch(r.body, /kdeliver-test-pw|at \w+ \(|postgres:\/\//, `${name}: no password, URL or stack`);
    t.ok(took < 10_000, `${name}: answered without hanging`);
    const api503 = await fetch(`${node.url}/api_v3/service/baseentry/action/get?format=1&entryId=${entry}&ks=${encodeURIComponent(adminKs())}`, { signal: AbortSignal.timeout(15_000) });
    const apiBody = await api503.text();
    t.not(api503.status, 500, `${name}: api_v3 is no 500 (${api503.status})`);
    t.match(apiBody, /database/, `${name}: api_v3 says the database does not answer`, { apiBody });
    t.equal((await get(node, '/readyz')).status, 503, `${name}: /readyz 503`);
  }
  cluster.restart();
  for (const [name, node] of [['A', A], ['B', B]] as const) {
    const back = await seenWithin(15_000, node, `${PM}/1_alt0audi/format/applehttp/protocol/http/a.m3u8`, (a) => a.status === 200);
    t.ok(back.ms >= 0, `${name} plays again ${back.ms} ms after the database is back`, { last: back.last });
    t.equal((await get(node, '/readyz')).status, 200, `${name}: /readyz 200`);
  }
  // the nodes listen again: a change through A still reaches B within a second
  const path = `${PM}/1_audio001/format/applehttp/protocol/http/a.m3u8`;
  await warm(t, path, (a) => a.status === 200, 'the audio entry plays');
  await api(A, 'baseentry/action/delete', { ks: adminKs(), entryId: '1_audio001' });
  const gone = await seenWithin(FRESH_MS, B, path, (a) => a.status === 404);
  t.ok(gone.ms >= 0, `after the outage B sees A's delete after ${gone.ms} ms`, { last: gone.last });
});

for (const [name, node] of [['A', A], ['B', B]] as const) {
  t.test(`node ${name} logged no 500 and no secret`, async (t) => {
    t.notMatch(node.log(), /"statusCode":500|sample-admin-secret-309|multinode-url-token-secret|kdeliver-test-pw/);
  });
}
