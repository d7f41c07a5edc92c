// baseEntry.getPlaybackContext and flavorAsset.getUrl go through the playManifest pipeline
// (src/playback.ts) with a synthetic playManifest request, so that the API and playManifest can
// never disagree: what the API offers is what playManifest will serve, and what playManifest
// refuses the API reports as actions and messages (or as an error for getUrl).
import { checkEntryAccess, rulesOf } from '../access/entry-check.js';
import { generateKs } from '../access/ks.js';
import { previewBytes } from '../serve/downloads.js';
import { mediaFile } from '../serve/file.js';
import { entryStoryboard } from '../thumbnail/source.js';
import type { CaptionAsset, Entry, FlavorAsset, Partner } from '../catalog/types.js';
import { DeliveryError } from '../errors.js';
import { keptDecisions, resolvePlayback } from '../playback.js';
import type { Playback } from '../types/playback.js';
import { parsePlayRequest, type PlayRequest } from '../request/play-request.js';
import { ApiError } from './errors.js';
import { noteEntryReads } from './answer-cache.js';
import { drmPolicyOf, isEncryptedEntry } from '../drm/policy.js';
import { licenseUrl } from '../drm/keys.js';
import { playbackDrmData } from '../drm/profiles.js';
import { requestProtocol } from './lookup.js';
import { captionTypeOf, flavorAssetObject } from './objects.js';
import type { ApiContext, ApiObject } from './types.js';

/** Characters a KS may carry inside a path segment; anything else goes in the query. */
const PATH_SAFE_KS = /^[A-Za-z0-9_\-=.]+$/;

/** Appends the KS to a playManifest URL the way a client can send it back. */
export function withKs(url: string, ks: string | null): string {
  if (!ks) return url;
  if (PATH_SAFE_KS.test(ks)) {
    const tail = url.lastIndexOf('/');
    // before the file-name tail (a.m3u8, a.mp4), which must stay last
    return /\.[a-z0-9]+$/i.test(url.slice(tail + 1)) ? `${url.slice(0, tail)}/ks/${ks}${url.slice(tail)}` : `${url}/ks/${ks}`;
  }
  return `${url}${url.includes('?') ? '&' : '?'}ks=${encodeURIComponent(ks)}`;
}

/** The `/referrer/{base64url}` pair of a playManifest or download URL; empty without a referrer. */
const referrerPair = (referrer: string | undefined): string =>
  referrer ? `/referrer/${Buffer.from(referrer).toString('base64url')}` : '';

/**
 * The PlayRequest a client asking playManifest for this entry would make: the API call's own
 * HTTP facts (address, country, user agent, scheme) with a playManifest URL, the KS in the header
 * (and not the API call's body).
 */
export function playRequestFor(ctx: ApiContext, entry: Entry, pairs: string, ks: string | null, referrer?: string): PlayRequest {
  const path = `/entryId/${entry.id}${pairs}${referrerPair(referrer)}`;
  const headers: Record<string, string | string[] | undefined> = { ...ctx.http.headers };
  delete headers['x-kaltura-ks'];
  if (ks) headers['x-kaltura-ks'] = ks;
  return parsePlayRequest(path, {
    ...ctx.http, method: 'GET', rawUrl: `/p/${entry.partnerId}/sp/${entry.partnerId}00/playManifest${path}`, query: {}, headers, body: undefined,
  });
}

/**
 * Runs the pipeline for one format, as if a client had asked playManifest: through playManifest's
 * kept decisions (src/playback.ts), so the player's getPlaybackContext and its playManifest
 * requests share them (the session is verified and the URLs signed per call all the same).
 */
export async function playFor(ctx: ApiContext, entry: Entry, pairs: string, ks: string | null, referrer?: string): Promise<Playback> {
  await noteRulesRead(ctx, entry);
  return resolvePlayback(ctx, playRequestFor(ctx, entry, pairs, ks, referrer), keptDecisions(ctx));
}

/** For an answer that may be kept (src/api/answer-cache.ts): the request facts this entry's rules read. */
async function noteRulesRead(ctx: ApiContext, entry: Entry): Promise<void> {
  if (ctx.reads) noteEntryReads(ctx.reads, await rulesOf(ctx.catalog, entry), entry);
}

const manifestBase = (ctx: ApiContext, e: Entry): string => `${ctx.baseUrl}/p/${e.partnerId}/sp/${e.partnerId}00/playManifest/entryId/${e.id}`;

interface SourceFormat {
  format: 'applehttp' | 'mpegdash' | 'url';
  tail(flavors: FlavorAsset[]): string;
}
const SOURCE_FORMATS: SourceFormat[] = [
  { format: 'applehttp', tail: () => 'applehttp/a.m3u8' },
  { format: 'mpegdash', tail: () => 'mpegdash/manifest.mpd' },
  { format: 'url', tail: (f) => `url/name/a.${f[0]?.fileExt || 'mp4'}` },
];

/**
 * The DRM data of an encrypted entry's source (Kaltura's KalturaDrmPlaybackPluginData: scheme,
 * licenseURL; FairPlay's adds certificate), each licence URL for the caller's KS:
 * - DASH: kdeliver's own ClearKey licence endpoint as `kdeliver.CLEAR_KEY` (Kaltura has no
 *   ClearKey scheme name; the Kaltura web player ignores it), then the partner's Widevine and
 *   PlayReady licence servers as `drm.WIDEVINE_CENC` and `drm.PLAYREADY_CENC` (src/drm/profiles.ts).
 * - HLS: the partner's FairPlay licence server as `fairplay.FAIRPLAY`. The AES-128 key URI of the
 *   default playlists is in the playlist (Kaltura lists no DRM data for HLS AES either).
 */
function drmOf(ctx: ApiContext, partner: Partner | null, entry: Entry, format: SourceFormat['format'], ks: string | null): ApiObject[] {
  if (format === 'url') return [];
  const own: ApiObject[] = format === 'mpegdash'
    ? [{ objectType: 'KalturaDrmPlaybackPluginData', scheme: 'kdeliver.CLEAR_KEY', licenseURL: licenseUrl(ctx.baseUrl, entry, ks ?? undefined) }]
    : [];
  return [...own, ...playbackDrmData(partner, entry, format, ks ?? undefined)];
}

/** Kaltura's RuleActionType numbers, as the player compares them. */
const ActionType = { BLOCK: 1, PREVIEW: 2, LIMIT_FLAVORS: 3, LIMIT_DELIVERY_PROFILES: 5, REQUEST_HOST_REGEX: 7 } as const;

/** A refusal of the pipeline → the messages a client shows (each rule's own code where it has one). */
function refusalMessages(e: DeliveryError): ApiObject[] {
  if (e.errorName === 'ACCESS_CONTROL_RESTRICTED' && e.ruleMessages.length) {
    return e.ruleMessages.map(({ code, message }) => ({ objectType: 'KalturaAccessControlMessage', message, code }));
  }
  const code = e.errorName === 'NOT_SCHEDULED_NOW' ? 'SCHEDULED_RESTRICTED'
    : e.errorName === 'INVALID_KS' || e.errorName === 'KS_EXPIRED' || e.errorName === 'INVALID_KS_SRT' || e.errorName === 'INVALID_PARTNER' ? 'INVALID_KS'
      : e.errorName;
  return [{ objectType: 'KalturaAccessControlMessage', message: e.message, code }];
}

/** Errors that mean "refused" (a block); the others mean "nothing to play" (no sources, no block). */
const REFUSALS = new Set(['ACCESS_CONTROL_RESTRICTED', 'NOT_SCHEDULED_NOW', 'ENTRY_MODERATION_ERROR', 'INVALID_KS', 'INVALID_KS_SRT', 'KS_EXPIRED', 'INVALID_PARTNER', 'EXCEEDED_RESTRICTED_IP', 'IP_COUNTRY_BLOCKED', 'PARTNER_NOT_ACTIVE', 'INVALID_TOKEN', 'EXPIRED_TOKEN']);

function captionsOf(ctx: ApiContext, captions: CaptionAsset[], ks: string | null): ApiObject[] {
  const api = `${ctx.baseUrl}/api_v3/index.php/service/caption_captionasset/action`;
  return captions.map((c) => ({
    objectType: 'KalturaCaptionPlaybackPluginData',
    label: c.label || c.language,
    format: captionTypeOf(c),
    language: c.language,
    languageCode: c.languageCode,
    isDefault: c.isDefault,
    url: withKs(`${api}/serve/captionAssetId/${c.id}`, ks),
    webVttUrl: withKs(`${api}/serveWebVTT/captionAssetId/${c.id}/segmentIndex/-1/version/${c.version}/captions.vtt`, ks),
  }));
}

export interface PlaybackContextOptions {
  referrer?: string;
  /** KalturaPlaybackContextOptions.streamerType: only that format (http and url both mean progressive). */
  streamerType?: string;
  /** KalturaPlaybackContextOptions.mediaProtocol: the protocol of the media URLs (default: the request's). */
  mediaProtocol?: string;
}

export async function playbackContext(ctx: ApiContext, entry: Entry, options: PlaybackContextOptions): Promise<ApiObject> {
  const ks = ctx.ks?.raw ?? null;
  const proto = options.mediaProtocol === 'http' || options.mediaProtocol === 'https' ? options.mediaProtocol : requestProtocol(ctx);
  const wanted = options.streamerType === 'http' ? 'url' : options.streamerType;
  const sources: ApiObject[] = [];
  const flavorAssets = new Map<string, FlavorAsset>();
  const actions: ApiObject[] = [];
  let captions: CaptionAsset[] = [];
  let refusal: DeliveryError | null = null;
  let previewMs = 0;
  let limit: Playback['access'] = null;
  const drmPolicy = await drmPolicyOf(ctx.catalog, entry);

  for (const sf of SOURCE_FORMATS) {
    if (wanted && wanted !== sf.format) continue;
    let pb: Playback;
    try {
      pb = await playFor(ctx, entry, `/format/${sf.format}/protocol/${proto}`, ks, options.referrer);
    } catch (e) {
      if (!(e instanceof DeliveryError)) throw e;
      if (REFUSALS.has(e.errorName) && !refusal) refusal = e;
      continue;
    }
    let flavors = pb.flavors;
    if (sf.format === 'url') {
      // progressive offers every web flavor the adaptive formats chose, each playable on its own
      const adaptive = [...flavorAssets.values()].filter((f) => /^(mp4|m4a|mp3|webm)$/.test(f.fileExt));
      flavors = adaptive.length ? adaptive : flavors;
    }
    for (const f of flavors) flavorAssets.set(f.id, f);
    if (pb.captions.length) captions = pb.captions;
    previewMs = pb.clipTo > 0 ? pb.clipTo : previewMs;
    limit = pb.access ?? limit;
    const ids = flavors.map((f) => f.id).join(',');
    const clip = pb.clipTo > 0 ? `/clipTo/${pb.clipTo}` : '';
    const url = `${manifestBase(ctx, entry)}/flavorIds/${ids}/deliveryProfileId/${pb.profile.id}${clip}/protocol/${proto}/format/${sf.tail(flavors)}`;
    sources.push({
      objectType: 'KalturaPlaybackSource',
      deliveryProfileId: String(pb.profile.id),
      format: sf.format,
      protocols: pb.partner.enforceEncryption ? 'https' : 'http,https',
      flavorIds: ids,
      url,
      drm: drmPolicy ? drmOf(ctx, pb.partner, entry, sf.format, ks) : [],
    });
  }

  const messages: ApiObject[] = [];
  if (sources.length === 0 && refusal) {
    actions.push({ objectType: 'KalturaAccessControlBlockAction', type: ActionType.BLOCK });
    messages.push(...refusalMessages(refusal));
  } else {
    if (previewMs > 0) actions.push({ objectType: 'KalturaAccessControlPreviewAction', type: ActionType.PREVIEW, limit: Math.round(previewMs / 1000) });
    // the matched DRM policy action, as Kaltura lists it (the player reads only BLOCK and REQUEST_HOST_REGEX)
    if (drmPolicy) actions.push({ objectType: 'KalturaAccessControlDrmPolicyAction', type: 'drm.DRM_POLICY', policyId: drmPolicy.policyId });
    if (limit?.limitFlavors) {
      actions.push({
        objectType: 'KalturaAccessControlLimitFlavorsAction', type: ActionType.LIMIT_FLAVORS,
        flavorParamsIds: limit.limitFlavors.flavorParamsIds.join(','), isBlockedList: limit.limitFlavors.isBlockedList,
      });
    }
    if (limit?.limitDeliveryProfiles) {
      actions.push({
        objectType: 'KalturaAccessControlLimitDeliveryProfilesAction', type: ActionType.LIMIT_DELIVERY_PROFILES,
        deliveryProfileIds: limit.limitDeliveryProfiles.deliveryProfileIds.join(','), isBlockedList: limit.limitDeliveryProfiles.isBlockedList,
      });
    }
    // the player rewrites its media, caption and poster URLs with it (its regex-action handler):
    // a rule's action that exists only for clients, so it must reach them
    if (limit?.requestHostRegex) {
      const { pattern, replacement, checkAliveTimeoutMs } = limit.requestHostRegex;
      actions.push({
        objectType: 'KalturaAccessControlModifyRequestHostRegexAction', type: ActionType.REQUEST_HOST_REGEX,
        pattern, replacement, ...(checkAliveTimeoutMs !== undefined ? { checkAliveTimeoutMs } : {}),
      });
    }
  }
  const flavorList = [...flavorAssets.values()].sort((a, b) => a.bitrate - b.bitrate);
  return {
    objectType: 'KalturaPlaybackContext',
    sources,
    playbackCaptions: sources.length ? captionsOf(ctx, captions, ks) : [],
    flavorAssets: sources.length ? flavorList.map(flavorAssetObject) : [],
    actions,
    messages,
    storyboards: sources.length ? await storyboardsOf(ctx, entry, ks, options.referrer) : [],
  };
}

/**
 * kdeliver's addition to the playback context: the entry's WebVTT storyboard (`#xywh=` cues over
 * sprite sheets) for a seek-bar preview, when its THUMBNAIL rules let this caller see it. Kaltura
 * has no such field; clients that do not know it ignore it.
 */
async function storyboardsOf(ctx: ApiContext, entry: Entry, ks: string | null, referrer?: string): Promise<ApiObject[]> {
  const sb = await entryStoryboard(ctx.catalog, entry);
  const partner = await ctx.catalog.getPartner(entry.partnerId);
  if (!sb || !partner) return [];
  await noteRulesRead(ctx, entry);
  try {
    await checkEntryAccess(ctx, playRequestFor(ctx, entry, '/format/url', ks, referrer), entry, partner, 'THUMBNAIL', { playValidation: false });
  } catch (e) {
    if (e instanceof DeliveryError) return [];
    throw e;
  }
  const l = sb.layout;
  const base = `${ctx.baseUrl}/p/${entry.partnerId}/sp/${entry.partnerId}00/storyboard/entry_id/${entry.id}/version/${entry.version}`;
  return [{
    objectType: 'KdeliverStoryboard',
    format: 'webvtt',
    url: `${base}${ks && PATH_SAFE_KS.test(ks) ? `/ks/${ks}` : ''}/storyboard.vtt${ks && !PATH_SAFE_KS.test(ks) ? `?ks=${encodeURIComponent(ks)}` : ''}`,
    tileWidth: l.tileWidth,
    tileHeight: l.tileHeight,
    columns: l.columns,
    rows: l.rows,
    intervalMs: l.intervalMs,
    sheets: l.sheets,
  }];
}

/** A DeliveryError of the DOWNLOAD check → the API error a client of getUrl sees. */
function downloadError(e: DeliveryError, flavor: FlavorAsset, entry: Entry): ApiError {
  if (e.errorName === 'FLAVOR_NOT_FOUND' || e.errorName === 'FILE_NOT_FOUND') return new ApiError('FLAVOR_ASSET_ID_NOT_FOUND', { ID: flavor.id });
  if (e.errorName === 'ENTRY_NOT_FOUND') return new ApiError('ENTRY_ID_NOT_FOUND', { ENTRY_ID: entry.id });
  return new ApiError('ACCESS_CONTROL_RESTRICTED', { ENTRY_ID: entry.id, REASON: e.message });
}

/** flavorAsset.getUrl's storageId, forceProxy and KalturaFlavorAssetUrlOptions. */
export interface FlavorUrlOptions {
  /** options[fileName]: the attachment's file name (the download action's `file_name`). */
  fileName?: string;
  /** options[referrer]: the referrer the DOWNLOAD rules judge; the URL carries it (`/referrer/{base64}`). */
  referrer?: string;
  /** storageId: the copy on that storage (playManifest's `storageId`). */
  storageId?: number;
}

/** How long the session of a getUrl download URL lasts: a day, as Kaltura's getUrl makes it. */
const DOWNLOAD_KS_SECONDS = 86400;

/**
 * flavorAsset.getUrl: a playManifest `format/download` URL for one flavor, checked in the DOWNLOAD
 * context first, with the referrer the check was made with. With a file name (and no storage),
 * the URL is Kaltura's getDownloadUrl form instead, the download action with `file_name`, since
 * playManifest names the attachment itself; a storageId keeps the playManifest form (Kaltura's
 * storage URL takes no file name for a plain file either).
 *
 * When the download needs a session, the URL is the download action's with a KS made for it, as
 * Kaltura's getUrl does: a user KS of the entry's partner whose only privilege is
 * `download:{entryId}` (which passes that action's DOWNLOAD rules), for a day. The caller's own KS
 * never goes into the URL: it is handed on to viewers ("Download HD"), and the documented recipe
 * asks with an admin KS. Two cases keep the caller's KS, as nothing narrower would serve them: a
 * storageId (playManifest's storage redirect reads no download privilege) and an encrypted entry
 * (its clear files are an admin's only, src/drm/session.ts).
 */
export async function flavorDownloadUrl(ctx: ApiContext, entry: Entry, flavor: FlavorAsset, opts: FlavorUrlOptions = {}): Promise<string> {
  const proto = requestProtocol(ctx);
  const storage = opts.storageId !== undefined ? `/storageId/${opts.storageId}` : '';
  const pairs = `/flavorId/${flavor.id}/format/download/protocol/${proto}${storage}`;
  const referrer = referrerPair(opts.referrer);
  const downloadAction = (ks: string | null): string => {
    const base = `${ctx.baseUrl}/p/${entry.partnerId}/sp/${entry.partnerId}00/download/entry_id/${entry.id}/flavor/${flavor.id}${referrer}`;
    // a path segment cannot carry a slash, even encoded (src/request/path-params.ts refuses %2F,
    // %5C and %00): they become _, as the download's relocate name makes them anyway; so does a
    // name of only "." or "..", which URL normalisation would take for a path step
    const name = opts.fileName ? `/file_name/${encodeURIComponent(opts.fileName.replace(/[/\\\0]/g, '_').replace(/^\.{1,2}$/, '_'))}` : '';
    if (!ks) return `${base}${name}`;
    return PATH_SAFE_KS.test(ks) ? `${base}/ks/${ks}${name}` : `${base}${name}?ks=${encodeURIComponent(ks)}`;
  };
  const url = (ks: string | null): string => (opts.fileName && !storage
    ? downloadAction(ks)
    : withKs(`${manifestBase(ctx, entry)}/flavorId/${flavor.id}/protocol/${proto}${storage}/format/download${referrer}/a.${flavor.fileExt || 'mp4'}`, ks));
  // playManifest falls back to another flavor when the asked one is not allowed (a limit-flavors
  // rule): for getUrl that is a refusal, never a URL that downloads a different flavor
  const served = (p: Playback): void => {
    if (!p.flavors.some((f) => f.id === flavor.id)) throw new DeliveryError('FLAVOR_NOT_FOUND', ', flavor not allowed by access control');
  };
  let first: DeliveryError | null = null;
  const ks = ctx.ks?.raw ?? null;
  try {
    const anonymous = await playFor(ctx, entry, pairs, null, opts.referrer);
    served(anonymous);
    // a URL anyone may open; unless it gives them only a preview (a truncated file) and the
    // caller's session may have the whole one: then a URL with a session of its own, below
    if (!anonymous.clipTo || !ks) return url(null);
  } catch (e) {
    if (!(e instanceof DeliveryError)) throw e;
    first = e;
  }
  if (!ks) throw downloadError(first ?? new DeliveryError('ENTRY_NOT_FOUND'), flavor, entry);
  let previewMs = 0;
  try {
    const caller = await playFor(ctx, entry, pairs, ks, opts.referrer);
    served(caller);
    if (!first && caller.clipTo) return url(null);
    previewMs = caller.clipTo;
  } catch (e) {
    if (!(e instanceof DeliveryError)) throw e;
    throw downloadError(e, flavor, entry);
  }
  if (storage || await isEncryptedEntry(ctx.catalog, entry)) return url(ks);
  const partner = await ctx.catalog.getPartner(entry.partnerId);
  if (!partner) throw downloadError(first ?? new DeliveryError('ENTRY_NOT_FOUND'), flavor, entry);
  // a caller the rules give only a preview: the KS keeps it to the preview's bytes (its download
  // privilege skips the rules, the preview privilege still cuts the file), as Kaltura's does
  // (the file's own size where the catalog has none: a budget of 0 bytes would read as no budget
  // at all, and at least one byte is granted so it never does)
  const size = previewMs && !(flavor.size > 0) && ctx.media ? (await mediaFile(ctx.media, flavor.filePath)).size : flavor.size;
  const preview = previewMs ? `,preview:${Math.max(1, previewBytes(size, previewMs / 1000, entry.duration))}` : '';
  return downloadAction(generateKs({
    partnerId: partner.id, secret: partner.adminSecret, type: 0, userId: '', expiry: DOWNLOAD_KS_SECONDS,
    privileges: `download:${entry.id}${preview}`, version: 2, now: ctx.now,
  }));
}
