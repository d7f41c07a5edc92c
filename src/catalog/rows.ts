// Catalog rows as records, for both backends: PostgreSQL gives the same columns as SQLite
// (src/catalog/pg/dialect.ts: integers as numbers, booleans as 0/1), so one mapper per table
// serves both (test/catalog/contract.test.ts compares every read of the two).
import type { IngestJob, UploadToken } from './store.js';
import type {
  AccessControlProfile, CaptionAsset, ConversionProfile, DeliveryProfile, Entry, FlavorAsset, FlavorParams, Partner,
  StorageProfile, ThumbAsset, UiConf,
} from './types.js';

export type Row = Record<string, any>;

/**
 * Rows of one statement as records of one shape: an object literal with the statement's columns,
 * compiled once and filled from the row's values (better-sqlite3's `.raw()` arrays). better-sqlite3
 * builds each row object one property at a time from C++, which costs about as much as reading
 * the row: on a million-entry catalog, an entry with its flavors and captions read in 72 µs
 * this way against 95 µs (bench/README.md, target 5, session 9). The names are the statement's
 * own column names (this schema's), each quoted as a JSON string.
 */
export function recordMaker(columns: readonly string[]): (values: readonly unknown[]) => Row {
  const fields = columns.map((name, i) => `${JSON.stringify(name)}: v[${i}]`).join(', ');
  return new Function('v', `return { ${fields} };`) as (values: readonly unknown[]) => Row;
}

const csv = (s: string): string[] => (s ? s.split(',').map((t) => t.trim()).filter(Boolean) : []);
const json = <T>(s: string | null, fallback: T): T => (s ? (JSON.parse(s) as T) : fallback);

export const toPartner = (r: Row): Partner => ({
  id: r.id, name: r.name, adminSecret: r.admin_secret, additionalAdminSecrets: json(r.additional_admin_secrets, []), userSecret: r.user_secret, status: r.status,
  enforceEncryption: !!r.enforce_encryption, disableFlavorsOptimization: !!r.disable_flavors_optimization, deliveryProfileIds: json(r.delivery_profile_ids, {}),
  storageServePriority: r.storage_serve_priority, defaultConversionProfileId: r.default_conversion_profile_id,
  storyboard: json(r.storyboard, {}), drmProfiles: json(r.drm_profiles, []),
});
export const toFlavorParams = (r: Row): FlavorParams => ({
  id: r.id, name: r.name, tags: csv(r.tags), format: r.format, videoCodec: r.video_codec, audioCodec: r.audio_codec,
  width: r.width, height: r.height, videoBitrate: r.video_bitrate, audioBitrate: r.audio_bitrate, frameRate: r.frame_rate,
});
export const toEntry = (r: Row): Entry => ({
  id: r.id, partnerId: r.partner_id, name: r.name, description: r.description, type: r.type, mediaType: r.media_type,
  status: r.status, duration: r.duration, moderationStatus: r.moderation_status, startDate: r.start_date,
  endDate: r.end_date, accessControlProfileId: r.access_control_profile_id, tags: r.tags, adminTags: r.admin_tags,
  userId: r.user_id, referenceId: r.reference_id, createdAt: r.created_at, updatedAt: r.updated_at, version: r.version,
  dataFile: r.data_file, thumbnailFile: r.thumbnail_file, redirectEntryId: r.redirect_entry_id, partnerData: r.partner_data ?? '',
  conversionProfileId: r.conversion_profile_id ?? null,
});
export const toFlavor = (r: Row): FlavorAsset => ({
  id: r.id, entryId: r.entry_id, partnerId: r.partner_id, flavorParamsId: r.flavor_params_id, filePath: r.file_path,
  size: r.size, containerFormat: r.container_format, fileExt: r.file_ext, videoCodec: r.video_codec,
  audioCodec: r.audio_codec, codecs: r.codecs, width: r.width, height: r.height, bitrate: r.bitrate,
  frameRate: r.frame_rate, durationMs: r.duration_ms, language: r.language, label: r.label, isDefault: !!r.is_default,
  tags: csv(r.tags), status: r.status, version: r.version, isOriginal: !!r.is_original, createdAt: r.created_at,
  updatedAt: r.updated_at, packagingRefusal: r.packaging_refusal ?? '', rotation: r.rotation ?? 0,
});
export const toCaption = (r: Row): CaptionAsset => ({
  id: r.id, entryId: r.entry_id, partnerId: r.partner_id, language: r.language, languageCode: r.language_code,
  label: r.label, format: r.format, filePath: r.file_path, size: r.size, isDefault: !!r.is_default, status: r.status,
  version: r.version, displayOnPlayer: !!r.display_on_player, createdAt: r.created_at, updatedAt: r.updated_at,
});
export const toAcp = (r: Row): AccessControlProfile => ({
  id: r.id, partnerId: r.partner_id, name: r.name, systemName: r.system_name, description: r.description,
  isDefault: !!r.is_default, rules: json(r.rules, []), createdAt: r.created_at, updatedAt: r.updated_at,
});
export const toThumb = (r: Row): ThumbAsset => ({
  id: r.id, entryId: r.entry_id, partnerId: r.partner_id, filePath: r.file_path, fileExt: r.file_ext, width: r.width,
  height: r.height, size: r.size, tags: r.tags, description: r.description, isDefault: !!r.is_default, status: r.status,
  version: r.version, createdAt: r.created_at, updatedAt: r.updated_at,
});
export const toUiConf = (r: Row): UiConf => ({
  id: r.id, partnerId: r.partner_id, name: r.name, objType: r.obj_type, width: r.width, height: r.height,
  confFile: r.conf_file, confVars: r.conf_vars, tags: r.tags, createdAt: r.created_at, updatedAt: r.updated_at,
});
export const toDeliveryProfile = (r: Row): DeliveryProfile => ({
  id: r.id, partnerId: r.partner_id, name: r.name, type: r.type, streamerType: r.streamer_type, url: r.url,
  isDefault: !!r.is_default, priority: r.priority, active: !!r.active, mediaProtocols: csv(r.media_protocols),
  tokenizer: json(r.tokenizer, null), enforceDeliveriesSupport: csv(r.enforce_deliveries_support),
  maxSize: r.max_size, extraParams: json(r.extra_params, {}),
});
export const toStorage = (r: Row): StorageProfile => ({
  id: r.id, partnerId: r.partner_id, name: r.name, baseUrl: r.base_url,
  deliveryProfileIds: json(r.delivery_profile_ids, {}), active: !!r.active,
});
export const toConversionProfile = (r: Row): ConversionProfile => ({
  id: r.id, partnerId: r.partner_id, name: r.name, systemName: r.system_name, isDefault: !!r.is_default,
  flavorParamsIds: csv(r.flavor_params_ids).map(Number), createdAt: r.created_at,
});
export const toJob = (r: Row): IngestJob => ({
  id: r.id, entryId: r.entry_id, partnerId: r.partner_id, conversionProfileId: r.conversion_profile_id, state: r.state,
  progress: r.progress, attempts: r.attempts, error: r.error, ownerToken: r.owner_token, ownerPid: r.owner_pid, leaseUntil: r.lease_until,
  createdAt: r.created_at, updatedAt: r.updated_at,
});
export const toToken = (r: Row): UploadToken => ({
  id: r.id, partnerId: r.partner_id, userId: r.user_id, status: r.status, fileName: r.file_name, fileSize: r.file_size,
  uploadedFileSize: r.uploaded_file_size, entryId: r.entry_id, createdAt: r.created_at, updatedAt: r.updated_at,
});

/**
 * The rows of several entries (read in one statement) as each entry's own list, in the order of
 * `entryIds`: each keeps the rows' order, so a statement ordered as the one-entry read gives each
 * entry what that read gives (an entry without rows gets an empty list).
 */
export function byEntry<T>(entryIds: readonly string[], rows: readonly Row[], map: (r: Row) => T): T[][] {
  const of = new Map<string, T[]>(entryIds.map((id) => [id, []]));
  for (const r of rows) of.get(r.entry_id)?.push(map(r));
  return entryIds.map((id) => of.get(id)!);
}
