// A data directory whose SQLite catalog a newer kdeliver migrated, or whose file was damaged (a
// few bytes of its header overwritten): `kdeliver serve` and the catalog commands say so in one
// line naming the file and what to do, exit 1, and leave the file as it was. Both printed a stack
// trace (a bare Error, and better-sqlite3's "SqliteError: file is not a database"). Real parts:
// the installed `kdeliver` command, a catalog it made itself, the sqlite file changed by hand.
import t, { type Test } from 'tap';
import { mkdtempSync, openSync, readFileSync, rmSync, writeSync, closeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { installedCommand } from '../helpers/command.js';
import { migrations } from '../../src/catalog/migrations.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-catalog-damaged-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);
const md5 = (file: string) => createHash('md5').update(readFileSync(file)).digest('hex');

/** A data directory with a partner in its catalog, made by the command, closed cleanly (no -wal left). */
async function dataDir(t: Test, name: string): Promise<{ env: Record<string, string>; db: string }> {
  const dir = join(work, name);
  const env = { KDELIVER_DATA_DIR: dir, NODE_ENV: 'production' };
  const made = await cmd.kdeliver(['partner', 'add', '--name', 'Mine'], env);
  t.equal(made.code, 0, `partner add: ${made.stderr}`);
  return { env, db: join(dir, 'catalog.sqlite') };
}

function oneLine(t: Test, r: { code: number | null; stderr: string }, re: RegExp, what: string): void {
  t.equal(r.code, 1, `${what}: exit 1`);
  t.match(r.stderr, re, `${what}: says so`);
  t.equal(r.stderr.trim().split('\n').length, 1, `${what}: one line, no stack trace`);
}

t.test('a catalog of a newer schema: one line, exit 1, the file untouched', async (t) => {
  const { env, db } = await dataDir(t, 'newer');
  const sql = new Database(db);
  sql.pragma(`user_version = ${migrations.length + 1}`);
  sql.close();
  const before = md5(db);
  oneLine(t, await cmd.kdeliver(['serve'], { ...env, PORT: '0' }), new RegExp(`^kdeliver: the catalog ${db} has schema version ${migrations.length + 1}, newer than this kdeliver knows \\(${migrations.length}\\): upgrade kdeliver$`, 'm'), 'serve');
  oneLine(t, await cmd.kdeliver(['partner', 'list'], env), /newer than this kdeliver knows/, 'partner list');
  t.equal(md5(db), before, 'the catalog file is as it was');
});

t.test('a catalog file with its header overwritten: one line naming it and what to do, exit 1, the file untouched', async (t) => {
  const { env, db } = await dataDir(t, 'damaged');
  const fd = openSync(db, 'r+');
  writeSync(fd, Buffer.from('not a sqlite header!'), 0, 20, 0);
  closeSync(fd);
  const before = md5(db);
  const said = /^kdeliver: the catalog \S+catalog\.sqlite cannot be read \(SQLITE_NOTADB: file is not a database\): it is damaged; restore it from a backup, or move it away \(with its -wal and -shm files\) to start a new, empty catalog$/m;
  oneLine(t, await cmd.kdeliver(['serve'], { ...env, PORT: '0' }), said, 'serve');
  oneLine(t, await cmd.kdeliver(['entries', 'list'], env), said, 'entries list');
  t.equal(md5(db), before, 'the catalog file is as it was');
});
