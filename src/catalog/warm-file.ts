// Reading the SQLite catalog file once, front to back, right after the server starts, so that the
// operating system's page cache holds it before viewers ask. A catalog of a million entries is
// about a gigabyte; until its pages are in memory, every entry not asked for before costs its
// playManifest answer a disk read per B-tree page it touches (about 1 ms more per answer on the
// benchmark's machine: bench/README.md, target 5). A database server does the same when it loads
// its buffer pool at start. Sequential reads, one buffer reused, nothing kept in the process;
// a file larger than maxBytes is left alone, so a catalog bigger than the machine's spare memory
// does not push everything else out of the page cache.
//
// The files stay open until release(), which the server calls after it has closed the catalog.
// Closing any descriptor of a file drops every POSIX lock the process holds on it (fcntl's rule),
// SQLite's own on the catalog included: the next outside connection to the file (an operator's
// sqlite3, a backup) then found no reader and removed the WAL the server was still writing to,
// losing what it had committed there, or corrupting the file.
import { open, stat, type FileHandle } from 'node:fs/promises';

export interface WarmResult {
  /** Bytes read. */
  bytes: number;
  ms: number;
  /** Why nothing (or not everything) was read, when so. */
  stopped?: string;
  /** Closes the files read: only once the database on them is closed (above). Never throws. */
  release(): Promise<void>;
}

const CHUNK = 1 << 20;

/** Reads `files` (those that exist) into the page cache; never throws. */
export async function readIntoPageCache(files: readonly string[], opts: { maxBytes: number; signal?: AbortSignal }): Promise<WarmResult> {
  const t0 = performance.now();
  const held: FileHandle[] = [];
  const release = async () => {
    await Promise.all(held.splice(0).map((fh) => fh.close().catch(() => {})));
  };
  const done = (bytes: number, stopped?: string): WarmResult => ({ bytes, ms: performance.now() - t0, ...(stopped ? { stopped } : {}), release });
  const sizes: { file: string; size: number }[] = [];
  for (const file of files) {
    const s = await stat(file).catch(() => null);
    if (s?.isFile()) sizes.push({ file, size: s.size });
  }
  const total = sizes.reduce((n, f) => n + f.size, 0);
  if (total > opts.maxBytes) return done(0, `${total} bytes, more than the ${opts.maxBytes} allowed`);
  const buf = Buffer.allocUnsafe(CHUNK);
  let bytes = 0;
  for (const { file } of sizes) {
    try {
      const fh = await open(file, 'r');
      held.push(fh);
      for (;;) {
        if (opts.signal?.aborted) return done(bytes, 'stopped: the server is closing');
        const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
        if (bytesRead === 0) break;
        bytes += bytesRead;
      }
    } catch (e) {
      return done(bytes, `reading ${file}: ${(e as Error).message}`);
    }
  }
  return done(bytes);
}
