// URL tokenization for a delivery profile's CDN. As Kaltura does (kManifestRenderers.php
// normalizeUrlPrefix), any path of the profile's base URL moves into the URLs before they are
// signed: each URL is cut into its origin (scheme://host[:port]) and its path from the host root,
// the tokenizer signs those paths (all URLs of one origin together, so multi-rendition tokenizers
// sign their common ACL), and the origin is put back.
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
  // URLs of one origin are signed together, as Kaltura signs the URLs sharing one prefix
  const groups = new Map<string, number[]>();
  const paths = urls.map((u, i) => {
    const [origin, path] = splitOrigin(u);
    const group = groups.get(origin);
    if (group) group.push(i);
    else groups.set(origin, [i]);
    return path;
  });
  const out: string[] = new Array(urls.length);
  for (const [origin, at] of groups) {
    const signed = tokenizer(at.map((i) => paths[i]), config, { ...ctx, baseUrl: origin || splitOrigin(ctx.baseUrl)[0] });
    at.forEach((i, k) => { out[i] = origin + signed[k]; });
  }
  return out;
}

/** `scheme://host[:port]` and the path from the host root ("/" when there is none); no origin for a bare path. */
function splitOrigin(url: string): [string, string] {
  const m = /^([a-z][a-z0-9+.-]*:\/\/[^/?#]*)(.*)$/i.exec(url);
  const [origin, rest] = m ? [m[1], m[2]] : ['', url];
  return [origin, rest.startsWith('/') ? rest : `/${rest}`];
}
