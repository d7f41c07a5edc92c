// The catalog on PostgreSQL (KDELIVER_DATABASE_URL=postgres://...): the Catalog interface of
// src/catalog/store.ts over a connection pool, for several stateless nodes sharing one database.
// Same statements as the SQLite catalog where the dialects agree; same results for the same data
// (test/catalog/contract.test.ts).
//
// Reads that delivery repeats (partner, entry, flavors, profiles) are kept in memory like the
// SQLite catalog's, and dropped on every change announced by any node (LISTEN/NOTIFY,
// src/catalog/pg/listen.ts) and on this node's own writes. While the listening connection is down
// nothing is kept and generation() moves on every call, so no answer outlives a change it could
// not hear about.
import { randomBytes } from 'node:crypto';
import { kalturaId } from '../ids.js';
import {
  FIRST_PARTNER_ID, PartnerExistsError, REVOCATIONS_READ_WHOLE, type Catalog, type EntryFilter, type EntryOrder,
} from '../store.js';
import type { AccessControlProfile, CaptionAsset, EntryChanges, Partner, RemoteFile, ThumbAsset } from '../types.js';
import { adminSecretsAdding, adminSecretsRemoving, AdminSecretError, newSecret } from '../admin-secrets.js';
import { pgIngestStore } from './ingest.js';
import { pgImportStore } from './kaltura-import.js';
import { pgLibraryStore } from './library.js';
import { readEntryKeys, storeEntryKeys } from './keys.js';
import { listenForChanges, type CatalogChange, type ChangeListener } from './listen.js';
import { migratePostgres } from './migrate.js';
import { openPgDatabase, type PgDb, type PgOptions, type Queryable } from './pool.js';
import {
  byEntry, toAcp, toCaption, toConversionProfile, toDeliveryProfile, toEntry, toFlavor, toFlavorParams, toPartner, toStorage, toThumb,
  toUiConf, type Row,
} from '../rows.js';
import { all, one, run } from './sql.js';
import { entryWhere, pageBounds, pageSql, POSTGRES_ENTRY_LIST } from '../entry-list.js';
import { createReadMemo, NOT_KEPT } from '../read-memo.js';

export type { CatalogChange } from './listen.js';

/** The PostgreSQL catalog: the Catalog interface, plus the changes other nodes make. */
export interface PgCatalog extends Catalog {
  /** This node's name in the database (application_name `kdeliver:<nodeId>`, the origin of its changes). */
  readonly nodeId: string;
  readonly db: PgDb;
  /**
   * Calls onChange for every change committed by any node (this one included), within
   * milliseconds of the commit; with table '*' when changes may have been missed (the listening
   * connection was lost, and again when it is back). Returns the unsubscribe function.
   */
  subscribe(onChange: (c: CatalogChange) => void): () => void;
}

/** The order of an entry's flavors (ascending bitrate, then insertion) and of its captions (insertion), wherever they are read. */
const FLAVOR_ORDER = 'ORDER BY f.bitrate, f.rowid';
const CAPTION_ORDER = 'ORDER BY c.rowid';
/** An entry's row, its flavors and its captions, each list in its order. */
const ENTRY_WITH_ASSETS = `SELECT to_jsonb(e) AS entry,
    (SELECT COALESCE(jsonb_agg(to_jsonb(f) ${FLAVOR_ORDER}), '[]'::jsonb) FROM flavor_assets f WHERE f.entry_id = e.id) AS flavors,
    (SELECT COALESCE(jsonb_agg(to_jsonb(c) ${CAPTION_ORDER}), '[]'::jsonb) FROM caption_assets c WHERE c.entry_id = e.id) AS captions
  FROM entries e WHERE e.id = @id`;

function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

export interface PgCatalogOptions extends PgOptions {
  /** Run the migrations at open (default true). */
  migrate?: boolean;
  /** A name for this node in the database; default random. */
  nodeId?: string;
}

/** Opens the catalog at `url`: migrates (under the advisory lock), starts listening, and answers. */
export async function openPgCatalog(url: string, opts: PgCatalogOptions = {}): Promise<PgCatalog> {
  const nodeId = opts.nodeId ?? randomBytes(6).toString('hex');
  const db = openPgDatabase(url, { ...opts, applicationName: `kdeliver:${nodeId}` });
  try {
    if (opts.migrate !== false) await migratePostgres(db);
    return await createPgCatalog(db, nodeId);
  } catch (e) {
    await db.close();
    throw e;
  }
}

export async function createPgCatalog(db: PgDb, nodeId: string): Promise<PgCatalog> {
  const memo = createReadMemo();
  const subscribers = new Set<(c: CatalogChange) => void>();
  let generation = 0;
  let closed = false;
  const changed = () => {
    memo.clear();
    generation++;
  };
  const listener: ChangeListener = listenForChanges(db, (c) => {
    changed();
    for (const f of subscribers) {
      try {
        f(c);
      } catch {
        // one subscriber's failure is not another's
      }
    }
  });
  await listener.ready;

  /** Whether a read begun at generation `before` may be kept: changes are heard, and none came during it. */
  const keepable = (before: number): boolean => generation === before && listener.live;
  /** A read kept until the next change; only while changes are heard, and only if none came during the read. */
  async function cached<T>(key: string, load: () => Promise<T>): Promise<T> {
    if (!listener.live) {
      memo.missed();
      return load();
    }
    const hit = memo.get(key);
    if (hit !== NOT_KEPT) return hit as T;
    const before = generation;
    const value = deepFreeze(await load());
    if (keepable(before)) memo.set(key, value);
    return value;
  }
  /**
   * cached for several keys at once: load gets the positions of the keys not kept and answers their
   * values in that order (one statement for a whole list page instead of one per key).
   */
  async function cachedEach<T>(keys: readonly string[], load: (missing: readonly number[]) => Promise<T[]>): Promise<T[]> {
    const out = new Array<T>(keys.length);
    const missing: number[] = [];
    const live = listener.live;
    keys.forEach((key, i) => {
      const hit = live ? memo.get(key) : NOT_KEPT;
      if (!live) memo.missed();
      if (hit === NOT_KEPT) missing.push(i);
      else out[i] = hit as T;
    });
    if (missing.length === 0) return out;
    const before = generation;
    const values = await load(missing);
    const keep = live && keepable(before);
    missing.forEach((i, j) => {
      const value = deepFreeze(values[j]);
      if (keep) memo.set(keys[i], value);
      out[i] = value;
    });
    return out;
  }
  /** A write: its transaction announces itself to every node; this node's cache drops at once. */
  async function write<T>(fn: (tx: Queryable) => Promise<T>): Promise<T> {
    try {
      return await db.transaction(fn);
    } finally {
      changed();
    }
  }
  const get = <T>(sql: string, map: (r: Row) => T) => async (params: Record<string, unknown>) => {
    const r = await one(db, sql, params);
    return r && map(r);
  };

  const partner = get('SELECT * FROM partners WHERE id = @id', toPartner);
  /**
   * An entry read for the first time, with its flavors and captions, which nearly every reader of
   * an entry asks next (playManifest, getPlaybackContext, the media routes): one statement, so
   * one round trip to the database instead of three (src/catalog/catalog.ts does the same for
   * SQLite, where the cost is the read transaction rather than the network). The rows ride as
   * JSON: these tables hold BIGINT, DOUBLE PRECISION and TEXT only, which JSON gives back as the
   * same values (test/catalog/pg-read-cache.test.ts compares them with the rows read one by one).
   * The flavors and captions are kept under their own keys, by the rule cached() keeps by (keepable).
   */
  const entry = async ({ id }: { id: string }) => {
    const before = generation;
    const r = await one(db, ENTRY_WITH_ASSETS, { id });
    if (!r) return undefined;
    if (keepable(before)) {
      memo.set(`flavors:${id}`, deepFreeze((r.flavors as Row[]).map(toFlavor)));
      memo.set(`captions:${id}`, deepFreeze((r.captions as Row[]).map(toCaption)));
    }
    return toEntry(r.entry as Row);
  };
  const assetIdTaken = `SELECT 1 FROM flavor_assets WHERE id = @id UNION ALL SELECT 1 FROM caption_assets WHERE id = @id
    UNION ALL SELECT 1 FROM thumb_assets WHERE id = @id`;
  const clearDefaultAcp = 'UPDATE access_control_profiles SET is_default = 0 WHERE partner_id = @partnerId AND id <> @id AND is_default <> 0';
  const clearDefaultCaption = 'UPDATE caption_assets SET is_default = 0 WHERE entry_id = @entryId AND id <> @id AND is_default <> 0';
  const setAdminSecrets = 'UPDATE partners SET admin_secret = @admin, additional_admin_secrets = @additional WHERE id = @id';
  /** The partner's row locked in the write's transaction: two changes of its secrets do not lose one. */
  const partnerToChange = async (tx: Queryable, id: number): Promise<Partner> => {
    const r = await one(tx, 'SELECT * FROM partners WHERE id = @id FOR UPDATE', { id });
    if (!r) throw new AdminSecretError(`no partner ${id}`);
    return toPartner(r);
  };
  const setEntryThumbnail = 'UPDATE entries SET thumbnail_file = @file, version = version + 1, updated_at = @now WHERE id = @id';
  // when this node last dropped the action counts of expired KSs (at most once a minute)
  let actionCountsPurgedAt = 0;

  const catalog: PgCatalog = {
    nodeId,
    db,
    generation(): number {
      // changes cannot be heard: every answer may be stale, so none is reused
      if (!listener.live) generation++;
      return generation;
    },
    readCacheStats: () => memo.stats(),
    subscribe(onChange) {
      subscribers.add(onChange);
      return () => void subscribers.delete(onChange);
    },

    getPartner: (id) => cached(`partner:${id}`, () => partner({ id })),
    listPartners: () => cached('partners', async () => (await all(db, 'SELECT * FROM partners ORDER BY id')).map(toPartner)),
    countEntries: async (partnerId) =>
      (await one(db, 'SELECT COUNT(*) AS n FROM entries WHERE partner_id = @partnerId AND status <> 3', { partnerId }))!.n,
    addPartner: (p) => write(async (tx) => {
      // one adder at a time, so that "the next id" is decided and taken atomically; readers go on
      await tx.query('LOCK TABLE partners IN SHARE ROW EXCLUSIVE MODE');
      const max = (await one(tx, 'SELECT MAX(id) AS id FROM partners'))!.id as number | null;
      const id = p.id ?? Math.max(FIRST_PARTNER_ID - 1, max ?? 0) + 1;
      const existing = await one(tx, 'SELECT name FROM partners WHERE id = @id', { id });
      if (existing) throw new PartnerExistsError(`partner ${id} exists (${existing.name})`);
      await run(tx, 'INSERT INTO partners (id, name, admin_secret, user_secret) VALUES (@id, @name, @admin, @user)', {
        id, name: p.name ?? `Partner ${id}`, admin: randomBytes(16).toString('hex'), user: randomBytes(16).toString('hex'),
      });
      return toPartner((await one(tx, 'SELECT * FROM partners WHERE id = @id', { id }))!);
    }),
    addAdminSecret: (partnerId, o = {}) => write(async (tx) => {
      const secret = o.secret ?? newSecret();
      const next = adminSecretsAdding(await partnerToChange(tx, partnerId), secret, !!o.primary);
      await run(tx, setAdminSecrets, { id: partnerId, admin: next.adminSecret, additional: JSON.stringify(next.additional) });
      return secret;
    }),
    removeAdminSecret: (partnerId, secret) => write(async (tx) => {
      const p = await partnerToChange(tx, partnerId);
      await run(tx, setAdminSecrets, { id: partnerId, admin: p.adminSecret, additional: JSON.stringify(adminSecretsRemoving(p, secret)) });
    }),

    getFlavorParams: (id) => cached(`fp:${id}`, get('SELECT * FROM flavor_params WHERE id = @id', toFlavorParams).bind(null, { id })),
    listFlavorParams: () => cached('fps', async () => (await all(db, 'SELECT * FROM flavor_params ORDER BY id')).map(toFlavorParams)),
    listConversionProfiles: async (partnerId) =>
      (await all(db, 'SELECT * FROM conversion_profiles WHERE partner_id IN (0, @partnerId) ORDER BY id', { partnerId })).map(toConversionProfile),
    getConversionProfile: (id) => get('SELECT * FROM conversion_profiles WHERE id = @id', toConversionProfile)({ id }),

    getEntry: (id) => cached(`entry:${id}`, () => entry({ id })),
    listFlavors: (entryId) => cached(`flavors:${entryId}`, async () =>
      (await all(db, `SELECT * FROM flavor_assets f WHERE entry_id = @entryId ${FLAVOR_ORDER}`, { entryId })).map(toFlavor)),
    listFlavorsOfEntries: (entryIds) => cachedEach(entryIds.map((id) => `flavors:${id}`), async (missing) => {
      const ids = missing.map((i) => entryIds[i]);
      return byEntry(ids, await all(db, `SELECT * FROM flavor_assets f WHERE entry_id = ANY(@ids) ${FLAVOR_ORDER}`, { ids }), toFlavor);
    }),
    getFlavor: (id) => cached(`flavor:${id}`, () => get('SELECT * FROM flavor_assets WHERE id = @id', toFlavor)({ id })),
    listCaptions: (entryId) => cached(`captions:${entryId}`, async () =>
      (await all(db, `SELECT * FROM caption_assets c WHERE entry_id = @entryId ${CAPTION_ORDER}`, { entryId })).map(toCaption)),
    getCaption: (id) => cached(`caption:${id}`, () => get('SELECT * FROM caption_assets WHERE id = @id', toCaption)({ id })),
    listRemoteFiles: (flavorAssetId) => cached(`remote:${flavorAssetId}`, async () =>
      (await all(db, 'SELECT * FROM remote_files WHERE flavor_asset_id = @flavorAssetId ORDER BY storage_profile_id', { flavorAssetId })).map((r): RemoteFile => ({
        flavorAssetId: r.flavor_asset_id, storageProfileId: r.storage_profile_id, path: r.path,
      }))),
    async listEntries(f: EntryFilter, pageSize = 30, pageIndex = 1) {
      const { where: w, params } = entryWhere(f, POSTGRES_ENTRY_LIST);
      const { size, offset } = pageBounds(pageSize, pageIndex);
      // a list's count visits every matching row of the partner while its page reads 30: kept until
      // the catalog changes (as every cached read), so paging through one list counts it once
      const [totalCount, rows] = await Promise.all([
        cached(`count:${w}:${JSON.stringify(params)}`, async () => (await one(db, `SELECT COUNT(*) AS n FROM entries WHERE ${w}`, params))!.n as number),
        all(db, pageSql(w, f.orderBy ?? '-createdAt', size, offset), params),
      ]);
      return { objects: rows.map(toEntry), totalCount };
    },

    getAccessControlProfile: (id) => cached(`acp:${id}`, () => get('SELECT * FROM access_control_profiles WHERE id = @id', toAcp)({ id })),
    listAccessControlProfiles: async (partnerId) =>
      (await all(db, 'SELECT * FROM access_control_profiles WHERE partner_id = @partnerId ORDER BY id', { partnerId })).map(toAcp),
    getDeliveryProfile: (id) => cached(`dp:${id}`, () => get('SELECT * FROM delivery_profiles WHERE id = @id', toDeliveryProfile)({ id })),
    listDeliveryProfiles: () => cached('dps', async () => (await all(db, 'SELECT * FROM delivery_profiles ORDER BY id')).map(toDeliveryProfile)),
    getStorageProfile: (id) => cached(`sp:${id}`, () => get('SELECT * FROM storage_profiles WHERE id = @id', toStorage)({ id })),
    listStorageProfiles: (partnerId) => cached(`sps:${partnerId}`, async () =>
      (await all(db, 'SELECT * FROM storage_profiles WHERE partner_id = @partnerId ORDER BY id', { partnerId })).map(toStorage)),
    getUiConf: (id) => cached(`uiconf:${id}`, () => get('SELECT * FROM ui_confs WHERE id = @id', toUiConf)({ id })),
    listUiConfs: async () => (await all(db, 'SELECT * FROM ui_confs ORDER BY id')).map(toUiConf),

    // asked on every request with a KS, and a player's KS is new with each viewing. While every
    // revocation fits in one read (sessions ended before their KSs expired: few, as revokeSession
    // drops the expired ones), one statement per catalog generation answers every key, a new KS's
    // without a round trip, as the SQLite catalog does; past that, one per key. Either is kept like
    // any read, dropped when any node revokes a session (announced like every write); while
    // changes are not heard nothing is kept, so then only the key's own row is read
    isRevoked: async (key, now) => {
      const every = listener.live ? await cached('revoked:every', async () => {
        const rows = await all(db, 'SELECT key, expires_at FROM revoked_sessions LIMIT @limit', { limit: REVOCATIONS_READ_WHOLE + 1 });
        return rows.length > REVOCATIONS_READ_WHOLE ? null : new Map(rows.map((r) => [r.key as string, r.expires_at as number]));
      }) : null;
      const until = every ? every.get(key) ?? null : await cached(`revoked:${key}`, async () =>
        ((await one(db, 'SELECT expires_at FROM revoked_sessions WHERE key = @key', { key }))?.expires_at ?? null) as number | null);
      return until !== null && until > now;
    },
    revokeSession: (key, expiresAt) => write(async (tx) => {
      await run(tx, 'DELETE FROM revoked_sessions WHERE expires_at <= @now', { now: Math.floor(Date.now() / 1000) });
      await run(tx, `INSERT INTO revoked_sessions (key, expires_at) VALUES (@key, @expiresAt)
        ON CONFLICT (key) DO UPDATE SET expires_at = excluded.expires_at`, { key, expiresAt });
    }),
    // one statement, atomic under concurrent nodes: the first action makes the row with the
    // actions left after it, each later one takes one while any is left (no row back: none was)
    takeKsAction: async (key, limit, expiresAt) => {
      const now = Math.floor(Date.now() / 1000);
      if (now >= actionCountsPurgedAt + 60) {
        actionCountsPurgedAt = now;
        await run(db, 'DELETE FROM ks_action_counts WHERE expires_at <= @now', { now });
      }
      return (await one(db, `INSERT INTO ks_action_counts (key, remaining, expires_at) VALUES (@key, @left, @expiresAt)
        ON CONFLICT (key) DO UPDATE SET remaining = ks_action_counts.remaining - 1 WHERE ks_action_counts.remaining > 0
        RETURNING remaining`, { key, left: limit - 1, expiresAt })) !== undefined;
    },

    updateEntry: (id: string, changes: EntryChanges, now: number) => write(async (tx) => {
      const r = await one(tx, 'SELECT * FROM entries WHERE id = @id FOR UPDATE', { id });
      if (!r) return;
      await run(tx, `UPDATE entries SET name = @name, description = @description, tags = @tags, admin_tags = @adminTags,
        reference_id = @referenceId, access_control_profile_id = @accessControlProfileId, start_date = @startDate,
        end_date = @endDate, moderation_status = @moderationStatus, partner_data = @partnerData, updated_at = @now WHERE id = @id`,
      { ...toEntry(r), ...changes, id, now });
    }),
    setEntryThumbnail: (id, file, now) => write(async (tx) => void (await run(tx, setEntryThumbnail, { file, now, id }))),
    addAccessControlProfile: (p, now) => write(async (tx) => {
      // the id SQLite would give (the highest + 1), taken by one writer at a time
      await tx.query('LOCK TABLE access_control_profiles IN SHARE ROW EXCLUSIVE MODE');
      const id = ((await one(tx, 'SELECT COALESCE(MAX(id), 0) + 1 AS id FROM access_control_profiles'))!.id) as number;
      await run(tx, `INSERT INTO access_control_profiles (id, partner_id, name, system_name, description, is_default, rules, created_at, updated_at)
        VALUES (@id, @partnerId, @name, @systemName, @description, @isDefault, @rules, @now, @now)`,
      { ...p, id, rules: JSON.stringify(p.rules), now });
      if (p.isDefault) await run(tx, clearDefaultAcp, { partnerId: p.partnerId, id });
      return id;
    }),
    updateAccessControlProfile: (p: AccessControlProfile, now: number) => write(async (tx) => {
      await run(tx, `UPDATE access_control_profiles SET name = @name, system_name = @systemName, description = @description,
        is_default = @isDefault, rules = @rules, updated_at = @now WHERE id = @id`, { ...p, rules: JSON.stringify(p.rules), now });
      if (p.isDefault) await run(tx, clearDefaultAcp, { partnerId: p.partnerId, id: p.id });
    }),
    accessControlProfileBySystemName: async (partnerId, systemName) =>
      (await one(db, "SELECT id FROM access_control_profiles WHERE partner_id = @partnerId AND system_name = @systemName AND system_name <> '' ORDER BY id",
        { partnerId, systemName }))?.id,
    countEntriesWithAccessControlProfile: async (id) =>
      (await one(db, 'SELECT COUNT(*) AS n FROM entries WHERE access_control_profile_id = @id', { id }))!.n,
    deleteAccessControlProfile: (id, moveTo, now) => write(async (tx) => {
      await run(tx, 'UPDATE entries SET access_control_profile_id = @moveTo, updated_at = @now WHERE access_control_profile_id = @id', { moveTo, now, id });
      await run(tx, 'DELETE FROM access_control_profiles WHERE id = @id', { id });
    }),
    addCaption: (c: CaptionAsset) => write(async (tx) => {
      await run(tx, `INSERT INTO caption_assets (id, entry_id, partner_id, language, language_code, label, format, file_path,
        size, is_default, status, version, display_on_player, created_at, updated_at)
        VALUES (@id, @entryId, @partnerId, @language, @languageCode, @label, @format, @filePath, @size, @isDefault, @status,
        @version, @displayOnPlayer, @createdAt, @updatedAt)`, { ...c });
      if (c.isDefault) await run(tx, clearDefaultCaption, { entryId: c.entryId, id: c.id });
    }),
    updateCaption: (c: CaptionAsset) => write(async (tx) => {
      await run(tx, `UPDATE caption_assets SET language = @language, language_code = @languageCode, label = @label,
        format = @format, file_path = @filePath, size = @size, is_default = @isDefault, status = @status, version = @version,
        display_on_player = @displayOnPlayer, updated_at = @updatedAt WHERE id = @id`, { ...c });
      if (c.isDefault) await run(tx, clearDefaultCaption, { entryId: c.entryId, id: c.id });
    }),
    deleteCaption: (id) => write(async (tx) => void (await run(tx, 'DELETE FROM caption_assets WHERE id = @id', { id }))),
    listThumbAssets: (entryId) => cached(`thumbs:${entryId}`, async () =>
      (await all(db, 'SELECT * FROM thumb_assets WHERE entry_id = @entryId ORDER BY created_at, rowid', { entryId })).map(toThumb)),
    getThumbAsset: (id) => cached(`thumb:${id}`, () => get('SELECT * FROM thumb_assets WHERE id = @id', toThumb)({ id })),
    addThumbAsset: (t: ThumbAsset) => write(async (tx) => void (await run(tx, `INSERT INTO thumb_assets (id, entry_id, partner_id,
      file_path, file_ext, width, height, size, tags, description, is_default, status, version, created_at, updated_at)
      VALUES (@id, @entryId, @partnerId, @filePath, @fileExt, @width, @height, @size, @tags, @description, @isDefault, @status,
      @version, @createdAt, @updatedAt)`, { ...t }))),
    updateThumbAsset: (t: ThumbAsset) => write(async (tx) => void (await run(tx, `UPDATE thumb_assets SET file_path = @filePath,
      file_ext = @fileExt, width = @width, height = @height, size = @size, tags = @tags, description = @description,
      status = @status, version = @version, updated_at = @updatedAt WHERE id = @id`, { ...t }))),
    setDefaultThumbAsset: (t: ThumbAsset, now: number) => write(async (tx) => {
      await run(tx, 'UPDATE thumb_assets SET is_default = CASE WHEN id = @id THEN 1 ELSE 0 END WHERE entry_id = @entryId', { id: t.id, entryId: t.entryId });
      await run(tx, setEntryThumbnail, { file: t.filePath, now, id: t.entryId });
    }),
    deleteThumbAsset: (id) => write(async (tx) => void (await run(tx, 'DELETE FROM thumb_assets WHERE id = @id', { id }))),
    deleteThumbAssetsOfEntry: (entryId) => write(async (tx) => void (await run(tx, 'DELETE FROM thumb_assets WHERE entry_id = @entryId', { entryId }))),
    deleteFlavor: (id) => write(async (tx) => void (await run(tx, 'DELETE FROM flavor_assets WHERE id = @id', { id }))),
    async newAssetId() {
      for (;;) {
        const id = kalturaId();
        if (!(await one(db, assetIdTaken, { id }))) return id;
      }
    },

    setUploadTokenV2Key: (tokenId, key) => write(async (tx) => void (await run(tx, 'UPDATE upload_tokens SET v2_key = @key WHERE id = @tokenId', { key, tokenId }))),
    uploadTokenIdByV2Key: async (key) =>
      (await one(db, 'SELECT id FROM upload_tokens WHERE v2_key = @key ORDER BY created_at DESC, rowid DESC LIMIT 1', { key }))?.id,
    // an entry made before keys existed (migration 9) gets random ones at its first read
    getEntryKeys: (entryId) => cached(`keys:${entryId}`, async () => (await readEntryKeys(db, entryId))
      ?? write(async (tx) => {
        await storeEntryKeys(tx, entryId, undefined, Math.floor(Date.now() / 1000));
        return (await readEntryKeys(tx, entryId))!;
      })),
    isEmpty: async () => (await one(db, 'SELECT (SELECT COUNT(*) FROM entries) + (SELECT COUNT(*) FROM partners) AS n'))!.n === 0,

    ingest: pgIngestStore(db, write),
    kalturaImport: pgImportStore(db, write),
    library: pgLibraryStore(db, write),

    async ping() {
      await db.query('SELECT 1 FROM partners LIMIT 1');
    },
    async close() {
      if (closed) return;
      closed = true;
      subscribers.clear();
      await listener.close();
      await db.close();
    },
  };
  return catalog;
}

/** Runs a write transaction of the catalog (the stores of ingest, import and library share it). */
export type WriteFn = <T>(fn: (tx: Queryable) => Promise<T>) => Promise<T>;
