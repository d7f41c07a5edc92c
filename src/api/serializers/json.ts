// format=1: the body is the result itself; null properties are omitted, a null result is `null`.
/** Drops null and undefined object properties, recursively; array slots are kept. */
export function withoutNulls(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(withoutNulls);
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) if (val !== null && val !== undefined) out[k] = withoutNulls(val);
    return out;
  }
  return v;
}

export function toJson(result: unknown): string {
  return result === undefined || result === null ? 'null' : JSON.stringify(withoutNulls(result));
}
