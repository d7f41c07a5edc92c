// CHT (Chunghwa Telecom): token = base64url(md5(dirname + "/" + key + expires)).
import type { TokenizerConfig } from '../../catalog/types.js';
import { appendQuery, b64urlNoPad, md5, phpDirname, requireKey, splitQuery, windowOf, type TokenizeContext } from './common.js';

export function cht(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  const expires = ctx.now + windowOf(cfg);
  return paths.map((p) => {
    const token = b64urlNoPad(md5(`${phpDirname(splitQuery(p)[0])}/${key}${expires}`));
    return appendQuery(p, `token=${token}&expires=${expires}`);
  });
}
