// The checks between a request and an entry's media, shared by playManifest (PLAY or DOWNLOAD
// context) and raw/download (DOWNLOAD): the session, the access-control rules, preview, then
// moderation and schedule (security.md §2.5, §2.7, §4.2). Returns the decision or throws the
// reference's error.
import type { Catalog } from '../catalog/catalog.js';
import type { RequestEnv } from '../env.js';
import type { HttpFacts } from '../request/http-facts.js';
import { ModerationStatus, type AccessContext, type Entry, type Partner } from '../catalog/types.js';
import { fail } from '../errors.js';
import { accessBlockedError, evaluateAccessRules, type AccessScope } from './evaluate.js';
import { KsError, ksHasPrivilege, parseKs, playManifestKsError, verifyKs, type Ks } from './ks.js';
import type { AccessDecision } from './types.js';

/**
 * What the checks read from the request: what the rules see (the country from the request's
 * HttpFacts), the KS as sent, and the URI its urirestrict is checked against.
 */
export interface RequestFacts extends Pick<AccessScope, 'clientIp' | 'referrer' | 'userAgent' | 'headers' | 'hashes'>, Pick<HttpFacts, 'country'> {
  ks: string | null;
  rawUri: string;
}

/** What the checks read besides the request: the catalog and the request's second. */
export type AccessEnv = Pick<RequestEnv, 'catalog' | 'now'>;

export interface EntryAccess {
  ks: Ks | null;
  /** null when the session bypassed the rules. */
  access: AccessDecision | null;
  /** PREVIEW limit in ms when a preview applies and is shorter than the entry, else null. */
  previewMs: number | null;
}

/** Where the checks say what they decided, as they decide it (so a refusal's trace has it too). */
export type Note = (stage: 'session' | 'access', message: string, data?: unknown) => void;
const silent: Note = () => {};

export function rulesOf(catalog: Catalog, entry: Entry) {
  return entry.accessControlProfileId !== null ? catalog.getAccessControlProfile(entry.accessControlProfileId)?.rules ?? [] : [];
}

/** KS from the request, checked against the entry's partner; another partner's KS is ignored unless the entry has rules. */
export function readSession({ catalog, now }: AccessEnv, req: RequestFacts, entry: Entry, partner: Partner, hasRules: boolean, note: Note = silent): Ks | null {
  if (!req.ks) return null;
  let parsed;
  try {
    parsed = parseKs(req.ks);
  } catch {
    return fail('INVALID_KS', ', the KS cannot be read');
  }
  if (parsed.partnerId !== entry.partnerId) {
    if (hasRules) fail('INVALID_PARTNER', ', the KS belongs to another partner');
    note('session', 'KS of another partner ignored');
    return null;
  }
  try {
    const ks = verifyKs(parsed, partner, { now, clientIp: req.clientIp, uri: req.rawUri, isRevoked: (key) => catalog.isRevoked(key, now) });
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

export interface CheckOptions {
  note?: Note;
  /** A session that skips every check (download: an admin KS or a download privilege). */
  bypass?: (ks: Ks) => boolean;
  /** Moderation, schedule and preview (playback and downloads); thumbnails only apply the rules. */
  playValidation?: boolean;
}

export function checkEntryAccess(env: AccessEnv, req: RequestFacts, entry: Entry, partner: Partner, context: AccessContext, opts: CheckOptions = {}): EntryAccess {
  const { catalog, now } = env;
  const note = opts.note ?? silent;
  const rules = rulesOf(catalog, entry);
  const hasRules = rules.length > 0;
  const ks = readSession(env, req, entry, partner, hasRules, note);
  if (ks && opts.bypass?.(ks)) {
    note('session', 'the session skips access control');
    return { ks, access: null, previewMs: null };
  }
  const admin = ks !== null && ks.isAdmin;
  const sview = ks !== null && (ksHasPrivilege(ks, 'sview', entry.id) || ksHasPrivilege(ks, 'sview', '*'));

  const access = evaluateAccessRules(rules, {
    contexts: [context], ks, ksString: req.ks, clientIp: req.clientIp, referrer: req.referrer, userAgent: req.userAgent,
    headers: req.headers, hashes: req.hashes, entryId: entry.id, entry,
    readyAssets: catalog.listFlavors(entry.id).filter((f) => f.status === 2), now, country: req.country,
  });
  if (hasRules) {
    note('access', `access-control profile ${entry.accessControlProfileId}: ${access.firedRules.length ? `rule(s) ${access.firedRules.join(',')} fired` : 'no rule fired'}${admin ? ' (admin KS: only forced rules run)' : ''}`, {
      firedRules: access.firedRules, messages: access.messages, blocked: access.blocked, previewSeconds: access.previewSeconds,
      limitFlavors: access.limitFlavors, limitDeliveryProfiles: access.limitDeliveryProfiles,
    });
  }

  if (opts.playValidation === false) {
    if (access.blocked) throw accessBlockedError(access);
    return { ks, access, previewMs: null };
  }

  const inModeration = entry.moderationStatus === ModerationStatus.PENDING_MODERATION || entry.moderationStatus === ModerationStatus.REJECTED;
  let previewMs: number | null = null;
  if (access.previewSeconds !== null && !admin && !access.blocked && !inModeration) {
    // a preview skips the play validation (moderation, schedule), as the reference does
    if (access.previewSeconds * 1000 < entry.duration * 1000) {
      previewMs = access.previewSeconds * 1000;
      note('access', `preview of ${access.previewSeconds} s`);
    }
    return { ks, access, previewMs };
  }
  if (!admin && !sview) {
    if (inModeration) {
      fail('ENTRY_MODERATION_ERROR', entry.moderationStatus === ModerationStatus.REJECTED
        ? ', ENTRY_DELETED_MODERATED: the entry was rejected in moderation'
        : ', the entry is pending moderation');
    }
    if ((entry.startDate !== null && entry.startDate > now) || (entry.endDate !== null && entry.endDate < now)) {
      fail('NOT_SCHEDULED_NOW', entry.endDate !== null && entry.endDate < now ? ', its schedule ended' : ', its schedule has not started');
    }
  }
  if (access.blocked) throw accessBlockedError(access);
  return { ks, access, previewMs };
}
