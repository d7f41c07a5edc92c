// Whether a client's Accept-Encoding lets an answer travel gzipped (RFC 9110 §12.5.3): gzip (or its
// alias x-gzip) with a weight above 0, else `*` with a weight above 0, and not when the client
// names identity with a higher weight than gzip's. No header, an empty one, `identity`, `br`,
// `gzip;q=0` and `*;q=0` all mean plain bytes.

/** The weight of each coding the header names (lower-cased); an entry with a malformed weight counts as 0. */
function weights(header: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const entry of header.split(',')) {
    const [name, ...params] = entry.split(';');
    const coding = name.trim().toLowerCase();
    if (coding === '') continue;
    let q = 1;
    for (const p of params) {
      const m = /^\s*q\s*=\s*(.*?)\s*$/i.exec(p);
      if (!m) continue;
      q = /^(0(\.\d{0,3})?|1(\.0{0,3})?)$/.test(m[1]) ? Number(m[1]) : 0;
    }
    // a coding named twice keeps its highest weight
    out.set(coding, Math.max(q, out.get(coding) ?? 0));
  }
  return out;
}

export function acceptsGzip(header: string | string[] | undefined): boolean {
  if (header === undefined) return false;
  const w = weights(Array.isArray(header) ? header.join(',') : header);
  const named = w.has('gzip') || w.has('x-gzip');
  const gzip = named ? Math.max(w.get('gzip') ?? 0, w.get('x-gzip') ?? 0) : (w.get('*') ?? 0);
  if (gzip <= 0) return false;
  return !(w.has('identity') && w.get('identity')! > gzip);
}
