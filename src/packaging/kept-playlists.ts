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
  for (const [old] of kept) {
    if (bytes <= maxBytes) break;
    drop(old);
  }
}

/** Empties the kept playlists. */
export function clearKeptPlaylists(): void {
  kept.clear();
  bytes = 0;
}

/** Size and use, for /metrics and tests. */
export function keptPlaylistStats(): { bytes: number; maxBytes: number; entries: number; hits: number; misses: number } {
  return { bytes, maxBytes, entries: kept.size, hits, misses };
}
