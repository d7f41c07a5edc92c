// The SQLite catalog (the embedded default): the Catalog interface of src/catalog/store.ts over
// better-sqlite3, as prepared statements made once. Stages receive a Catalog and never see SQL.
import { randomBytes } from 'node:crypto';
import type { Db } from './db.js';
import { kalturaId } from './ids.js';
import { readEntryKeys, storeEntryKeys, type EntryKeys } from './keys.js';
import type {
  AccessControlProfile, CaptionAsset, ConversionProfile, DeliveryProfile, Entry, EntryChanges, FlavorAsset,
  FlavorParams, Partner, RemoteFile, StorageProfile, ThumbAsset, UiConf,
} from './types.js';
import {
  FIRST_PARTNER_ID, PartnerExistsError, REVOCATIONS_READ_WHOLE, type Catalog, type EntryFilter, type EntryOrder,
} from './store.js';
import { adminSecretsAdding, adminSecretsRemoving, AdminSecretError, newSecret } from './admin-secrets.js';
import { asyncMethods } from './async.js';
import { entryWhere, pageBounds, pageIdsSql, SQLITE_ENTRY_LIST } from './entry-list.js';
import { sqliteIngestStore } from './ingest-store.js';
import { sqliteImportStore } from './kaltura-import.js';
import { sqliteLibraryStore } from './library-store.js';
import { createReadMemo, NOT_KEPT } from './read-memo.js';
import { watchWal } from './wal-watch.js';

export { FIRST_PARTNER_ID, PartnerExistsError };
export type { Catalog, EntryFilter, EntryOrder };

import { byEntry, recordMaker, toAcp, toCaption, toConversionProfile, toDeliveryProfile, toEntry, toFlavor, toFlavorParams, toPartner, toStorage, toThumb, toUiConf, type Row } from './rows.js';

/**
 * Read results kept in memory until the catalog changes. Delivery answers read the same few
 * rows over and over; SQLite answers them in tens of microseconds, memory in one. Writes through
 * this connection drop the cache as they run (prepare and exec are wrapped); writes by other
 * processes (a CLI ingest) change SQLite's data_version, read at most once per millisecond and
 * per turn of the event loop (the promises of one answer's reads settle within one turn, as
 * SQLite answers at once), and only while the kernel reports writes to the catalog's files, or
 * once a second (src/catalog/wal-watch.ts). An answer that spans a change is kept under the
 * generation it started with, so it is never served after the change (src/cache/manifest-cache.ts).
 * Cached values are frozen: callers copy before they change anything.
 */
function readCache(db: Db) {
  const memo = createReadMemo();
  // before the first data_version: a write between the two is then reported
  const wal = db.memory ? null : watchWal(db.name);
  const dataVersion = db.prepare('SELECT data_version FROM pragma_data_version()').pluck();
  let version = dataVersion.get();
  let checked = false;
  let checkedAt = 0;
  // bumped whenever the catalog may have changed, so answers built from it can be dropped too
  let generation = 0;
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
    if (checked) return;
    const at = Date.now();
    if (at === checkedAt || (wal !== null && !wal.shouldCheck(at))) return;
    checked = true;
    checkedAt = at;
    process.nextTick(() => (checked = false));
    const now = dataVersion.get();
    if (now !== version) {
      version = now;
      changed();
    }
  };

  return {
    cached<T>(key: string, load: () => T): T {
      sync();
      const hit = memo.get(key);
      if (hit !== NOT_KEPT) return hit as T;
      const value = deepFreeze(load());
      memo.set(key, value);
      return value;
    },
    /**
     * cached for several keys at once: load gets the positions of the keys not kept and answers
     * their values in that order (one statement for a whole list page instead of one per key).
     */
    cachedEach<T>(keys: readonly string[], load: (missing: readonly number[]) => T[]): T[] {
      sync();
      const out = new Array<T>(keys.length);
      const missing: number[] = [];
      keys.forEach((key, i) => {
        const hit = memo.get(key);
        if (hit === NOT_KEPT) missing.push(i);
        else out[i] = hit as T;
      });
      if (missing.length > 0) {
        const values = load(missing);
        missing.forEach((i, j) => {
          const value = deepFreeze(values[j]);
          memo.set(keys[i], value);
          out[i] = value;
        });
      }
      return out;
    },
    /** Keeps a value read along with another (under the same rules as cached's), without looking it up. */
    keep(key: string, value: unknown): void {
      memo.set(key, deepFreeze(value));
    },
    stats: () => memo.stats(),
    close(): void {
      wal?.close();
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

/**
 * A reading statement whose rows come as records of one shape (rows.ts recordMaker) instead of
 * better-sqlite3's row objects: for the reads every new entry costs (its row, flavors, captions).
 */
function recordStatement(db: Db, sql: string) {
  const st = db.prepare(sql).raw();
  const record = recordMaker(st.columns().map((c) => c.name));
  return {
    get(...params: unknown[]): Row | undefined {
      const values = st.get(...params) as unknown[] | undefined;
      return values && record(values);
    },
    all: (...params: unknown[]): Row[] => (st.all(...params) as unknown[][]).map(record),
  };
}

/** The catalog's reads and writes over SQLite, synchronous; createCatalog wraps them into the Catalog interface. */
function sqliteCatalog(db: Db, reads: ReturnType<typeof readCache>) {
  const cached = reads.cached;
  const MEMO_MAX = 50_000;
  const revokedMemo = new Map<string, number>();
  let revokedAt = -1;
  // answered from the memo (a kept end, or absent while it holds every revocation) / by a statement
  let revokedHits = 0;
  let revokedMisses = 0;
  // true while revokedMemo holds every revocation (few enough to read at once): a key it does not
  // hold is not revoked, and a fresh KS per request costs no statement
  let revokedAll = false;
  // the statements listEntries builds from its filters, prepared once per SQL text (the player's
  // baseEntry.list asks the same one every time; preparing costs more than running it)
  const statements = new Map<string, ReturnType<Db['prepare']>>();
  const statement = (sql: string) => {
    let st = statements.get(sql);
    if (!st) {
      if (statements.size >= 256) statements.clear();
      st = db.prepare(sql);
      statements.set(sql, st);
    }
    return st;
  };
  const q = {
    partner: db.prepare('SELECT * FROM partners WHERE id = ?'),
    partners: db.prepare('SELECT * FROM partners ORDER BY id'),
    flavorParams: db.prepare('SELECT * FROM flavor_params WHERE id = ?'),
    allFlavorParams: db.prepare('SELECT * FROM flavor_params ORDER BY id'),
    entry: recordStatement(db, 'SELECT * FROM entries WHERE id = ?'),
    entriesByIds: recordStatement(db, 'SELECT * FROM entries WHERE id IN (SELECT value FROM json_each(?))'),
    flavorsOfEntry: recordStatement(db, 'SELECT rowid AS int_id, * FROM flavor_assets WHERE entry_id = ? ORDER BY bitrate, rowid'),
    // the same rows for several entries (a JSON array of ids), in the same order within each entry
    flavorsOfEntries: recordStatement(db, 'SELECT rowid AS int_id, * FROM flavor_assets WHERE entry_id IN (SELECT value FROM json_each(?)) ORDER BY bitrate, rowid'),
    flavor: recordStatement(db, 'SELECT * FROM flavor_assets WHERE id = ?'),
    captionsOfEntry: recordStatement(db, 'SELECT * FROM caption_assets WHERE entry_id = ? ORDER BY rowid'),
    caption: recordStatement(db, 'SELECT * FROM caption_assets WHERE id = ?'),
    acp: db.prepare('SELECT * FROM access_control_profiles WHERE id = ?'),
    acpsOfPartner: db.prepare('SELECT * FROM access_control_profiles WHERE partner_id = ? ORDER BY id'),
    deliveryProfile: db.prepare('SELECT * FROM delivery_profiles WHERE id = ?'),
    deliveryProfiles: db.prepare('SELECT * FROM delivery_profiles ORDER BY id'),
    storageProfile: db.prepare('SELECT * FROM storage_profiles WHERE id = ?'),
    storageProfilesOfPartner: db.prepare('SELECT * FROM storage_profiles WHERE partner_id = ? ORDER BY id'),
    remoteFilesOfFlavor: db.prepare('SELECT * FROM remote_files WHERE flavor_asset_id = ?'),
    conversionProfilesOfPartner: db.prepare('SELECT * FROM conversion_profiles WHERE partner_id IN (0, ?) ORDER BY id'),
    conversionProfile: db.prepare('SELECT * FROM conversion_profiles WHERE id = ?'),
    allConversionProfiles: db.prepare('SELECT * FROM conversion_profiles ORDER BY id'),
    allAcps: db.prepare('SELECT * FROM access_control_profiles ORDER BY id'),
    revokedUntil: db.prepare('SELECT MAX(expires_at) FROM revoked_sessions WHERE key = ?').pluck(),
    revokedCount: db.prepare('SELECT COUNT(*) FROM revoked_sessions').pluck(),
    revokedAll: db.prepare('SELECT key, MAX(expires_at) AS until FROM revoked_sessions GROUP BY key'),
    revoke: db.prepare('INSERT OR REPLACE INTO revoked_sessions (key, expires_at) VALUES (?, ?)'),
    purgeRevoked: db.prepare('DELETE FROM revoked_sessions WHERE expires_at <= ?'),
    entryCount: db.prepare('SELECT COUNT(*) AS n FROM entries'),
    // writes of the API's library management (src/api/services); each one statement, grouped into
    // transactions below where a change touches several rows
    updateEntry: db.prepare(`UPDATE entries SET name = @name, description = @description, tags = @tags, admin_tags = @adminTags,
      reference_id = @referenceId, access_control_profile_id = @accessControlProfileId, start_date = @startDate,
      end_date = @endDate, moderation_status = @moderationStatus, partner_data = @partnerData, updated_at = @now WHERE id = @id`),
    setEntryThumbnail: db.prepare('UPDATE entries SET thumbnail_file = ?, version = version + 1, updated_at = ? WHERE id = ?'),
    insertAcp: db.prepare(`INSERT INTO access_control_profiles (partner_id, name, system_name, description, is_default, rules, created_at, updated_at)
      VALUES (@partnerId, @name, @systemName, @description, @isDefault, @rules, @now, @now)`),
    updateAcp: db.prepare(`UPDATE access_control_profiles SET name = @name, system_name = @systemName, description = @description,
      is_default = @isDefault, rules = @rules, updated_at = @now WHERE id = @id`),
    clearDefaultAcp: db.prepare('UPDATE access_control_profiles SET is_default = 0 WHERE partner_id = ? AND id <> ?'),
    acpBySystemName: db.prepare("SELECT id FROM access_control_profiles WHERE partner_id = ? AND system_name = ? AND system_name <> ''"),
    entriesWithAcp: db.prepare('SELECT COUNT(*) AS n FROM entries WHERE access_control_profile_id = ?'),
    moveEntriesAcp: db.prepare('UPDATE entries SET access_control_profile_id = ?, updated_at = ? WHERE access_control_profile_id = ?'),
    deleteAcp: db.prepare('DELETE FROM access_control_profiles WHERE id = ?'),
    insertCaption: db.prepare(`INSERT INTO caption_assets (id, entry_id, partner_id, language, language_code, label, format, file_path,
      size, is_default, status, version, display_on_player, created_at, updated_at)
      VALUES (@id, @entryId, @partnerId, @language, @languageCode, @label, @format, @filePath, @size, @isDefault, @status,
      @version, @displayOnPlayer, @createdAt, @updatedAt)`),
    updateCaption: db.prepare(`UPDATE caption_assets SET language = @language, language_code = @languageCode, label = @label,
      format = @format, file_path = @filePath, size = @size, is_default = @isDefault, status = @status, version = @version,
      display_on_player = @displayOnPlayer, updated_at = @updatedAt WHERE id = @id`),
    clearDefaultCaption: db.prepare('UPDATE caption_assets SET is_default = 0 WHERE entry_id = ? AND id <> ?'),
    deleteCaption: db.prepare('DELETE FROM caption_assets WHERE id = ?'),
    thumbsOfEntry: db.prepare('SELECT * FROM thumb_assets WHERE entry_id = ? ORDER BY created_at, rowid'),
    thumb: db.prepare('SELECT * FROM thumb_assets WHERE id = ?'),
    insertThumb: db.prepare(`INSERT INTO thumb_assets (id, entry_id, partner_id, file_path, file_ext, width, height, size, tags,
      description, is_default, status, version, created_at, updated_at)
      VALUES (@id, @entryId, @partnerId, @filePath, @fileExt, @width, @height, @size, @tags, @description, @isDefault, @status,
      @version, @createdAt, @updatedAt)`),
    updateThumb: db.prepare(`UPDATE thumb_assets SET file_path = @filePath, file_ext = @fileExt, width = @width, height = @height,
      size = @size, tags = @tags, description = @description, status = @status, version = @version, updated_at = @updatedAt
      WHERE id = @id`),
    markDefaultThumb: db.prepare('UPDATE thumb_assets SET is_default = (id = ?) WHERE entry_id = ?'),
    deleteThumb: db.prepare('DELETE FROM thumb_assets WHERE id = ?'),
    deleteThumbsOfEntry: db.prepare('DELETE FROM thumb_assets WHERE entry_id = ?'),
    deleteFlavor: db.prepare('DELETE FROM flavor_assets WHERE id = ?'),
    assetIdTaken: db.prepare(`SELECT 1 FROM flavor_assets WHERE id = @id UNION ALL SELECT 1 FROM caption_assets WHERE id = @id
      UNION ALL SELECT 1 FROM thumb_assets WHERE id = @id`),
    uiConf: db.prepare('SELECT * FROM ui_confs WHERE id = ?'),
    uiConfs: db.prepare('SELECT * FROM ui_confs ORDER BY id'),
    setUploadV2Key: db.prepare('UPDATE upload_tokens SET v2_key = ? WHERE id = ?'),
    uploadByV2Key: db.prepare('SELECT id FROM upload_tokens WHERE v2_key = ? ORDER BY created_at DESC, rowid DESC LIMIT 1'),
    entryCountOfPartner: db.prepare('SELECT COUNT(*) AS n FROM entries WHERE partner_id = ? AND status <> 3'),
    maxPartnerId: db.prepare('SELECT MAX(id) AS id FROM partners'),
    insertPartner: db.prepare('INSERT INTO partners (id, name, admin_secret, user_secret) VALUES (?, ?, ?, ?)'),
    setAdminSecrets: db.prepare('UPDATE partners SET admin_secret = ?, additional_admin_secrets = ? WHERE id = ?'),
  };
  /** The partner as it is now, read in the write's transaction (never the read cache's copy). */
  const partnerToChange = (id: number): Partner => {
    const r = q.partner.get(id) as Row | undefined;
    if (!r) throw new AdminSecretError(`no partner ${id}`);
    return toPartner(r);
  };
  const captionRow = (c: CaptionAsset) => ({ ...c, isDefault: c.isDefault ? 1 : 0, displayOnPlayer: c.displayOnPlayer ? 1 : 0 });
  const thumbRow = (t: ThumbAsset) => ({ ...t, isDefault: t.isDefault ? 1 : 0 });
  /**
   * An entry read for the first time, with its flavors and captions, which nearly every reader of
   * an entry asks next (playManifest, getPlaybackContext, the media routes): the three statements
   * in one read transaction. Each statement alone is its own transaction, and taking and leaving
   * WAL's read locks costs more than an indexed read (bench/README.md, target 5, session 9).
   */
  const entryWithAssets = db.transaction((id: string): Entry | undefined => {
    const r = q.entry.get(id) as Row | undefined;
    if (!r) return undefined;
    reads.keep(`flavors:${id}`, (q.flavorsOfEntry.all(id) as Row[]).map(toFlavor));
    reads.keep(`captions:${id}`, (q.captionsOfEntry.all(id) as Row[]).map(toCaption));
    return toEntry(r);
  });

  return {
    getPartner: (id: number): Partner | undefined => cached(`partner:${id}`, () => {
      const r = q.partner.get(id) as Row | undefined;
      return r && toPartner(r);
    }),
    listPartners: (): readonly Partner[] => cached('partners', () => (q.partners.all() as Row[]).map(toPartner)),
    /** Entries of a partner that are not deleted. */
    countEntries: (partnerId: number): number => (q.entryCountOfPartner.get(partnerId) as Row).n,
    /**
     * Adds an active partner with new random admin and user secrets (32 hex characters, as
     * Kaltura makes them). Its id is `id`, or the one after the highest so far, from
     * FIRST_PARTNER_ID. It uses the system defaults (delivery profiles and conversion profile of
     * partner 0) until it is given its own. Throws PartnerExistsError when the id is taken.
     */
    addPartner: (p: { id?: number; name?: string }): Partner => db.transaction(() => {
      const id = p.id ?? Math.max(FIRST_PARTNER_ID - 1, (q.maxPartnerId.get() as Row).id ?? 0) + 1;
      const existing = q.partner.get(id) as Row | undefined;
      if (existing) throw new PartnerExistsError(`partner ${id} exists (${existing.name})`);
      q.insertPartner.run(id, p.name ?? `Partner ${id}`, randomBytes(16).toString('hex'), randomBytes(16).toString('hex'));
      return toPartner(q.partner.get(id) as Row);
    }).immediate(),
    addAdminSecret: (partnerId: number, o: { secret?: string; primary?: boolean } = {}): string => db.transaction(() => {
      const secret = o.secret ?? newSecret();
      const next = adminSecretsAdding(partnerToChange(partnerId), secret, !!o.primary);
      q.setAdminSecrets.run(next.adminSecret, JSON.stringify(next.additional), partnerId);
      return secret;
    }).immediate(),
    removeAdminSecret: (partnerId: number, secret: string): void => db.transaction(() => {
      const p = partnerToChange(partnerId);
      q.setAdminSecrets.run(p.adminSecret, JSON.stringify(adminSecretsRemoving(p, secret)), partnerId);
    }).immediate(),
    getFlavorParams: (id: number): FlavorParams | undefined => cached(`fp:${id}`, () => {
      const r = q.flavorParams.get(id) as Row | undefined;
      return r && toFlavorParams(r);
    }),
    listFlavorParams: (): readonly FlavorParams[] => cached('fps', () => (q.allFlavorParams.all() as Row[]).map(toFlavorParams)),
    getEntry: (id: string): Entry | undefined => cached(`entry:${id}`, () => entryWithAssets(id)),
    /** Every flavor asset of an entry, whatever its status, in ascending bitrate (ties: insertion order). */
    listFlavors: (entryId: string): readonly FlavorAsset[] => cached(`flavors:${entryId}`, () => (q.flavorsOfEntry.all(entryId) as Row[]).map(toFlavor)),
    listFlavorsOfEntries: (entryIds: readonly string[]): (readonly FlavorAsset[])[] =>
      reads.cachedEach(entryIds.map((id) => `flavors:${id}`), (missing) =>
        byEntry(missing.map((i) => entryIds[i]), q.flavorsOfEntries.all(JSON.stringify(missing.map((i) => entryIds[i]))) as Row[], toFlavor)),
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
      const { where: w, params } = entryWhere(f, SQLITE_ENTRY_LIST);
      // a list's count visits every matching row of the partner (100,000 on a big catalog) while its
      // page reads 30: kept until the catalog changes, so paging through one list counts it once
      const args = JSON.stringify(params);
      const totalCount = cached(`count:${w}:${args}`, () => (statement(`SELECT COUNT(*) AS n FROM entries WHERE ${w}`).get(params) as Row).n);
      const { size, offset } = pageBounds(pageSize, pageIndex);
      // the page's ids from the index (kept as reads are: the player's list, asked with a KS on
      // every viewing, names one entry, and its statement cost ~50 µs in the server against ~1 for
      // a kept read), then its entries as getEntry keeps them: a page asked again, or entries a
      // player just asked for, cost no read of their rows; those not kept are read in one statement
      const sql = pageIdsSql(w, f.orderBy ?? '-createdAt', size, offset);
      const ids = cached(`page:${sql}:${args}`, () => (statement(sql).all(params) as Row[]).map((r) => r.id as string));
      const objects = reads.cachedEach(ids.map((id) => `entry:${id}`), (missing) => {
        const read = new Map((q.entriesByIds.all(JSON.stringify(missing.map((i) => ids[i]))) as Row[]).map((r) => [r.id as string, r]));
        return missing.map((i) => { const r = read.get(ids[i]); return r && toEntry(r); });
      });
      // (an entry another process added since the cache last asked SQLite may be kept as absent:
      // left out, as a read a moment earlier would have)
      return { objects: objects.filter((e): e is Entry => e !== undefined), totalCount };
    },
    isRevoked: (key: string, now: number): boolean => {
      // every KS-bearing request asks this: the revocation's end is read once per key and catalog
      // generation (a revocation, by this process or another, is a change: the memo goes)
      const generation = reads.generation();
      // a hit: answered without a statement (a kept end, or absent while the memo holds every revocation)
      let read = false;
      if (generation !== revokedAt) {
        revokedMemo.clear();
        revokedAt = generation;
        revokedAll = (q.revokedCount.get() as number) <= REVOCATIONS_READ_WHOLE;
        if (revokedAll) for (const r of q.revokedAll.all() as { key: string; until: number }[]) revokedMemo.set(r.key, r.until);
        read = true;
      }
      let until = revokedMemo.get(key);
      if (until === undefined && !revokedAll) {
        until = (q.revokedUntil.get(key) as number | null) ?? 0;
        if (revokedMemo.size >= MEMO_MAX) revokedMemo.clear();
        revokedMemo.set(key, until);
        read = true;
      }
      if (read) revokedMisses++;
      else revokedHits++;
      return (until ?? 0) > now;
    },
    revocationMemoStats: () => ({ entries: revokedMemo.size, hits: revokedHits, misses: revokedMisses }),
    revokeSession: (key: string, expiresAt: number): void => {
      q.purgeRevoked.run(Math.floor(Date.now() / 1000));
      q.revoke.run(key, expiresAt);
    },

    // ---- writes of library management (api_v3 and API v2). Each keeps the catalog whole on its
    // own; the read cache and every answer built from it (playManifest's answer cache, the
    // packager) see the change at once through generation().

    /** Changes an entry's editable fields (the others stay as they are). */
    updateEntry(id: string, changes: EntryChanges, now: number): void {
      const e = q.entry.get(id) as Row | undefined;
      if (!e) return;
      const cur = toEntry(e);
      q.updateEntry.run({ ...cur, ...changes, id, now });
    },
    /** Makes a file (relative to the media root) the entry's default thumbnail; its URLs change version. */
    setEntryThumbnail(id: string, file: string | null, now: number): void {
      q.setEntryThumbnail.run(file, now, id);
    },
    /** A new access-control profile of a partner; returns its id. `isDefault` takes the default from the partner's others. */
    addAccessControlProfile(p: Omit<AccessControlProfile, 'id' | 'createdAt' | 'updatedAt'>, now: number): number {
      return db.transaction(() => {
        const r = q.insertAcp.run({ ...p, isDefault: p.isDefault ? 1 : 0, rules: JSON.stringify(p.rules), now });
        const id = Number(r.lastInsertRowid);
        if (p.isDefault) q.clearDefaultAcp.run(p.partnerId, id);
        return id;
      })();
    },
    updateAccessControlProfile(p: AccessControlProfile, now: number): void {
      db.transaction(() => {
        q.updateAcp.run({ ...p, isDefault: p.isDefault ? 1 : 0, rules: JSON.stringify(p.rules), now });
        if (p.isDefault) q.clearDefaultAcp.run(p.partnerId, p.id);
      })();
    },
    /** The id of the partner's profile with this system name, if any ('' names none). */
    accessControlProfileBySystemName: (partnerId: number, systemName: string): number | undefined =>
      (q.acpBySystemName.get(partnerId, systemName) as Row | undefined)?.id,
    /** How many entries (deleted ones included) name the profile. */
    countEntriesWithAccessControlProfile: (id: number): number => (q.entriesWithAcp.get(id) as Row).n,
    /** Deletes a profile; the entries naming it move to `moveTo` first (the partner's default profile). */
    deleteAccessControlProfile(id: number, moveTo: number | null, now: number): void {
      db.transaction(() => {
        q.moveEntriesAcp.run(moveTo, now, id);
        q.deleteAcp.run(id);
      })();
    },
    addCaption(c: CaptionAsset): void {
      db.transaction(() => {
        q.insertCaption.run(captionRow(c));
        if (c.isDefault) q.clearDefaultCaption.run(c.entryId, c.id);
      })();
    },
    /** Writes every field of a caption asset; a default caption takes the default from the entry's others. */
    updateCaption(c: CaptionAsset): void {
      db.transaction(() => {
        q.updateCaption.run(captionRow(c));
        if (c.isDefault) q.clearDefaultCaption.run(c.entryId, c.id);
      })();
    },
    deleteCaption: (id: string): void => void q.deleteCaption.run(id),
    listThumbAssets: (entryId: string): readonly ThumbAsset[] => cached(`thumbs:${entryId}`, () => (q.thumbsOfEntry.all(entryId) as Row[]).map(toThumb)),
    getThumbAsset: (id: string): ThumbAsset | undefined => cached(`thumb:${id}`, () => {
      const r = q.thumb.get(id) as Row | undefined;
      return r && toThumb(r);
    }),
    addThumbAsset: (t: ThumbAsset): void => void q.insertThumb.run(thumbRow(t)),
    /** Writes the content fields of a thumbnail asset (not whether it is the default: setDefaultThumbAsset). */
    updateThumbAsset: (t: ThumbAsset): void => void q.updateThumb.run(thumbRow(t)),
    /** Makes an asset its entry's default thumbnail: the only default asset, and the entry's thumbnail file. */
    setDefaultThumbAsset(t: ThumbAsset, now: number): void {
      db.transaction(() => {
        q.markDefaultThumb.run(t.id, t.entryId);
        q.setEntryThumbnail.run(t.filePath, now, t.entryId);
      })();
    },
    deleteThumbAsset: (id: string): void => void q.deleteThumb.run(id),
    deleteThumbAssetsOfEntry: (entryId: string): void => void q.deleteThumbsOfEntry.run(entryId),
    deleteFlavor: (id: string): void => void q.deleteFlavor.run(id),
    /** An id no flavor, caption or thumbnail asset has. */
    newAssetId(): string {
      for (;;) {
        const id = kalturaId();
        if (!q.assetIdTaken.get({ id })) return id;
      }
    },
    /** A uiConf of the partner or of every partner (0); another partner's is undefined. */
    getUiConf: (id: number): UiConf | undefined => cached(`uiconf:${id}`, () => {
      const r = q.uiConf.get(id) as Row | undefined;
      return r && toUiConf(r);
    }),
    listUiConfs: (): UiConf[] => (q.uiConfs.all() as Row[]).map(toUiConf),
    /** Files an upload token under an API v2 key (the uploading session and the file name it gave). */
    setUploadTokenV2Key: (tokenId: string, key: string): void => void q.setUploadV2Key.run(key, tokenId),
    uploadTokenIdByV2Key: (key: string): string | undefined => (q.uploadByV2Key.get(key) as Row | undefined)?.id,
    /** For the library store (export): every conversion profile and every access-control profile, by id. */
    allConversionProfiles: (): ConversionProfile[] => (q.allConversionProfiles.all() as Row[]).map(toConversionProfile),
    allAccessControlProfiles: (): AccessControlProfile[] => (q.allAcps.all() as Row[]).map(toAcp),
    /**
     * The entry's content key and key id; an entry made before keys existed (migration 9) gets
     * random ones now. Cached like every read; the drm stage reads them here (export and import read the table itself).
     */
    getEntryKeys: (entryId: string): EntryKeys => cached(`keys:${entryId}`, () => {
      const k = readEntryKeys(db, entryId);
      if (k) return k;
      storeEntryKeys(db, entryId);
      return readEntryKeys(db, entryId)!;
    }),
    isEmpty: (): boolean => (q.entryCount.get() as Row).n === 0 && q.partners.all().length === 0,
  };
}

/**
 * The API actions left to KSs with `actionslimit` (Catalog.takeKsAction). Prepared before readCache
 * wraps db.prepare: an action taken is no catalog change, so this process drops nothing it keeps.
 * (Another process on the same file sees a write, and checks; rare, as such KSs are.) One
 * statement, so two processes taking the last action cannot both have it.
 */
function ksActionCounts(db: Db) {
  const take = db.prepare(`INSERT INTO ks_action_counts (key, remaining, expires_at) VALUES (?, ?, ?)
    ON CONFLICT (key) DO UPDATE SET remaining = remaining - 1 WHERE remaining > 0 RETURNING remaining`).pluck();
  const purge = db.prepare('DELETE FROM ks_action_counts WHERE expires_at <= ?');
  let purgedAt = 0;
  return {
    take(key: string, limit: number, expiresAt: number): boolean {
      const now = Math.floor(Date.now() / 1000);
      if (now >= purgedAt + 60) {
        purgedAt = now;
        purge.run(now);
      }
      return take.get(key, limit - 1, expiresAt) !== undefined;
    },
  };
}

/** The SQLite catalog: the Catalog interface, plus the database for SQLite-only code (migrations, tests). */
export type SqliteCatalog = Catalog & { readonly db: Db };

/**
 * The Catalog over an open SQLite database (src/catalog/db.ts openDatabase). Every statement is
 * prepared once; each method runs synchronously inside and answers a settled promise, and each
 * multi-row write is one SQLite transaction inside one method.
 */
export function createCatalog(db: Db): SqliteCatalog {
  const actions = ksActionCounts(db);
  const reads = readCache(db);
  const sync = sqliteCatalog(db, reads);
  // prepared on first use: a catalog that cannot answer makes /readyz a 503, never stops a start
  let ping: { get(): unknown } | null = null;
  let closed = false;
  const { allConversionProfiles, allAccessControlProfiles, revocationMemoStats, ...methods } = sync;
  return {
    ...asyncMethods(methods),
    db,
    generation: reads.generation,
    readCacheStats: reads.stats,
    revocationMemoStats,
    takeKsAction: async (key, limit, expiresAt) => actions.take(key, limit, expiresAt),
    ingest: sqliteIngestStore(db),
    kalturaImport: sqliteImportStore(db),
    library: sqliteLibraryStore(db, { allConversionProfiles, allAccessControlProfiles }),
    async ping() {
      ping ??= db.prepare('SELECT COUNT(*) AS n FROM partners');
      ping.get();
    },
    async close() {
      if (closed) return;
      closed = true;
      reads.close();
      db.close();
    },
  };
}
