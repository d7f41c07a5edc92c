// When another process may have written to the SQLite catalog, told by the kernel instead of
// asked of SQLite on every request. The read cache (src/catalog/catalog.ts readCache) must drop
// what it keeps when another process (a CLI ingest, `kdeliver partner secret add`) commits. Asking SQLite
// (data_version) takes and leaves a WAL read transaction: about 20 µs when warm, and 75-100 µs
// on a request that comes after the process was idle, which is nearly every request at a few
// hundred a second (bench/README.md, session 9). Every commit in WAL mode writes to the -wal
// file, and the kernel reports those writes (inotify, through fs.watch): so the cache asks SQLite
// only while such writes are recent, and once a second in any case.
//
// Why "recent" and not "once per report": a writer writes its frames to the -wal file and only
// then, after syncing them, publishes the commit in the shared-memory index, which the kernel
// does not report. A check made between the two sees no change. So every report opens a window
// (quietMs) in which the cache checks as it did before this file existed (at most once per
// millisecond and per turn of the event loop), long enough for the sync that follows the write.
// The check once a second bounds what a lost report or a sync slower than the window can cost.
import { watch, type FSWatcher } from 'node:fs';
import { basename, dirname } from 'node:path';

export interface WalWatch {
  /**
   * Whether the cache should ask SQLite now (`now`: Date.now()): a write to the catalog's files
   * was reported within the window, a second has passed since the last such answer, or the
   * watch failed (then always).
   */
  shouldCheck(now: number): boolean;
  close(): void;
}

/** A watch on the catalog file's directory, or null where the platform cannot watch it (then check as before). */
export function watchWal(dbFile: string, quietMs = 1000, pollMs = 1000): WalWatch | null {
  const names = new Set([basename(dbFile), `${basename(dbFile)}-wal`]);
  let lastWrite = Date.now();
  let lastPoll = Date.now();
  let failed = false;
  let watcher: FSWatcher;
  try {
    // not persistent: a catalog nobody closed must not keep the process alive
    watcher = watch(dirname(dbFile), { persistent: false }, (_event, name) => {
      // some platforms give no name: any change in the directory counts
      if (name === null || names.has(String(name))) lastWrite = Date.now();
    });
  } catch {
    return null;
  }
  watcher.on('error', () => {
    failed = true;
  });
  return {
    shouldCheck(now) {
      if (failed || now - lastWrite <= quietMs) return true;
      if (now - lastPoll >= pollMs) {
        lastPoll = now;
        return true;
      }
      return false;
    },
    close() {
      watcher.close();
    },
  };
}
