// Statements are written with @names, as the SQLite catalog's are, and sent to PostgreSQL with
// $n positions. Booleans are bound as 0/1 (the catalog keeps flags as integers on both backends)
// and undefined as NULL.
import type { Queryable } from './pool.js';
import type { Row } from '../rows.js';

/**
 * A statement as it is sent: $n text, the names of its parameters in order, and the name it is
 * prepared under (null: sent unnamed, parsed and planned by PostgreSQL on every call).
 */
interface Statement {
  text: string;
  names: string[];
  name: string | null;
}

const translated = new Map<string, Statement>();

/**
 * How many distinct statements are prepared under a name. node-postgres prepares a named
 * statement once per connection and then only binds and executes it: PostgreSQL no longer parses
 * and plans it on every call, which was most of the cost of a catalog read on this machine (with
 * the one-statement entry read, a new entry's read went from 370-390 to 155-165 µs on loopback;
 * bench/README.md, session 10). The catalog's statements are a fixed set, but entry lists build
 * their WHERE from the filter: past this many, the rest go unnamed, so a connection holds a
 * bounded number of prepared statements.
 */
const MAX_NAMED = 256;
let named = 0;

function positional(sql: string): Statement {
  let t = translated.get(sql);
  if (!t) {
    const names: string[] = [];
    const text = sql.replace(/@(\w+)/g, (_m, name: string) => {
      let i = names.indexOf(name);
      if (i < 0) i = names.push(name) - 1;
      return `$${i + 1}`;
    });
    t = { text, names, name: named < MAX_NAMED ? `kdeliver_${++named}` : null };
    translated.set(sql, t);
  }
  return t;
}

const bind = (v: unknown) => (typeof v === 'boolean' ? (v ? 1 : 0) : v === undefined ? null : v);

/**
 * SQLSTATE feature_not_supported, which a prepared statement gets as "cached plan must not change
 * result type" when the table its `SELECT *` reads gained a column. Any other such error fails
 * again unprepared, and is thrown then.
 */
const PLAN_RESULT_CHANGED = '0A000';

async function send(db: Queryable, sql: string, params: Record<string, unknown>) {
  const st = positional(sql);
  const values = st.names.map((n) => bind(params[n]));
  if (st.name === null || !db.prepares) return db.query(st.text, values);
  try {
    return await db.query({ name: st.name, text: st.text, values });
  } catch (e) {
    // A newer kdeliver migrated the shared database under this running one (a rolling upgrade):
    // connections that prepared the statement before cannot run it again, so it is sent again at
    // once, and unnamed from now on. (A transaction's statements are never prepared: there, a
    // failed statement would fail the whole transaction.)
    if ((e as { code?: string }).code !== PLAN_RESULT_CHANGED) throw e;
    st.name = null;
    return db.query(st.text, values);
  }
}

/** Runs a statement with named parameters; its rows. */
export async function all(db: Queryable, sql: string, params: Record<string, unknown> = {}): Promise<Row[]> {
  return (await send(db, sql, params)).rows;
}

export async function one(db: Queryable, sql: string, params: Record<string, unknown> = {}): Promise<Row | undefined> {
  return (await all(db, sql, params))[0];
}

/** Runs a statement; how many rows it changed. */
export async function run(db: Queryable, sql: string, params: Record<string, unknown> = {}): Promise<number> {
  return (await send(db, sql, params)).rowCount ?? 0;
}

/** The database's clock in Unix seconds: leases are decided by it, so nodes' clocks do not matter. */
export const DB_NOW = 'FLOOR(EXTRACT(EPOCH FROM now()))::bigint';
