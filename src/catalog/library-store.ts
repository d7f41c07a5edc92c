// The SQLite LibraryStore (src/catalog/store.ts): the writes of `kdeliver import` (and of the
// sample library on first start) in one transaction, and the whole-catalog reads of `kdeliver
// export`.
import type { Db } from './db.js';
import { readEntryKeys, storeEntryKeys, type EntryKeys } from './keys.js';
import type { AccessControlProfile, ConversionProfile } from './types.js';
import type { LibraryRow, LibraryStore, LibraryTable, LibraryWrite } from './store.js';
import { asyncMethods } from './async.js';
import { LibraryError, ownerProblem } from './library.js';

type Row = Record<string, any>;

/** How many entries between two progress calls of a write. */
const PROGRESS_EVERY = 250;

/** The primary key of each table a library writes. */
const KEYS: Record<LibraryTable, string[]> = {
  partners: ['id'], flavor_params: ['id'], conversion_profiles: ['id'], delivery_profiles: ['id'], storage_profiles: ['id'],
  access_control_profiles: ['id'], ui_confs: ['id'], entries: ['id'], flavor_assets: ['id'], caption_assets: ['id'],
  remote_files: ['flavor_asset_id', 'storage_profile_id'],
};

export function sqliteLibraryStore(db: Db, read: { allConversionProfiles(): ConversionProfile[]; allAccessControlProfiles(): AccessControlProfile[] }): LibraryStore {
  // one statement per table and column set, prepared on first use and kept (a library's rows of
  // one table share their columns, so an import of 100,000 entries prepares a handful)
  const upserts = new Map<string, ReturnType<Db['prepare']>>();
  const upsert = (table: LibraryTable, row: LibraryRow) => {
    const cols = Object.keys(row);
    const id = `${table}(${cols.join(',')})`;
    let st = upserts.get(id);
    if (!st) {
      const key = KEYS[table];
      st = db.prepare(`INSERT INTO ${table} (${cols.join(',')}) VALUES (${cols.map((c) => '@' + c).join(',')})
        ON CONFLICT(${key.join(',')}) DO UPDATE SET ${cols.filter((c) => !key.includes(c)).map((c) => `${c}=excluded.${c}`).join(',')}`);
      upserts.set(id, st);
    }
    const bound: Record<string, unknown> = {};
    for (const c of cols) {
      const v = row[c];
      bound[c] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    }
    st.run(bound);
  };
  const q = {
    deleteEntry: db.prepare('DELETE FROM entries WHERE id = ?'),
    entryPartner: db.prepare('SELECT partner_id FROM entries WHERE id = ?').pluck(),
    flavorEntry: db.prepare('SELECT entry_id FROM flavor_assets WHERE id = ?').pluck(),
    captionEntry: db.prepare('SELECT entry_id FROM caption_assets WHERE id = ?').pluck(),
    entryIds: db.prepare('SELECT id FROM entries ORDER BY partner_id, created_at, id').pluck(),
  };
  return asyncMethods({
    write: (writes: Iterable<LibraryWrite>, onEntries?: (done: number) => void): void => db.transaction(() => {
      // the keys of entries this write deletes, for their entryKeys write
      const before = new Map<string, EntryKeys | undefined>();
      let entries = 0;
      for (const w of writes) {
        if (w.op === 'deleteEntry') {
          const owner = ownerProblem('entry', w.id, q.entryPartner.get(w.id) as number | undefined, w.partnerId);
          if (owner) throw new LibraryError(owner);
          if (!before.has(w.id)) before.set(w.id, readEntryKeys(db, w.id));
          q.deleteEntry.run(w.id);
        } else if (w.op === 'entryKeys') {
          storeEntryKeys(db, w.entryId, w.keys ?? before.get(w.entryId), w.now);
          if (onEntries && ++entries % PROGRESS_EVERY === 0) onEntries(entries);
        } else {
          // the entry's own flavors and captions went with its deleteEntry: one still here is another entry's
          const held = w.table === 'flavor_assets' ? q.flavorEntry : w.table === 'caption_assets' ? q.captionEntry : null;
          const owner = held && ownerProblem(w.table === 'flavor_assets' ? 'flavor' : 'caption', w.row.id as string, held.get(w.row.id) as string | undefined, w.row.entry_id as string);
          if (owner) throw new LibraryError(owner);
          upsert(w.table, w.row);
        }
      }
      onEntries?.(entries);
    })(),
    entryKeys: (entryId: string): EntryKeys | undefined => readEntryKeys(db, entryId),
    allConversionProfiles: (): ConversionProfile[] => read.allConversionProfiles(),
    allAccessControlProfiles: (): AccessControlProfile[] => read.allAccessControlProfiles(),
    allEntryIds: (): string[] => q.entryIds.all() as string[],
  });
}
