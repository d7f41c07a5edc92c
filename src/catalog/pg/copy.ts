// Moving a catalog from SQLite into PostgreSQL: every row of every catalog table, in one
// transaction, in the SQLite file's insertion order (so that "insertion order" reads the same
// afterwards). Rows whose key exists in PostgreSQL are replaced. Both schemas must be at the same
// version (both are migrated from src/catalog/migrations.ts).
import { openDatabase, type Db } from '../db.js';
import { openPgCatalog } from './catalog.js';
import type { PgDb, Queryable } from './pool.js';
import { run } from './sql.js';

/**
 * The tables a foreign key points at, before the tables that point at them; every other table
 * (those of later migrations, which point at these if at all) comes after, in creation order.
 */
const REFERENCED_FIRST = ['partners', 'flavor_params', 'conversion_profiles', 'delivery_profiles', 'storage_profiles',
  'access_control_profiles', 'ui_confs', 'entries', 'flavor_assets'];

/** The catalog's tables in an order that satisfies their foreign keys, with their primary keys. */
export function catalogTables(from: Db): { table: string; key: string[] }[] {
  const names = from.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid").pluck().all() as string[];
  const rank = (n: string) => (REFERENCED_FIRST.includes(n) ? REFERENCED_FIRST.indexOf(n) : REFERENCED_FIRST.length);
  return names.sort((a, b) => rank(a) - rank(b)).map((table) => ({
    table,
    key: (from.prepare('SELECT name FROM pragma_table_info(?) WHERE pk > 0 ORDER BY pk').pluck().all(table) as string[]),
  }));
}

async function upsertRow(tx: Queryable, table: string, key: string[], row: Record<string, unknown>): Promise<void> {
  const cols = Object.keys(row);
  const update = cols.filter((c) => !key.includes(c));
  await run(tx, `INSERT INTO ${table} (${cols.join(',')}) VALUES (${cols.map((c) => '@' + c).join(',')})
    ON CONFLICT (${key.join(',')}) DO ${update.length ? `UPDATE SET ${update.map((c) => `${c} = excluded.${c}`).join(',')}` : 'NOTHING'}`, row);
}

/** Copies every catalog row of `from` into `to`; returns the number of rows per table. */
export async function copySqliteToPostgres(from: Db, to: PgDb): Promise<Record<string, number>> {
  const version = from.pragma('user_version', { simple: true }) as number;
  const pgVersion = (await to.query('SELECT version FROM kdeliver_schema')).rows[0]?.version;
  if (version !== pgVersion) throw new Error(`the SQLite catalog is at schema version ${version}, the PostgreSQL one at ${pgVersion}: open both with the same kdeliver first`);
  const counts: Record<string, number> = {};
  await to.transaction(async (tx) => {
    for (const { table, key } of catalogTables(from)) {
      const rows = from.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all() as Record<string, unknown>[];
      for (const row of rows) await upsertRow(tx, table, key, row);
      counts[table] = rows.length;
    }
    // every identity (ingest_jobs, upload_parts, and any a later migration adds) continues after
    // the ids copied: the next row a node writes must not take a copied row's id
    const identities = (await tx.query(`SELECT table_name, column_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND is_identity = 'YES'`)).rows as { table_name: string; column_name: string }[];
    for (const { table_name: table, column_name: column } of identities) {
      await tx.query(`SELECT setval(pg_get_serial_sequence($1, $2), COALESCE((SELECT MAX(${column}) FROM ${table}), 1), (SELECT COUNT(*) > 0 FROM ${table}))`, [table, column]);
    }
  });
  return counts;
}

/**
 * The SQLite catalog file `dbFile` copied into the PostgreSQL catalog at `url`, both brought to
 * the current schema first as a server opening them would (`kdeliver copy-catalog`).
 */
export async function copyCatalogFile(dbFile: string, url: string): Promise<Record<string, number>> {
  const from = openDatabase(dbFile);
  try {
    const to = await openPgCatalog(url);
    try {
      return await copySqliteToPostgres(from, to.db);
    } finally {
      await to.close();
    }
  } finally {
    from.close();
  }
}
