// The thumbnail disk cache's bound (KDELIVER_THUMBNAIL_CACHE_MB): the size of every kept picture
// is known in memory, least recently used first, and past the bound the least recently used files
// are removed. What a process did not write itself (files of an earlier run) it learns from one
// scan of the cache folder in the background after start, oldest modification first; a hit
// refreshes a file's modification time (at most every few minutes), so the order survives a
// restart. A changed entry's pictures are made under new keys (its version and update time are in
// them, src/thumbnail/service.ts), so the old ones are never asked again and go first.
//
// Removing a file never breaks a reader: one that opened it reads it whole (the name goes, the
// bytes stay until closed), one that comes later does not find it and renders it again. Only
// files this module knows go, and it only knows names under the cache folder, three levels down,
// ending in .jpg: nothing outside the folder is ever removed.
import { readdir, rm, rmdir, stat, utimes } from 'node:fs/promises';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { thumbnailCacheRoot } from '../storage/paths.js';

export interface ThumbnailCacheStats {
  /** Bytes of the pictures kept (their files' sizes). */
  bytes: number;
  /** Pictures kept (files). */
  entries: number;
  hits: number;
  misses: number;
  /** Files removed to keep the bound, since start. */
  evictions: number;
}

export interface ThumbnailDiskCache {
  /** The cache folder (absolute). */
  readonly root: string;
  /** Resolves once the start-up scan is done and the bound holds over what it found. */
  readonly ready: Promise<void>;
  /** The picture was read from `file` (size bytes): it becomes the most recently used. */
  hit(file: string, size: number): void;
  /** `file` could not be read (not made yet, or removed): it is rendered again. */
  miss(file: string): void;
  /** `file` was put in place (size bytes); resolves once the files past the bound are removed. */
  kept(file: string, size: number): Promise<void>;
  stats(): ThumbnailCacheStats;
}

/** A hit refreshes a file's modification time at most this often (the order a restart reads). */
const TOUCH_EVERY_MS = 10 * 60 * 1000;
/** A temporary file this old was left by a process that stopped while writing it. */
const STALE_TMP_MS = 60 * 60 * 1000;

interface Kept {
  size: number;
  /** When the file's modification time was last set (ms): by its writing, the scan, or a hit. */
  touched: number;
}

/** The relative path of a picture under the cache folder ({partnerId}/{entryId}/{key}.jpg), or null. */
function pictureName(root: string, file: string): string | null {
  const rel = relative(root, file);
  const parts = rel.split(sep);
  if (parts.length !== 3 || parts.some((p) => p === '' || p === '.' || p === '..') || !rel.endsWith('.jpg')) return null;
  return rel;
}

function createCache(root: string, maxBytes: number): ThumbnailDiskCache & { maxBytes: number } {
  // least recently used first (a Map keeps insertion order; a use moves a file to the end)
  let files = new Map<string, Kept>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  let evictions = 0;
  let scanned = false;

  const forget = (file: string): void => {
    const k = files.get(file);
    if (!k) return;
    files.delete(file);
    bytes -= k.size;
  };

  async function remove(file: string): Promise<void> {
    if (pictureName(root, file) === null) return; // never anything outside the cache folder
    await rm(file, { force: true }).catch(() => {});
    // the entry's folder when it is now empty (a writer about to put a file in it makes it again)
    await rmdir(dirname(file)).catch(() => {});
  }

  async function evict(): Promise<void> {
    // before the scan is done the oldest files are not known yet: the scan's end evicts
    if (!scanned) return;
    const victims: string[] = [];
    for (const [file, k] of files) {
      if (bytes <= cache.maxBytes) break;
      files.delete(file);
      bytes -= k.size;
      victims.push(file);
    }
    evictions += victims.length;
    await Promise.all(victims.map(remove));
  }

  /** Every picture of the folder, oldest modification first; stale temporary files removed. */
  async function scan(): Promise<Array<[string, Kept]>> {
    const found: Array<[string, Kept]> = [];
    const dirs = async (dir: string): Promise<string[]> => {
      try {
        return (await readdir(dir, { withFileTypes: true })).filter((d) => d.isDirectory()).map((d) => join(dir, d.name));
      } catch {
        return [];
      }
    };
    for (const partner of await dirs(root)) {
      for (const entry of await dirs(partner)) {
        let names: string[];
        try {
          names = (await readdir(entry, { withFileTypes: true })).filter((d) => d.isFile()).map((d) => d.name);
        } catch {
          continue;
        }
        for (const name of names) {
          const file = join(entry, name);
          const s = await stat(file).catch(() => null);
          if (!s) continue;
          if (name.endsWith('.tmp')) {
            if (Date.now() - s.mtimeMs > STALE_TMP_MS) await rm(file, { force: true }).catch(() => {});
          } else if (pictureName(root, file) !== null) {
            found.push([file, { size: s.size, touched: s.mtimeMs }]);
          }
        }
      }
    }
    return found.sort((a, b) => a[1].touched - b[1].touched);
  }

  const cache = {
    root,
    maxBytes,
    ready: Promise.resolve(),
    hit(file: string, size: number) {
      hits++;
      const k = files.get(file);
      if (!k) {
        // written by another process, or removed from the list just now: known from here on
        // (before the scan's end, the scan will find it)
        if (scanned && pictureName(root, file) !== null) {
          files.set(file, { size, touched: Date.now() });
          bytes += size;
        }
        return;
      }
      files.delete(file);
      files.set(file, k);
      const now = Date.now();
      if (now - k.touched > TOUCH_EVERY_MS) {
        k.touched = now;
        utimes(file, now / 1000, now / 1000).catch(() => {});
      }
    },
    miss(file: string) {
      misses++;
      forget(file);
    },
    kept(file: string, size: number) {
      if (pictureName(root, file) === null) return Promise.resolve();
      forget(file);
      files.set(file, { size, touched: Date.now() });
      bytes += size;
      return evict();
    },
    stats: () => ({ bytes, entries: files.size, hits, misses, evictions }),
  };
  cache.ready = scan().then(async (found) => {
    // what was written or read since start is more recent than anything found
    const since = files;
    files = new Map();
    bytes = 0;
    for (const [file, k] of [...found.filter(([f]) => !since.has(f)), ...since]) {
      files.set(file, k);
      bytes += k.size;
    }
    scanned = true;
    await evict();
  }).catch(() => {
    scanned = true;
  });
  return cache;
}

const caches = new Map<string, { cache: ReturnType<typeof createCache>; holders: number }>();

/**
 * The thumbnail cache of a data directory, bounded to maxBytes: one per directory and process,
 * made (and its folder scanned) on first use.
 */
export function thumbnailCache(dataDir: string, maxBytes: number): ThumbnailDiskCache {
  const root = resolve(thumbnailCacheRoot(dataDir));
  let c = caches.get(root);
  if (!c) caches.set(root, (c = { cache: createCache(root, maxBytes), holders: 0 }));
  c.cache.maxBytes = maxBytes;
  return c.cache;
}

/** The statistics of a data directory's thumbnail cache, or null before it is made (/metrics). */
export function thumbnailCacheStats(dataDir: string): ThumbnailCacheStats | null {
  return caches.get(resolve(thumbnailCacheRoot(dataDir)))?.cache.stats() ?? null;
}

/**
 * A server's hold on its data directory's thumbnail cache: made (and scanned) at once; when the
 * last holder lets go, it is forgotten, and a server started again scans the folder again.
 */
export function holdThumbnailCache(dataDir: string, maxBytes: number): { cache: ThumbnailDiskCache; release(): void } {
  const cache = thumbnailCache(dataDir, maxBytes);
  const c = caches.get(cache.root)!;
  c.holders++;
  let released = false;
  return {
    cache,
    release() {
      if (released) return;
      released = true;
      if (--c.holders === 0 && caches.get(cache.root) === c) caches.delete(cache.root);
    },
  };
}
