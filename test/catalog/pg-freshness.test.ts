// Cross-node freshness on PostgreSQL: two catalogs (two nodes) on one database; a change made
// through A reaches B by LISTEN/NOTIFY within a second, B's read cache drops it, and B's
// generation() moves (what the answer cache keys on). A rolled-back write announces nothing.
import t, { type Test } from 'tap';
import { openPgCatalog, type PgCatalog } from '../../src/catalog/pg/catalog.js';
import { heard, pgDatabase } from '../helpers/postgres.js';

const NOW = 1_780_000_000;

/** Two catalogs (nodes A and B) on one new database, closed when the test ends. */
async function twoNodes(t: Test): Promise<{ a: PgCatalog; b: PgCatalog }> {
  const url = await pgDatabase(t);
  const a = await openPgCatalog(url, { nodeId: 'node-a' });
  const b = await openPgCatalog(url, { nodeId: 'node-b' });
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  return { a, b };
}

t.test('a change through node A is seen by node B within one second', async (t) => {
  const { a, b } = await twoNodes(t);
  await a.addPartner({ id: 700, name: 'fresh' });
  await a.ingest.createEntry({ id: '0_fresh001', partnerId: 700, name: 'before', status: 2, mediaType: 1, now: NOW });

  // B has the entry in its read cache
  t.equal((await b.getEntry('0_fresh001'))!.name, 'before');
  t.equal((await b.getEntry('0_fresh001'))!.name, 'before');
  const gen = b.generation();

  const entryChange = heard(b, (c) => c.table === 'entries' && c.key === '0_fresh001');
  await a.updateEntry('0_fresh001', { name: 'after' }, NOW + 1);
  const { change, afterMs } = await entryChange;
  t.comment(`heard after ${afterMs.toFixed(1)} ms`);
  t.same(change, { table: 'entries', key: '0_fresh001', entryId: null, origin: 'kdeliver:node-a' }, 'table, key and the writing node');
  t.ok(b.generation() > gen, "B's generation moved");
  t.equal((await b.getEntry('0_fresh001'))!.name, 'after', "B's cache no longer answers the old entry");

  // a KS revoked on A is revoked on B
  t.notOk(await b.isRevoked('ks-hash-1', NOW));
  const revoked = heard(b, (c) => c.table === 'revoked_sessions' && c.key === 'ks-hash-1');
  await a.revokeSession('ks-hash-1', Math.floor(Date.now() / 1000) + 3600);
  await revoked;
  t.ok(await b.isRevoked('ks-hash-1', NOW));

  // an access-control profile changed on A
  const acpId = await a.addAccessControlProfile({ partnerId: 700, name: 'open', systemName: '', description: '', isDefault: true, rules: [] }, NOW);
  t.same((await b.getAccessControlProfile(acpId))!.rules, []);
  const acpChange = heard(b, (c) => c.table === 'access_control_profiles' && c.key === String(acpId));
  const rules = [{ conditions: [{ type: 'authenticated' }], actions: [{ type: 'block' }] }] as any;
  await a.updateAccessControlProfile({ ...(await a.getAccessControlProfile(acpId))!, rules }, NOW + 2);
  await acpChange;
  t.same((await b.getAccessControlProfile(acpId))!.rules, rules);

  // a flavor added on A, with its entry named in the change
  const flavorChange = heard(b, (c) => c.table === 'flavor_assets');
  await a.ingest.insertFlavor({
    id: '0_flav0001', entryId: '0_fresh001', partnerId: 700, flavorParamsId: 0, filePath: '700/0_fresh001/a.mp4', size: 1,
    containerFormat: 'isom', fileExt: 'mp4', videoCodec: '', audioCodec: '', codecs: '', width: 0, height: 0, bitrate: 1,
    frameRate: 0, durationMs: 0, language: '', label: '', isDefault: false, tags: [], status: 2, version: 1, isOriginal: true,
    createdAt: NOW, updatedAt: NOW, packagingRefusal: '', rotation: 0,
  });
  t.match((await flavorChange).change, { key: '0_flav0001', entryId: '0_fresh001' });
  t.same((await b.listFlavors('0_fresh001')).map((f) => f.id), ['0_flav0001']);

  // a write that fails is rolled back and announces nothing
  const nothing = heard(b, (c) => c.table === 'partners', 500);
  await t.rejects(a.addPartner({ id: 700 }));
  await t.rejects(nothing, /no matching change/);
});

t.test("a KS's action counted on one node is no change the others hear; the count is shared", async (t) => {
  const { a, b } = await twoNodes(t);
  const until = Math.floor(Date.now() / 1000) + 3600;
  const tables: string[] = [];
  const off = b.subscribe((c) => tables.push(c.table));
  t.teardown(off);
  // alternating nodes, 6 actions of a KS that may make 4
  const taken = [];
  for (let i = 0; i < 6; i++) taken.push(await (i % 2 ? b : a).takeKsAction('ks-limited', 4, until));
  t.same(taken, [true, true, true, true, false, false], 'one count across the nodes');
  // a change announced after them arrives after anything they announced (commit order)
  const marker = heard(b, (c) => c.table === 'revoked_sessions' && c.key === 'marker');
  await a.revokeSession('marker', until);
  await marker;
  t.notOk(tables.includes('ks_action_counts'), `B heard no count (heard: ${[...new Set(tables)].join(', ')})`);
});

t.test('a subscriber that throws does not stop the others; unsubscribe stops delivery', async (t) => {
  const url = await pgDatabase(t);
  const a = await openPgCatalog(url);
  t.teardown(() => a.close());
  const seen: string[] = [];
  const offBad = a.subscribe(() => {
    throw new Error('bad subscriber');
  });
  const offGood = a.subscribe((c) => seen.push(c.table));
  const own = heard(a, (c) => c.table === 'partners');
  await a.addPartner({ name: 'x' });
  await own;
  t.ok(seen.includes('partners'), 'a node hears its own changes too');
  offBad();
  offGood();
  seen.length = 0;
  const again = heard(a, (c) => c.table === 'partners');
  await a.addPartner({ name: 'y' });
  await again;
  t.same(seen, [], 'nothing after unsubscribing');
});
