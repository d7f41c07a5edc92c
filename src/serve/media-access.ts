// Who may fetch an entry's media bytes around playManifest. Entries with access-control rules, and
// those in moderation or with a schedule, get signed media URLs from playManifest
// (delivery/tokenizers/kaltura.ts signMediaUrl); every media route checks that signature and the
// entry's SERVE-context rules before a byte goes out, so a protected entry cannot be fetched by
// guessing a serveFlavor or packager URL. The rules are evaluated for the caller playManifest
// answered: the KS it was given rides under the signature (signMediaUrl), is checked again here
// (expiry, revocation, IP; not urirestrict, which playManifest checked) and takes part in the
// rules as it did there; without one, the rules see an anonymous caller.
import type { RequestEnv } from '../env.js';
import { AssetStatus, type Entry, type FlavorAsset } from '../catalog/types.js';
import { asDeliveryError, DeliveryError, withAcp } from '../errors.js';
import { accessBlockedError, acpHeader, evaluateAccessRules, isFlavorAllowed } from '../access/evaluate.js';
import { checkEntryAccess, isStatusBound, readyFlavor, needsSignature, partnerOf, readSession, rulesOf, type EntryAccess, type RequestFacts } from '../access/entry-check.js';
import type { Ks } from '../access/ks.js';
import { signedMediaKs, verifyKalturaToken } from '../delivery/tokenizers/kaltura.js';
import { PRIVATE_MEDIA, PUBLIC_MEDIA } from './file.js';
import { flatHeaders, type HttpFacts } from '../request/http-facts.js';

type MediaAccessEnv = Pick<RequestEnv, 'catalog' | 'config' | 'now'> & { http: Pick<HttpFacts, 'rawUrl' | 'clientIp' | 'headers' | 'country' | 'regexBudget'> };

/**
 * The signature and SERVE-context rules for this request (its HTTP facts: the URL carries the
 * signature) and what it asks for: the refusal (null: the bytes may go), with the X-Kaltura-ACP value of the SERVE
 * evaluation (src/access/evaluate.ts acpHeader), which Kaltura's serveFlavor sends from its
 * SERVE-context check (null: no profile, or refused before the rules ran). The caller decides
 * whether the answer or the refusal carries it: serveFlavor's do, the packager's do not (Kaltura's
 * packager asks serveFlavor for its mapping, which evaluates nothing).
 */
export async function mediaAccess(env: MediaAccessEnv, entry: Entry, flavor?: FlavorAsset): Promise<{ refusal: DeliveryError | null; acp: string | null }> {
  const { catalog, config, now, http } = env;
  const rules = await rulesOf(catalog, entry);
  // an entry whose profile has no rules (none to evaluate): Kaltura's header names the profile alone
  if (!needsSignature(rules, entry)) return { refusal: null, acp: acpHeader(entry.accessControlProfileId, NO_RULE_FIRED) };

  const path = http.rawUrl.split('?')[0];
  const verdict = verifyKalturaToken(path, config.mediaUrlSecret, now);
  if (verdict !== 'valid') {
    return {
      refusal: verdict === 'expired'
        ? new DeliveryError('EXPIRED_TOKEN', ', media URL signature has expired; ask playManifest again')
        : new DeliveryError('INVALID_TOKEN', ', protected media needs the signed URL that playManifest gives'),
      acp: null,
    };
  }

  const headers = flatHeaders(http.headers);
  const grant = signedMediaKs(path);
  const ksString = grant?.ks ?? null;
  let ks = null;
  if (grant) {
    try {
      // The signature's window, not the KS's own end, bounds how long the media URL plays (a
      // player keeps fetching segments of a long video after a short KS ends); so the KS is
      // checked as of the signing (revocation included), and its IP restriction against this caller.
      // Its URI restriction was checked where it was presented, at playManifest, which made this
      // URL: a media URL is not a URI the KS is presented at (rawUri null)
      const at = Math.min(now, grant.signedAt);
      ks = await readSession({ catalog, now: at }, { ks: grant.ks, clientIp: http.clientIp, rawUri: null }, entry, await partnerOf(catalog, entry), true);
    } catch (e) {
      const err = asDeliveryError(e);
      if (!err) throw e;
      return { refusal: err, acp: null };
    }
  }
  const flavors = await catalog.listFlavors(entry.id);
  const decision = evaluateAccessRules(rules, {
    contexts: ['SERVE'],
    ks,
    ksString,
    clientIp: http.clientIp,
    referrer: headers.referer ?? '',
    userAgent: headers['user-agent'] ?? '',
    headers,
    hashes: {},
    entryId: entry.id,
    entry,
    readyAssets: flavors.filter((f) => f.status === AssetStatus.READY),
    now,
    country: http.country,
    regexBudget: http.regexBudget,
  });
  const acp = acpHeader(entry.accessControlProfileId, decision);
  if (decision.blocked) return { refusal: accessBlockedError(decision), acp };
  if (flavor && !isFlavorAllowed(decision.limitFlavors, flavor, ks)) {
    return { refusal: new DeliveryError('FLAVOR_NOT_FOUND', ', flavor not allowed by access control'), acp };
  }
  return { refusal: null, acp };
}

const NO_RULE_FIRED = { firedRules: [] };

/**
 * An flvclipper URL without kdeliver's media signature, judged as Kaltura's flvclipper judges it:
 * by the entry's PLAY rules with the request's own KS and referrer (`facts`), a preview clipping
 * the answer (previewMs), and by its SERVE rules, as every media route applies them. `choose`
 * names the flavor given what both contexts allow (a URL naming none gets the best one the rules
 * allow, as every format of playManifest offers only those). Throws the refusal; returns the
 * flavor, the preview and the session the rules read.
 */
export async function checkUnsignedClip(
  env: Pick<RequestEnv, 'catalog' | 'now'>, facts: RequestFacts, entry: Entry,
  choose: (allowed: (f: FlavorAsset) => boolean) => FlavorAsset | undefined,
): Promise<{ flavor: FlavorAsset; previewMs: number | null; ks: Ks | null; acp: string | null }> {
  const partner = await partnerOf(env.catalog, entry, true);
  const played = await checkEntryAccess(env, facts, entry, partner, 'PLAY');
  const served = await checkEntryAccess(env, facts, entry, partner, 'SERVE', { playValidation: false });
  const allowed = (f: FlavorAsset) => [played, served].every((c) => isFlavorAllowed(c.access?.limitFlavors ?? null, f, c.ks));
  // the PLAY evaluation's X-Kaltura-ACP, as Kaltura's flvclipper evaluates its rules in that context
  const acp = played.acp;
  const flavor = withAcpOnThrow(() => readyFlavor(choose(allowed), entry), acp);
  if (!allowed(flavor)) throw withAcp(new DeliveryError('FLAVOR_NOT_FOUND', ', flavor not allowed by access control'), acp);
  return { flavor, previewMs: played.previewMs, ks: played.ks, acp };
}

function withAcpOnThrow<T>(f: () => T, acp: string | null): T {
  try {
    return f();
  } catch (e) {
    throw withAcp(e, acp);
  }
}

/**
 * Cache-Control of a media answer: any cache may keep it unless the entry's rules (an encrypted
 * entry's DRM policy among them) judged it by what its URL does not show; a URL with kdeliver's
 * media signature (`signed`) shows what it was judged by. An entry with a schedule, or held back
 * by moderation, was judged by the session (a KS may ride in a header) and the hour: what it
 * answers now is not an answer for everyone, for months.
 */
export async function mediaCacheControl(env: Pick<RequestEnv, 'catalog'>, entry: Entry, signed: boolean): Promise<string> {
  if (signed) return PUBLIC_MEDIA;
  if (isStatusBound(entry)) return PRIVATE_MEDIA;
  return (await rulesOf(env.catalog, entry)).length === 0 ? PUBLIC_MEDIA : PRIVATE_MEDIA;
}
