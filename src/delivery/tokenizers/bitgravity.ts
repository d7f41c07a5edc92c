// BitGravity: h = md5(key + "/" + part + "?e=" + exp), where part is group 1 of
// hashPatternRegex (default: the whole path from the host root) without its leading slashes, and
// without any "mp4:" when it starts with one (kBitGravityUrlTokenizer.php).
import type { TokenizerConfig } from '../../catalog/types.js';
import { TokenizerError, appendQuery, md5Hex, requireKey, splitQuery, str, windowOf, type TokenizeContext } from './common.js';

function patternOf(cfg: TokenizerConfig): RegExp | null {
  const src = str(cfg, 'hashPatternRegex');
  if (!src) return null;
  // PHP style "/.../flags" or a bare pattern; operator configuration, run on our own paths only
  const m = /^\/(.*)\/([a-z]*)$/s.exec(src);
  try {
    return m ? new RegExp(m[1], m[2].replace(/[^imsu]/g, '')) : new RegExp(src);
  } catch {
    throw new TokenizerError('bitgravity tokenizer: hashPatternRegex is not a valid regular expression');
  }
}

export function bitgravity(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  const re = patternOf(cfg);
  const exp = ctx.now + windowOf(cfg);
  return paths.map((p) => {
    const path = splitQuery(p)[0];
    const m = re ? re.exec(path) : null;
    let part = m && m[1] !== undefined ? m[1] : path;
    if (part.startsWith('mp4:')) part = part.replace(/mp4:/g, '');
    part = part.replace(/^\/+/, '');
    return appendQuery(p, `e=${exp}&h=${md5Hex(`${key}/${part}?e=${exp}`)}`);
  });
}
