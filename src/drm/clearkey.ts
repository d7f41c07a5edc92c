// The W3C ClearKey licence exchange (Encrypted Media Extensions, "Clear Key"): the browser's CDM
// sends {"kids":["<base64url key id>",…],"type":"temporary"} and gets back
// {"keys":[{"kty":"oct","kid":"<base64url>","k":"<base64url key>"}],"type":"temporary"}. Only the
// entry's own key id is ever answered.
import { DeliveryError } from '../errors.js';
import type { ContentKeys } from './keys.js';

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/** The key ids a licence request asks for (raw bytes as base64url). Throws BAD_QUERY on anything else. */
export function licenceRequestKids(body: unknown): string[] {
  let v = body;
  if (Buffer.isBuffer(v)) v = v.toString('utf8');
  if (typeof v === 'string') {
    try {
      v = JSON.parse(v);
    } catch {
      throw new DeliveryError('BAD_QUERY', ', a ClearKey licence request is JSON: {"kids":["<base64url key id>"],"type":"temporary"}');
    }
  }
  const kids = (v as { kids?: unknown } | null)?.kids;
  if (!Array.isArray(kids) || kids.length === 0 || kids.length > 16 || !kids.every((k) => typeof k === 'string' && /^[A-Za-z0-9_-]{1,64}={0,2}$/.test(k))) {
    throw new DeliveryError('BAD_QUERY', ', a ClearKey licence request lists its key ids in "kids" (base64url)');
  }
  // a CDM sends unpadded base64url; normalise whatever alphabet and padding came (Node's decoder reads both)
  return kids.map((k: string) => Buffer.from(k, 'base64').toString('base64url'));
}

/** The licence: the entry's key for its key id, when asked for. Throws FILE_NOT_FOUND when it was not. */
export function clearKeyLicence(keys: ContentKeys, kids: string[]): { keys: Array<{ kty: 'oct'; kid: string; k: string }>; type: 'temporary' } {
  const kid = b64url(keys.keyId);
  if (!kids.includes(kid)) throw new DeliveryError('FILE_NOT_FOUND', ', the licence request names no key id of this entry');
  return { keys: [{ kty: 'oct', kid, k: b64url(keys.key) }], type: 'temporary' };
}
