// The packager stage: from a parsed packager URL to an answer (a manifest text or a media body
// description). Loads entries and flavors from the catalog, checks access through the callback
// the route gives, reads indexes through the cache, and calls the writers. No HTTP here.
import type { Catalog } from '../catalog/store.js';
import { checkFileVersion, liveEntry, needsSignature, readyFlavor, rulesOf } from '../access/entry-check.js';
import { appliesTo } from '../access/evaluate.js';
import { AssetStatus, type CaptionAsset, type Entry, type FlavorAsset } from '../catalog/types.js';
import type { Config } from '../config.js';
import { DeliveryError } from '../errors.js';
import { languageCode, languageCode3, namesAudioTrack } from '../catalog/languages.js';
import type { MediaStore } from '../storage/media-store.js';
import { clearSegmentCache, keptBody, leaseFor, type MediaBody } from '../media/body.js';
import { shownSize, type MediaIndex } from '../media/mp4/index-types.js';
import { captionText, captionToTtml, captionToWebVtt } from '../media/captions.js';
import { buildMpd } from '../media/dash/mpd.js';
import { initSegment, keyFrameFragments, mediaSegment } from '../media/fmp4/writer.js';
import { ttmlFragment, ttmlInitSegment } from '../media/fmp4/ttml-track.js';
import { iframePlaylist, masterPlaylist, mediaPlaylist, subtitlePlaylist } from '../media/hls/playlists.js';
import type { IndexCache } from '../media/index-cache.js';
import { mssManifest } from '../media/mss/manifest.js';
import { type FlavorUrl, type PackagerRequest, parseMs, parseTracks } from '../request/packager-url.js';
import { type CaptionTrack, type DashSubtitleFormat, type Presentation, type Rendition, type ThumbnailTrack, locateSegment } from '../media/presentation.js';
import { entryStoryboard } from '../thumbnail/source.js';
import { imageBandwidth } from '../thumbnail/storyboard.js';
import { timelineFor, type Clip, flatPolicy, hlsPolicy, type SegmentPolicy } from '../media/segment.js';
import { TS_TIMESTAMP_OFFSET_90K, tsSegment } from '../media/ts/writer.js';
import type { Encryption } from '../media/crypto/encryption.js';
import { describeMediaSegment, type FragmentOptions } from '../media/fmp4/writer.js';
import { mssFragmentOptions, mssLocate } from '../media/mss/manifest.js';
import type { Timeline, Segment } from '../media/segment.js';
import { isEncryptedEntry } from '../drm/policy.js';
import { keySession, type KeyNote } from '../drm/session.js';
import { mediaAccess } from '../serve/media-access.js';
import { clearKeptPlaylists, keptPlaylist, playlistKey } from './kept-playlists.js';
import type { RequestEnv } from '../env.js';
import { checkSmoothStreaming } from '../drm/profiles.js';
import { contentKeys, DEFAULT_SCHEMES, encryptionOf, licenseUrl, type Packaging, type SchemeChoice } from '../drm/keys.js';

export interface PackagerDeps {
  catalog: Catalog;
  config: Config;
  cache: IndexCache;
  /** Where the flavors' and captions' files are read (catalog paths are located in it). */
  media: MediaStore;
  /** scheme://host[:port] for the absolute URLs manifests carry (the ClearKey licence endpoint, the MPD's segments). */
  baseUrl: string;
  /** The route's media-access check (signature, SERVE rules); null lets the request through. */
  checkAccess(entry: Entry, flavor?: FlavorAsset): Promise<DeliveryError | null>;
  /** May this KS (from the URL's ks pair) have the entry's key? Rejects with a DeliveryError when not (src/drm/session.ts). */
  checkKeySession(entry: Entry, ks: string | undefined): Promise<void>;
}

/**
 * The deps of one request's environment: the route's and the console trace's (src/console/key-trace.ts),
 * so both decide alike. `note` records the access and key steps for the trace.
 */
export function packagerDeps(env: RequestEnv, note?: KeyNote): PackagerDeps {
  return {
    catalog: env.catalog,
    config: env.config,
    cache: env.indexCache,
    media: env.media,
    baseUrl: env.baseUrl,
    checkAccess: async (entry, flavor) => {
      const refused = (await mediaAccess(env, entry, flavor)).refusal;
      note?.('access', refused ? `media access refused: ${refused.errorName}` : `media access of ${entry.id}: signature and SERVE rules pass`);
      return refused;
    },
    checkKeySession: async (entry, ks) => {
      note?.('key', 'the entry is encrypted');
      // the key URI's KS is under the media signature checkAccess verified first
      await keySession(env, entry, ks, { note, signed: true });
    },
  };
}

export type PackagerAnswer =
  /**
   * `byUrlGeneration`: the text depends on the URL and the catalog alone, read at this catalog
   * generation, so it may be kept by URL (src/packaging/kept-playlists.ts keepForUrl).
   */
  | { kind: 'text'; contentType: string; body: string | Buffer; byUrlGeneration?: number }
  /** `index`: the index the body was described from; its bytes are read from that version of the file only (body.ts leaseFor). */
  | { kind: 'media'; body: MediaBody; filePath: string; index?: MediaIndex }
  /** An encrypted entry's content key: never cached by anyone, never logged. */
  | { kind: 'key'; body: Buffer };

interface Source {
  entry: Entry;
  flavor: FlavorAsset;
  path: string;
}

const notFound = (why: string): DeliveryError => new DeliveryError('FILE_NOT_FOUND', `, ${why}`);

const paramIdsOf = (u: FlavorUrl): string[] => (u.pairs.get('flavorParamIds') ?? '').split(',').filter(Boolean);

/**
 * Resolves each URL of the set to its sources (one, or one per sequence entry), checking access
 * to the sets `checked` names in URL order, as they are loaded: a refusal still comes before a
 * later URL's not-found.
 */
async function resolveSources(req: PackagerRequest, deps: PackagerDeps, checked: (set: number) => boolean): Promise<{ sets: Source[][]; mainEntry: Entry }> {
  const { catalog, config } = deps;
  let mainEntry: Entry | null = null;
  const sets: Source[][] = [];
  const check = async (entry: Entry, flavor?: FlavorAsset): Promise<void> => {
    const denied = await deps.checkAccess(entry, flavor);
    if (denied) throw denied;
  };
  for (const u of req.urls) {
    const entry = await liveEntry(catalog, u.pairs.get('entryId'), req.partnerId);
    mainEntry ??= entry;
    const sequence = u.pairs.get('sequence');
    if (sequence) {
      // a sequence URL's /v/ is the main entry's version (src/delivery/urls.ts), not a file's: its
      // flavors are matched by params id and played at their current files, so it is not checked,
      // as Kaltura's serveFlavor maps a sequence's flavors at their current versions whatever it says
      const ids = sequence.split(',').filter(Boolean);
      const fpIds = paramIdsOf(u);
      if (!ids.length || ids.length > 32) throw new DeliveryError('BAD_QUERY', ', sequence lists 1 to 32 entries');
      if (fpIds.length === 0) throw new DeliveryError('MISSING_PARAMETER', ', flavorParamIds', { httpStatus: 400 });
      if (fpIds.some((_, k) => checked(sets.length + k))) await check(entry);
      // a merged flavorParamIds list makes one rendition per params id
      for (const fp of fpIds) {
        const checkThis = checked(sets.length);
        const clips: Source[] = [];
        for (const id of ids) {
          const e = await liveEntry(catalog, id, req.partnerId);
          const f = (await catalog.listFlavors(e.id)).find((x) => String(x.flavorParamsId) === fp && x.status === AssetStatus.READY);
          if (!f) throw new DeliveryError('FLAVOR_NOT_FOUND', `, entry ${e.id} has no ready flavor of params ${fp}`);
          if (checkThis) await check(e, f);
          clips.push({ entry: e, flavor: f, path: deps.media.locate(f.filePath) });
        }
        sets.push(clips);
      }
      continue;
    }
    const flavor = readyFlavor(await catalog.getFlavor(u.pairs.get('flavorId') ?? ''), entry);
    if (checked(sets.length)) await check(entry, flavor);
    // each URL's own /v/{n} (a .urlset may carry one per flavor): only the current file is
    // packaged, as serveFlavor serves only it; checked before any index, kept playlist or kept
    // segment is looked up, so no answer made for the current file goes out under another version
    checkFileVersion(flavor, u.pairs.get('v'));
    sets.push([{ entry, flavor, path: deps.media.locate(flavor.filePath) }]);
  }
  if (!mainEntry || sets.length === 0) throw new DeliveryError('ENTRY_NOT_FOUND');
  return { sets, mainEntry };
}

/** How many renditions (sets) a URL set makes: one per URL, one per params id of a sequence URL. */
const setCount = (req: PackagerRequest): number => req.urls.reduce((n, u) => n + (u.pairs.get('sequence') ? paramIdsOf(u).length : 1), 0);

/**
 * Which sets a request must be allowed to read. Manifests name every flavor of the set; a segment,
 * init segment or DASH fragment serves the bytes of its own -f{n} only, so the others' checks (an
 * HMAC and a rule evaluation each) are skipped. An -f{n} outside the set checks them all, so an
 * unsigned URL is refused (403) before the not-found it would otherwise get. MSS fragments name
 * their rendition by bitrate, known only once the indexes are read: they check all.
 */
function setsToCheck(req: PackagerRequest): (set: number) => boolean {
  const file = req.file;
  if (file.type !== 'segment' && file.type !== 'init' && file.type !== 'fragment' && file.type !== 'iframesSegment') return () => true;
  const only = (file.f ?? 1) - 1;
  if (only < 0 || only >= setCount(req)) return () => true;
  return (set) => set === only;
}

/** A language as an ISO 639-1 code where one is known ("English", "eng" → "en"); other codes pass through. */
const langCode = (language: string, fallback = ''): string => {
  const l = language.trim();
  const code = languageCode(l);
  if (code !== 'und') return code;
  return /^[a-z]{2,3}$/.test(l) ? l : fallback;
};

/**
 * Where a clipped entry's video starts (src/media/segment.ts: at the key frame at or before
 * clipFrom), in ms of the source: the request's first video flavor of the entry, else the entry's
 * first ready one (an audio URL of playManifest's HLS master names no video); clipFrom itself for
 * an entry without video. Remembered per request.
 */
type VideoStart = (entry: Entry) => Promise<number>;

function videoStartOf(sets: Source[][], deps: PackagerDeps, policy: SegmentPolicy, clip: Clip): VideoStart {
  const memo = new Map<string, Promise<number>>();
  const find = async (entry: Entry): Promise<number> => {
    const asked = sets.flat().filter((s) => s.entry.id === entry.id).map((s) => s.flavor);
    const others = (await deps.catalog.listFlavors(entry.id)).filter((f) => f.status === AssetStatus.READY && f.filePath && !asked.some((a) => a.id === f.id));
    for (const f of [...asked, ...others]) {
      try {
        const index = await deps.cache.get(deps.media.locate(f.filePath));
        if (index.tracks.some((t) => t.kind === 'video')) return timelineFor(index, policy, clip, { video: true, audio: false }).originMs;
      } catch {
        // a flavor the packager cannot read (not MP4, clip past its end) starts nothing
      }
    }
    return clip.fromMs;
  };
  return (entry) => {
    let p = memo.get(entry.id);
    if (!p) memo.set(entry.id, (p = find(entry)));
    return p;
  };
}

async function rendition(f: number, sources: Source[], deps: PackagerDeps, policy: SegmentPolicy, clip: Clip, use: { video: boolean; audio: boolean }, videoStart: VideoStart): Promise<Rendition> {
  const clips = [];
  for (const s of sources) {
    const index = await deps.cache.get(s.path);
    const hasV = index.tracks.some((t) => t.kind === 'video');
    const hasA = index.tracks.some((t) => t.kind === 'audio');
    // A flavor without video (alternate audio) starts where the entry's video does, not at
    // clipFrom: every rendition's time 0 is then the same moment of the source, as the audio of a
    // muxed flavor is cut (src/media/segment.ts). Cut at clipFrom, it played ahead of the pictures
    // by up to a GOP.
    const own = !hasV && clip.fromMs > 0 ? { ...clip, fromMs: await videoStart(s.entry) } : clip;
    clips.push(timelineFor(index, policy, own, { video: use.video && hasV, audio: use.audio && hasA }));
  }
  const first = clips[0];
  const fl = sources[0].flavor;
  // the picture as shown (HLS RESOLUTION, DASH @width): a phone's turned picture taller than wide
  const shown = first.video ? shownSize(first.video.track) : { width: 0, height: 0 };
  const audioLang = first.audio?.track.language;
  return {
    f,
    clips,
    hasVideo: !!first.video,
    hasAudio: !!first.audio,
    width: shown.width || fl.width,
    height: shown.height || fl.height,
    frameRate: fl.frameRate,
    language: langCode(fl.language, audioLang && audioLang !== 'und' ? langCode(audioLang, audioLang) : ''),
    label: fl.label || fl.language,
    isDefault: fl.isDefault,
  };
}

/** The URL's `subtitleFormat` (DASH captions as WebVTT or stpp), else the server's setting. */
function subtitleFormatOf(asked: string | undefined, dflt: DashSubtitleFormat): DashSubtitleFormat {
  if (asked === undefined) return dflt;
  if (asked === 'webvtt' || asked === 'stpp') return asked;
  throw new DeliveryError('BAD_QUERY', `, subtitleFormat ${asked.slice(0, 40)} is not webvtt or stpp`);
}

async function captionTracks(catalog: Catalog, entry: Entry): Promise<Array<CaptionTrack & { asset: CaptionAsset }>> {
  return (await catalog.listCaptions(entry.id))
    .filter((c) => c.status === AssetStatus.READY)
    .map((c, i) => ({ n: i + 1, languageCode: c.languageCode || langCode(c.language), label: c.label || c.language, isDefault: c.isDefault, asset: c }));
}

/**
 * The tracks a manifest offers: not those the entry keeps off the player (displayOnPlayer false),
 * as playManifest's own HLS master leaves them out (src/delivery/index.ts playerCaptions). Their
 * files keep their numbers (n counts every READY caption), so subtitles-{n} names the same
 * caption in every manifest.
 */
const offered = (tracks: Array<CaptionTrack & { asset: CaptionAsset }>): Array<CaptionTrack & { asset: CaptionAsset }> => tracks.filter((c) => c.asset.displayOnPlayer);

/**
 * A rendition whose file name (-v1, -a1) or tracks/ pair asks only for tracks its files lack (the
 * video of an audio-only flavor): refused as not found, as nginx-vod-module refuses a request that
 * selects no stream, rather than answered with a playlist of empty segments.
 */
const selectsNothing = (r: Rendition): boolean => r.clips.every((c) => !c.video && !c.audio);

function pick<T>(list: T[], f: number | null, what: string): T {
  const i = (f ?? 1) - 1;
  if (i < 0 || i >= list.length) throw notFound(`${what} -f${f} is not in this set of ${list.length}`);
  return list[i];
}

/**
 * The entry's storyboard as a thumbnail track of an unclipped single-entry presentation; its files
 * are served (under the THUMBNAIL rules) by routes/thumbnail.ts, at the same root path for every
 * protocol.
 */
async function thumbnailTrack(deps: PackagerDeps, req: PackagerRequest, entry: Entry): Promise<ThumbnailTrack | undefined> {
  const pairs = req.urls[0].pairs;
  if (!deps.config.thumbnailTracks || pairs.get('clipFrom') || pairs.get('clipTo') || req.urls.some((u) => u.pairs.get('sequence'))) return undefined;
  const sb = await entryStoryboard(deps.catalog, entry);
  if (!sb) return undefined;
  const l = sb.layout;
  // an entry whose THUMBNAIL rules judge who sees its sheets: the session playManifest signed this
  // URL for (src/delivery/tokenizers/kaltura.ts signMediaUrl) goes on to them, where those rules
  // judge it as /thumbnail does. Only then: the storyboard judges a KS as of now and its
  // urirestrict, where the media routes judge it as of the signing, so a KS that plays would be
  // refused sheets the entry shows anyone once it ends
  const guarded = (await rulesOf(deps.catalog, entry)).some((r) => appliesTo(r, ['THUMBNAIL']));
  const ks = guarded ? pairs.get('ks') : undefined;
  return {
    base: `/p/${entry.partnerId}/sp/${entry.partnerId}00/storyboard/entry_id/${entry.id}/version/${entry.version}/${ks ? `ks/${ks}/` : ''}`,
    tileWidth: l.tileWidth, tileHeight: l.tileHeight, columns: l.columns, rows: l.rows,
    sheetDurationMs: l.tilesPerSheet * l.intervalMs, sheets: l.sheets, bandwidth: imageBandwidth(l),
  };
}

/** The outputs' names, as a refused encryption scheme names them. */
const OUTPUT_NAMES: Record<Packaging, string> = { 'hls-ts': 'HLS over MPEG-TS', 'hls-fmp4': 'fMP4 HLS', dash: 'DASH', mss: 'Smooth Streaming' };

/**
 * The URL's `encryption` pair: SAMPLE-AES for MPEG-TS, cbcs for fMP4, where asked; the defaults
 * otherwise. A scheme the output cannot carry is refused, not ignored: the caller would get another.
 */
function schemeChoice(asked: string | undefined, packaging: Packaging): SchemeChoice {
  const ts = packaging === 'hls-ts';
  switch (asked) {
    case undefined: return DEFAULT_SCHEMES;
    case 'aes-128': case 'sample-aes':
      if (!ts) throw new DeliveryError('BAD_QUERY', `, encryption ${asked} is HLS over MPEG-TS's; ${OUTPUT_NAMES[packaging]} takes cenc or cbcs`);
      return asked === 'sample-aes' ? { ...DEFAULT_SCHEMES, ts: 'sample-aes' } : DEFAULT_SCHEMES;
    case 'cenc': case 'cbcs':
      if (ts) throw new DeliveryError('BAD_QUERY', `, encryption ${asked} is for fMP4 HLS, DASH and Smooth Streaming; HLS over MPEG-TS takes aes-128 or sample-aes (for fMP4 HLS, /container/fmp4/ before it)`);
      return asked === 'cbcs' ? { ...DEFAULT_SCHEMES, common: 'cbcs' } : DEFAULT_SCHEMES;
    default: throw new DeliveryError('BAD_QUERY', `, encryption ${asked.slice(0, 40)} is not aes-128, sample-aes, cenc or cbcs`);
  }
}

// The catalog generation each catalog was last seen at (a process may serve several: tests).
const seenGeneration = new WeakMap<object, number>();

/**
 * Empties the packager's process-wide caches (segment answers, kept playlists) when a catalog has
 * changed since the packager last looked (a write here, on another node, by another process): no
 * answer made before a change is sent after it, whatever the change was. The media core's cache
 * knows nothing of the catalog; this is where the two meet.
 */
function dropKeptOnCatalogChange(catalog: Catalog, generation: number): void {
  const seen = seenGeneration.get(catalog);
  if (seen === generation) return;
  seenGeneration.set(catalog, generation);
  if (seen === undefined) return;
  clearSegmentCache();
  clearKeptPlaylists();
}

/** Answers one packager request. Throws DeliveryError (or MediaError) on refusal. */
export async function answerPackager(req: PackagerRequest, deps: PackagerDeps): Promise<PackagerAnswer> {
  // before the catalog is read: a playlist rendered while it changes is kept under the older
  // generation, and so never sent after the change
  const generation = deps.catalog.generation();
  dropKeptOnCatalogChange(deps.catalog, generation);
  const { sets, mainEntry } = await resolveSources(req, deps, setsToCheck(req));
  const pairs = req.urls[0].pairs;
  let encrypted = false;
  for (const src of sets.flat()) if (await isEncryptedEntry(deps.catalog, src.entry)) encrypted = true;
  if (encrypted && sets.some((s) => s.some((src) => src.entry.id !== mainEntry.id))) {
    throw new DeliveryError('BAD_QUERY', ', an encrypted entry is packaged on its own, not in a sequence with others');
  }
  const packaging: Packaging = req.proto === 'hls' ? (req.container === 'ts' ? 'hls-ts' : 'hls-fmp4') : req.proto;
  /** The request's encryption (the entry's keys, asked for only by the files that need them); undefined in the clear. */
  const encryption = async (): Promise<Encryption | undefined> => encrypted
    ? encryptionOf(await contentKeys(deps, mainEntry), packaging, schemeChoice(pairs.get('encryption'), packaging), {
      keyUri: 'encryption.key', licenseUrl: licenseUrl(deps.baseUrl, mainEntry, pairs.get('ks')),
    }, { partner: (await deps.catalog.getPartner(mainEntry.partnerId)) ?? null, entry: mainEntry, ks: pairs.get('ks') })
    : undefined;
  /** An fMP4 segment or fragment; encrypted with cenc/cbcs, the samples are read while describing it. */
  const describe = async (tl: Timeline, seg: Segment, opts: FragmentOptions, path: string): Promise<MediaBody> => {
    if (!opts.encryption) return mediaSegment(tl, seg, opts);
    const lease = await leaseFor(path, deps.media, tl.index);
    try {
      return await describeMediaSegment(tl, seg, opts, lease.source);
    } finally {
      await lease.release();
    }
  };
  const fromMs = parseMs('clipFrom', pairs.get('clipFrom')) ?? 0;
  const toMs = parseMs('clipTo', pairs.get('clipTo')) ?? Infinity;
  if (toMs <= fromMs) throw new DeliveryError('BAD_QUERY', `, clipTo ${toMs} is not after clipFrom ${fromMs}`);
  // the clips of a sequence are played whole: a clip asked for (or a preview playManifest put in
  // the URL) is refused rather than ignored
  if ((fromMs > 0 || toMs !== Infinity) && sets.some((s) => s.length > 1)) {
    throw new DeliveryError('BAD_QUERY', ', a sequence of several entries cannot be clipped (clipFrom/clipTo)');
  }
  const clip: Clip = { fromMs, toMs };
  const tracks = parseTracks(pairs.get('tracks')) ?? { video: true, audio: true };
  const policy = req.proto === 'hls' ? hlsPolicy(deps.config.hlsSegmentDurationMs) : flatPolicy(deps.config.dashSegmentDurationMs);
  const file = req.file;
  const defaultAudioLang = pairs.get('defaultAudioLang');
  const videoStart = videoStartOf(sets, deps, policy, clip);
  const all = async (): Promise<Rendition[]> => {
    const rs = await Promise.all(sets.map((s, i) => rendition(i + 1, s, deps, policy, clip, tracks, videoStart)));
    if (rs.every(selectsNothing)) throw notFound('no such track in this flavor');
    if (defaultAudioLang) {
      // playManifest's defaultAudioLang picks the default audio as playManifest's own HLS master does
      const audio = rs.filter((r) => !r.hasVideo && r.hasAudio);
      if (audio.some((r) => namesAudioTrack(defaultAudioLang, r))) for (const r of audio) r.isDefault = namesAudioTrack(defaultAudioLang, r);
    }
    return rs;
  };
  const one = async (f: number | null, video: boolean | null, audio: boolean | null): Promise<Rendition> => {
    const sources = pick(sets, f, 'flavor');
    const r = await rendition((f ?? 1), sources, deps, policy, clip, { video: tracks.video && (video ?? true), audio: tracks.audio && (audio ?? true) }, videoStart);
    if (selectsNothing(r)) throw notFound('no such track in this flavor');
    return r;
  };
  let captionList: Promise<Array<CaptionTrack & { asset: CaptionAsset }>> | null = null;
  const captions = (): Promise<Array<CaptionTrack & { asset: CaptionAsset }>> =>
    (captionList ??= sets[0].length > 1 || pairs.get('disableCaptions') ? Promise.resolve([]) : captionTracks(deps.catalog, mainEntry));
  const text = (contentType: string, body: string | Buffer): PackagerAnswer => ({ kind: 'text', contentType, body });
  /** A caption track's file as stored, and the clip its cues are shifted and cut to. */
  /** Caption track `n` of this presentation, or FILE_NOT_FOUND. */
  const captionTrack = async (n: number): Promise<CaptionTrack & { asset: CaptionAsset }> => {
    const cap = (await captions()).find((c) => c.n === n);
    if (!cap) throw notFound(`no caption track ${n}`);
    return cap;
  };
  const captionSource = async (n: number, clipNo = 1): Promise<{ cap: CaptionTrack & { asset: CaptionAsset }; raw: string; originMs: number; durationMs: number }> => {
    const cap = await captionTrack(n);
    const clips = (await one(1, null, null)).clips;
    // subtitles-{n}-{clip}.vtt: a clip the presentation does not have is not clip 1's cues
    if (clipNo < 1 || clipNo > clips.length) throw notFound(`caption clip ${clipNo} is out of range (1-${clips.length})`);
    const tl = clips[clipNo - 1];
    try {
      return { cap, raw: captionText(await deps.media.readAll(deps.media.locate(cap.asset.filePath))), originMs: tl.originMs, durationMs: tl.durationMs };
    } catch {
      throw new DeliveryError('FILE_NOT_FOUND', ', caption file is missing');
    }
  };
  /** Converted at play time; refused at import, so a file that fails here changed on disk since. */
  const converted = (make: () => string): string => {
    try {
      return make();
    } catch {
      throw new DeliveryError('FILE_NOT_FOUND', ', caption file cannot be read');
    }
  };
  const sourceOf = (f: number | null, clipNo: number): Source => {
    const s = pick(sets, f, 'flavor');
    if (clipNo < 1 || clipNo > s.length) throw notFound(`clip ${clipNo} is not in this sequence`);
    return s[clipNo - 1];
  };

  switch (file.type) {
    case 'master': {
      // I-frame playlists point at clear key-frame bytes: none for an encrypted entry (as nginx-vod-module)
      const p: Presentation = { renditions: await all(), captions: offered(await captions()), container: req.container, iframes: deps.config.hlsIframes && !encrypted, thumbnails: await thumbnailTrack(deps, req, mainEntry) };
      return text('application/vnd.apple.mpegurl', masterPlaylist(p));
    }
    case 'index': {
      const r = await one(file.f, file.video, file.audio);
      const video = !!r.clips[0].video;
      const audio = !!r.clips[0].audio;
      if (encrypted) return text('application/vnd.apple.mpegurl', mediaPlaylist(r, { container: req.container, video, audio, f: file.f, encryption: await encryption() }));
      // a clear playlist is the same text for the same timelines and names (src/packaging/kept-playlists.ts)
      const key = playlistKey(r.clips, req.container, video, audio, file.f);
      const body = keptPlaylist(key, generation, () => mediaPlaylist(r, { container: req.container, video, audio, f: file.f }));
      // no entry whose media needs a signature: the access check read nothing of the request
      // (src/serve/media-access.ts)
      let byUrl = true;
      for (const src of sets.flat()) if (needsSignature(await rulesOf(deps.catalog, src.entry), src.entry)) byUrl = false;
      return { kind: 'text', contentType: 'application/vnd.apple.mpegurl', body, byUrlGeneration: byUrl ? generation : undefined };
    }
    case 'iframes': {
      if (encrypted) throw notFound('an encrypted entry has no I-frame playlists');
      const r = await one(file.f, file.video, file.audio);
      if (r.clips.length !== 1) throw notFound('I-frame playlists are made for single clips, not sequences');
      if (!r.clips[0].video) throw notFound('no video track for an I-frame playlist');
      if (req.container === 'fmp4' && file.audio) throw notFound('fMP4 I-frame playlists are video only (-v1)');
      return text('application/vnd.apple.mpegurl', iframePlaylist(r, { container: req.container, video: true, audio: !!r.clips[0].audio, f: file.f }));
    }
    case 'iframesSegment': {
      if (encrypted) throw notFound('an encrypted entry has no I-frame playlists');
      if (req.container !== 'fmp4') throw notFound('key-frame resources exist only for fMP4 (/container/fmp4/); MPEG-TS I-frames are ranges of the segments');
      if (file.audio) throw notFound('key-frame resources are video only (-v1)');
      const r = await one(file.f, true, false);
      const tl = r.clips[0];
      if (r.clips.length !== 1) throw notFound('key-frame resources are made for single clips, not sequences');
      if (!tl.video) throw notFound('no video track for key frames');
      if (file.n < 1 || file.n > tl.segments.length) throw notFound(`segment ${file.n} is out of range (1-${tl.segments.length})`);
      return { kind: 'media', body: keyFrameFragments(tl, file.n - 1).body, filePath: sourceOf(file.f, 1).path, index: tl.index };
    }
    case 'segment': {
      if ((file.ext === 'ts') !== (req.container === 'ts')) throw notFound(`.${file.ext} segments are not in this ${req.container === 'ts' ? 'MPEG-TS' : 'fMP4'} stream`);
      const r = await one(file.f, file.video, file.audio);
      const at = locateSegment(r.clips, file.n);
      if (!at) throw notFound(`segment ${file.n} is out of range (1-${r.clips.reduce((n, c) => n + c.segments.length, 0)})`);
      const tl = r.clips[at.clip];
      if (!tl.video && !tl.audio) throw notFound('no such track in this clip of the sequence');
      const src = sourceOf(file.f, at.clip + 1);
      const enc = await encryption();
      const body = req.container === 'ts'
        ? tsSegment(tl, at.seg, enc ? { encryption: enc, sequence: file.n } : undefined)
        : await describe(tl, tl.segments[at.seg], { sequence: file.n, dash: false, encryption: enc }, src.path);
      return { kind: 'media', body, filePath: src.path, index: tl.index };
    }
    case 'init': {
      if (req.proto === 'hls' && req.container !== 'fmp4') throw notFound('init segments exist only for fMP4 (/container/fmp4/)');
      const r = await one(file.f, file.video, file.audio);
      const tl = r.clips[file.clip - 1];
      if (!tl) throw notFound(`clip ${file.clip} is not in this sequence`);
      const tracks = [tl.video?.track, tl.audio?.track].filter((t) => t !== undefined);
      if (!tracks.length) throw notFound('no such track in this flavor');
      const bytes = initSegment(tracks, await encryption());
      return { kind: 'media', body: keptBody(bytes, tl.video ? 'video/mp4' : 'audio/mp4'), filePath: sourceOf(file.f, file.clip).path };
    }
    case 'fragment': {
      if (file.video && file.audio) throw notFound('DASH fragments carry one track: -v1 or -a1');
      const r = await one(file.f, file.video ?? true, file.audio ?? !file.video);
      const at = locateSegment(r.clips, file.n);
      if (!at) throw notFound(`fragment ${file.n} is out of range (1-${r.clips.reduce((n, c) => n + c.segments.length, 0)})`);
      const tl = r.clips[at.clip];
      if (!tl.video && !tl.audio) throw notFound('no such track in this flavor');
      const enc = await encryption();
      const path = sourceOf(file.f, at.clip + 1).path;
      const opts: FragmentOptions = { sequence: file.n, dash: true, encryption: enc };
      return { kind: 'media', body: await describe(tl, tl.segments[at.seg], opts, path), filePath: path, index: tl.index };
    }
    case 'mpd': {
      // absolute URLs, as nginx-vod-module's (vod_dash_absolute_manifest_urls): the public base URL
      // and the MPD's own directory, its signature or KS segments with it (src/media/dash/mpd.ts);
      // KDELIVER_DASH_ABSOLUTE_URLS=false keeps them relative (behind a CDN that sends the origin's Host)
      const absolute = deps.config.dashAbsoluteUrls;
      const th = await thumbnailTrack(deps, req, mainEntry);
      const p: Presentation = { renditions: await all(), captions: offered(await captions()), container: 'fmp4', thumbnails: th && (absolute ? { ...th, base: deps.baseUrl + th.base } : th), dashSubtitles: subtitleFormatOf(pairs.get('subtitleFormat'), deps.config.dashSubtitles) };
      return text('application/dash+xml', buildMpd(p, await encryption(), absolute ? deps.baseUrl + req.directory : ''));
    }
    case 'subtitlesPlaylist': {
      await captionTrack(file.n);
      const r = await one(1, null, null);
      return text('application/vnd.apple.mpegurl', subtitlePlaylist(r.clips.map((c) => c.durationMs), file.n));
    }
    case 'subtitles': {
      const { cap, raw, originMs, durationMs } = await captionSource(file.n, file.clip);
      const mpegTs90k = req.proto === 'hls' ? (req.container === 'ts' ? TS_TIMESTAMP_OFFSET_90K : 0) : undefined;
      return { kind: 'text', contentType: 'text/vtt; charset=UTF-8', body: converted(() => captionToWebVtt(raw, { originMs, durationMs, mpegTs90k })) };
    }
    case 'subtitlesInit': {
      const cap = await captionTrack(file.n);
      return text('application/mp4', ttmlInitSegment(languageCode3(cap.languageCode)));
    }
    case 'subtitlesFragment': {
      if (file.seq !== 1) throw notFound(`caption segment ${file.seq} is out of range (1-1)`);
      const { cap, raw, originMs, durationMs } = await captionSource(file.n);
      const ttml = converted(() => captionToTtml(raw, { originMs, durationMs, language: cap.languageCode === 'und' ? '' : cap.languageCode }));
      return text('application/mp4', ttmlFragment(ttml, durationMs, file.seq));
    }
    case 'key': {
      if (!encrypted) throw notFound(`${mainEntry.id} is not encrypted`);
      if (packaging !== 'hls-ts') throw notFound('the key file serves MPEG-TS HLS; fMP4 keys come from the licence endpoint');
      await deps.checkKeySession(mainEntry, pairs.get('ks'));
      return { kind: 'key', body: Buffer.from((await encryption())!.key) };
    }
    case 'mssManifest': {
      if (encrypted) checkSmoothStreaming(await deps.catalog.getPartner(mainEntry.partnerId), mainEntry);
      const p: Presentation = { renditions: await all(), captions: [], container: 'fmp4' };
      return text('text/xml', mssManifest(p, await encryption()));
    }
    case 'mssFragment': {
      if (encrypted) checkSmoothStreaming(await deps.catalog.getPartner(mainEntry.partnerId), mainEntry);
      const at = mssLocate({ renditions: await all(), captions: [], container: 'fmp4' }, file.bitrate, file.kind, file.time);
      if (!at) throw notFound('no such MSS fragment');
      const path = sourceOf(at.f, 1).path;
      return { kind: 'media', body: await describe(at.timeline, at.segment, mssFragmentOptions(at.sequence, await encryption()), path), filePath: path, index: at.timeline.index };
    }
  }
}
