// Kept per-flavor playlists (as nginx-vod-module's response cache keeps its answers): a clear
// media playlist depends only on its timelines (one parsed index each: one version of one file,
// with its segment policy, clip and tracks) and on how its segments are named (container, tracks,
// -f{n}), so once rendered it is kept and sent again instead of rendering every segment line anew
// (a 2-hour file has 724). Bounded by bytes (LRU), counted in /metrics, and each text is kept
// under the catalog generation it was rendered in: a catalog change drops it. Encrypted playlists
// (their key lines) are never kept. Access is still checked on every request before a playlist is
// asked for: this saves the rendering, not the decision.
import { createByteLru, objectIds } from '../media/byte-lru.js';
import type { Timeline } from '../media/segment.js';

const MAX_BYTES = 8 << 20;

const kept = createByteLru<{ generation: number; text: string }>(MAX_BYTES);
const idOf: (tl: Timeline) => number = objectIds();

/** The key of a playlist of these timelines, named by `naming` (container, tracks, -f{n}...). */
export function playlistKey(clips: readonly Timeline[], ...naming: Array<string | number | boolean | null | undefined>): string {
  return `${clips.map(idOf).join(',')}|${naming.join('/')}`;
}

/**
 * The playlist kept under `key` for this catalog generation, else `render()`'s, kept for the next
 * request (unless longer than an eighth of the bound).
 */
export function keptPlaylist(key: string, generation: number, render: () => string): string {
  if (kept.maxBytes > 0) {
    const k = kept.peek(key);
    if (k && k.generation === generation) {
      kept.get(key); // counted, and made the most recent
      return k.text;
    }
    if (k) kept.delete(key);
  }
  kept.missed();
  const text = render();
  kept.set(key, { generation, text }, text.length);
  return text;
}

/** Bounds the kept playlists in bytes (0 turns keeping off and empties it); tests. */
export function setKeptPlaylistBytes(n: number): void {
  kept.setMaxBytes(n);
  if (kept.maxBytes === 0) byUrl.clear();
}

/** Empties the kept playlists (the packaging layer, when the catalog changed). */
export function clearKeptPlaylists(): void {
  kept.clear();
  byUrl.clear();
}

/** Size and use, for /metrics and tests. */
export function keptPlaylistStats(): { bytes: number; maxBytes: number; entries: number; hits: number; misses: number; byUrl: number; byUrlBytes: number } {
  const s = kept.stats();
  const u = byUrl.stats();
  return { ...s, byUrl: u.entries, byUrlBytes: u.bytes };
}

// ---- Kept playlists by URL, answered before routing ----
// A clear playlist of entries without access rules depends on nothing of the request but its URL
// (no signature, no rule reads the caller; media playlists name their segments relatively), so the
// route may also keep it under its raw URL, to be sent before Fastify routes the next request for
// it. Such a text stands for the route's whole decision, which also rests on the file's version:
// the index cache looks at that again at most once a second (src/media/index-cache.ts), so a text
// kept by URL is sent for at most VALID_MS after the route last made or found it, and then the
// route runs again. Any catalog change (an entry, flavor or rule) drops it at once. A URL names a
// playlist of one catalog: a text is sent again only for the catalog it was kept for (another
// server in the same process, as tests start them, has its own media at the same URLs).
const VALID_MS = 1000;
const URL_MAX_BYTES = 4 << 20;
// looked up with peek: a text kept by URL lives for its second, in the order it was kept
const byUrl = createByteLru<{ catalog: object; generation: number; body: Buffer; head: Record<string, string>; until: number }>(URL_MAX_BYTES);

/**
 * Keeps the route's answer for this raw URL of `catalog` at `generation` (see above), as the bytes
 * and headers the route sent (Content-Length among them); the caller has checked that it may.
 */
export function keepForUrl(url: string, catalog: object, generation: number, body: Buffer, head: Record<string, string>, nowMs: number): void {
  if (kept.maxBytes <= 0) return;
  byUrl.set(url, { catalog, generation, body, head, until: nowMs + VALID_MS }, body.length);
}

/** The answer kept for this raw URL, when it is of this catalog and generation and still within its second; counted as a hit. */
export function keptForUrl(url: string, catalog: object, generation: number, nowMs: number): { body: Buffer; head: Record<string, string> } | undefined {
  const k = byUrl.peek(url);
  if (!k || k.catalog !== catalog || k.generation !== generation || nowMs >= k.until || kept.maxBytes <= 0) return undefined;
  kept.hit();
  return k;
}
