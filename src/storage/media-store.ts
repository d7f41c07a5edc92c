// Where media bytes are read from, chosen by KDELIVER_MEDIA_URL (src/config.ts): local disk under
// the data directory (the default), an S3-compatible bucket, or a read-only HTTP origin. Every
// reader (the packager's index cache and segment bodies, serveFlavor/raw/download, thumbnails,
// captions) goes through one MediaStore: it names a catalog file path (relative to the media
// root, the same under every backend), leases ByteSources for it (src/media/source.ts) and
// streams spans of it. Remote objects are read through the block cache (block-cache.ts); their
// size and version are looked at again at most once a second, so a replaced object is seen
// within a second and never mixes old and new bytes (reads carry its ETag as a precondition).
import { createReadStream } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { relative } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import type { Config } from '../config.js';
import type { HandleCache } from '../media/file-handles.js';
import { localVersion, type VersionedSourceStore } from '../media/source.js';
import { blockSource, createBlockCache, BLOCK_BYTES, type BlockCacheStats, type BlockSource } from './block-cache.js';
import { SourceError } from '../media/errors.js';
import { httpOrigin } from './http-origin.js';
import type { ObjectMeta, Origin } from './origin.js';
import { mediaPath } from './paths.js';
import { mediaWriteRefusal } from './write-refusal.js';
import { localMediaWriter, s3MediaWriter, type MediaWriter } from './media-writer.js';
import { DeliveryError } from '../errors.js';

/**
 * Whether a read failed because the object is not there (local disk's ENOENT, a remote store's
 * 'missing'), not because the store failed.
 */
export const isMissingObject = (e: unknown): boolean => (e as NodeJS.ErrnoException | null)?.code === 'ENOENT' || (e instanceof SourceError && e.failure === 'missing');

export interface StoredObject {
  size: number;
  /** Changes whenever the bytes do (mtime+size on disk, the ETag remotely). */
  version: string;
}

export interface MediaStore extends VersionedSourceStore {
  readonly kind: 'local' | 's3' | 'http';
  /** The store for people and cache keys: the media folder or URL, never a credential. */
  readonly describe: string;
  /** Why this store refuses writes (ingest, upload, import of media), or null when it takes them. */
  readonly readOnly: string | null;
  /** Where media is written (media-writer.ts); null exactly when readOnly says why not. */
  readonly writer: MediaWriter | null;
  /** The name readers use for a catalog file path; a path that would leave the media root is refused (404). */
  locate(relative: string): string;
  /** Size and version of a located name; null when there is none. */
  version(name: string): Promise<StoredObject | null>;
  /** Bytes start..endInclusive of a located name as a stream. */
  stream(name: string, start: number, endInclusive: number): Readable;
  /** A whole (small) object: captions, pictures. A missing one throws what isMissingObject knows. */
  readAll(name: string): Promise<Buffer>;
  /** What ffmpeg is given to read the object: a local path or a URL it reads with ranges. */
  ffmpegInput(name: string): Promise<string>;
  /** The block cache's counters; null for local disk. */
  cacheStats(): BlockCacheStats | null;
  /** Resolves when the store answered, else throws a SourceError (storeUnreachable judges it). */
  probe(): Promise<void>;
  close(): Promise<void>;
}

/**
 * A local file the server could not open or read, as the store's failure: a missing one is
 * 'missing' (error 5, 404); one this user may not read (EACCES, EPERM: a file copied in by root
 * with mode 600), a failing disk (EIO) or any other is 'unreadable' (502, code 5). They were
 * Node's bare errors: a 500 and a stack in the log. Named under the media folder, never by the
 * server's own path.
 */
function localReadFailure(e: unknown, mediaRoot: string, name: string): unknown {
  const code = (e as NodeJS.ErrnoException | null)?.code;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return e;
  const where = `the media folder (${relative(mediaRoot, name)})`;
  return code === 'ENOENT' ? new SourceError('missing', where, 'no such file') : new SourceError('unreadable', where, `cannot be read by this server (${code})`);
}

/** Local disk: names are absolute paths under the media root, leased from the handle cache. */
export function localMediaStore(mediaRoot: string, handles: HandleCache): MediaStore {
  const failed = (name: string) => (e: unknown): never => {
    throw localReadFailure(e, mediaRoot, name);
  };
  return {
    kind: 'local',
    describe: mediaRoot,
    readOnly: null,
    writer: localMediaWriter(mediaRoot),
    locate: (relative) => mediaPath(mediaRoot, relative),
    async version(name) {
      const st = await stat(name).catch(() => null);
      return st && st.isFile() ? { size: st.size, version: localVersion(st) } : null;
    },
    acquire: (name, opts) => handles.acquire(name, opts).catch(failed(name)),
    stream(name, start, end) {
      const out = new PassThrough();
      const file = createReadStream(name, { start, end });
      file.on('error', (e) => out.destroy(localReadFailure(e, mediaRoot, name) as Error));
      // the answer's stream is `out`, which is what is destroyed when the client goes away: pipe()
      // alone would leave the file open for good (one descriptor per aborted download)
      out.on('close', () => file.destroy());
      return file.pipe(out);
    },
    readAll: (name) => readFile(name).catch(failed(name)),
    ffmpegInput: async (name) => name,
    cacheStats: () => null,
    // the media folder is checked by /readyz itself (routes/health.ts)
    probe: async () => undefined,
    close: () => handles.close(),
  };
}

/** Blocks a stream (serveFlavor, raw, download) fetches ahead of the one it sends. */
const STREAM_READ_AHEAD = 4;

/** How long a remote object's size and version are trusted before it is looked at again. */
const RECHECK_MS = 1000;

/** The object /readyz asks a store without a probe of its own for: any answer, "no such object" included, is one. */
const READY_PROBE = '.kdeliver-readyz';

/** A remote store: names are the catalog paths themselves (keys under the prefix or base URL). */
export function remoteMediaStore(kind: 's3' | 'http', origin: Origin, opts: { cacheBytes: number; readOnly: string | null; writer: MediaWriter | null; now?: () => number }): MediaStore {
  const now = opts.now ?? Date.now;
  const cache = createBlockCache(opts.cacheBytes);
  const metas = new Map<string, { meta: ObjectMeta; at: number }>();
  const heads = new Map<string, Promise<ObjectMeta>>();

  async function meta(key: string): Promise<ObjectMeta> {
    const m = metas.get(key);
    if (m && now() - m.at < RECHECK_MS) return m.meta;
    let p = heads.get(key);
    if (!p) {
      p = origin.head(key).catch((e) => missingOrStoreGone(e, key)).finally(() => heads.delete(key));
      heads.set(key, p);
      p.then((fresh) => {
        if (metas.size > 10000) metas.clear();
        metas.set(key, { meta: fresh, at: now() });
      }, () => metas.delete(key));
    }
    return p;
  }

  // An S3 HEAD of a missing key and of a missing bucket look alike (404, no body). A misspelled
  // bucket would make every object a 404 "file missing", which a CDN keeps and a user reads as
  // their media being gone; the store's own probe (kept two seconds, one at a time) tells the two
  // apart, so a healthy store's misses cost at most one more request per two seconds.
  async function missingOrStoreGone(e: unknown, key: string): Promise<never> {
    if (e instanceof SourceError && e.failure === 'missing' && origin.probe) {
      // the store's failure, said of this object (a probe that timed out a 504, as a read's would be)
      const gone = await storeFailure(store);
      if (gone) throw new SourceError(gone.failure, `${origin.describe} (${key})`, gone.detail, gone.httpStatus);
    }
    throw e;
  }

  function source(key: string, m: ObjectMeta): BlockSource {
    return blockSource(cache, `${origin.describe}\0${key}`, m.version, m.size, async (offset, length) => {
      try {
        return await origin.read(key, m, offset, length);
      } catch (e) {
        // a changed object: the next request looks at it again instead of trusting the old version
        if (e instanceof SourceError && e.failure === 'changed') metas.delete(key);
        throw e;
      }
    });
  }

  const store: MediaStore = {
    kind,
    describe: origin.describe,
    readOnly: opts.readOnly,
    writer: opts.writer,
    locate(relative) {
      const parts = relative.split('/');
      if (!relative || relative.includes('\0') || relative.includes('\\') || parts.some((p) => p === '' || p === '.' || p === '..')) {
        throw new DeliveryError('FILE_NOT_FOUND', ', path outside the media folder');
      }
      return relative;
    },
    async version(key) {
      try {
        const m = await meta(key);
        return { size: m.size, version: m.version };
      } catch (e) {
        if (e instanceof SourceError && e.failure === 'missing') return null;
        throw e;
      }
    },
    async acquire(key) {
      return { source: source(key, await meta(key)), release: async () => undefined };
    },
    stream(key, start, endInclusive) {
      return Readable.from((async function* () {
        const src = source(key, await meta(key));
        // block by block: a long download never holds more than one block beyond the cache; the
        // next few are fetched while this one is sent (in the cache, when it has room for them),
        // so a download is not one origin round trip per block
        const ahead = STREAM_READ_AHEAD * BLOCK_BYTES <= opts.cacheBytes / 4 ? STREAM_READ_AHEAD * BLOCK_BYTES : 0;
        for (let pos = start; pos <= endInclusive;) {
          const upTo = Math.min(endInclusive + 1, (Math.floor(pos / BLOCK_BYTES) + 1) * BLOCK_BYTES);
          if (ahead > 0) src.prefetch(upTo, Math.min(ahead, endInclusive + 1 - upTo));
          const chunk = await src.read(pos, upTo - pos);
          if (chunk.length === 0) throw new SourceError('changed', `${origin.describe} (${key})`, 'the object is shorter than it was');
          yield chunk;
          pos += chunk.length;
        }
      })(), { objectMode: false });
    },
    async readAll(key) {
      const m = await meta(key);
      return Buffer.from(await source(key, m).read(0, m.size));
    },
    ffmpegInput: (key) => origin.ffmpegUrl(key),
    cacheStats: () => cache.stats(),
    async probe() {
      if (origin.probe) return origin.probe();
      try {
        await meta(READY_PROBE);
      } catch (e) {
        if (!(e instanceof SourceError && e.failure === 'missing')) throw e;
      }
    },
    close: async () => origin.close(),
  };
  return store;
}

/** The store KDELIVER_MEDIA_URL names. */
export async function openMediaStore(config: Pick<Config, 'media' | 'mediaRoot' | 'mediaCacheBytes' | 'mediaTimeoutMs' | 'mediaConnectTimeoutMs'>, handles: HandleCache): Promise<MediaStore> {
  const loc = config.media;
  const timeouts = { timeoutMs: config.mediaTimeoutMs, connectTimeoutMs: config.mediaConnectTimeoutMs };
  if (loc.kind === 'local') return localMediaStore(config.mediaRoot, handles);
  if (loc.kind === 's3') {
    // the AWS SDK only for an S3 store: loading it costs about a third of a second of CPU, which
    // every server on local disk or an HTTP origin (and every test's) paid before
    const { s3Client, s3Origin } = await import('./s3-origin.js');
    // one SDK client (one pool of keep-alive connections) for the reads and the writes
    const client = s3Client(loc, timeouts);
    return remoteMediaStore('s3', s3Origin(loc, timeouts, client), { cacheBytes: config.mediaCacheBytes, readOnly: mediaWriteRefusal(loc), writer: s3MediaWriter(loc, timeouts, client) });
  }
  return remoteMediaStore('http', httpOrigin(loc.base, timeouts), { cacheBytes: config.mediaCacheBytes, readOnly: mediaWriteRefusal(loc), writer: null });
}

/**
 * Why a remote store cannot be read (it refuses or drops the connection, does not answer within
 * the media timeouts, answers a server error, or has no such bucket), as the SourceError its probe
 * ended with, or null when it is there. Local disk: null (the caller checks the folder). A client
 * error status is an answer: a store that answers 403 (a reader without ListBucket) is reachable,
 * and its real reads say what is wrong. One probe at a time per store, its verdict kept
 * PROBE_KEEP_MS: /readyz needs no session, and each call must not become a request to the store.
 * `fresh` asks the store again unless a probe is under way: a caller that has just seen a read or
 * write fail must not be told what the store answered before it failed.
 */
export function storeFailure(store: MediaStore, { fresh = false } = {}): Promise<SourceError | null> {
  const kept = probes.get(store);
  if (kept && (kept.until === null || (!fresh && Date.now() < kept.until))) return kept.verdict;
  const entry: { verdict: Promise<SourceError | null>; until: number | null } = { verdict: probeVerdict(store), until: null };
  probes.set(store, entry);
  void entry.verdict.then(() => { entry.until = Date.now() + PROBE_KEEP_MS; });
  return entry.verdict;
}

/** storeFailure said for people (/readyz, the ingest worker's log), or null when the store is there. */
export const storeUnreachable = async (store: MediaStore, opts: { fresh?: boolean } = {}): Promise<string | null> => (await storeFailure(store, opts))?.message ?? null;

const PROBE_KEEP_MS = 2000;
const probes = new WeakMap<MediaStore, { verdict: Promise<SourceError | null>; until: number | null }>();

async function probeVerdict(store: MediaStore): Promise<SourceError | null> {
  try {
    await store.probe();
    return null;
  } catch (e) {
    if (!(e instanceof SourceError)) return new SourceError('unreachable', store.describe, 'the store could not be asked');
    // a bucket that is not there is the store's failure, not an object's absence (a 502, never a
    // 404 "file missing" a CDN keeps)
    if (e.failure === 'missing') return new SourceError('unreachable', e.source, e.detail);
    if (e.failure !== 'status' || (e.httpStatus !== undefined && e.httpStatus >= 500)) return e;
    return null;
  }
}
