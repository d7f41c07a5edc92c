// The upserts of `kdeliver import-kaltura` (records that keep the source's ids, and each entry's import state), one text for both
// catalog backends: SQLite and PostgreSQL read the same `@name` parameters and ON CONFLICT clause
// (src/catalog/kaltura-import.ts, src/catalog/pg/kaltura-import.ts).
export const IMPORT_UPSERTS = {
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
    label, is_default, tags, status, version, is_original, created_at, updated_at, packaging_refusal, rotation)
    VALUES (@id, @entryId, @partnerId, @flavorParamsId, @filePath, @size, @containerFormat, @fileExt, @videoCodec, @audioCodec,
    @codecs, @width, @height, @bitrate, @frameRate, @durationMs, @language, @label, @isDefault, @tags, @status, @version,
    @isOriginal, @createdAt, @updatedAt, @packagingRefusal, @rotation)
    ON CONFLICT (id) DO UPDATE SET flavor_params_id = excluded.flavor_params_id, file_path = excluded.file_path,
    size = excluded.size, container_format = excluded.container_format, file_ext = excluded.file_ext,
    video_codec = excluded.video_codec, audio_codec = excluded.audio_codec, codecs = excluded.codecs, width = excluded.width,
    height = excluded.height, bitrate = excluded.bitrate, frame_rate = excluded.frame_rate, duration_ms = excluded.duration_ms,
    language = excluded.language, label = excluded.label, is_default = excluded.is_default, tags = excluded.tags,
    status = excluded.status, version = excluded.version, is_original = excluded.is_original,
    created_at = excluded.created_at, updated_at = excluded.updated_at, packaging_refusal = excluded.packaging_refusal,
    rotation = excluded.rotation`,
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
};
