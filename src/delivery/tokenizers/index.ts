// URL tokenization for a delivery profile's CDN: the URLs are cut into the
// profile's base URL and the path relative to it, the tokenizer signs the relative paths (all
// together, so multi-rendition tokenizers sign their common ACL), and the base is put back.
import type { TokenizerConfig } from '../../catalog/types.js';
import { akamaiHttp, akamaiSecureHd } from './akamai.js';
import { bitgravity } from './bitgravity.js';
import { chinacache } from './chinacache.js';
import { cht } from './cht.js';
import { cloudfront } from './cloudfront.js';
import { TokenizerError, type TokenizeContext, type Tokenizer } from './common.js';
import { kaltura } from './kaltura.js';
import { ksTokenizer } from './ks.js';
import { l3, level3 } from './level3.js';
import { limelight } from './limelight.js';
import { vnpt } from './vnpt.js';
import { wowza } from './wowza.js';

export { TokenizerError, type TokenizeContext } from './common.js';
export { verifyKalturaToken, kalturaSignPath } from './kaltura.js';

export const TOKENIZERS: Record<string, Tokenizer> = {
  akamaiHttp, akamaiSecureHd, cloudfront, level3, l3, limelight, kaltura, ks: ksTokenizer, wowza, cht, vnpt,
  chinacache, bitgravity,
};
/** Other spellings (Kaltura's class and API type names) accepted in profile configuration. */
const ALIASES: Record<string, string> = {
  akamai: 'akamaiHttp', akamaiSecureHD: 'akamaiSecureHd', edgeAuth: 'akamaiSecureHd', edgeauth: 'akamaiSecureHd',
  cloudFront: 'cloudfront', level3Old: 'level3', L3: 'l3', limeLight: 'limelight', wowzaSecureToken: 'wowza',
  chinaCache: 'chinacache', bitGravity: 'bitgravity', chtHttp: 'cht',
};

export function tokenizeUrls(config: TokenizerConfig, urls: string[], ctx: TokenizeContext): string[] {
  const type = ALIASES[config.type] ?? config.type;
  const tokenizer = TOKENIZERS[type];
  if (!tokenizer) throw new TokenizerError(`unknown tokenizer type ${JSON.stringify(config.type)} (known: ${Object.keys(TOKENIZERS).join(', ')})`);
  if (urls.length === 0) return urls;
  const base = ctx.baseUrl.replace(/\/+$/, '');
  const parts = urls.map((u) => {
    if (u.startsWith(base) && (u.length === base.length || '/?'.includes(u[base.length]))) return { base, rel: u.slice(base.length) || '/' };
    // not under the profile's base (another host): sign its path from the host root
    const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(u);
    if (m) return { base: m[1], rel: m[2] || '/' };
    return { base: '', rel: u };
  });
  const rel = parts.map((p) => (p.rel.startsWith('/') ? p.rel : `/${p.rel}`));
  const signed = tokenizer(rel, config, { ...ctx, baseUrl: base });
  return signed.map((s, i) => parts[i].base + s);
}
