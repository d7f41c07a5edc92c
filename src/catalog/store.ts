// The catalog as the rest of kdeliver sees it: one asynchronous interface, whatever keeps the
// data. src/catalog/catalog.ts implements it over SQLite (the embedded default); a PostgreSQL
// implementation implements the same. Callers hold a Catalog and never see SQL or a driver.
//
// Rules every implementation keeps:
// - Every method that changes more than one row is ONE method here and runs as one transaction
//   inside the implementation; callers never spread a transaction over several awaits.
// - Results may be cached and shared (frozen): callers copy before they change anything.
// - `undefined` means "no such record"; a failing database rejects the promise (callers answer
//   503), it never resolves to "not found".
// - Times are Unix seconds unless a name says otherwise.
import type {
  AccessControlProfile, CaptionAsset, ConversionProfile, DeliveryProfile, Entry, EntryChanges, FlavorAsset,
  FlavorParams, Partner, RemoteFile, StorageProfile, ThumbAsset, UiConf,
} from './types.js';
import type { EntryKeys, GivenEntryKeys } from './keys.js';

// ---------------------------------------------------------------------------------------------
// Entry lists (api_v3 baseEntry.list / media.list, API v2 listentries)

export interface EntryFilter {
  partnerId: number;
  idIn?: string[];
  referenceIdEqual?: string;
  /** Substring of the name; `%`, `_` and `\` in it are literal. */
  nameLike?: string;
  statusIn?: number[];
  /** Statuses left out (with deleted entries, which stay out unless statusIn or includeDeleted asks). */
  statusNotIn?: number[];
  /** Kaltura's entry.moderationStatus: only these, or all but these. */
  moderationStatusIn?: number[];
  moderationStatusNotIn?: number[];
  mediaTypeEqual?: number;
  typeIn?: number[];
  userIdEqual?: string;
  mediaTypeIn?: number[];
  /** Entries whose comma-joined tags contain any of these words (case-insensitive, as SQLite's LIKE). */
  tagsMultiLikeOr?: string[];
  createdAtGreaterThanOrEqual?: number;
  /** The order of the result; default newest first ('-createdAt'); ties by id. */
  orderBy?: EntryOrder;
  /** Include deleted entries (status 3); off unless statusIn asks for them. */
  includeDeleted?: boolean;
}

/** The orders an entry list may be asked in (Kaltura's KalturaBaseEntryOrderBy values). */
export const ENTRY_ORDER_NAMES = [
  '+createdAt', '-createdAt', '+updatedAt', '-updatedAt', '+name', '-name', '+duration', '-duration',
] as const;
export type EntryOrder = (typeof ENTRY_ORDER_NAMES)[number];

/** Partner ids below are Kaltura's system and template partners. */
export const FIRST_PARTNER_ID = 100;

/**
 * Up to this many KS revocations, both catalogs read them all in one statement per catalog
 * generation (isRevoked), so a new KS, one per player session, is answered without a database
 * read; past it, each key's row is read by itself.
 */
export const REVOCATIONS_READ_WHOLE = 10_000;

/** addPartner: the id asked for is taken. */
export class PartnerExistsError extends Error {}

// ---------------------------------------------------------------------------------------------
// The catalog

export interface Catalog {
  /**
   * A number that changes whenever the catalog may have changed: own writes at once, writes by
   * other processes or nodes as soon as the implementation learns of them (SQLite: data_version,
   * read at most once per millisecond; PostgreSQL: LISTEN/NOTIFY). Synchronous and cheap: the
   * answer cache (src/cache/manifest-cache.ts) calls it on every request. A cached read result
   * never outlives a generation change.
   */
  generation(): number;
  /** The read cache's size and its hits and misses since start (/metrics); absent where a catalog keeps none. */
  readCacheStats?(): { entries: number; hits: number; misses: number };
  /**
   * The KS revocation memo's size and hits and misses since start (/metrics); absent where
   * revocations are kept in the read cache (PostgreSQL) and counted there.
   */
  revocationMemoStats?(): { entries: number; hits: number; misses: number };

  // ---- partners
  getPartner(id: number): Promise<Partner | undefined>;
  listPartners(): Promise<readonly Partner[]>;
  /** Entries of a partner that are not deleted. */
  countEntries(partnerId: number): Promise<number>;
  /**
   * Adds an active partner with new random admin and user secrets (32 hex characters). Its id is
   * `id`, or max(FIRST_PARTNER_ID, highest id + 1), decided and inserted atomically. Uses the
   * system defaults (partner 0's delivery and conversion profiles). Rejects with
   * PartnerExistsError when the id is taken.
   */
  addPartner(p: { id?: number; name?: string }): Promise<Partner>;
  /**
   * Gives the partner another admin secret, `secret` or 32 random hex characters, and answers it.
   * Without `primary` it is an additional one; with it, it becomes the admin secret and the old
   * admin secret an additional one (an additional secret given so is promoted). Rejects with
   * AdminSecretError (src/catalog/admin-secrets.ts): no such partner, a secret it has already,
   * its user secret, or one too short.
   */
  addAdminSecret(partnerId: number, o?: { secret?: string; primary?: boolean }): Promise<string>;
  /**
   * Takes one of the partner's additional admin secrets away: the KSs it signed fail from then on.
   * Rejects with AdminSecretError: no such partner or secret, or the admin secret itself.
   */
  removeAdminSecret(partnerId: number, secret: string): Promise<void>;

  // ---- flavor params, conversion profiles
  getFlavorParams(id: number): Promise<FlavorParams | undefined>;
  /** Ordered by id. */
  listFlavorParams(): Promise<readonly FlavorParams[]>;
  /** The partner's and the system's (partner 0) profiles, ordered by id. */
  listConversionProfiles(partnerId: number): Promise<ConversionProfile[]>;
  getConversionProfile(id: number): Promise<ConversionProfile | undefined>;

  // ---- entries and their assets
  getEntry(id: string): Promise<Entry | undefined>;
  /** Every flavor asset of an entry, whatever its status, in ascending bitrate (ties: insertion order). */
  listFlavors(entryId: string): Promise<readonly FlavorAsset[]>;
  /**
   * listFlavors of each entry, in the order asked (a list page's entries): the same answers, and
   * kept under the same keys, but those not kept are read in one statement, not one per entry.
   */
  listFlavorsOfEntries(entryIds: readonly string[]): Promise<(readonly FlavorAsset[])[]>;
  getFlavor(id: string): Promise<FlavorAsset | undefined>;
  /** Insertion order. */
  listCaptions(entryId: string): Promise<readonly CaptionAsset[]>;
  getCaption(id: string): Promise<CaptionAsset | undefined>;
  /** The remote copies of a flavor on storage profiles. */
  listRemoteFiles(flavorAssetId: string): Promise<readonly RemoteFile[]>;
  /**
   * One page of entries matching the filter and the total count of matches. The pager is read
   * by pageBounds (src/catalog/entry-list.ts): whole numbers, pageSize kept to 1..500, pageIndex from 1.
   */
  listEntries(f: EntryFilter, pageSize?: number, pageIndex?: number): Promise<{ objects: Entry[]; totalCount: number }>;

  // ---- access control, delivery, storage, uiConfs
  getAccessControlProfile(id: number): Promise<AccessControlProfile | undefined>;
  /** Ordered by id. */
  listAccessControlProfiles(partnerId: number): Promise<AccessControlProfile[]>;
  getDeliveryProfile(id: number): Promise<DeliveryProfile | undefined>;
  /** Every delivery profile, ordered by id. */
  listDeliveryProfiles(): Promise<readonly DeliveryProfile[]>;
  getStorageProfile(id: number): Promise<StorageProfile | undefined>;
  listStorageProfiles(partnerId: number): Promise<readonly StorageProfile[]>;
  /** A uiConf of the partner or of every partner (0); the caller checks the partner. */
  getUiConf(id: number): Promise<UiConf | undefined>;
  /** Ordered by id. */
  listUiConfs(): Promise<UiConf[]>;

  // ---- KS revocation (session.end)
  /** Whether the revocation key is revoked and its revocation has not expired (expires_at > now). */
  isRevoked(key: string, now: number): Promise<boolean>;
  /** Revokes a key until expiresAt (insert or replace); drops revocations expired by the wall clock. */
  revokeSession(key: string, expiresAt: number): Promise<void>;
  /**
   * Takes one of the API actions a KS with `actionslimit:limit` may make (src/access/ks.ts
   * countKsAction), under its revocation key, kept until expiresAt: true while one was left, in one
   * atomic statement whatever the number of processes and nodes. Not a catalog change: nothing
   * kept is dropped for it (on PostgreSQL nothing is announced either).
   */
  takeKsAction(key: string, limit: number, expiresAt: number): Promise<boolean>;

  // ---- library management (api_v3, API v2). Each call keeps the catalog whole on its own.
  /** Changes an entry's editable fields (the others stay); no-op when the entry does not exist. */
  updateEntry(id: string, changes: EntryChanges, now: number): Promise<void>;
  /** Makes a file (relative to the media root) the entry's thumbnail; the entry's version goes up by one. */
  setEntryThumbnail(id: string, file: string | null, now: number): Promise<void>;
  /** A new profile; returns its id. With isDefault, the partner's other profiles stop being default (same transaction). */
  addAccessControlProfile(p: Omit<AccessControlProfile, 'id' | 'createdAt' | 'updatedAt'>, now: number): Promise<number>;
  /** Writes every field; with isDefault the partner's others stop being default (same transaction). */
  updateAccessControlProfile(p: AccessControlProfile, now: number): Promise<void>;
  /** The id of the partner's profile with this system name, if any ('' names none). */
  accessControlProfileBySystemName(partnerId: number, systemName: string): Promise<number | undefined>;
  /** How many entries (deleted ones included) name the profile. */
  countEntriesWithAccessControlProfile(id: number): Promise<number>;
  /** Moves the entries naming the profile to `moveTo`, then deletes it: one transaction. */
  deleteAccessControlProfile(id: number, moveTo: number | null, now: number): Promise<void>;
  /** Inserts; a default caption takes the default from the entry's others (same transaction). */
  addCaption(c: CaptionAsset): Promise<void>;
  /** Writes every field; a default caption takes the default from the entry's others (same transaction). */
  updateCaption(c: CaptionAsset): Promise<void>;
  deleteCaption(id: string): Promise<void>;
  /** Ordered by createdAt, then insertion. */
  listThumbAssets(entryId: string): Promise<readonly ThumbAsset[]>;
  getThumbAsset(id: string): Promise<ThumbAsset | undefined>;
  addThumbAsset(t: ThumbAsset): Promise<void>;
  /** Writes the content fields (not isDefault: setDefaultThumbAsset). */
  updateThumbAsset(t: ThumbAsset): Promise<void>;
  /** The asset becomes its entry's only default and the entry's thumbnail file (as setEntryThumbnail): one transaction. */
  setDefaultThumbAsset(t: ThumbAsset, now: number): Promise<void>;
  deleteThumbAsset(id: string): Promise<void>;
  deleteThumbAssetsOfEntry(entryId: string): Promise<void>;
  deleteFlavor(id: string): Promise<void>;
  /** An id (src/catalog/ids.ts kalturaId) that no flavor, caption or thumbnail asset has at the time of the call. */
  newAssetId(): Promise<string>;

  // ---- API v2 uploads (the v2 key of an upload token)
  setUploadTokenV2Key(tokenId: string, key: string): Promise<void>;
  /** The newest token filed under the key. */
  uploadTokenIdByV2Key(key: string): Promise<string | undefined>;

  /**
   * The entry's content key and key id (src/catalog/keys.ts); an entry without keys (made before
   * migration 9) gets new random ones, stored, at this call. Only the drm stage reads them.
   */
  getEntryKeys(entryId: string): Promise<EntryKeys>;

  /** No entries and no partners (first start: seed the sample library). */
  isEmpty(): Promise<boolean>;

  // ---- the other parts of the same database
  readonly ingest: IngestStore;
  readonly kalturaImport: KalturaImportStore;
  readonly library: LibraryStore;

  /** Resolves when the database answers a trivial query over a catalog table (partners); rejects otherwise (/readyz). */
  ping(): Promise<void>;
  /** Closes the connection(s); nothing may be called after. Idempotent. */
  close(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// Ingest: entries made by ingest, the job queue with leases, upload tokens

export type JobState = 'queued' | 'running' | 'done' | 'failed';

export interface IngestJob {
  id: number;
  entryId: string;
  partnerId: number;
  conversionProfileId: number | null;
  state: JobState;
  progress: number;
  attempts: number;
  error: string | null;
  /** The attempt token of the runner that holds a running job (src/ingest/lease.ts). */
  ownerToken: string | null;
  /** For people only (which process it is); never used to decide whether the job is live. */
  ownerPid: number | null;
  leaseUntil: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface UploadToken {
  id: string;
  partnerId: number;
  userId: string;
  status: number;
  fileName: string;
  fileSize: number | null;
  uploadedFileSize: number;
  entryId: string | null;
  createdAt: number;
  updatedAt: number;
}

/** A chunk of an upload staged as an object of a shared media store (src/ingest/uploads.ts). */
export interface UploadPart {
  /** Byte offset of the chunk in the file. */
  offset: number;
  length: number;
  /** Its key in the media store. */
  objectKey: string;
}

/** What recording a staged chunk decided (IngestStore.addUploadPart). */
export interface UploadPartOutcome {
  /** ok (a chunk past what has arrived is kept for later); `status`: the token takes no chunk (not PENDING or PARTIAL_UPLOAD); `gap`: a final chunk that starts past what has arrived; `size`: a final chunk that leaves the file at another size than the token's. */
  outcome: 'ok' | 'status' | 'gap' | 'size';
  /** The token after the call (unchanged unless ok or size). */
  token: UploadToken;
  /** Where the chunk went (its resolved offset). */
  offset: number;
  /** Keys of parts no longer part of the file (a restart), for the caller to remove from the store. */
  dropped: string[];
}

/** Kaltura's KalturaUploadTokenStatus. */
export const UploadTokenStatus = { PENDING: 0, PARTIAL_UPLOAD: 1, FULL_UPLOAD: 2, CLOSED: 3, TIMED_OUT: 4, DELETED: 5 } as const;

/** Who holds a running job: an attempt token, until a time (Unix seconds); the pid is for people. */
export interface JobOwner {
  token: string;
  pid: number;
  leaseUntil: number;
}

export interface NewEntry {
  id: string; partnerId: number; name: string; description?: string; status: number; mediaType: number;
  userId?: string; tags?: string; referenceId?: string; now: number;
  /** The conversion profile media.add was given (null or absent: the partner's default when content comes). */
  conversionProfileId?: number | null;
}

/** addSource's catalog side (src/ingest/pipeline.ts): the source flavor of a new or existing entry, and its job. */
export interface SourceRegistration {
  /** Creates this entry (type 1, duration 0, version 1); absent: the entry exists. */
  newEntry?: NewEntry;
  /** Existing entry only: its previous source flavors, deleted; and its status becomes `status`. */
  replaceFlavorIds: string[];
  entryId: string;
  /** Existing entry only: the status it takes (PRECONVERT). A new entry has newEntry.status. */
  status: number;
  /**
   * Existing entry only: write only if it still takes content (NO_CONTENT, or ERROR_IMPORTING
   * without a source: src/ingest/pipeline.ts takesContent), as when it was judged to; when another
   * request or process gave it content meanwhile, nothing is written.
   */
  ifTakesContent?: boolean;
  /** The source flavor asset to insert. */
  flavor: FlavorAsset;
  /** What the probe says: stored as the entry's media type and duration. */
  mediaType: number;
  duration: number;
  partnerId: number;
  conversionProfileId: number | null;
  /** With an owner the job is created already claimed (state running, attempts 1); else queued. */
  owner?: JobOwner;
  now: number;
}

export interface IngestStore {
  /** New random ids (kalturaId) not used by any entry / flavor asset / upload token at the time of the call. */
  newEntryId(): Promise<string>;
  newFlavorId(): Promise<string>;
  newUploadTokenId(): Promise<string>;
  entryExists(id: string): Promise<boolean>;
  /**
   * Inserts an entry (type 1, duration 0, version 1, created/updated now) behind the partner's
   * default access-control profile when it has one, as Kaltura's entry gets it on creation: a
   * default holding rules (a KS required) protects what is uploaded next. media.add's
   * accessControlId replaces it afterwards.
   */
  createEntry(e: NewEntry): Promise<void>;
  setEntryStatus(id: string, status: number, now: number): Promise<void>;
  /** Status READY (2), duration, media type, thumbnail (when not null), version + 1. */
  setEntryReady(id: string, v: { duration: number; mediaType: number; thumbnailFile: string | null; now: number }): Promise<void>;
  insertFlavor(f: FlavorAsset): Promise<void>;
  deleteFlavor(id: string): Promise<void>;
  /** What the probed source says about its entry. */
  setEntrySource(id: string, mediaType: number, duration: number): Promise<void>;
  /**
   * The catalog side of deleting an entry, one transaction: its flavor, caption and thumbnail
   * assets and its jobs go; the entry stays as DELETED (3) with no data or thumbnail file.
   */
  markEntryDeleted(id: string, now: number): Promise<void>;
  /** Before a (re-)transcode: the non-source flavors make way for the new ones. */
  deleteRenditions(entryId: string): Promise<void>;

  /** One transaction: see SourceRegistration. Returns the job id; null when `ifTakesContent` and the entry no longer does. */
  registerSource(r: SourceRegistration): Promise<number | null>;
  /**
   * One transaction: an existing entry whose new content could not be read goes to `status`
   * (ERROR_IMPORTING) with a job recorded as failed with `reason` (never claimed). Returns the job
   * id; null, with nothing written, when `ifTakesContent` and the entry no longer takes content.
   */
  recordFailedSource(entryId: string, partnerId: number, conversionProfileId: number | null, status: number, reason: string, now: number, ifTakesContent?: boolean): Promise<number | null>;
  /**
   * One transaction (`kdeliver ingest --retry`): the entry goes to `status` (PRECONVERT) and a job
   * is created claimed by `owner`, with the conversion profile of the entry's latest job (or null).
   * Returns the job id.
   */
  retryEntry(entryId: string, partnerId: number, status: number, owner: JobOwner, now: number): Promise<number>;
  /**
   * The end of a successful job, one transaction, all or nothing: only if the entry exists and is
   * not DELETED, and finishJob(jobId, token, 'done', null, 1, now) succeeds; then the entry's
   * non-source flavors are replaced by `flavors` and the entry is set ready (setEntryReady).
   * False (nothing written) when the attempt lost the job or the entry is gone.
   */
  completeJob(jobId: number, token: string, entryId: string, flavors: FlavorAsset[],
    ready: { duration: number; mediaType: number; thumbnailFile: string | null; now: number }): Promise<boolean>;
  /**
   * The end of a failed job, one transaction: finishJob(jobId, token, 'failed', reason, 0, now);
   * when that succeeds and the entry exists and is not DELETED, the entry takes `status`.
   * False (nothing written) when the attempt no longer holds the job.
   */
  failJob(jobId: number, token: string | null, entryId: string, status: number, reason: string, now: number): Promise<boolean>;

  /** Queues a job, or with `owner` creates it already claimed by that runner (state running, attempts 1). Returns its id. */
  enqueueJob(entryId: string, partnerId: number, conversionProfileId: number | null, now: number, owner?: JobOwner): Promise<number>;
  getJob(id: number): Promise<IngestJob | undefined>;
  /** The entry's job with the highest id. */
  latestJob(entryId: string): Promise<IngestJob | undefined>;
  /** Jobs a worker may take, by id: queued ones, and running ones whose lease ran out (lease_until null or < now). */
  claimableJobs(now: number): Promise<IngestJob[]>;
  /**
   * ATOMIC CONDITIONAL CLAIM: one statement (or SELECT ... FOR UPDATE SKIP LOCKED) that takes the
   * job only if it is queued, or running with a lapsed lease (lease_until null or < now); sets
   * state running, owner token/pid, lease_until = owner.leaseUntil, attempts + 1. Of two
   * processes claiming at once exactly one gets true.
   */
  claimJob(id: number, owner: JobOwner, now: number): Promise<boolean>;
  /**
   * Extends the lease (and records progress) only if the job is running, held by `token`, and its
   * lease has not run out (lease_until >= now). A lapsed lease is lost, never revived (its staging
   * folder may already have been swept). False when the attempt no longer holds the job.
   */
  renewLease(id: number, token: string, leaseUntil: number, progress: number, now: number): Promise<boolean>;
  /** Whether the running job is held by `token` with lease_until >= now. */
  holdsJob(id: number, token: string, now: number): Promise<boolean>;
  /** The running jobs whose lease has not run out (lease_until >= now): only their staging folders are in use. */
  liveAttempts(now: number): Promise<{ jobId: number; token: string | null }[]>;
  /**
   * Ends a job (state, error, progress; lease cleared) only if it is queued or running, its owner
   * token IS `token` (null: a job never claimed) and its lease has not run out (null or >= now).
   * False otherwise.
   */
  finishJob(id: number, token: string | null, state: 'done' | 'failed', error: string | null, progress: number, now: number): Promise<boolean>;
  /** Hands a running job back to the queue (owner cleared) if `token` holds it with lease_until >= now. */
  requeueJob(id: number, token: string, now: number): Promise<boolean>;

  /** Inserts a PENDING token with nothing uploaded. */
  createUploadToken(t: { id: string; partnerId: number; userId: string; fileName: string; fileSize: number | null; now: number }): Promise<void>;
  getUploadToken(id: string): Promise<UploadToken | undefined>;
  /** Writes status, uploadedFileSize, fileName and entryId of the token; updatedAt = now. */
  updateUploadToken(t: UploadToken, now: number): Promise<void>;
  /**
   * ATOMIC: what a chunk writes (status, uploadedFileSize, fileName, entryId; updatedAt = now),
   * only if the token is PENDING or PARTIAL_UPLOAD at that moment: false when a delete, an expiry
   * or another use came first, which then stands.
   */
  updateUploadingToken(t: UploadToken, now: number): Promise<boolean>;
  /**
   * ATOMIC: marks a FULL_UPLOAD token CLOSED for `entryId`, only if it is FULL_UPLOAD at that
   * moment. False when another request used it first (or it is not complete).
   */
  closeUploadToken(id: string, entryId: string, now: number): Promise<boolean>;
  /**
   * ATOMIC, and serialised per token across nodes: records a chunk already staged in the media
   * store, if the token takes chunks (PENDING or PARTIAL_UPLOAD) and the chunk starts at most at
   * the bytes arrived so far (`offset` -1: at that end). `restart` (resume=false) drops the parts
   * before it. The uploaded size becomes max(size, offset + length), the status PARTIAL_UPLOAD,
   * or with `final` FULL_UPLOAD when that size is the token's fileSize (or it has none).
   */
  addUploadPart(p: { tokenId: string; offset: number; length: number; objectKey: string; restart: boolean; final: boolean; now: number }): Promise<UploadPartOutcome>;
  /** The staged parts of a token, in arrival order. */
  uploadParts(tokenId: string): Promise<UploadPart[]>;
  /**
   * ATOMIC: tokens PENDING, PARTIAL_UPLOAD or FULL_UPLOAD not updated since `before` become
   * TIMED_OUT (updatedAt = now); returns their ids.
   */
  expireUploadTokens(before: number, now: number): Promise<string[]>;
}

// ---------------------------------------------------------------------------------------------
// `kdeliver import-kaltura` (src/import): records that keep the source's ids

/** Where an imported entry came from, and the source's updatedAt at its last import. */
export interface ImportRecord {
  entryId: string;
  serviceUrl: string;
  sourcePartnerId: number;
  sourceUpdatedAt: number;
}

/** An entry as it is to be written, with every asset it has after the import. */
export interface ImportedEntry {
  entry: Entry;
  flavors: FlavorAsset[];
  captions: CaptionAsset[];
  source: ImportRecord;
}

/** A record of the source whose id the catalog already gives to something else. */
export class ImportConflictError extends Error {}

export interface KalturaImportStore {
  /** The import state of an entry, if it was imported before. */
  importRecord(entryId: string): Promise<ImportRecord | undefined>;
  /**
   * Rejects with ImportConflictError when the entry id belongs to another partner, or an asset id
   * to another entry, or a flavor id is a caption's / thumbnail's (and the other way round).
   */
  checkIds(entryId: string, partnerId: number, flavorIds: readonly string[], captionIds: readonly string[]): Promise<void>;
  /** Upserts flavor params under the source's ids (system-wide), one transaction. */
  putFlavorParams(list: readonly FlavorParams[]): Promise<void>;
  /**
   * Upserts a profile under the source's id, one transaction; ImportConflictError if another
   * partner's profile has the id; with isDefault the partner's others stop being default.
   */
  putAccessControlProfile(p: AccessControlProfile): Promise<void>;
  /**
   * One transaction (SQLite: BEGIN IMMEDIATE): checkIds, then the entry (upsert) with exactly
   * these flavor and caption assets (others it had are deleted; thumbnail assets stay) and its
   * import record (imported_at = now). Returns the media paths the entry named before and no
   * longer names (flavor, caption and entry thumbnail files; thumbnail assets' files count as named).
   */
  putEntry(x: ImportedEntry, now: number): Promise<string[]>;
}

// ---------------------------------------------------------------------------------------------
// `kdeliver import` / `export` (src/catalog/library.ts, src/catalog/export.ts)

/** A row of a library import, in the catalog's column names (snake_case), booleans as booleans. */
export type LibraryRow = Record<string, string | number | boolean | null>;

/**
 * The catalog writes of one library import, in order (src/catalog/library.ts libraryWrites):
 * - upsert: insert the row into the table, or update every given column of the row whose
 *   primary key (`id`; remote_files: flavor_asset_id + storage_profile_id) matches;
 * - deleteEntry: delete the entry; its flavor and caption assets (and their remote files) go with
 *   it (ON DELETE CASCADE).
 */
export type LibraryWrite =
  | { op: 'upsert'; table: LibraryTable; row: LibraryRow }
  /**
   * Removes the entry before it is written again. An entry of this id held by another partner, or a
   * flavor or caption id held by another entry, is refused (LibraryError) rather than taken over.
   */
  | { op: 'deleteEntry'; id: string; partnerId: number }
  /**
   * The entry's content keys: `keys` when given (they replace any), else the ones it had before a
   * deleteEntry of this same write removed them, else new random ones (src/catalog/keys.ts).
   */
  | { op: 'entryKeys'; entryId: string; keys: GivenEntryKeys | null; now: number };
export type LibraryTable =
  | 'partners' | 'flavor_params' | 'conversion_profiles' | 'delivery_profiles' | 'storage_profiles'
  | 'access_control_profiles' | 'ui_confs' | 'entries' | 'flavor_assets' | 'remote_files' | 'caption_assets';

/** The primary key of each table a library writes (the stores' upserts conflict on it). */
export const LIBRARY_KEYS: Record<LibraryTable, string[]> = {
  partners: ['id'], flavor_params: ['id'], conversion_profiles: ['id'], delivery_profiles: ['id'], storage_profiles: ['id'],
  access_control_profiles: ['id'], ui_confs: ['id'], entries: ['id'], flavor_assets: ['id'], caption_assets: ['id'],
  remote_files: ['flavor_asset_id', 'storage_profile_id'],
};

/**
 * The library tables whose rows belong to an entry, and what a row of each is. A write deletes an
 * entry's rows with the entry before writing them again, so an id of these still there is another
 * entry's: the stores' upserts then update nothing (their conflict clause keeps the row's entry),
 * and the write is refused with OwnerConflictError, without a look-up before each row.
 */
export const ENTRY_OWNED: Partial<Record<LibraryTable, 'flavor' | 'caption'>> = { flavor_assets: 'flavor', caption_assets: 'caption' };

/**
 * A library write that would take over a record another owner holds (an entry id of another
 * partner, a flavor or caption id of another entry): the write is rolled back, and
 * src/catalog/library.ts words the refusal.
 */
export class OwnerConflictError extends Error {
  constructor(readonly what: 'entry' | 'flavor' | 'caption', readonly id: string, readonly heldBy: number | string, readonly wants: number | string) {
    super(`${what} ${id} is held by ${heldBy}, not ${wants}`);
  }
}

export interface LibraryStore {
  /**
   * All the writes in one transaction: all or nothing. `onEntries` hears how many entries (entryKeys
   * writes) are written so far, every few hundred and once at the end, for a progress display.
   */
  write(writes: Iterable<LibraryWrite>, onEntries?: (done: number) => void): Promise<void>;
  /** Every conversion profile (every partner's and the system's), ordered by id. */
  allConversionProfiles(): Promise<ConversionProfile[]>;
  /** Every access-control profile of every partner, ordered by id. */
  allAccessControlProfiles(): Promise<AccessControlProfile[]>;
  /** Every entry id (deleted ones included), ordered by partner, createdAt, id. */
  allEntryIds(): Promise<string[]>;
  /** The entry's content keys as stored, or undefined when it has none (never made here). */
  entryKeys(entryId: string): Promise<EntryKeys | undefined>;
  /**
   * What the catalog holds of these ids, read by an import before it places a file (owner
   * conflicts, the files the catalog names, versions): the entries of these ids, and the flavor,
   * caption and thumbnail assets whose id is given or whose entry is. Callers ask a few hundred at a time.
   */
  held(ids: { entries: string[]; flavors: string[]; captions: string[] }): Promise<HeldRecords>;
}

/** LibraryStore.held's answer. Paths are relative to the media root, as the catalog keeps them. */
export interface HeldRecords {
  entries: { id: string; partnerId: number; version: number; dataFile: string | null; thumbnailFile: string | null }[];
  flavors: { id: string; entryId: string; filePath: string; size: number; version: number }[];
  captions: { id: string; entryId: string; filePath: string }[];
  thumbs: { entryId: string; filePath: string }[];
}
