// playManifest, as one call: parse → resolve → render (answerPlayManifest, the function the route
// calls and the answer cache wraps). resolvePlayback runs Kaltura's processing order as a
// straight line of named stages, one function each, named as the decision trace names them:
// entry, access (the session and the rules), selection, delivery, tokenizer. Each stage is a plain
// function over the request's environment; every decision is written to the trace so a person can
// later see why (the console's "why" panel, src/console/trace.ts).
import type { RequestEnv } from './env.js';
import { EntryType, MediaType, ModerationStatus, PartnerStatus, type Entry, type FlavorAsset, type Partner } from './catalog/types.js';
import { isEncryptedEntry } from './drm/policy.js';
import { checkSmoothStreaming, drmProfile, drmSystemsOf } from './drm/profiles.js';
import { PACKAGER_TYPES } from './delivery/urls.js';
import type { AccessDecision } from './access/types.js';
import { readPlayRequest, type PlayRequest } from './request/play-request.js';
import { DeliveryError, fail } from './errors.js';
import type { Ks } from './access/ks.js';
import { checkEntryAccess, initEntry, rulesOf } from './access/entry-check.js';
import { dropRedundant, keepFirst, ONE_FLAVOR_FORMATS, selectFlavors, type Selection } from './selection/flavors.js';
import { chooseProfile, mediaUrls, playerCaptions, servedHere, signUrls, type ChosenProfile } from './delivery/index.js';
import { renderPlayback } from './render/index.js';
import type { Rendered } from './render/types.js';
import type { Playback, TraceStep } from './types/playback.js';

/** What resolving reads besides the request (the client's facts, country included, come in the PlayRequest). */
export type PlaybackContext = Pick<RequestEnv, 'catalog' | 'config' | 'now' | 'baseUrl'>;
/** What the whole call reads: the same, and the request's HTTP facts. */
export type PlayManifestEnv = PlaybackContext & Pick<RequestEnv, 'http'>;

/** A playManifest answer: what was asked, what was decided, and the rendered reply. */
export interface PlayAnswer {
  request: PlayRequest;
  playback: Playback;
  rendered: Rendered;
}

/** playManifest: parse → resolve → render. Refusals are thrown (DeliveryError, with the trace so far). */
export async function answerPlayManifest(env: PlayManifestEnv): Promise<PlayAnswer> {
  const request = readPlayRequest(env.http);
  const playback = await resolvePlayback(env, request);
  return { request, playback, rendered: renderPlayback(playback, env.now) };
}

/** A DeliveryError with the decisions taken before it. */
export type TracedError = DeliveryError & { trace?: TraceStep[] };

export async function resolvePlayback(ctx: PlaybackContext, req: PlayRequest): Promise<Playback> {
  const trace: TraceStep[] = [];
  try {
    return await resolve(ctx, req, trace);
  } catch (e) {
    if (e instanceof DeliveryError) (e as TracedError).trace = trace;
    throw e;
  }
}

type Step = (stage: TraceStep['stage'], message: string, data?: unknown) => void;

async function resolve(ctx: PlaybackContext, req: PlayRequest, trace: TraceStep[]): Promise<Playback> {
  const step: Step = (stage, message, data) => trace.push({ stage, message, ...(data === undefined ? {} : { data }) });
  step('request', `format ${req.format}, protocol ${req.protocol}${req.responseFormat ? `, responseFormat ${req.responseFormat}` : ''}`);
  const { ktValid, entry, partner } = await entryStage(ctx, req, step);
  const hasRules = (await rulesOf(ctx.catalog, entry)).length > 0;
  const { ks, access, clipTo, kalturaHeaders } = await accessStage(ctx, req, entry, partner, ktValid, step);
  const { sel, format, durationSec } = selectionStage(req, entry, partner, access, ks, await ctx.catalog.listFlavors(entry.id), step);
  const d = await deliveryStage(ctx, req, entry, partner, format, sel, access, hasRules, clipTo, durationSec, step);
  const encrypted = await encryptedDelivery(ctx, req, entry, partner, format, d.chosen, ks, step);
  const signed = await tokenizerStage(ctx, req, entry, d, hasRules, step);
  // an answer that depends on the time, the client or a session is not cached
  let cacheAge = signed.signed ? 0 : ctx.config.playManifestCacheAge;
  if ((hasRules && !ktValid) || (ks && ks.isAdmin)) cacheAge = 0;

  const responseFormat = req.responseFormat ?? (format === 'url' || format === 'download' ? 'redirect' : null);
  step('render', `profile ${d.chosen.profile.id} (${d.chosen.profile.name}), ${responseFormat ? `responseFormat ${responseFormat}` : 'its default renderer'}`);
  return {
    request: { ...req, responseFormat }, baseUrl: ctx.baseUrl, entry, partner, format: d.normalised, requestedFormat: format, flavors: sel.flavors,
    captions: d.captions, profile: d.chosen.profile, access, ks, clipTo, seekFrom: req.seekFrom, durationSec: d.durationSec, urls: signed.urls, cacheAge,
    subtitleUrls: signed.subtitleUrls, kalturaHeaders, trace,
  };
}

/** entry: expiry and kt, then the entry and its partner (Kaltura's initEntry). */
async function entryStage(ctx: PlaybackContext, req: PlayRequest, step: Step) {
  const found = await initEntry(ctx, req, step);
  const { entry, partner } = found;
  step('entry', `entry ${entry.id} of partner ${partner.id}: type ${entry.type}, mediaType ${entry.mediaType}, status ${entry.status}`);
  return found;
}

/**
 * session and access: unless a kt signed the URL, the partner must be active, then the KS and the
 * access-control rules (PLAY, or DOWNLOAD for format/download), which may shorten the answer to a
 * preview; then the partner's enforced encryption and the entry's type.
 */
async function accessStage(ctx: PlaybackContext, req: PlayRequest, entry: Entry, partner: Partner, ktValid: boolean, step: Step) {
  let ks: Ks | null = null;
  let access: AccessDecision | null = null;
  let clipTo = req.clipTo;
  const kalturaHeaders: string[] = [];
  if (!ktValid) {
    if (partner.status !== PartnerStatus.ACTIVE) fail('PARTNER_NOT_ACTIVE');
    const checked = await checkEntryAccess(ctx, req, entry, partner, req.format === 'download' ? 'DOWNLOAD' : 'PLAY', { note: step });
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
  return { ks, access, clipTo, kalturaHeaders };
}

/**
 * selection: the flavors the request and the rules allow, one for one-flavor formats, without
 * redundant ones; HDS of an entry shorter than 10 s falls back to one progressive flavor.
 */
function selectionStage(req: PlayRequest, entry: Entry, partner: Partner, access: AccessDecision | null, ks: Ks | null, all: readonly FlavorAsset[], step: Step) {
  let format = req.format;
  let sel: Selection = selectFlavors({
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
  const durationSec: number | null = firstDuration > 0 ? firstDuration / 1000 : entry.duration || null;
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
  return { sel, format, durationSec };
}

/** delivery: the profile (src/delivery), the entry's media type, the captions offered, the media URLs. */
async function deliveryStage(
  ctx: PlaybackContext, req: PlayRequest, entry: Entry, partner: Partner, format: string, sel: Selection,
  access: AccessDecision | null, hasRules: boolean, clipTo: number, durationSec: number | null, step: Step,
) {
  const normalised = format === 'url' || format === 'download' ? 'http' : format;
  const secured = isSecuredEntry(entry, hasRules, ctx.now);
  const chosen = await chooseProfile(ctx, { partner, entry, format: normalised, req, flavors: sel.flavors, access, secured }, step);
  if (entry.mediaType !== MediaType.VIDEO && entry.mediaType !== MediaType.AUDIO) {
    fail('INVALID_ENTRY_TYPE', `, media type ${entry.mediaType} cannot be played`);
  }
  const captions = await playerCaptions(ctx, entry, req.disableCaptions);
  const built = await mediaUrls(ctx, { entry, format: normalised, download: format === 'download', req, clipTo, flavors: sel.flavors, chosen, durationSec }, step);
  return { normalised, chosen, captions, urls: built.urls, durationSec: built.durationSec };
}

/** tokenizer: the profile's CDN tokenizer or kdeliver's media signature, and the subtitle playlists that inherit it. */
function tokenizerStage(ctx: PlaybackContext, req: PlayRequest, entry: Entry, d: Awaited<ReturnType<typeof deliveryStage>>, hasRules: boolean, step: Step) {
  return signUrls(ctx, { entry, req, chosen: d.chosen, urls: d.urls, captions: d.captions, durationSec: d.durationSec, hasRules }, step);
}

/** The formats the built-in packager encrypts; an encrypted entry is played through them only. */
const PACKAGED_FORMATS = new Set(['applehttp', 'mpegdash', 'sl']);

/**
 * access, encrypted entries: an entry whose access-control profile has a DRM policy action (src/drm/policy.ts) is
 * played only as packaged (HLS, DASH, Smooth Streaming from the built-in packager, encrypted
 * there); progressive delivery, HDS and other servers' profiles would hand out clear media, so
 * they are refused with error 3 unless an admin KS asks (as Kaltura lets an admin download).
 */
async function encryptedDelivery(ctx: PlaybackContext, req: PlayRequest, entry: Entry, partner: Partner, format: string, chosen: ChosenProfile, ks: Ks | null, step: Step): Promise<boolean> {
  if (!(await isEncryptedEntry(ctx.catalog, entry))) return false;
  const profile = chosen.profile;
  // an external storage's packager would not encrypt: only this server's own packager plays it
  const packaged = PACKAGED_FORMATS.has(format) && PACKAGER_TYPES.has(profile.type) && servedHere(chosen) && !profile.tokenizer;
  if (packaged) {
    if (format === 'sl' && !drmProfile(partner, 'playready')) {
      step('access', `encrypted entry: Smooth Streaming signals PlayReady only and partner ${partner.id} has no PlayReady DRM profile`);
      checkSmoothStreaming(partner, entry);
    }
    step('access', `encrypted entry: the packager encrypts${req.ks ? ', the URLs carry the KS its key and licence requests need' : ' (no KS: its key and licence will be refused)'}`);
    step('access', `encrypted entry: licences from ${drmSystemsOf(partner, format).join(', ')}`);
    return true;
  }
  if (ks?.isAdmin) {
    step('access', `encrypted entry: ${format} would be clear media, allowed for an admin KS`);
    return true;
  }
  step('access', `encrypted entry: ${format} through profile ${profile.id} would be clear media`);
  return fail('ACCESS_CONTROL_RESTRICTED', `, ${entry.id} is encrypted: it plays as HLS, DASH or Smooth Streaming from the built-in packager; ${format} needs an admin KS`);
}

/**
 * Kaltura's entry::isSecuredEntry: rules, moderation, a schedule that has not started or
 * ends within a day, or no access-control profile at all. Secured entries prefer tokenized
 * default delivery profiles.
 */
function isSecuredEntry(entry: Entry, hasRules: boolean, now: number): boolean {
  return hasRules || entry.accessControlProfileId === null
    || entry.moderationStatus === ModerationStatus.PENDING_MODERATION || entry.moderationStatus === ModerationStatus.REJECTED
    || (entry.startDate !== null && entry.startDate > now) || (entry.endDate !== null && entry.endDate <= now + 86400);
}
