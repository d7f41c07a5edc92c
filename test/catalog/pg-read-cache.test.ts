// The PostgreSQL catalog reads an entry with its flavors and captions in one statement, the rows
// as JSON (src/catalog/pg/catalog.ts): what it keeps must be what the rows read one by one give,
// awkward values included, and the flavors and captions must then be answered from the read cache.
// A real PostgreSQL (a throwaway cluster, test/helpers/postgres.ts) with the sample library.
import t, { type Test } from 'tap';
import { openPgCatalog, type PgCatalog } from '../../src/catalog/pg/catalog.js';
import { copySqliteToPostgres } from '../../src/catalog/pg/copy.js';
import { toCaption, toEntry, toFlavor } from '../../src/catalog/rows.js';
import { pgDatabase } from '../helpers/postgres.js';
import { sampleCatalog } from '../selection/fixtures/sample-catalog.js';

/** The sample library in PostgreSQL, copied from the SQLite one. */
async function samplePg(tt: Test): Promise<PgCatalog> {
  const lite = await sampleCatalog(tt);
  const pg = await openPgCatalog(await pgDatabase(tt));
  tt.teardown(() => pg.close());
  await copySqliteToPostgres(lite.db, pg.db);
  return pg;
}

/** The entry, its flavors and its captions as the one-by-one statements read them. */
async function oneByOne(pg: PgCatalog, id: string) {
  const q = async (sql: string) => (await pg.db.query(sql, [id])).rows;
  return {
    entry: (await q('SELECT * FROM entries WHERE id = $1')).map(toEntry)[0],
    flavors: (await q('SELECT * FROM flavor_assets WHERE entry_id = $1 ORDER BY bitrate, rowid')).map(toFlavor),
    captions: (await q('SELECT * FROM caption_assets WHERE entry_id = $1 ORDER BY rowid')).map(toCaption),
  };
}

t.test('an entry read brings its flavors and captions, equal to the rows read one by one', async (t) => {
  const pg = await samplePg(t);
  const ids = (await pg.listEntries({ partnerId: 309, includeDeleted: true }, 500)).objects.map((e) => e.id);
  t.ok(ids.length >= 10, `${ids.length} entries`);
  let withCaptions = 0;
  for (const id of ids) {
    const entry = await pg.getEntry(id);
    const before = pg.readCacheStats!();
    const flavors = await pg.listFlavors(id);
    const captions = await pg.listCaptions(id);
    const after = pg.readCacheStats!();
    t.equal(after.misses, before.misses, `${id}: its flavors and captions came with it`);
    t.equal(after.hits, before.hits + 2);
    const expected = await oneByOne(pg, id);
    t.strictSame(entry, expected.entry, `${id}: the entry`);
    t.strictSame(flavors, expected.flavors, `${id}: ${flavors.length} flavors, in order`);
    t.strictSame(captions, expected.captions, `${id}: ${captions.length} captions`);
    t.ok(Object.isFrozen(flavors) && flavors.every((f) => Object.isFrozen(f)), 'kept frozen');
    if (captions.length) withCaptions++;
  }
  t.ok(withCaptions > 0, 'some entries have captions');
  t.strictSame(await pg.getEntry('no_such_entry'), undefined, 'no entry: nothing');
});

t.test('awkward values come back as the one-by-one statements give them', async (t) => {
  const pg = await samplePg(t);
  const id = '1_rcit0qgs';
  const [first] = await pg.listFlavors(id);
  // written behind the catalog's back, then a write through it so that its cache drops
  await pg.db.query('UPDATE flavor_assets SET frame_rate = $1, size = $2, label = $3, tags = $4 WHERE id = $5',
    [30000 / 1001, 2 ** 53 - 1, 'ünï "q" \\ \' 😀', '', first.id]);
  await pg.db.query('UPDATE entries SET duration = $1, name = $2 WHERE id = $3', [1e-7, 'a\tb\nc', id]);
  await pg.addPartner({ id: 4711, name: 'a write through the catalog' });
  const entry = await pg.getEntry(id);
  const flavors = await pg.listFlavors(id);
  const expected = await oneByOne(pg, id);
  t.strictSame(entry, expected.entry);
  t.strictSame(flavors, expected.flavors);
  const f = flavors.find((x) => x.id === first.id)!;
  t.equal(f.frameRate, 30000 / 1001, 'a double, every digit');
  t.equal(f.size, 2 ** 53 - 1, 'the largest exact integer');
  t.equal(f.label, 'ünï "q" \\ \' 😀');
  t.equal(entry!.duration, 1e-7);
});

t.test('statements are prepared once per connection, and one whose result type changed is sent unprepared', async (t) => {
  // one connection, so that every statement runs where the ones before were prepared
  const url = await pgDatabase(t);
  const pg = await openPgCatalog(url, { max: 1 });
  t.teardown(() => pg.close());
  await pg.addPartner({ id: 800, name: 'before' });
  t.equal((await pg.getPartner(800))!.name, 'before');
  const prepared = async () => (await pg.db.query("SELECT statement FROM pg_prepared_statements WHERE name LIKE 'kdeliver\\_%'")).rows.map((r) => r.statement as string);
  t.ok((await prepared()).some((s) => /FROM partners WHERE id = \$1/.test(s)), 'the partner read is prepared on the connection');
  t.notOk((await prepared()).some((s) => /^INSERT/.test(s)), "a transaction's statements are not");

  // a newer kdeliver adds a column to a table this one reads with SELECT * (a rolling upgrade)
  await pg.db.query('ALTER TABLE partners ADD COLUMN from_a_newer_version BIGINT');
  await pg.addPartner({ id: 801, name: 'a write, so that the read cache drops' });
  t.equal((await pg.getPartner(800))!.name, 'before', 'read again: answered, not "cached plan must not change result type"');
  t.equal((await pg.getPartner(801))!.name, 'a write, so that the read cache drops');
  t.ok((await pg.listPartners()).some((p) => p.id === 800), 'a list of the same table too');
});
