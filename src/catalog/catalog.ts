// The catalog: every read and write of the SQLite database goes through here, as prepared
// statements made once. Stages receive a Catalog and never see SQL.
import type { Db } from './db.js';
import type {
  AccessControlProfile, CaptionAsset, ConversionProfile, DeliveryProfile, Entry, FlavorAsset,
  FlavorParams, Partner, RemoteFile, StorageProfile,
} from './types.js';

type Row = Record<string, any>;

const csv = (s: string): string[] => (s ? s.split(',').map((t) => t.trim()).filter(Boolean) : []);
const json = <T>(s: string | null, fallback: T): T => (s ? (JSON.parse(s) as T) : fallback);

const toPartner = (r: Row): Partner => ({
  id: r.id, name: r.name, adminSecret: r.admin_secret, userSecret: r.user_secret, status: r.status,
  enforceEncryption: !!r.enforce_encryption, disableFlavorsOptimization: !!r.disable_flavors_optimization, deliveryProfileIds: json(r.delivery_profile_ids, {}),
  storageServePriority: r.storage_serve_priority, defaultConversionProfileId: r.default_conversion_profile_id,
  storyboard: json(r.storyboard, {}),
});
const toFlavorParams = (r: Row): FlavorParams => ({
  id: r.id, name: r.name, tags: csv(r.tags), format: r.format, videoCodec: r.video_codec, audioCodec: r.audio_codec,
  width: r.width, height: r.height, videoBitrate: r.video_bitrate, audioBitrate: r.audio_bitrate, frameRate: r.frame_rate,
});
const toEntry = (r: Row): Entry => ({
  id: r.id, partnerId: r.partner_id, name: r.name, description: r.description, type: r.type, mediaType: r.media_type,
  status: r.status, duration: r.duration, moderationStatus: r.moderation_status, startDate: r.start_date,
  endDate: r.end_date, accessControlProfileId: r.access_control_profile_id, tags: r.tags, adminTags: r.admin_tags,
  userId: r.user_id, referenceId: r.reference_id, createdAt: r.created_at, updatedAt: r.updated_at, version: r.version,
  dataFile: r.data_file, thumbnailFile: r.thumbnail_file, redirectEntryId: r.redirect_entry_id,
});
const toFlavor = (r: Row): FlavorAsset => ({
  id: r.id, entryId: r.entry_id, partnerId: r.partner_id, flavorParamsId: r.flavor_params_id, filePath: r.file_path,
  size: r.size, containerFormat: r.container_format, fileExt: r.file_ext, videoCodec: r.video_codec,
  audioCodec: r.audio_codec, codecs: r.codecs, width: r.width, height: r.height, bitrate: r.bitrate,
  frameRate: r.frame_rate, durationMs: r.duration_ms, language: r.language, label: r.label, isDefault: !!r.is_default,
  tags: csv(r.tags), status: r.status, version: r.version, isOriginal: !!r.is_original, createdAt: r.created_at,
  updatedAt: r.updated_at,
});
const toCaption = (r: Row): CaptionAsset => ({
  id: r.id, entryId: r.entry_id, partnerId: r.partner_id, language: r.language, languageCode: r.language_code,
  label: r.label, format: r.format, filePath: r.file_path, size: r.size, isDefault: !!r.is_default, status: r.status,
  version: r.version, displayOnPlayer: !!r.display_on_player, createdAt: r.created_at, updatedAt: r.updated_at,
});
const toAcp = (r: Row): AccessControlProfile => ({
  id: r.id, partnerId: r.partner_id, name: r.name, systemName: r.system_name, description: r.description,
  isDefault: !!r.is_default, rules: json(r.rules, []), createdAt: r.created_at, updatedAt: r.updated_at,
});
const toDeliveryProfile = (r: Row): DeliveryProfile => ({
  id: r.id, partnerId: r.partner_id, name: r.name, type: r.type, streamerType: r.streamer_type, url: r.url,
  isDefault: !!r.is_default, priority: r.priority, active: !!r.active, mediaProtocols: csv(r.media_protocols),
  tokenizer: json(r.tokenizer, null), enforceDeliveriesSupport: csv(r.enforce_deliveries_support),
  maxSize: r.max_size, extraParams: json(r.extra_params, {}),
});
const toStorage = (r: Row): StorageProfile => ({
  id: r.id, partnerId: r.partner_id, name: r.name, baseUrl: r.base_url,
  deliveryProfileIds: json(r.delivery_profile_ids, {}), active: !!r.active,
});
const toConversionProfile = (r: Row): ConversionProfile => ({
  id: r.id, partnerId: r.partner_id, name: r.name, systemName: r.system_name, isDefault: !!r.is_default,
  flavorParamsIds: csv(r.flavor_params_ids).map(Number), createdAt: r.created_at,
});

/**
 * Read results kept in memory until the catalog changes. Delivery answers read the same few
 * rows over and over; SQLite answers them in tens of microseconds, memory in one. Writes through
 * this connection drop the cache as they run (prepare and exec are wrapped); writes by other
 * processes (a CLI ingest) change SQLite's data_version, read at most once per millisecond and
 * per turn of the event loop, so one synchronous answer sees one consistent catalog.
 * Cached values are frozen: callers copy before they change anything.
 */
function readCache(db: Db) {
  const memo = new Map<string, unknown>();
  const dataVersion = db.prepare('SELECT data_version FROM pragma_data_version()').pluck();
  let version = dataVersion.get();
  let checked = false;
  let checkedAt = 0;
  // bumped whenever the catalog may have changed, so answers built from it can be dropped too
  let generation = 0;
  const MAX_ENTRIES = 50_000;
  const changed = () => {
    memo.clear();
    generation++;
  };

  const prepare = db.prepare.bind(db);
  db.prepare = ((sql: string) => {
    const st = prepare(sql);
    if (st.reader) return st;
    const run = st.run.bind(st);
    st.run = ((...args: unknown[]) => {
      try {
        return run(...(args as []));
      } finally {
        changed();
      }
    }) as typeof st.run;
    return st;
  }) as typeof db.prepare;
  const exec = db.exec.bind(db);
  db.exec = ((sql: string) => {
    try {
      return exec(sql);
    } finally {
      changed();
    }
  }) as typeof db.exec;

  const sync = () => {
    if (!checked && Date.now() !== checkedAt) {
      checked = true;
      checkedAt = Date.now();
      process.nextTick(() => (checked = false));
      const now = dataVersion.get();
      if (now !== version) {
        version = now;
        changed();
      }
    }
  };

  return {
    cached<T>(key: string, load: () => T): T {
      sync();
      if (memo.has(key)) return memo.get(key) as T;
      const value = deepFreeze(load());
      if (memo.size >= MAX_ENTRIES) memo.clear();
      memo.set(key, value);
      return value;
    },
    /** A number that changes whenever the catalog may have changed (own writes, other processes). */
    generation(): number {
      sync();
      return generation;
    },
  };
}

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

export interface EntryFilter {
  partnerId: number;
  idIn?: string[];
  referenceIdEqual?: string;
  nameLike?: string;
  statusIn?: number[];
  mediaTypeEqual?: number;
  typeIn?: number[];
  /** Include deleted entries (status 3); off unless statusIn asks for them. */
  includeDeleted?: boolean;
}

export function createCatalog(db: Db) {
  const reads = readCache(db);
  const cached = reads.cached;
  const q = {
    partner: db.prepare('SELECT * FROM partners WHERE id = ?'),
    partners: db.prepare('SELECT * FROM partners ORDER BY id'),
    flavorParams: db.prepare('SELECT * FROM flavor_params WHERE id = ?'),
    allFlavorParams: db.prepare('SELECT * FROM flavor_params ORDER BY id'),
    entry: db.prepare('SELECT * FROM entries WHERE id = ?'),
    flavorsOfEntry: db.prepare('SELECT rowid AS int_id, * FROM flavor_assets WHERE entry_id = ? ORDER BY bitrate, rowid'),
    flavor: db.prepare('SELECT * FROM flavor_assets WHERE id = ?'),
    captionsOfEntry: db.prepare('SELECT * FROM caption_assets WHERE entry_id = ? ORDER BY rowid'),
    caption: db.prepare('SELECT * FROM caption_assets WHERE id = ?'),
    acp: db.prepare('SELECT * FROM access_control_profiles WHERE id = ?'),
    acpsOfPartner: db.prepare('SELECT * FROM access_control_profiles WHERE partner_id = ? ORDER BY id'),
    deliveryProfile: db.prepare('SELECT * FROM delivery_profiles WHERE id = ?'),
    deliveryProfiles: db.prepare('SELECT * FROM delivery_profiles ORDER BY id'),
    storageProfile: db.prepare('SELECT * FROM storage_profiles WHERE id = ?'),
    storageProfilesOfPartner: db.prepare('SELECT * FROM storage_profiles WHERE partner_id = ? ORDER BY id'),
    remoteFilesOfFlavor: db.prepare('SELECT * FROM remote_files WHERE flavor_asset_id = ?'),
    conversionProfilesOfPartner: db.prepare('SELECT * FROM conversion_profiles WHERE partner_id IN (0, ?) ORDER BY id'),
    conversionProfile: db.prepare('SELECT * FROM conversion_profiles WHERE id = ?'),
    revoked: db.prepare('SELECT 1 FROM revoked_sessions WHERE key = ? AND expires_at > ?'),
    revoke: db.prepare('INSERT OR REPLACE INTO revoked_sessions (key, expires_at) VALUES (?, ?)'),
    purgeRevoked: db.prepare('DELETE FROM revoked_sessions WHERE expires_at <= ?'),
    entryCount: db.prepare('SELECT COUNT(*) AS n FROM entries'),
  };

  return {
    db,
    generation: reads.generation,
    getPartner: (id: number): Partner | undefined => cached(`partner:${id}`, () => {
      const r = q.partner.get(id) as Row | undefined;
      return r && toPartner(r);
    }),
    listPartners: (): readonly Partner[] => cached('partners', () => (q.partners.all() as Row[]).map(toPartner)),
    getFlavorParams: (id: number): FlavorParams | undefined => cached(`fp:${id}`, () => {
      const r = q.flavorParams.get(id) as Row | undefined;
      return r && toFlavorParams(r);
    }),
    listFlavorParams: (): readonly FlavorParams[] => cached('fps', () => (q.allFlavorParams.all() as Row[]).map(toFlavorParams)),
    getEntry: (id: string): Entry | undefined => cached(`entry:${id}`, () => {
      const r = q.entry.get(id) as Row | undefined;
      return r && toEntry(r);
    }),
    /** Every flavor asset of an entry, whatever its status, in ascending bitrate (ties: insertion order). */
    listFlavors: (entryId: string): readonly FlavorAsset[] => cached(`flavors:${entryId}`, () => (q.flavorsOfEntry.all(entryId) as Row[]).map(toFlavor)),
    getFlavor: (id: string): FlavorAsset | undefined => cached(`flavor:${id}`, () => {
      const r = q.flavor.get(id) as Row | undefined;
      return r && toFlavor(r);
    }),
    listCaptions: (entryId: string): readonly CaptionAsset[] => cached(`captions:${entryId}`, () => (q.captionsOfEntry.all(entryId) as Row[]).map(toCaption)),
    getCaption: (id: string): CaptionAsset | undefined => cached(`caption:${id}`, () => {
      const r = q.caption.get(id) as Row | undefined;
      return r && toCaption(r);
    }),
    getAccessControlProfile: (id: number): AccessControlProfile | undefined => cached(`acp:${id}`, () => {
      const r = q.acp.get(id) as Row | undefined;
      return r && toAcp(r);
    }),
    listAccessControlProfiles: (partnerId: number): AccessControlProfile[] =>
      (q.acpsOfPartner.all(partnerId) as Row[]).map(toAcp),
    getDeliveryProfile: (id: number): DeliveryProfile | undefined => cached(`dp:${id}`, () => {
      const r = q.deliveryProfile.get(id) as Row | undefined;
      return r && toDeliveryProfile(r);
    }),
    listDeliveryProfiles: (): readonly DeliveryProfile[] => cached('dps', () => (q.deliveryProfiles.all() as Row[]).map(toDeliveryProfile)),
    getStorageProfile: (id: number): StorageProfile | undefined => cached(`sp:${id}`, () => {
      const r = q.storageProfile.get(id) as Row | undefined;
      return r && toStorage(r);
    }),
    listStorageProfiles: (partnerId: number): readonly StorageProfile[] =>
      cached(`sps:${partnerId}`, () => (q.storageProfilesOfPartner.all(partnerId) as Row[]).map(toStorage)),
    listRemoteFiles: (flavorAssetId: string): readonly RemoteFile[] =>
      cached(`remote:${flavorAssetId}`, () => (q.remoteFilesOfFlavor.all(flavorAssetId) as Row[]).map((r) => ({
        flavorAssetId: r.flavor_asset_id, storageProfileId: r.storage_profile_id, path: r.path,
      }))),
    listConversionProfiles: (partnerId: number): ConversionProfile[] =>
      (q.conversionProfilesOfPartner.all(partnerId) as Row[]).map(toConversionProfile),
    getConversionProfile: (id: number): ConversionProfile | undefined => {
      const r = q.conversionProfile.get(id) as Row | undefined;
      return r && toConversionProfile(r);
    },
    listEntries: (f: EntryFilter, pageSize = 30, pageIndex = 1): { objects: Entry[]; totalCount: number } => {
      // Filters are optional and combined; built as one parameterised statement per call.
      const where: string[] = ['partner_id = @partnerId'];
      const params: Record<string, unknown> = { partnerId: f.partnerId };
      if (f.idIn) {
        where.push(`id IN (${f.idIn.map((_, i) => `@id${i}`).join(',') || "''"})`);
        f.idIn.forEach((id, i) => (params[`id${i}`] = id));
      }
      if (f.referenceIdEqual !== undefined) { where.push('reference_id = @ref'); params.ref = f.referenceIdEqual; }
      if (f.nameLike !== undefined) { where.push("name LIKE @name ESCAPE '\\'"); params.name = `%${f.nameLike.replace(/[\\%_]/g, (c) => '\\' + c)}%`; }
      if (f.statusIn) {
        where.push(`status IN (${f.statusIn.map((_, i) => `@st${i}`).join(',') || 'NULL'})`);
        f.statusIn.forEach((s, i) => (params[`st${i}`] = s));
      } else if (!f.includeDeleted) where.push('status <> 3');
      if (f.mediaTypeEqual !== undefined) { where.push('media_type = @mt'); params.mt = f.mediaTypeEqual; }
      if (f.typeIn) {
        where.push(`type IN (${f.typeIn.map((_, i) => `@ty${i}`).join(',') || 'NULL'})`);
        f.typeIn.forEach((s, i) => (params[`ty${i}`] = s));
      }
      const w = where.join(' AND ');
      const totalCount = (db.prepare(`SELECT COUNT(*) AS n FROM entries WHERE ${w}`).get(params) as Row).n;
      const size = Math.max(1, Math.min(500, pageSize));
      const offset = (Math.max(1, pageIndex) - 1) * size;
      const rows = db.prepare(`SELECT * FROM entries WHERE ${w} ORDER BY created_at DESC, id LIMIT ${size} OFFSET ${offset}`).all(params) as Row[];
      return { objects: rows.map(toEntry), totalCount };
    },
    isRevoked: (key: string, now: number): boolean => !!q.revoked.get(key, now),
    revokeSession: (key: string, expiresAt: number): void => {
      q.purgeRevoked.run(Math.floor(Date.now() / 1000));
      q.revoke.run(key, expiresAt);
    },
    isEmpty: (): boolean => (q.entryCount.get() as Row).n === 0 && q.partners.all().length === 0,
  };
}

export type Catalog = ReturnType<typeof createCatalog>;
