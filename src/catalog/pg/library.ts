// The library store on PostgreSQL: the writes of `kdeliver import` (and the sample library on
// first start) in one transaction, and the whole-catalog reads of `kdeliver export`.
import type { LibraryRow, LibraryStore, LibraryTable, LibraryWrite } from '../store.js';
import type { WriteFn } from './catalog.js';
import type { Queryable } from './pool.js';
import type { EntryKeys } from '../keys.js';
import { readEntryKeys, storeEntryKeys } from './keys.js';
import { toAcp, toConversionProfile } from '../rows.js';
import { all, run } from './sql.js';
import { LibraryError, ownerProblem } from '../library.js';

/** The primary key of each table a library writes. */
const KEYS: Record<LibraryTable, string[]> = {
  partners: ['id'], flavor_params: ['id'], conversion_profiles: ['id'], delivery_profiles: ['id'], storage_profiles: ['id'],
  access_control_profiles: ['id'], ui_confs: ['id'], entries: ['id'], flavor_assets: ['id'], caption_assets: ['id'],
  remote_files: ['flavor_asset_id', 'storage_profile_id'],
};
const COLUMN = /^[a-z_][a-z0-9_]*$/;

function upsert(tx: Queryable, table: LibraryTable, row: LibraryRow): Promise<number> {
  const key = KEYS[table];
  if (!key) throw new Error(`library write to an unknown table ${table}`);
  const cols = Object.keys(row);
  for (const c of cols) if (!COLUMN.test(c)) throw new Error(`library write with a bad column name ${JSON.stringify(c)}`);
  const update = cols.filter((c) => !key.includes(c));
  const sql = `INSERT INTO ${table} (${cols.join(',')}) VALUES (${cols.map((c) => '@' + c).join(',')})
    ON CONFLICT (${key.join(',')}) DO ${update.length ? `UPDATE SET ${update.map((c) => `${c} = excluded.${c}`).join(',')}` : 'NOTHING'}`;
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
          const had = (await all(tx, 'SELECT partner_id FROM entries WHERE id = @id', { id: w.id }))[0];
          const owner = ownerProblem('entry', w.id, had === undefined ? undefined : Number(had.partner_id), w.partnerId);
          if (owner) throw new LibraryError(owner);
          if (!before.has(w.id)) before.set(w.id, await readEntryKeys(tx, w.id));
          // flavors, captions and keys go with their entry (ON DELETE CASCADE)
          await run(tx, 'DELETE FROM entries WHERE id = @id', { id: w.id });
        } else if (w.op === 'entryKeys') {
          await storeEntryKeys(tx, w.entryId, w.keys ?? before.get(w.entryId), w.now);
          if (onEntries && ++entries % 250 === 0) onEntries(entries);
        } else {
          // the entry's own flavors and captions went with its deleteEntry: one still here is another entry's
          if (w.table === 'flavor_assets' || w.table === 'caption_assets') {
            const had = (await all(tx, `SELECT entry_id FROM ${w.table} WHERE id = @id`, { id: w.row.id }))[0];
            const owner = ownerProblem(w.table === 'flavor_assets' ? 'flavor' : 'caption', w.row.id as string, had?.entry_id as string | undefined, w.row.entry_id as string);
            if (owner) throw new LibraryError(owner);
          }
          await upsert(tx, w.table, w.row);
        }
      }
      onEntries?.(entries);
    }),
    entryKeys: (entryId) => readEntryKeys(db, entryId),
    allConversionProfiles: async () => (await all(db, 'SELECT * FROM conversion_profiles ORDER BY id')).map(toConversionProfile),
    allAccessControlProfiles: async () => (await all(db, 'SELECT * FROM access_control_profiles ORDER BY id')).map(toAcp),
    allEntryIds: async () => (await all(db, 'SELECT id FROM entries ORDER BY partner_id, created_at, id')).map((r) => r.id as string),
  };
}
