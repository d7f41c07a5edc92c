// VNPT: a path prefix of md5("[ip]:key:expiry:part") then the expiry. The string starts with
// ":" when the client IP is not in it (kVnptUrlTokenizer.php). part is the path up to its last
// "/" (0 VOD, 1 LIVE) or the whole path (2 HTTP_VOD), from the host root. The output always
// starts with "/" here so that it joins the origin as a path.
import type { TokenizerConfig } from '../../catalog/types.js';
import { TokenizerError, bool, md5Hex, num, requireKey, splitQuery, windowOf, type TokenizeContext } from './common.js';

export function vnpt(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  const format = num(cfg, 'tokenizationFormat', 0);
  if (![0, 1, 2].includes(format)) throw new TokenizerError('vnpt tokenizer: tokenizationFormat must be 0, 1 or 2');
  const expiry = ctx.now + windowOf(cfg);
  return paths.map((p) => {
    const path = splitQuery(p)[0];
    const part = format === 2 ? path : path.slice(0, path.lastIndexOf('/'));
    const signed = `${bool(cfg, 'shouldIncludeClientIp') ? ctx.clientIp : ''}:${key}:${expiry}:${part}`;
    return `/${md5Hex(signed)}${expiry}${p.startsWith('/') ? '' : '/'}${p}`;
  });
}
