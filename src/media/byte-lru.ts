// A small LRU bounded by bytes, with the counters /metrics reads: the segment answer cache
// (src/media/body.ts) and the kept per-flavor playlists (src/packaging/kept-playlists.ts) each keep
// one. It knows nothing of HTTP or the catalog (the media core uses it): its users say what a value
// weighs, and clear it when what their values rest on changed. `epoch` moves on every clear, so
// a value made while the cache was cleared (its maker read the epoch before) is not put back.

export interface ByteLruStats {
  bytes: number;
  maxBytes: number;
  entries: number;
  hits: number;
  misses: number;
}

export interface ByteLru<V> {
  /**
   * The value kept under key, made the most recently used and counted as a hit. An absent key is
   * not counted: what a miss is (a lookup made again later, a value refused) is its user's to say
   * (`missed`).
   */
  get(key: string): V | undefined;
  /** The value kept under key, uncounted and left where it is in the LRU order. */
  peek(key: string): V | undefined;
  /**
   * Keeps value (weighing `size` bytes) under key, evicting the least recently used until the
   * bound holds; a value over `maxShare` of the bound, or made before a clear (`epoch` given and
   * no longer the current one), is not kept. Returns whether it was kept.
   */
  set(key: string, value: V, size: number, epoch?: number): boolean;
  delete(key: string): void;
  /** Empties it (and moves the epoch on). */
  clear(): void;
  /** Bounds it in bytes (0 turns keeping off and empties it). */
  setMaxBytes(n: number): void;
  readonly maxBytes: number;
  /** Moves on with every clear. */
  readonly epoch: number;
  /** Counts a miss that did not go through get (a lookup its user made another way). */
  missed(): void;
  /** Counts a hit that did not go through get. */
  hit(): void;
  stats(): ByteLruStats;
}

/** `maxShare`: one value takes at most this fraction of the bound (1/8: an eighth). */
export function createByteLru<V>(maxBytes: number, maxShare = 1 / 8): ByteLru<V> {
  const kept = new Map<string, { value: V; size: number }>();
  let max = Math.max(0, maxBytes);
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  let epoch = 0;
  const remove = (key: string): void => {
    const k = kept.get(key);
    if (!k) return;
    kept.delete(key);
    bytes -= k.size;
  };
  const evict = (): void => {
    for (const [key] of kept) {
      if (bytes <= max) break;
      remove(key);
    }
  };
  return {
    get(key) {
      const k = kept.get(key);
      if (!k) return undefined;
      hits++;
      kept.delete(key); // to the most recent end
      kept.set(key, k);
      return k.value;
    },
    peek: (key) => kept.get(key)?.value,
    set(key, value, size, at) {
      if (at !== undefined && at !== epoch) return false;
      remove(key);
      if (max <= 0 || size > max * maxShare) return false;
      kept.set(key, { value, size });
      bytes += size;
      evict();
      return true;
    },
    delete: remove,
    clear() {
      kept.clear();
      bytes = 0;
      epoch++;
    },
    setMaxBytes(n) {
      max = Math.max(0, n);
      if (max === 0) this.clear();
      else evict();
    },
    get maxBytes() {
      return max;
    },
    get epoch() {
      return epoch;
    },
    missed() {
      misses++;
    },
    hit() {
      hits++;
    },
    stats: () => ({ bytes, maxBytes: max, entries: kept.size, hits, misses }),
  };
}

/** Small numbers naming objects (a parsed index's timeline), for string keys; the objects are not held. */
export function objectIds(): (o: object) => number {
  const ids = new WeakMap<object, number>();
  let next = 1;
  return (o) => {
    let id = ids.get(o);
    if (id === undefined) ids.set(o, (id = next++));
    return id;
  };
}
