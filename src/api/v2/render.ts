// API v2's answers: the `result` / `error` / `debug` envelope in its three formats, with the
// rules of Kaltura's API v2 (format 2 XML is the default; 1 JSON; 3 PHP serialize; any other
// value, numeric or not, JSON). XML keeps every plain map value (null and false as empty elements)
// but leaves out the empty fields of objects (an entry, a widget), integer 0 excepted; JSON and PHP
// drop every empty value at every level, so a success carries no `error` key.
import { phpSerialize } from '../serializers/php.js';
import { xmlSafe } from '../serializers/xml.js';

/** An object of the reference's object wrappers (entry, widget, uiConf): its empty fields are left out of XML. */
export class V2Object {
  constructor(readonly fields: Record<string, unknown>) {}
}

export interface V2Error {
  code: string;
  desc: string;
}

export interface V2Envelope {
  result: Record<string, unknown>;
  error: V2Error[];
  debug: Record<string, unknown>;
}

export type V2Format = 'xml' | 'json' | 'php';

/** `format`: 2 or absent XML, 1 JSON, 3 PHP; anything else JSON, as the reference does. */
export function v2Format(v: unknown): V2Format {
  if (v === undefined || v === null || v === '') return 'xml';
  const s = String(v).trim();
  if (s === '2' || s === '8') return 'xml';
  if (s === '3') return 'php';
  return 'json';
}

const XML_ESCAPES: Record<string, string> = { '&': '&amp;', '"': '&quot;', '<': '&lt;', '>': '&gt;', "'": '&#039;' };
const xmlText = (s: string): string => s.replace(/[&"<>']/g, (c) => XML_ESCAPES[c]);

const scalar = (v: unknown): string => (v === null || v === undefined || v === false ? '' : v === true ? '1' : String(v));

/** An element name: map keys as they are (they are this server's own), `__x_name` as `name`, list items as num_N. */
const elementName = (k: string): string => (k.startsWith('__x_') ? k.slice(4) : k);

function xmlValue(v: unknown): string {
  if (v instanceof V2Object) {
    let out = '';
    for (const [k, x] of Object.entries(v.fields)) {
      // an object's empty fields are left out, except integer 0
      if (x === undefined || x === null || x === '' || x === false || (Array.isArray(x) && x.length === 0)) continue;
      out += xmlElement(k, x);
    }
    return out;
  }
  if (Array.isArray(v)) return v.map((x, i) => xmlElement(`num_${i}`, x)).join('');
  if (v && typeof v === 'object') return Object.entries(v as Record<string, unknown>).map(([k, x]) => xmlElement(k, x)).join('');
  return xmlText(xmlSafe(scalar(v)));
}

function xmlElement(name: string, v: unknown): string {
  const n = elementName(name);
  return `<${n}>${xmlValue(v)}</${n}>`;
}

/** What PHP's toArrayImpl keeps: no empty value at any level (0, "0", "", null, false, an empty array or map). */
function pruned(v: unknown): unknown {
  if (v instanceof V2Object) return pruned(v.fields);
  if (Array.isArray(v)) {
    const items = v.map(pruned).filter((x) => x !== undefined);
    return items.length ? items : undefined;
  }
  if (v && typeof v === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v as Record<string, unknown>)) {
      const p = pruned(x);
      if (p !== undefined) out[elementName(k)] = p;
    }
    return Object.keys(out).length ? out : undefined;
  }
  if (v === null || v === undefined || v === '' || v === false || v === 0 || v === '0') return undefined;
  return v;
}

/** json_encode's defaults: `/` and every non-ASCII character escaped. */
function phpJson(v: unknown): string {
  return JSON.stringify(v ?? {}).replace(/[\u0080-\uffff/]/g, (c) => (c === '/' ? '\\/' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
}

export interface V2Answer {
  contentType: string;
  body: string;
}

export function renderEnvelope(env: V2Envelope, format: V2Format): V2Answer {
  if (format === 'xml') {
    const body = `<?xml version="1.0" encoding="ISO-8859-1"?><xml>${xmlElement('result', env.result)}${xmlElement('error', env.error)}${xmlElement('debug', env.debug)}</xml>`;
    return { contentType: 'text/xml; charset=utf-8', body };
  }
  const kept = (pruned({ result: env.result, error: env.error, debug: env.debug }) ?? {}) as Record<string, unknown>;
  if (format === 'php') return { contentType: 'text/html; charset=utf-8', body: phpSerialize(kept) };
  // the reference sends its JSON as text/html
  return { contentType: 'text/html; charset=utf-8', body: phpJson(kept) };
}
