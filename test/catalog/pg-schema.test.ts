// The PostgreSQL schema is the SQLite one, translated (src/catalog/pg/dialect.ts): same tables,
// same columns, same NOT NULLs and kinds of type. Migrations run once when several nodes start
// at once, and a schema newer than the code is refused with a message that says so.
import t from 'tap';
import Database from 'better-sqlite3';
import { migrate } from '../../src/catalog/db.js';
import { migrations } from '../../src/catalog/migrations.js';
import { migratePostgres, schemaVersion } from '../../src/catalog/pg/migrate.js';
import { CatalogSchemaTooNewError, openPgDatabase } from '../../src/catalog/pg/pool.js';
import { pgDatabase } from '../helpers/postgres.js';

type Col = { notNull: boolean; kind: string; hasDefault: boolean };

function sqliteSchema(): Record<string, Record<string, Col>> {
  const db = new Database(':memory:');
  migrate(db);
  const out: Record<string, Record<string, Col>> = {};
  const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'").pluck().all() as string[];
  for (const name of tables) {
    out[name] = {};
    for (const c of db.prepare(`SELECT * FROM pragma_table_info(?)`).all(name) as any[]) {
      const kind = c.type === 'INTEGER' ? 'integer' : c.type === 'REAL' ? 'real' : 'text';
      // an INTEGER PRIMARY KEY is NOT NULL in effect (it is the rowid)
      out[name][c.name] = { notNull: !!c.notnull || (c.pk === 1 && c.type === 'INTEGER'), kind, hasDefault: c.dflt_value !== null };
    }
  }
  db.close();
  return out;
}

async function pgSchema(url: string): Promise<Record<string, Record<string, Col>>> {
  const db = openPgDatabase(url);
  const rows = (await db.query(`SELECT c.table_name, c.column_name, c.is_nullable, c.data_type, c.column_default, c.is_identity
    FROM information_schema.columns c JOIN pg_tables p ON p.tablename = c.table_name AND p.schemaname = c.table_schema
    WHERE c.table_schema = current_schema() AND c.table_name <> 'kdeliver_schema' AND c.column_name <> 'rowid'`)).rows;
  await db.close();
  const out: Record<string, Record<string, Col>> = {};
  for (const r of rows) {
    const kind = r.data_type === 'bigint' ? 'integer' : r.data_type === 'double precision' ? 'real' : r.data_type === 'text' ? 'text' : r.data_type;
    (out[r.table_name] ??= {})[r.column_name] = { notNull: r.is_nullable === 'NO', kind, hasDefault: r.column_default !== null && r.is_identity !== 'YES' };
  }
  return out;
}

t.test('same tables and columns as SQLite', async (t) => {
  const url = await pgDatabase(t);
  const db = openPgDatabase(url);
  t.same(await migratePostgres(db), { from: 0, to: migrations.length });
  await db.close();
  const lite = sqliteSchema();
  const pg = await pgSchema(url);
  t.same(Object.keys(pg).sort(), Object.keys(lite).sort(), 'tables');
  for (const table of Object.keys(lite)) {
    // SQLite's primary keys of TEXT may hold NULL (a historical quirk); PostgreSQL's never do
    const liteCols = Object.fromEntries(Object.entries(lite[table]).map(([k, v]) => [k, { ...v, notNull: v.notNull || pg[table]?.[k]?.notNull === true && isPk(table, k) }]));
    t.same(pg[table], liteCols, `columns of ${table}`);
  }
  // the system defaults of migration 6 are there
  const again = openPgDatabase(url);
  t.same((await again.query('SELECT id FROM delivery_profiles ORDER BY id')).rows.map((r) => r.id), [1001, 1002, 1003, 1004, 1005, 1006]);
  t.same((await again.query('SELECT COUNT(*) AS n FROM flavor_params')).rows[0].n, 7, 'a COUNT is a number, as in SQLite');
  await again.close();
});

function isPk(table: string, col: string): boolean {
  const lite = new Database(':memory:');
  migrate(lite);
  const pk = (lite.prepare('SELECT name FROM pragma_table_info(?) WHERE pk > 0').pluck().all(table) as string[]).includes(col);
  lite.close();
  return pk;
}

t.test('four nodes starting at once: one migrates, all start, the schema is made once', async (t) => {
  const url = await pgDatabase(t);
  const dbs = Array.from({ length: 4 }, () => openPgDatabase(url));
  const results = await Promise.all(dbs.map((db) => migratePostgres(db)));
  t.equal(results.filter((r) => r.from === 0).length, 1, 'exactly one node ran the migrations');
  t.ok(results.every((r) => r.to === migrations.length));
  t.equal(await schemaVersion(dbs[0]), migrations.length);
  t.same((await dbs[0].query('SELECT COUNT(*) AS n FROM kdeliver_schema')).rows[0].n, 1);
  t.same((await dbs[0].query('SELECT COUNT(*) AS n FROM conversion_profiles')).rows[0].n, 1, 'the seed rows once');
  await Promise.all(dbs.map((db) => db.close()));
});

t.test('a schema newer than this kdeliver is refused with a message saying so', async (t) => {
  const url = await pgDatabase(t);
  const db = openPgDatabase(url);
  await migratePostgres(db);
  await db.query('UPDATE kdeliver_schema SET version = $1', [migrations.length + 1]);
  const e = await migratePostgres(db).then(() => undefined, (e: Error) => e);
  t.type(e, CatalogSchemaTooNewError);
  t.match(e?.message, `schema version ${migrations.length + 1}, newer than this kdeliver knows (${migrations.length}): upgrade kdeliver`);
  t.notMatch(e?.message, 'kdeliver-test-pw', 'the password is not in the message');
  await db.close();
});

t.test('a failed migration leaves the schema at the version before it', async (t) => {
  const url = await pgDatabase(t);
  const db = openPgDatabase(url);
  const broken = [...migrations, 'CREATE TABLE extra (id INTEGER PRIMARY KEY);\nALTER TABLE no_such_table ADD COLUMN x TEXT;'];
  await t.rejects(migratePostgres(db, broken), new RegExp(`catalog migration ${migrations.length + 1} failed`));
  t.equal(await schemaVersion(db), migrations.length);
  t.same((await db.query("SELECT to_regclass('extra') IS NULL AS gone")).rows[0].gone, true, 'its first statement was rolled back too');
  await db.close();
});

t.test('a node waits for another node migrating longer than a statement may take', async (t) => {
  const url = await pgDatabase(t);
  const holder = openPgDatabase(url);
  const other = await holder.pool.connect();
  // another node holds the migration lock for 1.5 s (a long migration)
  await other.query('SELECT pg_advisory_lock($1)', [0x6b646c76]);
  const waiting = openPgDatabase(url, { statementTimeoutMs: 300 });
  const started = Date.now();
  const done = migratePostgres(waiting);
  setTimeout(() => void other.query('SELECT pg_advisory_unlock($1)', [0x6b646c76]), 1500);
  t.same(await done, { from: 0, to: migrations.length }, 'it migrates once the lock is free');
  t.ok(Date.now() - started >= 1400, `it waited (${Date.now() - started} ms) past its 300 ms statement timeout`);
  other.release();
  await holder.close();
  await waiting.close();
});
