// A KS's revocation on the PostgreSQL catalog. Every KS-bearing request asks it, and a player's KS
// is new with each viewing, so a new key must not cost a round trip to the database: while the
// revocations fit in one read, one statement per catalog generation answers every key
// (src/catalog/pg/catalog.ts isRevoked). Past that bound each key is read by itself. Either way
// the answers are the table's, and a revocation made by another node is heard. A real PostgreSQL
// (a throwaway cluster, test/helpers/postgres.ts).
import t, { type Test } from 'tap';
import { openPgCatalog, type PgCatalog } from '../../src/catalog/pg/catalog.js';
import { heard, pgDatabase } from '../helpers/postgres.js';

const now = () => Math.floor(Date.now() / 1000);

async function node(t: Test, url: string, nodeId: string): Promise<PgCatalog> {
  const c = await openPgCatalog(url, { nodeId });
  t.teardown(() => c.close());
  return c;
}

t.test('a new key is answered without a database read; revoked, expired and other nodes\' revocations as the table says', async (t) => {
  const url = await pgDatabase(t);
  const a = await node(t, url, 'node-a');
  const b = await node(t, url, 'node-b');
  await a.revokeSession('revoked-1', now() + 3600);
  // a row whose session has expired (revokeSession drops such rows with its next write)
  await a.db.query('INSERT INTO revoked_sessions (key, expires_at) VALUES ($1, $2)', ['expired-1', now() - 10]);

  t.ok(await b.isRevoked('revoked-1', now()), 'a revoked session');
  t.notOk(await b.isRevoked('expired-1', now()), 'a revocation whose session has expired no longer counts');
  const before = b.readCacheStats!();
  for (let i = 0; i < 200; i++) t.notOk(await b.isRevoked(`fresh-${i}`, now()), `fresh-${i}`, { diagnostic: false });
  const after = b.readCacheStats!();
  t.equal(after.misses, before.misses, '200 new keys: no read missed the cache (none went to the database)');
  t.equal(after.hits, before.hits + 200);

  // revoked on node A: node B hears it and answers it from its next read
  const change = heard(b, (c) => c.table === 'revoked_sessions' && c.key === 'fresh-7', 2000);
  await a.revokeSession('fresh-7', now() + 3600);
  await change;
  t.ok(await b.isRevoked('fresh-7', now()), "another node's revocation");
  t.notOk(await b.isRevoked('fresh-8', now()));
});

t.test('past 10,000 revocations each key is read by itself, with the same answers', async (t) => {
  const url = await pgDatabase(t);
  const a = await node(t, url, 'node-a');
  await a.db.query("INSERT INTO revoked_sessions (key, expires_at) SELECT 'bulk-' || i, $1 FROM generate_series(1, 10001) AS i", [now() + 3600]);
  // a node started after the rows were written (written here without the announcement a write through the catalog makes)
  const b = await node(t, url, 'node-b');
  t.ok(await b.isRevoked('bulk-5000', now()), 'a revoked key among 10,001');
  t.ok(await b.isRevoked('bulk-10001', now()), 'the last one');
  const before = b.readCacheStats!();
  t.notOk(await b.isRevoked('fresh-1', now()), 'a new key is not revoked');
  t.equal(b.readCacheStats!().misses, before.misses + 1, 'read by itself');
  t.notOk(await b.isRevoked('fresh-1', now()), 'and then kept');
  t.equal(b.readCacheStats!().misses, before.misses + 1);
});
