// Reading the SQLite catalog file once, front to back, right after the server starts, so that the
// operating system's page cache holds it before viewers ask. A catalog of a million entries is
// about a gigabyte; until its pages are in memory, every entry not asked for before costs its
// playManifest answer a disk read per B-tree page it touches (about 1 ms more per answer on the
// benchmark's machine: bench/README.md, target 5). A database server does the same when it loads
// its buffer pool at start. Sequential reads, one buffer reused, nothing kept in the process;
// a file larger than maxBytes is left alone, so a catalog bigger than the machine's spare memory
// does not push everything else out of the page cache.
import { open, stat } from 'node:fs/promises';

export interface WarmResult {
  /** Bytes read. */
  bytes: number;
  ms: number;
  /** Why nothing (or not everything) was read, when so. */
  stopped?: string;
}

const CHUNK = 1 << 20;

/** Reads `files` (those that exist) into the page cache; never throws. */
export async function readIntoPageCache(files: readonly string[], opts: { maxBytes: number; signal?: AbortSignal }): Promise<WarmResult> {
  const t0 = performance.now();
  const done = (bytes: number, stopped?: string): WarmResult => ({ bytes, ms: performance.now() - t0, ...(stopped ? { stopped } : {}) });
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
    let fh;
    try {
      fh = await open(file, 'r');
      for (;;) {
        if (opts.signal?.aborted) return done(bytes, 'stopped: the server is closing');
        const { bytesRead } = await fh.read(buf, 0, CHUNK, null);
        if (bytesRead === 0) break;
        bytes += bytesRead;
      }
    } catch (e) {
      return done(bytes, `reading ${file}: ${(e as Error).message}`);
    } finally {
      await fh?.close().catch(() => {});
    }
  }
  return done(bytes);
}
