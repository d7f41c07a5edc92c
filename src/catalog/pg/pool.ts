// The connection pool of the PostgreSQL catalog (node-postgres). Everything the catalog asks of
// the database goes through query() or transaction() here, so that a database that is down,
// unreachable or stuck becomes one typed error (CatalogUnavailableError, an HTTP 503) within a
// bounded time, never a hang: connecting, each statement and a transaction left idle all have
// timeouts.
import pg from 'pg';
import { CatalogUnavailableError } from '../errors.js';
import { withoutCredentials } from '../../log.js';

export { CatalogSchemaTooNewError, CatalogUnavailableError } from '../errors.js';

// BIGINT (20) and COUNT(*) come back as strings by default; every integer the catalog keeps
// (ids, sizes, Unix seconds) is far below 2^53, so they are read as numbers, as SQLite gives them.
const types = {
  getTypeParser(oid: number, format?: string): any {
    if (oid === 20) return (v: string) => Number(v);
    if (oid === 1700) return (v: string) => Number(v);
    return pg.types.getTypeParser(oid, format as any);
  },
};

export interface PgOptions {
  /** Pool size; default 10. */
  max?: number;
  /** How long to wait for a connection (new or from the pool); default 5 s. */
  connectTimeoutMs?: number;
  /** The longest a statement may run on the server; default 10 s. */
  statementTimeoutMs?: number;
  /** The connections' application_name (the origin of the changes they announce); default 'kdeliver'. */
  applicationName?: string;
}

/** Anything a statement can be sent through: the pool, or one transaction's connection. */
export interface Queryable {
  /** `sql` as text with `params`, or as node-postgres's QueryConfig (a named, prepared statement: src/catalog/pg/sql.ts). */
  query<R extends Record<string, any> = Record<string, any>>(sql: string | pg.QueryConfig, params?: unknown[]): Promise<pg.QueryResult<R>>;
  /**
   * Whether statements sent through it may be prepared under a name: the pool's, each a statement
   * of its own that can be sent again when its prepared form fails; not a transaction's, where a
   * failed statement fails the whole transaction.
   */
  readonly prepares?: boolean;
}

export interface PgDb extends Queryable {
  readonly pool: pg.Pool;
  readonly url: string;
  /** Runs `fn` in one transaction on one connection: committed when it resolves, rolled back when it throws. */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * A connection of its own (LISTEN, locks held for a while), with the same settings; the caller
   * ends it. `waits`: without the statement timeouts, for waiting on an advisory lock that another
   * node holds while it migrates or seeds (which may take longer than any one statement should).
   */
  connect(opts?: { waits?: boolean }): Promise<pg.Client>;
  close(): Promise<void>;
}

// SQLSTATE classes that mean "the database is not there": 08 connection exception, 57P0x
// shutdown/crash, 53 insufficient resources; 57014 is a statement timeout or cancel. The database
// refusing this node is one too: 28 (a wrong password, a role that may not log in) and 3D000 (no
// such database), so that a server answers 503 and a command says which database, not a stack.
const UNAVAILABLE_CODES = /^(08|57P0|53|28|3D000)/;
const NETWORK_ERRORS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EPIPE', 'EAI_AGAIN']);

/** Whether an error from node-postgres means the database is unavailable (rather than a bad statement). */
export function isUnavailable(e: unknown): boolean {
  const err = e as { code?: string; message?: string };
  if (!err || typeof err !== 'object') return false;
  if (typeof err.code === 'string' && (UNAVAILABLE_CODES.test(err.code) || err.code === '57014' || NETWORK_ERRORS.has(err.code))) return true;
  return /timeout|Connection terminated|not queryable|Client has encountered a connection error|connect ECONNREFUSED/i.test(err.message ?? '');
}


/**
 * What an operator can do about node-postgres's words for a connection that never became one:
 * "timeout expired" and "Connection terminated unexpectedly" name no cause (a README walk's
 * unreachable host read as the latter).
 */
function connectionHint(e: { code?: string; message?: string }): string {
  const m = e.message ?? '';
  if (/^timeout expired$|connection timeout/i.test(m)) return ' (no answer in time: is the host reachable, and PostgreSQL listening at that address and port?)';
  if (/^Connection terminated unexpectedly$/.test(m) || e.code === 'ECONNRESET' || e.code === 'EPIPE') {
    return ' (the connection was closed before PostgreSQL answered: is it PostgreSQL that listens at that address and port, and does it accept this host?)';
  }
  return '';
}

/** The error as the catalog reports it: CatalogUnavailableError when the database is not there. */
export function wrap(e: unknown, url: string): unknown {
  if (e instanceof CatalogUnavailableError) return e;
  if (isUnavailable(e)) {
    const err = e as Error & { code?: string };
    return new CatalogUnavailableError(`the catalog database ${withoutCredentials(url)} is unavailable: ${err.message}${connectionHint(err)}`, { cause: e });
  }
  return e;
}

/** A statement to node-postgres: text with its parameters, or a QueryConfig (a named statement) as it is. */
function sendTo(target: pg.Pool | pg.PoolClient, sql: string | pg.QueryConfig, params?: unknown[]) {
  return typeof sql === 'string' ? target.query(sql, params as any[]) : target.query(sql);
}

export function openPgDatabase(url: string, opts: PgOptions = {}): PgDb {
  const statementTimeout = opts.statementTimeoutMs ?? 10_000;
  const config: pg.PoolConfig = {
    connectionString: url,
    max: opts.max ?? 10,
    connectionTimeoutMillis: opts.connectTimeoutMs ?? 5_000,
    idleTimeoutMillis: 30_000,
    // on the server: a statement, and a transaction left open by a stuck client, are cut off
    statement_timeout: statementTimeout,
    idle_in_transaction_session_timeout: statementTimeout * 3,
    // on the client: an answer that never comes (a network that dropped packets) ends too
    query_timeout: statementTimeout + 2_000,
    keepAlive: true,
    application_name: opts.applicationName ?? 'kdeliver',
    types,
  };
  const pool = new pg.Pool(config);
  // an idle connection that dies (database restarted) must not crash the process; the next query reconnects
  pool.on('error', () => {});

  const query: Queryable['query'] = async (sql, params) => {
    try {
      return await sendTo(pool, sql, params);
    } catch (e) {
      throw wrap(e, url);
    }
  };

  return {
    pool,
    url,
    query,
    prepares: true,
    async transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
      let client: pg.PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        throw wrap(e, url);
      }
      const tx: Queryable = {
        query: async (sql, params) => {
          try {
            return await sendTo(client, sql, params);
          } catch (e) {
            throw wrap(e, url);
          }
        },
      };
      let broken: unknown;
      try {
        await tx.query('BEGIN');
        const result = await fn(tx);
        await tx.query('COMMIT');
        return result;
      } catch (e) {
        try {
          await client.query('ROLLBACK');
        } catch (rollbackError) {
          broken = rollbackError;
        }
        throw wrap(e, url);
      } finally {
        // a connection whose rollback failed is not given back to the pool
        client.release(broken instanceof Error ? broken : undefined);
      }
    },
    async connect(opts: { waits?: boolean } = {}) {
      const client = new pg.Client(opts.waits
        ? { ...config, statement_timeout: undefined, query_timeout: undefined, idle_in_transaction_session_timeout: undefined }
        : config);
      client.on('error', () => {});
      try {
        await client.connect();
      } catch (e) {
        throw wrap(e, url);
      }
      return client;
    },
    close: () => pool.end(),
  };
}
