// Catalog.listEntries on a generated catalog (scripts/make-big-library.mjs, with deleted, audio and
// same-second entries mixed in), on SQLite and on PostgreSQL: for every filter, order and pager the
// same ids in the same order and the same totalCount as the list worked out here from the library
// itself; again when the count is kept from an earlier call; and a write changes both at once
// (the kept count goes with the change). Then migrations 12-14 (the entries_list index) on a catalog
// made before it: SQLite and PostgreSQL both come up with it and list the same. And a page read
// whole (its entries through the read cache, its flavors in one statement, src/api/lookup.ts
// entryApiObjects) answers byte for byte what one read per entry answers, cold, warm and half kept.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCatalog } from '../../src/catalog/catalog.js';
import { openDatabase } from '../../src/catalog/db.js';
import { importLibrary, type LibEntry, type LibraryFile } from '../../src/catalog/library.js';
import { migrations } from '../../src/catalog/migrations.js';
import { openPgCatalog } from '../../src/catalog/pg/catalog.js';
import { openPgDatabase } from '../../src/catalog/pg/pool.js';
import type { Catalog, EntryFilter, EntryOrder } from '../../src/catalog/store.js';
import { entryApiObject, entryApiObjects } from '../../src/api/lookup.js';
import type { ApiContext } from '../../src/api/types.js';
import { pgDatabase } from '../helpers/postgres.js';
import { projectRoot } from '../helpers/repo.js';

const NOW = 1_780_000_000;
const work = mkdtempSync(join(tmpdir(), 'kdeliver-entry-list-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const libDir = join(work, 'library');
const gen = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'make-big-library.mjs'), '--entries', '900', '--partners', '3', '--out', libDir], { encoding: 'utf8' });
if (gen.status !== 0) throw new Error(`make-big-library failed: ${gen.stderr}`);

/** The generated library with the cases a list must get right mixed in. */
function library(): LibraryFile {
  const lib = JSON.parse(readFileSync(join(libDir, 'library-000.json'), 'utf8')) as LibraryFile;
  lib.entries!.forEach((e, n) => {
    if (n % 7 === 0) e.mediaType = 5; // audio
    if (n % 11 === 0) e.status = 3; // deleted
    if (n % 13 === 0) e.createdAt = 1_600_000_000; // the same second: ties by id
    if (n % 17 === 0) e.name = `Lecture ${n} 100%_done`; // case, and LIKE's own characters
    if (n % 5 === 0) e.type = 2;
    if (n % 19 === 0) e.userId = 'teacher';
    if (n % 23 === 0) e.flavors = []; // an entry without flavors on a page
    if (n % 29 === 0) for (const f of e.flavors ?? []) f.bitrate = 500; // equal bitrates: insertion order
    if (n % 31 === 0) e.status = 1; // still converting
    if (n % 3 === 0) e.moderationStatus = 1; // pending moderation
    if (n % 37 === 0) e.moderationStatus = 3; // rejected
    if (n % 41 === 0) e.moderationStatus = 2; // approved
  });
  return lib;
}

type Row = Required<Pick<LibEntry, 'id' | 'partnerId' | 'name' | 'status' | 'moderationStatus' | 'mediaType' | 'type' | 'createdAt' | 'duration' | 'tags' | 'referenceId' | 'userId'>>;
const rowsOf = (lib: LibraryFile): Row[] => lib.entries!.map((e) => ({
  id: e.id, partnerId: e.partnerId, name: e.name, status: e.status ?? 2, moderationStatus: e.moderationStatus ?? 6, mediaType: e.mediaType ?? 1, type: e.type ?? 1,
  createdAt: e.createdAt ?? NOW, duration: e.duration ?? 0, tags: e.tags ?? '', referenceId: e.referenceId ?? '', userId: e.userId ?? '',
}));

/** The list as the filter's documentation (src/catalog/store.ts EntryFilter) says it, worked out in memory. */
function expected(rows: Row[], f: EntryFilter, pageSize = 30, pageIndex = 1): { ids: string[]; totalCount: number } {
  const has = (hay: string, needle: string) => hay.toLowerCase().includes(needle.toLowerCase());
  const match = rows.filter((r) => r.partnerId === f.partnerId
    && (!f.idIn || f.idIn.includes(r.id))
    && (f.referenceIdEqual === undefined || r.referenceId === f.referenceIdEqual)
    && (f.nameLike === undefined || has(r.name, f.nameLike))
    && (f.statusIn ? f.statusIn.includes(r.status) : f.includeDeleted || r.status !== 3)
    && (!f.statusNotIn || !f.statusNotIn.includes(r.status))
    && (!f.moderationStatusIn || f.moderationStatusIn.includes(r.moderationStatus))
    && (!f.moderationStatusNotIn || !f.moderationStatusNotIn.includes(r.moderationStatus))
    && (f.mediaTypeEqual === undefined || r.mediaType === f.mediaTypeEqual)
    && (!f.typeIn || f.typeIn.includes(r.type))
    && (f.userIdEqual === undefined || r.userId === f.userIdEqual)
    && (!f.mediaTypeIn || f.mediaTypeIn.includes(r.mediaType))
    && (!f.tagsMultiLikeOr || f.tagsMultiLikeOr.some((w) => has(r.tags, w)))
    && (f.createdAtGreaterThanOrEqual === undefined || r.createdAt >= f.createdAtGreaterThanOrEqual));
  const order = f.orderBy ?? '-createdAt';
  const key = ({ createdAt: 'createdAt', updatedAt: 'createdAt', name: 'name', duration: 'duration' } as const)[order.slice(1) as 'createdAt'];
  // every entry of one import has the same updatedAt: that order is by id alone
  const value = (r: Row) => (order.endsWith('updatedAt') ? 0 : r[key]);
  const dir = order[0] === '-' ? -1 : 1;
  match.sort((a, b) => {
    const x = value(a), y = value(b);
    if (x !== y) return (x < y ? -1 : 1) * dir;
    return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
  });
  const size = Math.max(1, Math.min(500, pageSize));
  const start = (Math.max(1, pageIndex) - 1) * size;
  return { ids: match.slice(start, start + size).map((r) => r.id), totalCount: match.length };
}

const ORDERS: EntryOrder[] = ['+createdAt', '-createdAt', '+updatedAt', '-updatedAt', '+name', '-name', '+duration', '-duration'];
/** Filters and pagers: what players and consoles send, and the edges. */
function cases(): [EntryFilter, number, number][] {
  const out: [EntryFilter, number, number][] = [];
  for (const partnerId of [5001, 5002, 5003, 4242]) {
    const filters: Omit<EntryFilter, 'partnerId'>[] = [
      {}, { mediaTypeEqual: 1 }, { mediaTypeEqual: 5 }, { nameLike: 'lecture' }, { nameLike: 'LECTURE' }, { nameLike: '100%_' },
      { nameLike: '%' }, { nameLike: 'keynote review' }, { statusIn: [3] }, { statusIn: [2, 3] }, { includeDeleted: true },
      { typeIn: [1] }, { typeIn: [2], mediaTypeEqual: 5 }, { mediaTypeIn: [1, 5] }, { userIdEqual: 'teacher' },
      { tagsMultiLikeOr: ['lecture', 'DEMO'] }, { createdAtGreaterThanOrEqual: 1_650_000_000 }, { referenceIdEqual: 'ref-4' },
      { idIn: ['0_00000000', '0_00000001', '0_00000004', '0_0000000a', 'nope'] }, { mediaTypeEqual: 1, nameLike: 'talk', statusIn: [2] },
      // api_v3's default (src/api/services/base-entry.ts entryFilter), and the status and moderation filters
      { statusIn: [2], moderationStatusNotIn: [1, 3] }, { statusIn: [2], moderationStatusNotIn: [1, 3], mediaTypeEqual: 1 },
      { statusNotIn: [2] }, { statusNotIn: [1, 2], includeDeleted: true }, { moderationStatusIn: [1] }, { moderationStatusIn: [] },
      { moderationStatusIn: [1, 3], statusIn: [1, 2] }, { moderationStatusNotIn: [6] },
    ];
    for (const f of filters) {
      for (const [size, page] of [[30, 1], [30, 3], [7, 5], [500, 1], [30, 100], [0, 0]]) out.push([{ partnerId, ...f }, size, page]);
    }
    for (const orderBy of ORDERS) for (const [size, page] of [[30, 1], [13, 4]]) out.push([{ partnerId, orderBy }, size, page]);
    out.push([{ partnerId, orderBy: '-createdAt', mediaTypeEqual: 1 }, 25, 7]);
  }
  return out;
}

async function check(t: Test, name: string, c: Catalog, rows: Row[]) {
  let bad = 0;
  const list = cases();
  // twice: the second time every count is the kept one
  for (const pass of ['counted', 'count kept']) {
    for (const [f, size, page] of list) {
      const got = await c.listEntries(f, size, page);
      const want = expected(rows, f, size, page);
      const same = JSON.stringify({ ids: got.objects.map((e) => e.id), totalCount: got.totalCount }) === JSON.stringify(want);
      if (!same && bad++ < 5) t.same({ ids: got.objects.map((e) => e.id), totalCount: got.totalCount }, want, `${name} (${pass}): ${JSON.stringify(f)} ${size}/${page}`);
    }
  }
  t.equal(bad, 0, `${name}: ${list.length * 2} lists as worked out from the library`);
}

async function writesChangeLists(t: Test, name: string, c: Catalog, rows: Row[]) {
  const f: EntryFilter = { partnerId: 5001, nameLike: 'Renamed' };
  const before = await c.listEntries(f, 30, 1);
  t.equal(before.totalCount, 0, `${name}: nothing named so yet`);
  const all = await c.listEntries({ partnerId: 5001 }, 30, 1);
  // a rename (updateEntry) and a deletion (ingest) change the lists and their kept counts at once
  const [a, b] = all.objects;
  await c.updateEntry(a.id, { name: 'Renamed entry' }, NOW + 1);
  await c.ingest.markEntryDeleted(b.id, NOW + 2);
  rows.find((r) => r.id === a.id)!.name = 'Renamed entry';
  rows.find((r) => r.id === b.id)!.status = 3;
  const after: [EntryFilter, number, number][] = [[f, 30, 1], [{ partnerId: 5001 }, 30, 1], [{ partnerId: 5001, statusIn: [3] }, 500, 1], [{ partnerId: 5001, mediaTypeEqual: 1 }, 30, 2]];
  for (const [ff, size, page] of after) {
    const got = await c.listEntries(ff, size, page);
    t.same({ ids: got.objects.map((e) => e.id), totalCount: got.totalCount }, expected(rows, ff, size, page), `${name}: after the writes, ${JSON.stringify(ff)}`);
  }
}

/** The library imported into a new SQLite catalog and a new PostgreSQL one (closed at the test's end). */
async function bothCatalogs(t: Test, lib: LibraryFile, name: string) {
  const db = openDatabase(join(work, `${name}.sqlite`));
  const sqlite = createCatalog(db);
  await importLibrary(sqlite, lib, join(libDir, 'media'), join(work, `${name}-media-sqlite`), NOW);
  const pg = await openPgCatalog(await pgDatabase(t));
  t.teardown(async () => {
    await pg.close();
    await sqlite.close();
  });
  await importLibrary(pg, lib, join(libDir, 'media'), join(work, `${name}-media-pg`), NOW);
  return { db, sqlite, pg };
}

t.test('SQLite and PostgreSQL list what the library holds, for every filter, order and pager', async (t) => {
  const lib = library();
  const { db, sqlite, pg } = await bothCatalogs(t, lib, 'lists');
  const sqliteRows = rowsOf(lib);
  const pgRows = rowsOf(lib);
  await check(t, 'SQLite', sqlite, sqliteRows);
  await check(t, 'PostgreSQL', pg, pgRows);
  await writesChangeLists(t, 'SQLite', sqlite, sqliteRows);
  await writesChangeLists(t, 'PostgreSQL', pg, pgRows);
  // a pager the API passes through as it came: fractions truncated, nothing usable read as 1, sizes kept to 1..500
  const pagers: [number, number, number, number][] = [[2.7, 3.9, 2, 3], [NaN, NaN, 1, 1], [0, -4, 1, 1], [1e9, 1, 500, 1], [-3, 2.5, 1, 2]];
  for (const [size, page, asSize, asPage] of pagers) {
    for (const [name, c, rows] of [['SQLite', sqlite, sqliteRows], ['PostgreSQL', pg, pgRows]] as const) {
      const got = await c.listEntries({ partnerId: 5001 }, size, page);
      t.same({ ids: got.objects.map((e) => e.id), totalCount: got.totalCount }, expected(rows, { partnerId: 5001 }, asSize, asPage), `${name}: pager ${size} × ${page} reads as ${asSize} × ${asPage}`);
    }
  }
  // the page is read from the index, not by sorting the partner's rows
  const plan = db.prepare("EXPLAIN QUERY PLAN SELECT id FROM entries WHERE partner_id = 5001 AND status <> 3 AND media_type = 1 ORDER BY created_at DESC, id LIMIT 30 OFFSET 60").all() as { detail: string }[];
  t.match(plan.map((p) => p.detail).join(' | '), /USING COVERING INDEX entries_list/, 'SQLite pages through entries_list');
  t.notMatch(plan.map((p) => p.detail).join(' | '), /TEMP B-TREE/, 'without a sort');
  // api_v3's default list (ready, not pending moderation or rejected) and its count stay in the index
  const where = 'partner_id = 5001 AND status IN (2) AND moderation_status NOT IN (1, 3)';
  for (const sql of [`SELECT id FROM entries WHERE ${where} ORDER BY created_at DESC, id LIMIT 30 OFFSET 60`, `SELECT COUNT(*) FROM entries WHERE ${where}`]) {
    const steps = (db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all() as { detail: string }[]).map((p) => p.detail).join(' | ');
    t.match(steps, /USING COVERING INDEX entries_list/, `the default list's ${sql.startsWith('SELECT id') ? 'page' : 'count'} is read from entries_list alone`);
  }
});

/**
 * What migrations 12 and later changed, undone (src/catalog/migrations.ts): a catalog at version 11
 * is brought up to date by every one of them again (15 to 18 are undone too, or they would be made twice).
 */
const BACK_TO_11 = [
  'ALTER TABLE entries DROP COLUMN conversion_profile_id',
  'DROP INDEX entries_list',
  'CREATE INDEX entries_partner ON entries(partner_id, created_at)',
  'DROP TABLE ks_action_counts',
  'ALTER TABLE partners DROP COLUMN additional_admin_secrets',
  'ALTER TABLE flavor_assets DROP COLUMN packaging_refusal',
  'ALTER TABLE flavor_assets DROP COLUMN rotation',
];

t.test('migrations 12 to 14 on a catalog made before them (SQLite data directory and PostgreSQL)', async (t) => {
  const lib = library();
  const rows = rowsOf(lib);
  // SQLite: a data directory's catalog at version 11, with the generated library in it
  const file = join(work, 'old', 'catalog.sqlite');
  {
    const Database = (await import('better-sqlite3')).default;
    const { mkdirSync } = await import('node:fs');
    mkdirSync(join(work, 'old'), { recursive: true });
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    // today's code writes today's schema: the library goes in at the latest version, which is
    // then taken back to 11 (BACK_TO_11) with its rows
    for (let v = 0; v < migrations.length; v++) db.transaction(() => { db.exec(migrations[v]); db.pragma(`user_version = ${v + 1}`); })();
    const c = createCatalog(db);
    await importLibrary(c, lib, join(libDir, 'media'), join(work, 'old', 'media'), NOW);
    db.transaction(() => { for (const sql of BACK_TO_11) db.exec(sql); db.pragma('user_version = 11'); })();
    t.equal(db.pragma('user_version', { simple: true }), 11);
    db.close();
  }
  const db = openDatabase(file);
  t.equal(db.pragma('user_version', { simple: true }), migrations.length, 'brought up to date');
  const indexes = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'entries'").pluck().all() as string[]).sort();
  t.ok(indexes.includes('entries_list'), 'entries_list made');
  t.notOk(indexes.includes('entries_partner'), 'entries_partner, its prefix, gone');
  t.ok((db.prepare("SELECT name FROM pragma_index_info('entries_list')").pluck().all() as string[]).includes('moderation_status'), 'entries_list holds moderation_status (migration 14)');
  const sqlite = createCatalog(db);
  await check(t, 'SQLite after migrations 12-14', sqlite, rows);
  await sqlite.close();

  // PostgreSQL: a database at version 11 with the same library
  const url = await pgDatabase(t);
  const before = await openPgCatalog(url);
  await importLibrary(before, lib, join(libDir, 'media'), join(work, 'old-pg-media'), NOW);
  await before.close();
  const raw = openPgDatabase(url);
  for (const sql of BACK_TO_11) await raw.query(sql);
  await raw.query('UPDATE kdeliver_schema SET version = 11');
  await raw.close();
  const pg = await openPgCatalog(url);
  t.teardown(() => pg.close());
  const pgIndexes = (await pg.db.query("SELECT indexname FROM pg_indexes WHERE tablename = 'entries'")).rows.map((r) => r.indexname as string);
  t.ok(pgIndexes.includes('entries_list'), 'PostgreSQL: entries_list made');
  t.notOk(pgIndexes.includes('entries_partner'), 'PostgreSQL: entries_partner gone');
  const pgIndexDef = (await pg.db.query("SELECT indexdef FROM pg_indexes WHERE indexname = 'entries_list'")).rows[0].indexdef as string;
  t.match(pgIndexDef, /moderation_status/, 'PostgreSQL: entries_list holds moderation_status (migration 14)');
  t.equal(Number((await pg.db.query('SELECT version FROM kdeliver_schema')).rows[0].version), migrations.length);
  await check(t, 'PostgreSQL after migrations 12-14', pg, rows);
});

/** Drops every kept read (any write does): the next reads go to the database. */
const forget = (c: Catalog) => c.updateEntry('0_nosuchentry', { name: 'x' }, NOW);

async function pageReads(t: Test, name: string, c: Catalog) {
  let bad = 0;
  let compared = 0;
  let withoutFlavors = 0;
  const ctx = (https: boolean) => ({ catalog: c, baseUrl: 'https://media.example.com', http: { isHttps: https } }) as unknown as ApiContext;
  const list = cases();
  for (const [n, [f, size, page]] of list.entries()) {
    // the page read whole, cold (n even) or with the page's entries and every other entry's flavors kept (n odd)
    await forget(c);
    if (n % 2 === 1) {
      const ids = (await c.listEntries(f, size, page)).objects.map((e) => e.id);
      for (const id of ids.filter((_, i) => i % 2 === 0)) await c.listFlavors(id);
    }
    const got = await c.listEntries(f, size, page);
    const ids = got.objects.map((e) => e.id);
    const flavors = await c.listFlavorsOfEntries(ids);
    const objects = await entryApiObjects(ctx(n % 3 === 0), got.objects);
    // one read per entry, cold
    await forget(c);
    const entries = [];
    const perEntry = [];
    const perEntryObjects = [];
    for (const id of ids) {
      const e = (await c.getEntry(id))!;
      entries.push(e);
      perEntry.push(await c.listFlavors(id));
      perEntryObjects.push(await entryApiObject(ctx(n % 3 === 0), e));
    }
    const a = JSON.stringify({ entries: got.objects, flavors, objects });
    const b = JSON.stringify({ entries, flavors: perEntry, objects: perEntryObjects });
    compared += ids.length;
    withoutFlavors += flavors.filter((x) => x.length === 0).length;
    if (a !== b && bad++ < 3) t.equal(a, b, `${name}: ${JSON.stringify(f)} ${size}/${page}`);
  }
  t.equal(bad, 0, `${name}: ${list.length} pages read whole as read entry by entry (${compared} entries, ${withoutFlavors} without flavors)`);
  t.ok(withoutFlavors > 0, `${name}: pages hold entries without flavors`);
  // the edges: nothing asked, an unknown id, an id asked twice, and a page of 500 (the pager's most)
  t.same(await c.listFlavorsOfEntries([]), [], `${name}: no ids, no lists`);
  const some = (await c.listEntries({ partnerId: 5001, includeDeleted: true }, 500, 1)).objects.map((e) => e.id);
  t.equal(some.length, 300, `${name}: a page of 500 holds every entry of the partner`);
  await forget(c);
  const asked = ['nope', some[1], ...some, some[1]];
  const together = await c.listFlavorsOfEntries(asked);
  await forget(c);
  const alone = [];
  for (const id of asked) alone.push(await c.listFlavors(id));
  t.equal(JSON.stringify(together), JSON.stringify(alone), `${name}: an unknown id (no flavors), an id twice, a whole partner`);
  t.same(together[0], [], `${name}: an unknown id has no flavors`);
  // a write between two reads of one page: the second answers the change, never the kept rows
  const first = (await c.listEntries({ partnerId: 5002 }, 30, 1)).objects[0];
  await c.listFlavorsOfEntries([first.id]);
  await c.updateEntry(first.id, { name: 'Renamed on the page' }, NOW + 3);
  t.equal((await c.listEntries({ partnerId: 5002 }, 30, 1)).objects.find((e) => e.id === first.id)?.name, 'Renamed on the page', `${name}: a kept page entry goes with a write`);
}

t.test('a page read whole answers what one read per entry answers (SQLite and PostgreSQL)', async (t) => {
  const { sqlite, pg } = await bothCatalogs(t, library(), 'pages');
  await pageReads(t, 'SQLite', sqlite);
  await pageReads(t, 'PostgreSQL', pg);
});
