// The catalog writes of `kdeliver import-kaltura` on PostgreSQL (the KalturaImportStore of
// src/catalog/store.ts): records keep the source's ids; an entry and all its assets are written
// in one transaction, after their files are complete in the media root.
import { ImportConflictError, type ImportedEntry, type KalturaImportStore } from '../store.js';
import type { AccessControlProfile, FlavorParams } from '../types.js';
import type { WriteFn } from './catalog.js';
import { storeEntryKeys } from './keys.js';
import type { Queryable } from './pool.js';
import { all, one, run } from './sql.js';

const SQL = {
  upsertFlavorParams: `INSERT INTO flavor_params (id, name, tags, format, video_codec, audio_codec, width, height,
    video_bitrate, audio_bitrate, frame_rate) VALUES (@id, @name, @tags, @format, @videoCodec, @audioCodec, @width, @height,
    @videoBitrate, @audioBitrate, @frameRate)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, tags = excluded.tags, format = excluded.format,
    video_codec = excluded.video_codec, audio_codec = excluded.audio_codec, width = excluded.width, height = excluded.height,
    video_bitrate = excluded.video_bitrate, audio_bitrate = excluded.audio_bitrate, frame_rate = excluded.frame_rate`,
  upsertAcp: `INSERT INTO access_control_profiles (id, partner_id, name, system_name, description, is_default, rules,
    created_at, updated_at) VALUES (@id, @partnerId, @name, @systemName, @description, @isDefault, @rules, @createdAt, @updatedAt)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, system_name = excluded.system_name, description = excluded.description,
    is_default = excluded.is_default, rules = excluded.rules, updated_at = excluded.updated_at`,
  upsertEntry: `INSERT INTO entries (id, partner_id, name, description, type, media_type, status, duration,
    moderation_status, start_date, end_date, access_control_profile_id, tags, admin_tags, user_id, reference_id, created_at,
    updated_at, version, data_file, thumbnail_file, redirect_entry_id, partner_data)
    VALUES (@id, @partnerId, @name, @description, @type, @mediaType, @status, @duration, @moderationStatus, @startDate, @endDate,
    @accessControlProfileId, @tags, @adminTags, @userId, @referenceId, @createdAt, @updatedAt, @version, @dataFile,
    @thumbnailFile, @redirectEntryId, @partnerData)
    ON CONFLICT (id) DO UPDATE SET name = excluded.name, description = excluded.description, type = excluded.type,
    media_type = excluded.media_type, status = excluded.status, duration = excluded.duration,
    moderation_status = excluded.moderation_status, start_date = excluded.start_date, end_date = excluded.end_date,
    access_control_profile_id = excluded.access_control_profile_id, tags = excluded.tags, admin_tags = excluded.admin_tags,
    user_id = excluded.user_id, reference_id = excluded.reference_id, created_at = excluded.created_at,
    updated_at = excluded.updated_at, version = excluded.version, data_file = excluded.data_file,
    thumbnail_file = excluded.thumbnail_file, redirect_entry_id = excluded.redirect_entry_id, partner_data = excluded.partner_data`,
  upsertFlavor: `INSERT INTO flavor_assets (id, entry_id, partner_id, flavor_params_id, file_path, size,
    container_format, file_ext, video_codec, audio_codec, codecs, width, height, bitrate, frame_rate, duration_ms, language,
    label, is_default, tags, status, version, is_original, created_at, updated_at)
    VALUES (@id, @entryId, @partnerId, @flavorParamsId, @filePath, @size, @containerFormat, @fileExt, @videoCodec, @audioCodec,
    @codecs, @width, @height, @bitrate, @frameRate, @durationMs, @language, @label, @isDefault, @tags, @status, @version,
    @isOriginal, @createdAt, @updatedAt)
    ON CONFLICT (id) DO UPDATE SET flavor_params_id = excluded.flavor_params_id, file_path = excluded.file_path,
    size = excluded.size, container_format = excluded.container_format, file_ext = excluded.file_ext,
    video_codec = excluded.video_codec, audio_codec = excluded.audio_codec, codecs = excluded.codecs, width = excluded.width,
    height = excluded.height, bitrate = excluded.bitrate, frame_rate = excluded.frame_rate, duration_ms = excluded.duration_ms,
    language = excluded.language, label = excluded.label, is_default = excluded.is_default, tags = excluded.tags,
    status = excluded.status, version = excluded.version, is_original = excluded.is_original,
    created_at = excluded.created_at, updated_at = excluded.updated_at`,
  upsertCaption: `INSERT INTO caption_assets (id, entry_id, partner_id, language, language_code, label, format,
    file_path, size, is_default, status, version, display_on_player, created_at, updated_at)
    VALUES (@id, @entryId, @partnerId, @language, @languageCode, @label, @format, @filePath, @size, @isDefault, @status,
    @version, @displayOnPlayer, @createdAt, @updatedAt)
    ON CONFLICT (id) DO UPDATE SET language = excluded.language, language_code = excluded.language_code, label = excluded.label,
    format = excluded.format, file_path = excluded.file_path, size = excluded.size, is_default = excluded.is_default,
    status = excluded.status, version = excluded.version, display_on_player = excluded.display_on_player,
    created_at = excluded.created_at, updated_at = excluded.updated_at`,
  upsertRecord: `INSERT INTO kaltura_imports (entry_id, service_url, source_partner_id, source_updated_at, imported_at)
    VALUES (@entryId, @serviceUrl, @sourcePartnerId, @sourceUpdatedAt, @now)
    ON CONFLICT (entry_id) DO UPDATE SET service_url = excluded.service_url, source_partner_id = excluded.source_partner_id,
    source_updated_at = excluded.source_updated_at, imported_at = excluded.imported_at`,
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
