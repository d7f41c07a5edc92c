// KDELIVER_DATABASE_URL: unset is the SQLite catalog; a postgres:// URL is the PostgreSQL one;
// anything else is refused at start with a message naming the variable, never its password.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig } from '../../src/config.js';

const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-config-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
const load = (url?: string) => loadConfig({ KDELIVER_DATA_DIR: dataDir, ...(url !== undefined ? { KDELIVER_DATABASE_URL: url } : {}) });

t.equal(load().databaseUrl, null, 'unset: SQLite');
t.equal(load('').databaseUrl, null, 'empty: SQLite');
t.equal(load('postgres://k:pw@db.internal:5432/kdeliver').databaseUrl, 'postgres://k:pw@db.internal:5432/kdeliver');
t.equal(load('postgresql://k@127.0.0.1/kdeliver').databaseUrl, 'postgresql://k@127.0.0.1/kdeliver');
for (const bad of ['mysql://k:s3cret-pw@h/db', 'postgres://k:s3cret-pw@h', 'postgres://k:s3cret-pw@h/', 'not a url s3cret-pw']) {
  let e: Error | undefined;
  try {
    load(bad);
  } catch (err) {
    e = err as Error;
  }
  t.type(e, ConfigError, `${bad}: refused`);
  t.match(e?.message, /^KDELIVER_DATABASE_URL=.*expected postgres:\/\/user:password@host:port\/database/);
  t.notMatch(e?.message, 's3cret-pw', `${bad}: the password is not echoed`);
}
