// Kaltura's own URL tokenizer and its recogniser (security.md §3.7):
//   pathToSign = path (without /fileName/x and /dirFileName/x) + /exp/<now+window>
//   url        = pathToSign + /sig/<base64url(HMAC-SHA256(key, pathToSign))> + moved parts + /<file>
// Relative URLs inside a playlist resolve under ".../sig/<sig>/", so segments carry the same
// signature. This tokenizer signs the path from the host root (not from the profile's base
// path) because its recogniser checks the request URI as a whole.
import { timingSafeEqual } from 'node:crypto';
import type { TokenizerConfig } from '../../catalog/types.js';
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
  const pathToSign = `${rest}/exp/${now + window}`;
  const sig = b64urlNoPad(hmac('sha256', key, pathToSign));
  return `${pathToSign}/sig/${sig}${moved}/${file}${query ? `?${query}` : ''}`;
}

export type KalturaTokenVerdict = 'valid' | 'expired' | 'invalid' | 'missing';

const RECOGNISE = /\/exp\/([^/]+)\/sig\/([^/]+)\//;

/**
 * Checks a request path (from the host root, without the query) signed by kalturaSignPath:
 * 'missing' when it carries no /exp/…/sig/…/, 'expired' when now > exp, 'invalid' when the
 * signature does not match.
 */
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
  const basePath = new URL(ctx.baseUrl + '/').pathname.replace(/\/+$/, '');
  // sign from the host root; the caller puts the base URL back, so strip its path again
  return paths.map((p) => kalturaSignPath(basePath + p, key, ctx.now, windowOf(cfg)).slice(basePath.length));
}
