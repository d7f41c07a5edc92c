// The catalog writes of `kdeliver import-kaltura` on PostgreSQL (the KalturaImportStore of
// src/catalog/store.ts): records keep the source's ids; an entry and all its assets are written
// in one transaction, after their files are complete in the media root.
import { ImportConflictError, type ImportedEntry, type KalturaImportStore } from '../store.js';
import type { AccessControlProfile, FlavorParams } from '../types.js';
import type { WriteFn } from './catalog.js';
import { storeEntryKeys } from './keys.js';
import { IMPORT_UPSERTS } from '../kaltura-import-sql.js';
import type { Queryable } from './pool.js';
import { all, one, run } from './sql.js';

const SQL = {
  ...IMPORT_UPSERTS,
  clearDefaultAcp: 'UPDATE access_control_profiles SET is_default = 0 WHERE partner_id = @partnerId AND id <> @id AND is_default <> 0',
};

async function checkIds(q: Queryable, entryId: string, partnerId: number, flavorIds: readonly string[], captionIds: readonly string[]): Promise<void> {
  const owner = async (table: string, id: string) => (await one(q, `SELECT entry_id FROM ${table} WHERE id = @id`, { id }))?.entry_id as string | undefined;
  const owned = async (table: string, id: string, mine: string, what: string) => {
    const o = await owner(table, id);
    if (o !== undefined && o !== mine) throw new ImportConflictError(`${what} ${id} exists here as an asset of entry ${o}`);
  };
  const p = (await one(q, 'SELECT partner_id FROM entries WHERE id = @entryId', { entryId }))?.partner_id as number | undefined;
  if (p !== undefined && p !== partnerId) throw new ImportConflictError(`entry ${entryId} exists here in partner ${p}`);
  for (const id of [...flavorIds, ...captionIds]) await owned('thumb_assets', id, '', 'asset id');
  for (const id of flavorIds) { await owned('flavor_assets', id, entryId, 'flavor asset'); await owned('caption_assets', id, '', 'flavor asset'); }
  for (const id of captionIds) { await owned('caption_assets', id, entryId, 'caption asset'); await owned('flavor_assets', id, '', 'caption asset'); }
}

export function pgImportStore(db: Queryable, write: WriteFn): KalturaImportStore {
  return {
    async importRecord(entryId) {
      const r = await one(db, 'SELECT * FROM kaltura_imports WHERE entry_id = @entryId', { entryId });
      return r && { entryId: r.entry_id, serviceUrl: r.service_url, sourcePartnerId: r.source_partner_id, sourceUpdatedAt: r.source_updated_at };
    },
    checkIds: (entryId, partnerId, flavorIds, captionIds) => checkIds(db, entryId, partnerId, flavorIds, captionIds),
    putFlavorParams: (list: readonly FlavorParams[]) => write(async (tx) => {
      for (const fp of list) await run(tx, SQL.upsertFlavorParams, { ...fp, tags: fp.tags.join(',') });
    }),
    putAccessControlProfile: (p: AccessControlProfile) => write(async (tx) => {
      const owner = (await one(tx, 'SELECT partner_id FROM access_control_profiles WHERE id = @id FOR UPDATE', { id: p.id }))?.partner_id as number | undefined;
      if (owner !== undefined && owner !== p.partnerId) throw new ImportConflictError(`access-control profile ${p.id} exists here in partner ${owner}`);
      await run(tx, SQL.upsertAcp, { ...p, rules: JSON.stringify(p.rules) });
      if (p.isDefault) await run(tx, SQL.clearDefaultAcp, { partnerId: p.partnerId, id: p.id });
    }),
    putEntry: (x: ImportedEntry, now: number) => write(async (tx) => {
      const e = x.entry;
      // one import of an entry at a time (SQLite: BEGIN IMMEDIATE): the id checks hold until commit
      await tx.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`kaltura-import:${e.id}`]);
      await checkIds(tx, e.id, e.partnerId, x.flavors.map((f) => f.id), x.captions.map((c) => c.id));
      const before = new Set<string>();
      for (const r of await all(tx, `SELECT file_path AS p FROM flavor_assets WHERE entry_id = @id UNION ALL SELECT file_path FROM caption_assets
        WHERE entry_id = @id UNION ALL SELECT thumbnail_file FROM entries WHERE id = @id`, { id: e.id })) if (r.p) before.add(r.p);
      await run(tx, SQL.upsertEntry, { ...e });
      await storeEntryKeys(tx, e.id, undefined, now);
      const keepFlavors = new Set(x.flavors.map((f) => f.id));
      for (const r of await all(tx, 'SELECT id FROM flavor_assets WHERE entry_id = @id', { id: e.id })) {
        if (!keepFlavors.has(r.id)) await run(tx, 'DELETE FROM flavor_assets WHERE id = @id', { id: r.id });
      }
      for (const f of x.flavors) await run(tx, SQL.upsertFlavor, { ...f, tags: f.tags.join(',') });
      const keepCaptions = new Set(x.captions.map((c) => c.id));
      for (const r of await all(tx, 'SELECT id FROM caption_assets WHERE entry_id = @id', { id: e.id })) {
        if (!keepCaptions.has(r.id)) await run(tx, 'DELETE FROM caption_assets WHERE id = @id', { id: r.id });
      }
      for (const c of x.captions) await run(tx, SQL.upsertCaption, { ...c });
      await run(tx, SQL.upsertRecord, { ...x.source, now });
      // a thumbnail asset added here through the API keeps its file
      const thumbs = (await all(tx, "SELECT file_path FROM thumb_assets WHERE entry_id = @id AND file_path <> ''", { id: e.id })).map((r) => r.file_path as string);
      const after = new Set([...thumbs, ...x.flavors.map((f) => f.filePath), ...x.captions.map((c) => c.filePath), ...(e.thumbnailFile ? [e.thumbnailFile] : [])]);
      return [...before].filter((p) => !after.has(p));
    }),
  };
}
