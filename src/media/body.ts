// A response body described before any media byte is read: its length, and how to produce any
// byte range of it from the source file. HEAD needs only the length; a Range request produces
// just its slice.
import { Readable } from 'node:stream';
import { openFileSource, type ByteSource, type SourceStore } from './source.js';
import { createByteLru, objectIds, type ByteLruStats } from './byte-lru.js';
import { SourceError } from './errors.js';
import type { MediaIndex } from './mp4/index-types.js';

/** Bytes made in memory, or a span of the source file. */
export type Part = Uint8Array | { offset: number; length: number };

export interface MediaBody {
  length: number;
  contentType: string;
  /** Yields bytes [start, endInclusive] of the body, reading what it needs of the source. */
  produce(source: ByteSource, start: number, endInclusive: number): AsyncGenerator<Uint8Array>;
  /**
   * The whole body, when it is already in memory (a kept answer, an init segment): the route
   * sends it (or a range of it) as one buffer, with no source opened and no stream.
   */
  bytes?: Buffer;
}

const READ_CHUNK = 1 << 20;
/** Largest source region read in one go for a body (a segment's worth, with slack). */
const REGION_MAX = 16 << 20;
const BATCH = 256 << 10;
const DIRECT = 32 << 10;

// Read buffers for source regions, reused across requests: a region is only copied from, right
// after its read and without awaiting, so it is back in the pool before another request runs.
const scratchPool: Buffer[] = [];
const SCRATCH_KEEP = 4;
function takeScratch(n: number): Buffer {
  for (let i = scratchPool.length - 1; i >= 0; i--) {
    if (scratchPool[i].length >= n) return scratchPool.splice(i, 1)[0];
  }
  return Buffer.allocUnsafe(Math.max(n, Math.min(REGION_MAX, Math.ceil(n * 1.25))));
}
export function giveScratch(b: Buffer): void {
  if (scratchPool.length < SCRATCH_KEEP && b.length <= REGION_MAX) scratchPool.push(b);
}

/**
 * The source ended before a span its index names: the file was cut or rewritten in place since
 * the index was read. The index cache reads it again once it looks at the file (a second at most).
 */
export const shortSource = (): SourceError => new SourceError('changed', 'the media file', 'it is shorter than its index says: it changed on disk since it was read; ask again');

/** The largest region a segment's samples are read in at once. */
const ONE_READ_MAX = 64 << 20;

/**
 * Whether `pieces` spans of `wanted` bytes lying within `span` source bytes are better read in one
 * pread of the whole span than one pread each: when the span is at most twice what is wanted (or
 * 1 MiB), or when the pieces are many and short. A pread costs a thread-pool round trip and, for
 * a body, a socket write of its own (about what copying 64 KB more costs), so an audio fragment's
 * 250 short runs between video chunks are read as one region of the interleaved file.
 */
export function worthOneRead(span: number, wanted: number, pieces: number): boolean {
  return span <= ONE_READ_MAX && (span <= Math.max(wanted * 2, 1 << 20) || span <= wanted * 2 + 65536 || span <= pieces * 65536);
}

/**
 * Reads source bytes [lo, hi) in one pread into a pooled buffer (index it from lo; it may be
 * longer). The caller gives it back with giveScratch once it has copied from it.
 */
export async function readRegion(source: ByteSource, lo: number, hi: number): Promise<Buffer> {
  const region = takeScratch(hi - lo);
  try {
    const got = await source.read(lo, hi - lo, region);
    if (got.length < hi - lo) throw shortSource();
  } catch (err) {
    giveScratch(region);
    throw err;
  }
  return region;
}

/** Reads length source bytes at offset into a buffer of its own. */
export async function readSpan(source: ByteSource, offset: number, length: number): Promise<Buffer> {
  const b = Buffer.allocUnsafe(length);
  const got = await source.read(offset, length, b);
  if (got.length < length) throw shortSource();
  return b;
}

// Answer buffers, reused once the socket has taken every byte of them (the route recycles a
// stream's buffers on the response's 'finish'; an aborted response just lets them go). Making
// a fresh 1-2 MB buffer per segment kept the garbage collector busy for a tenth of the time.
const outPool: ArrayBuffer[] = [];
const OUT_POOL_BYTES = 32 << 20;
const OUT_ROUND = 256 << 10;
let outPoolBytes = 0;
const ours = new WeakSet<ArrayBufferLike>();
const streamOutputs = new WeakMap<Readable, Set<ArrayBufferLike>>();

/** A buffer of n bytes for an answer, maybe reused: its content is arbitrary until written. */
export function takeOutput(n: number): Buffer {
  for (let i = outPool.length - 1; i >= 0; i--) {
    const ab = outPool[i];
    if (ab.byteLength >= n && ab.byteLength <= n * 2 + OUT_ROUND) {
      outPool.splice(i, 1);
      outPoolBytes -= ab.byteLength;
      return Buffer.from(ab, 0, n);
    }
  }
  if (n < 64 << 10 || n > REGION_MAX) return Buffer.allocUnsafe(n);
  const ab = new ArrayBuffer(Math.ceil(n / OUT_ROUND) * OUT_ROUND);
  ours.add(ab);
  return Buffer.from(ab, 0, n);
}

/**
 * Gives an answer buffer back to the pool at once: for a writer that copied its bytes elsewhere
 * (encrypted them) and will never send it. Buffers the pool did not make are left alone.
 */
export function releaseOutput(b: Uint8Array): void {
  const ab = b.buffer;
  if (!ours.has(ab) || outPoolBytes + ab.byteLength > OUT_POOL_BYTES || outPool.includes(ab as ArrayBuffer)) return;
  outPool.push(ab as ArrayBuffer);
  outPoolBytes += ab.byteLength;
}

/**
 * Gives the answer buffers of a body stream back to the pool once `response` has handed every
 * byte to the kernel ('finish'); returns the stream.
 */
export function recycleWhenSent<T extends Readable>(stream: T, response: { once(event: 'finish', listener: () => void): unknown }): T {
  response.once('finish', () => {
    const set = streamOutputs.get(stream);
    if (!set) return;
    streamOutputs.delete(stream);
    for (const ab of set) {
      if (outPoolBytes + ab.byteLength > OUT_POOL_BYTES) break;
      outPool.push(ab as ArrayBuffer);
      outPoolBytes += ab.byteLength;
    }
  });
  return stream;
}

// ---- Segment answer cache ----
// A popular segment is asked for by every viewer: its clear bytes are kept, up to a byte bound,
// in one LRU shared by all files (src/media/byte-lru.ts). An answer is keyed by the object it was
// made from (a timeline: one parsed index, hence one version of one source file, plus the segment
// policy, clip and tracks) and what the writer adds (format, segment number, options). A replaced
// file is parsed into a new index and so a new timeline: its old answers are never found again and
// age out. Only whole answers made without a key are kept (AES-128 wraps a cached clear answer;
// SAMPLE-AES and cenc/cbcs are never kept). Access control is judged before a body is asked for:
// the cache only saves making the same bytes again. The packaging layer empties it when the
// catalog changes (src/packaging/packager.ts); an answer being made across that is not kept.
const answers = createByteLru<{ bytes: Buffer; contentType: string }>(64 << 20);
const ownerId = objectIds();

/** Bounds the segment answer cache (0 turns it off and empties it). */
export function setSegmentCacheBytes(n: number): void {
  answers.setMaxBytes(n);
}

/** Empties the segment answer cache (the packaging layer, when the catalog changed). */
export function clearSegmentCache(): void {
  answers.clear();
}

/** The segment answer cache's size and use, for metrics and tests. */
export function segmentCacheStats(): ByteLruStats {
  return answers.stats();
}

/** A cache key for what `owner` (a timeline) makes, given the writer's own parts. */
export function answerKey(owner: object, ...parts: Array<string | number | boolean | undefined>): string {
  return `${ownerId(owner)}/${parts.join('/')}`;
}

/** A body whose bytes are all in memory: a kept answer (it holds them, an eviction meanwhile does not matter), an init segment. */
export function keptBody(bytes: Buffer, contentType: string): MediaBody {
  return {
    length: bytes.length,
    contentType,
    bytes,
    async *produce(_source, start, endInclusive) {
      yield bytes.subarray(start, endInclusive + 1);
    },
  };
}

/**
 * The body `make` describes, answered from the segment answer cache when its bytes are there (then
 * it is not even described: no planning, no boxes); a whole answer made through it is kept (one
 * answer takes at most an eighth of the cache). A range of a kept answer is cut from it; a range
 * of an answer not kept is made as before, and not kept.
 */
export function cachedBody(key: string, make: () => MediaBody): MediaBody {
  if (answers.maxBytes <= 0) return make();
  const hit = answers.get(key);
  if (hit) return keptBody(hit.bytes, hit.contentType);
  // a clear from now on (the catalog changed) means this answer is not put back
  const epoch = answers.epoch;
  const body = make();
  if (body.length > answers.maxBytes / 8 || body.length === 0) return body;
  return {
    length: body.length,
    contentType: body.contentType,
    async *produce(source, start, endInclusive) {
      const hit = answers.get(key);
      if (hit) {
        yield hit.bytes.subarray(start, endInclusive + 1);
        return;
      }
      answers.missed();
      if (start !== 0 || endInclusive !== body.length - 1 || answers.maxBytes <= 0) {
        yield* body.produce(source, start, endInclusive);
        return;
      }
      // the answer is copied out of the writer's pooled buffers into one of its own, which the
      // socket never gives back to the pool
      const whole = Buffer.allocUnsafeSlow(body.length);
      let w = 0;
      for await (const chunk of body.produce(source, 0, endInclusive)) {
        whole.set(chunk, w);
        w += chunk.length;
        releaseOutput(chunk);
      }
      if (w !== body.length) throw new Error(`answer of ${w} bytes, described as ${body.length}`);
      answers.set(key, { bytes: whole, contentType: body.contentType }, whole.length, epoch);
      yield whole;
    },
  };
}

/** Merges adjacent file spans so a segment is read in as few preads as the layout allows. */
function coalesce(parts: Part[]): Part[] {
  const out: Part[] = [];
  for (const p of parts) {
    const last = out[out.length - 1];
    if (!(p instanceof Uint8Array) && last && !(last instanceof Uint8Array) && last.offset + last.length === p.offset) {
      out[out.length - 1] = { offset: last.offset, length: last.length + p.length };
    } else if (p instanceof Uint8Array || p.length > 0) out.push(p instanceof Uint8Array ? p : { ...p });
  }
  return out;
}

/** The parts that overlap body bytes [start, endInclusive], each with the overlap [from, to) in the part's own bytes. */
function* overlapping(list: Part[], start: number, endInclusive: number): Generator<[Part, number, number]> {
  let pos = 0;
  for (const p of list) {
    const from = Math.max(start, pos);
    const to = Math.min(endInclusive + 1, pos + p.length);
    if (from < to) yield [p, from - pos, to - pos];
    pos += p.length;
    if (pos > endInclusive) return;
  }
}

export function partsBody(parts: Part[], contentType: string): MediaBody {
  const list = coalesce(parts);
  const length = list.reduce((n, p) => n + p.length, 0);
  return {
    length,
    contentType,
    async *produce(source, start, endInclusive) {
      // A segment's samples sit close together in an interleaved file but not in output order
      // (video first, then audio): one pread of the whole region beats one per sample.
      let region: Buffer | null = null;
      let regionAt = 0;
      let lo = Infinity;
      let hi = 0;
      let wanted = 0;
      let spans = 0;
      for (const [p] of overlapping(list, start, endInclusive)) {
        if (p instanceof Uint8Array) continue;
        lo = Math.min(lo, p.offset);
        hi = Math.max(hi, p.offset + p.length);
        wanted += p.length;
        spans++;
      }
      if (spans > 1 && worthOneRead(hi - lo, wanted, spans)) {
        region = await readRegion(source, lo, hi);
        regionAt = lo;
      }
      if (region && endInclusive + 1 - start <= REGION_MAX) {
        // the whole answer in one buffer, written to the socket at once; the region is only
        // copied from, so it goes back to the pool for the next request
        const out = takeOutput(endInclusive + 1 - start);
        let w = 0;
        try {
          for (const [p, from, to] of overlapping(list, start, endInclusive)) {
            if (p instanceof Uint8Array) out.set(p.subarray(from, to), w);
            else region.copy(out, w, p.offset - regionAt + from, p.offset - regionAt + to);
            w += to - from;
          }
        } finally {
          giveScratch(region);
        }
        yield out;
        return;
      }
      // many small slices are gathered into larger writes: a stream chunk costs more than a memcpy
      const pending: Uint8Array[] = [];
      let pendingBytes = 0;
      const flush = (): Buffer => {
        const out = pending.length === 1 ? Buffer.from(pending[0].buffer, pending[0].byteOffset, pending[0].length) : Buffer.concat(pending, pendingBytes);
        pending.length = 0;
        pendingBytes = 0;
        return out;
      };
      for (const [p, from, to] of overlapping(list, start, endInclusive)) {
        let slice: Uint8Array | null = null;
        if (p instanceof Uint8Array) slice = p.subarray(from, to);
        else if (region) slice = region.subarray(p.offset - regionAt + from, p.offset - regionAt + to);
        if (slice && slice.length >= DIRECT) {
          // long runs (a chunk of consecutive samples) go out as views of the region, uncopied
          if (pendingBytes) yield flush();
          yield slice;
        } else if (slice) {
          pending.push(slice);
          pendingBytes += slice.length;
          if (pendingBytes >= BATCH) yield flush();
        } else {
          if (pendingBytes) yield flush();
          const q = p as { offset: number; length: number };
          let off = q.offset + from;
          let left = to - from;
          while (left > 0) {
            const n = Math.min(left, READ_CHUNK);
            yield await readSpan(source, off, n);
            off += n;
            left -= n;
          }
        }
      }
      if (pendingBytes) yield flush();
    },
  };
}

/**
 * The source named filePath, leased from `handles` or else opened as a local file, holding the
 * bytes `index` was read from. Two caches decide what a name holds, each looking at the file at
 * most once a second: the index cache (which index) and the store's open handles (which bytes).
 * Right after a file is replaced (renamed over, or rewritten), they may disagree for up to a
 * second, and a segment cut from the new file by the old file's sample offsets (or the reverse)
 * is garbage that a player, a CDN and the segment answer cache would keep. So a lease whose
 * version is not the index's is looked at again now; if the name no longer holds the index's
 * bytes, the index is marked replaced (the next request reads the file anew) and the answer is
 * the store's "changed" error, never mixed bytes.
 */
export async function leaseFor(filePath: string, handles: SourceStore | undefined, index?: MediaIndex): Promise<{ source: ByteSource; release(): Promise<void> }> {
  const take = async (recheck: boolean) => {
    if (handles) return handles.acquire(filePath, { recheck });
    const { source, close } = await openFileSource(filePath);
    return { source, release: close };
  };
  const want = index?.sourceVersion;
  let lease = await take(false);
  if (want === undefined || lease.source.version === undefined || lease.source.version === want) return lease;
  await lease.release();
  lease = await take(true);
  if (lease.source.version === want) return lease;
  await lease.release();
  index!.replaced = true;
  throw new SourceError('changed', 'the media file', 'it was replaced on disk after its index was read; ask again');
}

/**
 * Streams a body range from the source named filePath (leaseFor: from `handles` or opened for
 * this stream, and holding the bytes `index` was read from when it is given); the lease is
 * released however the stream ends. A source that turns out shorter than the body's spans marks
 * the index replaced as well.
 */
export function bodyStream(filePath: string, body: MediaBody, start = 0, endInclusive = body.length - 1, handles?: SourceStore, index?: MediaIndex): Readable {
  const produced = new Set<ArrayBufferLike>();
  async function* gen(): AsyncGenerator<Uint8Array> {
    const lease = await leaseFor(filePath, handles, index);
    try {
      for await (const chunk of body.produce(lease.source, start, endInclusive)) {
        if (ours.has(chunk.buffer)) produced.add(chunk.buffer);
        yield chunk;
      }
    } catch (err) {
      if (index && err instanceof SourceError && err.failure === 'changed') index.replaced = true;
      throw err;
    } finally {
      await lease.release();
    }
  }
  const stream = Readable.from(gen(), { objectMode: false });
  streamOutputs.set(stream, produced);
  return stream;
}

/**
 * The same stream once its first chunk is read: a source that fails at once rejects here, before
 * an answer's status is sent. The chunks' pooled buffers stay recyclable (recycleWhenSent).
 */
export async function primed(stream: Readable): Promise<Readable> {
  const it = stream[Symbol.asyncIterator]();
  const first = await it.next();
  async function* rest(): AsyncGenerator<Uint8Array> {
    try {
      if (first.done) return;
      yield first.value as Uint8Array;
      for (;;) {
        const n = await it.next();
        if (n.done) return;
        yield n.value as Uint8Array;
      }
    } finally {
      await it.return?.();
    }
  }
  const out = Readable.from(rest(), { objectMode: false });
  const produced = streamOutputs.get(stream);
  if (produced) streamOutputs.set(out, produced);
  return out;
}

/** Reads the whole body into memory (tests, small bodies). */
export async function readBody(filePath: string, body: MediaBody, start = 0, endInclusive = body.length - 1): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of bodyStream(filePath, body, start, endInclusive)) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}
