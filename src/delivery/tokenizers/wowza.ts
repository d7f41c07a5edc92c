// Wowza SecureToken v2: hash over "<content path>?<sorted params>", where
// the params are the prefixed start and end times, the shared secret as a bare key, and the
// client IP as a bare key when limited; base64 url-safe with "=" kept.
import { createHash } from 'node:crypto';
import type { TokenizerConfig } from '../../catalog/types.js';
import { TokenizerError, appendQuery, bool, phpUrlEncode, requireKey, splitQuery, str, windowOf, type TokenizeContext } from './common.js';

export function wowzaHashInput(path: string, items: string[]): string {
  const dir = path.slice(0, Math.max(0, path.lastIndexOf('/'))).replace(/^\/+|\/+$/g, '');
  // ksort: by key, byte order (each item is "key=value" or a bare key)
  const sorted = [...items].sort((a, b) => {
    const ka = a.split('=')[0], kb = b.split('=')[0];
    return ka < kb ? -1 : ka > kb ? 1 : 0;
  });
  return `${dir}?${sorted.join('&')}`;
}

export function wowza(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  const prefix = str(cfg, 'paramPrefix', 'wowzatoken');
  const alg = str(cfg, 'hashAlgorithm', 'sha256').toLowerCase();
  if (!['sha256', 'sha384', 'sha512'].includes(alg)) throw new TokenizerError('wowza tokenizer: hashAlgorithm must be sha256, sha384 or sha512');
  const start = ctx.now, end = ctx.now + windowOf(cfg);
  return paths.map((p) => {
    const items = [`${prefix}starttime=${start}`, `${prefix}endtime=${end}`, key, ...(bool(cfg, 'limitIpAddress') ? [ctx.clientIp] : [])];
    const digest = createHash(alg).update(wowzaHashInput(splitQuery(p)[0], items), 'utf8').digest('base64').replace(/\+/g, '-').replace(/\//g, '_');
    // the reference always joins with "?"; kdeliver uses "&" after an existing query
    return appendQuery(p, `${prefix}starttime=${start}&${prefix}endtime=${end}&${prefix}hash=${phpUrlEncode(digest)}`);
  });
}
