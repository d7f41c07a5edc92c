// Request parameters of api_v3, as Kaltura reads them: name/value pairs from the path after the
// script name, the query string, and the body (JSON, form-encoded, or multipart with a `json`
// field). A name is a path into nested objects, written `a:b:c` (Kaltura's flattening) or
// `a[b][c]` (PHP's, which Kaltura gets from $_GET and $_POST for free), or a mix of both; path
// pairs win over the query, which wins over the body.
import type { UploadedFile } from './types.js';
import { BodyError, multipartParts } from '../request/body.js';

export type Params = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v) && !Buffer.isBuffer(v);

/** Names Kaltura would never produce; refused as keys so a body cannot reach Object.prototype. */
const UNSAFE_KEY = new Set(['__proto__', 'constructor', 'prototype']);

/** Deeper than any Kaltura object; deeper keys are dropped so no input can exhaust the stack. */
export const MAX_KEY_DEPTH = 16;

/** A `[]` segment: PHP's "append", the next integer key of its object. */
const APPEND = '[]';
/** An integer key as PHP counts it for `[]` (no sign, no leading zero). */
const INT_KEY = /^(0|[1-9]\d{0,8})$/;

/**
 * The segments of a parameter name: `a:b:c`, `a[b][c]` and `1:filter[entryIdEqual]` all name a
 * path. Brackets follow PHP's reading of request variables: they start after a non-empty base
 * name, each `[...]` is one segment (`[]` appends), anything after the last `]` is ignored, and an
 * unclosed first `[` leaves the name as it is. Returns null for a name PHP drops (`[a]`).
 */
export function keyPath(key: string): string[] | null {
  const open = key.indexOf('[');
  if (open < 0) return key.split(':');
  if (open === 0) return null;
  const segs: string[] = [];
  let pos = open;
  while (key[pos] === '[') {
    const close = key.indexOf(']', pos + 1);
    if (close < 0) {
      if (segs.length === 0) return key.split(':');
      break;
    }
    segs.push(key.slice(pos + 1, close));
    pos = close + 1;
  }
  return [...key.slice(0, open).split(':'), ...segs.flatMap((s) => (s === '' ? [APPEND] : s.split(':')))];
}

/** The next integer key of an object, as `[]` picks it: one past the largest so far, or 0. */
function nextIndex(node: Params): string {
  let next = 0;
  for (const k of Object.keys(node)) if (INT_KEY.test(k)) next = Math.max(next, Number(k) + 1);
  return String(next);
}

/** Sets a parameter (`a:b:c`, `a[b][c]`) into a nested object. */
function setFlat(target: Params, key: string, value: unknown): void {
  const parts = keyPath(key);
  if (!parts || parts.length > MAX_KEY_DEPTH) return;
  let node: Params = target;
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] === APPEND ? nextIndex(node) : parts[i];
    if (UNSAFE_KEY.has(p)) return;
    if (i === parts.length - 1) {
      if (isPlainObject(node[p]) && !isPlainObject(value)) return; // a scalar never overwrites a group
      node[p] = isPlainObject(node[p]) && isPlainObject(value) ? deepMerge(node[p] as Params, value) : value;
      return;
    }
    if (!isPlainObject(node[p])) node[p] = {};
    node = node[p] as Params;
  }
}

/** Turns a flat map (`filter:idEqual` → v) into nested objects; nested values are flattened first. */
export function unflatten(input: Params, depth = 0): Params {
  const out: Params = Object.create(null);
  if (depth > MAX_KEY_DEPTH) return {};
  for (const [k, v] of Object.entries(input)) {
    if (UNSAFE_KEY.has(k)) continue;
    setFlat(out, k, isPlainObject(v) ? unflatten(v, depth + 1) : v);
  }
  return toPlain(out);
}

function toPlain(p: Params): Params {
  const o: Params = {};
  for (const [k, v] of Object.entries(p)) o[k] = isPlainObject(v) ? toPlain(v) : v;
  return o;
}

/** array_replace_recursive: `over` wins, objects merge. */
export function deepMerge(base: Params, over: Params): Params {
  const out: Params = { ...base };
  for (const [k, v] of Object.entries(over)) {
    if (UNSAFE_KEY.has(k)) continue;
    out[k] = isPlainObject(v) && isPlainObject(out[k]) ? deepMerge(out[k] as Params, v) : v;
  }
  return out;
}

/** Path after `/api_v3` (optionally `/index.php`) → name/value pairs; a lone last segment (a file-name tail) is dropped. */
export function pathPairs(path: string): Params {
  const segs = path.split('/').filter(Boolean).map((s) => {
    try { return decodeURIComponent(s); } catch { return s; }
  });
  if (segs[0]?.toLowerCase() === 'index.php') segs.shift();
  const out: Params = {};
  for (let i = 0; i + 1 < segs.length; i += 2) {
    if (!Object.hasOwn(out, segs[i])) setFlat(out, segs[i], segs[i + 1]);
  }
  return out;
}

/**
 * Query string (or form body) → flat map with every name spelled `a:b:c`, so that `f[x]` and
 * `f:x` are one name and the first occurrence of a repeated name wins whichever spelling it has.
 * Each `[]` takes the next integer key of its object, counted in the order of the string.
 */
export function queryParams(rawQuery: string): Params {
  const out: Params = {};
  const next = new Map<string, number>();
  for (const [k, v] of new URLSearchParams(rawQuery)) {
    const parts = keyPath(k);
    if (!parts) continue;
    const path: string[] = [];
    for (const part of parts) {
      const prefix = path.join(':');
      const seg = part === APPEND ? String(next.get(prefix) ?? 0) : part;
      if (INT_KEY.test(seg)) next.set(prefix, Math.max(next.get(prefix) ?? 0, Number(seg) + 1));
      path.push(seg);
    }
    const key = path.join(':');
    if (!Object.hasOwn(out, key)) out[key] = v;
  }
  return out;
}

// BodyError is the request part's (src/request/body.ts), which splits multipart bodies for playManifest too
export { BodyError };

/**
 * Deepest nesting of a JSON body, objects and arrays counted alike. Kaltura's deepest objects (an
 * access-control rule's nested or-conditions, which src/api/rules.ts stops at 8) sit well within
 * it; a body past it is refused whole, before anything walks it: every reader of parameters
 * (unflatten, the multirequest's token replacement, the answer cache's key, API v2's flattening)
 * recurses, and a few hundred thousand brackets ran them out of stack.
 */
export const MAX_JSON_DEPTH = 64;

/** A parsed JSON value, or BodyError when it nests deeper than MAX_JSON_DEPTH (walked without recursion). */
function withinDepth<T>(value: T, what: string): T {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > MAX_JSON_DEPTH) throw new BodyError(`${what} nests deeper than ${MAX_JSON_DEPTH} levels`);
    for (const x of Array.isArray(v) ? v : Object.values(v)) if (x !== null && typeof x === 'object') stack.push([x, depth + 1]);
  }
  return value;
}

export interface ParsedBody {
  params: Params;
  files: UploadedFile[];
}

/**
 * A request body → parameters. JSON is accepted with or without a charset (Kaltura wants the bare
 * type; the product is more lenient) when it is an object; multipart takes its `json` field
 * plus plain fields; anything else is read as form-encoded.
 */
export function parseBody(contentType: string | undefined, body: Buffer | undefined): ParsedBody {
  if (!body || body.length === 0) return { params: {}, files: [] };
  const ct = (contentType ?? '').toLowerCase();
  const mime = ct.split(';')[0].trim();
  if (mime === 'application/json' || mime === 'text/json') {
    const text = body.toString('utf8').trim();
    if (!text.startsWith('{') || !text.endsWith('}')) return { params: {}, files: [] };
    let parsed: unknown;
    try { parsed = JSON.parse(text); } catch { throw new BodyError('the JSON body is not valid JSON'); }
    withinDepth(parsed, 'the JSON body');
    return { params: isPlainObject(parsed) ? unflatten(parsed) : {}, files: [] };
  }
  if (mime === 'multipart/form-data') return parseMultipart(contentType ?? '', body);
  if (mime === 'application/x-www-form-urlencoded' || mime === '' || mime === 'text/plain') {
    return { params: unflatten(queryParams(body.toString('utf8'))), files: [] };
  }
  return { params: {}, files: [] };
}

/**
 * The fields of a multipart body that can be read before the first that cannot, or before the
 * body breaks off (a body refused for its size, kept only in part): none of any other body,
 * whose cut or broken text would be misread. A refusal of the body answers in the format they
 * name: the Node client sends `format` in its leading `json` field, and takes an answer in
 * another format for a result.
 */
export function leadingMultipartParams(contentType: string | undefined, body: Buffer | undefined): Params {
  if (!body || (contentType ?? '').split(';')[0].trim().toLowerCase() !== 'multipart/form-data') return {};
  try {
    return parseMultipart(contentType!, body, true).params;
  } catch {
    return {};
  }
}

function parseMultipart(contentType: string, body: Buffer, leading = false): ParsedBody {
  const fields: Params = {};
  const files: UploadedFile[] = [];
  let jsonField: Params | null = null;
  for (const part of multipartParts(contentType, body, { leading })) {
    if (part.fileName !== undefined) {
      // the leading fields of a refused body are read for its answer's format: its files are not kept
      if (!leading) files.push({ field: part.name, fileName: part.fileName, contentType: part.contentType, data: Buffer.from(part.data) });
    }
    else if (part.name === 'json') {
      let parsed: unknown;
      try { parsed = JSON.parse(part.data.toString('utf8')); } catch { throw new BodyError('the multipart "json" field is not valid JSON'); }
      withinDepth(parsed, 'the multipart "json" field');
      if (isPlainObject(parsed)) jsonField = unflatten(parsed);
    } else setFlat(fields, part.name, part.data.toString('utf8'));
  }
  return { params: jsonField ? deepMerge(toPlain(fields), jsonField) : toPlain(fields), files };
}

/** Path pairs over query over body. */
export function mergeRequestParams(path: Params, query: Params, body: Params): Params {
  return deepMerge(deepMerge(body, unflatten(query)), path);
}

/** Kaltura's `name__null` convention: the property is explicitly set to null. */
export const NULL_SUFFIX = '__null';
