// The SQLite KalturaImportStore (src/catalog/store.ts): the catalog writes of `kdeliver import-kaltura` (src/import): records that keep the source's
// ids (entries, flavor and caption assets, flavor params, access-control profiles), and the
// import state of each entry (migration 8). An entry and all its assets are written in one
// transaction, after their files are complete in the media root, so that a reader (the server,
// a kill -9 of the importer) sees either the entry as it was or the entry as imported.
import { storeEntryKeys } from './keys.js';
import type { Db } from './db.js';
import type { AccessControlProfile, FlavorParams } from './types.js';
import { ImportConflictError, type ImportedEntry, type ImportRecord, type KalturaImportStore } from './store.js';
import { asyncMethods } from './async.js';
import { IMPORT_UPSERTS } from './kaltura-import-sql.js';

type Row = Record<string, any>;

const bool = (b: boolean) => (b ? 1 : 0);

function syncImportStore(db: Db) {
  const q = {
    record: db.prepare('SELECT * FROM kaltura_imports WHERE entry_id = ?'),
    upsertRecord: db.prepare(IMPORT_UPSERTS.upsertRecord),
    entryPartner: db.prepare('SELECT partner_id FROM entries WHERE id = ?'),
    flavorOwner: db.prepare('SELECT entry_id FROM flavor_assets WHERE id = ?'),
    captionOwner: db.prepare('SELECT entry_id FROM caption_assets WHERE id = ?'),
    thumbOwner: db.prepare('SELECT entry_id FROM thumb_assets WHERE id = ?'),
    acpPartner: db.prepare('SELECT partner_id FROM access_control_profiles WHERE id = ?'),
    clearDefaultAcp: db.prepare('UPDATE access_control_profiles SET is_default = 0 WHERE partner_id = ? AND id <> ?'),
    upsertFlavorParams: db.prepare(IMPORT_UPSERTS.upsertFlavorParams),
    upsertAcp: db.prepare(IMPORT_UPSERTS.upsertAcp),
    upsertEntry: db.prepare(IMPORT_UPSERTS.upsertEntry),
    paths: db.prepare(`SELECT file_path FROM flavor_assets WHERE entry_id = @id UNION ALL SELECT file_path FROM caption_assets
      WHERE entry_id = @id UNION ALL SELECT thumbnail_file FROM entries WHERE id = @id`).pluck(),
    thumbPaths: db.prepare("SELECT file_path FROM thumb_assets WHERE entry_id = ? AND file_path <> ''").pluck(),
    flavorIds: db.prepare('SELECT id FROM flavor_assets WHERE entry_id = ?').pluck(),
    deleteFlavor: db.prepare('DELETE FROM flavor_assets WHERE id = ?'),
    upsertFlavor: db.prepare(IMPORT_UPSERTS.upsertFlavor),
    captionIds: db.prepare('SELECT id FROM caption_assets WHERE entry_id = ?').pluck(),
    deleteCaption: db.prepare('DELETE FROM caption_assets WHERE id = ?'),
    upsertCaption: db.prepare(IMPORT_UPSERTS.upsertCaption),
  };

  const owned = (st: typeof q.flavorOwner, id: string, entryId: string, what: string) => {
    const owner = (st.get(id) as Row | undefined)?.entry_id as string | undefined;
    if (owner !== undefined && owner !== entryId) throw new ImportConflictError(`${what} ${id} exists here as an asset of entry ${owner}`);
  };

  /**
   * Throws ImportConflictError when the entry's id, or one of its asset ids, belongs here to
   * another partner or entry (the import never takes over records that are not its own).
   */
  const checkIds = (entryId: string, partnerId: number, flavorIds: readonly string[], captionIds: readonly string[]): void => {
    const p = (q.entryPartner.get(entryId) as Row | undefined)?.partner_id as number | undefined;
    if (p !== undefined && p !== partnerId) throw new ImportConflictError(`entry ${entryId} exists here in partner ${p}`);
    for (const id of [...flavorIds, ...captionIds]) owned(q.thumbOwner, id, '', 'asset id');
    for (const id of flavorIds) { owned(q.flavorOwner, id, entryId, 'flavor asset'); owned(q.captionOwner, id, '', 'flavor asset'); }
    for (const id of captionIds) { owned(q.captionOwner, id, entryId, 'caption asset'); owned(q.flavorOwner, id, '', 'caption asset'); }
  };

  return {
    /** The import state of an entry, if it was imported before. */
    importRecord(entryId: string): ImportRecord | undefined {
      const r = q.record.get(entryId) as Row | undefined;
      return r && { entryId: r.entry_id, serviceUrl: r.service_url, sourcePartnerId: r.source_partner_id, sourceUpdatedAt: r.source_updated_at };
    },
    checkIds,
    /** Writes flavor params under the source's id (they are system-wide, as Kaltura's are). */
    putFlavorParams(list: readonly FlavorParams[]): void {
      db.transaction(() => {
        for (const fp of list) q.upsertFlavorParams.run({ ...fp, tags: fp.tags.join(',') });
      })();
    },
    /** Writes an access-control profile under the source's id; refused if another partner's profile has it. */
    putAccessControlProfile(p: AccessControlProfile): void {
      db.transaction(() => {
        const owner = (q.acpPartner.get(p.id) as Row | undefined)?.partner_id as number | undefined;
        if (owner !== undefined && owner !== p.partnerId) throw new ImportConflictError(`access-control profile ${p.id} exists here in partner ${owner}`);
        q.upsertAcp.run({ ...p, isDefault: bool(p.isDefault), rules: JSON.stringify(p.rules) });
        // the partner has one default profile, as on the source
        if (p.isDefault) q.clearDefaultAcp.run(p.partnerId, p.id);
      })();
    },
    /**
     * Writes an entry with exactly these flavor and caption assets (others it had are removed)
     * and its import state, in one transaction. Returns the media paths the entry no longer names.
     */
    putEntry(x: ImportedEntry, now: number): string[] {
      return db.transaction(() => {
        const e = x.entry;
        checkIds(e.id, e.partnerId, x.flavors.map((f) => f.id), x.captions.map((c) => c.id));
        const before = new Set<string>();
        for (const p of q.paths.all({ id: e.id }) as (string | null)[]) if (p) before.add(p);
        q.upsertEntry.run(e);
        storeEntryKeys(db, e.id, undefined, now);
        const keepFlavors = new Set(x.flavors.map((f) => f.id));
        for (const id of q.flavorIds.all(e.id) as string[]) if (!keepFlavors.has(id)) q.deleteFlavor.run(id);
        for (const f of x.flavors) q.upsertFlavor.run({ ...f, tags: f.tags.join(','), isDefault: bool(f.isDefault), isOriginal: bool(f.isOriginal) });
        const keepCaptions = new Set(x.captions.map((c) => c.id));
        for (const id of q.captionIds.all(e.id) as string[]) if (!keepCaptions.has(id)) q.deleteCaption.run(id);
        for (const c of x.captions) q.upsertCaption.run({ ...c, isDefault: bool(c.isDefault), displayOnPlayer: bool(c.displayOnPlayer) });
        q.upsertRecord.run({ ...x.source, now });
        // a thumbnail asset added here through the API keeps its file
        const after = new Set([...(q.thumbPaths.all(e.id) as string[]), ...x.flavors.map((f) => f.filePath), ...x.captions.map((c) => c.filePath), ...(e.thumbnailFile ? [e.thumbnailFile] : [])]);
        return [...before].filter((p) => !after.has(p));
      }).immediate();
    },
  };
}

/** The KalturaImportStore over an open SQLite catalog database. */
export function sqliteImportStore(db: Db): KalturaImportStore {
  return asyncMethods(syncImportStore(db));
}
