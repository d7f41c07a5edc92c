// Where the media core's bytes come from. Every reader and writer of src/media/ reads its input
// through a ByteSource: how many bytes there are, and a span of them. A file on local disk is
// one (fileSource, below: positional reads of an open handle); media on object storage will be
// another, with the same two members, and nothing else in src/media/ changes.
import { open, type FileHandle } from 'node:fs/promises';

export interface ByteSource {
  /** Bytes in the source. */
  readonly size: number;
  /**
   * Reads length bytes at offset, into `into` (from its start) when given, else into a buffer of
   * its own. Resolves to the bytes read: fewer than length only at the end of the source.
   */
  read(offset: number, length: number, into?: Uint8Array): Promise<Uint8Array>;
}

/** Sources by name, each leased for one use: the local files' handle cache (file-handles.ts) today. */
export interface SourceStore {
  acquire(name: string): Promise<{ source: ByteSource; release(): Promise<void> }>;
}

/** A local file's open handle as a source; the caller keeps the handle open while it reads. */
export function fileSource(fh: FileHandle, size: number): ByteSource {
  return {
    size,
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
    const { size } = await fh.stat();
    return { source: fileSource(fh, size), close: () => fh.close() };
  } catch (err) {
    await fh.close().catch(() => undefined);
    throw err;
  }
}
