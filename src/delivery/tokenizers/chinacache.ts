// ChinaCache: ACL = dirname/, P1 expiry, P2 key id, P3 algorithm (1 SHA1,
// 2 SHA256), P4 = base64 HMAC(key, dirname/ + expiry).
import type { TokenizerConfig } from '../../catalog/types.js';
import { TokenizerError, appendQuery, hmac, num, phpDirname, phpUrlEncode, requireKey, splitQuery, str, windowOf, type TokenizeContext } from './common.js';

export function chinacache(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  const alg = num(cfg, 'algorithmId', 1);
  if (alg !== 1 && alg !== 2) throw new TokenizerError('chinacache tokenizer: algorithmId must be 1 (SHA1) or 2 (SHA256)');
  const expiry = ctx.now + windowOf(cfg);
  return paths.map((p) => {
    const dir = `${phpDirname(splitQuery(p)[0])}/`;
    const sig = hmac(alg === 1 ? 'sha1' : 'sha256', key, `${dir}${expiry}`).toString('base64');
    return appendQuery(p, `ACL=${phpUrlEncode(dir)}&P1=${expiry}&P2=${phpUrlEncode(str(cfg, 'keyId'))}&P3=${alg}&P4=${phpUrlEncode(sig)}`);
  });
}
