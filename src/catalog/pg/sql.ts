// Statements are written with @names, as the SQLite catalog's are, and sent to PostgreSQL with
// $n positions. Booleans are bound as 0/1 (the catalog keeps flags as integers on both backends)
// and undefined as NULL.
import type { Queryable } from './pool.js';
import type { Row } from '../rows.js';

const translated = new Map<string, { text: string; names: string[] }>();

function positional(sql: string): { text: string; names: string[] } {
  let t = translated.get(sql);
  if (!t) {
    const names: string[] = [];
    const text = sql.replace(/@(\w+)/g, (_m, name: string) => {
      let i = names.indexOf(name);
      if (i < 0) i = names.push(name) - 1;
      return `$${i + 1}`;
    });
    translated.set(sql, (t = { text, names }));
  }
  return t;
}

const bind = (v: unknown) => (typeof v === 'boolean' ? (v ? 1 : 0) : v === undefined ? null : v);

/** Runs a statement with named parameters; its rows. */
export async function all(db: Queryable, sql: string, params: Record<string, unknown> = {}): Promise<Row[]> {
  const { text, names } = positional(sql);
  return (await db.query(text, names.map((n) => bind(params[n])))).rows;
}

export async function one(db: Queryable, sql: string, params: Record<string, unknown> = {}): Promise<Row | undefined> {
  return (await all(db, sql, params))[0];
}

/** Runs a statement; how many rows it changed. */
export async function run(db: Queryable, sql: string, params: Record<string, unknown> = {}): Promise<number> {
  const { text, names } = positional(sql);
  return (await db.query(text, names.map((n) => bind(params[n])))).rowCount ?? 0;
}

/** The database's clock in Unix seconds: leases are decided by it, so nodes' clocks do not matter. */
export const DB_NOW = 'FLOOR(EXTRACT(EPOCH FROM now()))::bigint';
