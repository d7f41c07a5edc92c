// Answering for a stored file: byte ranges (206/416), conditional requests (304), content type by
// extension, with the reference's cache headers. Pure decisions; the route streams the bytes.
import { extname } from 'node:path';
import { DeliveryError } from '../errors.js';
import type { MediaStore } from '../storage/media-store.js';

const CONTENT_TYPES: Record<string, string> = {
  mp4: 'video/mp4', m4v: 'video/mp4', m4a: 'audio/mp4', flv: 'video/x-flv', webm: 'video/webm', mp3: 'audio/mpeg',
  m3u8: 'application/x-mpegURL', ts: 'video/MP2T', mov: 'video/quicktime', qt: 'video/quicktime', '3gp': 'video/3gpp',
  ogg: 'video/ogg', pdf: 'application/pdf', txt: 'text/plain', png: 'image/png', jpg: 'image/jpeg', jpeg: 'image/jpeg',
  gif: 'image/gif', webp: 'image/webp', vtt: 'text/vtt', srt: 'application/x-subrip', wav: 'audio/wav', aac: 'audio/aac',
};

/** Unknown extensions get application/octet-stream (the reference's image/{ext} guess is not kept). */
export const contentTypeOf = (file: string) => CONTENT_TYPES[extname(file).slice(1).toLowerCase()] ?? 'application/octet-stream';

/**
 * `Content-Disposition: attachment` naming the file. A header carries bytes, not text: a name
 * outside printable ASCII ("Été ☃", an entry named in any script) goes in RFC 6266's
 * `filename*=UTF-8''…` (percent-encoded UTF-8, which browsers prefer), after an ASCII `filename`
 * for clients that read only that one (curl -J): accents dropped ("Ete"), anything else "_".
 * Quotes, backslashes and control characters never reach the header.
 */
export function attachmentDisposition(name: string): string {
  // a lone surrogate (a broken name in the catalog) has no UTF-8 form: encodeURIComponent throws on it
  name = name.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '_');
  const ascii = name.replace(/["\\\x00-\x1f\x7f]/g, '_');
  if (/^[\x20-\x7e]*$/.test(ascii)) return `attachment; filename="${ascii}"`;
  // (quotes again after NFKD: a fullwidth ＂ decomposes to ")
  const fallback = ascii.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').replace(/["\\]/g, '_').replace(/[^\x20-\x7e]/gu, '_');
  // RFC 5987 attr-chars: encodeURIComponent leaves ' ( ) * as they are, which a value may not hold
  const encoded = encodeURIComponent(name.replace(/[\x00-\x1f\x7f]/g, '_')).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}

/** The reference's fixed Last-Modified of served media. */
const MEDIA_LAST_MODIFIED = 'Sun, 19 Nov 2000 08:52:00 GMT';

/** A stored media file: its name in the media store and its size; a missing one is error 5. */
export async function mediaFile(store: MediaStore, relative: string): Promise<{ name: string; size: number }> {
  const name = store.locate(relative);
  const st = await store.version(name);
  if (!st) throw new DeliveryError('FILE_NOT_FOUND');
  return { name, size: st.size };
}

/** The request headers conditional answers read. */
export function conditionalHeaders(headers: Record<string, string | string[] | undefined>): ConditionalHeaders {
  const one = (n: string) => {
    const v = headers[n];
    return Array.isArray(v) ? v[0] : v;
  };
  return { range: one('range'), ifNoneMatch: one('if-none-match'), ifModifiedSince: one('if-modified-since'), ifRange: one('if-range') };
}

export interface FilePlan {
  status: 200 | 206 | 304 | 416;
  headers: Record<string, string>;
  /** Inclusive byte range to send; absent for 304/416 or an empty file. */
  range?: { start: number; end: number };
}

export interface ConditionalHeaders {
  range?: string;
  ifNoneMatch?: string;
  ifModifiedSince?: string;
  ifRange?: string;
}

/** Parses one "bytes=" range against a size; null for unsatisfiable or multiple ranges. */
function parseRange(header: string, size: number): { start: number; end: number } | null {
  const m = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!m || (m[1] === '' && m[2] === '')) return null;
  let start: number;
  let end: number;
  if (m[1] === '') {
    const suffix = Number(m[2]);
    if (suffix === 0) return null;
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(m[1]);
    end = m[2] === '' ? size - 1 : Math.min(Number(m[2]), size - 1);
  }
  if (!Number.isSafeInteger(start) || start >= size || end < start) return null;
  return { start, end };
}

/**
 * A body of known size answered whole, as a single range (206), or refused (416). `headers` are
 * the answer's own (content type, caching, CORS); the range headers are added here.
 */
export function planRange(size: number, range: string | undefined, headers: Record<string, string>): FilePlan {
  const base = { 'Accept-Ranges': 'bytes', ...headers };
  if (range !== undefined) {
    const r = parseRange(range, size);
    if (!r) return { status: 416, headers: { ...base, 'Content-Range': `bytes */${size}`, 'Content-Length': '0' } };
    return { status: 206, headers: { ...base, 'Content-Range': `bytes ${r.start}-${r.end}/${size}`, 'Content-Length': String(r.end - r.start + 1) }, range: r };
  }
  return { status: 200, headers: { ...base, 'Content-Length': String(size) }, range: size > 0 ? { start: 0, end: size - 1 } : undefined };
}

/** Cache-Control of media any cache may keep (the reference's). */
export const PUBLIC_MEDIA = 'public, max-age=8640000, max-stale=0';

/**
 * Cache-Control of media judged by what its URL does not show (a header KS, the referrer, the
 * client's address, a preview): no shared cache (the shipped nginx, a CDN) may keep it.
 */
export const PRIVATE_MEDIA = 'private, no-store';

/** Whether an If-None-Match value names this ETag (weakly, as RFC 9110 compares them) or is "*". */
export const etagMatches = (ifNoneMatch: string, etag: string): boolean =>
  ifNoneMatch.split(',').map((s) => s.trim()).some((t) => t === etag || t === '*' || t === `W/${etag}`);

/** A stored media file: the reference's cache headers, conditional requests (304), then ranges. */
/**
 * The ETag of a clip cut from a flavor (serveFlavor's clipFrom/clipTo, flvclipper's clip_from/
 * clip_to): the same span of the same flavor version is the same bytes on either route.
 */
export const clipEtag = (flavor: { id: string; version: number }, fromMs: number, toMs: number | null | undefined, size: number): string =>
  `"${flavor.id}-${flavor.version}-${fromMs}-${toMs ?? ''}-${size}"`;

export function planFile(size: number, etag: string, contentType: string, h: ConditionalHeaders): FilePlan {
  const headers: Record<string, string> = {
    'Content-Type': contentType,
    'Accept-Ranges': 'bytes',
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'Server,range,Content-Length,Content-Range',
    'Cache-Control': PUBLIC_MEDIA,
    'Last-Modified': MEDIA_LAST_MODIFIED,
    ETag: etag,
  };
  const notModified = h.ifNoneMatch !== undefined
    ? etagMatches(h.ifNoneMatch, etag)
    : h.ifModifiedSince !== undefined && Date.parse(h.ifModifiedSince) >= Date.parse(MEDIA_LAST_MODIFIED);
  if (notModified) return { status: 304, headers };
  const rangeApplies = h.range !== undefined && (h.ifRange === undefined || h.ifRange === etag || h.ifRange === MEDIA_LAST_MODIFIED);
  return planRange(size, rangeApplies ? h.range : undefined, headers);
}
