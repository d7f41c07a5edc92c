import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { migrations } from './migrations.js';

export type Db = Database.Database;

/** Opens (creating if needed) the catalog database and brings its schema up to date. */
export function openDatabase(file: string): Db {
  if (file !== ':memory:') {
    mkdirSync(dirname(file), { recursive: true });
    keepPrivate(file);
  }
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  migrate(db);
  return db;
}

export function migrate(db: Db): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  if (current > migrations.length) {
    throw new Error(`catalog schema version ${current} is newer than this kdeliver (${migrations.length}); upgrade kdeliver`);
  }
  for (let v = current; v < migrations.length; v++) {
    db.transaction(() => {
      db.exec(migrations[v]);
      db.pragma(`user_version = ${v + 1}`);
    })();
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
