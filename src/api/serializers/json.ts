// format=1: the body is the result itself; null properties are omitted, a null result is `null`.
/**
 * Drops null and undefined object properties, recursively; array slots are kept. A plain object or
 * array with nothing to drop, at any depth, is answered as it is (a list page of 30 entries was
 * copied whole for the few properties that are ever null); any other object (a Date, a class) is
 * copied into a plain object, as JSON has always shown it here (test/api/json-serializer.test.ts
 * holds the two ways to the same text).
 */
export function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) {
    let out: unknown[] | undefined;
    for (let i = 0; i < v.length; i++) {
      const x = v[i];
      const y = withoutNulls(x);
      if (y !== x) (out ??= v.slice())[i] = y;
    }
    return out ?? v;
  }
  if (v === null || typeof v !== 'object' || Buffer.isBuffer(v)) return v;
  const o = v as Record<string, unknown>;
  const proto = Object.getPrototypeOf(o);
  let out: Record<string, unknown> | undefined = proto === Object.prototype || proto === null ? undefined : {};
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i];
    const val = o[k];
    const y = val === null || val === undefined ? undefined : withoutNulls(val);
    // an own __proto__ is not written by a copy (it sets the copy's prototype): copied, as always
    if (out === undefined && (val === null || y !== val || k === '__proto__')) {
      out = {};
      for (let j = 0; j < i; j++) if (o[keys[j]] !== undefined) out[keys[j]] = o[keys[j]];
    }
    if (out !== undefined && y !== undefined) out[k] = y;
  }
  return out ?? o;
}

export function toJson(result: unknown): string {
  return result === undefined || result === null ? 'null' : JSON.stringify(withoutNulls(result));
}
