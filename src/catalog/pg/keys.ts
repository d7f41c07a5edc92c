// Content keys of entries on PostgreSQL (migration 9's entry_keys; src/catalog/keys.ts says what
// they are): the same statement as the SQLite side, in the caller's transaction.
import { keysToStore, type EntryKeys, type GivenEntryKeys } from '../keys.js';
import type { Queryable } from './pool.js';
import { one, run } from './sql.js';

/** Gives an entry its keys: `keys` when given (they replace any), else new random ones unless it has some. */
export async function storeEntryKeys(tx: Queryable, entryId: string, keys: GivenEntryKeys | undefined, now: number): Promise<void> {
  const k = keysToStore(keys);
  await run(tx, `INSERT INTO entry_keys (entry_id, key_id, content_key, created_at) VALUES (@entryId, @keyId, @key, @now)
    ON CONFLICT (entry_id) DO ${keys ? 'UPDATE SET key_id = excluded.key_id, content_key = excluded.content_key' : 'NOTHING'}`,
  { entryId, keyId: k.keyId, key: k.key, now });
}

/** An entry's keys, or undefined when it has none yet. */
export async function readEntryKeys(q: Queryable, entryId: string): Promise<EntryKeys | undefined> {
  const r = await one(q, 'SELECT key_id, content_key FROM entry_keys WHERE entry_id = @entryId', { entryId });
  return r && { keyId: r.key_id, key: r.content_key };
}
