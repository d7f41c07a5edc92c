// The ingest store on PostgreSQL: entries made by ingest, the job queue and upload tokens, shared
// by every node. Job ownership follows src/ingest/lease.ts, with two differences that make it hold
// across machines:
// - lease times are the database's clock (now()), never a node's: the caller's `leaseUntil - now`
//   is taken as the lease's length and added to the database's now(); expiry is compared with it;
// - a claim locks the row with FOR UPDATE SKIP LOCKED and updates it only if it is still claimable
//   (queued, or running with a lapsed lease) in the same statement: of two nodes claiming at once
//   one gets it, the other does not wait and gets false.
import { kalturaId } from '../ids.js';
import type { IngestStore, JobOwner, NewEntry, SourceRegistration, UploadToken } from '../store.js';
import { decideUploadPart } from '../upload-parts.js';
import type { FlavorAsset } from '../types.js';
import type { WriteFn } from './catalog.js';
import { storeEntryKeys } from './keys.js';
import type { Queryable } from './pool.js';
import { toJob, toToken } from '../rows.js';
import { DB_NOW, all, one, run } from './sql.js';

const DELETED = 3;
const PENDING = 0;
const PARTIAL_UPLOAD = 1;
const FULL_UPLOAD = 2;
const CLOSED = 3;
const TIMED_OUT = 4;

/** The lease's length in whole seconds, from the caller's end time and clock. */
const leaseLength = (leaseUntil: number, now: number) => Math.max(0, Math.round(leaseUntil - now));

const SQL = {
  // a new entry is behind the partner's default access-control profile (IngestStore.createEntry)
  insertEntry: `INSERT INTO entries (id, partner_id, name, description, type, media_type, status, duration,
    tags, user_id, reference_id, created_at, updated_at, version, conversion_profile_id, access_control_profile_id)
    VALUES (@id, @partnerId, @name, @description, 1, @mediaType, @status, 0, @tags, @userId, @referenceId, @now, @now, 1, @conversionProfileId,
      (SELECT id FROM access_control_profiles WHERE partner_id = @partnerId AND is_default <> 0 ORDER BY id LIMIT 1))`,
  setEntryStatus: 'UPDATE entries SET status = @status, updated_at = @now WHERE id = @id',
  // takesContent (src/ingest/pipeline.ts) in SQL
  setStatusIfTakesContent: 'UPDATE entries SET status = @status, updated_at = @now WHERE id = @id AND (status = 7 OR (status = -2 AND NOT EXISTS (SELECT 1 FROM flavor_assets WHERE entry_id = entries.id AND is_original = 1)))',
  setEntryReady: `UPDATE entries SET status = 2, duration = @duration, media_type = @mediaType,
    thumbnail_file = COALESCE(@thumbnailFile, thumbnail_file), updated_at = @now, version = version + 1 WHERE id = @id`,
  insertFlavor: `INSERT INTO flavor_assets (id, entry_id, partner_id, flavor_params_id, file_path, size,
    container_format, file_ext, video_codec, audio_codec, codecs, width, height, bitrate, frame_rate, duration_ms, language,
    label, is_default, tags, status, version, is_original, created_at, updated_at, rotation)
    VALUES (@id, @entryId, @partnerId, @flavorParamsId, @filePath, @size, @containerFormat, @fileExt, @videoCodec, @audioCodec,
    @codecs, @width, @height, @bitrate, @frameRate, @durationMs, @language, @label, @isDefault, @tags, @status, @version,
    @isOriginal, @createdAt, @updatedAt, @rotation)`,
  setEntrySource: 'UPDATE entries SET media_type = @mediaType, duration = @duration WHERE id = @id',
  insertJob: `INSERT INTO ingest_jobs (entry_id, partner_id, conversion_profile_id, state, attempts, owner_token, owner_pid,
    lease_until, created_at, updated_at)
    VALUES (@entryId, @partnerId, @conversionProfileId, @state, @attempts, @token, @pid,
    CASE WHEN @hasLease = 1 THEN ${DB_NOW} + @lease ELSE NULL END, @now, @now) RETURNING id`,
  finish: `UPDATE ingest_jobs SET state = @state, error = @error, progress = @progress, lease_until = NULL, updated_at = @now
    WHERE id = @id AND state IN ('queued', 'running') AND owner_token IS NOT DISTINCT FROM @token
    AND (lease_until IS NULL OR lease_until >= ${DB_NOW})`,
  entryStatus: 'SELECT status FROM entries WHERE id = @id FOR UPDATE',
};

export function pgIngestStore(db: Queryable, write: WriteFn): IngestStore {
  const unique = async (table: string): Promise<string> => {
    for (;;) {
      const id = kalturaId();
      if (!(await one(db, `SELECT 1 FROM ${table} WHERE id = @id`, { id }))) return id;
    }
  };
  const createEntry = async (tx: Queryable, e: NewEntry) => {
    await run(tx, SQL.insertEntry, {
      id: e.id, partnerId: e.partnerId, name: e.name, description: e.description ?? '', mediaType: e.mediaType,
      status: e.status, tags: e.tags ?? '', userId: e.userId ?? '', referenceId: e.referenceId ?? '', now: e.now,
      conversionProfileId: e.conversionProfileId ?? null,
    });
    await storeEntryKeys(tx, e.id, undefined, e.now);
  };
  const insertFlavor = (tx: Queryable, f: FlavorAsset) => run(tx, SQL.insertFlavor, { ...f, tags: f.tags.join(',') });
  const enqueue = async (tx: Queryable, entryId: string, partnerId: number, conversionProfileId: number | null, now: number, owner?: JobOwner) =>
    (await one(tx, SQL.insertJob, {
      entryId, partnerId, conversionProfileId, state: owner ? 'running' : 'queued', attempts: owner ? 1 : 0,
      token: owner?.token ?? null, pid: owner?.pid ?? null, hasLease: owner ? 1 : 0,
      lease: owner ? leaseLength(owner.leaseUntil, now) : 0, now,
    }))!.id as number;
  const finish = async (tx: Queryable, id: number, token: string | null, state: 'done' | 'failed', error: string | null, progress: number, now: number) =>
    (await run(tx, SQL.finish, { id, token, state, error, progress, now })) === 1;

  return {
    newEntryId: () => unique('entries'),
    newFlavorId: () => unique('flavor_assets'),
    newUploadTokenId: () => unique('upload_tokens'),
    entryExists: async (id) => !!(await one(db, 'SELECT 1 FROM entries WHERE id = @id', { id })),
    createEntry: (e) => write(async (tx) => void (await createEntry(tx, e))),
    setEntryStatus: (id, status, now) => write(async (tx) => void (await run(tx, SQL.setEntryStatus, { id, status, now }))),
    setEntryReady: (id, v) => write(async (tx) => void (await run(tx, SQL.setEntryReady, { id, ...v }))),
    insertFlavor: (f) => write(async (tx) => void (await insertFlavor(tx, f))),
    deleteFlavor: (id) => write(async (tx) => void (await run(tx, 'DELETE FROM flavor_assets WHERE id = @id', { id }))),
    setEntrySource: (id, mediaType, duration) => write(async (tx) => void (await run(tx, SQL.setEntrySource, { id, mediaType, duration }))),
    markEntryDeleted: (id, now) => write(async (tx) => {
      await run(tx, 'DELETE FROM flavor_assets WHERE entry_id = @id', { id });
      await run(tx, 'DELETE FROM caption_assets WHERE entry_id = @id', { id });
      await run(tx, 'DELETE FROM thumb_assets WHERE entry_id = @id', { id });
      await run(tx, 'UPDATE entries SET status = 3, data_file = NULL, thumbnail_file = NULL, updated_at = @now WHERE id = @id', { id, now });
      await run(tx, 'DELETE FROM ingest_jobs WHERE entry_id = @id', { id });
    }),
    deleteRenditions: (entryId) => write(async (tx) => void (await run(tx, 'DELETE FROM flavor_assets WHERE entry_id = @entryId AND is_original = 0', { entryId }))),

    registerSource: (r: SourceRegistration) => write(async (tx) => {
      if (r.newEntry) {
        await createEntry(tx, r.newEntry);
      } else {
        if (r.ifTakesContent) {
          if ((await run(tx, SQL.setStatusIfTakesContent, { id: r.entryId, status: r.status, now: r.now })) !== 1) return null;
        } else await run(tx, SQL.setEntryStatus, { id: r.entryId, status: r.status, now: r.now });
        for (const id of r.replaceFlavorIds) await run(tx, 'DELETE FROM flavor_assets WHERE id = @id', { id });
      }
      await insertFlavor(tx, r.flavor);
      await run(tx, SQL.setEntrySource, { id: r.entryId, mediaType: r.mediaType, duration: r.duration });
      return enqueue(tx, r.entryId, r.partnerId, r.conversionProfileId, r.now, r.owner);
    }),
    recordFailedSource: (entryId, partnerId, conversionProfileId, status, reason, now, ifTakesContent) => write(async (tx) => {
      if (ifTakesContent) {
        if ((await run(tx, SQL.setStatusIfTakesContent, { id: entryId, status, now })) !== 1) return null;
      } else await run(tx, SQL.setEntryStatus, { id: entryId, status, now });
      const job = await enqueue(tx, entryId, partnerId, conversionProfileId, now);
      await finish(tx, job, null, 'failed', reason, 0, now);
      return job;
    }),
    retryEntry: (entryId, partnerId, status, owner, now) => write(async (tx) => {
      await run(tx, SQL.setEntryStatus, { id: entryId, status, now });
      const latest = await one(tx, 'SELECT conversion_profile_id FROM ingest_jobs WHERE entry_id = @entryId ORDER BY id DESC LIMIT 1', { entryId });
      return enqueue(tx, entryId, partnerId, latest?.conversion_profile_id ?? null, now, owner);
    }),
    completeJob: (jobId, token, entryId, flavors, ready) => write(async (tx) => {
      // the entry row is locked first, so a delete cannot slip in between the check and the writes
      const status = (await one(tx, SQL.entryStatus, { id: entryId }))?.status as number | undefined;
      if (status === undefined || status === DELETED || !(await finish(tx, jobId, token, 'done', null, 1, ready.now))) return false;
      await run(tx, 'DELETE FROM flavor_assets WHERE entry_id = @entryId AND is_original = 0', { entryId });
      for (const f of flavors) await insertFlavor(tx, f);
      await run(tx, SQL.setEntryReady, { id: entryId, ...ready });
      return true;
    }),
    failJob: (jobId, token, entryId, status, reason, now) => write(async (tx) => {
      if (!(await finish(tx, jobId, token, 'failed', reason, 0, now))) return false;
      const current = (await one(tx, SQL.entryStatus, { id: entryId }))?.status as number | undefined;
      if (current !== undefined && current !== DELETED) await run(tx, SQL.setEntryStatus, { id: entryId, status, now });
      return true;
    }),

    enqueueJob: (entryId, partnerId, conversionProfileId, now, owner) =>
      write((tx) => enqueue(tx, entryId, partnerId, conversionProfileId, now, owner)),
    getJob: async (id) => {
      const r = await one(db, 'SELECT * FROM ingest_jobs WHERE id = @id', { id });
      return r && toJob(r);
    },
    latestJob: async (entryId) => {
      const r = await one(db, 'SELECT * FROM ingest_jobs WHERE entry_id = @entryId ORDER BY id DESC LIMIT 1', { entryId });
      return r && toJob(r);
    },
    claimableJobs: async () => (await all(db, `SELECT * FROM ingest_jobs
      WHERE state = 'queued' OR (state = 'running' AND (lease_until IS NULL OR lease_until < ${DB_NOW})) ORDER BY id`)).map(toJob),
    claimJob: (id, owner, now) => write(async (tx) => (await run(tx, `UPDATE ingest_jobs SET state = 'running', owner_token = @token,
      owner_pid = @pid, lease_until = ${DB_NOW} + @lease, attempts = attempts + 1, updated_at = @now
      WHERE id = (SELECT id FROM ingest_jobs WHERE id = @id
        AND (state = 'queued' OR (state = 'running' AND (lease_until IS NULL OR lease_until < ${DB_NOW})))
        FOR UPDATE SKIP LOCKED)`,
    { id, token: owner.token, pid: owner.pid, lease: leaseLength(owner.leaseUntil, now), now })) === 1),
    renewLease: (id, token, leaseUntil, progress, now) => write(async (tx) => (await run(tx, `UPDATE ingest_jobs
      SET lease_until = ${DB_NOW} + @lease, progress = @progress, updated_at = @now
      WHERE id = @id AND state = 'running' AND owner_token = @token AND lease_until >= ${DB_NOW}`,
    { id, token, lease: leaseLength(leaseUntil, now), progress, now })) === 1),
    holdsJob: async (id, token) => !!(await one(db, `SELECT 1 FROM ingest_jobs
      WHERE id = @id AND state = 'running' AND owner_token = @token AND lease_until >= ${DB_NOW}`, { id, token })),
    liveAttempts: async () => (await all(db, `SELECT id, owner_token FROM ingest_jobs WHERE state = 'running' AND lease_until >= ${DB_NOW}`))
      .map((r) => ({ jobId: r.id as number, token: r.owner_token as string | null })),
    finishJob: (id, token, state, error, progress, now) => write((tx) => finish(tx, id, token, state, error, progress, now)),
    requeueJob: (id, token, now) => write(async (tx) => (await run(tx, `UPDATE ingest_jobs SET state = 'queued', owner_token = NULL,
      owner_pid = NULL, lease_until = NULL, updated_at = @now
      WHERE id = @id AND state = 'running' AND owner_token = @token AND lease_until >= ${DB_NOW}`, { id, token, now })) === 1),

    createUploadToken: (t) => write(async (tx) => void (await run(tx, `INSERT INTO upload_tokens (id, partner_id, user_id, status,
      file_name, file_size, uploaded_file_size, created_at, updated_at)
      VALUES (@id, @partnerId, @userId, 0, @fileName, @fileSize, 0, @now, @now)`, t))),
    getUploadToken: async (id) => {
      const r = await one(db, 'SELECT * FROM upload_tokens WHERE id = @id', { id });
      return r && toToken(r);
    },
    updateUploadToken: (t: UploadToken, now: number) => write(async (tx) => void (await run(tx, `UPDATE upload_tokens SET status = @status,
      uploaded_file_size = @uploadedFileSize, file_name = @fileName, entry_id = @entryId, updated_at = @now WHERE id = @id`,
    { id: t.id, status: t.status, uploadedFileSize: t.uploadedFileSize, fileName: t.fileName, entryId: t.entryId, now }))),
    updateUploadingToken: (t: UploadToken, now: number) => write(async (tx) => (await run(tx, `UPDATE upload_tokens SET status = @status,
      uploaded_file_size = @uploadedFileSize, file_name = @fileName, entry_id = @entryId, updated_at = @now
      WHERE id = @id AND status IN (${PENDING}, ${PARTIAL_UPLOAD})`,
    { id: t.id, status: t.status, uploadedFileSize: t.uploadedFileSize, fileName: t.fileName, entryId: t.entryId, now })) === 1),
    closeUploadToken: (id, entryId, now) => write(async (tx) => (await run(tx, `UPDATE upload_tokens SET status = ${CLOSED},
      entry_id = @entryId, updated_at = @now WHERE id = @id AND status = ${FULL_UPLOAD}`, { id, entryId, now })) === 1),
    addUploadPart: (p) => write(async (tx) => {
      // the token's row is locked until the transaction ends: chunks arriving at several nodes at once are recorded one after another
      const r = await one(tx, 'SELECT * FROM upload_tokens WHERE id = @id FOR UPDATE', { id: p.tokenId });
      if (!r) return { outcome: 'status' as const, token: { id: p.tokenId, status: 5 } as UploadToken, offset: p.offset, dropped: [] };
      const token = toToken(r);
      const parts = (await all(tx, 'SELECT at_byte, byte_length FROM upload_parts WHERE token_id = @tokenId', p))
        .map((x) => ({ offset: x.at_byte as number, length: x.byte_length as number }));
      const d = decideUploadPart(token, parts, p);
      if (!d.next) return { outcome: d.outcome, token, offset: d.offset, dropped: [] };
      const dropped = p.restart
        ? (await all(tx, 'DELETE FROM upload_parts WHERE token_id = @tokenId RETURNING object_key', p)).map((x) => x.object_key as string) : [];
      await run(tx, `INSERT INTO upload_parts (token_id, at_byte, byte_length, object_key, created_at)
        VALUES (@tokenId, @offset, @length, @objectKey, @now)`, { ...p, offset: d.offset });
      await run(tx, `UPDATE upload_tokens SET status = @status, uploaded_file_size = @uploadedFileSize, updated_at = @now WHERE id = @id`,
        { id: token.id, status: d.next.status, uploadedFileSize: d.next.uploadedFileSize, now: p.now });
      return { outcome: d.outcome, token: { ...d.next, updatedAt: p.now }, offset: d.offset, dropped };
    }),
    uploadParts: async (tokenId) => (await all(db, 'SELECT at_byte, byte_length, object_key FROM upload_parts WHERE token_id = @tokenId ORDER BY id', { tokenId }))
      .map((r) => ({ offset: r.at_byte as number, length: r.byte_length as number, objectKey: r.object_key as string })),
    expireUploadTokens: (before, now) => write(async (tx) => (await all(tx, `UPDATE upload_tokens SET status = ${TIMED_OUT}, updated_at = @now
      WHERE status IN (0, 1, 2) AND updated_at < @before RETURNING id`, { before, now })).map((r) => r.id as string)),
  };
}
