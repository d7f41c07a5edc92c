// Kaltura's path-style parameters: /key/value/key/value... after the action name. One parser for
// every delivery route (playManifest, serveFlavor, raw, download, packager), with the reference's
// rules: empty segments dropped, first occurrence wins, parsing stops at a key "0", and a lone
// last segment (a file-name tail such as a.m3u8) is a key without a value.
import { DeliveryError } from '../errors.js';

export const MAX_SEGMENT_LENGTH = 2048;
export const MAX_PATH_LENGTH = 8192;

/** Splits a raw (still percent-encoded) path into decoded segments; refuses what could escape or confuse. */
export function splitPath(rawPath: string): string[] {
  if (rawPath.length > MAX_PATH_LENGTH) throw new DeliveryError('BAD_QUERY', ', path too long');
  const out: string[] = [];
  for (const raw of rawPath.split('/')) {
    if (raw === '') continue;
    if (raw.length > MAX_SEGMENT_LENGTH) throw new DeliveryError('BAD_QUERY', ', path segment too long');
    // most segments have no escape at all: nothing to decode
    if (!raw.includes('%')) {
      if (raw.includes('\0')) throw new DeliveryError('BAD_QUERY', ', NUL byte in path');
      out.push(raw);
      continue;
    }
    if (/%2f|%5c|%00/i.test(raw)) throw new DeliveryError('BAD_QUERY', ', encoded slash or NUL byte in path');
    let seg: string;
    try {
      seg = decodeURIComponent(raw);
    } catch {
      throw new DeliveryError('BAD_QUERY', ', malformed percent-encoding in path');
    }
    if (seg.includes('\0')) throw new DeliveryError('BAD_QUERY', ', NUL byte in path');
    out.push(seg);
  }
  return out;
}

/** Reads key/value pairs from path segments. Values of keys without one are undefined. */
export function readPairs(segments: string[]): Map<string, string | undefined> {
  const params = new Map<string, string | undefined>();
  for (let i = 0; i < segments.length; i += 2) {
    const key = segments[i];
    if (key === '' || key === '0') break; // PHP-falsy key ends the pairs
    if (!params.has(key)) params.set(key, segments[i + 1]);
  }
  return params;
}

/**
 * Path pairs over query-string values (over a POST body's, `body`, when the route reads one):
 * the merged view every route reads from.
 */
export function mergeParams(pathParams: Map<string, string | undefined>, query: Record<string, unknown>, body?: ReadonlyMap<string, string>): Map<string, string> {
  const merged = new Map<string, string>(body ?? []);
  for (const [k, v] of Object.entries(query ?? {})) {
    const val = Array.isArray(v) ? v[0] : v; // first occurrence, as PHP's $_GET keeps the last but clients never repeat
    if (typeof val === 'string') merged.set(k, val);
  }
  for (const [k, v] of pathParams) if (v !== undefined) merged.set(k, v);
  return merged;
}

/** Splits a request URL into its raw path and its query string (without "?"). */
export function splitUrl(url: string): { path: string; query: string } {
  const q = url.indexOf('?');
  return q < 0 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/** The raw path after the action segment of a raw URL, e.g. after "/playManifest" (query dropped). */
export function pathAfter(rawUrl: string, action: string): string {
  const raw = rawUrl.split('?')[0];
  const i = raw.indexOf(`/${action}`);
  return i < 0 ? '' : raw.slice(i + action.length + 1);
}

/**
 * serveFlavor under any path prefix, as Kaltura's web server routes it (README "What it answers"):
 * a path holding `/serveFlavor/` not right after `extwidget` is that action, whatever comes before
 * (`/s/p/1/sp/100/…`, a CDN's or proxy's folder, nothing). Null when the path is no such URL, and
 * when its first `/serveFlavor` is not that occurrence (routeParams reads the pairs after the
 * first one, so the two could disagree). `partnerId`: a prefix ending with `/p/{pid}[/sp/{sp}]`
 * names a partner, as the `/p/{pid}` routes do; any other prefix names none.
 */
export function serveFlavorUnderPrefix(rawUrl: string): { partnerId: number | undefined } | null {
  const path = splitUrl(rawUrl).path;
  const i = path.indexOf('/serveFlavor');
  if (i < 0 || !path.startsWith('/serveFlavor/', i) || path.slice(Math.max(0, i - 9), i) === 'extwidget') return null;
  const named = /(?:^|\/)p\/([^/]+)(?:\/sp\/[^/]+)?$/.exec(path.slice(0, i));
  return { partnerId: named ? Number(named[1]) : undefined };
}

/** Path pairs over query values (over body values), from a raw path: the merged view every route reads from. */
export function pathParams(rawPath: string, query: Record<string, unknown>, body?: ReadonlyMap<string, string>): Map<string, string> {
  return mergeParams(readPairs(splitPath(rawPath)), query, body);
}

/**
 * The one reader of path parameters for every route family: the pairs after `action` in the
 * request's raw URL over its query values. With `file`, the last segment is a file name
 * (storyboard.vtt, sheet-1.jpg), not a key: it is returned apart.
 */
export function routeParams(http: { rawUrl: string; query: Record<string, unknown> }, action: string): Map<string, string>;
export function routeParams(http: { rawUrl: string; query: Record<string, unknown> }, action: string, file: true): { params: Map<string, string>; file: string };
export function routeParams(http: { rawUrl: string; query: Record<string, unknown> }, action: string, file?: true): Map<string, string> | { params: Map<string, string>; file: string } {
  const segments = splitPath(pathAfter(http.rawUrl, action));
  if (!file) return mergeParams(readPairs(segments), http.query);
  const name = segments.pop() ?? '';
  return { params: mergeParams(readPairs(segments), http.query), file: name };
}
