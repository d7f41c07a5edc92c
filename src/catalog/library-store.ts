// The SQLite LibraryStore (src/catalog/store.ts): the writes of `kdeliver import` (and of the
// sample library on first start) in one transaction, and the whole-catalog reads of `kdeliver
// export`.
import type { Db } from './db.js';
import { readEntryKeys, storeEntryKeys, type EntryKeys } from './keys.js';
import type { AccessControlProfile, ConversionProfile } from './types.js';
import type { LibraryRow, LibraryStore, LibraryTable, LibraryWrite } from './store.js';
import { asyncMethods } from './async.js';

type Row = Record<string, any>;

/** The primary key of each table a library writes. */
const KEYS: Record<LibraryTable, string[]> = {
  partners: ['id'], flavor_params: ['id'], conversion_profiles: ['id'], delivery_profiles: ['id'], storage_profiles: ['id'],
  access_control_profiles: ['id'], ui_confs: ['id'], entries: ['id'], flavor_assets: ['id'], caption_assets: ['id'],
  remote_files: ['flavor_asset_id', 'storage_profile_id'],
};

export function sqliteLibraryStore(db: Db, read: { allConversionProfiles(): ConversionProfile[]; allAccessControlProfiles(): AccessControlProfile[] }): LibraryStore {
  // one statement per table and column set, prepared on first use and kept
  const upserts = new Map<string, ReturnType<Db['prepare']>>();
  const upsert = (table: LibraryTable, row: LibraryRow) => {
    const cols = Object.keys(row);
    const key = KEYS[table];
    const sql = `INSERT INTO ${table} (${cols.join(',')}) VALUES (${cols.map((c) => '@' + c).join(',')})
      ON CONFLICT(${key.join(',')}) DO UPDATE SET ${cols.filter((c) => !key.includes(c)).map((c) => `${c}=excluded.${c}`).join(',')}`;
    let st = upserts.get(sql);
    if (!st) upserts.set(sql, (st = db.prepare(sql)));
    const bound: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(row)) bound[k] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    st.run(bound);
  };
  const q = {
    deleteEntry: db.prepare('DELETE FROM entries WHERE id = ?'),
    entryIds: db.prepare('SELECT id FROM entries ORDER BY partner_id, created_at, id').pluck(),
  };
  return asyncMethods({
    write: (writes: readonly LibraryWrite[]): void => db.transaction(() => {
      // the keys of entries this write deletes, for their entryKeys write
      const before = new Map<string, EntryKeys | undefined>();
      for (const w of writes) {
        if (w.op === 'deleteEntry') {
          if (!before.has(w.id)) before.set(w.id, readEntryKeys(db, w.id));
          q.deleteEntry.run(w.id);
        } else if (w.op === 'entryKeys') storeEntryKeys(db, w.entryId, w.keys ?? before.get(w.entryId), w.now);
        else upsert(w.table, w.row);
      }
    })(),
    entryKeys: (entryId: string): EntryKeys | undefined => readEntryKeys(db, entryId),
    allConversionProfiles: (): ConversionProfile[] => read.allConversionProfiles(),
    allAccessControlProfiles: (): AccessControlProfile[] => read.allAccessControlProfiles(),
    allEntryIds: (): string[] => q.entryIds.all() as string[],
  });
}
