// Akamai: the classic `__gda__` HTTP token and Secure HD / EdgeAuth (Akamai's published EdgeAuth
// token: HMAC-SHA256 with a hex key).
import type { TokenizerConfig } from '../../catalog/types.js';
import {
  TokenizerError, appendQuery, bool, commonPrefix, hmac, md5, md5Hex, requireKey, splitQuery, str, windowOf,
  type TokenizeContext,
} from './common.js';

const rootDirOf = (cfg: TokenizerConfig): string => {
  const r = str(cfg, 'rootDir').replace(/\/+$/, '');
  return r === '' ? '' : r.startsWith('/') ? r : '/' + r;
};

export function akamaiHttp(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  const param = str(cfg, 'paramName', str(cfg, 'param', '__gda__'));
  if (param.length < 5 || param.length > 12) throw new TokenizerError('akamaiHttp tokenizer: paramName must be 5 to 12 characters');
  const expires = ctx.now + windowOf(cfg);
  const le = Buffer.alloc(4);
  le.writeUInt32LE(expires >>> 0);
  return paths.map((p) => {
    const [path, query] = splitQuery(p);
    const url = rootDirOf(cfg) + '/' + path.replace(/^\/+/, '');
    const inner = md5(Buffer.concat([le, Buffer.from(url, 'utf8'), Buffer.from(key, 'utf8')]));
    const token = md5Hex(Buffer.concat([Buffer.from(key, 'utf8'), inner]));
    return appendQuery(url + (query ? `?${query}` : ''), `${param}=${expires}_${token}`);
  });
}

/** The EdgeAuth ACL: the common prefix, cut at ",", without the manifest postfix, plus aclPostfix. */
export function edgeAuthAcl(paths: string[], cfg: TokenizerConfig): string {
  const root = rootDirOf(cfg);
  let acl = commonPrefix(paths.map((p) => root + splitQuery(p)[0]));
  const comma = acl.indexOf(',');
  if (comma >= 0) acl = acl.slice(0, comma);
  const custom = str(cfg, 'customPostfixes').split(',').map((s) => s.trim()).filter(Boolean);
  for (const post of custom.length ? custom : ['/master.m3u8', '/manifest.f4m']) {
    if (acl.endsWith(post)) { acl = acl.slice(0, -post.length); break; }
  }
  if (acl === '') return '';
  return acl + str(cfg, 'aclPostfix');
}

export function akamaiSecureHd(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const key = requireKey(cfg);
  if (!/^([0-9a-fA-F]{2})+$/.test(key)) throw new TokenizerError('akamaiSecureHd tokenizer: key must be an even-length hex string');
  // Akamai's usual name; the reference has no default
  const param = str(cfg, 'paramName', 'hdnts');
  if (str(cfg, 'useCookieHosts')) {
    // Cookie delivery needs a Set-Cookie on the manifest answer, which a URL tokenizer cannot give.
    throw new TokenizerError('akamaiSecureHd tokenizer: useCookieHosts is not supported by kdeliver');
  }
  const acl = edgeAuthAcl(paths, cfg);
  if (acl === '') return paths.map((p) => rootDirOf(cfg) + p);
  const st = ctx.now;
  const text = `${bool(cfg, 'limitIpAddress') ? `ip=${ctx.clientIp}~` : ''}st=${st}~exp=${st + windowOf(cfg)}~acl=${acl}~`;
  const mac = hmac('sha256', Buffer.from(key, 'hex'), text.slice(0, -1)).toString('hex');
  const token = `${text}hmac=${mac}`;
  return paths.map((p) => appendQuery(rootDirOf(cfg) + p, `${param}=${token}`));
}
