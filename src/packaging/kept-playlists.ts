// Kept per-flavor playlists (as nginx-vod-module's response cache keeps its answers): a clear
// media playlist depends only on its timelines (one parsed index each: one version of one file,
// with its segment policy, clip and tracks) and on how its segments are named (container, tracks,
// -f{n}), so once rendered it is kept and sent again instead of rendering every segment line anew
// (a 2-hour file has 724). Bounded by bytes (LRU), counted in /metrics, and each text is kept
// under the catalog generation it was rendered in: a catalog change drops it. Encrypted playlists
// (their key lines) are never kept. Access is still checked on every request before a playlist is
// asked for: this saves the rendering, not the decision.
import type { Timeline } from '../media/segment.js';

const MAX_BYTES = 8 << 20;
/** One playlist takes at most this share of the bound. */
const MAX_SHARE = 8;

let maxBytes = MAX_BYTES;
let bytes = 0;
let hits = 0;
let misses = 0;
const kept = new Map<string, { generation: number; text: string }>();
const ids = new WeakMap<Timeline, number>();
let nextId = 1;

const idOf = (tl: Timeline): number => {
  let id = ids.get(tl);
  if (id === undefined) ids.set(tl, (id = nextId++));
  return id;
};

/** The key of a playlist of these timelines, named by `naming` (container, tracks, -f{n}...). */
export function playlistKey(clips: readonly Timeline[], ...naming: Array<string | number | boolean | null | undefined>): string {
  return `${clips.map(idOf).join(',')}|${naming.join('/')}`;
}

function drop(key: string): void {
  const k = kept.get(key);
  if (!k) return;
  kept.delete(key);
  bytes -= k.text.length;
}

/**
 * The playlist kept under `key` for this catalog generation, else `render()`'s, kept for the next
 * request (unless longer than an eighth of the bound).
 */
export function keptPlaylist(key: string, generation: number, render: () => string): string {
  if (maxBytes > 0) {
    const k = kept.get(key);
    if (k && k.generation === generation) {
      hits++;
      kept.delete(key); // to the most recent end
      kept.set(key, k);
      return k.text;
    }
    if (k) drop(key);
  }
  misses++;
  const text = render();
  if (maxBytes > 0 && text.length <= maxBytes / MAX_SHARE) {
    kept.set(key, { generation, text });
    bytes += text.length;
    for (const [old] of kept) {
      if (bytes <= maxBytes) break;
      drop(old);
    }
  }
  return text;
}

/** Bounds the kept playlists in bytes (0 turns keeping off and empties it); tests. */
export function setKeptPlaylistBytes(n: number): void {
  maxBytes = Math.max(0, n);
  if (maxBytes === 0) {
    byUrl.clear();
    urlBytes = 0;
  }
  for (const [old] of kept) {
    if (bytes <= maxBytes) break;
    drop(old);
  }
}

/** Empties the kept playlists. */
export function clearKeptPlaylists(): void {
  kept.clear();
  bytes = 0;
  byUrl.clear();
  urlBytes = 0;
}

/** Size and use, for /metrics and tests. */
export function keptPlaylistStats(): { bytes: number; maxBytes: number; entries: number; hits: number; misses: number; byUrl: number; byUrlBytes: number } {
  return { bytes, maxBytes, entries: kept.size, hits, misses, byUrl: byUrl.size, byUrlBytes: urlBytes };
}

// ---- Kept playlists by URL, answered before routing ----
// A clear playlist of entries without access rules depends on nothing of the request but its URL
// (no signature, no rule reads the caller; media playlists name their segments relatively), so the
// route may also keep it under its raw URL, to be sent before Fastify routes the next request for
// it. Such a text stands for the route's whole decision, which also rests on the file's version:
// the index cache looks at that again at most once a second (src/media/index-cache.ts), so a text
// kept by URL is sent for at most VALID_MS after the route last made or found it, and then the
// route runs again. Any catalog change (an entry, flavor or rule) drops it at once.
const VALID_MS = 1000;
const URL_MAX_BYTES = 4 << 20;
let urlBytes = 0;
const byUrl = new Map<string, { generation: number; body: Buffer; head: Record<string, string>; until: number }>();

/**
 * Keeps the route's answer for this raw URL (see above), as the bytes and headers the route sent
 * (Content-Length among them); the caller has checked that it may.
 */
export function keepForUrl(url: string, generation: number, body: Buffer, head: Record<string, string>, nowMs: number): void {
  if (maxBytes <= 0 || body.length > URL_MAX_BYTES / MAX_SHARE) return;
  const old = byUrl.get(url);
  if (old) {
    byUrl.delete(url);
    urlBytes -= old.body.length;
  }
  byUrl.set(url, { generation, body, head, until: nowMs + VALID_MS });
  urlBytes += body.length;
  for (const [k, v] of byUrl) {
    if (urlBytes <= URL_MAX_BYTES) break;
    byUrl.delete(k);
    urlBytes -= v.body.length;
  }
}

/** The answer kept for this raw URL, when it is of this catalog generation and still within its second; counted as a hit. */
export function keptForUrl(url: string, generation: number, nowMs: number): { body: Buffer; head: Record<string, string> } | undefined {
  const k = byUrl.get(url);
  if (!k || k.generation !== generation || nowMs >= k.until || maxBytes <= 0) return undefined;
  hits++;
  return k;
}
