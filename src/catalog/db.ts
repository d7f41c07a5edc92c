import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations } from './migrations.js';
import { CatalogSchemaTooNewError, CatalogUnavailableError } from './errors.js';

export type Db = Database.Database;

/** Opens (creating if needed) the catalog database and brings its schema up to date. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true });
    keepPrivate(file);
  }
  let db: Db | null = null;
  try {
    db = new Database(file);
    // first: two processes making a new catalog at once wait for each other's switch to WAL
    // rather than fail with SQLITE_BUSY
    db.pragma('busy_timeout = 5000');
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    migrate(db);
    return db;
  } catch (e) {
    db?.close();
    // A catalog file whose header or pages were overwritten: one line naming the file and what
    // to do (it was SQLite's bare "file is not a database" with a stack). Nothing has been
    // written to it: SQLite refuses before its first change.
    const code = (e as { code?: unknown }).code;
    if (code === 'SQLITE_NOTADB' || code === 'SQLITE_CORRUPT') {
      throw new CatalogUnavailableError(`the catalog ${file} cannot be read (${code}: ${(e as Error).message}): it is damaged; restore it from a backup, or move it away (with its -wal and -shm files) to start a new, empty catalog`, { cause: e });
    }
    throw e;
  }
}

/**
 * How long a process opening the catalog waits for another one's migration (its write lock) before
 * giving up: a new index over a big catalog's entries may take minutes (README, "A big catalog"),
 * and a server started beside a migrating `kdeliver` command must wait for it, not fail.
 */
const MIGRATION_WAIT_MS = 10 * 60_000;

/**
 * Brings the schema up to date, one migration per transaction. Several processes may open one
 * data directory at the same moment (a server and a `kdeliver` command started together after an
 * upgrade): each migration's transaction takes the write lock first (BEGIN IMMEDIATE) and reads
 * the version under it, so a process that waited for another's migration finds it done instead of
 * running it a second time ("table ... already exists"). A schema newer than this kdeliver knows
 * is refused with CatalogSchemaTooNewError (one line from the command, as on PostgreSQL), and
 * nothing is written to it.
 */
export function migrate(db: Db, file = db.name): void {
  const tooNew = (current: number) => new CatalogSchemaTooNewError(`the catalog ${file} has schema version ${current}, newer than this kdeliver knows (${migrations.length}): upgrade kdeliver`);
  const version = () => db.pragma('user_version', { simple: true }) as number;
  const current = version();
  if (current > migrations.length) throw tooNew(current);
  if (current === migrations.length) return;
  const busy = db.pragma('busy_timeout', { simple: true }) as number;
  db.pragma(`busy_timeout = ${MIGRATION_WAIT_MS}`);
  try {
    for (;;) {
      const done = db.transaction(() => {
        const v = version();
        if (v > migrations.length) throw tooNew(v);
        if (v === migrations.length) return true;
        db.exec(migrations[v]);
        db.pragma(`user_version = ${v + 1}`);
        return false;
      }).immediate();
      if (done) return;
    }
  } finally {
    db.pragma(`busy_timeout = ${busy}`);
  }
}

/**
 * The catalog holds every partner's admin secret (an admin KS can be made from it) and the content
 * keys of encrypted entries: readable by its owner only, as secrets.json is. A new catalog is made
 * so (SQLite gives its -wal and -shm files the database's mode); an older one, made under the
 * usual umask (0644), is made private when it is opened, where its owner opens it.
 */
function keepPrivate(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  // a -wal or -shm left beside it (a catalog moved away after a crash) is taken up by SQLite as is
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    try {
      if ((statSync(f).mode & 0o077) !== 0) chmodSync(f, 0o600);
    } catch {
      // no such file, or not ours (another user's catalog we may read): left as it is
    }
  }
}
