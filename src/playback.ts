// playManifest, from request model to a playback decision: the reference's processing order
// (playmanifest.md §11) as a straight line of stages. Each stage is a plain function over the
// catalog; every decision is written to the trace so a person can later see why.
import type { Catalog } from './catalog/catalog.js';
import type { RequestEnv } from './env.js';
import {
  EntryStatus, EntryType, MediaType, ModerationStatus,
  type CaptionAsset, type DeliveryProfile, type Entry, type FlavorAsset, type Partner,
} from './catalog/types.js';
import type { AccessDecision } from './access/types.js';
import type { PlayRequest } from './request/play-request.js';
import { DeliveryError, fail } from './errors.js';
import type { Ks } from './access/ks.js';
import { checkEntryAccess, rulesOf } from './access/entry-check.js';
import { checkPlayManifestToken } from './access/kt.js';
import { dropRedundant, keepFirst, ONE_FLAVOR_FORMATS, selectFlavors } from './selection/flavors.js';
import { resolveDeliveryProfile } from './delivery/profiles.js';
import { tokenizeUrls } from './delivery/tokenizers/index.js';
import { ProfileType, flavorUrls, profileBase, type UrlOptions } from './delivery/urls.js';
import { signMediaUrl } from './delivery/tokenizers/kaltura.js';

/** What the pipeline reads besides the request (the client's facts, country included, come in the PlayRequest). */
export type PlaybackContext = Pick<RequestEnv, 'catalog' | 'config' | 'now' | 'baseUrl'>;

export interface TraceStep {
  stage: 'request' | 'entry' | 'session' | 'access' | 'selection' | 'delivery' | 'tokenizer' | 'render';
  message: string;
  data?: unknown;
}

export interface Playback {
  request: PlayRequest;
  /** scheme://host[:port] of this server, as in the context. */
  baseUrl: string;
  entry: Entry;
  partner: Partner;
  /** Normalised: url and download become http. */
  format: string;
  /** What the client asked for (url, download, applehttp ...). */
  requestedFormat: string;
  flavors: FlavorAsset[];
  captions: CaptionAsset[];
  profile: DeliveryProfile;
  access: AccessDecision | null;
  ks: Ks | null;
  clipTo: number;
  seekFrom: number;
  durationSec: number | null;
  /** One media URL per flavor (packager redirect profiles: one manifest URL), tokenized. */
  urls: string[];
  /** Seconds the answer may be cached (0: not at all). */
  cacheAge: number;
  /** HLS subtitle playlist of each caption, in the order of `captions`. */
  subtitleUrls: string[];
  /** Extra X-Kaltura header values, e.g. access-control messages. */
  kalturaHeaders: string[];
  trace: TraceStep[];
}

/** A DeliveryError with the decisions taken before it. */
export type TracedError = DeliveryError & { trace?: TraceStep[] };

const KNOWN_FORMATS = new Set([
  'url', 'download', 'http', 'applehttp', 'mpegdash', 'hdnetworkmanifest', 'hdnetwork', 'hdnetworksmil', 'sl', 'rtmp', 'rtsp',
  'hds', 'hls', 'auto', 'multicast_silverlight', 'applehttp_to_mc',
]);

export function resolvePlayback(ctx: PlaybackContext, req: PlayRequest): Playback {
  const trace: TraceStep[] = [];
  try {
    return resolve(ctx, req, trace);
  } catch (e) {
    if (e instanceof DeliveryError) (e as TracedError).trace = trace;
    throw e;
  }
}

function resolve(ctx: PlaybackContext, req: PlayRequest, trace: TraceStep[]): Playback {
  const { catalog, config, now } = ctx;
  const step = (stage: TraceStep['stage'], message: string, data?: unknown) => trace.push({ stage, message, ...(data === undefined ? {} : { data }) });
  step('request', `format ${req.format}, protocol ${req.protocol}${req.responseFormat ? `, responseFormat ${req.responseFormat}` : ''}`);

  // initEntry: expiry, then kt, then the session and the entry (HEAD counts as the GET it mirrors)
  const ktValid = checkPlayManifestToken({ ...req, method: req.method === 'HEAD' ? 'GET' : req.method }, config.urlTokenSecret, now);
  if (ktValid) step('session', 'valid kt: session and access control are not checked');
  if (!req.entryId) fail('ENTRY_NOT_FOUND', ', entryId is missing');
  const entry = catalog.getEntry(req.entryId);
  if (!entry) fail('ENTRY_NOT_FOUND');
  if (entry.status === EntryStatus.DELETED) fail('ENTRY_NOT_FOUND', ', ENTRY_DELETED_MODERATED: the entry is deleted');
  const partner = catalog.getPartner(entry.partnerId);
  if (!partner) fail('PARTNER_NOT_FOUND');
  step('entry', `entry ${entry.id} of partner ${partner.id}: type ${entry.type}, mediaType ${entry.mediaType}, status ${entry.status}`);

  let ks: Ks | null = null;
  let access: AccessDecision | null = null;
  let clipTo = req.clipTo;
  const kalturaHeaders: string[] = [];
  const hasRules = rulesOf(catalog, entry).length > 0;
  if (!ktValid) {
    if (partner.status !== 1) fail('PARTNER_NOT_ACTIVE');
    const checked = checkEntryAccess(ctx, req, entry, partner, req.format === 'download' ? 'DOWNLOAD' : 'PLAY', { note: step });
    ({ ks, access } = checked);
    if (checked.previewMs !== null) {
      clipTo = clipTo > 0 ? Math.min(clipTo, checked.previewMs) : checked.previewMs;
      step('access', `preview: clipped to ${clipTo} ms`);
    }
    for (const m of access?.messages ?? []) kalturaHeaders.push(`access-control: ${m}`);
  }

  if (partner.enforceEncryption) {
    if (!req.isHttps) fail('ACCESS_CONTROL_RESTRICTED', ', unencrypted manifest request - forbidden');
    if (!['https', 'rtmpe', 'rtmpte'].includes(req.protocol)) fail('ACCESS_CONTROL_RESTRICTED', ', unencrypted playback protocol - forbidden');
  }

  if (entry.type !== EntryType.MEDIA_CLIP) fail('INVALID_ENTRY_TYPE', `, entry type ${entry.type} cannot be played`);

  // serveVodEntry: flavors
  let format = req.format;
  const all = catalog.listFlavors(entry.id);
  let sel = selectFlavors({
    flavors: all, format, flavorIds: req.flavorIds, flavorParamIds: req.flavorParamIds, tags: req.tags,
    minBitrate: req.minBitrate, maxBitrate: req.maxBitrate, mediaPlaylist: req.type === 'media',
    limitFlavors: access?.limitFlavors ?? null,
    downloadAssetIds: ks ? ks.privileges.get('downloadasset') ?? [] : [],
  });
  if (sel.flavors.length === 0) {
    step('selection', `no usable flavor (${sel.chosenBy})`, { dropped: sel.dropped });
    fail('FLAVOR_NOT_FOUND');
  }
  const firstDuration = sel.flavors[0].durationMs;
  let durationSec: number | null = firstDuration > 0 ? firstDuration / 1000 : entry.duration || null;
  if (format === 'hdnetworkmanifest' && durationSec !== null && durationSec > 0 && durationSec < 10) {
    format = 'http';
    sel = keepFirst(sel);
    step('selection', 'entry shorter than 10 s: HDS falls back to one progressive flavor');
  }
  if (ONE_FLAVOR_FORMATS.has(format)) sel = keepFirst(sel);
  if (partner.disableFlavorsOptimization) step('selection', 'redundant-flavor optimisation off for this partner');
  sel = dropRedundant(sel, partner.disableFlavorsOptimization);
  step('selection', `${sel.flavors.length} flavor(s) chosen by ${sel.chosenBy}: ${sel.flavors.map((f) => f.id).join(', ')}`, {
    chosen: sel.flavors.map((f) => ({ id: f.id, flavorParamsId: f.flavorParamsId, bitrate: f.bitrate, tags: f.tags })),
    dropped: sel.dropped,
  });

  const normalised = format === 'url' || format === 'download' ? 'http' : format;
  const responseFormat = req.responseFormat ?? (format === 'url' || format === 'download' ? 'redirect' : null);
  if (!KNOWN_FORMATS.has(normalised)) {
    step('delivery', `unknown format ${normalised}`);
    fail('BAD_QUERY', ', This format is unsupported');
  }

  // delivery profile
  const resolved = resolveDeliveryProfile({
    catalog, partner, entry, format: normalised === 'hdnetworksmil' ? 'hdnetwork' : normalised, protocol: req.protocol,
    requestedIds: req.deliveryProfileIds, flavors: sel.flavors, limit: access?.limitDeliveryProfiles ?? null,
    secured: isSecuredEntry(entry, hasRules, now),
    storageId: req.storageId,
  });
  for (const line of resolved.trace) step('delivery', line);
  const profile = resolved.profile;
  if (!profile && normalised !== 'hdnetwork') fail('BAD_QUERY', ', This format is unsupported');

  if (entry.mediaType !== MediaType.VIDEO && entry.mediaType !== MediaType.AUDIO) {
    fail('INVALID_ENTRY_TYPE', `, media type ${entry.mediaType} cannot be played`);
  }

  const captions = req.disableCaptions ? [] : catalog.listCaptions(entry.id).filter((c) => c.status === 2 && c.displayOnPlayer);

  // URLs
  const effectiveProfile = profile ?? hdNetworkProfile();
  const opts: UrlOptions = {
    entry, protocol: req.protocol, baseUrl: ctx.baseUrl, seekFrom: req.seekFrom, clipTo, playbackRate: req.playbackRate,
    tracks: req.tracks, downloadName: format === 'download' ? downloadFileName(entry, sel.flavors[0], catalog) : null,
    sequence: null,
  };
  if (req.sequence && ['applehttp', 'mpegdash', 'hdnetworkmanifest'].includes(normalised)) {
    const seq = req.sequence.map((id) => catalog.getEntry(id)).filter((e): e is Entry =>
      !!e && e.partnerId === entry.partnerId && e.status === EntryStatus.READY && e.type === EntryType.MEDIA_CLIP);
    if (seq.length) {
      opts.sequence = seq.map((e) => e.id);
      durationSec = seq.reduce((sum, e) => sum + e.duration, 0);
      step('selection', `sequence of ${seq.length} entr${seq.length === 1 ? 'y' : 'ies'}: ${opts.sequence.join(', ')}; flavors matched by params ids`);
    }
  }
  let urls: string[] = [];
  if (normalised !== 'hdnetwork') {
    const storage = resolved.storage;
    const external = storage
      ? { storage, paths: sel.flavors.map((f) => catalog.listRemoteFiles(f.id).find((r) => r.storageProfileId === storage.id)?.path ?? '') }
      : null;
    if (storage) step('delivery', `files served from external storage ${storage.id} (${storage.name})`);
    urls = flavorUrls(sel.flavors, effectiveProfile, opts, external);
  }

  // tokenization: the profile's CDN tokenizer, or kdeliver's own signature on protected media
  let cacheAge = config.playManifestCacheAge;
  if (effectiveProfile.tokenizer) {
    urls = tokenizeUrls(effectiveProfile.tokenizer, urls, {
      now, ks: req.ks, clientIp: req.clientIp, entryId: entry.id, partnerId: entry.partnerId,
      baseUrl: profileBase(effectiveProfile, req.protocol, ctx.baseUrl),
    });
    step('tokenizer', `${effectiveProfile.tokenizer.type} tokenizer applied`);
    cacheAge = 0;
  } else if (hasRules && effectiveProfile.url.startsWith('/') && !resolved.storage) {
    urls = urls.map((u) => signMediaUrl(u, config.mediaUrlSecret, now));
    step('tokenizer', 'kdeliver media signature applied (the entry has access-control rules)');
    cacheAge = 0;
  }
  if ((hasRules && !ktValid) || (ks && ks.isAdmin)) cacheAge = 0;

  const subtitleUrls = subtitlePlaylists(ctx, urls, captions, effectiveProfile, req.ks, durationSec);

  step('render', `profile ${effectiveProfile.id} (${effectiveProfile.name}), ${responseFormat ? `responseFormat ${responseFormat}` : 'its default renderer'}`);
  return {
    request: { ...req, responseFormat }, baseUrl: ctx.baseUrl, entry, partner, format: normalised, requestedFormat: format, flavors: sel.flavors,
    captions, profile: effectiveProfile, access, ks, clipTo, seekFrom: req.seekFrom, durationSec, urls, cacheAge,
    subtitleUrls, kalturaHeaders, trace,
  };
}

/**
 * WebVTT subtitle playlists for the HLS master. On the built-in packager (and packagers with its
 * URL grammar) they sit beside the flavor's playlist as subtitles-{n}.m3u8, n counting the
 * entry's READY captions, and inherit its signature; elsewhere they are the reference's api_v3
 * serveWebVTT URLs.
 */
export function subtitlePlaylists(ctx: PlaybackContext, urls: string[], captions: CaptionAsset[], profile: DeliveryProfile, ks: string | null, durationSec: number | null): string[] {
  if (!captions.length || !urls.length) return [];
  if (profile.type === ProfileType.VOD_PACKAGER_HLS && /\/index\.m3u8(\?|$)/.test(urls[0])) {
    const ready = ctx.catalog.listCaptions(captions[0].entryId).filter((c) => c.status === 2).map((c) => c.id);
    return captions.map((c) => urls[0].replace(/\/index\.m3u8(?=\?|$)/, `/subtitles-${ready.indexOf(c.id) + 1}.m3u8`));
  }
  const origin = new URL(urls[0]).origin;
  const seg = durationSec ? `/segmentDuration/${Math.ceil(durationSec)}` : '';
  return captions.map((c) => `${origin}/api_v3/index.php/service/caption_captionasset/action/serveWebVTT/captionAssetId/${c.id}${seg}${ks ? `/ks/${ks}` : ''}/version/${c.version}/a.m3u8`);
}

/**
 * The reference's entry::isSecuredEntry: rules, moderation, a schedule that has not started or
 * ends within a day, or no access-control profile at all. Secured entries prefer tokenized
 * default delivery profiles.
 */
function isSecuredEntry(entry: Entry, hasRules: boolean, now: number): boolean {
  return hasRules || entry.accessControlProfileId === null
    || entry.moderationStatus === ModerationStatus.PENDING_MODERATION || entry.moderationStatus === ModerationStatus.REJECTED
    || (entry.startDate !== null && entry.startDate > now) || (entry.endDate !== null && entry.endDate <= now + 86400);
}

/** format/download file name: "{entry name} ({flavor params name}).{ext}", as the reference names it. */
function downloadFileName(entry: Entry, flavor: FlavorAsset, catalog: Catalog): string {
  const params = catalog.getFlavorParams(flavor.flavorParamsId);
  const base = params && flavor.flavorParamsId !== 0 ? `${entry.name} (${params.name})` : entry.name;
  return `${base.replace(/[\\/:*?"<>|\r\n]+/g, '_')}.${flavor.fileExt || 'mp4'}`;
}

/** hdnetwork needs no delivery profile (the reference renders it without one). */
function hdNetworkProfile(): DeliveryProfile {
  return {
    id: 0, partnerId: 0, name: 'Akamai HD network (no profile)', type: ProfileType.AKAMAI_HD, streamerType: 'hdnetwork', url: '/',
    isDefault: false, priority: 0, active: true, mediaProtocols: [], tokenizer: null, enforceDeliveriesSupport: [], maxSize: null,
    extraParams: {},
  };
}
