// Action arguments: the raw request parameters checked against an action's declared parameters
// and converted to typed values, with Kaltura's errors for what is missing or malformed.
// Unknown parameters are ignored, as Kaltura does; unknown properties of a filter or a pager are
// refused (src/api/filters.ts says why).
import { ApiError } from './errors.js';
import { propertiesOf } from './filters.js';
import { NULL_SUFFIX, type Params } from './params.js';
import type { ActionSpec, ParamSpec, UploadedFile } from './types.js';

const isPlainObject = (v: unknown): v is Params => typeof v === 'object' && v !== null && !Array.isArray(v);
const IDENT = /^[A-Za-z_][A-Za-z0-9_]*$/;

function asBool(name: string, v: unknown, spec: ParamSpec): boolean {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  const s = String(v).trim().toLowerCase();
  if (s === '1' || s === 'true') return true;
  if (s === '0' || s === 'false' || s === '') return false;
  throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: String(v), PARAM_NAME: name, ENUM_TYPE: spec.kalturaType ?? 'bool' });
}

function asNumber(name: string, v: unknown, spec: ParamSpec, integer: boolean): number {
  // Enums accept true/false as 1/0, as Kaltura's deserializer does
  if (v === true || v === 'true') v = 1;
  if (v === false || v === 'false') v = 0;
  const s = typeof v === 'number' ? String(v) : String(v).trim();
  const n = Number(s);
  const ok = s !== '' && Number.isFinite(n) && (!integer || Number.isSafeInteger(n));
  if (!ok || (spec.enumValues && !spec.enumValues.map(Number).includes(n))) {
    throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: String(v).slice(0, 64), PARAM_NAME: name, ENUM_TYPE: spec.kalturaType ?? (integer ? 'int' : 'float') });
  }
  return n;
}

function asString(name: string, v: unknown, spec: ParamSpec): string {
  if (isPlainObject(v) || Array.isArray(v)) throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: name });
  const s = typeof v === 'string' ? v : String(v);
  if (spec.enumValues && !spec.enumValues.map(String).includes(s)) {
    throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: s, PARAM_NAME: name, ENUM_TYPE: spec.kalturaType ?? 'string' });
  }
  if (spec.maxLength !== undefined && s.length > spec.maxLength) {
    throw new ApiError('PROPERTY_VALIDATION_MAX_LENGTH', { PROP_NAME: name, MAX_LEN: spec.maxLength });
  }
  if (spec.minLength !== undefined && s.length < spec.minLength) {
    throw new ApiError('PROPERTY_VALIDATION_MIN_LENGTH', { PROP_NAME: name, MIN_LEN: spec.minLength });
  }
  return s;
}

/** Objects arrive as nested params; `objectType` is optional and must at least look like a class name. */
function asObject(name: string, v: unknown): Params {
  if (typeof v === 'string' && v === '') return {};
  if (!isPlainObject(v)) throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: typeof v === 'string' ? v : name });
  const ot = v.objectType;
  if (ot !== undefined && (typeof ot !== 'string' || !IDENT.test(ot))) {
    throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: String(ot) });
  }
  // name__null sets a property to null; it is dropped here so filters see "not set"
  const out: Params = {};
  for (const [k, val] of Object.entries(v)) {
    if (k.endsWith(NULL_SUFFIX)) { const base = k.slice(0, -NULL_SUFFIX.length); if (!(base in v)) out[base] = null; continue; }
    out[k] = val;
  }
  return out;
}

/** The properties of an object the action reads one by one: anything else is refused rather than skipped. */
function checkProperties(name: string, o: Params, spec: ParamSpec): void {
  const known = spec.properties!;
  for (const k of Object.keys(o)) {
    if (k !== 'objectType' && !known.includes(k)) throw new ApiError('PROPERTY_IS_NOT_DEFINED', { PROP: k.slice(0, 64), TYPE: spec.kalturaType ?? name });
  }
}

/** Arrays arrive as objects keyed by index (sorted by key; a "-" key marks an empty array) or as JSON arrays. */
function asArray(name: string, v: unknown): unknown[] {
  if (Array.isArray(v)) return v;
  if (v === '' || v === undefined) return [];
  if (!isPlainObject(v)) throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: name });
  if ('-' in v) return [];
  return Object.keys(v).filter((k) => /^\d+$/.test(k)).sort((a, b) => Number(a) - Number(b)).map((k) => v[k]);
}

/**
 * A name that starts like an object parameter but did not parse as one (`filter.entryIdEqual`, an
 * unclosed `filter[entryIdEqual`) stays a top-level name of its own, which no action reads: left
 * alone it would drop the property it meant to set, and a filter would answer with more than was
 * asked for. Refused as the property it was meant to be.
 */
function refuseMalformedObjectNames(spec: ActionSpec, params: Params): void {
  const objects = Object.entries(spec.params).filter(([, p]) => p.type === 'object');
  if (objects.length === 0) return;
  for (const key of Object.keys(params)) {
    for (const [name, p] of objects) {
      if (key.length > name.length && key.startsWith(name) && (key[name.length] === '[' || key[name.length] === '.')) {
        throw new ApiError('PROPERTY_IS_NOT_DEFINED', { PROP: key.slice(0, 64), TYPE: p.kalturaType ?? name });
      }
    }
  }
}

/** Checks and converts the parameters of one call. */
export function readArgs(spec: ActionSpec, params: Params, files: UploadedFile[]): Record<string, unknown> {
  const args: Record<string, unknown> = {};
  refuseMalformedObjectNames(spec, params);
  for (const [name, p] of Object.entries(spec.params)) {
    let v = params[name];
    const explicitNull = v === undefined && params[name + NULL_SUFFIX] !== undefined;
    if (p.type === 'file') {
      const f = files.find((file) => file.field === name);
      if (!f && p.required) throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAM_NAME: name });
      args[name] = f ?? null;
      continue;
    }
    if (explicitNull) {
      if (p.required) throw new ApiError('PROPERTY_VALIDATION_CANNOT_BE_NULL', { PROP_NAME: name });
      args[name] = null;
      continue;
    }
    if (v === undefined || v === null) {
      if (p.required) throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAM_NAME: name });
      args[name] = p.default ?? null;
      continue;
    }
    switch (p.type) {
      case 'string': v = asString(name, v, p); break;
      case 'int': v = asNumber(name, v, p, true); break;
      case 'float': v = asNumber(name, v, p, false); break;
      case 'bool': v = asBool(name, v, p); break;
      case 'object':
        v = asObject(name, v);
        if (p.properties) checkProperties(name, v as Params, p);
        break;
      case 'array': v = asArray(name, v); break;
    }
    args[name] = v;
  }
  return args;
}

/** An entry, asset or upload-token id argument. */
export const ID_ARG = { type: 'string', required: true, maxLength: 64 } as const;

/** The arguments of a list action: a filter of the given class and a KalturaFilterPager, each closed to the properties src/api/filters.ts lists. */
export const listArgs = (filterType: string) => ({
  filter: { type: 'object', kalturaType: filterType, properties: propertiesOf(filterType) },
  pager: { type: 'object', kalturaType: 'KalturaFilterPager', properties: propertiesOf('KalturaFilterPager') },
}) as const;

/** Reads an optional field of an input object (a filter, a pager) as a string. */
export function objString(o: Params | null | undefined, key: string): string | undefined {
  const v = o?.[key];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'object') throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: key });
  return String(v);
}

/** Reads an optional integer field of an input object; a bad value is INVALID_ENUM_VALUE as Kaltura's typed properties are. */
export function objInt(o: Params | null | undefined, key: string, enumType = 'int'): number | undefined {
  const s = objString(o, key);
  if (s === undefined || s.trim() === '') return undefined;
  const n = Number(s === 'true' ? 1 : s === 'false' ? 0 : s);
  // past 2^53 a number no longer reads back as the integer sent (1e300 would be stored and answered as 1e+300)
  if (!Number.isSafeInteger(n)) throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: s.slice(0, 64), PARAM_NAME: key, ENUM_TYPE: enumType });
  return n;
}

/** A comma list field ("1,2,3") as trimmed non-empty strings. */
export function objList(o: Params | null | undefined, key: string): string[] | undefined {
  const s = objString(o, key);
  return s === undefined ? undefined : s.split(',').map((x) => x.trim()).filter(Boolean);
}

/** Kaltura's KalturaFilterPager: pageSize default 30, at most 500; pageIndex from 1. */
export function readPager(pager: Params | null | undefined): { pageSize: number; pageIndex: number } {
  const size = objInt(pager, 'pageSize');
  const index = objInt(pager, 'pageIndex');
  return {
    pageSize: size === undefined || size <= 0 ? 30 : Math.min(500, size),
    pageIndex: index === undefined || index < 1 ? 1 : index,
  };
}

/** The page of `all` a KalturaFilterPager names. */
export function pageOf<T>(all: readonly T[], pager: Params | null | undefined): T[] {
  const { pageSize, pageIndex } = readPager(pager);
  return all.slice((pageIndex - 1) * pageSize, pageIndex * pageSize);
}
