// The one request model of playManifest: every parameter normalised once (aliases resolved,
// numbers parsed, referrer decoded, KS taken from the header or the params), by one parser, from
// the path pairs, the query string, a POST's body and the headers. Stages read this and nothing else.
// Accepted and not modelled, because nothing in kdeliver's answer depends on them (README,
// "Where kdeliver deliberately differs"): cdnHost/ch (no effect in Kaltura's code either),
// uiConfId/ui/uiconf (Kaltura's ad-stitching play server only), muxedAudioLang (no muxed
// per-language master in the built-in packager), clientTag and playSessionId (analytics only;
// the answer cache leaves them out of its key, src/cache/manifest-cache.ts).
import { DeliveryError } from '../errors.js';
import { pathAfter, pathParams } from './path-params.js';
import { flatBodyParams } from './body.js';
import { flatHeaders, headerValue, type HttpFacts } from './http-facts.js';

export interface PlayRequest {
  method: string;
  rawUri: string;
  isHttps: boolean;
  clientIp: string;
  /** The client's country (HttpFacts.country), looked up on first use. */
  country: () => string | null;
  /** HttpFacts.regexBudget: the one regex budget of the HTTP request. */
  regexBudget: { left: number };
  userAgent: string;
  headers: Record<string, string>;
  entryId: string | null;
  /** As asked (url when absent, as the product documentation says). */
  format: string;
  protocol: string;
  responseFormat: string | null;
  /** From flavorId (wins) or flavorIds. */
  flavorIds: string[] | null;
  /** From flavorParamId (wins) or flavorParamIds; read only when no asset ids were given. */
  flavorParamIds: number[] | null;
  /** Tag fallback groups from `tags`, or null for the format's defaults. */
  tags: string[][] | null;
  preferredBitrate: number | null;
  maxBitrate: number | null;
  minBitrate: number | null;
  /** ms; -1 when absent or ≤ 0. */
  seekFrom: number;
  /** ms; 0 when absent. */
  clipTo: number;
  playbackRate: number;
  tracks: string;
  storageId: number | null;
  deliveryProfileIds: number[] | null;
  deliveryCode: string;
  playbackContext: string | null;
  ks: string | null;
  kt: string | null;
  expiry: number | null;
  /** Decoded referrer (the `referrer` param, else the Referer header). */
  referrer: string;
  hashes: Record<string, string>;
  sequence: string[] | null;
  defaultAudioLang: string | null;
  disableCaptions: boolean;
  type: string | null;
  /** JSONP callback, from the query string only. */
  callback: string | null;
  /** The raw merged parameters, for traces. */
  params: ReadonlyMap<string, string>;
}

/** Kaltura's short aliases (long name → short name). No other parameter has one. */
export const SHORT_NAMES: Record<string, string> = {
  cdnHost: 'ch', clipTo: 'ct', deliveryCode: 'dc', entryId: 'e', expiry: 'ex', flavorId: 'fi', flavorIds: 'fs',
  flavorParamId: 'fp', flavorParamIds: 'fps', format: 'f', maxBitrate: 'mb', minBitrate: 'mib',
  playbackContext: 'pc', preferredBitrate: 'pb', protocol: 'pt', referrer: 'r', seekFrom: 'sf', storageId: 'si',
  tags: 't', uiConfId: 'ui',
};

const CALLBACK = /^[0-9_a-zA-Z.]*$/;

/** Decodes Kaltura's url-safe base64 referrer; anything that is not text becomes ''. */
export function decodeReferrer(v: string): string {
  const b64 = v.replace(/-/g, '+').replace(/_/g, '/').replace(/ /g, '+');
  if (!/^[A-Za-z0-9+/]*=*$/.test(b64)) return '';
  const text = Buffer.from(b64, 'base64').toString('utf8');
  // CR/LF or other control characters never reach a header, a log line or a rule
  return /[\u0000-\u001f\u007f\ufffd]/.test(text) ? '' : text;
}

/** The decoded `referrer` parameter, else the Referer header (never one carrying CR or LF). */
export function referrerOf(param: string | null | undefined, refererHeader: string): string {
  return (param ? decodeReferrer(param) : '') || (/[\r\n]/.test(refererHeader) ? '' : refererHeader);
}

// PHP's is_numeric: decimal only, so "0x10", "0b1", "Infinity" are not numbers (Number() takes them)
/**
 * The largest clip time the packager reads (twelve digits, src/request/packager-url.ts parseMs;
 * 31 years): a larger one became a URL in exponent-free digits the packager refused, or one
 * rounded past 2^53.
 */
const MAX_CLIP_MS = 999_999_999_999;
const NUMERIC = /^\s*[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?\s*$/;
const num = (v: string | undefined): number | null => {
  if (v === undefined || !NUMERIC.test(v)) return null;
  const n = Number(v);
  return Number.isFinite(n) ? n : null;
};
const list = (v: string | undefined): string[] => (v ?? '').split(',').map((s) => s.trim()).filter(Boolean);

/** A playManifest request's HTTP facts → PlayRequest (the path after `playManifest`, the query, the headers). */
export function readPlayRequest(http: HttpFacts): PlayRequest {
  return parsePlayRequest(pathAfter(http.rawUrl, 'playManifest'), http);
}

/**
 * The path after `playManifest` plus query, body and headers → PlayRequest. Throws DeliveryError
 * 19/49/25. As in Kaltura, path pairs win over the query, which wins over a POST's body (a KS sent
 * there stays out of URLs and logs); the JSONP callback is read from the query only.
 */
export function parsePlayRequest(pathAfterAction: string, http: HttpFacts): PlayRequest {
  const body = http.body && http.method.toUpperCase() === 'POST' ? flatBodyParams(http.body.contentType, http.body.bytes) : undefined;
  const params = pathParams(pathAfterAction, http.query, body);
  const get = (name: string): string | undefined => {
    if (params.has(name)) return params.get(name);
    const short = SHORT_NAMES[name];
    return short !== undefined ? params.get(short) : undefined;
  };

  const headers = flatHeaders(http.headers);

  const format = get('format') || 'url';
  let protocol = get('protocol') || 'http';
  if (protocol === 'null') protocol = 'http';
  protocol = protocol.toLowerCase();
  // url and download are format http by the time Kaltura forces the scheme
  if (['hdnetworkmanifest', 'hdnetworksmil', 'http', 'url', 'download'].includes(format) && !protocol.startsWith('http')) protocol = 'http';
  if (format === 'rtmp' && !protocol.startsWith('rtmp')) protocol = 'rtmp';
  if (!/^[a-z][a-z0-9+.-]{0,15}$/.test(protocol)) throw new DeliveryError('BAD_QUERY', ', invalid protocol');

  const preferredBitrate = num(get('preferredBitrate'));
  const mbRaw = get('maxBitrate');
  const maxBitrate = num(mbRaw);
  if (mbRaw !== undefined && mbRaw !== '' && (maxBitrate === null || maxBitrate <= 0)) throw new DeliveryError('INVALID_MAX_BITRATE');
  const mibRaw = get('minBitrate');
  const minBitrate = num(mibRaw);
  if (mibRaw !== undefined && mibRaw !== '' && (minBitrate === null || minBitrate <= 0)) throw new DeliveryError('INVALID_MIN_BITRATE');

  const flavorId = get('flavorId');
  const flavorIds = flavorId ? [flavorId] : get('flavorIds') ? list(get('flavorIds')) : null;
  const fp = get('flavorParamId');
  // flavorParamId may be a comma list too (the docs: "multiple flavors may be comma-separated")
  const fps = fp !== undefined && fp !== '' ? list(fp) : get('flavorParamIds') ? list(get('flavorParamIds')) : null;
  const flavorParamIds = fps ? fps.map((s) => Number(s)).filter((n) => Number.isInteger(n)) : null;

  const tagsRaw = get('tags');
  const tags = tagsRaw ? list(tagsRaw).map((t) => [t]) : null;

  const seek = num(get('seekFrom'));
  const clip = num(get('clipTo'));
  for (const [name, v] of [['seekFrom', seek], ['clipTo', clip]] as const) {
    if (v !== null && v > MAX_CLIP_MS) throw new DeliveryError('BAD_QUERY', `, ${name} is milliseconds, at most ${MAX_CLIP_MS}`);
  }
  const dps = get('deliveryProfileIds') || get('deliveryProfileId');
  const deliveryProfileIds = dps ? list(dps).map(Number).filter((n) => Number.isInteger(n)) : null;

  const hashes: Record<string, string> = {};
  const hashesRaw = get('hashes');
  if (hashesRaw) {
    let decoded = hashesRaw;
    try { decoded = decodeURIComponent(hashesRaw); } catch { /* keep as is */ }
    for (const pair of decoded.split(',')) {
      const eq = pair.indexOf('=');
      if (eq > 0) hashes[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
  }

  const ksHeader = headerValue(http.headers, 'x-kaltura-ks');
  const referrer = referrerOf(get('referrer'), headerValue(http.headers, 'referer') ?? '');

  const q = http.query ?? {};
  const cb = typeof q.callback === 'string' ? q.callback : null;
  const expiryRaw = get('expiry');
  const seq = params.get('sequence');

  return {
    method: http.method.toUpperCase(),
    rawUri: http.rawUrl,
    isHttps: http.isHttps,
    clientIp: http.clientIp,
    country: http.country,
    regexBudget: http.regexBudget,
    userAgent: headers['user-agent'] ?? '',
    headers,
    entryId: get('entryId') || null,
    format,
    protocol,
    responseFormat: params.get('responseFormat') || null,
    flavorIds,
    flavorParamIds,
    tags,
    preferredBitrate,
    maxBitrate,
    minBitrate,
    seekFrom: seek !== null && seek > 0 ? Math.floor(seek) : -1,
    clipTo: clip !== null && clip > 0 ? Math.floor(clip) : 0,
    playbackRate: num(params.get('playbackRate')) ?? 0,
    tracks: params.get('tracks') ?? '',
    // 0 is Kaltura's own data centre, which its playManifest reads as no storage asked for (a
    // falsy id): here, the media this server holds
    storageId: num(get('storageId')) || null,
    deliveryProfileIds,
    deliveryCode: get('deliveryCode') ?? '',
    playbackContext: get('playbackContext') ?? null,
    ks: ksHeader || params.get('ks') || null,
    kt: params.get('kt') || null,
    expiry: expiryRaw !== undefined && expiryRaw !== '' ? (num(expiryRaw) ?? 0) : null,
    referrer,
    hashes,
    sequence: seq ? list(seq) : null,
    defaultAudioLang: params.get('defaultAudioLang') || null,
    disableCaptions: !!params.get('disableCaptions') && params.get('disableCaptions') !== '0' && params.get('disableCaptions') !== 'false',
    type: params.get('type') || null,
    callback: cb !== null && CALLBACK.test(cb) ? cb : null,
    params,
  };
}

