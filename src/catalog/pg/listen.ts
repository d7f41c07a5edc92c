// Cross-node freshness: every row written to a catalog table is announced with NOTIFY in the
// writing transaction (the trigger of src/catalog/pg/migrate.ts), so every node hears a change as
// soon as it commits. One connection per node listens; while it is down (database restarted,
// network cut) the node cannot know what changed, so it says so ('*': anything may have changed)
// when it loses the connection and again when it has it back, and `live` is false in between:
// caches must not trust themselves then.
import type pg from 'pg';
import { CHANGE_CHANNEL } from './migrate.js';
import type { PgDb } from './pool.js';

export interface CatalogChange {
  /** The table written; '*' when changes may have been missed (the listener reconnected). */
  table: string;
  /** The row's key (id; revoked_sessions: key; kaltura_imports: entry_id; remote_files: flavor_asset_id). */
  key: string;
  /** The entry the row belongs to, for assets and jobs; null otherwise. */
  entryId: string | null;
  /** The application_name of the writing connection (a node's `kdeliver:<nodeId>`), null if unknown. */
  origin: string | null;
}

export const EVERYTHING: CatalogChange = Object.freeze({ table: '*', key: '', entryId: null, origin: null });

export interface ChangeListener {
  /** Resolves once the first LISTEN is in place. */
  readonly ready: Promise<void>;
  /** Whether changes are being heard right now. */
  readonly live: boolean;
  close(): Promise<void>;
}

/**
 * opts.heartbeatMs: how often the listening connection is checked with a query that must answer
 * within opts.heartbeatTimeoutMs; a connection cut without a word (a network partition) would
 * otherwise look alive for hours (TCP keepalive) while no change arrives.
 */
export function listenForChanges(db: PgDb, onChange: (c: CatalogChange) => void,
  opts: { retryMs?: number; heartbeatMs?: number; heartbeatTimeoutMs?: number } = {}): ChangeListener {
  const retryMs = opts.retryMs ?? 500;
  const heartbeatMs = opts.heartbeatMs ?? 500;
  const heartbeatTimeoutMs = opts.heartbeatTimeoutMs ?? 1000;
  let heartbeat: NodeJS.Timeout | undefined;
  let client: pg.Client | undefined;
  let live = false;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  let first = true;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });

  const lost = (c: pg.Client) => {
    if (client !== c) return;
    client = undefined;
    clearInterval(heartbeat);
    c.removeAllListeners('notification');
    c.end().catch(() => {});
    if (live) {
      live = false;
      onChange(EVERYTHING);
    }
    if (!closed) timer = setTimeout(connect, retryMs);
  };

  async function connect(): Promise<void> {
    timer = undefined;
    let c: pg.Client;
    try {
      c = await db.connect();
    } catch (e) {
      if (first) {
        first = false;
        rejectReady(e);
      }
      if (!closed) timer = setTimeout(connect, retryMs);
      return;
    }
    if (closed) {
      await c.end().catch(() => {});
      return;
    }
    client = c;
    c.on('notification', (msg) => {
      if (msg.channel !== CHANGE_CHANNEL || !msg.payload) return;
      let p: { t?: string; k?: string; e?: string | null; n?: string | null };
      try {
        p = JSON.parse(msg.payload);
      } catch {
        p = {};
      }
      onChange({ table: p.t ?? '*', key: p.k ?? '', entryId: p.e ?? null, origin: p.n ?? null });
    });
    c.on('error', () => lost(c));
    c.on('end', () => lost(c));
    try {
      await c.query(`LISTEN ${CHANGE_CHANNEL}`);
    } catch {
      lost(c);
      return;
    }
    live = true;
    heartbeat = setInterval(() => {
      let answered = false;
      const timer = setTimeout(() => !answered && lost(c), heartbeatTimeoutMs);
      c.query('SELECT 1').then(() => (answered = true), () => lost(c)).finally(() => clearTimeout(timer));
    }, heartbeatMs);
    heartbeat.unref();
    // what was written while no one listened is unknown
    if (!first) onChange(EVERYTHING);
    if (first) {
      first = false;
      resolveReady();
    }
  }

  void connect();
  return {
    ready,
    get live() {
      return live;
    },
    async close() {
      closed = true;
      live = false;
      if (timer) clearTimeout(timer);
      clearInterval(heartbeat);
      const c = client;
      client = undefined;
      if (c) await c.end().catch(() => {});
    },
  };
}
