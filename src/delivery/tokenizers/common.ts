// Shared pieces of the CDN tokenizers: settings read with defaults, query appending, common
// prefixes, PHP's dirname and urlencode. A tokenizer works on paths from the host root, each
// "/..." with an optional query: the path of the delivery profile's URL (e.g. /hls) is part of
// them, as in Kaltura, where it moves from the URL prefix into the URL before signing.
import { createHash, createHmac } from 'node:crypto';
import type { TokenizerConfig } from '../../catalog/types.js';
import { DeliveryError } from '../../errors.js';

export interface TokenizeContext {
  /** Unix seconds. */
  now: number;
  /** The request KS string, or null. */
  ks: string | null;
  /** The request KS user (verified), for the KS tokenizer. */
  ksUserId?: string | null;
  clientIp: string;
  entryId: string;
  partnerId: number;
  /**
   * tokenizeUrls' caller: the profile's base URL (scheme://host[/path]), without a trailing
   * slash. A tokenizer: the origin (scheme://host[:port]) of the URLs it signs.
   */
  baseUrl: string;
}

/** A tokenizer: paths from the host root in, the same paths signed (or with a token path prefix) out. */
export type Tokenizer = (paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext) => string[];

/**
 * A delivery profile whose tokenizer cannot sign (missing key, bad setting): the operator's
 * mistake, answered as error 25 with HTTP 503 so it is never a 500 and never an unsigned URL.
 */
export class TokenizerError extends DeliveryError {
  override name = 'TokenizerError';
  constructor(message: string) {
    super('BAD_QUERY', `, delivery profile tokenizer misconfigured: ${message}`, { httpStatus: 503 });
  }
}

export const str = (cfg: TokenizerConfig, name: string, dflt = ''): string => {
  const v = cfg[name];
  return v === undefined || v === null ? dflt : String(v);
};
export const num = (cfg: TokenizerConfig, name: string, dflt: number): number => {
  const v = Number(cfg[name]);
  return cfg[name] === undefined || cfg[name] === null || cfg[name] === '' || !Number.isFinite(v) ? dflt : v;
};
/** A yes/no setting as library files write it: true, 1, "1" or "true". */
export const bool = (cfg: Readonly<Record<string, unknown>>, name: string): boolean => {
  const v = cfg[name];
  return v === true || v === 1 || v === '1' || v === 'true';
};
export const requireKey = (cfg: TokenizerConfig): string => {
  const k = str(cfg, 'key');
  if (!k) throw new TokenizerError(`${cfg.type} tokenizer: "key" is not set`);
  return k;
};
/** The signing window in seconds; the reference has no default, kdeliver takes 600. */
export const windowOf = (cfg: TokenizerConfig): number => Math.max(0, Math.floor(num(cfg, 'window', 600)));

export function splitQuery(path: string): [string, string] {
  const q = path.indexOf('?');
  return q < 0 ? [path, ''] : [path.slice(0, q), path.slice(q + 1)];
}

export const appendQuery = (url: string, query: string): string => url + (url.includes('?') ? '&' : '?') + query;

export function commonPrefix(items: string[]): string {
  if (items.length === 0) return '';
  let p = items[0];
  for (const s of items.slice(1)) {
    let i = 0;
    while (i < p.length && i < s.length && p[i] === s[i]) i++;
    p = p.slice(0, i);
  }
  return p;
}

/** PHP dirname() of a path. */
export function phpDirname(path: string): string {
  const p = path.replace(/\/+$/, '');
  if (p === '') return path.startsWith('/') ? '/' : '.';
  const i = p.lastIndexOf('/');
  if (i < 0) return '.';
  const d = p.slice(0, i).replace(/\/+$/, '');
  return d === '' ? '/' : d;
}

/** PHP urlencode. */
export const phpUrlEncode = (s: string): string =>
  encodeURIComponent(s).replace(/[!'()*~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase()).replace(/%20/g, '+');

export const md5 = (data: Buffer | string): Buffer => createHash('md5').update(data).digest();
export const md5Hex = (data: Buffer | string): string => createHash('md5').update(data).digest('hex');
export const hmac = (alg: string, key: Buffer | string, data: string): Buffer => createHmac(alg, key).update(data, 'utf8').digest();
/** base64 in the URL-safe alphabet, without padding (Node's own base64url). */
export const b64urlNoPad = (b: Buffer): string => b.toString('base64url');
