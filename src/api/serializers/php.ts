// format=3: PHP's serialize() notation. Objects become associative arrays (keys in order), as
// the PHP clients read them with unserialize(); lengths count UTF-8 bytes, as PHP does.
const str = (s: string): string => `s:${Buffer.byteLength(s, 'utf8')}:"${s}";`;

export function phpSerialize(v: unknown): string {
  if (v === null || v === undefined) return 'N;';
  if (typeof v === 'boolean') return `b:${v ? 1 : 0};`;
  if (typeof v === 'number') return Number.isInteger(v) ? `i:${v};` : `d:${v};`;
  if (typeof v === 'string') return str(v);
  if (Array.isArray(v)) return `a:${v.length}:{${v.map((item, i) => `i:${i};${phpSerialize(item)}`).join('')}}`;
  if (typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).filter(([, val]) => val !== undefined && val !== null);
    return `a:${entries.length}:{${entries.map(([k, val]) => `${/^(0|[1-9]\d*)$/.test(k) ? `i:${k};` : str(k)}${phpSerialize(val)}`).join('')}}`;
  }
  return str(String(v));
}
