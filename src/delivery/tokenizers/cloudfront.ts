// Amazon CloudFront signed URLs with a custom policy: RSA-SHA1 over the
// policy JSON, both in CloudFront's base64 variant (+ → -, = → _, / → ~). The private key is
// `privateKey` (inline PEM, as the library import stores a library file's privateKeyFile:
// src/catalog/library.ts) or a `privateKeyFile` a catalog from before that still holds, read at
// the first signature (src/catalog/library.ts storedKeyFile says where it is).
import { createPrivateKey, sign, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { TokenizerConfig } from '../../catalog/types.js';
import { storedKeyFile } from '../../catalog/library.js';
import { TokenizerError, appendQuery, bool, commonPrefix, splitQuery, str, windowOf, type TokenizeContext } from './common.js';

const keys = new Map<string, KeyObject>();

function privateKeyOf(cfg: TokenizerConfig): KeyObject {
  const inline = str(cfg, 'privateKey', str(cfg, 'key'));
  const file = str(cfg, 'privateKeyFile');
  const id = inline ? `inline:${inline}` : `file:${file}`;
  const cached = keys.get(id);
  if (cached) return cached;
  let pem = inline;
  if (!pem) {
    if (!file) throw new TokenizerError('cloudfront tokenizer: set privateKey or privateKeyFile');
    const path = storedKeyFile(file);
    try {
      pem = readFileSync(path, 'utf8');
    } catch (e) {
      // the message may reach a response header: name the setting, not the server's path
      throw new TokenizerError(`cloudfront tokenizer: cannot read privateKeyFile ${JSON.stringify(basename(file))} (${(e as NodeJS.ErrnoException).code ?? 'error'})`);
    }
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(pem);
  } catch {
    throw new TokenizerError('cloudfront tokenizer: the private key is not a PEM RSA key');
  }
  keys.set(id, key);
  return key;
}

export const cloudFrontBase64 = (b: Buffer | string): string =>
  Buffer.from(b).toString('base64').replace(/\+/g, '-').replace(/=/g, '_').replace(/\//g, '~');

/**
 * The signed Resource (kCloudFrontUrlTokenizer::getAcl): the URLs' origin without its port, then
 * the common prefix of the URLs' directories (each up to its last "/"), cut at the first ","
 * and before "/flavorId/", then "*". The wildcard covers every flavor's URL below the cut.
 */
export function cloudFrontResource(paths: string[], baseUrl: string, rootDir: string): string {
  const dirs = paths.map((p) => {
    const d = rootDir + splitQuery(p)[0];
    return d.slice(0, d.lastIndexOf('/') + 1);
  });
  let acl = commonPrefix(dirs);
  const comma = acl.indexOf(',');
  if (comma >= 0) acl = acl.slice(0, comma);
  const fl = acl.indexOf('/flavorId/');
  if (fl >= 0) acl = acl.slice(0, fl);
  const base = baseUrl.replace(/^([a-z][a-z0-9+.-]*:\/\/[^/:]+):\d+/i, '$1');
  return `${base}${acl}*`;
}

export function cloudFrontPolicy(resource: string, expires: number, ip: string | null): string {
  const ipPart = ip === null ? '' : `,"IpAddress":{"AWS:SourceIp":"${ip}/32"}`;
  return `{"Statement":[{"Resource":${JSON.stringify(resource)},"Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}${ipPart}}}]}`;
}

export function cloudfront(paths: string[], cfg: TokenizerConfig, ctx: TokenizeContext): string[] {
  const keyPairId = str(cfg, 'keyPairId');
  if (!keyPairId) throw new TokenizerError('cloudfront tokenizer: keyPairId is not set');
  const key = privateKeyOf(cfg);
  const rootDir = str(cfg, 'rootDir').replace(/\/+$/, '').replace(/^(?=[^/])/, '/');
  const limitIp = bool(cfg, 'limitIpAddress');
  const policy = cloudFrontPolicy(cloudFrontResource(paths, ctx.baseUrl, rootDir), ctx.now + windowOf(cfg), limitIp ? ctx.clientIp : null);
  const signature = sign('sha1', Buffer.from(policy, 'utf8'), key);
  const q = `${limitIp ? `ip=${encodeURIComponent(ctx.clientIp)}&` : ''}Policy=${cloudFrontBase64(policy)}&Signature=${cloudFrontBase64(signature)}&Key-Pair-Id=${encodeURIComponent(keyPairId)}`;
  return paths.map((p) => appendQuery(rootDir + p, q));
}
