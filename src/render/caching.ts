// The caching headers of every delivery answer, as Kaltura's infraRequestUtils sends them: an
// answer that may be kept gets Cache-Control max-age, Expires and Last-Modified; one that may not
// gets the "never cache" trio with an Expires in 2000. Manifests (render/index.ts), kept answers
// (cache/manifest-cache.ts) and error answers (render/error.ts) all use this one module.

const OLD_DATE = 'Sun, 19 Nov 2000 08:52:00 GMT';

let lastCaching: { age: number; now: number; headers: Record<string, string> } | null = null;

/** The reference's caching headers (IRU sendCachingHeaders); formatted once per second and age. */
export function cachingHeaders(age: number, now: number): Record<string, string> {
  if (lastCaching?.age === age && lastCaching.now === now) return lastCaching.headers;
  lastCaching = { age, now, headers: formatCaching(age, now) };
  return lastCaching.headers;
}

/** The same headers, formatted each time: error answers (render/error.ts) use it, so their age never displaces the manifests' kept one. */
export function formatCaching(age: number, now: number): Record<string, string> {
  if (age > 0) {
    return {
      'Cache-Control': `private, max-age=${age}, max-stale=0`,
      Expires: new Date((now + age) * 1000).toUTCString(),
      'Last-Modified': new Date(now * 1000).toUTCString(),
    };
  }
  return { Expires: OLD_DATE, 'Cache-Control': 'no-store, no-cache, must-revalidate, post-check=0, pre-check=0', Pragma: 'no-cache' };
}
