// Level3: the older query-token tokenizer and the newer L3 path-prefix
// token. Both sign with HMAC-SHA1 and keep the first 20 hex characters.
import type { TokenizerConfig } from '../../catalog/types.js';
import { appendQuery, bool, commonPrefix, hmac, requireKey, splitQuery, str, windowOf, type TokenizeContext } from './common.js';

const first20 = (key: string, data: string): string => hmac('sha1', key, data).toString('hex').slice(0, 20);

/** YYYYmmddHHMMSS in UTC. */
export function level3Time(unix: number): string {
  return new Date(unix * 1000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
}

export function level3(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  const name = str(cfg, 'paramName', str(cfg, 'name', 'token'));
  const expiryName = str(cfg, 'expiryName', 'etime');
  const gen = str(cfg, 'gen', '0');
  const window = cfg.window === undefined || cfg.window === null || cfg.window === '' ? 0 : windowOf(cfg);
  return paths.map((p) => {
    let [path, query] = splitQuery(p);
    path = path.replace(/(^|[^:])\/{2,}/g, '$1/').replace(/mp4:/g, '').replace(/^\/+|\/+$/g, '');
    if (bool(cfg, 'includeExtension') && !/\.[A-Za-z0-9]+$/.test(path)) path += '.flv';
    if (window > 0) query = (query ? query + '&' : '') + `${expiryName}=${level3Time(ctx.now + window)}`;
    const signed = `/${path}${query ? `?${query}` : ''}`;
    return appendQuery(signed, `${name}=${gen}${first20(key, signed)}`);
  });
}

export function l3(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  const param = str(cfg, 'paramName', 'token');
  const gen = str(cfg, 'gen', '0');
  let acl = commonPrefix(paths.map((p) => splitQuery(p)[0]));
  const comma = acl.indexOf(',');
  if (comma >= 0) acl = acl.slice(0, comma);
  acl = acl.slice(0, acl.lastIndexOf('/') + 1);
  if (acl.replace(/\//g, '') === '' && acl.length <= 1) return paths;
  const path = `/${acl.replace(/^\/+|\/+$/g, '')}/`;
  const dirs = (path.match(/\//g) ?? []).length - 1;
  const nva = ctx.now + windowOf(cfg);
  const signed = `${path}?nva=${nva}&dirs=${dirs}`;
  const token = `nva=${nva}&dirs=${dirs}&hash=${gen}${first20(key, signed)}`.replace(/&/g, '~');
  return paths.map((p) => `/${param}=${token}${p.startsWith('/') ? '' : '/'}${p}`);
}
