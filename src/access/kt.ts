// The playManifest `kt` / `expiry` pre-signed URL: kt = sha1(url token secret +
// the request URI, path and query exactly as received, with the token text replaced by "{kt}").
// One server-wide secret; the host is not signed; expiry is protected only by being in the URI.
import { createHash, timingSafeEqual } from 'node:crypto';
import { DeliveryError } from '../errors.js';

const MARKER = '{kt}';
const sha1Hex = (s: string): string => createHash('sha1').update(s, 'utf8').digest('hex');

/** True when `kt` signs `rawUri` (path + query as received) with `secret`. Constant-time. */
export function verifyKt(rawUri: string, kt: string, secret: string): boolean {
  if (!secret || !/^[0-9a-f]{40}$/.test(kt)) return false;
  const expected = sha1Hex(secret + rawUri.split(kt).join(MARKER));
  return timingSafeEqual(Buffer.from(expected, 'latin1'), Buffer.from(kt, 'latin1'));
}

/**
 * playManifest's first checks (reference order): an expiry at or before now → 28; then, when a
 * kt is present, a non-GET request or a wrong token → 27. Returns true when a valid kt was
 * present (the caller then skips the KS, entitlement and access control), false when there was
 * no kt (the normal path).
 */
export function checkPlayManifestToken(
  req: { method: string; rawUri: string; kt: string | null; expiry: number | null },
  secret: string,
  now: number,
): boolean {
  if (req.expiry !== null && req.expiry <= now) throw new DeliveryError('EXPIRED_TOKEN');
  if (req.kt === null) return false;
  if (req.method.toUpperCase() !== 'GET') throw new DeliveryError('INVALID_TOKEN', ', tokens are valid for GET only');
  if (!verifyKt(req.rawUri, req.kt, secret)) throw new DeliveryError('INVALID_TOKEN');
  return true;
}

export class SignError extends Error {
  override name = 'SignError';
}

/**
 * Signs a playManifest URL (absolute, or a path starting with "/"): adds `/expiry/<unix>` when
 * asked, then `/kt/{kt}`, both before a trailing `/a.<ext>` file name, computes the token over
 * the path and query as a client will send them, and puts it in place of the marker.
 */
export function signPlayManifestUrl(url: string, secret: string, expiry?: number): string {
  if (!secret) throw new SignError('no URL token secret configured (KDELIVER_URL_TOKEN_SECRET)');
  let u: URL;
  try {
    u = new URL(url, 'http://placeholder.invalid');
  } catch {
    throw new SignError(`not a URL: ${url}`);
  }
  const absolute = /^[a-z][a-z0-9+.-]*:\/\//i.test(url);
  if (!absolute && !url.startsWith('/')) throw new SignError('expected an absolute URL or a path starting with "/"');
  if (!/\/playManifest(\/|$)/.test(u.pathname)) throw new SignError('not a playManifest URL');
  if (/\/kt\/|[?&]kt=/.test(u.pathname + u.search)) throw new SignError('the URL is already signed (it has a kt)');
  if (u.pathname.includes(MARKER) || decodeURIComponent(u.search).includes(MARKER)) throw new SignError('the URL contains "{kt}"');
  if (expiry !== undefined && !(Number.isInteger(expiry) && expiry > 0)) throw new SignError('expiry must be a positive whole number of Unix seconds');

  // URL() normalised the path and query to what a client sends; the additions are plain ASCII.
  let path = u.pathname.replace(/\/+$/, '');
  const tail = /\/a\.[A-Za-z0-9]+$/.exec(path);
  const file = tail ? tail[0] : '';
  if (tail) path = path.slice(0, -file.length);
  if (expiry !== undefined) path += `/expiry/${expiry}`;
  const uri = `${path}/kt/${MARKER}${file}${u.search}`;
  const token = sha1Hex(secret + uri);
  const signed = uri.replace(MARKER, token);
  return absolute ? `${u.protocol}//${u.host}${signed}` : signed;
}
