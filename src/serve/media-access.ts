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

export type MediaAccessContext = Pick<RequestEnv, 'catalog' | 'config' | 'now'>;

/** The request's HTTP facts (the URL carries the signature) and what it asks for. */
export interface MediaRequest extends Pick<HttpFacts, 'rawUrl' | 'clientIp' | 'headers' | 'country'> {
  entry: Entry;
  flavor?: FlavorAsset;
}

export function checkMediaAccess(ctx: MediaAccessContext, req: MediaRequest): DeliveryError | null {
  const { catalog, config, now } = ctx;
  const rules = rulesOf(catalog, req.entry);
  if (rules.length === 0) return null;

  const path = req.rawUrl.split('?')[0];
  const verdict = verifyKalturaToken(path, config.mediaUrlSecret, now);
  if (verdict !== 'valid') {
    return verdict === 'expired'
      ? new DeliveryError('EXPIRED_TOKEN', ', media URL signature has expired; ask playManifest again')
      : new DeliveryError('INVALID_TOKEN', ', protected media needs the signed URL that playManifest gives');
  }

  const headers = flatHeaders(req.headers);
  const decision = evaluateAccessRules(rules, {
    contexts: ['SERVE'],
    ks: null,
    ksString: null,
    clientIp: req.clientIp,
    referrer: headers.referer ?? '',
    userAgent: headers['user-agent'] ?? '',
    headers,
    hashes: {},
    entryId: req.entry.id,
    entry: req.entry,
    readyAssets: catalog.listFlavors(req.entry.id).filter((f) => f.status === AssetStatus.READY),
    now,
    country: req.country,
  });
  if (decision.blocked) return accessBlockedError(decision);
  if (req.flavor && !isFlavorAllowed(decision.limitFlavors, req.flavor, null)) {
    return new DeliveryError('FLAVOR_NOT_FOUND', ', flavor not allowed by access control');
  }
  return null;
}
