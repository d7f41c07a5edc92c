// `kdeliver import-kaltura`: a Kaltura partner's entries, flavors (with their flavor params),
// captions, default thumbnails and access-control profiles, read through api_v3 (./source.ts)
// and written into this data directory under the source's ids. Nothing is transcoded: the
// source's flavor files are downloaded as they are (./download.ts) and the packager serves them.
//
// Order per entry, so that a failure or a kill -9 leaves nothing half-written in view:
//   1. files download into {dataDir}/tmp/import (resumable partial files, verified, then renamed);
//   2. when every file of the entry is complete, they go into the media store (the media root, or
//      the S3 store of KDELIVER_MEDIA_URL, whole or not at all: src/storage/media-writer.ts) under
//      names that carry the asset's version (so the files the catalog names now are never overwritten);
//   3. the entry, its flavors and captions are written in one catalog transaction;
//   4. files the entry named before and no longer names are removed.
// An entry whose source updatedAt, flavor versions and caption versions are those of the last
// import is left as it is, without a download.
import { mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '../config.js';
import { PartnerExistsError, type Catalog, type KalturaImportStore } from '../catalog/store.js';
import {
  AssetStatus, EntryStatus, EntryType, MediaType, entryStatusName, type AccessControlProfile, type CaptionAsset, type Entry, type FlavorAsset,
  type FlavorParams, type Partner,
} from '../catalog/types.js';
import { rulesFromApi } from '../api/rules.js';
import { ApiError } from '../api/errors.js';
import { download, DownloadError, RefusedError, VerifyError } from './download.js';
import { limiter } from '../concurrency/limiter.js';
import { mediaFacts } from '../media/facts.js';
import type { ImportProgress } from './progress.js';
import { SourceError, type Source, type SourceCaption, type SourceEntry, type SourceFlavor } from './source.js';
import { isSafeId } from '../catalog/ids.js';
import type { MediaWriter } from '../storage/media-writer.js';

export interface ImportOptions {
  /** Only these entries; all of the partner's otherwise. */
  entryIds: string[] | null;
  /** The partner the entries go to here (default: the source's id). */
  asPartner: number | null;
  /** Catalog only: flavors are recorded as IMPORTING without their files; a later run fetches them. */
  noMedia: boolean;
  /** Parallel downloads. */
  jobs: number;
  /**
   * Called as soon as this run has made the partner (when its first entry is about to be written,
   * before the next download): its new secrets are shown once, and a run stopped after that
   * (Ctrl-C, kill -9) must have shown them, as the next run finds the partner made.
   */
  onPartnerCreated?: (partner: Partner) => void;
}

export interface EntryOutcome {
  id: string;
  result: 'imported' | 'unchanged' | 'undeliverable' | 'not imported' | 'failed';
  reason?: string;
  /** Things that did not stop the entry (a thumbnail the source refused, a caption format kdeliver cannot serve). */
  warnings: string[];
}

export interface ImportReport {
  partnerId: number;
  /** Set when this run made the partner (its new secrets are shown once, by the caller). */
  createdPartner: Partner | null;
  /** Whether the partner is here at the end (it is made only when an entry is written). */
  partnerHere: boolean;
  /** Downloads left in tmp/import for the next run (of entries that failed or were refused half-way). */
  keptDownloads: number;
  entries: EntryOutcome[];
  files: number;
  bytes: number;
}

const TYPE_NAMES = Object.fromEntries(Object.entries(EntryType).map(([k, v]) => [v, k])) as Record<number, string>;
/** Kaltura's KalturaCaptionType → kdeliver's caption formats. */
const CAPTION_FORMATS: Record<string, CaptionAsset['format']> = { 1: 'srt', 2: 'dfxp', 3: 'vtt' };
const SAFE_EXT = /^[a-z0-9]{1,8}$/;

const intOf = (v: unknown, dflt = 0): number => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : dflt;
};
const strOf = (v: unknown): string => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const csv = (s: unknown): string[] => strOf(s).split(',').map((t) => t.trim()).filter(Boolean);

/** A refusal of a source entry that is not a failure of the run. */
class Skip extends Error {
  constructor(readonly result: 'undeliverable' | 'not imported', message: string) {
    super(message);
  }
}

interface Planned<T> {
  record: T;
  /** The file's name under the entry's folder. */
  name: string;
  /** Where to fetch it; null: the file is already there (unchanged) or --no-media. */
  url: string | null;
  expectedSize?: number;
  approxKb?: number;
  label: string;
}

/** A Kaltura path-style URL with `/name/value` pairs added at its end (values URL-encoded). */
function withPathPairs(url: string, ...pairs: Array<[string, string]>): string {
  return url.replace(/\/+$/, '') + pairs.map(([k, v]) => `/${k}/${encodeURIComponent(v)}`).join('');
}

export async function importKaltura(
  source: Source, config: Config, catalog: Catalog, store: KalturaImportStore, media: MediaWriter, o: ImportOptions, progress: ImportProgress,
  now: () => number = () => Math.floor(Date.now() / 1000),
): Promise<ImportReport> {
  const partnerId = o.asPartner ?? source.partnerId;
  const report: ImportReport = { partnerId, createdPartner: null, partnerHere: !!await catalog.getPartner(partnerId), entries: [], files: 0, bytes: 0, keptDownloads: 0 };
  let partnerMade: Promise<void> | null = null;
  /**
   * The partner here, made (with new secrets, shown at once) when the first entry is about to be
   * written, not before: a run in which no entry comes over leaves no partner behind. Anything
   * written under the partner (an access-control profile, an entry) waits for this.
   */
  const ensurePartner = (): Promise<void> => {
    partnerMade ??= (async () => {
      if (report.partnerHere) return;
      const name = (await source.partnerName()) ?? `Partner ${partnerId}`;
      try {
        report.createdPartner = await catalog.addPartner({ id: partnerId, name });
        o.onPartnerCreated?.(report.createdPartner);
      } catch (e) {
        if (!(e instanceof PartnerExistsError)) throw e; // another process made it meanwhile
      }
      report.partnerHere = true;
    })();
    // a failure (the catalog's) is the entry's; the next entry tries again
    return partnerMade.catch((e) => {
      partnerMade = null;
      throw e;
    });
  };
  const tmpDir = join(config.dataDir, 'tmp', 'import');
  mkdirSync(tmpDir, { recursive: true });
  const limit = limiter();
  const acpRead = new Map<number, Promise<AccessControlProfile>>();
  const acpDone = new Map<number, Promise<void>>();
  const fpDone = new Map<number, Promise<void>>();

  /**
   * The source's access-control profile as it will be here (read once per run): read before an
   * entry's downloads, so that a rule kdeliver cannot evaluate fails the entry before them.
   */
  const readAcp = (id: number): Promise<AccessControlProfile> => {
    let p = acpRead.get(id);
    if (!p) {
      p = (async () => {
        const a = await source.accessControlProfile(id);
        let rules;
        try {
          rules = rulesFromApi(a.rules ?? []);
        } catch (e) {
          if (e instanceof ApiError) throw new Error(`access-control profile ${id} has a rule kdeliver cannot evaluate (${e.code}: ${e.message})`);
          throw e;
        }
        const t = now();
        return {
          id, partnerId, name: strOf(a.name) || `Profile ${id}`, systemName: strOf(a.systemName), description: strOf(a.description),
          isDefault: !!a.isDefault, rules, createdAt: intOf(a.createdAt, t), updatedAt: intOf(a.updatedAt, t),
        };
      })();
      acpRead.set(id, p);
    }
    return p;
  };
  /** The profile written here under its id (once per run), when an entry that uses it is written. */
  const importAcp = (id: number): Promise<void> => {
    let p = acpDone.get(id);
    if (!p) {
      p = (async () => {
        const profile = await readAcp(id);
        await ensurePartner();
        await store.putAccessControlProfile(profile);
      })();
      acpDone.set(id, p);
    }
    return p;
  };

  /** The flavor params of a flavor, under the source's id with its tags (once per run). */
  const importFlavorParams = (id: number, f: SourceFlavor): Promise<void> => {
    let p = fpDone.get(id);
    if (!p) {
      p = (async () => {
        let fp: FlavorParams;
        try {
          const s = await source.flavorParams(id);
          fp = {
            id, name: strOf(s.name) || `Flavor params ${id}`, tags: csv(s.tags), format: strOf(s.format) || 'mp4',
            videoCodec: strOf(s.videoCodec), audioCodec: strOf(s.audioCodec), width: intOf(s.width), height: intOf(s.height),
            videoBitrate: intOf(s.videoBitrate), audioBitrate: intOf(s.audioBitrate), frameRate: intOf(s.frameRate),
          };
        } catch (e) {
          // params of another partner or a system set the account cannot read: what the flavor says of them
          if (!(e instanceof SourceError) || await catalog.getFlavorParams(id)) return;
          fp = {
            id, name: `Flavor params ${id}`, tags: csv(f.tags), format: strOf(f.containerFormat) === '3gp' ? '3gp' : 'mp4',
            videoCodec: '', audioCodec: '', width: intOf(f.width), height: intOf(f.height), videoBitrate: 0, audioBitrate: 0,
            frameRate: intOf(f.frameRate),
          };
        }
        await store.putFlavorParams([fp]);
      })();
      fpDone.set(id, p);
    }
    return p;
  };

  /** A message with the admin session taken out (a URL the source gave may quote it back). */
  const redact = (m: string): string => m.split(source.ks).join('[KS]').split(encodeURIComponent(source.ks)).join('[KS]');

  const withKs = (url: string, style: 'query' | 'path'): string => {
    if (style === 'path') return withPathPairs(url, ['ks', source.ks]);
    return url.includes('ks=') ? url : `${url}${url.includes('?') ? '&' : '?'}ks=${encodeURIComponent(source.ks)}`;
  };

  async function fetchFile(p: Planned<unknown>, entryId: string, quiet = false): Promise<{ path: string; size: number }> {
    return limit(o.jobs, async () => {
      const bar = progress.file(p.label);
      try {
        const got = await download({
          url: p.url!, dir: tmpDir, key: `${entryId}__${p.name}`, expectedSize: p.expectedSize,
          onProgress: (r, t) => bar.update(r, t),
        });
        if (p.expectedSize === undefined && p.approxKb && Math.abs(got.size / 1024 - p.approxKb) > 1.5) {
          rmSync(got.path, { force: true });
          throw new DownloadError(`size check failed: ${got.size} bytes received, the source says about ${p.approxKb} kB`);
        }
        report.files++;
        report.bytes += got.downloaded;
        bar.done(got.downloaded, got.downloaded === 0 ? 'already here' : got.resumedFrom > 0 ? `resumed at ${got.resumedFrom} bytes` : undefined);
        return got;
      } catch (e) {
        if (quiet) bar.dropped();
        else bar.failed(redact((e as Error).message));
        throw e;
      }
    });
  }

  async function importEntry(e: SourceEntry): Promise<EntryOutcome> {
    const out: EntryOutcome = { id: e.id, result: 'imported', warnings: [] };
    // ids name folders and files here: only what an id may hold, never a path
    if (!isSafeId(e.id)) throw new Error(`entry id ${JSON.stringify(String(e.id).slice(0, 80))} is not 1-64 characters of A-Z a-z 0-9 _ -`);
    if (e.type === EntryType.LIVE_STREAM || e.type === EntryType.LIVE_CHANNEL) {
      throw new Skip('not imported', 'a live entry: kdeliver serves recorded media only');
    }
    if (e.type !== EntryType.MEDIA_CLIP) throw new Skip('not imported', `entry type ${TYPE_NAMES[e.type] ?? e.type}: only media clips (video and audio) are imported`);
    if (e.mediaType === MediaType.IMAGE) throw new Skip('not imported', 'an image entry: only video and audio are imported');
    if (e.status !== EntryStatus.READY) throw new Skip('undeliverable', `not READY on the source (status ${entryStatusName(e.status)})`);

    const dir = `${partnerId}/${e.id}`;
    const record = await store.importRecord(e.id);
    const sourceFlavors = await source.flavors(e.id);
    const ready = sourceFlavors.filter((f) => intOf(f.status) === AssetStatus.READY);
    if (ready.length === 0) throw new Skip('undeliverable', `no READY flavor on the source (${sourceFlavors.length} flavors in other states)`);
    const sourceCaptions = (await source.captions(e.id)).filter((c) => intOf(c.status) === AssetStatus.READY);
    const badId = [...ready, ...sourceCaptions].find((a) => !isSafeId(a.id));
    if (badId) throw new Error(`asset id ${JSON.stringify(String(badId.id).slice(0, 80))} is not 1-64 characters of A-Z a-z 0-9 _ -`);
    await store.checkIds(e.id, partnerId, ready.map((f) => f.id), sourceCaptions.map((c) => c.id));
    const t = now();

    // flavors: what each will be here, and whether its file must come from the source
    const flavors: Planned<FlavorAsset>[] = [];
    for (const f of ready) {
      const version = intOf(f.version, 1);
      const ext = (strOf(f.fileExt) || 'mp4').toLowerCase();
      if (!SAFE_EXT.test(ext)) throw new Error(`flavor ${f.id}: file extension ${JSON.stringify(ext)} is not one kdeliver can keep`);
      const name = `${f.id}-v${version}.${ext}`;
      const here = await catalog.getFlavor(f.id);
      const have = here && here.status === AssetStatus.READY && here.filePath === `${dir}/${name}` && await media.has(here.filePath);
      const size = f.sizeInBytes !== undefined ? intOf(f.sizeInBytes) : undefined;
      flavors.push({
        name, url: have || o.noMedia ? null : '', expectedSize: size, approxKb: size === undefined ? intOf(f.size) || undefined : undefined,
        label: `${e.id} flavor ${f.id} (params ${f.flavorParamsId})`,
        record: {
          id: f.id, entryId: e.id, partnerId, flavorParamsId: intOf(f.flavorParamsId), filePath: `${dir}/${name}`,
          size: have ? here.size : size ?? intOf(f.size) * 1024, containerFormat: strOf(f.containerFormat) || (ext === '3gp' ? '3gp' : 'isom'),
          fileExt: ext, videoCodec: here?.videoCodec ?? strOf(f.videoCodecId), audioCodec: here?.audioCodec ?? '', codecs: here?.codecs ?? '',
          width: intOf(f.width), height: intOf(f.height), bitrate: intOf(f.bitrate), frameRate: intOf(f.frameRate),
          durationMs: here?.durationMs ?? intOf(e.msDuration, intOf(e.duration) * 1000), language: strOf(f.language), label: strOf(f.label),
          isDefault: !!f.isDefault, tags: csv(f.tags), status: have || !o.noMedia ? AssetStatus.READY : AssetStatus.IMPORTING, version,
          isOriginal: !!f.isOriginal, createdAt: intOf(f.createdAt, t), updatedAt: intOf(f.updatedAt, t), packagingRefusal: '',
          rotation: here?.rotation ?? 0,
        },
      });
    }
    const captions: Planned<CaptionAsset>[] = [];
    for (const c of sourceCaptions) {
      const format = CAPTION_FORMATS[strOf(c.format)];
      if (!format) {
        out.warnings.push(`caption ${c.id} left out: format ${strOf(c.format) || '?'} is not SRT, DFXP or WebVTT`);
        continue;
      }
      const version = intOf(c.version, 1);
      const name = `${c.id}-v${version}.${format}`;
      const here = await catalog.getCaption(c.id);
      const have = !!here && here.filePath === `${dir}/${name}` && await media.has(here.filePath);
      captions.push({
        name, url: have ? null : '', expectedSize: c.sizeInBytes !== undefined ? intOf(c.sizeInBytes) : undefined, label: `${e.id} caption ${c.id}`,
        record: {
          id: c.id, entryId: e.id, partnerId, language: strOf(c.language), languageCode: strOf(c.languageCode),
          label: strOf(c.label) || strOf(c.language), format, filePath: `${dir}/${name}`, size: have ? here.size : intOf(c.sizeInBytes, intOf(c.size)),
          isDefault: c.isDefault === true || c.isDefault === 1, status: AssetStatus.READY, version,
          displayOnPlayer: c.displayOnPlayer !== false, createdAt: intOf(c.createdAt, t), updatedAt: intOf(c.updatedAt, t),
        },
      });
    }
    const entryVersion = intOf(e.version, 1);
    const thumbName = `thumbnail-v${entryVersion}.jpg`;
    const hereEntry = await catalog.getEntry(e.id);
    const haveThumb = !!hereEntry?.thumbnailFile && hereEntry.thumbnailFile === `${dir}/${thumbName}` && await media.has(hereEntry.thumbnailFile);

    const sameIds = (a: readonly { id: string }[], b: readonly { id: string }[]) => a.length === b.length && a.every((x) => b.some((y) => y.id === x.id));
    const unchanged = record && record.sourceUpdatedAt === intOf(e.updatedAt) && hereEntry
      && flavors.every((f) => f.url === null && f.record.status === AssetStatus.READY) && captions.every((c) => c.url === null)
      && sameIds(await catalog.listFlavors(e.id), flavors.map((f) => f.record)) && sameIds(await catalog.listCaptions(e.id), captions.map((c) => c.record))
      // a thumbnail the source refused is asked for again when the entry changes (its version)
      && (haveThumb || !e.thumbnailUrl || hereEntry.version === entryVersion);
    const acpId = e.accessControlId !== undefined && e.accessControlId !== null ? intOf(e.accessControlId) : null;
    // a profile changes without its entries changing: it is read again on every run (once per run)
    if (unchanged) {
      if (acpId !== null) await importAcp(acpId);
      return { ...out, result: 'unchanged' };
    }
    if (acpId !== null) await readAcp(acpId);

    // the source's URLs: a refusal of the admin session is the entry's own access control speaking
    for (const f of flavors) {
      if (f.url === null) continue;
      try {
        // A playManifest URL answers for whoever asks: with the admin session in it, the source
        // gives the flavor itself, not what the entry's rules give an anonymous viewer (a
        // preview, a substitute flavor). A source may hand out such a URL without a session.
        const url = await source.flavorUrl(f.record.id);
        f.url = /\/playManifest\//.test(url) && !/\/ks\/|[?&]ks=/.test(url) ? url.replace(/\/([^/]*)$/, `/ks/${encodeURIComponent(source.ks)}/$1`) : url;
      } catch (err) {
        if (err instanceof SourceError && /ACCESS_CONTROL|RESTRICTED/.test(err.code)) {
          throw new Skip('undeliverable', `the source's access control refuses the admin session a download of flavor ${f.record.id} (${err.message.replace(/^[^:]*: /, '')})`);
        }
        throw err;
      }
    }
    for (const c of captions) if (c.url !== null) c.url = withKs(await source.captionUrl(c.record.id), 'query');

    // every file of the entry, complete and verified, before anything moves into the media root
    const fetched = new Map<Planned<unknown>, string>();
    // An audio entry's thumbnail URL answers a picture even when it has none of its own (Kaltura's
    // template, kdeliver's audio picture): only a picture of its own (a thumbnail asset) is
    // brought here; a source that cannot list them is asked for the picture as before
    const noPictureOfItsOwn = intOf(e.mediaType) === MediaType.AUDIO && !haveThumb && !!e.thumbnailUrl
      && await source.thumbAssetCount(e.id).then((n) => n === 0, () => false);
    const thumbPlan: Planned<null> | null = e.thumbnailUrl && !haveThumb && !noPictureOfItsOwn
      // at its stored size: a thumbnail URL without a size answers Kaltura's 120 x 90
      ? { record: null, name: thumbName, url: withKs(withPathPairs(e.thumbnailUrl, ['width', '0'], ['height', '0']), 'path'), label: `${e.id} thumbnail` }
      : null;
    const results = await Promise.allSettled([...flavors, ...captions].filter((p) => p.url !== null).map(async (p) => {
      fetched.set(p, (await fetchFile(p, e.id)).path);
    }));
    const failures = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected').map((r) => r.reason as Error);
    const altered = failures.find((x) => x instanceof VerifyError || x instanceof RefusedError);
    if (altered && e.accessControlId !== undefined && e.accessControlId !== null) {
      // the entry's rules, applied by the source to the admin session too: a refusal, or a
      // preview or another flavor in place of the one asked for
      throw new Skip('undeliverable', `the source's access-control profile ${e.accessControlId} ${altered instanceof RefusedError ? 'refuses' : 'alters'} the admin session's downloads (${altered.message})`);
    }
    if (failures.length) throw failures[0];
    let thumbFile: string | null = haveThumb ? hereEntry!.thumbnailFile : null;
    if (thumbPlan) {
      try {
        fetched.set(thumbPlan, (await fetchFile(thumbPlan, e.id, true)).path);
        thumbFile = `${dir}/${thumbName}`;
      } catch (err) {
        // An audio entry has no frame to make a picture of (Kaltura makes none at conversion; it
        // has one only if someone uploaded it): the source's 404 says it has none, and nothing
        // that could be here is missing. A video's, or any other refusal, is worth saying.
        const noneToHave = err instanceof RefusedError && err.status === 404 && intOf(e.mediaType) === MediaType.AUDIO;
        if (!noneToHave) out.warnings.push(`no default thumbnail: ${redact((err as Error).message)}`);
        thumbFile = hereEntry?.thumbnailFile ?? null;
      }
    }

    // what the files say of themselves (codecs for HLS masters, durations)
    for (const f of flavors) {
      const file = fetched.get(f);
      if (!file) continue;
      f.record.size = statSync(file).size;
      const facts = await mediaFacts(file, config.maxMoovBytes);
      if (facts) {
        f.record.codecs = facts.codecs;
        f.record.durationMs = f.record.durationMs || facts.durationMs;
        f.record.videoCodec = facts.videoCodec || f.record.videoCodec;
        f.record.audioCodec = facts.audioCodec;
        // Kaltura's flavors are made upright; a source kept as it came (a phone's) may be turned
        f.record.rotation = facts.rotation;
      }
    }
    for (const c of captions) {
      const file = fetched.get(c);
      if (file) c.record.size = statSync(file).size;
    }

    const placed: string[] = [];
    try {
      for (const [p, file] of fetched) {
        await media.putFile(file, `${dir}/${p.name}`, { move: true });
        placed.push(`${dir}/${p.name}`);
        // a store that copied it (S3) leaves the download to its caller
        rmSync(file, { force: true });
      }
      // what the entry names is written only now that all of its files are in place: an entry
      // that fails leaves no partner, profile or flavor params of its own behind
      await ensurePartner();
      await Promise.all(ready.map((f) => importFlavorParams(intOf(f.flavorParamsId), f)));
      if (acpId !== null) await importAcp(acpId);
    } catch (e) {
      // the entry fails and the catalog names none of them: the files already put go again
      // (best effort; the next run puts them once more)
      await Promise.all(placed.map((key) => media.remove(key).catch(() => undefined)));
      throw e;
    }
    const entry: Entry = {
      id: e.id, partnerId, name: strOf(e.name) || e.id, description: strOf(e.description), type: e.type,
      mediaType: intOf(e.mediaType, MediaType.VIDEO), status: flavors.some((f) => f.record.status === AssetStatus.READY) ? EntryStatus.READY : EntryStatus.IMPORT,
      duration: e.msDuration !== undefined ? intOf(e.msDuration) / 1000 : intOf(e.duration), moderationStatus: intOf(e.moderationStatus, 6),
      startDate: e.startDate ?? null, endDate: e.endDate ?? null,
      accessControlProfileId: acpId,
      tags: strOf(e.tags), adminTags: strOf(e.adminTags), userId: strOf(e.userId), referenceId: strOf(e.referenceId),
      createdAt: intOf(e.createdAt, t), updatedAt: intOf(e.updatedAt, t), version: entryVersion, dataFile: null, thumbnailFile: thumbFile,
      redirectEntryId: e.redirectEntryId || null, partnerData: strOf(e.partnerData),
      // the source's conversion profiles are not here: new content takes this partner's default
      conversionProfileId: null,
    };
    const stale = await store.putEntry({
      entry, flavors: flavors.map((f) => f.record), captions: captions.map((c) => c.record),
      source: { entryId: e.id, serviceUrl: source.serviceUrl, sourcePartnerId: source.partnerId, sourceUpdatedAt: intOf(e.updatedAt) },
    }, t);
    for (const p of stale) {
      if (!p.startsWith(`${dir}/`) || p.includes('..')) continue;
      // the entry is imported: a file it no longer names that stays behind is only a leftover
      await media.remove(p).catch((err: Error) => out.warnings.push(`${p} not removed: ${err.message}`));
    }
    return out;
  }

  const run = async (get: () => Promise<SourceEntry>, id: string): Promise<void> => {
    let outcome: EntryOutcome;
    try {
      outcome = await importEntry(await get());
    } catch (err) {
      if (err instanceof Skip) outcome = { id, result: err.result, reason: redact(err.message), warnings: [] };
      else if (err instanceof Error) {
        // the source's, a download's, an id conflict's or any other: the entry failed, the run goes on
        outcome = { id, result: 'failed', reason: redact(err.message).replace(/\s+/g, ' ').slice(0, 400), warnings: [] };
      } else throw err;
    }
    for (const w of outcome.warnings) progress.line(`${id}: warning: ${w}`);
    if (outcome.result === 'failed') progress.line(`${id}: failed: ${outcome.reason}`);
    report.entries.push(outcome);
  };

  // entries run a few at a time (their files share the download limit)
  const pool = new Set<Promise<void>>();
  const add = async (get: () => Promise<SourceEntry>, id: string) => {
    const p: Promise<void> = run(get, id).finally(() => pool.delete(p));
    pool.add(p);
    if (pool.size >= Math.max(2, o.jobs)) await Promise.race(pool);
  };
  if (o.entryIds) {
    for (const id of o.entryIds) await add(() => source.entry(id), id);
  } else {
    for await (const e of source.entries()) await add(async () => e, e.id);
  }
  await Promise.all(pool);
  cleanTmp(tmpDir, report);
  return report;
}

/**
 * Downloads of failed and undeliverable entries stay, so that the next run resumes them (or
 * finds them whole) rather than fetching them again; those of entries now imported or unchanged
 * are left-overs (a thumbnail the source refused).
 */
function cleanTmp(tmpDir: string, report: ImportReport): void {
  const done = new Set(report.entries.filter((e) => e.result === 'imported' || e.result === 'unchanged' || e.result === 'not imported').map((e) => e.id));
  for (const f of readdirSync(tmpDir)) {
    if (done.has(f.split('__')[0])) rmSync(join(tmpDir, f), { force: true });
    else if (!f.endsWith('.json')) report.keptDownloads++;
  }
}
