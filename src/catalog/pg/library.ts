// The library store on PostgreSQL: the writes of `kdeliver import` (and the sample library on
// first start) in one transaction, and the whole-catalog reads of `kdeliver export`.
import { ENTRY_OWNED, LIBRARY_KEYS, OwnerConflictError, type LibraryRow, type HeldRecords, type LibraryStore, type LibraryTable, type LibraryWrite } from '../store.js';
import type { WriteFn } from './catalog.js';
import type { Queryable } from './pool.js';
import type { EntryKeys } from '../keys.js';
import { readEntryKeys, storeEntryKeys } from './keys.js';
import { toAcp, toConversionProfile } from '../rows.js';
import { all, run } from './sql.js';

const COLUMN = /^[a-z_][a-z0-9_]*$/;

function upsert(tx: Queryable, table: LibraryTable, row: LibraryRow): Promise<number> {
  const key = LIBRARY_KEYS[table];
  if (!key) throw new Error(`library write to an unknown table ${table}`);
  const cols = Object.keys(row);
  for (const c of cols) if (!COLUMN.test(c)) throw new Error(`library write with a bad column name ${JSON.stringify(c)}`);
  const update = cols.filter((c) => !key.includes(c));
  const sql = `INSERT INTO ${table} (${cols.join(',')}) VALUES (${cols.map((c) => '@' + c).join(',')})
    ON CONFLICT (${key.join(',')}) DO ${update.length ? `UPDATE SET ${update.map((c) => `${c} = excluded.${c}`).join(',')}` : 'NOTHING'}
    ${ENTRY_OWNED[table] ? `WHERE ${table}.entry_id = excluded.entry_id` : ''}`;
  return run(tx, sql, row);
}

export function pgLibraryStore(db: Queryable, write: WriteFn): LibraryStore {
  return {
    write: (writes: Iterable<LibraryWrite>, onEntries?: (done: number) => void) => write(async (tx) => {
      // the keys of entries this write deletes, for their entryKeys write
      const before = new Map<string, EntryKeys | undefined>();
      let entries = 0;
      for (const w of writes) {
        if (w.op === 'deleteEntry') {
          if (!before.has(w.id)) before.set(w.id, await readEntryKeys(tx, w.id));
          // flavors, captions and keys go with their entry (ON DELETE CASCADE)
          const had = (await all(tx, 'DELETE FROM entries WHERE id = @id RETURNING partner_id', { id: w.id }))[0];
          if (had !== undefined && Number(had.partner_id) !== w.partnerId) throw new OwnerConflictError('entry', w.id, Number(had.partner_id), w.partnerId);
        } else if (w.op === 'entryKeys') {
          await storeEntryKeys(tx, w.entryId, w.keys ?? before.get(w.entryId), w.now);
          if (onEntries && ++entries % 250 === 0) onEntries(entries);
        } else {
          const owned = ENTRY_OWNED[w.table];
          if ((await upsert(tx, w.table, w.row)) === 0 && owned) {
            const held = (await all(tx, `SELECT entry_id FROM ${w.table} WHERE id = @id`, { id: w.row.id }))[0];
            throw new OwnerConflictError(owned, w.row.id as string, held?.entry_id as string, w.row.entry_id as string);
          }
        }
      }
      onEntries?.(entries);
    }),
    entryKeys: (entryId) => readEntryKeys(db, entryId),
    allConversionProfiles: async () => (await all(db, 'SELECT * FROM conversion_profiles ORDER BY id')).map(toConversionProfile),
    allAccessControlProfiles: async () => (await all(db, 'SELECT * FROM access_control_profiles ORDER BY id')).map(toAcp),
    allEntryIds: async () => (await all(db, 'SELECT id FROM entries ORDER BY partner_id, created_at, id')).map((r) => r.id as string),
    held: async ({ entries, flavors, captions }): Promise<HeldRecords> => {
      const [e, f, c, th] = await Promise.all([
        all(db, 'SELECT id, partner_id, version, data_file, thumbnail_file FROM entries WHERE id = ANY(@e)', { e: entries }),
        all(db, 'SELECT id, entry_id, file_path, size, version FROM flavor_assets WHERE id = ANY(@f) OR entry_id = ANY(@e)', { f: flavors, e: entries }),
        all(db, 'SELECT id, entry_id, file_path FROM caption_assets WHERE id = ANY(@c) OR entry_id = ANY(@e)', { c: captions, e: entries }),
        all(db, "SELECT entry_id, file_path FROM thumb_assets WHERE entry_id = ANY(@e) AND file_path <> ''", { e: entries }),
      ]);
      return {
        entries: e.map((r) => ({ id: String(r.id), partnerId: Number(r.partner_id), version: Number(r.version), dataFile: (r.data_file as string | null) ?? null, thumbnailFile: (r.thumbnail_file as string | null) ?? null })),
        flavors: f.map((r) => ({ id: String(r.id), entryId: String(r.entry_id), filePath: String(r.file_path), size: Number(r.size), version: Number(r.version) })),
        captions: c.map((r) => ({ id: String(r.id), entryId: String(r.entry_id), filePath: String(r.file_path) })),
        thumbs: th.map((r) => ({ entryId: String(r.entry_id), filePath: String(r.file_path) })),
      };
    },
  };
}
