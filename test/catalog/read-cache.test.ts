// The SQLite catalog's read cache on a catalog bigger than it: it holds at most 50,000 reads, and
// when full the least recently asked goes, so the entries asked again and again stay while a
// million others pass through once. It used to empty itself whole at 50,000, dropping those too.
// A kept read is the same frozen object (src/catalog/catalog.ts readCache); a read again from
// SQLite is a new one. The counts of entry lists are kept apart from the other reads (read-memo.ts).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCatalog } from '../../src/catalog/catalog.js';
import { openDatabase } from '../../src/catalog/db.js';
import { sampleCatalog } from '../selection/fixtures/sample-catalog.js';
import { startServer } from '../helpers/server.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-read-cache-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

t.test('a catalog asked for far more than the cache holds keeps what is asked often, and stays bounded', async (t) => {
  const catalog = await sampleCatalog(t, join(work, 'catalog.sqlite'));
  const hot = await catalog.getEntry('1_rcit0qgs');
  const hotFlavors = await catalog.listFlavors('1_rcit0qgs');
  const cold = await catalog.getEntry('1_alt0audi');
  t.ok(hot && Object.isFrozen(hot), 'a kept read is frozen');
  t.equal(await catalog.getEntry('1_rcit0qgs'), hot, 'asked again: the same object');
  // 120,000 other reads (ids no entry has: each one read and kept), the player's entry among them
  for (let i = 0; i < 120_000; i++) {
    await catalog.getEntry(`0_${i.toString(36).padStart(8, '0')}`);
    if (i % 1000 === 0) {
      t.equal(await catalog.getEntry('1_rcit0qgs'), hot, `still kept after ${i} other reads`);
      await catalog.listFlavors('1_rcit0qgs');
    }
  }
  t.equal(await catalog.listFlavors('1_rcit0qgs'), hotFlavors, 'its flavors too');
  const again = await catalog.getEntry('1_alt0audi');
  t.not(again, cold, 'bounded: one asked once has gone, read from SQLite again');
  t.same(again, cold, 'the same values');
  const stats = catalog.readCacheStats!();
  t.equal(stats.entries, 50_000, 'the cache is full, not past its bound');
  t.ok(stats.misses >= 120_000 && stats.hits >= 240, `hits ${stats.hits}, misses ${stats.misses}`);
});

t.test('/metrics counts the read cache: its size, hits and misses', async (t) => {
  const server = await startServer(t);
  const metric = async (name: string) => {
    const text = await (await fetch(`${server.url}/metrics`)).text();
    return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  };
  const before = { hits: await metric('kdeliver_catalog_read_cache_hits_total'), misses: await metric('kdeliver_catalog_read_cache_misses_total') };
  t.ok(Number.isFinite(before.hits) && Number.isFinite(before.misses), 'both reported');
  await server.app.catalog.getEntry('1_rcit0qgs');
  await server.app.catalog.getEntry('no_such_entry_1');
  await server.app.catalog.getEntry('no_such_entry_1');
  const stats = server.app.catalog.readCacheStats!();
  t.equal(await metric('kdeliver_catalog_read_cache_entries'), stats.entries);
  t.ok(stats.entries > 0 && stats.entries <= 50_000, `entries ${stats.entries}`);
  t.ok(await metric('kdeliver_catalog_read_cache_misses_total') >= before.misses + 1, 'a new read is a miss');
  t.ok(await metric('kdeliver_catalog_read_cache_hits_total') >= before.hits + 1, 'read again: a hit');
});

t.test("the counts of lists are kept apart: a sweep of other reads does not push them out, and they are bounded too", async (t) => {
  const { createReadMemo, NOT_KEPT } = await import('../../src/catalog/read-memo.js');
  const memo = createReadMemo(1_000, 10);
  memo.set('count:partner_id = @partnerId:{"partnerId":309}', 17);
  memo.set('entry:hot', { id: 'hot' });
  // 5,000 once-read entries pass through a cache of 1,000
  for (let i = 0; i < 5_000; i++) memo.set(`entry:${i}`, { id: i });
  t.equal(memo.get('count:partner_id = @partnerId:{"partnerId":309}'), 17, 'the count is still kept');
  t.equal(memo.get('entry:hot'), NOT_KEPT, 'an entry asked once before the sweep has gone');
  t.equal(memo.stats().entries, 1_001, 'the reads at their bound, and the one count');
  // counts have their own bound, least recently asked out first
  for (let i = 0; i < 20; i++) memo.set(`count:${i}`, i);
  t.equal(memo.get('count:19'), 19, 'the latest count kept');
  t.equal(memo.get('count:0'), NOT_KEPT, 'the oldest counts gone');
  t.equal(memo.stats().entries, 1_010, 'at most 10 counts');
  memo.clear();
  t.equal(memo.get('count:19'), NOT_KEPT, 'a change drops the counts with the rest');
  t.equal(memo.stats().entries, 0);
});

t.test('an entry read for the first time brings its flavors and captions; a change by another process drops them', async (t) => {
  const file = join(work, 'prefetch.sqlite');
  const catalog = await sampleCatalog(t, file);
  // what a catalog that has read nothing yet answers, asked in the other order
  const other = createCatalog(openDatabase(file));
  t.teardown(() => other.close());
  const expected = { flavors: await other.listFlavors('1_alt0audi'), captions: await other.listCaptions('1_alt0audi'), entry: await other.getEntry('1_alt0audi') };
  t.ok(expected.flavors.length > 1 && expected.captions.length > 0, 'an entry with several flavors and captions');

  const before = catalog.readCacheStats!();
  const entry = await catalog.getEntry('1_alt0audi');
  const flavors = await catalog.listFlavors('1_alt0audi');
  const captions = await catalog.listCaptions('1_alt0audi');
  const after = catalog.readCacheStats!();
  t.equal(after.misses - before.misses, 1, 'one read from SQLite: the entry');
  t.equal(after.hits - before.hits, 2, 'its flavors and captions came with it');
  t.same({ entry, flavors, captions }, expected, 'the same values as read one by one');
  t.ok(Object.isFrozen(flavors) && Object.isFrozen(flavors[0]) && Object.isFrozen(captions[0]), 'kept frozen, as every kept read');
  t.equal(await catalog.getEntry('no_such_entry_2'), undefined, 'an entry that does not exist');

  // a CLI ingest (another connection) changes a flavor: the catalog sees it on its next turn
  const writer = openDatabase(file);
  t.teardown(() => writer.close());
  writer.prepare('UPDATE flavor_assets SET bitrate = bitrate + 1 WHERE id = ?').run(flavors[0].id);
  await new Promise((resolve) => setTimeout(resolve, 5));
  const changed = await catalog.listFlavors('1_alt0audi');
  t.equal(changed.find((f) => f.id === flavors[0].id)?.bitrate, flavors[0].bitrate + 1, 'the changed flavor is read again');
});

t.test("records made from a statement's values equal better-sqlite3's own row objects", async (t) => {
  const { recordMaker } = await import('../../src/catalog/rows.js');
  const db = openDatabase(join(work, 'prefetch.sqlite'));
  t.teardown(() => db.close());
  for (const sql of [
    'SELECT * FROM entries',
    'SELECT rowid AS int_id, * FROM flavor_assets ORDER BY bitrate, rowid',
    'SELECT * FROM caption_assets ORDER BY rowid',
  ]) {
    const objects = db.prepare(sql).all() as Record<string, unknown>[];
    const st = db.prepare(sql).raw();
    const record = recordMaker(st.columns().map((c) => c.name));
    const records = (st.all() as unknown[][]).map(record);
    t.ok(objects.length > 0, `${sql}: rows to compare`);
    t.strictSame(records, objects, `${sql}: same values`);
    t.same(records.map((r) => Object.keys(r)), objects.map((o) => Object.keys(o)), `${sql}: same columns, same order`);
  }
  t.same(recordMaker(['a"b', "c'd", 'e\\f'])([1, 2, 3]), { 'a"b': 1, "c'd": 2, 'e\\f': 3 }, 'a name with quotes or a backslash is a name, not code');
});

t.test("a list's page of ids is kept as reads are, and a change drops it", async (t) => {
  const catalog = await sampleCatalog(t, join(work, 'pages.sqlite'));
  // the player's baseEntry.list (redirectFromEntryId names the entry)
  const filter = { partnerId: 309, idIn: ['1_kssecure'], includeDeleted: true };
  const first = await catalog.listEntries(filter, 30, 1);
  t.same(first.objects.map((e) => e.id), ['1_kssecure']);
  const before = catalog.readCacheStats!();
  const again = await catalog.listEntries(filter, 30, 1);
  const after = catalog.readCacheStats!();
  t.equal(after.misses, before.misses, 'asked again: no read from SQLite');
  t.equal(after.hits - before.hits, 3, 'its count, its page of ids and its entry, each kept');
  t.same(again, first);

  const listed = async () => (await catalog.listEntries({ partnerId: 309 }, 30, 1)).objects.map((e) => e.id);
  t.ok((await listed()).includes('1_alt0audi'), 'a partner list');
  catalog.db.prepare('UPDATE entries SET status = 3 WHERE id = ?').run('1_alt0audi');
  t.notOk((await listed()).includes('1_alt0audi'), 'a write drops the kept page: the deleted entry is gone at once');
  catalog.db.prepare('UPDATE entries SET status = 2 WHERE id = ?').run('1_alt0audi');
  t.ok((await listed()).includes('1_alt0audi'), 'and back');
});
