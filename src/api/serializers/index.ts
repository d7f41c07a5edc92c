// One serializer per response format (KalturaResponseType): 1 JSON, 2 XML (also when absent),
// 3 PHP, 9 JSONP. Errors are values here (ApiError) and become KalturaAPIException objects.
import { ApiError, isApiError, toExceptionObject } from '../errors.js';
import { toJson } from './json.js';
import { phpSerialize } from './php.js';
import { toXml } from './xml.js';

export const FORMATS = { JSON: 1, XML: 2, PHP: 3, JSONP: 9 } as const;
const JSONP_CALLBACK = /^[0-9_a-zA-Z.]+$/;

export interface Serialized {
  contentType: string;
  body: string;
}

/** The wire value of a result: errors become exception objects, at any depth of a multirequest array. */
function wireValue(result: unknown, multi: boolean): unknown {
  if (isApiError(result)) return toExceptionObject(result);
  if (multi && Array.isArray(result)) return result.map((r) => (isApiError(r) ? toExceptionObject(r) : r));
  return result;
}

/** Reads the `format` parameter; anything but 1, 3 and 9 is XML (Kaltura's default). */
export function readFormat(v: unknown): number {
  const n = Number(v);
  return n === 1 || n === 3 || n === 9 ? n : 2;
}

export function serialize(result: unknown, opts: { format: number; multi: boolean; callback?: string | null; executionTime: number; ignoreNull?: boolean }): Serialized {
  switch (opts.format) {
    case FORMATS.JSON:
      return { contentType: 'application/json', body: toJson(wireValue(result, opts.multi)) };
    case FORMATS.PHP:
      return { contentType: 'text/plain; charset=utf-8', body: phpSerialize(wireValue(result, opts.multi)) };
    case FORMATS.JSONP: {
      const cb = opts.callback ?? '';
      if (!JSONP_CALLBACK.test(cb)) {
        // without a usable callback the answer is a plain JSON error, never script built from
        // input, and it names the field, never the value: a rejected callback is not echoed back
        const err = cb === '' ? new ApiError('MANDATORY_PARAMETER_MISSING', { PARAM_NAME: 'callback' }) : new ApiError('INVALID_FIELD_VALUE', { FIELD_NAME: 'callback' });
        return { contentType: 'application/json', body: toJson(toExceptionObject(err)) };
      }
      return { contentType: 'application/javascript', body: `${cb}(${toJson(wireValue(result, opts.multi))});` };
    }
    default:
      return { contentType: 'text/xml; charset=utf-8', body: toXml(result, { multi: opts.multi, executionTime: opts.executionTime, ignoreNull: !!opts.ignoreNull }) };
  }
}
