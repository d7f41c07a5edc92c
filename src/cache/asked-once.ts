// Keep from the second asking. A cache that keeps every answer on its first asking fills with
// answers nobody asks again: on a big catalog most requests are for an entry asked once in a
// long while (the long tail), and keeping each of those costs a request the work of storing it
// and pushes out an answer that is asked again (a popular entry's). So the caches that use this
// keep an answer only when its key was asked once before, as nginx's `proxy_cache_min_uses 2`
// does: the first asking costs a fingerprint in this memo, the second keeps the answer, the third
// is a hit. Used by playManifest's answer cache and decision store (src/cache/manifest-cache.ts)
// and by the api_v3 answer cache (src/api/answer-cache.ts).
import { OrderedMap } from '../ordered-map.js';

export interface AskedOnce {
  /**
   * Whether `key` was asked once before (and not since): then it is forgotten here and the caller
   * keeps its answer; else it is remembered (the oldest of `max` goes first) and the caller does not.
   */
  askedBefore(key: string): boolean;
  /**
   * Remembers `key` as asked, so that its next asking keeps: for a key whose kept answer has just
   * gone stale (its second passed, the catalog changed), which has shown it is asked again.
   */
  note(key: string): void;
  readonly size: number;
}

/** At most `max` first askings remembered (0 or less: none, and nothing is ever asked before). */
export function createAskedOnce(max: number): AskedOnce {
  const asked = new OrderedMap<true>();
  return {
    askedBefore(key) {
      // a fingerprint, a few characters whatever the key's size: two keys sharing one keep an
      // answer one asking early or late, and every kept answer is still found by its whole key
      const print = fingerprint(key);
      if (asked.delete(print)) return true;
      asked.setWithin(print, true, max);
      return false;
    },
    note(key) {
      asked.setWithin(fingerprint(key), true, max);
    },
    get size() {
      return asked.size;
    },
  };
}

/** FNV-1a, 32 bits, of the key's UTF-16 code units, as base-36 text. */
function fingerprint(key: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}
