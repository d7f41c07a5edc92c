// Where media is written (ingest outputs, uploads, imported media), beside where it is read
// (media-store.ts): local disk under the media root, or an S3-compatible bucket. Keys are catalog
// file paths (relative to the media root, the same under every backend). A write is whole or
// absent: on disk a `.part` file renamed into place, on S3 a PutObject or a multipart upload,
// which S3 shows only once it is completed (an unfinished one is aborted, never shown). So the
// catalog may name a key as soon as its put has returned, and never before.
import { createReadStream, createWriteStream } from 'node:fs';
import { access, copyFile, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { randomBytes } from 'node:crypto';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Config, MediaLocation } from '../config.js';
import { mediaPath, partialWritesDir } from './paths.js';
import type { OriginTimeouts } from './origin.js';

/**
 * A write (or the read of a staged object) the store refused or could not do. The message names
 * the store and key, never a credential, for the log and the command line; `shown` is what an API
 * caller may read: a local store's path on the server is not theirs to see, an S3 store's URL is
 * (the media routes' 502s name it too).
 */
export class MediaWriteError extends Error {
  readonly shown: string;
  constructor(message: string, shown?: string) {
    super(message);
    this.shown = shown ?? message;
  }
}

export interface MediaWriter {
  readonly kind: 'local' | 's3';
  /** The store for people: the media folder or URL, never a credential. */
  readonly describe: string;
  /**
   * Whether every node sees what this node writes (S3). Upload chunks are then staged in the store
   * (src/ingest/uploads.ts), so that the chunks of one upload may arrive at different nodes.
   */
  readonly shared: boolean;
  /**
   * Puts a local file at `key`, streamed (never the whole file in memory). `move`: the file is
   * this write's to take (a local store renames it; a remote one leaves it for the caller to remove).
   */
  putFile(file: string, key: string, opts?: { move?: boolean }): Promise<void>;
  /** Puts bytes held in memory (an upload chunk, a caption, a picture) at `key`. */
  putBytes(key: string, data: Buffer | string): Promise<void>;
  /** A local file with the object's bytes: on disk the file itself, else a copy streamed to `into`. */
  localFile(key: string, into: string): Promise<string>;
  /** `length` bytes of the object from `offset`, streamed. */
  readRange(key: string, offset: number, length: number): Promise<Readable>;
  /** Removes the object; one that is not there is no error. */
  remove(key: string): Promise<void>;
  /** Whether the object is there (a store that cannot say throws MediaWriteError: absent is never guessed). */
  has(key: string): Promise<boolean>;
  /** A whole small object (a caption, a picture). */
  readAll(key: string): Promise<Buffer>;
}

/**
 * Local disk: `.part` files in the media root's `.partial` folder renamed into place, so a crash
 * never leaves a complete-looking file, and what it leaves is removed at the next start
 * (sweepPartialWrites); a folder on another mount gets its `.part` beside the file, which a
 * crash leaves there until the entry is deleted.
 */
export function localMediaWriter(mediaRoot: string): MediaWriter {
  const place = async (key: string, write: (tmp: string) => Promise<void>) => {
    const dest = mediaPath(mediaRoot, key);
    const partial = partialWritesDir(mediaRoot);
    await mkdir(dirname(dest), { recursive: true });
    await mkdir(partial, { recursive: true });
    const name = `${randomBytes(6).toString('hex')}-${basename(dest)}.part`;
    const tmp = join(partial, name);
    // a folder under the media root that is another mount (a volume, a bind mount of the same
    // file system) cannot take a rename from .partial (EXDEV): there the file is copied to a
    // .part beside it first (removed with its entry: src/ingest/delete.ts)
    const beside = join(dirname(dest), `.${name}`);
    try {
      await write(tmp);
      await rename(tmp, dest).catch(async (e: NodeJS.ErrnoException) => {
        if (e.code !== 'EXDEV') throw e;
        await copyFile(tmp, beside);
        await rename(beside, dest);
      });
      await rm(tmp, { force: true });
    } catch (e) {
      await rm(tmp, { force: true });
      await rm(beside, { force: true });
      const why = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new MediaWriteError(`${mediaRoot} (${key}): could not be written (${why})`, `the media folder (${key}): could not be written (${(e as NodeJS.ErrnoException).code ?? 'failed'})`);
    }
  };
  return {
    kind: 'local',
    describe: mediaRoot,
    shared: false,
    async putFile(file, key, opts) {
      if (opts?.move) {
        // one rename when the file is on the media root's file system (ingest staging is)
        const dest = mediaPath(mediaRoot, key);
        await mkdir(dirname(dest), { recursive: true });
        if (await rename(file, dest).then(() => true, () => false)) return;
      }
      await place(key, (tmp) => copyFile(file, tmp));
    },
    putBytes: (key, data) => place(key, (tmp) => writeFile(tmp, data)),
    localFile: async (key) => mediaPath(mediaRoot, key),
    readRange: async (key, offset, length) => createReadStream(mediaPath(mediaRoot, key), { start: offset, end: offset + length - 1 }),
    remove: (key) => rm(mediaPath(mediaRoot, key), { force: true }),
    has: (key) => access(mediaPath(mediaRoot, key)).then(() => true, () => false),
    readAll: (key) => readFile(mediaPath(mediaRoot, key)),
  };
}

/** A `.part` file untouched this long is no write under way (a copy touches its file as it goes). */
export const PARTIAL_WRITE_MAX_AGE_MS = 60 * 60 * 1000;

/**
 * Removes the `.part` files of local writes that a killed or crashed process left (untouched for
 * PARTIAL_WRITE_MAX_AGE_MS: another process's write under way, `kdeliver ingest` beside the
 * server, is left alone); returns how many. A media root without the folder has none.
 */
export async function sweepPartialWrites(mediaRoot: string, now = Date.now()): Promise<number> {
  const dir = partialWritesDir(mediaRoot);
  const names = await readdir(dir).catch(() => [] as string[]);
  let removed = 0;
  for (const name of names) {
    if (!name.endsWith('.part')) continue;
    const st = await stat(join(dir, name)).catch(() => null);
    if (!st || now - st.mtimeMs < PARTIAL_WRITE_MAX_AGE_MS) continue;
    await rm(join(dir, name), { force: true });
    removed++;
  }
  return removed;
}

type S3Location = Extract<MediaLocation, { kind: 's3' }>;

/** Parts of a multipart upload: S3's minimum is 5 MiB; four in flight bound the memory of one put to 32 MiB. */
export const PART_BYTES = 8 * 1024 * 1024;
const PARTS_IN_FLIGHT = 4;

/** An S3 bucket (under the location's prefix), through the client of s3-origin.ts (checksums only when required). */
export function s3MediaWriter(loc: S3Location, t: OriginTimeouts, given?: S3Client): MediaWriter {
  // the S3 SDK is loaded at the first operation, not with this module: the ingest pipeline and the
  // CLI import this module, and every command (its --help too) paid ~0.4 s for the SDK before
  let sdk: Promise<{ client: S3Client; s3: typeof import('@aws-sdk/client-s3'); Upload: typeof import('@aws-sdk/lib-storage').Upload }> | undefined;
  const loaded = () => (sdk ??= (async () => {
    const [s3, storage, origin] = await Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage'), import('./s3-origin.js')]);
    return { client: given ?? origin.s3Client(loc, t), s3, Upload: storage.Upload };
  })());
  const describe = `s3 store ${loc.url}`;
  const keyOf = (key: string) => (loc.prefix ? `${loc.prefix}/${key}` : key);
  const fail = (key: string, what: string, e: unknown): MediaWriteError => {
    const err = e as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; message?: string };
    const why = err.$metadata?.httpStatusCode ? `answered ${err.$metadata.httpStatusCode}${err.name ? ` (${err.name})` : ''}`
      : err.code === 'ECONNREFUSED' ? 'refused the connection'
        : err.name === 'TimeoutError' || err.name === 'AbortError' ? `did not answer within ${t.timeoutMs} ms (KDELIVER_MEDIA_TIMEOUT_MS)`
          : `could not be reached (${err.code ?? err.name ?? 'connection failed'})`;
    return new MediaWriteError(`${describe} (${key}): ${what} failed: ${why}`);
  };
  const put = async (key: string, body: Buffer | string | Readable) => {
    // Upload sends one PutObject when the body fits in a part, else a multipart upload that it
    // aborts on failure (leavePartsOnError: false): the key shows nothing until it is complete
    const { client, Upload } = await loaded();
    const upload = new Upload({
      client, params: { Bucket: loc.bucket, Key: keyOf(key), Body: body }, partSize: PART_BYTES, queueSize: PARTS_IN_FLIGHT, leavePartsOnError: false,
    });
    try {
      await upload.done();
    } catch (e) {
      throw fail(key, 'the upload', e);
    }
  };
  const get = async (key: string, range?: string) => {
    try {
      // no whole-request deadline: a source of gigabytes streams for longer; the client's socket
      // inactivity timeout (src/storage/s3-origin.ts) bounds a stall
      const { client, s3 } = await loaded();
      const r = await client.send(new s3.GetObjectCommand({ Bucket: loc.bucket, Key: keyOf(key), Range: range }));
      return r.Body as Readable;
    } catch (e) {
      throw fail(key, 'the read', e);
    }
  };
  return {
    kind: 's3',
    describe,
    shared: true,
    putFile: (file, key) => put(key, createReadStream(file)),
    putBytes: (key, data) => put(key, data),
    async localFile(key, into) {
      await mkdir(dirname(into), { recursive: true });
      try {
        await pipeline(await get(key), createWriteStream(into));
      } catch (e) {
        await rm(into, { force: true });
        throw e instanceof MediaWriteError ? e : fail(key, 'the copy to local disk', e);
      }
      return into;
    },
    readRange: (key, offset, length) => get(key, `bytes=${offset}-${offset + length - 1}`),
    async remove(key) {
      try {
        const { client, s3 } = await loaded();
        await client.send(new s3.DeleteObjectCommand({ Bucket: loc.bucket, Key: keyOf(key) }), { abortSignal: AbortSignal.timeout(t.timeoutMs) });
      } catch (e) {
        throw fail(key, 'the removal', e);
      }
    },
    async has(key) {
      try {
        const { client, s3 } = await loaded();
        await client.send(new s3.HeadObjectCommand({ Bucket: loc.bucket, Key: keyOf(key) }), { abortSignal: AbortSignal.timeout(t.timeoutMs) });
        return true;
      } catch (e) {
        if ((e as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return false;
        throw fail(key, 'the look-up', e);
      }
    },
    async readAll(key) {
      const body = await get(key);
      const chunks: Buffer[] = [];
      for await (const c of body) chunks.push(c as Buffer);
      return Buffer.concat(chunks);
    },
  };
}

/** The writer of the store KDELIVER_MEDIA_URL names; null for a read-only HTTP origin (write-refusal.ts says why). */
export function openMediaWriter(config: Pick<Config, 'media' | 'mediaRoot' | 'mediaTimeoutMs' | 'mediaConnectTimeoutMs'>): MediaWriter | null {
  const loc = config.media;
  if (loc.kind === 'local') return localMediaWriter(config.mediaRoot);
  if (loc.kind === 's3') return s3MediaWriter(loc, { timeoutMs: config.mediaTimeoutMs, connectTimeoutMs: config.mediaConnectTimeoutMs });
  return null;
}
