// The multirequest runner: numbered sub-requests (0- or 1-based keys) run in order, each seeing
// the common parameters (ks, partnerId, clientTag) it does not set itself, and `{N:result:path}`
// tokens (N 1-based in execution order) replaced by earlier results. An error takes its slot and
// later requests still run; the answer has exactly one item per sub-request, never null.
import { ApiError, isApiError, toExceptionObject } from './errors.js';
import type { Params } from './params.js';

const PROPAGATED = ['ks', 'partnerId', 'clientTag'] as const;
/** More sub-requests than any client sends; a bigger batch is refused whole rather than run for minutes. */
export const MAX_SUB_REQUESTS = 100;
const TOKEN = /\{(\d+):result((?::[^{}:]+)*)\}/g;

/**
 * The sub-requests in execution order, each with its key (the `N` of its `N:name` parameters and
 * files): from min(1, smallest key) up to the first key without service and action.
 */
export function subRequests(params: Params): Array<{ key: number; params: Params }> {
  const keys = Object.keys(params).filter((k) => /^\d+$/.test(k)).map(Number);
  if (keys.length === 0) return [];
  const out: Array<{ key: number; params: Params }> = [];
  for (let i = Math.min(1, keys.reduce((a, b) => Math.min(a, b))); ; i++) {
    const r = params[String(i)];
    if (typeof r !== 'object' || r === null || Array.isArray(r)) break;
    const sub = r as Params;
    if (!sub.service || !sub.action) break;
    out.push({ key: i, params: sub });
  }
  return out;
}

/**
 * The files of sub-request `key`: the parts named `{key}:{name}`, under `{name}` (Kaltura's front
 * controller splits file fields as it splits parameters). A part without a number is the
 * multirequest's own, as a parameter without one is, and no sub-request's.
 */
export function subRequestFiles<F extends { field: string }>(files: readonly F[], key: number): F[] {
  const out: F[] = [];
  for (const f of files) {
    // `2:fileData`, or PHP's `2[fileData]`, as the parameters are read
    const m = /^(\d+)(?::(.+)|\[([^\]]+)\])$/.exec(f.field);
    if (m && Number(m[1]) === key) out.push({ ...f, field: m[2] ?? m[3] });
  }
  return out;
}

/** Walks a result along `a:b:0:c`; `_all:attr` comma-joins attr over an array (keeping the trailing comma). */
export function resolvePath(result: unknown, path: string[]): string {
  let node: unknown = isApiError(result) ? toExceptionObject(result) : result;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i];
    if (seg === '_all' && Array.isArray(node)) {
      const rest = path.slice(i + 1);
      return node.map((item) => `${resolvePath(item, rest)},`).join('');
    }
    if (node === null || typeof node !== 'object') return '';
    node = (node as Record<string, unknown>)[seg];
  }
  if (node === null || node === undefined) return '';
  if (typeof node === 'boolean') return node ? '1' : '';
  if (typeof node === 'object') return '';
  return String(node);
}

/** Replaces every `{N:result...}` token in every string of a sub-request. */
export function replaceTokens(v: unknown, results: unknown[]): unknown {
  if (typeof v === 'string') {
    if (!v.includes(':result')) return v;
    return v.replace(TOKEN, (whole, n: string, path: string) => {
      const idx = Number(n) - 1;
      if (idx < 0 || idx >= results.length) return whole; // a later or absent request: left as written
      return resolvePath(results[idx], path ? path.slice(1).split(':') : []);
    });
  }
  if (Array.isArray(v)) return v.map((x) => replaceTokens(x, results));
  if (v !== null && typeof v === 'object') {
    const out: Params = {};
    for (const [k, val] of Object.entries(v)) out[k] = replaceTokens(val, results);
    return out;
  }
  return v;
}

/** Runs every sub-request with `run`; the top level's ks/partnerId/clientTag pass down. */
export async function runMultiRequest(params: Params, run: (sub: Params, key: number) => Promise<unknown>): Promise<unknown[] | ApiError> {
  const results: unknown[] = [];
  const subs = subRequests(params);
  if (subs.length > MAX_SUB_REQUESTS) return new ApiError('MULTIREQUEST_TOO_LARGE', { MAX_REQUESTS: MAX_SUB_REQUESTS });
  for (const { key, params: raw } of subs) {
    const sub: Params = { ...(replaceTokens(raw, results) as Params) };
    delete sub.format; // only the top-level format picks the serializer
    for (const k of PROPAGATED) if (sub[k] === undefined && params[k] !== undefined) sub[k] = params[k];
    results.push(await run(sub, key));
  }
  return results;
}
