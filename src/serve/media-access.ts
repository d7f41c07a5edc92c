// Who may fetch an entry's media bytes around playManifest. Entries with access-control rules
// get signed media URLs from playManifest (delivery/tokenizers/kaltura.ts signMediaUrl);
// every media route checks that signature and the entry's SERVE-context rules before a byte goes
// out, so a protected entry cannot be fetched by guessing a serveFlavor or packager URL. The rules
// are evaluated for the caller playManifest answered: the KS it was given rides under the
// signature (signMediaUrl), is checked again here (expiry, revocation, IP) and takes part in the
// rules as it did there; without one, the rules see an anonymous caller.
import type { RequestEnv } from '../env.js';
import { AssetStatus, type Entry, type FlavorAsset } from '../catalog/types.js';
import { asDeliveryError, DeliveryError } from '../errors.js';
import { accessBlockedError, evaluateAccessRules, isFlavorAllowed } from '../access/evaluate.js';
import { partnerOf, readSession, rulesOf } from '../access/entry-check.js';
import { signedMediaKs, verifyKalturaToken } from '../delivery/tokenizers/kaltura.js';
import { flatHeaders, type HttpFacts } from '../request/http-facts.js';

/**
 * The signature and SERVE-context rules for this request (its HTTP facts: the URL carries the
 * signature) and what it asks for, or null when it may have the bytes.
 */
export function checkMediaAccess(
  env: Pick<RequestEnv, 'catalog' | 'config' | 'now'> & { http: Pick<HttpFacts, 'rawUrl' | 'clientIp' | 'headers' | 'country'> },
  entry: Entry, flavor?: FlavorAsset,
): DeliveryError | null {
  const { catalog, config, now, http } = env;
  const rules = rulesOf(catalog, entry);
  if (rules.length === 0) return null;

  const path = http.rawUrl.split('?')[0];
  const verdict = verifyKalturaToken(path, config.mediaUrlSecret, now);
  if (verdict !== 'valid') {
    return verdict === 'expired'
      ? new DeliveryError('EXPIRED_TOKEN', ', media URL signature has expired; ask playManifest again')
      : new DeliveryError('INVALID_TOKEN', ', protected media needs the signed URL that playManifest gives');
  }

  const headers = flatHeaders(http.headers);
  const grant = signedMediaKs(path);
  const ksString = grant?.ks ?? null;
  let ks = null;
  if (grant) {
    try {
      // The signature's window, not the KS's own end, bounds how long the media URL plays (a
      // player keeps fetching segments of a long video after a short KS ends); so the KS is
      // checked as of the signing (revocation included), and its IP restriction against this caller
      const at = Math.min(now, grant.signedAt);
      ks = readSession({ catalog, now: at }, { ks: grant.ks, clientIp: http.clientIp, rawUri: http.rawUrl }, entry, partnerOf(catalog, entry), true);
    } catch (e) {
      const err = asDeliveryError(e);
      if (!err) throw e;
      return err;
    }
  }
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
    readyAssets: catalog.listFlavors(entry.id).filter((f) => f.status === AssetStatus.READY),
    now,
    country: http.country,
  });
  if (decision.blocked) return accessBlockedError(decision);
  if (flavor && !isFlavorAllowed(decision.limitFlavors, flavor, ks)) {
    return new DeliveryError('FLAVOR_NOT_FOUND', ', flavor not allowed by access control');
  }
  return null;
}
