// Remote media is read in aligned blocks (BLOCK_BYTES), kept in one byte-bounded LRU shared by
// every object of the store. A player asks for segment after segment of the same file and the
// packager reads a segment's samples in many small spans: both land on blocks already here. Blocks
// are keyed by object identity AND version (ETag, or size+mtime), so a replaced object never
// serves an old block. Concurrent readers of a block that is being fetched share that one fetch;
// a failed fetch is not kept, so the next reader tries the origin again.

export const BLOCK_BYTES = 1024 * 1024;

/** A span asked with readSpan at least this long is read through the blocks. */
const SPAN_THROUGH_BLOCKS = BLOCK_BYTES / 8;

export interface BlockCacheStats {
  bytes: number;
  blocks: number;
  hits: number;
  misses: number;
  /** Reads that joined a fetch already under way. */
  joined: number;
}

export interface BlockCache {
  /** The block `index` of `object` at `version`, from the cache or from `fetch` (called once per missing block). */
  get(object: string, version: string, index: number, fetch: () => Promise<Buffer>): Promise<Buffer>;
  /** Starts `fetch` for that block when it is neither kept nor being fetched (a miss); counts no hit or join, and leaves a failure to the read that comes for it. */
  fetchAhead(object: string, version: string, index: number, fetch: () => Promise<Buffer>): void;
  stats(): BlockCacheStats;
}

export function createBlockCache(maxBytes: number): BlockCache {
  const blocks = new Map<string, Buffer>();
  const inflight = new Map<string, Promise<Buffer>>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  let joined = 0;

  /** Fetches a missing block once, keeps it (within the bound) and lets readers join it meanwhile. */
  const start = (key: string, fetch: () => Promise<Buffer>): Promise<Buffer> => {
    misses++;
    const p = fetch().then((buf) => {
      if (buf.length <= maxBytes) {
        blocks.set(key, buf);
        bytes += buf.length;
        for (const [k, v] of blocks) {
          if (bytes <= maxBytes) break;
          blocks.delete(k);
          bytes -= v.length;
        }
      }
      return buf;
    }).finally(() => inflight.delete(key));
    inflight.set(key, p);
    return p;
  };

  return {
    get(object, version, index, fetch) {
      const key = `${object}\0${version}\0${index}`;
      const have = blocks.get(key);
      if (have) {
        hits++;
        blocks.delete(key); // most recent at the end
        blocks.set(key, have);
        return Promise.resolve(have);
      }
      const running = inflight.get(key);
      if (running) {
        joined++;
        return running;
      }
      return start(key, fetch);
    },
    fetchAhead(object, version, index, fetch) {
      const key = `${object}\0${version}\0${index}`;
      if (!blocks.has(key) && !inflight.has(key)) start(key, fetch).catch(() => undefined);
    },
    stats: () => ({ bytes, blocks: blocks.size, hits, misses, joined }),
  };
}

/** A remote object read through the block cache: a ByteSource that can also fetch blocks ahead of its reader. */
export type BlockSource = ReturnType<typeof blockSource>;

/**
 * A remote object at one version read as a ByteSource (src/media/source.ts): every span is cut
 * into aligned blocks served by the cache; `fetchRange` reads the origin (offset, length) and
 * must answer exactly those bytes of that version.
 */
export function blockSource(cache: BlockCache, object: string, version: string, size: number, fetchRange: (offset: number, length: number) => Promise<Buffer>) {
  const fetchBlock = (i: number) => () => fetchRange(i * BLOCK_BYTES, Math.min(BLOCK_BYTES, size - i * BLOCK_BYTES));
  const block = (i: number) => cache.get(object, version, i, fetchBlock(i));
  const source = {
    size,
    version,
    async read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> {
      const end = Math.min(size, offset + length);
      const n = Math.max(0, end - offset);
      const buf = into ?? Buffer.allocUnsafe(length);
      if (n === 0) return buf.subarray(0, 0);
      const first = Math.floor(offset / BLOCK_BYTES);
      const last = Math.floor((end - 1) / BLOCK_BYTES);
      const parts = await Promise.all(Array.from({ length: last - first + 1 }, (_, k) => block(first + k)));
      let at = 0;
      for (let k = 0; k < parts.length; k++) {
        const blockStart = (first + k) * BLOCK_BYTES;
        const from = Math.max(offset, blockStart) - blockStart;
        const to = Math.min(end, blockStart + parts[k].length) - blockStart;
        buf.set(parts[k].subarray(from, to), at);
        at += to - from;
      }
      return at === buf.length ? buf : buf.subarray(0, at);
    },
    // a short span just from the origin, not kept (a fragmented MP4's moof, read once for the
    // index the index cache keeps, between blocks of media); a long one through the blocks (a
    // low-rate file's moofs lie a few kB apart, and its segments read the same blocks next)
    async readSpan(offset: number, length: number): Promise<Uint8Array> {
      if (length >= SPAN_THROUGH_BLOCKS) return source.read(offset, length);
      const n = Math.max(0, Math.min(size, offset + length) - offset);
      return n === 0 ? new Uint8Array(0) : fetchRange(offset, n);
    },
    /** Starts fetching the blocks of [offset, offset + length) not yet kept, for a read to come; a failure is left to that read. */
    prefetch(offset: number, length: number): void {
      const end = Math.min(size, offset + length);
      if (end <= offset) return;
      for (let i = Math.floor(offset / BLOCK_BYTES); i <= Math.floor((end - 1) / BLOCK_BYTES); i++) cache.fetchAhead(object, version, i, fetchBlock(i));
    },
  };
  return source;
}
