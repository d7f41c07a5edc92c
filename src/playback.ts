// playManifest, as one call: parse → resolve → render (answerPlayManifest, the function the route
// calls and the answer cache wraps). resolvePlayback runs Kaltura's processing order as a
// straight line of named stages, one function each, named as the decision trace names them:
// entry, access (the session and the rules), selection, delivery, tokenizer. Each stage is a plain
// function over the request's environment; every decision is written to the trace so a person can
// later see why (the console's "why" panel, src/console/trace.ts).
import type { RequestEnv } from './env.js';
import { AssetStatus, EntryType, MediaType, ModerationStatus, PartnerStatus, type AccessRule, type Condition, type Entry, type FlavorAsset, type Partner } from './catalog/types.js';
import { isEncryptedEntry } from './drm/policy.js';
import { checkSmoothStreaming, drmProfile, drmSystemsOf } from './drm/profiles.js';
import { PACKAGER_TYPES } from './delivery/urls.js';
import type { AccessDecision } from './access/types.js';
import { readPlayRequest, type PlayRequest } from './request/play-request.js';
import { DeliveryError, fail, withAcp } from './errors.js';
import type { Ks } from './access/ks.js';
import { checkEntryAccess, initEntry, needsSignature, readSession, rulesOf } from './access/entry-check.js';
import { isFlavorAllowed, referrerHost } from './access/evaluate.js';
import type { DecisionStore } from './env.js';
import { dropRedundant, keepFirst, ONE_FLAVOR_FORMATS, PACKAGED_FORMATS, selectFlavors, type Selection } from './selection/flavors.js';
import { chooseProfile, mediaUrls, playerCaptions, sequenceEntries, servedHere, signUrls, type ChosenProfile } from './delivery/index.js';
import { renderPlayback } from './render/index.js';
import type { Rendered } from './render/types.js';
import type { KeptSession, Playback, TraceStep } from './types/playback.js';

/** What resolving reads besides the request (the client's facts, country included, come in the PlayRequest). */
export type PlaybackContext = Pick<RequestEnv, 'catalog' | 'config' | 'now' | 'baseUrl'>;
/** What the whole call reads: the same, and the request's HTTP facts. */
export type PlayManifestEnv = PlaybackContext & Pick<RequestEnv, 'http'> & Partial<Pick<RequestEnv, 'manifestCache'>>;

/** A playManifest answer: what was asked, what was decided, and the rendered reply. */
export interface PlayAnswer {
  request: PlayRequest;
  playback: Playback;
  rendered: Rendered;
}

/**
 * playManifest: parse → resolve → render. Refusals are thrown (DeliveryError, with the trace so far).
 * A request whose shape was decided before (the decision store, below) skips the stages up to the
 * tokenizer: its session is still verified, and its URLs signed and its answer rendered, per request.
 */
export async function answerPlayManifest(env: PlayManifestEnv): Promise<PlayAnswer> {
  const request = readPlayRequest(env.http);
  const playback = await resolvePlayback(env, request, keptDecisions(env));
  return { request, playback, rendered: renderPlayback(playback, env.now) };
}

/** The decision store (below), unless the answer cache is off (KDELIVER_MANIFEST_CACHE_ENTRIES=0: both tiers off). */
export function keptDecisions(env: Pick<RequestEnv, 'config'> & Partial<Pick<RequestEnv, 'manifestCache'>>): DecisionStore<unknown> | undefined {
  return env.config.manifestCacheEntries > 0 ? env.manifestCache?.decisions : undefined;
}

/** A DeliveryError with the decisions taken before it. */
export type TracedError = DeliveryError & { trace?: TraceStep[] };

/** With `decisions`, a request whose shape was decided before (below) is answered from that decision. */
export async function resolvePlayback(ctx: PlaybackContext, req: PlayRequest, decisions?: DecisionStore<unknown>): Promise<Playback> {
  const store = decisions as DecisionStore<Kept> | undefined;
  const kept = store && await fromKeptDecision(ctx, req, store);
  if (kept) return kept;
  const trace: TraceStep[] = [];
  try {
    return await resolve(ctx, req, trace, store);
  } catch (e) {
    if (e instanceof DeliveryError) (e as TracedError).trace = trace;
    throw e;
  }
}

type Step = (stage: TraceStep['stage'], message: string, data?: unknown) => void;

async function resolve(ctx: PlaybackContext, req: PlayRequest, trace: TraceStep[], decisions?: DecisionStore<Kept>): Promise<Playback> {
  const step: Step = (stage, message, data) => trace.push({ stage, message, ...(data === undefined ? {} : { data }) });
  // the generation before the catalog is read: a decision made while it changes is kept under the
  // older generation, and so never used after the change
  const generation = ctx.catalog.generation();
  step('request', `format ${req.format}, protocol ${req.protocol}${req.responseFormat ? `, responseFormat ${req.responseFormat}` : ''}`);
  const { ktValid, entry, partner } = await entryStage(ctx, req, step);
  const rules = await rulesOf(ctx.catalog, entry);
  const { ks, access, clipTo, kalturaHeaders, acp } = await accessStage(ctx, req, entry, partner, ktValid, step);
  // a refusal after the rules were evaluated carries their X-Kaltura-ACP, as Kaltura's does
  try {
    return await decide(ctx, req, trace, step, decisions, generation, { entry, partner, rules, ktValid, ks, access, clipTo, kalturaHeaders, acp });
  } catch (e) {
    throw withAcp(e, acp);
  }
}

/** resolve() past the rules: selection, delivery, encryption, then the tokenizer and render's inputs. */
async function decide(
  ctx: PlaybackContext, req: PlayRequest, trace: TraceStep[], step: Step, decisions: DecisionStore<Kept> | undefined, generation: number,
  { entry, partner, rules, ktValid, ks, access, clipTo, kalturaHeaders, acp }: { entry: Entry; partner: Partner; rules: AccessRule[]; ktValid: boolean; ks: Ks | null; access: AccessDecision | null; clipTo: number; kalturaHeaders: string[]; acp: string | null },
): Promise<Playback> {
  const hasRules = rules.length > 0;
  const { sel, format, durationSec } = selectionStage(req, entry, partner, access, ks, await ctx.catalog.listFlavors(entry.id), step);
  const d = await deliveryStage(ctx, req, entry, partner, format, sel, access, hasRules, ktValid, clipTo, durationSec, step);
  const encrypted = await encryptedDelivery(ctx, req, entry, partner, format, d.chosen, ks, step);
  // a sequence entry's rules were checked for this request alone (deliveryStage): not kept
  const keepable = !encrypted && !d.sequenceSigns && keepableDecision(rules, ktValid, ks, entry);
  // the media of a sequence are its entries': signed, with the KS under the signature, when any
  // of them has rules, as the main entry's are; an entry in moderation or with a schedule (which
  // outside it an admin or sview session plays) is signed too
  const signs = needsSignature(rules, entry) || d.sequenceSigns;
  const decided: Decided = { entry, partner, hasRules: signs, ktValid, access, clipTo, kalturaHeaders, acp, sel, format, d };
  const playback = await finish(ctx, req, decided, ks, keepable && !rules.some(ruleReadsSite), trace, step);
  if (decisions && keepable) keepDecision(decisions, generation, req, ctx.baseUrl, rules, ks, decided);
  return playback;
}

/** What the stages before the tokenizer decided: everything finish() needs but the session and the time. */
interface Decided {
  entry: Entry;
  partner: Partner;
  hasRules: boolean;
  ktValid: boolean;
  access: AccessDecision | null;
  clipTo: number;
  kalturaHeaders: string[];
  /** X-Kaltura-ACP of the rules' evaluation, null when none was made (a kt, no profile). */
  acp: string | null;
  sel: Selection;
  format: string;
  d: Awaited<ReturnType<typeof deliveryStage>>;
}

/**
 * tokenizer and render's inputs: what depends on the request's session and second.
 * `decidedByUrl`: the decision could be kept (below) and no rule reads the referrer, so what was
 * decided follows from the URL and the catalog alone.
 */
async function finish(ctx: PlaybackContext, req: PlayRequest, x: Decided, ks: Ks | null, decidedByUrl: boolean, trace: TraceStep[], step: Step): Promise<Playback> {
  const { entry, partner, hasRules, ktValid, access, clipTo, kalturaHeaders, acp, sel, format, d } = x;
  const signed = await tokenizerStage(ctx, req, entry, d, hasRules, step);
  // an answer that depends on the time, the client or a session is not cached
  let cacheAge = signed.signed ? 0 : ctx.config.playManifestCacheAge;
  if ((hasRules && !ktValid) || (ks && ks.isAdmin)) cacheAge = 0;
  // ... but without a session, and signed by kdeliver's own media signature (URL, secret and
  // second; a CDN tokenizer may read the client's address), it is the same answer all that second
  // (unless KDELIVER_PLAYMANIFEST_CACHE_AGE=0 turned the answer cache off)
  const sameWithinSecond = ctx.config.playManifestCacheAge > 0 && cacheAge <= 0 && decidedByUrl && !ks && !req.ks && !d.chosen.profile.tokenizer;
  // ... and with a user KS it is the same answer for every KS of the same session facts but for
  // what kdeliver's own signature makes of the KS's text and the second (a CDN tokenizer may read
  // the client's address; a kt or an expiry, the time): src/cache/session-answers.ts keeps it so
  const keptSession = decidedByUrl && ks && !ks.isAdmin && req.ks && req.kt === null && req.expiry === null && !d.chosen.profile.tokenizer
    ? { entry, partner, hasRules, facet: facetOf(ks, false, '') } : null;

  const responseFormat = req.responseFormat ?? (format === 'url' || format === 'download' ? 'redirect' : null);
  step('render', `profile ${d.chosen.profile.id} (${d.chosen.profile.name}), ${responseFormat ? `responseFormat ${responseFormat}` : 'its default renderer'}`);
  return {
    request: { ...req, responseFormat }, baseUrl: ctx.baseUrl, entry, partner, format: d.normalised, requestedFormat: format, flavors: sel.flavors,
    captions: d.captions, profile: d.chosen.profile, access, ks, clipTo, seekFrom: req.seekFrom, durationSec: d.durationSec, urls: signed.urls, cacheAge, sameWithinSecond, keptSession,
    subtitleUrls: signed.subtitleUrls, kalturaHeaders, acp, trace,
  };
}

/*
 * The decision store. Most player requests are the same request as the last one but for facts
 * that change every time and that the stages before the tokenizer never read: playSessionId,
 * clientTag and `_` (analytics), the page URL in `referrer`, the KS's own text (its user, expiry,
 * signature), the client's address and headers, the second. So what entry, access, selection and
 * delivery decided is kept per request shape (every PlayRequest field those stages read, with the
 * public base URL) and per the facts of this request the decision did read:
 * - the session: none, or a verified non-admin KS's partner, type and privileges (all the rules,
 *   selection and the preview read of a KS; src/access/evaluate.ts, selection's downloadasset);
 * - the referrer's host, only when a rule has a site condition (the only thing a rule reads of it).
 * It is kept only when nothing else could have decided differently: no kt or expiry in the URL, no
 * schedule dates on the entry (the time), every rule's conditions among authenticated,
 * sessionType, site and assetProperties (no IP, country, user agent, header, hash or time
 * condition) and its actions among block, preview, limitFlavors and limitDeliveryProfiles, no
 * admin KS, no encrypted entry; refusals are never kept. Per request, a kept decision still has
 * its KS verified (signature, expiry, IP and URI restrictions, revocation; src/access/entry-check.ts
 * readSession), its URLs signed or tokenized with the caller's own KS and the current second, and
 * its answer rendered; a KS that does not verify sends the request through the whole pipeline, so
 * the refusal is the pipeline's own. A catalog change (its generation) drops every kept decision.
 */

/**
 * What the store holds: per request shape, what a request needs before its session is read (the
 * entry, its partner, whether it has rules and reads the referrer), under the shape's key; and
 * each decision under the shape's key and its session/referrer facet. Each is one entry of the
 * store, so its bound (KDELIVER_MANIFEST_CACHE_ENTRIES) bounds them all.
 */
interface KeptShape {
  kind: 'shape';
  entry: Entry;
  partner: Partner;
  hasRules: boolean;
  readsSite: boolean;
}
type Kept = KeptShape | (Decided & { kind: 'decided' });
const KEPT_CONDITIONS = new Set(['authenticated', 'sessionType', 'site', 'assetProperties']);
const KEPT_ACTIONS = new Set(['block', 'preview', 'limitFlavors', 'limitDeliveryProfiles']);

/** The request shape: every field of the request but those the stages before the tokenizer do not read, or read only through a facet. */
function shapeKey(baseUrl: string, req: PlayRequest): string | null {
  if (req.kt !== null || req.expiry !== null) return null;
  // rawUri (render: hdnetwork's footer), clientIp, country, userAgent, headers, hashes (rules this
  // store does not keep; the KS's IP and URI checks, per request), ks and referrer (facets),
  // params (traces), callback (render), regexBudget (the request's own, spent as its rules run)
  const { rawUri, clientIp, country, userAgent, headers, hashes, ks, referrer, params, callback, regexBudget, ...shape } = req;
  return `${baseUrl} ${JSON.stringify(shape)}`;
}

function facetOf(ks: Ks | null, readsSite: boolean, referrer: string): string {
  const session = ks ? `${ks.partnerId} ${ks.type} ${JSON.stringify([...ks.privileges])}` : '-';
  return readsSite ? `${session} ${referrerHost(referrer) ?? ''}` : session;
}

function keptCondition(c: Condition): boolean {
  return KEPT_CONDITIONS.has(c.type) || (c.type === 'or' && (c.conditions ?? []).every(keptCondition));
}
// here, not src/access/evaluate.ts's rulesRead: asked after delivery, and a playManifest request
// is followed through its files once, in order (test/ops/request-walk.test.ts)
function readsSite(c: Condition): boolean {
  return c.type === 'site' || (c.type === 'or' && (c.conditions ?? []).some(readsSite));
}
function ruleReadsSite(r: AccessRule): boolean {
  return (r.conditions ?? []).some(readsSite);
}

/** Whether what the stages decided may be kept (the conditions above), the request's shape aside. */
function keepableDecision(rules: readonly AccessRule[], ktValid: boolean, ks: Ks | null, entry: Entry): boolean {
  if (ktValid || (ks && ks.isAdmin) || entry.startDate !== null || entry.endDate !== null) return false;
  return rules.every((r) => (r.conditions ?? []).every(keptCondition) && (r.actions ?? []).every((a) => KEPT_ACTIONS.has(a.type)));
}

function keepDecision(store: DecisionStore<Kept>, generation: number, req: PlayRequest, baseUrl: string, rules: readonly AccessRule[], ks: Ks | null, decided: Decided): void {
  const key = shapeKey(baseUrl, req);
  if (key === null) return;
  const siteFacet = rules.some(ruleReadsSite);
  const decidedKey = `${key}\n${facetOf(ks, siteFacet, req.referrer)}`;
  // kept from its second asking (shape and session facts): most shapes of a big catalog are asked once
  if (!store.askedBefore(decidedKey)) return;
  let shape = store.get(key, generation);
  if (shape?.kind !== 'shape' || shape.entry !== decided.entry) {
    shape = { kind: 'shape', entry: decided.entry, partner: decided.partner, hasRules: decided.hasRules, readsSite: siteFacet };
    store.put(key, generation, shape);
  }
  store.put(decidedKey, generation, { ...decided, kind: 'decided' });
}

/** The request answered from a kept decision, or null (then the whole pipeline runs). */
async function fromKeptDecision(env: PlaybackContext, req: PlayRequest, store: DecisionStore<Kept>): Promise<Playback | null> {
  const key = shapeKey(env.baseUrl, req);
  if (key === null) return null;
  const generation = env.catalog.generation();
  const shape = store.get(key, generation);
  if (shape?.kind !== 'shape') return null;
  const session = await keptDecisionSession(env, req, shape);
  if (!session) return null;
  const { ks } = session;
  const decided = store.get(`${key}\n${facetOf(ks, shape.readsSite, req.referrer)}`, generation);
  if (decided?.kind !== 'decided') return null;
  store.hit();
  const trace: TraceStep[] = [];
  const step: Step = (stage, message, data) => trace.push({ stage, message, ...(data === undefined ? {} : { data }) });
  step('request', `format ${req.format}, protocol ${req.protocol}: entry ${decided.entry.id}, access, selection and delivery as decided for an earlier request of the same shape and session facts`);
  return finish(env, req, decided, ks, !shape.readsSite, trace, step);
}

/**
 * A kept decision's session check: the request's KS verified as the pipeline verifies it
 * (readSession: signature, expiry, IP and URI restrictions, revocation; `ks` null without one);
 * null when it does not verify or is an admin's (never kept): then the whole pipeline answers, or
 * refuses it with its trace.
 */
async function keptDecisionSession(ctx: Pick<PlaybackContext, 'catalog' | 'now'>, req: Pick<PlayRequest, 'ks' | 'clientIp' | 'rawUri'>, kept: Pick<KeptSession, 'entry' | 'partner' | 'hasRules'>): Promise<{ ks: Ks | null } | null> {
  try {
    const ks = await readSession(ctx, req, kept.entry, kept.partner, kept.hasRules);
    return ks && ks.isAdmin ? null : { ks };
  } catch {
    return null;
  }
}

/**
 * The session facts of a request's KS, for a kept answer of a KS-bearing request
 * (src/cache/session-answers.ts): its KS checked as a kept decision checks it, and its facts as
 * the decision keyed them; null when it does not verify, is an admin's or is another partner's.
 */
export async function keptSessionFacet(ctx: Pick<PlaybackContext, 'catalog' | 'now'>, req: { ks: string; clientIp: string; rawUri: string }, kept: KeptSession): Promise<string | null> {
  const session = await keptDecisionSession(ctx, req, kept);
  return session?.ks ? facetOf(session.ks, false, '') : null;
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
  let acp: string | null = null;
  if (!ktValid) {
    if (partner.status !== PartnerStatus.ACTIVE) fail('PARTNER_NOT_ACTIVE');
    const checked = await checkEntryAccess(ctx, req, entry, partner, req.format === 'download' ? 'DOWNLOAD' : 'PLAY', { note: step });
    ({ ks, access, acp } = checked);
    if (checked.previewMs !== null) {
      clipTo = clipTo > 0 ? Math.min(clipTo, checked.previewMs) : checked.previewMs;
      step('access', `preview: clipped to ${clipTo} ms`);
    }
    for (const m of access?.messages ?? []) kalturaHeaders.push(`access-control: ${m}`);
  }
  try {
    // refusals past the rules carry their X-Kaltura-ACP (resolve); a clip that ends where it
    // starts or before: URLs the packager would refuse one by one
    if (req.seekFrom > 0 && clipTo > 0 && req.seekFrom >= clipTo) {
      if (clipTo !== req.clipTo) fail('ACCESS_CONTROL_RESTRICTED', `, this session may play only the first ${clipTo} ms (a preview), and seekFrom ${req.seekFrom} is past it`);
      fail('BAD_QUERY', `, seekFrom ${req.seekFrom} is not before clipTo ${clipTo}`);
    }
    if (partner.enforceEncryption) {
      if (!req.isHttps) fail('ACCESS_CONTROL_RESTRICTED', ', unencrypted manifest request - forbidden');
      if (!['https', 'rtmpe', 'rtmpte'].includes(req.protocol)) fail('ACCESS_CONTROL_RESTRICTED', ', unencrypted playback protocol - forbidden');
    }
    if (entry.type !== EntryType.MEDIA_CLIP) fail('INVALID_ENTRY_TYPE', `, entry type ${entry.type} cannot be played`);
  } catch (e) {
    throw withAcp(e, acp);
  }
  return { ks, access, clipTo, kalturaHeaders, acp };
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
    // said, as the import said it (src/catalog/library.ts), rather than a bare "not found"
    const unpackaged = PACKAGED_FORMATS.has(format) ? all.find((f) => f.status === AssetStatus.READY && f.packagingRefusal !== '') : undefined;
    fail('FLAVOR_NOT_FOUND', unpackaged ? `, the packager refuses the file of flavor ${unpackaged.id}: ${unpackaged.packagingRefusal}` : '');
  }
  const firstDuration = sel.flavors[0].durationMs;
  const durationSec: number | null = firstDuration > 0 ? firstDuration / 1000 : entry.duration || null;
  // the packager refuses a clip that starts past the media (src/request/packager-url.ts): said here,
  // where the player asked, rather than handed out as URLs that all answer 400
  if (req.seekFrom > 0 && durationSec !== null && durationSec > 0 && req.seekFrom >= durationSec * 1000) {
    fail('BAD_QUERY', `, seekFrom ${req.seekFrom} is past the end of the entry (${Math.round(durationSec * 1000)} ms)`);
  }
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
  access: AccessDecision | null, hasRules: boolean, ktValid: boolean, clipTo: number, durationSec: number | null, step: Step,
) {
  const normalised = format === 'url' || format === 'download' ? 'http' : format;
  const sequence = await sequenceEntries(ctx, entry, normalised, req);
  const seq = await checkSequence(ctx, req, entry, partner, sequence, sel.flavors, ktValid, step);
  if (sequence.length > 1 && (clipTo > 0 || req.seekFrom > 0)) {
    // the packager plays a sequence's entries whole: the main entry's preview refuses it as another
    // entry's does (checkSequence), and a clip asked for is refused rather than ignored
    if (clipTo !== req.clipTo) fail('ACCESS_CONTROL_RESTRICTED', `, entry ${entry.id} offers this session only a preview, and a sequence of several entries cannot be clipped`);
    fail('BAD_QUERY', ', a sequence of several entries cannot be clipped (seekFrom/clipTo)');
  }
  const secured = isSecuredEntry(entry, hasRules || seq.signs, ctx.now);
  const chosen = await chooseProfile(ctx, { partner, entry, format: normalised, req, flavors: sel.flavors, access, secured }, step);
  for (const limit of seq.profileLimits) {
    if (limit.deliveryProfileIds.includes(chosen.profile.id) === limit.isBlockedList) {
      fail('ACCESS_CONTROL_RESTRICTED', `, an entry of the sequence does not allow delivery profile ${chosen.profile.id}`);
    }
  }
  if (entry.mediaType !== MediaType.VIDEO && entry.mediaType !== MediaType.AUDIO) {
    fail('INVALID_ENTRY_TYPE', `, media type ${entry.mediaType} cannot be played`);
  }
  const captions = await playerCaptions(ctx, entry, req.disableCaptions);
  const built = await mediaUrls(ctx, { entry, format: normalised, download: format === 'download', req, clipTo, flavors: sel.flavors, chosen, durationSec, sequence }, step);
  return { normalised, chosen, captions, urls: built.urls, durationSec: built.durationSec, sequenceSigns: seq.signs };
}

/**
 * A sequence's other entries are checked as the main entry was (PLAY context, the request's KS,
 * referrer and address; moderation and schedule): the signed URLs the answer gives are what lets
 * their media out (src/serve/media-access.ts). The flavors come from the main entry's selection,
 * so an entry whose rules would not allow one of them refuses the request, as does one that would
 * give this session only a preview (one entry of a sequence cannot be clipped). Returns whether
 * any has rules, is in moderation or has a schedule (then the URLs are signed) and the
 * delivery-profile limits their rules set.
 */
async function checkSequence(
  ctx: PlaybackContext, req: PlayRequest, main: Entry, partner: Partner, sequence: readonly Entry[], flavors: readonly FlavorAsset[], ktValid: boolean, step: Step,
): Promise<{ signs: boolean; profileLimits: NonNullable<AccessDecision['limitDeliveryProfiles']>[] }> {
  let signs = false;
  const profileLimits: NonNullable<AccessDecision['limitDeliveryProfiles']>[] = [];
  for (const e of sequence) {
    if (e.id === main.id) continue;
    // its media is refused unsigned (src/serve/media-access.ts)
    if (needsSignature(await rulesOf(ctx.catalog, e), e)) signs = true;
    if (ktValid) continue; // a kt signed this very URL, sequence and all
    const checked = await checkEntryAccess(ctx, req, e, partner, 'PLAY', { note: step });
    if (checked.previewMs !== null) fail('ACCESS_CONTROL_RESTRICTED', `, entry ${e.id} of the sequence offers this session only a preview`);
    const limit = checked.access?.limitFlavors ?? null;
    if (limit) {
      const own = await ctx.catalog.listFlavors(e.id);
      for (const f of flavors) {
        const match = own.find((x) => x.flavorParamsId === f.flavorParamsId);
        if (!match || !isFlavorAllowed(limit, match, checked.ks)) {
          fail('ACCESS_CONTROL_RESTRICTED', `, entry ${e.id} of the sequence does not allow flavor params ${f.flavorParamsId}`);
        }
      }
    }
    if (checked.access?.limitDeliveryProfiles) profileLimits.push(checked.access.limitDeliveryProfiles);
  }
  if (signs) step('access', 'entries of the sequence have access-control rules, or are in moderation or scheduled: checked, and the media URLs signed');
  return { signs, profileLimits };
}

/** tokenizer: the profile's CDN tokenizer or kdeliver's media signature, and the subtitle playlists that inherit it. */
function tokenizerStage(ctx: PlaybackContext, req: PlayRequest, entry: Entry, d: Awaited<ReturnType<typeof deliveryStage>>, hasRules: boolean, step: Step) {
  return signUrls(ctx, { entry, req, chosen: d.chosen, urls: d.urls, captions: d.captions, durationSec: d.durationSec, hasRules }, step);
}

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
  // name only the formats this partner can play it in: Smooth Streaming signals PlayReady only
  const formats = drmProfile(partner, 'playready') ? 'HLS, DASH or Smooth Streaming' : 'HLS or DASH';
  return fail('ACCESS_CONTROL_RESTRICTED', `, ${entry.id} is encrypted: it plays as ${formats} from the built-in packager; ${format} needs an admin KS`);
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
