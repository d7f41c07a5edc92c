// The SQLite catalog asks SQLite whether another process committed only while the kernel reports
// writes to its files (src/catalog/wal-watch.ts), and once a second in any case. These tests use
// a real file and a second real connection, as `kdeliver ingest` or `kdeliver ks revoke` would.
import t from 'tap';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCatalog } from '../../src/catalog/catalog.js';
import { openDatabase } from '../../src/catalog/db.js';
import { sampleCatalog } from '../selection/fixtures/sample-catalog.js';
import { watchWal } from '../../src/catalog/wal-watch.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-wal-watch-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

t.test('a write by another connection opens the window; quiet, only the once-a-second check', async (t) => {
  const file = join(work, 'watch.sqlite');
  const writer = openDatabase(file);
  t.teardown(() => writer.close());
  const watch = watchWal(file, 50, 400);
  t.ok(watch, 'this platform can watch the directory');
  t.teardown(() => watch!.close());
  t.ok(watch!.shouldCheck(Date.now()), 'just opened: checks (a write may have come before the watch)');
  await sleep(120);
  t.notOk(watch!.shouldCheck(Date.now()), 'quiet: no check');

  writer.prepare('INSERT INTO revoked_sessions (key, expires_at) VALUES (?, ?)').run('k-watch', 1);
  await sleep(10);
  t.ok(watch!.shouldCheck(Date.now()), 'a commit reported: checks');
  t.ok(watch!.shouldCheck(Date.now()), 'and again within the window');
  await sleep(120);
  t.notOk(watch!.shouldCheck(Date.now()), 'quiet again after the window');

  await sleep(400);
  t.ok(watch!.shouldCheck(Date.now()), 'the check once per poll period, writes or not');
  t.notOk(watch!.shouldCheck(Date.now()), 'once');
});

t.test('the catalog sees another process commit at once, also after a quiet second', async (t) => {
  const file = join(work, 'catalog.sqlite');
  const catalog = await sampleCatalog(t, file);
  const flavors = await catalog.listFlavors('1_rcit0qgs');
  const gen = catalog.generation();
  // past the window its own writes opened, then one read to use up the once-a-second check
  await sleep(1_100);
  t.equal(await catalog.listFlavors('1_rcit0qgs'), flavors, 'kept');
  t.equal(catalog.generation(), gen, 'nothing changed');

  const other = openDatabase(file);
  t.teardown(() => other.close());
  other.prepare('UPDATE flavor_assets SET bitrate = bitrate + 1 WHERE id = ?').run(flavors[0].id);
  await sleep(10);
  t.not(catalog.generation(), gen, 'the change is seen: a new generation');
  const again = await catalog.listFlavors('1_rcit0qgs');
  t.equal(again.find((f) => f.id === flavors[0].id)?.bitrate, flavors[0].bitrate + 1, 'read again from SQLite');

  other.prepare("INSERT INTO revoked_sessions (key, expires_at) VALUES ('k-other', ?)").run(Math.floor(Date.now() / 1000) + 600);
  await sleep(10);
  t.equal(await catalog.isRevoked('k-other', Math.floor(Date.now() / 1000)), true, 'a revocation by another process holds at once');
});

// the kernel's watches of this process: the "inotify wd:" lines of libuv's inotify descriptor
function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) !== 'anon_inode:inotify') continue;
      n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
    } catch {
      // closed since it was listed
    }
  }
  return n;
}

t.test("closing a catalog removes its watch: none is left behind", async (t) => {
  const dir = join(work, 'closing');
  mkdirSync(dir);
  const before = inotifyWatches();
  const catalog = createCatalog(openDatabase(join(dir, 'catalog.sqlite')));
  t.equal(inotifyWatches(), before + 1, 'one watch on the catalog directory while it is open');
  await catalog.close();
  t.equal(inotifyWatches(), before, 'gone once it is closed');
});

t.test('an in-memory catalog has no files to watch and checks as before', async (t) => {
  const catalog = createCatalog(openDatabase(':memory:'));
  t.teardown(() => catalog.close());
  t.equal(typeof catalog.generation(), 'number');
});
