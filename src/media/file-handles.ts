// Source files kept open across media requests: a player fetches segment after segment (or range
// after range) of the same file, and an open/close pair per request cost about a tenth of the
// packager's time. A small LRU of handles, each shared by concurrent requests (reads are
// positional), closed when evicted, idle, replaced on disk, or when the server closes — and only
// once no request holds it.
import { open, stat, type FileHandle } from 'node:fs/promises';
import { fileSource, localVersion, type ByteSource, type SourceStore } from './source.js';

export interface HandleLease {
  fh: FileHandle;
  /** The same open file as the media core reads it. */
  source: ByteSource;
  release(): Promise<void>;
}

export interface HandleCache extends SourceStore {
  /** `recheck`: compare a kept handle with the file at the path now, however recently it was. */
  acquire(path: string, opts?: { recheck?: boolean }): Promise<HandleLease>;
  /** Closes every idle handle now and the busy ones when their requests end; later leases are uncached. */
  close(): Promise<void>;
  stats(): { open: number; opens: number; hits: number };
}

interface Entry {
  path: string;
  fh: FileHandle;
  source: ByteSource;
  refs: number;
  size: number;
  mtimeMs: number;
  ino: number;
  checkedAt: number;
  usedAt: number;
  retired: boolean;
  closing: Promise<void> | null;
}

export interface HandleCacheOptions {
  /** Most handles held open at once. */
  max?: number;
  /** A handle no request has used for this long is closed. */
  idleMs?: number;
  /** How long a file's size, mtime and inode are trusted before they are compared again. */
  recheckMs?: number;
  now?: () => number;
}

export function createHandleCache(opts: HandleCacheOptions = {}): HandleCache {
  const max = opts.max ?? 16;
  const idleMs = opts.idleMs ?? 1000;
  const recheckMs = opts.recheckMs ?? 1000;
  const now = opts.now ?? Date.now;
  const entries = new Map<string, Entry>();
  const opening = new Map<string, Promise<Entry>>();
  let closed = false;
  let timer: NodeJS.Timeout | null = null;
  let opens = 0;
  let hits = 0;

  const finish = (e: Entry): Promise<void> => {
    if (!e.closing) e.closing = e.fh.close().catch(() => undefined);
    return e.closing;
  };
  const retire = (e: Entry): Promise<void> => {
    e.retired = true;
    if (entries.get(e.path) === e) entries.delete(e.path);
    if (entries.size === 0 && timer) {
      clearInterval(timer);
      timer = null;
    }
    return e.refs === 0 ? finish(e) : Promise.resolve();
  };
  const sweep = (): void => {
    const t = now();
    for (const e of [...entries.values()]) if (e.refs === 0 && t - e.usedAt >= idleMs) void retire(e);
  };
  const lease = (e: Entry): HandleLease => {
    e.refs++;
    e.usedAt = now();
    let released = false;
    return {
      fh: e.fh,
      source: e.source,
      release: () => {
        if (released) return Promise.resolve();
        released = true;
        e.refs--;
        e.usedAt = now();
        return e.retired && e.refs === 0 ? finish(e) : Promise.resolve();
      },
    };
  };

  async function openEntry(path: string): Promise<Entry> {
    const fh = await open(path, 'r');
    opens++;
    let st;
    try {
      st = await fh.stat();
    } catch (err) {
      await fh.close().catch(() => undefined);
      throw err;
    }
    const t = now();
    return { path, fh, source: fileSource(fh, st.size, localVersion(st)), refs: 0, size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, checkedAt: t, usedAt: t, retired: false, closing: null };
  }

  return {
    async acquire(path, { recheck = false } = {}) {
      if (closed) {
        const e = await openEntry(path);
        e.retired = true;
        return lease(e);
      }
      const have = entries.get(path);
      if (have && !recheck && now() - have.checkedAt < recheckMs) {
        hits++;
        entries.delete(path); // most recent at the end
        entries.set(path, have);
        return lease(have);
      }
      if (have) {
        // the file may have been replaced: same path, different bytes
        const st = await stat(path).catch(() => null);
        if (!have.retired && st && st.size === have.size && st.mtimeMs === have.mtimeMs && st.ino === have.ino) {
          have.checkedAt = now();
          hits++;
          return lease(have);
        }
        if (!have.retired) void retire(have);
      }
      let p = opening.get(path);
      if (p) hits++; // joins an open already under way: no open of its own
      else {
        p = openEntry(path).finally(() => opening.delete(path));
        opening.set(path, p);
        p.then((e) => {
          if (closed) {
            e.retired = true;
            return;
          }
          const old = entries.get(path);
          if (old && old !== e) void retire(old);
          entries.set(path, e);
          for (const victim of entries.values()) {
            if (entries.size <= max) break;
            void retire(victim);
          }
          if (!timer) {
            timer = setInterval(sweep, Math.max(50, idleMs / 2));
            timer.unref();
          }
        }, () => undefined);
      }
      return lease(await p);
    },
    async close() {
      closed = true;
      // handles still opening are retired as they arrive and closed by the request awaiting them
      await Promise.all([...entries.values()].map(retire));
    },
    stats: () => ({ open: entries.size, opens, hits }),
  };
}
