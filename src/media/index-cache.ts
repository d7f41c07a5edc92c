// A byte-bounded LRU of parsed media indexes, keyed by the source's store, name and version (a
// local file's size and mtime, a remote object's ETag) so a replaced file is re-read. Concurrent
// requests for the same cold file share one parse. An index grows when a segment first decodes
// its per-sample tables (src/media/mp4/track.ts): it tells the cache, which recounts that entry
// and evicts, so the byte count is what the entries hold now.
import { MediaError } from './errors.js';
import type { MediaIndex } from './mp4/index-types.js';
import { readSourceIndex } from './mp4/reader.js';
import { localFiles, type VersionedSourceStore } from './source.js';

export interface IndexCache {
  get(path: string): Promise<MediaIndex>;
  /** Bytes currently held and entries, for metrics and tests. */
  stats(): { bytes: number; entries: number; hits: number; misses: number };
}

/** How long a file's size and mtime are trusted before they are looked at again. */
const RECHECK_MS = 1000;

export function createIndexCache(opts: { maxBytes: number; maxMoovBytes: number; now?: () => number; store?: VersionedSourceStore }): IndexCache {
  const now = opts.now ?? Date.now;
  const store = opts.store ?? localFiles;
  // each entry with the bytes counted for it
  const entries = new Map<string, { index: MediaIndex; counted: number }>();
  // a segment request should not pay a stat call: the key of a path is reused for RECHECK_MS
  const recent = new Map<string, { key: string; at: number }>();
  const pending = new Map<string, Promise<MediaIndex>>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;

  const evict = (): void => {
    for (const [k, v] of entries) {
      if (bytes <= opts.maxBytes) break;
      entries.delete(k);
      bytes -= v.counted;
      v.index.onResize = null;
    }
  };
  const recount = (key: string, index: MediaIndex): void => {
    const e = entries.get(key);
    if (!e || e.index !== index) return;
    const now = index.bytes;
    bytes += now - e.counted;
    e.counted = now;
    evict();
  };

  return {
    async get(path) {
      const r = recent.get(path);
      if (r && now() - r.at < RECHECK_MS) {
        const hit = entries.get(r.key);
        // an index whose file a body found replaced is not trusted for the rest of the second
        if (hit && !hit.index.replaced) {
          hits++;
          entries.delete(r.key);
          entries.set(r.key, hit);
          return hit.index;
        }
      }
      const st = await store.version(path);
      if (!st) throw new MediaError('NOT_MP4', 'media file is missing');
      const key = `${store.describe}\0${path}\0${st.version}`;
      if (recent.size > 10000) recent.clear();
      recent.set(path, { key, at: now() });
      let hit = entries.get(key);
      if (hit?.index.replaced) {
        entries.delete(key);
        bytes -= hit.counted;
        hit.index.onResize = null;
        hit = undefined;
      }
      if (hit) {
        hits++;
        entries.delete(key); // move to the most-recent end
        entries.set(key, hit);
        return hit.index;
      }
      const inflight = pending.get(key);
      if (inflight) return inflight;
      misses++;
      // the file as it is now: a handle kept open may still be the file the name held before
      const p = store.acquire(path, { recheck: true })
        .then(async (lease) => {
          try {
            const idx = await readSourceIndex(lease.source, { maxMoovBytes: opts.maxMoovBytes });
            // the bytes it was read from, which may already differ from the version in its key:
            // bodies check this one (body.ts leaseFor)
            idx.sourceVersion = lease.source.version;
            return idx;
          } finally {
            await lease.release();
          }
        })
        .then((idx) => {
          const counted = idx.bytes;
          // replaced again between the look and the read: this index is not the key's, and is
          // used by this request alone (its bodies read the bytes it was read from)
          const ofKey = idx.sourceVersion === undefined || idx.sourceVersion === st.version;
          if (ofKey && counted <= opts.maxBytes) {
            entries.set(key, { index: idx, counted });
            bytes += counted;
            idx.onResize = (i) => recount(key, i);
            evict();
          }
          return idx;
        })
        .finally(() => pending.delete(key));
      pending.set(key, p);
      return p;
    },
    stats: () => ({ bytes, entries: entries.size, hits, misses }),
  };
}
