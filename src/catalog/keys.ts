// Content keys of entries (migration 9's entry_keys): a 16-byte key id and a 16-byte content key
// per entry, random from crypto.randomBytes when an entry is created or imported without them,
// never derived from ids. The packager encrypts with them (src/drm), the key and licence routes
// hand them out; nothing logs them.
import { randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import type { Db } from './db.js';

export interface EntryKeys {
  /** 32 lower-case hex characters. */
  keyId: string;
  /** 32 lower-case hex characters. */
  key: string;
}

const HEX16 = /^[0-9a-fA-F]{32}$/;

/** What a library file may carry: the content key, and the key id or none (a random one is made). */
export type GivenEntryKeys = { key: string; keyId?: string };

/** True when the key (and the key id, if given) is 16 bytes of hex. */
export const validEntryKeys = (k: unknown): k is GivenEntryKeys =>
  !!k && typeof k === 'object' && HEX16.test(String((k as EntryKeys).key)) &&
  ((k as EntryKeys).keyId === undefined || HEX16.test(String((k as EntryKeys).keyId)));

/** The keys to store: the given ones (a random key id when none is given), else new random ones; lower-case hex. */
export function keysToStore(keys: GivenEntryKeys | undefined): EntryKeys {
  const random = () => randomBytes(16).toString('hex');
  return { keyId: (keys?.keyId ?? random()).toLowerCase(), key: (keys?.key ?? random()).toLowerCase() };
}

/**
 * Gives an entry its keys: `keys` when given (an import that carries them; they replace any), else
 * new random ones unless it has some already.
 */
export function storeEntryKeys(db: Db, entryId: string, keys?: GivenEntryKeys, now = Math.floor(Date.now() / 1000)): void {
  const k = keysToStore(keys);
  statementsOf(db)[keys ? 'replace' : 'insert'].run(entryId, k.keyId, k.key, now);
}

/** An entry's keys, or undefined when it has none yet. */
export function readEntryKeys(db: Db, entryId: string): EntryKeys | undefined {
  const r = statementsOf(db).read.get(entryId) as { key_id: string; content_key: string } | undefined;
  return r && { keyId: r.key_id, key: r.content_key };
}

// prepared once per connection: a library import asks these once per entry, and preparing costs
// more than running them
type Statement = Database.Statement<unknown[]>;
const prepared = new WeakMap<Db, { insert: Statement; replace: Statement; read: Statement }>();
function statementsOf(db: Db) {
  let s = prepared.get(db);
  if (!s) {
    const insert = 'INSERT INTO entry_keys (entry_id, key_id, content_key, created_at) VALUES (?, ?, ?, ?) ON CONFLICT(entry_id) DO';
    s = {
      insert: db.prepare(`${insert} NOTHING`),
      replace: db.prepare(`${insert} UPDATE SET key_id = excluded.key_id, content_key = excluded.content_key`),
      read: db.prepare('SELECT key_id, content_key FROM entry_keys WHERE entry_id = ?'),
    };
    prepared.set(db, s);
  }
  return s;
}
