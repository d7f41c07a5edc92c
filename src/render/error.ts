// One rendering of a delivery error, for every delivery route: the reference's X-Kaltura and
// X-Kaltura-App headers with its numeric code, the product's HTTP status, and one plain line
// saying what went wrong, for people. CORS is added (unlike the reference) so a browser player
// can read why it was refused.
import { DeliveryError } from '../errors.js';
import { formatCaching } from './caching.js';
import type { Rendered } from './types.js';

const UNCACHED_CODES = new Set([3, 16, 53]);

/**
 * A text as an HTTP header value. Rule messages (X-Kaltura: access-control: ...) are a partner's
 * free text: control characters (CR and LF too) become spaces, and characters past ASCII are
 * percent-encoded as UTF-8 (`café` → `caf%C3%A9`; the body line keeps the text as written). Node
 * refuses a header string holding either, and the request then got no answer at all; and raw
 * bytes past ASCII would not reach the client as UTF-8 reliably (Node writes a header in the
 * encoding of the body chunk it goes out with).
 */
export function headerText(s: string): string {
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ')
    .replace(/[^\u0020-\u007e]+/g, (m) => [...Buffer.from(m, 'utf8')].map((b) => `%${b.toString(16).toUpperCase().padStart(2, '0')}`).join(''));
}

export function renderError(err: DeliveryError, method: string, now: number): Rendered {
  const what = `${err.description}${err.extra}`.replace(/[\r\n]+/g, ' ');
  const headers: Record<string, string | string[]> = {
    'Content-Type': 'text/plain; charset=UTF-8',
    'X-Kaltura': [...err.headers, `error-${err.code}`].map(headerText),
    'X-Kaltura-App': headerText(`exiting on error ${err.code} - ${what}`),
    'Access-Control-Allow-Origin': '*',
    'Access-Control-Expose-Headers': 'X-Kaltura,X-Kaltura-App',
  };
  // the access-control evaluation the refusal came after (src/access/evaluate.ts acpHeader)
  if (err.acp !== null) headers['X-Kaltura-ACP'] = err.acp;
  // a failing media origin is not the entry's answer: nothing in front may keep it
  if (method === 'GET' && !UNCACHED_CODES.has(err.code) && err.httpStatus < 500) {
    Object.assign(headers, formatCaching(60, now));
  } else {
    headers['Cache-Control'] = 'no-store';
  }
  return { status: err.httpStatus, headers, body: `error ${err.code} ${err.errorName}: ${what}\n` };
}
