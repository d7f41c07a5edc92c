// Where the media core's bytes come from. Every reader and writer of src/media/ reads its input
// through a ByteSource: how many bytes there are, and a span of them. A file on local disk is
// one (fileSource, below: positional reads of an open handle); media on object storage will be
// another, with the same two members, and nothing else in src/media/ changes.
import { open, stat, type FileHandle } from 'node:fs/promises';
import type { Stats } from 'node:fs';

export interface ByteSource {
  /** Bytes in the source. */
  readonly size: number;
  /**
   * Which bytes these are, when the source can say: it changes whenever the file or object is
   * replaced or rewritten (a local file's device, inode, size and modification time when it was
   * opened or last looked at; a remote object's ETag). An index records the version it was read
   * from, so a body described from it is never cut from other bytes (body.ts leaseFor).
   */
  readonly version?: string;
  /**
   * Reads length bytes at offset, into `into` (from its start) when given, else into a buffer of
   * its own. Resolves to the bytes read: fewer than length only at the end of the source.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
  /**
   * Reads a span the reader will not come back to: a remote source reads whole blocks to keep
   * them (src/storage/block-cache.ts), which for small spans spread across an object (a
   * fragmented MP4's moofs, one before each fragment's media) would fetch the media between them,
   * so a short span is read alone. Absent where `read` is as cheap (a local file).
   */
  readSpan?(offset: number, length: number): Promise<Uint8Array>;
}

/**
 * Sources by name, each leased for one use: the local files' handle cache (file-handles.ts), or
 * the server's media store (src/storage/media-store.ts: local disk, S3, an HTTP origin).
 */
export interface SourceStore {
  /** `recheck`: compare a source kept open with what the name holds now, whenever it was last looked at. */
  acquire(name: string, opts?: { recheck?: boolean }): Promise<{ source: ByteSource; release(): Promise<void> }>;
}

/**
 * A local file's version: device and inode (a file renamed over the name is another file, even
 * with the same size and modification time, as rsync and `cp -p` leave them), size and mtime.
 */
export const localVersion = (st: Pick<Stats, 'dev' | 'ino' | 'size' | 'mtimeMs'>): string => `${st.dev}:${st.ino}:${st.size}:${st.mtimeMs}`;

/** A source store that also says what a name's current bytes are: the index cache's key. */
export interface VersionedSourceStore extends SourceStore {
  /** Size and a version that changes whenever the bytes do; null when there is no such source. */
  version(name: string): Promise<{ size: number; version: string } | null>;
  /** Names the store for cache keys: the same name in two stores is two sources. */
  readonly describe: string;
}

/** Local files by absolute path, each opened for its lease: the default of the index cache. */
export const localFiles: VersionedSourceStore = {
  describe: 'local',
  async version(path) {
    const st = await stat(path).catch(() => null);
    return st && st.isFile() ? { size: st.size, version: localVersion(st) } : null;
  },
  async acquire(path) {
    const { source, close } = await openFileSource(path);
    return { source, release: close };
  },
};

/** A local file's open handle as a source; the caller keeps the handle open while it reads. */
export function fileSource(fh: FileHandle, size: number, version?: string): ByteSource {
  return {
    size,
    version,
    async read(offset, length, into) {
      const buf = into ?? Buffer.allocUnsafe(length);
      const { bytesRead } = await fh.read(buf, 0, length, offset);
      return bytesRead === buf.length ? buf : buf.subarray(0, bytesRead);
    },
  };
}

/** Opens the local file at path as a source of its own; close() closes it. */
export async function openFileSource(path: string): Promise<{ source: ByteSource; close(): Promise<void> }> {
  const fh = await open(path, 'r');
  try {
    const st = await fh.stat();
    return { source: fileSource(fh, st.size, localVersion(st)), close: () => fh.close() };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}
