// The checks between a request and an entry's media, shared by playManifest (PLAY or DOWNLOAD
// context), raw/download (DOWNLOAD), thumbnails (THUMBNAIL) and the media routes: the live entry
// and its ready flavor (one helper for every route), playManifest's kt, the session, the
// access-control rules, preview, then moderation and schedule, in Kaltura's order (a KS is read
// before the rules run; a preview skips moderation and schedule; an admin KS or an `sview`
// privilege skips moderation and schedule). Returns the decision or throws the reference's error.
import type { Catalog } from '../catalog/store.js';
import type { RequestEnv } from '../env.js';
import { AssetStatus, EntryStatus, ModerationStatus, PartnerStatus, type AccessContext, type Entry, type FlavorAsset, type Partner } from '../catalog/types.js';
import type { PlayRequest } from '../request/play-request.js';
import { checkPlayManifestToken } from './kt.js';
import { DeliveryError, fail, withAcp } from '../errors.js';
import { accessBlockedError, acpHeader, evaluateAccessRules } from './evaluate.js';
import { INVALID_KS_WHY, KsError, ksHasPrivilege, parseKs, playManifestKsError, refuseRevoked, verifyKs, type Ks, type ParsedKs } from './ks.js';
import type { AccessDecision } from './types.js';

/**
 * What the checks read from the request: the request model's access facts (playManifest passes its
 * PlayRequest; raw, download and thumbnails make the same fields from their HttpFacts and path
 * parameters, routes/http.ts accessFacts): what the rules see, the KS as sent, the URI its
 * urirestrict is checked against.
 */
export type RequestFacts = Pick<PlayRequest, 'ks' | 'rawUri' | 'clientIp' | 'referrer' | 'userAgent' | 'headers' | 'hashes' | 'country' | 'regexBudget'>;

/** What the checks read besides the request: the catalog and the request's second. */
export type AccessEnv = Pick<RequestEnv, 'catalog' | 'now'>;

export interface EntryAccess {
  ks: Ks | null;
  /** null when the session bypassed the rules. */
  access: AccessDecision | null;
  /** PREVIEW limit in ms when a preview applies and is shorter than the entry, else null. */
  previewMs: number | null;
  /** The X-Kaltura-ACP value of the evaluation (evaluate.ts acpHeader), null when none was made. */
  acp: string | null;
}

/** Where the checks say what they decided, as they decide it (so a refusal's trace has it too). */
export type Note = (stage: 'session' | 'access', message: string, data?: unknown) => void;
const silent: Note = () => {};

/**
 * The live entry `id` names: not deleted and, when `partnerId` is given, that partner's (a URL
 * under /p/{pid} never reaches another partner's entry). ENTRY_NOT_FOUND otherwise; a deleted
 * entry's refusal names ENTRY_DELETED_MODERATED, on every route (README "Errors"), and is that
 * error itself (9) where Kaltura answers so (`deleted`: /thumbnail).
 */
export async function liveEntry(catalog: Pick<Catalog, 'getEntry'>, id: string | null | undefined, partnerId?: number, deleted: 'ENTRY_NOT_FOUND' | 'ENTRY_DELETED_MODERATED' = 'ENTRY_NOT_FOUND'): Promise<Entry> {
  const entry = id ? await catalog.getEntry(id) : undefined;
  if (!entry || (partnerId !== undefined && entry.partnerId !== partnerId)) fail('ENTRY_NOT_FOUND');
  if (entry.status === EntryStatus.DELETED) fail(deleted, deleted === 'ENTRY_NOT_FOUND' ? ', ENTRY_DELETED_MODERATED: the entry is deleted' : ', the entry is deleted');
  return entry;
}

/** The entry's partner, PARTNER_NOT_FOUND when it is gone; with `active`, PARTNER_NOT_ACTIVE unless it is active. */
export async function partnerOf(catalog: Pick<Catalog, 'getPartner'>, entry: Entry, active = false): Promise<Partner> {
  const partner = await catalog.getPartner(entry.partnerId);
  if (!partner) fail('PARTNER_NOT_FOUND');
  if (active && partner.status !== PartnerStatus.ACTIVE) fail('PARTNER_NOT_ACTIVE');
  return partner;
}

/** The entry's flavor if it is ready, else FLAVOR_NOT_FOUND (serveFlavor, the packager). */
export function readyFlavor(f: FlavorAsset | undefined, entry: Entry): FlavorAsset {
  if (!f || f.entryId !== entry.id || f.status === AssetStatus.DELETED) throw new DeliveryError('FLAVOR_NOT_FOUND');
  if (f.status !== AssetStatus.READY) throw new DeliveryError('FLAVOR_NOT_FOUND', ', the flavor is not ready');
  return f;
}

/**
 * A media URL's `v`: the version of the flavor's file it was made for (src/delivery/urls.ts writes
 * the current one). Only the current version's file is kept, so any other names a file that does
 * not exist: error 5 FILE_NOT_FOUND, as Kaltura's serveFlavor answers a version with no file sync
 * (and its packager mapping, an empty one, is nginx-vod-module's 404). None, empty or 0 is the
 * current version. serveFlavor (routes/serve-flavor.ts) and the packager (src/packaging/packager.ts)
 * both ask here.
 */
export function checkFileVersion(f: FlavorAsset, v: string | undefined): void {
  if (!v || v === '0') return;
  const numeric = /^\d{1,10}$/.test(v);
  if (numeric && Number(v) === f.version) return;
  throw new DeliveryError('FILE_NOT_FOUND', `, flavor ${f.id} has no file of version ${numeric ? v : '(not a number)'} (its file is version ${f.version})`);
}

/**
 * playManifest's first checks, Kaltura's initEntry: an expiry, then a `kt` (HEAD counts as the
 * GET it mirrors), then the entry and its partner. `ktValid`: a valid kt signed this URL, so the
 * session and the access-control rules are not checked.
 */
export async function initEntry(env: Pick<RequestEnv, 'catalog' | 'config' | 'now'>, req: PlayRequest, note: Note = silent): Promise<{ ktValid: boolean; entry: Entry; partner: Partner }> {
  const ktValid = checkPlayManifestToken({ ...req, method: req.method === 'HEAD' ? 'GET' : req.method }, env.config.urlTokenSecret, env.now);
  if (ktValid) note('session', 'valid kt: session and access control are not checked');
  // without a kt, a KS is read before the entry is looked for, as Kaltura's initEntry does
  if (!ktValid) await crackKs(env, req.ks);
  if (!req.entryId) fail('ENTRY_NOT_FOUND', ', entryId is missing');
  const entry = await liveEntry(env.catalog, req.entryId);
  return { ktValid, entry, partner: await partnerOf(env.catalog, entry) };
}

/**
 * The first look at a request's KS, before its entry is looked for (playManifest, raw, download,
 * flvclipper, as Kaltura's actions crack the KS first): one that cannot be read, names no partner
 * or is not signed by its partner is INVALID_KS (7) whatever the entry, so a garbage KS on a
 * missing entry is 7, not 1. Nothing else is judged here: expiry, restrictions, revocation and
 * the partner's match come later (readSession), after the entry, as in Kaltura; a KS that passes
 * here leaves a missing entry ENTRY_NOT_FOUND.
 */
export async function crackKs({ catalog, now }: AccessEnv, ks: string | null | undefined): Promise<void> {
  if (ks) await refuseUnsigned(catalog, parseOrRefuse(ks), now);
}

/** The KS's envelope, or INVALID_KS when it cannot be read. */
function parseOrRefuse(ks: string): ParsedKs {
  try {
    return parseKs(ks);
  } catch {
    return fail('INVALID_KS', INVALID_KS_WHY.MALFORMED);
  }
}

/**
 * INVALID_KS for a KS that names no partner or that its partner did not sign (a KS is opened with
 * its own partner's secret before anything else is judged: Kaltura cannot even open a v2 KS
 * otherwise). Its expiry and restrictions are not judged here.
 */
async function refuseUnsigned(catalog: AccessEnv['catalog'], parsed: ParsedKs, now: number): Promise<void> {
  const signer = await catalog.getPartner(parsed.partnerId);
  if (!signer) fail('INVALID_KS', ', the KS names a partner that does not exist');
  try {
    verifyKs(parsed, signer!, { now, uri: null });
  } catch (e) {
    if (!(e instanceof KsError)) throw e;
    if (e.reason === 'MALFORMED' || e.reason === 'BAD_SIGNATURE') fail('INVALID_KS', INVALID_KS_WHY.BAD_SIGNATURE);
  }
}

export async function rulesOf(catalog: Pick<Catalog, 'getAccessControlProfile'>, entry: Entry) {
  return entry.accessControlProfileId !== null ? (await catalog.getAccessControlProfile(entry.accessControlProfileId))?.rules ?? [] : [];
}

/**
 * KS from the request, checked against the entry's partner; another partner's KS (signed by that
 * partner) is ignored unless the entry has rules. `rawUri` null: the KS came under kdeliver's
 * media signature (verifyKs: no urirestrict check).
 */
export async function readSession({ catalog, now }: AccessEnv, req: Pick<RequestFacts, 'ks' | 'clientIp'> & { rawUri: string | null }, entry: Entry, partner: Partner, hasRules: boolean, note: Note = silent): Promise<Ks | null> {
  if (!req.ks) return null;
  const parsed = parseOrRefuse(req.ks);
  if (parsed.partnerId !== entry.partnerId) {
    // one its partner did not sign is INVALID_KS, as on the entry's own partner, not a KS to
    // ignore or to call another partner's
    await refuseUnsigned(catalog, parsed, now);
    if (hasRules) fail('INVALID_PARTNER', ', the KS belongs to another partner');
    note('session', 'KS of another partner ignored');
    return null;
  }
  try {
    const ks = verifyKs(parsed, partner, { now, clientIp: req.clientIp, uri: req.rawUri });
    await refuseRevoked(ks, (key) => catalog.isRevoked(key, now));
    note('session', `${ks.isAdmin ? 'admin' : 'user'} KS${ks.userId ? ` of user ${ks.userId}` : ''}`);
    return ks;
  } catch (e) {
    if (!(e instanceof KsError)) throw e;
    const err = playManifestKsError(e, hasRules);
    if (err) throw err;
    note('session', 'KS of another partner ignored');
    return null;
  }
}

const isInModeration = (entry: Entry): boolean =>
  entry.moderationStatus === ModerationStatus.PENDING_MODERATION || entry.moderationStatus === ModerationStatus.REJECTED;
const isScheduledNow = (entry: Entry, now: number): boolean =>
  !((entry.startDate !== null && entry.startDate > now) || (entry.endDate !== null && entry.endDate < now));

/**
 * An entry whose playing depends on its status: in moderation, or with a schedule (outside it only
 * an admin or an `sview` session plays it: checkEntryAccess). Its media URLs are signed and checked
 * as a protected entry's are (src/serve/media-access.ts): otherwise anyone holding a URL fetched a
 * held-back entry, and a shared cache kept a scheduled one's media past its end.
 */
export const isStatusBound = (entry: Entry): boolean => isInModeration(entry) || entry.startDate !== null || entry.endDate !== null;

/**
 * Whether an entry's media goes only to URLs playManifest signed, and its captions only to the
 * sessions it plays for: it has access-control rules (`rules`, rulesOf's), or its status limits it.
 */
export const needsSignature = (rules: readonly unknown[], entry: Entry): boolean => rules.length > 0 || isStatusBound(entry);

export interface CheckOptions {
  note?: Note;
  /** A session that skips every check (download: an admin KS or a download privilege). */
  bypass?: (ks: Ks) => boolean;
  /** Moderation, schedule and preview (playback and downloads); thumbnails only apply the rules. */
  playValidation?: boolean;
}

export async function checkEntryAccess(env: AccessEnv, req: RequestFacts, entry: Entry, partner: Partner, context: AccessContext, opts: CheckOptions = {}): Promise<EntryAccess> {
  const { catalog, now } = env;
  const note = opts.note ?? silent;
  const rules = await rulesOf(catalog, entry);
  const hasRules = rules.length > 0;
  const ks = await readSession(env, req, entry, partner, hasRules, note);
  if (ks && opts.bypass?.(ks)) {
    note('session', 'the session skips access control');
    return { ks, access: null, previewMs: null, acp: null };
  }
  const admin = ks !== null && ks.isAdmin;
  const sview = ks !== null && (ksHasPrivilege(ks, 'sview', entry.id) || ksHasPrivilege(ks, 'sview', '*'));

  const flavors = await catalog.listFlavors(entry.id);
  const access = evaluateAccessRules(rules, {
    contexts: [context], ks, ksString: req.ks, clientIp: req.clientIp, referrer: req.referrer, userAgent: req.userAgent,
    headers: req.headers, hashes: req.hashes, entryId: entry.id, entry,
    readyAssets: flavors.filter((f) => f.status === AssetStatus.READY), now, country: req.country,
    regexBudget: req.regexBudget,
  });
  if (hasRules) {
    note('access', `access-control profile ${entry.accessControlProfileId}: ${access.firedRules.length ? `rule(s) ${access.firedRules.join(',')} fired` : 'no rule fired'}${admin ? ' (admin KS: only forced rules run)' : ''}`, {
      firedRules: access.firedRules, messages: access.messages, blocked: access.blocked, previewSeconds: access.previewSeconds,
      limitFlavors: access.limitFlavors, limitDeliveryProfiles: access.limitDeliveryProfiles,
    });
  }

  // every refusal from here on came after the evaluation: it carries its X-Kaltura-ACP
  const acp = acpHeader(entry.accessControlProfileId, access);
  try {
    return afterRules(entry, access, ks, admin, sview, now, opts, note, acp);
  } catch (e) {
    throw withAcp(e, acp);
  }
}

/** checkEntryAccess past the rules: preview, then moderation and schedule, then a block. */
function afterRules(entry: Entry, access: AccessDecision, ks: Ks | null, admin: boolean, sview: boolean, now: number, opts: CheckOptions, note: Note, acp: string | null): EntryAccess {
  if (opts.playValidation === false) {
    if (access.blocked) throw accessBlockedError(access);
    return { ks, access, previewMs: null, acp };
  }

  const inModeration = isInModeration(entry);
  let previewMs: number | null = null;
  if (access.previewSeconds !== null && !admin && !access.blocked && !inModeration) {
    // a preview skips the play validation (moderation, schedule), as the reference does
    if (access.previewSeconds * 1000 < entry.duration * 1000) {
      previewMs = access.previewSeconds * 1000;
      note('access', `preview of ${access.previewSeconds} s`);
    }
    return { ks, access, previewMs, acp };
  }
  if (!admin && !sview) {
    if (inModeration) {
      fail('ENTRY_MODERATION_ERROR', entry.moderationStatus === ModerationStatus.REJECTED
        ? ', ENTRY_DELETED_MODERATED: the entry was rejected in moderation'
        : ', the entry is pending moderation');
    }
    if (!isScheduledNow(entry, now)) {
      fail('NOT_SCHEDULED_NOW', entry.endDate !== null && entry.endDate < now ? ', its schedule ended' : ', its schedule has not started');
    }
  }
  if (access.blocked) throw accessBlockedError(access);
  return { ks, access, previewMs, acp };
}
