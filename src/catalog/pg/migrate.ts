// Bringing a PostgreSQL catalog's schema up to date at start. Several nodes may start at once
// against one database: the whole check-and-migrate runs under one session-level advisory lock,
// so exactly one node migrates and the others wait and then find nothing to do. A database whose
// schema is newer than this kdeliver knows is refused (an older node must not write to it).
// The migrations are the SQLite ones (src/catalog/migrations.ts), translated (dialect.ts).
import { migrations as sqliteMigrations } from '../migrations.js';
import { sqliteToPostgres } from './dialect.js';
import { CatalogSchemaTooNewError, wrap, type PgDb } from './pool.js';
import { withoutCredentials } from '../../log.js';

/** The advisory lock key of migrations ('kdlv' as a number): any constant every kdeliver agrees on. */
const MIGRATION_LOCK = 0x6b646c76;

/** The channel every change of the catalog is announced on (src/catalog/pg/listen.ts). */
export const CHANGE_CHANNEL = 'kdeliver_catalog';

// Every row written to a catalog table, by kdeliver or by hand, is announced in the writing
// transaction (delivered to listeners when it commits, never when it rolls back) as
// {"t": table, "k": the row's key, "e": its entry when it has one, "n": the writer's application_name}.
const NOTIFY_FUNCTION = `
CREATE OR REPLACE FUNCTION kdeliver_notify() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  r jsonb;
BEGIN
  IF TG_OP = 'DELETE' THEN r := to_jsonb(OLD); ELSE r := to_jsonb(NEW); END IF;
  PERFORM pg_notify('${CHANGE_CHANNEL}', json_build_object(
    't', TG_TABLE_NAME,
    'k', COALESCE(r->>'id', r->>'key', r->>'entry_id', r->>'flavor_asset_id', ''),
    'e', r->>'entry_id',
    'n', current_setting('application_name', true))::text);
  RETURN NULL;
END $$`;

export interface MigrateResult {
  from: number;
  to: number;
}

/** The schema version the database is at (0: empty), without changing anything. */
export async function schemaVersion(db: PgDb): Promise<number> {
  const r = await db.query("SELECT to_regclass('kdeliver_schema') IS NOT NULL AS present");
  if (!r.rows[0].present) return 0;
  return (await db.query('SELECT version FROM kdeliver_schema')).rows[0]?.version ?? 0;
}

export async function migratePostgres(db: PgDb, migrations: readonly string[] = sqliteMigrations): Promise<MigrateResult> {
  try {
    return await migrateOnce(db, migrations);
  } catch (e) {
    throw wrap(e, db.url);
  }
}

async function migrateOnce(db: PgDb, migrations: readonly string[]): Promise<MigrateResult> {
  // its own connection: waiting for another node's migration is not a statement that times out
  const client = await db.connect({ waits: true });
  try {
    await client.query('SELECT pg_advisory_lock($1)', [MIGRATION_LOCK]);
    try {
      await client.query('CREATE TABLE IF NOT EXISTS kdeliver_schema (version BIGINT NOT NULL)');
      const rows = (await client.query('SELECT version FROM kdeliver_schema')).rows;
      if (rows.length === 0) await client.query('INSERT INTO kdeliver_schema (version) VALUES (0)');
      const from = Number(rows[0]?.version ?? 0);
      if (from > migrations.length) {
        throw new CatalogSchemaTooNewError(`the catalog in ${withoutCredentials(db.url)} has schema version ${from}, newer than this kdeliver knows (${migrations.length}): upgrade kdeliver`);
      }
      for (let v = from; v < migrations.length; v++) {
        await client.query('BEGIN');
        try {
          await client.query(sqliteToPostgres(migrations[v]));
          await client.query('UPDATE kdeliver_schema SET version = $1', [v + 1]);
          await client.query('COMMIT');
        } catch (e) {
          await client.query('ROLLBACK');
          throw new Error(`catalog migration ${v + 1} failed on PostgreSQL: ${(e as Error).message}`, { cause: e });
        }
      }
      await installNotifyTriggers(client);
      return { from, to: migrations.length };
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [MIGRATION_LOCK]);
    }
  } finally {
    await client.end().catch(() => {});
  }
}

/**
 * One trigger per catalog table (the tables a migration made since, too); idempotent. Not on
 * ks_action_counts: a KS's action count changes on every action it makes and is read fresh each
 * time, so announcing it would only make every node drop what it keeps.
 */
async function installNotifyTriggers(client: { query(sql: string): Promise<{ rows: any[] }> }): Promise<void> {
  await client.query(NOTIFY_FUNCTION);
  const tables = (await client.query(`SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename NOT IN ('kdeliver_schema', 'ks_action_counts')`)).rows;
  for (const { tablename } of tables) {
    // created where missing (PostgreSQL 11+: no CREATE OR REPLACE TRIGGER before 14)
    const exists = (await client.query(`SELECT 1 FROM pg_trigger WHERE tgname = 'kdeliver_notify' AND tgrelid = '"${tablename}"'::regclass`)).rows.length > 0;
    if (!exists) await client.query(`CREATE TRIGGER kdeliver_notify AFTER INSERT OR UPDATE OR DELETE ON "${tablename}" FOR EACH ROW EXECUTE FUNCTION kdeliver_notify()`);
  }
}
