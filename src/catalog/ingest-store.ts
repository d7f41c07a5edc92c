// The SQLite IngestStore (src/catalog/store.ts): new entries and flavor records, the job queue
// with its leases, and upload tokens. Every statement is prepared once; each multi-row change is
// one transaction inside one method.
import type { Db } from './db.js';
import { storeEntryKeys } from './keys.js';
import { EntryStatus, type FlavorAsset } from './types.js';
import type { IngestJob, IngestStore, JobOwner, NewEntry, SourceRegistration, UploadPartOutcome, UploadToken } from './store.js';
import { decideUploadPart } from './upload-parts.js';
import { asyncMethods } from './async.js';

import { toJob, toToken, type Row } from './rows.js';

import { kalturaId } from './ids.js';

function syncIngestStore(db: Db) {
  const q = {
    // a new entry is behind the partner's default access-control profile (IngestStore.createEntry)
    insertEntry: db.prepare(`INSERT INTO entries (id, partner_id, name, description, type, media_type, status, duration,
      tags, user_id, reference_id, created_at, updated_at, version, conversion_profile_id, access_control_profile_id)
      VALUES (@id, @partnerId, @name, @description, 1, @mediaType, @status, 0, @tags, @userId, @referenceId, @now, @now, 1, @conversionProfileId,
        (SELECT id FROM access_control_profiles WHERE partner_id = @partnerId AND is_default <> 0 ORDER BY id LIMIT 1))`),
    entryExists: db.prepare('SELECT 1 FROM entries WHERE id = ?'),
    flavorExists: db.prepare('SELECT 1 FROM flavor_assets WHERE id = ?'),
    tokenExists: db.prepare('SELECT 1 FROM upload_tokens WHERE id = ?'),
    setEntryStatus: db.prepare('UPDATE entries SET status = ?, updated_at = ? WHERE id = ?'),
    // takesContent (src/ingest/pipeline.ts) in SQL
    setStatusIfTakesContent: db.prepare('UPDATE entries SET status = ?, updated_at = ? WHERE id = ? AND (status = 7 OR (status = -2 AND NOT EXISTS (SELECT 1 FROM flavor_assets WHERE entry_id = entries.id AND is_original = 1)))'),
    setEntryReady: db.prepare(`UPDATE entries SET status = 2, duration = @duration, media_type = @mediaType,
      thumbnail_file = COALESCE(@thumbnailFile, thumbnail_file), updated_at = @now, version = version + 1 WHERE id = @id`),
    insertFlavor: db.prepare(`INSERT INTO flavor_assets (id, entry_id, partner_id, flavor_params_id, file_path, size,
      container_format, file_ext, video_codec, audio_codec, codecs, width, height, bitrate, frame_rate, duration_ms, language,
      label, is_default, tags, status, version, is_original, created_at, updated_at, rotation)
      VALUES (@id, @entryId, @partnerId, @flavorParamsId, @filePath, @size, @containerFormat, @fileExt, @videoCodec, @audioCodec,
      @codecs, @width, @height, @bitrate, @frameRate, @durationMs, @language, @label, @isDefault, @tags, @status, @version,
      @isOriginal, @createdAt, @updatedAt, @rotation)`),
    deleteNonSourceFlavors: db.prepare('DELETE FROM flavor_assets WHERE entry_id = ? AND is_original = 0'),
    deleteFlavor: db.prepare('DELETE FROM flavor_assets WHERE id = ?'),
    setEntrySource: db.prepare('UPDATE entries SET media_type = ?, duration = ? WHERE id = ?'),
    deleteAssetsOfEntry: db.prepare('DELETE FROM flavor_assets WHERE entry_id = ?'),
    deleteCaptionsOfEntry: db.prepare('DELETE FROM caption_assets WHERE entry_id = ?'),
    markEntryDeleted: db.prepare('UPDATE entries SET status = 3, data_file = NULL, thumbnail_file = NULL, updated_at = ? WHERE id = ?'),
    staleTokens: db.prepare('SELECT id FROM upload_tokens WHERE status IN (0, 1, 2) AND updated_at < ?').pluck(),
    expireToken: db.prepare('UPDATE upload_tokens SET status = 4, updated_at = ? WHERE id = ?'),
    closeToken: db.prepare('UPDATE upload_tokens SET status = 3, entry_id = ?, updated_at = ? WHERE id = ? AND status = 2'),
    deleteThumbsOfEntry: db.prepare('DELETE FROM thumb_assets WHERE entry_id = ?'),
    entryStatus: db.prepare('SELECT status FROM entries WHERE id = ?').pluck(),
    insertJob: db.prepare(`INSERT INTO ingest_jobs (entry_id, partner_id, conversion_profile_id, state, attempts, owner_token, owner_pid, lease_until, created_at, updated_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    job: db.prepare('SELECT * FROM ingest_jobs WHERE id = ?'),
    latestJob: db.prepare('SELECT * FROM ingest_jobs WHERE entry_id = ? ORDER BY id DESC LIMIT 1'),
    candidates: db.prepare(`SELECT * FROM ingest_jobs WHERE state = 'queued' OR (state = 'running' AND (lease_until IS NULL OR lease_until < ?)) ORDER BY id`),
    // Ownership (src/ingest/lease.ts): a claim takes a queued job, or a running one whose lease ran
    // out, under a new attempt token; renewing, finishing and requeueing need that token and a
    // lease that has not run out (a lapsed lease is lost, never revived: its staging folder may
    // already have been swept)
    claim: db.prepare(`UPDATE ingest_jobs SET state = 'running', owner_token = ?, owner_pid = ?, lease_until = ?, attempts = attempts + 1, updated_at = ?
      WHERE id = ? AND (state = 'queued' OR (state = 'running' AND (lease_until IS NULL OR lease_until < ?)))`),
    renew: db.prepare(`UPDATE ingest_jobs SET lease_until = ?, progress = ?, updated_at = ?
      WHERE id = ? AND state = 'running' AND owner_token = ? AND lease_until >= ?`),
    holds: db.prepare(`SELECT 1 FROM ingest_jobs WHERE id = ? AND state = 'running' AND owner_token = ? AND lease_until >= ?`),
    liveAttempts: db.prepare(`SELECT id, owner_token FROM ingest_jobs WHERE state = 'running' AND lease_until >= ?`),
    finish: db.prepare(`UPDATE ingest_jobs SET state = ?, error = ?, progress = ?, lease_until = NULL, updated_at = ?
      WHERE id = ? AND state IN ('queued', 'running') AND owner_token IS ? AND (lease_until IS NULL OR lease_until >= ?)`),
    requeue: db.prepare(`UPDATE ingest_jobs SET state = 'queued', owner_token = NULL, owner_pid = NULL, lease_until = NULL, updated_at = ?
      WHERE id = ? AND state = 'running' AND owner_token = ? AND lease_until >= ?`),
    deleteJobsOfEntry: db.prepare('DELETE FROM ingest_jobs WHERE entry_id = ?'),
    insertToken: db.prepare(`INSERT INTO upload_tokens (id, partner_id, user_id, status, file_name, file_size, uploaded_file_size, created_at, updated_at)
      VALUES (@id, @partnerId, @userId, 0, @fileName, @fileSize, 0, @now, @now)`),
    token: db.prepare('SELECT * FROM upload_tokens WHERE id = ?'),
    updateToken: db.prepare(`UPDATE upload_tokens SET status = @status, uploaded_file_size = @uploadedFileSize, file_name = @fileName,
      entry_id = @entryId, updated_at = @now WHERE id = @id`),
    updateUploadingToken: db.prepare(`UPDATE upload_tokens SET status = @status, uploaded_file_size = @uploadedFileSize, file_name = @fileName,
      entry_id = @entryId, updated_at = @now WHERE id = @id AND status IN (0, 1)`),
    insertPart: db.prepare('INSERT INTO upload_parts (token_id, at_byte, byte_length, object_key, created_at) VALUES (?, ?, ?, ?, ?)'),
    partKeys: db.prepare('SELECT object_key FROM upload_parts WHERE token_id = ? ORDER BY id').pluck(),
    deleteParts: db.prepare('DELETE FROM upload_parts WHERE token_id = ?'),
    parts: db.prepare('SELECT at_byte, byte_length, object_key FROM upload_parts WHERE token_id = ? ORDER BY id'),
  };

  const unique = (exists: ReturnType<Db['prepare']>): string => {
    for (;;) {
      const id = kalturaId();
      if (!exists.get(id)) return id;
    }
  };

  const s = {
    newEntryId: () => unique(q.entryExists),
    newFlavorId: () => unique(q.flavorExists),
    newUploadTokenId: () => unique(q.tokenExists),
    entryExists: (id: string) => !!q.entryExists.get(id),
    createEntry(e: NewEntry): void {
      q.insertEntry.run({
        id: e.id, partnerId: e.partnerId, name: e.name, description: e.description ?? '', mediaType: e.mediaType,
        status: e.status, tags: e.tags ?? '', userId: e.userId ?? '', referenceId: e.referenceId ?? '', now: e.now,
        conversionProfileId: e.conversionProfileId ?? null,
      });
      storeEntryKeys(db, e.id, undefined, e.now);
    },
    setEntryStatus: (id: string, status: number, now: number): void => void q.setEntryStatus.run(status, now, id),
    setEntryReady(id: string, v: { duration: number; mediaType: number; thumbnailFile: string | null; now: number }): void {
      q.setEntryReady.run({ id, ...v });
    },
    insertFlavor(f: FlavorAsset): void {
      q.insertFlavor.run({ ...f, tags: f.tags.join(','), isDefault: f.isDefault ? 1 : 0, isOriginal: f.isOriginal ? 1 : 0 });
    },
    deleteFlavor: (id: string): void => void q.deleteFlavor.run(id),
    /** What the probed source says about its entry. */
    setEntrySource: (id: string, mediaType: number, duration: number): void => void q.setEntrySource.run(mediaType, duration, id),
    /** The catalog side of deleting an entry: its assets go, the entry stays as DELETED (3). */
    markEntryDeleted: (id: string, now: number): void => db.transaction(() => {
      q.deleteAssetsOfEntry.run(id);
      q.deleteCaptionsOfEntry.run(id);
      q.deleteThumbsOfEntry.run(id);
      q.markEntryDeleted.run(now, id);
      q.deleteJobsOfEntry.run(id);
    })(),
    /** Before a (re-)transcode: the renditions of an earlier run make way for the new ones. */
    deleteRenditions: (entryId: string): void => void q.deleteNonSourceFlavors.run(entryId),

    /** Queues a job, or with `owner` creates it already claimed by that runner (the CLI runs it at once). */
    enqueueJob(entryId: string, partnerId: number, conversionProfileId: number | null, now: number, owner?: JobOwner): number {
      const r = q.insertJob.run(entryId, partnerId, conversionProfileId, owner ? 'running' : 'queued', owner ? 1 : 0,
        owner?.token ?? null, owner?.pid ?? null, owner?.leaseUntil ?? null, now, now);
      return Number(r.lastInsertRowid);
    },
    getJob: (id: number): IngestJob | undefined => {
      const r = q.job.get(id) as Row | undefined;
      return r && toJob(r);
    },
    latestJob: (entryId: string): IngestJob | undefined => {
      const r = q.latestJob.get(entryId) as Row | undefined;
      return r && toJob(r);
    },
    /** Jobs a worker may take: queued ones, and running ones whose lease ran out. */
    claimableJobs: (now: number): IngestJob[] => (q.candidates.all(now) as Row[]).map(toJob),
    /** Atomically takes a job (queued, or running with a lapsed lease) for `owner`; false when it is not to be had. */
    claimJob: (id: number, owner: JobOwner, now: number): boolean =>
      q.claim.run(owner.token, owner.pid, owner.leaseUntil, now, id, now).changes === 1,
    /** Extends the lease of the attempt `token`; false when that attempt no longer holds the job. */
    renewLease: (id: number, token: string, leaseUntil: number, progress: number, now: number): boolean =>
      q.renew.run(leaseUntil, progress, now, id, token, now).changes === 1,
    /** Whether the attempt `token` still holds the running job (its lease has not run out). */
    holdsJob: (id: number, token: string, now: number): boolean => !!q.holds.get(id, token, now),
    /** The attempts whose lease has not run out: only their staging folders are in use. */
    liveAttempts: (now: number): { jobId: number; token: string | null }[] =>
      (q.liveAttempts.all(now) as Row[]).map((r) => ({ jobId: r.id, token: r.owner_token })),
    /** Ends a job, if the attempt `token` (null: a job never claimed) still holds it; false otherwise. */
    finishJob: (id: number, token: string | null, state: 'done' | 'failed', error: string | null, progress: number, now: number): boolean =>
      q.finish.run(state, error, progress, now, id, token, now).changes === 1,
    /** Hands a job back to the queue (shutdown), if the attempt `token` still holds it. */
    requeueJob: (id: number, token: string, now: number): boolean => q.requeue.run(now, id, token, now).changes === 1,

    registerSource: (r: SourceRegistration): number | null => db.transaction(() => {
      if (r.newEntry) {
        s.createEntry(r.newEntry);
      } else {
        if (r.ifTakesContent) {
          if (q.setStatusIfTakesContent.run(r.status, r.now, r.entryId).changes !== 1) return null;
        } else q.setEntryStatus.run(r.status, r.now, r.entryId);
        for (const id of r.replaceFlavorIds) q.deleteFlavor.run(id);
      }
      s.insertFlavor(r.flavor);
      q.setEntrySource.run(r.mediaType, r.duration, r.entryId);
      return s.enqueueJob(r.entryId, r.partnerId, r.conversionProfileId, r.now, r.owner);
    })(),
    recordFailedSource: (entryId: string, partnerId: number, conversionProfileId: number | null, status: number, reason: string, now: number, ifTakesContent?: boolean): number | null =>
      db.transaction(() => {
        if (ifTakesContent) {
          if (q.setStatusIfTakesContent.run(status, now, entryId).changes !== 1) return null;
        } else q.setEntryStatus.run(status, now, entryId);
        const job = s.enqueueJob(entryId, partnerId, conversionProfileId, now);
        s.finishJob(job, null, 'failed', reason, 0, now);
        return job;
      })(),
    retryEntry: (entryId: string, partnerId: number, status: number, owner: JobOwner, now: number): number => db.transaction(() => {
      q.setEntryStatus.run(status, now, entryId);
      return s.enqueueJob(entryId, partnerId, s.latestJob(entryId)?.conversionProfileId ?? null, now, owner);
    })(),
    completeJob: (jobId: number, token: string, entryId: string, flavors: FlavorAsset[],
      ready: { duration: number; mediaType: number; thumbnailFile: string | null; now: number }): boolean => {
      const done = db.transaction(() => {
        const status = q.entryStatus.get(entryId) as number | undefined;
        if (status === undefined || status === EntryStatus.DELETED || !s.finishJob(jobId, token, 'done', null, 1, ready.now)) return false;
        q.deleteNonSourceFlavors.run(entryId);
        for (const f of flavors) s.insertFlavor(f);
        s.setEntryReady(entryId, ready);
        return true;
      });
      return done();
    },
    failJob: (jobId: number, token: string | null, entryId: string, status: number, reason: string, now: number): boolean => db.transaction(() => {
      if (!s.finishJob(jobId, token, 'failed', reason, 0, now)) return false;
      const current = q.entryStatus.get(entryId) as number | undefined;
      if (current !== undefined && current !== EntryStatus.DELETED) q.setEntryStatus.run(status, now, entryId);
      return true;
    })(),

    createUploadToken(t: { id: string; partnerId: number; userId: string; fileName: string; fileSize: number | null; now: number }): void {
      q.insertToken.run(t);
    },
    getUploadToken: (id: string): UploadToken | undefined => {
      const r = q.token.get(id) as Row | undefined;
      return r && toToken(r);
    },
    updateUploadToken(t: UploadToken, now: number): void {
      q.updateToken.run({ id: t.id, status: t.status, uploadedFileSize: t.uploadedFileSize, fileName: t.fileName, entryId: t.entryId, now });
    },
    updateUploadingToken: (t: UploadToken, now: number): boolean => q.updateUploadingToken.run(
      { id: t.id, status: t.status, uploadedFileSize: t.uploadedFileSize, fileName: t.fileName, entryId: t.entryId, now }).changes === 1,
    closeUploadToken: (id: string, entryId: string, now: number): boolean => q.closeToken.run(entryId, now, id).changes === 1,
    addUploadPart: (p: { tokenId: string; offset: number; length: number; objectKey: string; restart: boolean; final: boolean; now: number }): UploadPartOutcome =>
      db.transaction(() => {
        const token = s.getUploadToken(p.tokenId);
        if (!token) return { outcome: 'status' as const, token: { id: p.tokenId, status: 5 } as UploadToken, offset: p.offset, dropped: [] };
        const d = decideUploadPart(token, s.uploadParts(p.tokenId), p);
        if (!d.next) return { outcome: d.outcome, token, offset: d.offset, dropped: [] };
        const dropped = p.restart ? q.partKeys.all(p.tokenId) as string[] : [];
        if (p.restart) q.deleteParts.run(p.tokenId);
        q.insertPart.run(p.tokenId, d.offset, p.length, p.objectKey, p.now);
        s.updateUploadToken(d.next, p.now);
        return { outcome: d.outcome, token: { ...d.next, updatedAt: p.now }, offset: d.offset, dropped };
      }).immediate(),
    uploadParts: (tokenId: string) => (q.parts.all(tokenId) as Row[]).map((r) => ({ offset: r.at_byte, length: r.byte_length, objectKey: r.object_key })),
    expireUploadTokens: (before: number, now: number): string[] => db.transaction(() => {
      const ids = q.staleTokens.all(before) as string[];
      for (const id of ids) q.expireToken.run(now, id);
      return ids;
    }).immediate(),
  };
  return s;
}

/** The IngestStore over an open SQLite catalog database. */
export function sqliteIngestStore(db: Db): IngestStore {
  return asyncMethods(syncIngestStore(db));
}
