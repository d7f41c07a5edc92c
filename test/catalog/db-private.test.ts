// The SQLite catalog holds partners' admin secrets and content keys: src/catalog/db.ts makes it,
// and its -wal and -shm files, readable by their owner only, each checked on its own (a crash can
// leave a -wal made under the usual umask beside a catalog already made private).
import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openDatabase } from '../../src/catalog/db.js';

const dir = mkdtempSync(join(tmpdir(), 'kdeliver-db-private-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const mode = (f: string) => statSync(f).mode & 0o777;

t.test('a new catalog is 0600, with its -wal and -shm; a looser -wal or -shm beside a private catalog is tightened at open', async (t) => {
  const file = join(dir, 'catalog.sqlite');
  const first = openDatabase(file);
  t.equal(mode(file), 0o600, 'made private');
  t.equal(mode(`${file}-wal`), 0o600, 'its -wal');
  t.equal(mode(`${file}-shm`), 0o600, 'its -shm');
  // a -wal loosened while the catalog is in use (an older kdeliver's, a copy put back)
  chmodSync(`${file}-wal`, 0o644);
  chmodSync(`${file}-shm`, 0o644);
  const second = openDatabase(file);
  t.equal(mode(`${file}-wal`), 0o600, 'the -wal is tightened by the next open');
  t.equal(mode(`${file}-shm`), 0o600, 'and the -shm');
  second.close();
  first.close();
});
