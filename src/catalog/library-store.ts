// The SQLite LibraryStore (src/catalog/store.ts): the writes of `kdeliver import` (and of the
// sample library on first start) in one transaction, and the whole-catalog reads of `kdeliver
// export`.
import type { Db } from './db.js';
import { readEntryKeys, storeEntryKeys, type EntryKeys } from './keys.js';
import type { AccessControlProfile, ConversionProfile } from './types.js';
import { ENTRY_OWNED, LIBRARY_KEYS, OwnerConflictError, type LibraryRow, type HeldRecords, type LibraryStore, type LibraryTable, type LibraryWrite } from './store.js';
import { asyncMethods } from './async.js';

type Row = Record<string, any>;

/** How many entries between two progress calls of a write. */
const PROGRESS_EVERY = 250;

export function sqliteLibraryStore(db: Db, read: { allConversionProfiles(): ConversionProfile[]; allAccessControlProfiles(): AccessControlProfile[] }): LibraryStore {
  // one statement per table and column set, prepared on first use and kept (a library's rows of
  // one table share their columns, so an import of 100,000 entries prepares a handful)
  const upserts = new Map<string, ReturnType<Db['prepare']>>();
  const upsert = (table: LibraryTable, row: LibraryRow): number => {
    const cols = Object.keys(row);
    const id = `${table}(${cols.join(',')})`;
    let st = upserts.get(id);
    if (!st) {
      const key = LIBRARY_KEYS[table];
      st = db.prepare(`INSERT INTO ${table} (${cols.join(',')}) VALUES (${cols.map((c) => '@' + c).join(',')})
        ON CONFLICT(${key.join(',')}) DO UPDATE SET ${cols.filter((c) => !key.includes(c)).map((c) => `${c}=excluded.${c}`).join(',')}
        ${ENTRY_OWNED[table] ? `WHERE ${table}.entry_id = excluded.entry_id` : ''}`);
      upserts.set(id, st);
    }
    const bound: Record<string, unknown> = {};
    for (const c of cols) {
      const v = row[c];
      bound[c] = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    }
    return st.run(bound).changes;
  };
  const q = {
    deleteEntry: db.prepare('DELETE FROM entries WHERE id = ? RETURNING partner_id').pluck(),
    flavorEntry: db.prepare('SELECT entry_id FROM flavor_assets WHERE id = ?').pluck(),
    captionEntry: db.prepare('SELECT entry_id FROM caption_assets WHERE id = ?').pluck(),
    entryIds: db.prepare('SELECT id FROM entries ORDER BY partner_id, created_at, id').pluck(),
    heldEntries: db.prepare(`SELECT id, partner_id AS partnerId, version, data_file AS dataFile, thumbnail_file AS thumbnailFile
      FROM entries WHERE id IN (SELECT value FROM json_each(?))`),
    heldFlavors: db.prepare(`SELECT id, entry_id AS entryId, file_path AS filePath, size, version FROM flavor_assets
      WHERE id IN (SELECT value FROM json_each(?)) OR entry_id IN (SELECT value FROM json_each(?))`),
    heldCaptions: db.prepare(`SELECT id, entry_id AS entryId, file_path AS filePath FROM caption_assets
      WHERE id IN (SELECT value FROM json_each(?)) OR entry_id IN (SELECT value FROM json_each(?))`),
    heldThumbs: db.prepare(`SELECT entry_id AS entryId, file_path AS filePath FROM thumb_assets
      WHERE entry_id IN (SELECT value FROM json_each(?)) AND file_path <> ''`),
  };
  return asyncMethods({
    write: (writes: Iterable<LibraryWrite>, onEntries?: (done: number) => void): void => db.transaction(() => {
      // the keys of entries this write deletes, for their entryKeys write
      const before = new Map<string, EntryKeys | undefined>();
      let entries = 0;
      for (const w of writes) {
        if (w.op === 'deleteEntry') {
          if (!before.has(w.id)) before.set(w.id, readEntryKeys(db, w.id));
          const had = q.deleteEntry.get(w.id) as number | undefined;
          if (had !== undefined && had !== w.partnerId) throw new OwnerConflictError('entry', w.id, had, w.partnerId);
        } else if (w.op === 'entryKeys') {
          storeEntryKeys(db, w.entryId, w.keys ?? before.get(w.entryId), w.now);
          if (onEntries && ++entries % PROGRESS_EVERY === 0) onEntries(entries);
        } else {
          const owned = ENTRY_OWNED[w.table];
          if (upsert(w.table, w.row) === 0 && owned) {
            const heldBy = (owned === 'flavor' ? q.flavorEntry : q.captionEntry).get(w.row.id) as string;
            throw new OwnerConflictError(owned, w.row.id as string, heldBy, w.row.entry_id as string);
          }
        }
      }
      onEntries?.(entries);
    })(),
    entryKeys: (entryId: string): EntryKeys | undefined => readEntryKeys(db, entryId),
    allConversionProfiles: (): ConversionProfile[] => read.allConversionProfiles(),
    allAccessControlProfiles: (): AccessControlProfile[] => read.allAccessControlProfiles(),
    allEntryIds: (): string[] => q.entryIds.all() as string[],
    held: ({ entries, flavors, captions }: { entries: string[]; flavors: string[]; captions: string[] }): HeldRecords => {
      const e = JSON.stringify(entries);
      return {
        entries: q.heldEntries.all(e) as HeldRecords['entries'],
        flavors: q.heldFlavors.all(JSON.stringify(flavors), e) as HeldRecords['flavors'],
        captions: q.heldCaptions.all(JSON.stringify(captions), e) as HeldRecords['captions'],
        thumbs: q.heldThumbs.all(e) as HeldRecords['thumbs'],
      };
    },
  });
}
