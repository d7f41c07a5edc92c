// An external key service answering nginx-vod-module's DRM JSON (its README "DRM", vod/udrm.c):
//   [{"pssh":[{"uuid":"…","data":"<base64>"}],"key":"<base64 16 bytes>","key_id":"<base64 16 bytes>","iv":"<optional base64>"}]
// asked with a GET on KDELIVER_DRM_KEY_SERVICE_URL ({partnerId} and {entryId} replaced, else
// /{partnerId}/{entryId} appended). Answers are cached; a service that fails, is slow or answers
// something else is a 502 and the request gets no media at all, never clear media. Keys are never
// put in an error message or a log line.
import { DeliveryError } from '../errors.js';
import type { Entry } from '../catalog/types.js';

export interface ServiceKeys {
  key: Buffer;
  keyId: Buffer;
  iv?: Buffer;
  /** pssh data per DRM system id (lower-case UUID with dashes). */
  pssh: Array<{ uuid: string; data: Buffer }>;
}

/** How long a good answer is used before the service is asked again. */
const KEY_CACHE_MS = 5 * 60 * 1000;
const TIMEOUT_MS = 5000;
const MAX_ANSWER_BYTES = 64 * 1024;
const MAX_CACHED = 10_000;

export class KeyServiceError extends DeliveryError {
  constructor(why: string) {
    // the reference has no code for a failing key server; 5 (file not found) with a 502 says "no media now"
    super('FILE_NOT_FOUND', `, the key service failed (${why}); no media is served without its keys`, { httpStatus: 502 });
  }
}

function keyServiceUrl(template: string, entry: Entry): string {
  const pid = encodeURIComponent(String(entry.partnerId));
  const eid = encodeURIComponent(entry.id);
  if (/\{(entryId|partnerId)\}/.test(template)) return template.replace(/\{partnerId\}/g, pid).replace(/\{entryId\}/g, eid);
  return `${template.replace(/\/+$/, '')}/${pid}/${eid}`;
}

const b64 = (v: unknown, what: string, len?: number): Buffer => {
  if (typeof v !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(v)) throw new KeyServiceError(`${what} is not base64`);
  const b = Buffer.from(v, 'base64'); // Node's decoder reads both alphabets
  if (len !== undefined && b.length !== len) throw new KeyServiceError(`${what} is not ${len} bytes`);
  return b;
};

/** Reads the DRM JSON (the first element, as nginx-vod-module does). Throws KeyServiceError. */
function parseDrmJson(text: string): ServiceKeys {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new KeyServiceError('the answer is not JSON');
  }
  const first = Array.isArray(v) ? v[0] : undefined;
  if (!first || typeof first !== 'object') throw new KeyServiceError('the answer is not an array of key objects');
  const o = first as Record<string, unknown>;
  const pssh = Array.isArray(o.pssh) ? o.pssh : o.pssh === undefined ? [] : null;
  if (!pssh) throw new KeyServiceError('pssh is not an array');
  return {
    key: b64(o.key, 'key', 16),
    keyId: b64(o.key_id, 'key_id', 16),
    ...(o.iv !== undefined && o.iv !== null && o.iv !== '' ? { iv: b64(o.iv, 'iv', 16) } : {}),
    pssh: pssh.map((p, i) => {
      const x = (p ?? {}) as Record<string, unknown>;
      if (typeof x.uuid !== 'string' || !/^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i.test(x.uuid)) throw new KeyServiceError(`pssh[${i}].uuid is not a UUID`);
      const hex = x.uuid.replace(/-/g, '').toLowerCase();
      return { uuid: `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`, data: b64(x.data, `pssh[${i}].data`) };
    }),
  };
}

const cache = new Map<string, { until: number; keys: Promise<ServiceKeys> }>();

/** The keys of an entry from the service (cached; one request at a time per URL). Throws KeyServiceError. */
export function serviceKeys(template: string, entry: Entry, now = Date.now()): Promise<ServiceKeys> {
  const url = keyServiceUrl(template, entry);
  const hit = cache.get(url);
  if (hit && hit.until > now) return hit.keys;
  const keys = fetchKeys(url);
  if (cache.size >= MAX_CACHED) cache.clear();
  cache.set(url, { until: now + KEY_CACHE_MS, keys });
  // a failure is not kept: the next request asks again
  keys.catch(() => { if (cache.get(url)?.keys === keys) cache.delete(url); });
  return keys;
}

/** Forgets every cached answer (tests, and a key rotation that cannot wait). */
export const clearKeyServiceCache = (): void => cache.clear();

async function fetchKeys(url: string): Promise<ServiceKeys> {
  let res: Response;
  try {
    // a redirect is not followed (keys come from the configured host only), but it is answered as
    // one, so an operator whose service moved to https or another path is told so
    res = await fetch(url, { signal: AbortSignal.timeout(TIMEOUT_MS), redirect: 'manual', headers: { accept: 'application/json' } });
  } catch (e) {
    throw new KeyServiceError((e as Error).name === 'TimeoutError' ? `no answer in ${TIMEOUT_MS / 1000} s` : 'it cannot be reached');
  }
  if (res.status !== 200) {
    await res.body?.cancel().catch(() => {});
    // where a redirect points is not told: the message goes to the client too
    throw new KeyServiceError(res.status >= 300 && res.status < 400
      ? `HTTP ${res.status}, a redirect, which is not followed: configure the URL it points to`
      : `HTTP ${res.status}`);
  }
  return parseDrmJson(await boundedText(res));
}

/** The answer's text, refused as soon as it passes MAX_ANSWER_BYTES (not read to its end first). */
async function boundedText(res: Response): Promise<string> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > MAX_ANSWER_BYTES) {
    await res.body?.cancel().catch(() => {});
    throw new KeyServiceError('the answer is too long');
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for await (const chunk of res.body ?? []) {
      size += chunk.byteLength;
      if (size > MAX_ANSWER_BYTES) {
        await res.body?.cancel().catch(() => {});
        throw new KeyServiceError('the answer is too long');
      }
      chunks.push(chunk);
    }
  } catch (e) {
    if (e instanceof KeyServiceError) throw e;
    throw new KeyServiceError((e as Error).name === 'TimeoutError' ? `no answer in ${TIMEOUT_MS / 1000} s` : 'the answer was cut off');
  }
  return Buffer.concat(chunks).toString('utf8');
}
