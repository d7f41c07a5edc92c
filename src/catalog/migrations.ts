// Versioned schema. Each migration runs once, in order, inside a transaction; PRAGMA user_version
// records how far a database has come. Never edit a migration that has shipped: add the next one.

export const migrations: string[] = [
  // 1: the catalog
  `
  CREATE TABLE partners (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    admin_secret TEXT NOT NULL,
    user_secret TEXT NOT NULL,
    status INTEGER NOT NULL DEFAULT 1,
    enforce_encryption INTEGER NOT NULL DEFAULT 0,
    delivery_profile_ids TEXT NOT NULL DEFAULT '{}',
    storage_serve_priority INTEGER NOT NULL DEFAULT 1,
    default_conversion_profile_id INTEGER
  );

  CREATE TABLE flavor_params (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    tags TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL DEFAULT 'mp4',
    video_codec TEXT NOT NULL DEFAULT '',
    audio_codec TEXT NOT NULL DEFAULT '',
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    video_bitrate INTEGER NOT NULL DEFAULT 0,
    audio_bitrate INTEGER NOT NULL DEFAULT 0,
    frame_rate REAL NOT NULL DEFAULT 0
  );

  CREATE TABLE access_control_profiles (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    name TEXT NOT NULL,
    system_name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    is_default INTEGER NOT NULL DEFAULT 0,
    rules TEXT NOT NULL DEFAULT '[]',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  CREATE TABLE delivery_profiles (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL,
    type INTEGER NOT NULL,
    streamer_type TEXT NOT NULL,
    url TEXT NOT NULL,
    is_default INTEGER NOT NULL DEFAULT 0,
    priority INTEGER NOT NULL DEFAULT 0,
    active INTEGER NOT NULL DEFAULT 1,
    media_protocols TEXT NOT NULL DEFAULT '',
    tokenizer TEXT,
    enforce_deliveries_support TEXT NOT NULL DEFAULT '',
    max_size INTEGER,
    extra_params TEXT NOT NULL DEFAULT '{}'
  );

  CREATE TABLE storage_profiles (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    name TEXT NOT NULL,
    base_url TEXT NOT NULL,
    delivery_profile_ids TEXT NOT NULL DEFAULT '{}',
    active INTEGER NOT NULL DEFAULT 1
  );

  CREATE TABLE entries (
    id TEXT PRIMARY KEY,
    partner_id INTEGER NOT NULL REFERENCES partners(id),
    name TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    type INTEGER NOT NULL DEFAULT 1,
    media_type INTEGER NOT NULL DEFAULT 1,
    status INTEGER NOT NULL DEFAULT 2,
    duration REAL NOT NULL DEFAULT 0,
    moderation_status INTEGER NOT NULL DEFAULT 6,
    start_date INTEGER,
    end_date INTEGER,
    access_control_profile_id INTEGER REFERENCES access_control_profiles(id),
    tags TEXT NOT NULL DEFAULT '',
    admin_tags TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    reference_id TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    data_file TEXT,
    thumbnail_file TEXT,
    redirect_entry_id TEXT
  );
  CREATE INDEX entries_partner ON entries(partner_id, created_at);
  CREATE INDEX entries_reference ON entries(partner_id, reference_id);

  CREATE TABLE flavor_assets (
    id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    partner_id INTEGER NOT NULL,
    flavor_params_id INTEGER NOT NULL,
    file_path TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    container_format TEXT NOT NULL DEFAULT '',
    file_ext TEXT NOT NULL DEFAULT '',
    video_codec TEXT NOT NULL DEFAULT '',
    audio_codec TEXT NOT NULL DEFAULT '',
    codecs TEXT NOT NULL DEFAULT '',
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    bitrate INTEGER NOT NULL DEFAULT 0,
    frame_rate REAL NOT NULL DEFAULT 0,
    duration_ms INTEGER NOT NULL DEFAULT 0,
    language TEXT NOT NULL DEFAULT '',
    label TEXT NOT NULL DEFAULT '',
    is_default INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '',
    status INTEGER NOT NULL DEFAULT 2,
    version INTEGER NOT NULL DEFAULT 1,
    is_original INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX flavor_assets_entry ON flavor_assets(entry_id);

  CREATE TABLE caption_assets (
    id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    partner_id INTEGER NOT NULL,
    language TEXT NOT NULL DEFAULT '',
    language_code TEXT NOT NULL DEFAULT '',
    label TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL DEFAULT 'vtt',
    file_path TEXT NOT NULL,
    size INTEGER NOT NULL DEFAULT 0,
    is_default INTEGER NOT NULL DEFAULT 0,
    status INTEGER NOT NULL DEFAULT 2,
    version INTEGER NOT NULL DEFAULT 1,
    display_on_player INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX caption_assets_entry ON caption_assets(entry_id);

  CREATE TABLE remote_files (
    flavor_asset_id TEXT NOT NULL REFERENCES flavor_assets(id) ON DELETE CASCADE,
    storage_profile_id INTEGER NOT NULL REFERENCES storage_profiles(id),
    path TEXT NOT NULL,
    PRIMARY KEY (flavor_asset_id, storage_profile_id)
  );

  CREATE TABLE conversion_profiles (
    id INTEGER PRIMARY KEY,
    partner_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    system_name TEXT NOT NULL DEFAULT '',
    is_default INTEGER NOT NULL DEFAULT 0,
    flavor_params_ids TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL
  );

  CREATE TABLE revoked_sessions (
    -- a KS revoked by session.end: its SHA1 (hex) or its session id
    key TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
  );
  `,
  // 2: ingest (src/ingest): the background transcoding queue and api_v3 upload tokens
  `
  CREATE TABLE ingest_jobs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    entry_id TEXT NOT NULL,
    partner_id INTEGER NOT NULL,
    conversion_profile_id INTEGER,
    -- queued | running | done | failed
    state TEXT NOT NULL DEFAULT 'queued',
    progress REAL NOT NULL DEFAULT 0,
    attempts INTEGER NOT NULL DEFAULT 0,
    -- the reason a person can act on, when failed
    error TEXT,
    -- a running job belongs to this process until its lease runs out
    owner_pid INTEGER,
    lease_until INTEGER,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX ingest_jobs_state ON ingest_jobs(state, id);
  CREATE INDEX ingest_jobs_entry ON ingest_jobs(entry_id);

  CREATE TABLE upload_tokens (
    id TEXT PRIMARY KEY,
    partner_id INTEGER NOT NULL,
    user_id TEXT NOT NULL DEFAULT '',
    -- Kaltura's UploadTokenStatus: 0 PENDING, 1 PARTIAL_UPLOAD, 2 FULL_UPLOAD, 3 CLOSED, 4 TIMED_OUT, 5 DELETED
    status INTEGER NOT NULL DEFAULT 0,
    file_name TEXT NOT NULL DEFAULT '',
    file_size INTEGER,
    uploaded_file_size INTEGER NOT NULL DEFAULT 0,
    entry_id TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  `,
  // 3: ingest job ownership (src/ingest/lease.ts): a running job belongs to the runner holding its
  // attempt token while its lease lasts; owner_pid stays only to tell a person which process it is
  `
  ALTER TABLE ingest_jobs ADD COLUMN owner_token TEXT;
  `,
  // 4: the partner setting that turns off redundant-flavor optimisation (Kaltura's permission
  // FEATURE_DISABLE_FLAVORS_OPTIMIZATION)
  `
  ALTER TABLE partners ADD COLUMN disable_flavors_optimization INTEGER NOT NULL DEFAULT 0;
  `,
  // 5: per-partner storyboard settings (tile width, grid, interval, quality) as JSON, {} = defaults
  `
  ALTER TABLE partners ADD COLUMN storyboard TEXT NOT NULL DEFAULT '{}';
  `,
  // 6: the system defaults every catalog holds, as Kaltura's own install does, so that a partner
  // created with `kdeliver partner add` can ingest and play at once: the standard flavor params,
  // the default ladder (conversion profile 1, for every partner) and delivery profiles for the
  // built-in packager (HLS, HDS, DASH, MSS) and progressive download (partner 0: every partner).
  // The sample library carries the same records with the same ids, so importing it over them
  // changes nothing. A catalog that already has a record of the same id, or its own default of
  // the same kind, keeps it.
  `
  INSERT OR IGNORE INTO flavor_params (id, name, tags, format, video_codec, audio_codec, width, height, video_bitrate, audio_bitrate, frame_rate) VALUES
    (0, 'Source', 'source', 'mp4', '', '', 0, 0, 0, 0, 0),
    (301961, 'Basic/Small (H264) 240p', 'web,mbr,iphone,iphonenew,applembr,dash', 'mp4', 'h264', 'aac', 426, 240, 250, 128, 25),
    (301951, 'Mobile (H264) 360p', 'mobile,web,mbr,iphone,iphonenew,ipadnew,applembr,dash', 'mp4', 'h264', 'aac', 640, 360, 500, 128, 25),
    (301971, 'iPad (H264) 720p', 'mobile,web,mbr,ipad,ipadnew,applembr,dash', 'mp4', 'h264', 'aac', 1280, 720, 1200, 128, 25),
    (301991, 'Nokia/Blackberry (3gp)', 'mobile', '3gp', 'h264', 'aac', 176, 144, 100, 32, 25),
    (301981, 'Audio only (AAC)', 'audio_only,web,mbr,applembr,dash', 'mp4', '', 'aac', 0, 0, 0, 128, 0),
    (301982, 'Alternate audio (AAC)', 'alt_audio,audio_only', 'mp4', '', 'aac', 0, 0, 0, 96, 0);

  INSERT INTO conversion_profiles (id, partner_id, name, system_name, is_default, flavor_params_ids, created_at)
    SELECT 1, 0, 'Default', 'Default', 1, '0,301961,301951,301971', CAST(strftime('%s', 'now') AS INTEGER)
    WHERE NOT EXISTS (SELECT 1 FROM conversion_profiles WHERE id = 1 OR (partner_id = 0 AND is_default = 1));

  INSERT INTO delivery_profiles (id, partner_id, name, type, streamer_type, url, is_default)
    SELECT 1001, 0, 'VOD packager HLS', 61, 'applehttp', '/hls', 1
    WHERE NOT EXISTS (SELECT 1 FROM delivery_profiles WHERE id = 1001 OR (partner_id = 0 AND is_default = 1 AND streamer_type = 'applehttp'));
  INSERT INTO delivery_profiles (id, partner_id, name, type, streamer_type, url, is_default)
    SELECT 1002, 0, 'VOD packager HDS', 63, 'hdnetworkmanifest', '/hds', 1
    WHERE NOT EXISTS (SELECT 1 FROM delivery_profiles WHERE id = 1002 OR (partner_id = 0 AND is_default = 1 AND streamer_type = 'hdnetworkmanifest'));
  INSERT INTO delivery_profiles (id, partner_id, name, type, streamer_type, url, is_default)
    SELECT 1003, 0, 'VOD packager DASH', 68, 'mpegdash', '/dash', 1
    WHERE NOT EXISTS (SELECT 1 FROM delivery_profiles WHERE id = 1003 OR (partner_id = 0 AND is_default = 1 AND streamer_type = 'mpegdash'));
  INSERT INTO delivery_profiles (id, partner_id, name, type, streamer_type, url, is_default)
    SELECT 1004, 0, 'HTTP progressive', 14, 'http', '/', 1
    WHERE NOT EXISTS (SELECT 1 FROM delivery_profiles WHERE id = 1004 OR (partner_id = 0 AND is_default = 1 AND streamer_type = 'http'));
  INSERT INTO delivery_profiles (id, partner_id, name, type, streamer_type, url, is_default)
    SELECT 1005, 0, 'VOD packager MSS', 67, 'sl', '/mss', 1
    WHERE NOT EXISTS (SELECT 1 FROM delivery_profiles WHERE id = 1005 OR (partner_id = 0 AND is_default = 1 AND streamer_type = 'sl'));
  INSERT INTO delivery_profiles (id, partner_id, name, type, streamer_type, url, is_default)
    SELECT 1006, 0, 'VOD packager HLS manifest', 69, 'applehttp', '/hls', 0
    WHERE NOT EXISTS (SELECT 1 FROM delivery_profiles WHERE id = 1006);
  `,
  // 7: managing the library through the API (src/api/services): thumbnail assets of entries (the
  // entry's thumbnail_file stays the default one delivery reads), uiConfs (the legacy uploader and
  // players read them), and the key under which an API v2 upload is found again by its KS and file name
  `
  CREATE TABLE thumb_assets (
    id TEXT PRIMARY KEY,
    entry_id TEXT NOT NULL REFERENCES entries(id) ON DELETE CASCADE,
    partner_id INTEGER NOT NULL,
    -- relative to the media root; '' until content is set
    file_path TEXT NOT NULL DEFAULT '',
    file_ext TEXT NOT NULL DEFAULT '',
    width INTEGER NOT NULL DEFAULT 0,
    height INTEGER NOT NULL DEFAULT 0,
    size INTEGER NOT NULL DEFAULT 0,
    tags TEXT NOT NULL DEFAULT '',
    description TEXT NOT NULL DEFAULT '',
    is_default INTEGER NOT NULL DEFAULT 0,
    -- Kaltura's asset status: 0 QUEUED (no content yet), 2 READY
    status INTEGER NOT NULL DEFAULT 0,
    version INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );
  CREATE INDEX thumb_assets_entry ON thumb_assets(entry_id);

  CREATE TABLE ui_confs (
    id INTEGER PRIMARY KEY,
    -- 0: every partner's
    partner_id INTEGER NOT NULL DEFAULT 0,
    name TEXT NOT NULL DEFAULT '',
    -- Kaltura's UiConfObjType: 1 player, 2 contribution wizard, ...
    obj_type INTEGER NOT NULL DEFAULT 1,
    width INTEGER,
    height INTEGER,
    conf_file TEXT NOT NULL DEFAULT '',
    conf_vars TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
  );

  ALTER TABLE upload_tokens ADD COLUMN v2_key TEXT;
  -- Kaltura's partnerData: free text an integration keeps on an entry (Canvas sends its context)
  ALTER TABLE entries ADD COLUMN partner_data TEXT NOT NULL DEFAULT '';
  CREATE INDEX upload_tokens_v2_key ON upload_tokens(v2_key);
  `,
  // 8: entries brought in by \`kdeliver import-kaltura\` (src/import): where each came from and the
  // source's updatedAt when it was last imported, so that a second run fetches only what changed
  `
  CREATE TABLE kaltura_imports (
    entry_id TEXT PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
    service_url TEXT NOT NULL,
    source_partner_id INTEGER NOT NULL,
    source_updated_at INTEGER NOT NULL,
    imported_at INTEGER NOT NULL
  );
  `,
  // 9: encrypted delivery (src/drm): each entry's content key and key id, 16 random bytes each as
  // hex, made by catalog/keys.ts (crypto.randomBytes) when the entry is created or imported without
  // them, never derived from ids. Whether an entry is delivered encrypted is its access-control
  // profile's business (a drmPolicy action); keys exist for every entry so that turning it on needs
  // no write on the delivery path.
  `
  CREATE TABLE entry_keys (
    entry_id TEXT PRIMARY KEY REFERENCES entries(id) ON DELETE CASCADE,
    key_id TEXT NOT NULL,
    content_key TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  `,
  // 10: uploads across nodes (src/ingest/uploads.ts): with a shared media store (S3) each chunk of
  // an upload token is staged as an object of the store, and recorded here in arrival order; the
  // file is these parts laid over each other at their offsets (a later part wins where they overlap)
  `
  CREATE TABLE upload_parts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    token_id TEXT NOT NULL,
    at_byte INTEGER NOT NULL,
    byte_length INTEGER NOT NULL,
    object_key TEXT NOT NULL,
    created_at INTEGER NOT NULL
  );
  CREATE INDEX upload_parts_token ON upload_parts(token_id, id);
  `,
  // 11: per-partner DRM profiles (src/drm/profiles.ts): the licence servers of Widevine, PlayReady
  // and FairPlay as a JSON array, [] = ClearKey only
  `
  ALTER TABLE partners ADD COLUMN drm_profiles TEXT NOT NULL DEFAULT '[]';
  `,
  // 12: lists of entries on a big catalog (baseEntry.list, src/api/services/base-entry.ts). A page
  // in the default order (newest first, ties by id) of a partner's entries, with the filters players
  // and consoles send (status, media type, type, a name substring), is found in this one index, in
  // order, without visiting the table for the rows it skips or rejects; the list's count walks the
  // same index rather than every row of the partner. entries_partner (partner_id, created_at) is
  // its prefix, so it goes.
  `
  CREATE INDEX entries_list ON entries(partner_id, created_at DESC, id, status, media_type, type, name);
  DROP INDEX entries_partner;
  `,
  // 13: the conversion profile an entry was made with (Kaltura's entry.conversionProfileId):
  // media.add takes one, and media.addContent transcodes with it later (src/api/services/
  // media-ingest.ts); null: the partner's default at the time content comes
  `
  ALTER TABLE entries ADD COLUMN conversion_profile_id INTEGER;
  `,
  // 14: baseEntry.list's default filter (src/api/services/base-entry.ts entryFilter) is Kaltura's:
  // ready entries that are not pending moderation or rejected. entries_list gains moderation_status
  // so that filter, and the list's count, stay within the index (migration 12) instead of reading
  // every row of the partner
  `
  DROP INDEX entries_list;
  CREATE INDEX entries_list ON entries(partner_id, created_at DESC, id, status, moderation_status, media_type, type, name);
  `,
  // 15: the API actions a KS with `actionslimit:N` has left (Kaltura's invalid_session.actions_limit;
  // src/access/ks.ts countKsAction), keyed like a revocation by the KS's hash; a row goes once its
  // KS has expired. Not a catalog table for caching: PostgreSQL announces no change of it
  // (src/catalog/pg/migrate.ts)
  `
  CREATE TABLE ks_action_counts (
    key TEXT PRIMARY KEY,
    remaining INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
  );
  CREATE INDEX ks_action_counts_expiry ON ks_action_counts(expires_at);
  `,
  // 16: a partner's admin secrets besides admin_secret (Kaltura's enabled additional admin
  // secrets), a JSON array of strings: every one verifies a KS and starts an admin session, so a
  // secret can be rotated without a moment in which the old or the new one fails
  // (`kdeliver partner secret`, src/cli/partner.ts)
  `
  ALTER TABLE partners ADD COLUMN additional_admin_secrets TEXT NOT NULL DEFAULT '[]';
  `,
  // 17: why the packager refuses a flavor's file, as `kdeliver import` found when it read the file
  // ('' when it packages it, or the import did not read it): playManifest leaves such a flavor out
  // of HLS, DASH and Smooth Streaming (src/selection/flavors.ts), where a player would pick a
  // rendition that cannot play, and still offers it as a file
  `
  ALTER TABLE flavor_assets ADD COLUMN packaging_refusal TEXT NOT NULL DEFAULT '';
  `,
  // 18: how far the flavor's picture is turned for display, degrees clockwise (0, 90, 180, 270),
  // as its file's track matrix says (a phone's portrait video is stored landscape, turned 90° or
  // 270°): MPEG-TS has no place for the turn, so playManifest's HLS takes such an entry as fMP4
  // (src/delivery/urls.ts whyFmp4). 0 for a flavor whose file no import read.
  `
  ALTER TABLE flavor_assets ADD COLUMN rotation INTEGER NOT NULL DEFAULT 0;
  `,
];
