// The packager's answers as the kept-answer tests compare them: fetched whole, made with both
// packager caches off (the segment answer cache and the kept playlists), and compared byte for
// byte with the headers a client reads.
import type { Test } from 'tap';
import { segmentCacheStats, setSegmentCacheBytes } from '../../src/media/body.js';
import { keptPlaylistStats, setKeptPlaylistBytes } from '../../src/packaging/kept-playlists.js';

export interface Res { status: number; headers: Record<string, string>; body: Buffer }

export async function fetchAnswer(url: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> {
  const r = await fetch(url, { method, headers });
  return { status: r.status, headers: Object.fromEntries(r.headers), body: Buffer.from(await r.arrayBuffer()) };
}

/** `ask()`'s answer with both packager caches off (which empties them), their bounds restored after. */
export async function withPackagerCachesOff<T>(ask: () => Promise<T>): Promise<T> {
  const playlists = keptPlaylistStats().maxBytes;
  const segments = segmentCacheStats().maxBytes;
  setKeptPlaylistBytes(0);
  setSegmentCacheBytes(0);
  try {
    return await ask();
  } finally {
    setKeptPlaylistBytes(playlists);
    setSegmentCacheBytes(segments);
  }
}

const COMPARED = ['content-type', 'content-length', 'content-range', 'cache-control', 'access-control-allow-origin'];

/** The same status, bytes and client-visible headers. */
export function sameAnswer(t: Test, a: Res, b: Res, why: string): void {
  t.equal(a.status, b.status, `${why}: status`);
  t.ok(a.body.equals(b.body), `${why}: the same ${b.body.length} bytes`);
  for (const h of COMPARED) t.equal(a.headers[h], b.headers[h], `${why}: ${h}`);
}
