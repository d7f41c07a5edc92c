// Request bodies as Kaltura's front doors read them (api_v3, API v2 and playManifest take the body
// as bytes; routes/http.ts takeBodiesAsBytes): the parts of a multipart/form-data body, shared by
// src/api/params.ts (api_v3's nested parameters) and flatBodyParams (playManifest's flat ones, below).
import { DeliveryError } from '../errors.js';

/** A body that cannot be read: each reader answers it in its own form (api_v3 error, delivery error 25). */
export class BodyError extends Error {}

export interface BodyPart {
  name: string;
  /** Present for a file part (its Content-Disposition names a filename). */
  fileName?: string;
  contentType: string;
  /** A view into the body: copy it to keep it. */
  data: Buffer;
}

/**
 * The named parts of a multipart/form-data body, in order (parts without a name are skipped).
 * `leading`: the parts up to the first that cannot be read, without refusing it (what a refusal of
 * the body may still learn from the fields sent before, such as the answer's format).
 */
export function multipartParts(contentType: string, body: Buffer, o: { leading?: boolean } = {}): BodyPart[] {
  const m = /boundary=(?:"([^"]+)"|([^;]+))/i.exec(contentType);
  if (!m) throw new BodyError('multipart body without a boundary');
  const text = (m[1] ?? m[2]).trim();
  // a delimiter is CRLF "--" boundary (RFC 2046): the boundary's text elsewhere in a value is data.
  // The first one may open the body (no preamble), so it is looked for without the CRLF there
  const dashes = Buffer.from(`--${text}`);
  const delimiter = Buffer.from(`\r\n--${text}`);
  const parts: BodyPart[] = [];
  let pos = 0;
  if (!body.subarray(0, dashes.length).equals(dashes)) {
    const d = body.indexOf(delimiter);
    pos = d < 0 ? -1 : d + 2;
  }
  while (pos >= 0) {
    const start = pos + dashes.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(delimiter, start);
    if (next < 0) break;
    const part = body.subarray(start + 2, next); // after the CRLF that ends the delimiter's line
    const headEnd = part.indexOf('\r\n\r\n');
    if (headEnd >= 0) {
      let headers: Map<string, string>;
      let params: Map<string, string> | undefined;
      try {
        headers = partHeaders(part.subarray(0, headEnd).toString('utf8'));
        const disposition = headers.get('content-disposition');
        params = disposition === undefined ? undefined : dispositionParams(disposition);
      } catch (e) {
        if (o.leading && e instanceof BodyError) break;
        throw e;
      }
      const name = params?.get('name');
      const fileName = params?.get('filename*') ?? params?.get('filename');
      const type = headers.get('content-type') || 'application/octet-stream';
      if (name !== undefined) parts.push({ name, ...(fileName !== undefined ? { fileName } : {}), contentType: type, data: part.subarray(headEnd + 4) });
    }
    pos = next + 2;
  }
  return parts;
}

/** A part's header fields, by lower-case name; one given twice is refused (which one counts is not known). */
function partHeaders(head: string): Map<string, string> {
  const headers = new Map<string, string>();
  for (const line of head.split('\r\n')) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (name !== 'content-disposition' && name !== 'content-type') continue;
    if (headers.has(name)) throw new BodyError(`a multipart part has two ${name} headers`);
    headers.set(name, line.slice(colon + 1).trim());
  }
  return headers;
}

/**
 * A part's Content-Disposition, `form-data; name="a"; filename="b"` (RFC 7578 §4.2, whose parameters
 * are RFC 2183's): the parameters by lower-case name, values a token or a quoted string (a backslash
 * quotes the character after it; a quote not followed by ";" or the end is part of it), in any
 * order, so that `name` is never read out of `filename`. `filename*` (RFC 8187,
 * `utf-8''%e2%82%ac.txt`) is decoded. A disposition other than form-data has none (the part is
 * no field); a parameter given twice or a quoted string left open is refused.
 */
function dispositionParams(value: string): Map<string, string> {
  const params = new Map<string, string>();
  const type = /^\s*([^\s;]+)\s*/.exec(value);
  if (!type || type[1].toLowerCase() !== 'form-data') return params;
  let i = type[0].length;
  while (i < value.length) {
    if (value[i] !== ';') throw new BodyError('a multipart part\'s Content-Disposition is not "form-data; name=..."');
    const p = /^;\s*([^\s=;"]+)\s*=\s*/.exec(value.slice(i));
    if (!p) {
      // a trailing ";" (with spaces) ends it
      if (/^;\s*$/.test(value.slice(i))) break;
      throw new BodyError('a multipart part\'s Content-Disposition has a parameter without a value');
    }
    const key = p[1].toLowerCase();
    i += p[0].length;
    let v = '';
    if (value[i] === '"') {
      // A quote ends the value only where the value can end (before a ";" or the end): the Node
      // Kaltura client writes a file name as it is, `filename="My "best" take.mp4"`, as browsers
      // do not; read so, that is the name, where a strict reading had only a broken header
      const closes = (at: number) => /^[ \t]*(;|$)/.test(value.slice(at + 1));
      let j = i + 1;
      for (; j < value.length && !(value[j] === '"' && closes(j)); j++) v += value[j] === '\\' && j + 1 < value.length ? value[++j] : value[j];
      if (j >= value.length) throw new BodyError('a multipart part\'s Content-Disposition leaves a quoted value open');
      i = j + 1;
    } else {
      const t = /^[^\s;]*/.exec(value.slice(i))![0];
      v = t;
      i += t.length;
    }
    while (value[i] === ' ' || value[i] === '\t') i++;
    if (params.has(key)) throw new BodyError(`a multipart part's Content-Disposition gives ${QUOTABLE_NAME.test(key) ? `"${key}"` : 'a parameter'} twice`);
    params.set(key, key.endsWith('*') ? extValue(v) : v);
  }
  return params;
}

/** An RFC 8187 ext-value, `charset'language'percent-encoded`: UTF-8 (or ASCII) text; another charset is refused. */
function extValue(v: string): string {
  const m = /^([^']*)'[^']*'(.*)$/.exec(v);
  if (!m || !/^(utf-8|us-ascii)$/i.test(m[1])) throw new BodyError('a multipart part\'s filename* is not utf-8\'\'{percent-encoded}');
  try {
    return decodeURIComponent(m[2]);
  } catch {
    throw new BodyError('a multipart part\'s filename* has malformed percent-encoding');
  }
}

/** The parameter names a refusal may quote (never a value: a KS may be anywhere in a body). */
const QUOTABLE_NAME = /^[A-Za-z0-9_.:[\]-]{1,64}$/;
const named = (name: string): string => (QUOTABLE_NAME.test(name) ? ` "${name}"` : '');

/**
 * The parameters of a delivery action's POST body (playManifest's), flat names to text, as
 * Kaltura's request utilities read them: a form-encoded body; a JSON object (Content-Type
 * application/json, the text from `{` to `}`); or multipart/form-data, whose `json` field (a JSON
 * object) replaces its plain fields. An empty body has none. Stricter than Kaltura, which silently
 * drops what it cannot read (and then answers as if nothing was sent): anything else is refused
 * with error 25 (BAD_QUERY), HTTP 415 for another content type and 400 for a body that is not what
 * its type says, a JSON value that is not text, a number or a boolean, a name given twice, a file.
 */
export function flatBodyParams(contentType: string | undefined, body: Buffer): Map<string, string> {
  const params = new Map<string, string>();
  if (body.length === 0) return params;
  const mime = (contentType ?? '').split(';')[0].trim().toLowerCase();
  const set = (name: string, value: string) => {
    if (params.has(name)) throw new DeliveryError('BAD_QUERY', `, the body gives the parameter${named(name)} twice`);
    if (value.includes('\0')) throw new DeliveryError('BAD_QUERY', `, NUL byte in the body's parameter${named(name)}`);
    params.set(name, value);
  };
  if (mime === 'application/x-www-form-urlencoded') {
    for (const [k, v] of new URLSearchParams(body.toString('utf8'))) set(k, v);
    return params;
  }
  if (mime === 'application/json') {
    for (const [k, v] of jsonParams(body.toString('utf8'), 'the JSON body')) set(k, v);
    return params;
  }
  if (mime === 'multipart/form-data') {
    let json: Map<string, string> | null = null;
    let parts: BodyPart[];
    try {
      parts = multipartParts(contentType ?? '', body);
    } catch (e) {
      throw e instanceof BodyError ? new DeliveryError('BAD_QUERY', `, ${e.message}`) : e;
    }
    const seen = new Set<string>();
    for (const part of parts) {
      if (part.fileName !== undefined) throw new DeliveryError('BAD_QUERY', `, a playManifest body carries no files (the part${named(part.name)})`);
      if (seen.has(part.name)) throw new DeliveryError('BAD_QUERY', `, the body gives the parameter${named(part.name)} twice`);
      seen.add(part.name);
      if (part.name === 'json') json = jsonParams(part.data.toString('utf8'), 'the multipart "json" field');
      else set(part.name, part.data.toString('utf8'));
    }
    return json && json.size > 0 ? json : params;
  }
  throw new DeliveryError('BAD_QUERY', ', a playManifest body is application/x-www-form-urlencoded, application/json or multipart/form-data', { httpStatus: 415 });
}

/** A JSON object of flat values → name/text pairs (PHP's text of a number or boolean; null is absent). */
function jsonParams(raw: string, what: string): Map<string, string> {
  const text = raw.trim();
  if (!text.startsWith('{') || !text.endsWith('}')) throw new DeliveryError('BAD_QUERY', `, ${what} must be one JSON object {...}`);
  let parsed: Record<string, unknown>;
  try {
    parsed = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new DeliveryError('BAD_QUERY', `, ${what} is not valid JSON`);
  }
  // JSON.parse keeps the last of a repeated name; which one the sender meant is not known
  const names = new Set<string>();
  for (const name of topLevelNames(text)) {
    if (names.has(name)) throw new DeliveryError('BAD_QUERY', `, ${what} gives the parameter${named(name)} twice`);
    names.add(name);
  }
  const out = new Map<string, string>();
  for (const [k, v] of Object.entries(parsed)) {
    if (v === null) continue;
    if (typeof v === 'string') out.set(k, v);
    else if (typeof v === 'number') out.set(k, String(v));
    else if (typeof v === 'boolean') out.set(k, v ? '1' : '');
    else throw new DeliveryError('BAD_QUERY', `, ${what}'s parameter${named(k)} is not text, a number or a boolean`);
  }
  return out;
}

/** The names of a valid JSON object's own members, in order, repeats included (a scan, no recursion). */
function topLevelNames(text: string): string[] {
  const names: string[] = [];
  const token = /"(?:[^"\\]|\\.)*"|[{}[\]]/g;
  const colon = /\s*:/y;
  let depth = 0;
  for (let m = token.exec(text); m !== null; m = token.exec(text)) {
    const t = m[0];
    if (t === '{' || t === '[') depth++;
    else if (t === '}' || t === ']') depth--;
    else if (depth === 1) {
      colon.lastIndex = token.lastIndex;
      if (colon.test(text)) names.push(JSON.parse(t) as string);
    }
  }
  return names;
}
