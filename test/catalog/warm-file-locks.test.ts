// The server reads its SQLite catalog file into the page cache after start (src/catalog/warm-file.ts).
// It used to close that file when done, and closing any descriptor of a file drops every POSIX
// lock the process holds on it, SQLite's own included: an outside connection to the catalog (an
// operator's sqlite3, a backup script) then found no other reader, checkpointed and removed the
// WAL the server was still writing to, and the server's next committed writes were lost at a
// crash (or the file was corrupted). Real parts: the installed `kdeliver serve`, SQLite's own
// shell (sqlite3) on the catalog, api_v3 writes, kill -9.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedCommand } from '../helpers/command.js';
import { generateKs } from '../../src/access/ks.js';
import { requireCommands } from '../helpers/system.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-warm-locks-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);

requireCommands(t, ['sqlite3'], 'sqlite3');

/** An operator's look at the catalog with SQLite's own shell: it opens, queries and closes. */
function outsideLook(dbFile: string): number {
  return Number(execFileSync('sqlite3', [dbFile, 'SELECT count(*) FROM entries'], { encoding: 'utf8' }).trim());
}

/** The lock lines of /proc/locks on this file (its inode), by process id. */
function lockHolders(file: string): number[] {
  const inode = statSync(file).ino;
  return readFileSync('/proc/locks', 'utf8').split('\n')
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 6 && f[5].split(':')[2] === String(inode))
    .map((f) => Number(f[4]));
}

t.test('the server keeps its lock on the catalog after reading it into the page cache', async (t) => {
  const dataDir = join(work, 'data');
  const env = { KDELIVER_DATA_DIR: dataDir };
  const s = await cmd.serve(env);
  await s.waitForLog(/catalog file read into the page cache/);
  t.match(s.log(), /catalog file read into the page cache/, 'the warm read ran');
  const db = join(dataDir, 'catalog.sqlite');
  t.ok(lockHolders(db).includes(s.pid), 'the server holds a lock on catalog.sqlite');

  t.ok(outsideLook(db) > 0, 'an outside connection reads the catalog');
  t.ok(existsSync(`${db}-wal`), 'and leaves the WAL the server writes to (it was removed under the server)');

  // a write the server confirmed survives a crash
  const admin = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 600, now: Math.floor(Date.now() / 1000), version: 2 });
  const update = await fetch(`${s.url}/api_v3/service/baseEntry/action/update?format=1&ks=${admin}&entryId=1_rcit0qgs&baseEntry:objectType=KalturaBaseEntry&baseEntry:name=Renamed%20before%20the%20crash`);
  t.match(await update.json(), { name: 'Renamed before the crash' }, 'the rename is answered');
  await s.kill();

  const again = await cmd.serve(env);
  const got = await (await fetch(`${again.url}/api_v3/service/baseEntry/action/get?format=1&ks=${admin}&entryId=1_rcit0qgs`)).json();
  t.equal(got.name, 'Renamed before the crash', 'the rename is there after kill -9 and a restart');
  t.equal(await again.stop(), 0);
});
