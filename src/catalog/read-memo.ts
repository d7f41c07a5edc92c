// The catalog's read cache, for both backends (src/catalog/catalog.ts, src/catalog/pg/catalog.ts):
// values kept by key until the catalog changes (the caller clears it), at most MAX_ENTRIES, the
// least recently asked going first when full (emptying it all, as it once did, dropped the entries
// asked again and again along with a million-entry catalog's once-asked ones). Counted for /metrics.
// The counts of entry lists ("count:" keys) are kept apart, at most MAX_COUNTS of them: a count
// visits every matching row of a partner (milliseconds on a big catalog) where an entry or its
// flavors are one indexed read, so a sweep of once-read entries (random list pages, random
// playManifest entries) must not push the counts out (bench/README.md, target 5 after i17-list).
// Each is an OrderedMap (src/ordered-map.ts): a plain Map made to forget its oldest key walked
// over every deleted slot first, about 60 µs per read on a million-entry catalog, where nearly
// every read is new (bench/README.md, target 5, session 8).
import { OrderedMap } from '../ordered-map.js';

const MAX_ENTRIES = 50_000;
const MAX_COUNTS = 1_000;
const COUNT_PREFIX = 'count:';

/** What get answers for a key not kept (a kept value may itself be undefined or null). */
export const NOT_KEPT: unique symbol = Symbol('not kept');

export interface ReadMemo {
  /** The kept value, counted as a hit (and made the most recently asked), or NOT_KEPT, counted as a miss. */
  get(key: string): unknown;
  set(key: string, value: unknown): void;
  /** A read that was not looked up (the cache could not be trusted), counted as a miss. */
  missed(): void;
  clear(): void;
  stats(): { entries: number; hits: number; misses: number };
}

export function createReadMemo(maxEntries = MAX_ENTRIES, maxCounts = MAX_COUNTS): ReadMemo {
  const reads = new OrderedMap<unknown>();
  const counts = new OrderedMap<unknown>();
  const of = (key: string) => (key.startsWith(COUNT_PREFIX) ? counts : reads);
  let hits = 0;
  let misses = 0;
  return {
    get(key) {
      const memo = of(key);
      // one lookup for a kept value; a second only to tell a kept undefined from nothing kept
      const hit = memo.get(key);
      if (hit === undefined && !memo.has(key)) {
        misses++;
        return NOT_KEPT;
      }
      hits++;
      // the most recently asked (a new stamp: set moves it to the end)
      memo.set(key, hit);
      return hit;
    },
    set(key, value) {
      const memo = of(key);
      memo.setWithin(key, value, memo === counts ? maxCounts : maxEntries);
    },
    missed() {
      misses++;
    },
    clear() {
      reads.clear();
      counts.clear();
    },
    stats: () => ({ entries: reads.size + counts.size, hits, misses }),
  };
}
