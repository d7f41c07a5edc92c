// What every route family knows about its HTTP request, without Fastify types: one shape, made by
// one function (routes/http.ts httpFacts) for playManifest, api_v3, the console, the media routes,
// raw/download and thumbnails. Callers that answer on behalf of another request (api_v3's
// playback context, the console's trace) derive theirs from it, so the client's address and
// country travel with them.

export interface HttpFacts {
  method: string;
  /** Path and query exactly as received (kt and KS urirestrict check this). */
  rawUrl: string;
  query: Record<string, unknown>;
  /** Lower-case header names (the referrer and user agent are read from here). */
  headers: Record<string, string | string[] | undefined>;
  isHttps: boolean;
  clientIp: string;
  /**
   * ISO 3166-1 alpha-2 country of `clientIp` from the configured country database, null when
   * unknown; throws NoCountryDatabaseError when none is configured (src/access/geo.ts). Looked up
   * on first use: most requests meet no country condition.
   */
  country: () => string | null;
  /**
   * A POST's body as received (routes take it as bytes: routes/http.ts takeBodiesAsBytes), for the
   * routes that read parameters from it (playManifest: play-request.ts); absent for GET and HEAD.
   */
  body?: { contentType: string | undefined; bytes: Buffer };
  /**
   * The regex work this HTTP request may still spend on access rules (src/access/regex.ts
   * RegexBudget; made by src/access/evaluate.ts newRegexBudget): one object for the whole request,
   * carried by everything derived from these facts, so a multirequest of a hundred playback
   * contexts spends one budget, not a hundred. Declared by shape: request/ does not import access/.
   */
  regexBudget: { left: number };
}

export function headerValue(headers: HttpFacts['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** Header values by lower-case name, a repeated header's values joined with ", ". */
export function flatHeaders(headers: HttpFacts['headers']): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) {
    const s = Array.isArray(v) ? v.join(', ') : v;
    if (s !== undefined) out[k.toLowerCase()] = s;
  }
  return out;
}

/** `country` for HttpFacts: the lookup for this address, made at most once. */
export function countryOnce(clientIp: string, countryOf: (ip: string) => string | null): () => string | null {
  let country: string | null | undefined;
  return () => (country === undefined ? (country = countryOf(clientIp)) : country);
}
