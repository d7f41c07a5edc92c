// The open-handle LRU the packager reads segments through: one open per file while it is in use,
// a replaced file seen as new bytes, and every descriptor closed on eviction, idleness and close.
import t from 'tap';
import { mkdtempSync, readdirSync, readlinkSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createHandleCache } from '../../src/media/file-handles.js';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server.js';

const dir = mkdtempSync(join(tmpdir(), 'kdeliver-handles-'));
// Open descriptors, but for libuv's inotify instance: the first fs.watch in the process (the SQLite
// catalog's, src/catalog/wal-watch.ts) opens it and libuv keeps it until the process ends, however
// many watches come and go (test/catalog/wal-watch.test.ts checks that a catalog's watch goes).
const fds = (): number => readdirSync('/proc/self/fd').filter((fd) => {
  try {
    return !readlinkSync(`/proc/self/fd/${fd}`).startsWith('anon_inode:inotify');
  } catch {
    return false; // closed since it was listed (the listing's own descriptor)
  }
}).length;
const file = (name: string, text: string): string => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};
const readAll = async (fh: import('node:fs/promises').FileHandle, n: number): Promise<string> => {
  const b = Buffer.alloc(n);
  const { bytesRead } = await fh.read(b, 0, n, 0);
  return b.subarray(0, bytesRead).toString();
};
const waitFor = async (cond: () => boolean): Promise<boolean> => {
  for (let i = 0; i < 100 && !cond(); i++) await new Promise((r) => setTimeout(r, 20));
  return cond();
};

t.test('concurrent and repeated leases share one open file', async (t) => {
  const c = createHandleCache({ idleMs: 60_000 });
  const a = file('a', 'alpha');
  const leases = await Promise.all(Array.from({ length: 10 }, () => c.acquire(a)));
  t.equal(c.stats().opens, 1, 'opened once for ten concurrent requests');
  t.equal(c.stats().hits, 9, 'the other nine counted as hits: they joined that open');
  t.equal(await readAll(leases[3].fh, 5), 'alpha');
  await Promise.all(leases.map((l) => l.release()));
  const again = await c.acquire(a);
  t.equal(c.stats().opens, 1, 'reused after release');
  await again.release();
  await c.close();
});

t.test('a file replaced on disk is opened again after the recheck interval', async (t) => {
  const c = createHandleCache({ idleMs: 60_000, recheckMs: 0 });
  const p = file('b', 'first');
  const l1 = await c.acquire(p);
  t.equal(await readAll(l1.fh, 16), 'first');
  await l1.release();
  const tmp = file('b.new', 'second version');
  renameSync(tmp, p);
  const l2 = await c.acquire(p);
  t.equal(await readAll(l2.fh, 32), 'second version', 'new bytes, not the old inode');
  t.equal(c.stats().opens, 2);
  await l2.release();
  await c.close();
});

t.test('descriptors are closed on eviction, when idle, and on close, never under a reader', async (t) => {
  const before = fds();
  const c = createHandleCache({ max: 2, idleMs: 100 });
  const paths = ['c1', 'c2', 'c3', 'c4'].map((n) => file(n, n));
  const held = await c.acquire(paths[0]);
  for (const p of paths.slice(1)) await (await c.acquire(p)).release();
  t.equal(c.stats().open, 2, 'at most two kept');
  t.equal(await readAll(held.fh, 2), 'c1', 'an evicted handle still serves the request holding it');
  await held.release();
  t.ok(await waitFor(() => fds() <= before + 2), 'the evicted handle is closed once released');
  t.ok(await waitFor(() => c.stats().open === 0 && fds() <= before), `idle handles closed (${fds()} open, ${before} before)`);

  const busy = await c.acquire(paths[1]);
  await c.close();
  t.equal(await readAll(busy.fh, 2), 'c2', 'close waits for the reader');
  await busy.release();
  const late = await c.acquire(paths[2]);
  t.equal(await readAll(late.fh, 2), 'c3', 'a lease after close still works');
  await late.release();
  t.ok(await waitFor(() => fds() <= before), `all closed (${fds()} open, ${before} before)`);
});

t.test('a missing file is an error and leaves nothing open', async (t) => {
  const before = fds();
  const c = createHandleCache();
  await t.rejects(c.acquire(join(dir, 'nope')), { code: 'ENOENT' });
  t.equal(c.stats().open, 0);
  await c.close();
  t.ok(await waitFor(() => fds() <= before));
});

t.test('the shared cache: one per server, closed with it and then made anew', async (t) => {
  const before = fds();
  const config = loadConfig({ KDELIVER_DATA_DIR: mkdtempSync(join(tmpdir(), 'kdeliver-handles-srv-')), KDELIVER_LOG_LEVEL: 'silent' });
  const app = await buildServer({ config });
  const c = app.handleCache;
  const other = await buildServer({ config });
  t.not(other.handleCache, c, 'another server, another cache');
  await other.close();
  await (await c.acquire(file('s1', 's1'))).release();
  t.equal(c.stats().open, 1);
  await app.close();
  t.equal(c.stats().open, 0, 'closed when the server closes');
  t.ok(await waitFor(() => fds() <= before), `its descriptors closed (${fds()} open, ${before} before)`);
  const again = await buildServer({ config });
  t.not(again.handleCache, c, 'a server built again on the configuration gets a new cache');
  await (await again.handleCache.acquire(file('s2', 's2'))).release();
  t.equal(again.handleCache.stats().open, 1, 'which keeps handles open again');
  await again.close();
  rmSync(config.dataDir, { recursive: true, force: true });
});
