// Kaltura's own URL signature, the one /exp/{t}/sig/{hmac} recipe of kdeliver:
//   signed = a path prefix + /exp/<expiry>
//   url    = signed + /sig/<base64url(HMAC-SHA256(key, signed))> + the rest of the path
// and its recogniser (verifyKalturaToken), which checks any URL made this way. Relative URLs
// inside a playlist resolve under ".../sig/<sig>/", so segments carry the same signature. Two
// callers choose the prefix:
// - the `kaltura` CDN tokenizer (kalturaSignPath), as Kaltura's kUrlTokenizer does: the whole
//   path without /fileName/x and /dirFileName/x, from the host root (the profile's base path
//   included, as for every tokenizer) because its recogniser checks the request URI as a whole;
//   the moved parts and the file name follow the signature;
// - kdeliver's own signature on protected media (signMediaUrl): the path before the file part.
import { timingSafeEqual } from 'node:crypto';
import type { TokenizerConfig } from '../../catalog/types.js';
import { ksForPath } from '../../access/ks.js';
import { b64urlNoPad, hmac, requireKey, splitQuery, windowOf, type TokenizeContext } from './common.js';

/** Signs one path ("/a/b/file", optional query) valid until now + window. */
export function kalturaSignPath(pathWithQuery: string, key: string, now: number, window: number): string {
  const [path, query] = splitQuery(pathWithQuery);
  const slash = path.lastIndexOf('/');
  let rest = path;
  const file = path.slice(slash + 1);
  let moved = '';
  for (const name of ['fileName', 'dirFileName']) {
    const m = new RegExp(`/${name}/[^/]+`).exec(rest);
    if (m && m.index + m[0].length <= slash) {
      moved += m[0];
      rest = rest.slice(0, m.index) + rest.slice(m.index + m[0].length);
    }
  }
  return signExpSig(rest, `${moved}/${file}${query ? `?${query}` : ''}`, key, now + window);
}

/** The recipe: `signed`/exp/{expiry}/sig/{hmac of that}`tail`. */
export function signExpSig(signed: string, tail: string, key: string, expiry: number): string {
  const pathToSign = `${signed}/exp/${expiry}`;
  return `${pathToSign}/sig/${b64urlNoPad(hmac('sha256', key, pathToSign))}${tail}`;
}

/** How long kdeliver's signed media URL stays valid: long enough for a whole viewing. */
export const MEDIA_URL_WINDOW_SECONDS = 24 * 3600;

/**
 * Signs one of kdeliver's own media URLs (entries with access-control rules; the media routes
 * check it in serve/media-access.ts). The signature goes before the file part, so files a
 * playlist names relatively (segments, init, fragments) inherit it: before `/name/a.ext` on a
 * serveFlavor URL, before the last segment on a packager URL.
 */
export function signMediaUrl(url: string, secret: string, now: number, window = MEDIA_URL_WINDOW_SECONDS, ks: string | null = null): string {
  // mediaAccess refuses every signature when the secret is empty; never emit URLs it refuses
  if (!secret) throw new Error('signMediaUrl: no media URL secret (loadConfig always provides one)');
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/]+)?(\/.*)$/i.exec(url);
  if (!m) return url;
  const origin = m[1] ?? '';
  const path = m[2];
  const nameAt = /\/name\/[^/]+$/.exec(path);
  const cut = nameAt ? nameAt.index : path.lastIndexOf('/');
  // The session playManifest was answered for rides under the signature (mediaAccess reads it
  // back from there only), so the media routes evaluate the rules for the same caller: an admin
  // KS that skipped them, a user KS that satisfied them, in the URL-safe alphabet (ksForPath).
  const safe = ks ? ksForPath(ks) : null;
  const grant = safe && /^[A-Za-z0-9_=.-]+$/.test(safe) ? `/ks/${safe}` : '';
  return origin + signExpSig(path.slice(0, cut) + grant, path.slice(cut), secret, now + window);
}

const SIGNED_KS = /\/ks\/([^/]+)\/exp\/(\d{1,12})\/sig\//;

/**
 * The KS signMediaUrl put under a media URL's signature, and when that URL was signed (its end
 * less the window), or null; only call on a verified path.
 */
export function signedMediaKs(path: string): { ks: string; signedAt: number } | null {
  const m = SIGNED_KS.exec(path);
  return m ? { ks: m[1], signedAt: Number(m[2]) - MEDIA_URL_WINDOW_SECONDS } : null;
}

export type KalturaTokenVerdict = 'valid' | 'expired' | 'invalid' | 'missing';

const RECOGNISE = /\/exp\/([^/]+)\/sig\/([^/]+)\//;

/**
 * Checks a request path (from the host root, without the query) signed by kalturaSignPath:
 * 'missing' when it carries no /exp/…/sig/…/, 'expired' when now > exp, 'invalid' when the
 * signature does not match.
 */
/** Whether a path carries a Kaltura-tokenizer signature at all (valid or not: verifyKalturaToken says). */
export function hasKalturaToken(path: string): boolean {
  return RECOGNISE.test(path);
}

export function verifyKalturaToken(path: string, secret: string, now: number): KalturaTokenVerdict {
  const m = RECOGNISE.exec(path);
  if (!m) return 'missing';
  if (!secret) return 'invalid';
  const signedPart = path.slice(0, m.index + '/exp/'.length + m[1].length);
  const want = b64urlNoPad(hmac('sha256', secret, signedPart));
  const ok = want.length === m[2].length && timingSafeEqual(Buffer.from(want), Buffer.from(m[2]));
  if (!ok) return 'invalid';
  if (!/^\d{1,12}$/.test(m[1])) return 'invalid';
  return now > Number(m[1]) ? 'expired' : 'valid';
}

export function kaltura(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  return paths.map((p) => kalturaSignPath(p, key, ctx.now, windowOf(cfg)));
}
