// The content of a caption or thumbnail asset, from the resource object a client sends with
// setContent (or add): a completed upload token (KalturaUploadedFileTokenResource), a URL the
// server fetches (KalturaUrlResource) or the text itself (KalturaStringResource). Read whole into
// memory: captions and pictures are small, and a size bound keeps them so.
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { readFile, rm } from 'node:fs/promises';
import { get as httpGet, type IncomingMessage } from 'node:http';
import { get as httpsGet } from 'node:https';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { claimUpload, partnerUploadToken } from '../ingest/uploads.js';
import { objString } from './args.js';
import { ApiError } from './errors.js';
import type { Params } from './params.js';
import { uploadApiError, uploadEnv } from './services/upload-token.js';
import type { ApiContext } from './types.js';
import { requireAdminKs } from './permissions.js';

export const CONTENT_RESOURCES = ['KalturaUploadedFileTokenResource', 'KalturaUrlResource', 'KalturaStringResource'] as const;

/** How long a URL resource may take, its redirects included. */
const FETCH_TIMEOUT_MS = 20_000;

/** The bytes a resource names, at most `maxBytes`; `failed` is the error for a URL that cannot be fetched. */
export async function readContentResource(ctx: ApiContext, resource: Params | null, ownerId: string, maxBytes: number, failed: (url: string) => ApiError): Promise<Buffer> {
  const type = objString(resource, 'objectType');
  const token = objString(resource, 'token');
  const url = objString(resource, 'url');
  const content = objString(resource, 'content');
  const kind = type ?? (token !== undefined ? 'KalturaUploadedFileTokenResource' : url !== undefined ? 'KalturaUrlResource' : content !== undefined ? 'KalturaStringResource' : undefined);
  switch (kind) {
    case 'KalturaUploadedFileTokenResource': {
      if (!token) throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAM_NAME: 'contentResource:token' });
      const env = uploadEnv(ctx);
      let file: string;
      try {
        const t = await partnerUploadToken(env, ctx.partnerId ?? -1, token);
        if (t.uploadedFileSize > maxBytes) throw new ApiError('UPLOAD_ERROR', { REASON: `the upload is ${t.uploadedFileSize} bytes; at most ${maxBytes} are taken here` });
        file = await claimUpload(env, t, ownerId);
      } catch (e) {
        return uploadApiError(e);
      }
      try {
        return await readFile(file);
      } finally {
        await rm(file, { force: true });
      }
    }
    case 'KalturaUrlResource': {
      // the server fetches it: only an admin may point the server at a URL (it may reach what the caller cannot)
      requireAdminKs(ctx);
      if (!url) throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAM_NAME: 'contentResource:url' });
      return fetchBounded(url, maxBytes, failed);
    }
    case 'KalturaStringResource': {
      if (content === undefined) throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAM_NAME: 'contentResource:content' });
      const bytes = Buffer.from(content, 'utf8');
      if (bytes.length > maxBytes) throw new ApiError('UPLOAD_ERROR', { REASON: `the content is ${bytes.length} bytes; at most ${maxBytes} are taken here` });
      return bytes;
    }
    case undefined:
      throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAM_NAME: 'contentResource' });
    default:
      throw new ApiError('RESOURCE_TYPE_NOT_SUPPORTED', { RES_TYPE: kind });
  }
}

/**
 * Addresses a URL resource never reaches, whatever its name resolves to: "this network", link-local
 * (where cloud machines answer their metadata and credentials, 169.254.169.254, fd00:ec2::254),
 * multicast and reserved space. Loopback and private networks stay reachable: on-prem captions and
 * pictures live there, and only an admin KS may name a URL.
 */
const NEVER_FETCHED = new BlockList();
NEVER_FETCHED.addSubnet('0.0.0.0', 8, 'ipv4');
NEVER_FETCHED.addSubnet('169.254.0.0', 16, 'ipv4');
NEVER_FETCHED.addSubnet('224.0.0.0', 3, 'ipv4');
NEVER_FETCHED.addAddress('::', 'ipv6');
NEVER_FETCHED.addSubnet('fe80::', 10, 'ipv6');
NEVER_FETCHED.addSubnet('ff00::', 8, 'ipv6');
NEVER_FETCHED.addAddress('fd00:ec2::254', 'ipv6');

/** How many redirects a URL resource may follow; each hop is checked as the first URL is. */
const MAX_REDIRECTS = 5;

const refusedAddress = (address: string): boolean => {
  const family = isIP(address);
  return family === 0 || NEVER_FETCHED.check(address, family === 4 ? 'ipv4' : 'ipv6');
};

/** dns.lookup that answers only addresses a URL resource may reach (checked at connect time, so a name cannot change its answer in between). */
const checkedLookup: LookupFunction = (hostname, options, callback) => {
  dnsLookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const ok = (addresses as LookupAddress[]).filter((a) => !refusedAddress(a.address));
    if (ok.length === 0) return callback(Object.assign(new Error(`${hostname}: no address a URL resource may reach`), { code: 'ENOTFOUND' }), '', 0);
    if (options.all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, ok);
    callback(null, ok[0].address, ok[0].family);
  });
};

/** One GET, not following redirects: the response, or a Location to go on to. */
function getOnce(url: URL, signal: AbortSignal): Promise<IncomingMessage> {
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) !== 0 && refusedAddress(host)) return Promise.reject(new Error('address refused'));
  return new Promise((resolve, reject) => {
    const get = url.protocol === 'https:' ? httpsGet : httpGet;
    const req = get(url, { signal, lookup: checkedLookup, headers: { 'user-agent': 'kdeliver', accept: '*/*' } }, resolve);
    req.on('error', reject);
  });
}

/** GET of an http(s) URL, redirects followed (each hop checked), refused past `maxBytes` or FETCH_TIMEOUT_MS; any failure is `failed(url)`. */
async function fetchBounded(url: string, maxBytes: number, failed: (url: string) => ApiError): Promise<Buffer> {
  const signal = AbortSignal.timeout(FETCH_TIMEOUT_MS);
  let current: URL;
  try {
    current = new URL(url);
  } catch {
    throw failed(url.slice(0, 200));
  }
  try {
    for (let hop = 0; ; hop++) {
      if (current.protocol !== 'http:' && current.protocol !== 'https:') throw new Error('not http(s)');
      const res = await getOnce(current, signal);
      const status = res.statusCode ?? 0;
      if (status >= 300 && status < 400 && res.headers.location !== undefined) {
        res.resume();
        if (hop >= MAX_REDIRECTS) throw new Error('too many redirects');
        current = new URL(res.headers.location, current);
        continue;
      }
      if (status < 200 || status >= 300) {
        res.resume();
        throw new Error(`HTTP ${status}`);
      }
      const declared = Number(res.headers['content-length']);
      if (declared > maxBytes) {
        res.destroy();
        throw new Error('too large');
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res as AsyncIterable<Buffer>) {
        size += chunk.length;
        if (size > maxBytes) {
          res.destroy();
          throw new Error('too large');
        }
        chunks.push(chunk);
      }
      return Buffer.concat(chunks);
    }
  } catch {
    throw failed(url.slice(0, 200));
  }
}
