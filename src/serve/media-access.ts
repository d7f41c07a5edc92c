// Who may fetch an entry's media bytes around playManifest. Entries with access-control rules
// get signed media URLs from playManifest (delivery/tokenizers/kaltura.ts signMediaUrl);
// every media route checks that signature and the entry's SERVE-context rules before a byte goes
// out, so a protected entry cannot be fetched by guessing a serveFlavor or packager URL.
import type { RequestEnv } from '../env.js';
import { AssetStatus, type Entry, type FlavorAsset } from '../catalog/types.js';
import { DeliveryError } from '../errors.js';
import { accessBlockedError, evaluateAccessRules, isFlavorAllowed } from '../access/evaluate.js';
import { rulesOf } from '../access/entry-check.js';
import { verifyKalturaToken } from '../delivery/tokenizers/kaltura.js';
import { flatHeaders, type HttpFacts } from '../request/http-facts.js';

/**
 * The signature and SERVE-context rules for this request (its HTTP facts: the URL carries the
 * signature) and what it asks for, or null when it may have the bytes.
 */
export async function checkMediaAccess(
  env: Pick<RequestEnv, 'catalog' | 'config' | 'now'> & { http: Pick<HttpFacts, 'rawUrl' | 'clientIp' | 'headers' | 'country'> },
  entry: Entry, flavor?: FlavorAsset,
): Promise<DeliveryError | null> {
  const { catalog, config, now, http } = env;
  const rules = await rulesOf(catalog, entry);
  if (rules.length === 0) return null;

  const path = http.rawUrl.split('?')[0];
  const verdict = verifyKalturaToken(path, config.mediaUrlSecret, now);
  if (verdict !== 'valid') {
    return verdict === 'expired'
      ? new DeliveryError('EXPIRED_TOKEN', ', media URL signature has expired; ask playManifest again')
      : new DeliveryError('INVALID_TOKEN', ', protected media needs the signed URL that playManifest gives');
  }

  const headers = flatHeaders(http.headers);
  const flavors = await catalog.listFlavors(entry.id);
  const decision = evaluateAccessRules(rules, {
    contexts: ['SERVE'],
    ks: null,
    ksString: null,
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
  });
  if (decision.blocked) return accessBlockedError(decision);
  if (flavor && !isFlavorAllowed(decision.limitFlavors, flavor, null)) {
    return new DeliveryError('FLAVOR_NOT_FOUND', ', flavor not allowed by access control');
  }
  return null;
}
