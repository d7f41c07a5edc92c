// A data directory's SQLite catalog across kdeliver versions (src/catalog/db.ts migrate):
// - made by an older kdeliver and opened by several processes at the same moment (a server and a
//   `kdeliver` command started together after an upgrade): one migrates, the others wait for it and
//   find nothing to do. The second used to run the same migration again and fail with
//   "table ... already exists".
// - made by a newer kdeliver (a downgrade): refused in one line naming the catalog, exit 1, and
//   the file left as it was. It used to be a stack trace.
// An older version's schema is its migrations: they are never edited once shipped
// (src/catalog/migrations.ts), so the first N of today's list are exactly what that version ran.
import t from 'tap';
import Database from 'better-sqlite3';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { migrations } from '../../src/catalog/migrations.js';
import { openDatabase } from '../../src/catalog/db.js';
import { installedCommand } from '../helpers/command.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-sqlite-migrate-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

/** A catalog file at schema version `version`, as the kdeliver that knew that many migrations left it. */
function catalogAt(file: string, version: number): void {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  for (let v = 0; v < version; v++) db.transaction(() => { db.exec(migrations[v]); db.pragma(`user_version = ${v + 1}`); })();
  db.close();
}

// the version of kdeliver bb3c6f0 (import-kaltura's source updatedAt, migration 8): the next
// migration, 9, makes the entry_keys table
const OLD = 8;

t.test('two processes opening an older catalog at once: one migrates, the other waits and finds it done', async (t) => {
  const file = join(work, 'race.sqlite');
  catalogAt(file, OLD);
  // the other process: takes the write lock, runs migration 9 as openDatabase does, and holds the
  // lock a while before it commits, so this process's open starts in the middle of that migration
  const require = createRequire(import.meta.url);
  const child = spawn(process.execPath, ['-e', `
    const Database = require(${JSON.stringify(require.resolve('better-sqlite3'))});
    const db = new Database(process.env.FILE);
    db.exec('BEGIN IMMEDIATE');
    db.exec(process.env.SQL);
    db.pragma('user_version = ${OLD + 1}');
    process.stdout.write('migrating\\n');
    setTimeout(() => { db.exec('COMMIT'); db.close(); }, 1500);
  `], { env: { ...process.env, FILE: file, SQL: migrations[OLD] }, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<number | null>((r) => child.on('exit', r));
  await new Promise<void>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('migrating')) resolve(); });
    child.on('exit', () => reject(new Error('the migrating process ended before it held the lock')));
  });
  // openDatabase reads the version as 8 here, before the other process commits its migration 9
  const db = openDatabase(file);
  t.equal(db.pragma('user_version', { simple: true }), migrations.length, 'brought up to date');
  t.equal(db.prepare("SELECT COUNT(*) FROM sqlite_master WHERE name = 'entry_keys'").pluck().get(), 1, 'migration 9 ran once');
  db.close();
  t.equal(await exited, 0, 'the other process committed its migration');
});

t.test('a catalog made by a newer kdeliver: one line naming it, exit 1, the file untouched', async (t) => {
  const dataDir = join(work, 'newer');
  mkdirSync(dataDir);
  const file = join(dataDir, 'catalog.sqlite');
  catalogAt(file, migrations.length);
  {
    // what the next kdeliver would leave: its version, one more than this one knows
    const db = new Database(file);
    db.pragma(`user_version = ${migrations.length + 1}`);
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
  }
  const sum = () => createHash('sha256').update(readFileSync(file)).digest('hex');
  const before = sum();
  const kd = installedCommand(t, join(work, 'cmd'));
  for (const args of [['partner', 'list'], ['serve']]) {
    const r = await kd.kdeliver(args, { KDELIVER_DATA_DIR: dataDir, PORT: '0', KDELIVER_LOG_LEVEL: 'silent' });
    t.equal(r.code, 1, `kdeliver ${args.join(' ')}: exit 1`);
    t.equal(r.stderr, `kdeliver: the catalog ${file} has schema version ${migrations.length + 1}, newer than this kdeliver knows (${migrations.length}): upgrade kdeliver\n`, `kdeliver ${args.join(' ')}: one line`);
  }
  t.equal(sum(), before, 'the catalog file is as it was');
  const db = new Database(file, { readonly: true });
  t.equal(db.pragma('user_version', { simple: true }), migrations.length + 1);
  db.close();
});
