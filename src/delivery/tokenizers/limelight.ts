// Limelight MediaVault: e = now + 120 (the window is ignored, as in the
// reference), h = md5(key + urlPrefix + url with e). A trailing `&fs=` part stays unsigned.
import type { TokenizerConfig } from '../../catalog/types.js';
import { md5Hex, requireKey, str, type TokenizeContext } from './common.js';

export const LIMELIGHT_WINDOW = 120;

export function limelight(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  const prefix = str(cfg, 'urlPrefix');
  return paths.map((p) => {
    let url = p, fs = '';
    const at = url.indexOf('&fs=');
    if (at >= 0) { fs = url.slice(at); url = url.slice(0, at); }
    // the reference always writes "&e="; kdeliver starts a query when there is none
    url += `${url.includes('?') ? '&' : '?'}e=${ctx.now + LIMELIGHT_WINDOW}`;
    return `${url}&h=${md5Hex(key + prefix + url)}${fs}`;
  });
}
