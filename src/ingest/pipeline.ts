// Ingest, from a media file to a READY entry: register the file as the entry's source flavor, then
// (as a job) transcode the conversion profile's ladder into a staging folder, probe every output,
// grab a default thumbnail, and only then move the files into place and commit the catalog in
// one transaction. Any failure leaves the entry in ERROR with a reason and no stray file.
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, extname, join } from 'node:path';
import type { Catalog } from '../catalog/store.js';
import { AssetStatus, EntryStatus, MediaType, entryStatusName, type Entry, type FlavorAsset, type FlavorParams } from '../catalog/types.js';
import { frameGrabArgs, renditionArgs, runFfmpeg, TranscodeError } from './ffmpeg.js';
import { DEFAULT_AUDIO_PARAMS, DEFAULT_LADDER_PARAMS, planLadder, type Rendition } from './ladder.js';
import { codecsOf, defaultTools, isWebPlayable, probeMedia, ProbeError, type MediaProbe, type Tools } from './probe.js';
import { DEFAULT_LEASE_SECONDS, holdLease, newAttemptToken, stagingFolder, type JobClaim } from './lease.js';
import type { IngestStore } from '../catalog/store.js';
import { isSafeId } from '../catalog/ids.js';
import { localMediaWriter, type MediaWriter } from '../storage/media-writer.js';

export interface IngestContext {
  catalog: Catalog;
  /** Where staging folders live; on the same file system as mediaRoot so moves are renames. */
  dataDir: string;
  mediaRoot: string;
  /** Where the source and the outputs are written (KDELIVER_MEDIA_URL); local disk under mediaRoot when absent. */
  media?: MediaWriter | null;
  tools?: Tools;
  /** How many ffmpeg processes one job runs at once. */
  concurrency?: number;
  now?: () => number;
  /** How long a job stays a runner's without a renewal (KDELIVER_INGEST_LEASE_SECONDS; src/ingest/lease.ts). */
  leaseSeconds?: number;
}

/** A refusal or failure of ingest; `message` is the reason for people, `entryStatus` what the entry became. */
export class IngestError extends Error {
  constructor(message: string, readonly entryStatus: number | null = null) {
    super(message);
  }
}

/**
 * The entry was given content by another request or process while this one's was probed: the
 * first one to register wins (the catalog compares the entry's status), and this file is not kept.
 */
export class ContentTakenError extends IngestError {}
const contentTaken = (entryId: string) => new ContentTakenError(`entry ${entryId} was given content by another request meanwhile: this file was not kept`);

/** The context's clock, Unix seconds. */
export const nowOf = (ctx: IngestContext) => (ctx.now ?? (() => Math.floor(Date.now() / 1000)))();
const toolsOf = (ctx: IngestContext) => ctx.tools ?? defaultTools;
const writerOf = (ctx: IngestContext) => ctx.media ?? localMediaWriter(ctx.mediaRoot);

/** Default parallelism: leave a core for serving. */
export const defaultConcurrency = () => Math.max(1, Math.min(3, availableParallelism() - 1));

/** The context's lease period, seconds. */
export const leaseOf = (ctx: IngestContext) => ctx.leaseSeconds ?? DEFAULT_LEASE_SECONDS;

/** A new claim of a job by this process: a fresh attempt token and a lease from now. */
function newOwner(ctx: IngestContext) {
  return { token: newAttemptToken(), pid: process.pid, leaseUntil: nowOf(ctx) + leaseOf(ctx) };
}

/** Claims a job (queued, or running with a lapsed lease) for this process; null when another process holds it or it has ended. */
export async function claimJob(ctx: IngestContext, jobId: number): Promise<JobClaim | null> {
  const owner = newOwner(ctx);
  return (await ctx.catalog.ingest.claimJob(jobId, owner, nowOf(ctx))) ? { jobId, token: owner.token } : null;
}

const SAFE_EXT = /^[a-z0-9]{1,8}$/;
function sourceExt(fileName: string, probe: MediaProbe): string {
  const ext = extname(fileName).slice(1).toLowerCase();
  if (SAFE_EXT.test(ext)) return ext;
  if (/mp4/.test(probe.formatName)) return probe.video ? 'mp4' : 'm4a';
  return probe.formatName.split(',')[0].replace(/[^a-z0-9]/g, '').slice(0, 8) || 'bin';
}

function flavorRecord(base: { id: string; entryId: string; partnerId: number; flavorParamsId: number; filePath: string; tags: string[]; isOriginal: boolean; fileExt: string; now: number }, p: MediaProbe): FlavorAsset {
  return {
    id: base.id, entryId: base.entryId, partnerId: base.partnerId, flavorParamsId: base.flavorParamsId, filePath: base.filePath,
    size: p.sizeBytes, containerFormat: p.container, fileExt: base.fileExt, videoCodec: p.video?.codec ?? '',
    audioCodec: p.audio?.codec ?? '', codecs: codecsOf(p), width: p.video?.width ?? 0, height: p.video?.height ?? 0,
    bitrate: p.bitrateKbps, frameRate: p.video?.frameRate ?? 0, durationMs: Math.round(p.durationSec * 1000),
    language: '', label: '', isDefault: false, tags: base.tags, status: AssetStatus.READY, version: 1,
    isOriginal: base.isOriginal, createdAt: base.now, updatedAt: base.now, packagingRefusal: '', rotation: p.video?.rotation ?? 0,
  };
}

export interface AddSourceRequest {
  partnerId: number;
  /** Source file to register. */
  file: string;
  /** Name the user gave the file (its extension is kept); defaults to the file's own name. */
  fileName?: string;
  /** Move the file (an upload) instead of copying it (a user's file). */
  move?: boolean;
  /** An existing entry (api_v3 media.add), or the id a new entry gets. */
  entryId?: string;
  name?: string;
  userId?: string;
  conversionProfileId?: number | null;
  /** Claim the job for this process at once (the CLI runs it in the foreground). */
  claim?: boolean;
}

export interface AddSourceResult {
  entryId: string;
  sourceFlavorId: string;
  jobId: number;
  /** This process's claim of the job, when asked for (pass it to runJob). */
  claim: JobClaim | null;
  probe: MediaProbe;
}

/** The partner's default conversion profile, else the system default (partner 0's), else none. */
function defaultProfileOf(partner: { id: number; defaultConversionProfileId?: number | null }, profiles: Array<{ id: number; partnerId: number; isDefault: boolean }>): number | null {
  return partner.defaultConversionProfileId
    ?? profiles.find((p) => p.isDefault && p.partnerId === partner.id)?.id ?? profiles.find((p) => p.isDefault)?.id ?? null;
}

/** The conversion profile a partner's upload is transcoded with when none is named. */
export async function defaultConversionProfileId(catalog: IngestContext['catalog'], partnerId: number): Promise<number | null> {
  const partner = await catalog.getPartner(partnerId);
  return partner ? defaultProfileOf(partner, await catalog.listConversionProfiles(partnerId)) : null;
}

/**
 * Whether an entry takes content: it has none (NO_CONTENT, as media.add leaves it), or its first
 * content was not media and no source was kept (ERROR_IMPORTING without one: recordFailedSource),
 * which still has no content: Kaltura would take it through media.updateContent, which this server
 * does not have, and nothing else could. Anything else already has content
 * (ENTRY_ALREADY_WITH_CONTENT in the API; `kdeliver ingest --entry-id` refuses it too). The
 * catalog writes a source only while this holds, asked again in SQL (SourceRegistration.ifTakesContent).
 */
export async function takesContent(catalog: Pick<Catalog, 'listFlavors'>, e: Entry): Promise<boolean> {
  if (e.status === EntryStatus.NO_CONTENT) return true;
  return e.status === EntryStatus.ERROR_IMPORTING && !(await catalog.listFlavors(e.id)).some((f) => f.isOriginal);
}

/**
 * Probes the file and registers it as the entry's source flavor (creating the entry unless it
 * exists), queueing the transcoding job. A file that is not media is refused: a new entry is
 * then not created at all, and an existing one is put in ERROR_IMPORTING with the reason.
 */
export async function addSource(ctx: IngestContext, req: AddSourceRequest): Promise<AddSourceResult> {
  const { catalog } = ctx;
  const store = catalog.ingest;
  const partner = await catalog.getPartner(req.partnerId);
  if (!partner) throw new IngestError(`partner ${req.partnerId} does not exist: create it with \`kdeliver partner add --id ${req.partnerId}\` (or describe it in a library file and \`kdeliver import\` it)`);
  const existing = req.entryId ? await catalog.getEntry(req.entryId) : undefined;
  if (existing && existing.partnerId !== req.partnerId) throw new IngestError(`entry ${req.entryId} belongs to another partner`);
  // a deleted entry stays in the catalog (status DELETED) under its id, which is not used again
  if (existing && existing.status === EntryStatus.DELETED) throw new IngestError(`entry ${req.entryId} is deleted: give another --entry-id, or none for a new entry`);
  if (existing && (existing.status === EntryStatus.PRECONVERT || existing.status === EntryStatus.IMPORT)) {
    throw new IngestError(`entry ${existing.id} is being converted: wait until it is READY or in ERROR before adding content again`);
  }
  // content goes only to an entry that has none, as Kaltura's addContent takes it: an entry that
  // plays is never put at risk by a file that turns out not to be media, or replaced under its viewers
  if (existing && !(await takesContent(catalog, existing))) {
    throw new IngestError(`entry ${existing.id} already has content (${entryStatusName(existing.status)}): give another --entry-id, or none for a new entry${existing.status === EntryStatus.ERROR_CONVERTING ? `; to transcode it again from its source: kdeliver ingest --retry ${existing.id}` : ''}`);
  }
  if (req.entryId && !isSafeId(req.entryId)) throw new IngestError(`entry id ${JSON.stringify(req.entryId)}: use 1-64 characters of A-Z a-z 0-9 _ -`);
  // The profile asked for, else the partner's default, else the system default (partner 0)
  const profiles = await catalog.listConversionProfiles(req.partnerId);
  if (req.conversionProfileId != null && !profiles.some((p) => p.id === req.conversionProfileId)) {
    throw new IngestError(`conversion profile ${req.conversionProfileId} does not exist for partner ${req.partnerId} (known: ${profiles.map((p) => p.id).join(', ') || 'none'})`);
  }
  const profileId = req.conversionProfileId ?? defaultProfileOf(partner, profiles);

  let probe: MediaProbe;
  try {
    probe = await probeMedia(req.file, toolsOf(ctx));
  } catch (e) {
    const reason = e instanceof ProbeError ? e.message : `cannot read the file: ${(e as Error).message}`;
    if (existing) {
      const now = nowOf(ctx);
      const recorded = await store.recordFailedSource(existing.id, existing.partnerId, profileId, EntryStatus.ERROR_IMPORTING, reason, now, true);
      if (req.move) rmSync(req.file, { force: true });
      // another request's content (perhaps being transcoded) is not put in ERROR for this file
      if (recorded === null) throw contentTaken(existing.id);
      throw new IngestError(reason, EntryStatus.ERROR_IMPORTING);
    }
    throw new IngestError(reason);
  }

  const entryId = existing?.id ?? req.entryId ?? await store.newEntryId();
  if (!existing && await store.entryExists(entryId)) throw new IngestError(`entry ${entryId} already exists: choose another --entry-id, or delete it first`);
  const flavorId = await store.newFlavorId();
  const previousSources = existing ? (await catalog.listFlavors(existing.id)).filter((f) => f.isOriginal) : [];
  const ext = sourceExt(req.fileName ?? basename(req.file), probe);
  const rel = `${req.partnerId}/${entryId}/${flavorId}.${ext}`;
  const now = nowOf(ctx);
  const media = writerOf(ctx);
  let put = false;
  try {
    // The file is whole or absent under its key (media-writer.ts), and only then named by the catalog
    await media.putFile(req.file, rel, { move: req.move });
    put = true;
    const tags = isWebPlayable(probe) ? ['source', 'web'] : ['source'];
    const owner = req.claim ? newOwner(ctx) : undefined;
    const mediaType = probe.video ? MediaType.VIDEO : MediaType.AUDIO;
    // one transaction: a new entry, or (new content replacing the old source, whose file goes once
    // the catalog no longer names it) the old source flavors out; then the source flavor and the job
    const jobId = await store.registerSource({
      newEntry: existing ? undefined : {
        id: entryId, partnerId: req.partnerId, name: req.name ?? basename(req.fileName ?? req.file, extname(req.fileName ?? req.file)),
        status: EntryStatus.PRECONVERT, mediaType, userId: req.userId, now,
      },
      replaceFlavorIds: previousSources.map((f) => f.id),
      entryId, status: EntryStatus.PRECONVERT, ifTakesContent: !!existing,
      flavor: flavorRecord({ id: flavorId, entryId, partnerId: req.partnerId, flavorParamsId: 0, filePath: rel, tags, isOriginal: true, fileExt: ext, now }, probe),
      mediaType, duration: probe.durationSec, partnerId: req.partnerId, conversionProfileId: profileId, owner, now,
    });
    if (jobId === null) throw contentTaken(entryId);
    for (const f of previousSources) if (f.filePath !== rel) await media.remove(f.filePath).catch(() => undefined);
    return { entryId, sourceFlavorId: flavorId, jobId, claim: owner ? { jobId, token: owner.token } : null, probe };
  } catch (e) {
    if (put) await media.remove(rel).catch(() => undefined);
    throw e instanceof IngestError ? e : new IngestError(`could not register the source: ${(e as Error).message}`);
  }
}

/**
 * Queues the entry's ladder again from its source (flavorAsset.reconvert): the entry keeps playing
 * its current flavors until the job replaces them in one transaction. The conversion profile is
 * the one its last job used, else the partner's default. Returns the job id.
 */
export async function queueReconversion(ctx: IngestContext, entryId: string): Promise<number> {
  const { catalog } = ctx;
  const store = catalog.ingest;
  const entry = await catalog.getEntry(entryId);
  if (!entry || entry.status === EntryStatus.DELETED) throw new IngestError(`entry ${entryId} does not exist`);
  const running = await store.latestJob(entryId);
  if (running && (running.state === 'queued' || running.state === 'running')) throw new IngestError(`entry ${entryId} is already being converted (job ${running.id})`);
  const partner = await catalog.getPartner(entry.partnerId);
  const profiles = await catalog.listConversionProfiles(entry.partnerId);
  const profileId = running?.conversionProfileId ?? partner?.defaultConversionProfileId
    ?? profiles.find((p) => p.isDefault && p.partnerId === entry.partnerId)?.id ?? profiles.find((p) => p.isDefault)?.id ?? null;
  return await store.enqueueJob(entryId, entry.partnerId, profileId, nowOf(ctx));
}

async function profileParams(catalog: Catalog, profileId: number | null): Promise<{ params: FlavorParams[]; missing: number[] }> {
  const ids = profileId != null ? (await catalog.getConversionProfile(profileId))?.flavorParamsIds ?? DEFAULT_LADDER_PARAMS : DEFAULT_LADDER_PARAMS;
  const params: FlavorParams[] = [];
  const missing: number[] = [];
  for (const id of ids) {
    if (id === 0) continue;
    const p = await catalog.getFlavorParams(id);
    if (p) params.push(p); else missing.push(id);
  }
  return { params, missing };
}

async function pool<T>(items: T[], limit: number, fn: (item: T, i: number) => Promise<void>, signal: AbortSignal): Promise<void> {
  let next = 0;
  let failed: unknown = null;
  const worker = async () => {
    while (failed === null && next < items.length) {
      const i = next++;
      try {
        await fn(items[i], i);
      } catch (e) {
        if (failed === null) failed = e;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  if (failed !== null) throw failed;
  if (signal.aborted) throw new TranscodeError('cancelled');
}

const renditionName = (r: Rendition) => (r.kind === 'audio' ? `the ${r.audioBitrateKbps} kbit/s audio flavor (${r.params.id})` : `the ${r.height}p flavor (${r.params.id})`);

export interface RunJobOptions {
  onProgress?: (fraction: number) => void;
  /** Stop (shutdown, Ctrl-C): the job goes back to the queue. */
  signal?: AbortSignal;
  /** The attempt token this process claimed the job with; without one, runJob claims the job itself. */
  token?: string;
  /**
   * Why the media store cannot be reached now, or null; asked when the attempt fails. A failure
   * while the store is down (S3 went away mid-job: the source could not be copied, or the
   * flavors could not be put) is the store's, not the media's: the job goes back to the queue,
   * for this node or another to run once the store answers, and the entry is left as it was.
   */
  storeProblem?: () => Promise<string | null>;
}

export interface JobOutcome {
  entryId: string;
  ok: boolean;
  /** The reason, when not ok. */
  error: string | null;
  flavorIds: string[];
  skipped: { paramsId: number; reason: string }[];
  /**
   * This attempt lost the job (its lease ran out and another process may hold it, or the entry
   * was deleted): it left the job and the entry as they were for their new owner.
   */
  lost: boolean;
  /** This attempt stopped (shutdown, or the media store went away) and handed the job back to the queue. */
  requeued: boolean;
}

/** A signal that fires when any of `signals` does. */
function eitherSignal(...signals: AbortSignal[]): AbortSignal {
  const c = new AbortController();
  for (const s of signals) {
    if (s.aborted) c.abort();
    else s.addEventListener('abort', () => c.abort(), { once: true });
  }
  return c.signal;
}

class LostJob extends Error {}

/** Why an attempt no longer holds its job, for people. */
async function lostReason(store: IngestStore, catalog: Catalog, jobId: number, entryId: string): Promise<string> {
  const entry = await catalog.getEntry(entryId);
  if (!entry || entry.status === EntryStatus.DELETED) return `entry ${entryId} was deleted while it was being transcoded`;
  const job = await store.getJob(jobId);
  if (!job) return `job ${jobId} was removed while it was being transcoded`;
  if (job.state !== 'running') return `job ${jobId} was ended elsewhere (${job.state}) while this process transcoded it`;
  return `this process lost job ${jobId}: it did not renew its lease in time (stalled longer than KDELIVER_INGEST_LEASE_SECONDS?), so another process may run it`;
}

/**
 * Runs one job to its end: READY with every flavor, or ERROR_CONVERTING with the reason. The job
 * is this process's under `opts.token` (or claimed here), and its lease is renewed while it runs;
 * should the job be lost (src/ingest/lease.ts), the run stops and changes nothing (outcome.lost).
 * Never throws for a media problem; the outcome says what happened.
 */
export async function runJob(ctx: IngestContext, jobId: number, opts: RunJobOptions = {}): Promise<JobOutcome> {
  const { catalog } = ctx;
  const store = catalog.ingest;
  const job = await store.getJob(jobId);
  if (!job) throw new IngestError(`job ${jobId} does not exist`);
  const token = opts.token ?? (await claimJob(ctx, jobId))?.token;
  if (!token) throw new IngestError(`job ${jobId} cannot be run here: another process holds it, or it has ended (${(await store.getJob(jobId))?.state ?? 'removed'})`);
  const claim = { jobId, token };
  // This attempt's own folder: no other attempt ever writes into it or removes it while the lease lasts
  const staging = stagingFolder(ctx.dataDir, claim);
  const lease = holdLease(store, claim, leaseOf(ctx), () => nowOf(ctx));
  const stopped = opts.signal ?? new AbortController().signal;
  // ffmpeg stops when this process is stopped, and when it no longer holds the job
  const signal = eitherSignal(stopped, lease.lost);
  const outcome: JobOutcome = { entryId: job.entryId, ok: false, error: null, flavorIds: [], skipped: [], lost: false, requeued: false };
  const moved: string[] = [];
  try {
    mkdirSync(staging, { recursive: true });
    const entry = await catalog.getEntry(job.entryId);
    if (!entry || entry.status === EntryStatus.DELETED) throw new IngestError(`entry ${job.entryId} no longer exists`);
    const source = (await catalog.listFlavors(entry.id)).find((f) => f.isOriginal && f.status === AssetStatus.READY);
    if (!source) throw new IngestError(`entry ${entry.id} has no source file: upload one (media.addContent) and try again`);
    // With S3 media the source is copied into this attempt's staging folder on this node's disk,
    // where ffmpeg's outputs go too: a job's intermediate files are this node's alone, and a node
    // that takes the job over after a lost lease makes them again from the source in the store
    const media = writerOf(ctx);
    const sourcePath = await media.localFile(source.filePath, join(staging, `source${extname(source.filePath)}`)).catch((e: unknown) => {
      throw new IngestError(`the source file ${source.filePath} could not be read (${(e as Error).message}): ingest the file again`);
    });
    if (!existsSync(sourcePath)) throw new IngestError(`the source file ${source.filePath} is missing from the media folder: ingest the file again`);
    const probe = await probeMedia(sourcePath, toolsOf(ctx)).catch((e) => {
      throw new IngestError(e instanceof ProbeError ? e.message : String(e), EntryStatus.ERROR_IMPORTING);
    });
    const { params, missing } = await profileParams(catalog, job.conversionProfileId);
    const audioParams = (await Promise.all(DEFAULT_AUDIO_PARAMS.map((id) => catalog.getFlavorParams(id)))).filter((p): p is FlavorParams => !!p);
    const plan = planLadder(probe, params, audioParams);
    outcome.skipped = [...plan.skipped, ...missing.map((id) => ({ paramsId: id, reason: 'flavor params not in the catalog' }))];

    const fractions = plan.renditions.map(() => 0);
    const report = () => {
      lease.progress = plan.renditions.length ? fractions.reduce((a, b) => a + b, 0) / (plan.renditions.length + 0.05) : 0.95;
      opts.onProgress?.(lease.progress);
    };
    const outputs: { rendition: Rendition; file: string; probe: MediaProbe; flavorId: string }[] = [];
    await pool(plan.renditions, ctx.concurrency ?? defaultConcurrency(), async (r, i) => {
      const flavorId = await store.newFlavorId();
      const file = join(staging, `${flavorId}.mp4`);
      await runFfmpeg(toolsOf(ctx), renditionArgs(sourcePath, file, r), {
        durationSec: probe.durationSec, signal, what: renditionName(r),
        onProgress: (f) => { fractions[i] = f; report(); },
      });
      const out = await probeMedia(file, toolsOf(ctx)).catch((e) => {
        throw new IngestError(`${renditionName(r)} came out unreadable (${(e as Error).message}); ingest again`);
      });
      const problems: string[] = [];
      if (r.kind === 'video' && (!out.video || out.video.width !== r.width || out.video.height !== r.height)) problems.push(`expected ${r.width}x${r.height} video`);
      if (r.withAudio && !out.audio) problems.push('expected an audio track');
      if (Math.abs(out.durationSec - probe.durationSec) > Math.max(1, probe.durationSec * 0.05)) problems.push(`duration ${out.durationSec.toFixed(2)} s instead of ${probe.durationSec.toFixed(2)} s`);
      if (problems.length) throw new IngestError(`${renditionName(r)} failed its check (${problems.join('; ')}): ingest again`);
      outputs.push({ rendition: r, file, probe: out, flavorId });
      fractions[i] = 1;
      report();
    }, signal);

    // The default thumbnail: a frame a little way in; not having one is not worth failing the entry.
    // A default someone chose through the API (a thumbnail asset) is kept, reconversion or not.
    let thumbRel: string | null = null;
    const thumbFile = join(staging, 'thumb.jpg');
    const chosenThumb = (await catalog.listThumbAssets(entry.id)).some((a) => a.isDefault);
    if (probe.video && !chosenThumb) {
      const at = Math.min(3, probe.durationSec / 2);
      try {
        await runFfmpeg(toolsOf(ctx), frameGrabArgs(sourcePath, thumbFile, at), { durationSec: 1, signal, what: 'the default thumbnail' });
        if (existsSync(thumbFile) && statSync(thumbFile).size > 0) thumbRel = `${entry.partnerId}/${entry.id}/thumb-${Date.now().toString(36)}.jpg`;
      } catch (e) {
        if (signal.aborted) throw e;
      }
    }

    // Commit: files into place first (renames within one file system, or uploads to the store,
    // each whole or absent), then one transaction, both only while this attempt still holds the job
    if (!await store.holdsJob(jobId, token, nowOf(ctx))) throw new LostJob();
    const now = nowOf(ctx);
    const records: FlavorAsset[] = [];
    for (const o of outputs) {
      const rel = `${entry.partnerId}/${entry.id}/${o.flavorId}.mp4`;
      await media.putFile(o.file, rel, { move: true });
      moved.push(rel);
      records.push(flavorRecord({
        id: o.flavorId, entryId: entry.id, partnerId: entry.partnerId, flavorParamsId: o.rendition.params.id, filePath: rel,
        tags: o.rendition.params.tags, isOriginal: false, fileExt: 'mp4', now,
      }, o.probe));
    }
    if (thumbRel) {
      await media.putFile(thumbFile, thumbRel, { move: true });
      moved.push(thumbRel);
    }
    const previous = (await catalog.listFlavors(entry.id)).filter((f) => !f.isOriginal);
    const previousThumb = (await catalog.getEntry(entry.id))?.thumbnailFile ?? null;
    // one transaction, only while the entry lives and this attempt holds the job
    const committed = await store.completeJob(jobId, token, entry.id, records,
      { duration: probe.durationSec, mediaType: probe.video ? MediaType.VIDEO : MediaType.AUDIO, thumbnailFile: thumbRel, now });
    if (!committed) throw new LostJob();
    moved.length = 0;
    // Files of an earlier run are removed only after the catalog no longer names them
    for (const f of previous) if (!records.some((r) => r.filePath === f.filePath)) await media.remove(f.filePath).catch(() => undefined);
    if (thumbRel && previousThumb && previousThumb !== thumbRel && previousThumb.startsWith(`${entry.partnerId}/${entry.id}/thumb-`)) {
      await media.remove(previousThumb).catch(() => undefined);
    }
    opts.onProgress?.(1);
    outcome.ok = true;
    outcome.flavorIds = records.map((r) => r.id);
    return outcome;
  } catch (e) {
    for (const f of moved) await writerOf(ctx).remove(f).catch(() => undefined);
    const lost = async () => {
      // Another attempt may hold the job now: its entry and job are its to finish
      outcome.lost = true;
      outcome.error = await lostReason(store, catalog, jobId, job.entryId);
      return outcome;
    };
    // A failure after the lease lapsed may only be the sweep removing this attempt's folder: not the media's fault
    if (e instanceof LostJob || lease.lost.aborted || !await store.holdsJob(jobId, token, nowOf(ctx))) return lost();
    // Stopped by shutdown, or failed while the store is down: not the media's fault, so the job
    // goes back to the queue (for the next start, or for whichever node reaches the store)
    const storeDown = !stopped.aborted && opts.storeProblem ? await opts.storeProblem().catch(() => null) : null;
    if (stopped.aborted || storeDown) {
      if (!await store.requeueJob(jobId, token, nowOf(ctx))) return lost();
      outcome.requeued = true;
      outcome.error = storeDown ? `the media store does not answer (${storeDown}); queued again` : 'interrupted by shutdown; queued again';
      return outcome;
    }
    const reason = e instanceof Error ? e.message : String(e);
    const status = e instanceof IngestError && e.entryStatus !== null ? e.entryStatus : EntryStatus.ERROR_CONVERTING;
    const now = nowOf(ctx);
    const failed = await store.failJob(jobId, token, job.entryId, status, reason, now);
    if (!failed) return lost();
    outcome.error = reason;
    return outcome;
  } finally {
    lease.stop();
    rmSync(staging, { recursive: true, force: true });
  }
}
