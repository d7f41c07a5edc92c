// The kdeliver command (serve, copy-catalog, entries...) against a PostgreSQL catalog it cannot use:
// down, a wrong password, a database that does not exist, a schema newer than it knows. Each is one
// line naming the database (without its password) and what is wrong, exit code 1, never a stack
// trace. Before, all four printed the error's stack, and a wrong password or a missing database
// was node-postgres's bare message ("error: database "x" does not exist") naming no setting.
// The same failures inside a running server are CatalogUnavailableError (503), not a 500.
// Real parts: a throwaway PostgreSQL cluster with password authentication, the built command.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { startPostgres } from '../helpers/postgres.js';
import { freePort } from '../helpers/nginx.js';
import { binTarget, run } from '../helpers/command.js';
import { CatalogUnavailableError, openPgDatabase } from '../../src/catalog/pg/pool.js';

const cluster = await startPostgres(t);
const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-pgcli-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));

async function kdeliver(args: string[], databaseUrl: string) {
  return run(process.execPath, [binTarget(), ...args], {
    env: { KDELIVER_DATA_DIR: dataDir, KDELIVER_DATABASE_URL: databaseUrl, KDELIVER_SAMPLE_LIBRARY: 'false', KDELIVER_LOG_LEVEL: 'silent', PORT: String(await freePort()) },
    timeoutMs: 60_000,
  });
}

function oneLine(t: Test, r: { code: number | null; stderr: string }, expect: RegExp, what: string) {
  t.equal(r.code, 1, `${what}: exit code 1`);
  const lines = r.stderr.trim().split('\n');
  t.equal(lines.length, 1, `${what}: one line (${JSON.stringify(r.stderr.slice(0, 300))})`);
  t.match(lines[0], expect, `${what}: says what is wrong`);
  t.notMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
  t.notMatch(r.stderr, cluster.password, `${what}: no password`);
}

const good = await cluster.createDatabase();
const wrongPassword = good.replace(`:${cluster.password}@`, ':not-the-password@');
const missingDb = cluster.url('no_such_database');
const refused = `postgres://${cluster.user}:${cluster.password}@127.0.0.1:${await freePort()}/x`;

for (const command of [['entries', 'list'], ['copy-catalog'], ['serve']]) {
  t.test(`kdeliver ${command.join(' ')}`, async (t) => {
    if (command[0] === 'copy-catalog') {
      // copy-catalog needs a SQLite catalog to copy from: the data directory's, made by a command
      const made = await run(process.execPath, [binTarget(), 'partner', 'list'], { env: { KDELIVER_DATA_DIR: dataDir, KDELIVER_SAMPLE_LIBRARY: 'false' } });
      t.equal(made.code, 0, 'a SQLite catalog to copy');
    }
    oneLine(t, await kdeliver(command, refused), /^kdeliver: the catalog database postgres:\/\/kdeliver:\*\*\*@127\.0\.0\.1:\d+\/x is unavailable: .*ECONNREFUSED/, 'database down');
    oneLine(t, await kdeliver(command, wrongPassword), /^kdeliver: the catalog database .* is unavailable: password authentication failed/, 'wrong password');
    oneLine(t, await kdeliver(command, missingDb), /^kdeliver: the catalog database .*no_such_database is unavailable: database "no_such_database" does not exist/, 'missing database');
  });
}

t.test('a schema newer than this kdeliver: one line', async (t) => {
  const url = await cluster.createDatabase();
  t.equal((await kdeliver(['entries', 'list'], url)).code, 0, 'migrated');
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  await c.query('UPDATE kdeliver_schema SET version = 999');
  await c.end();
  oneLine(t, await kdeliver(['entries', 'list'], url), /^kdeliver: the catalog in .* has schema version 999, newer than this kdeliver knows \(\d+\): upgrade kdeliver$/, 'schema too new');
});

t.test('inside a server: a wrong password or a missing database is CatalogUnavailableError (503)', async (t) => {
  for (const [what, url] of [['wrong password', wrongPassword], ['missing database', missingDb]]) {
    const db = openPgDatabase(url, { connectTimeoutMs: 2000 });
    const e = await db.query('SELECT 1').then(() => null, (err: Error) => err);
    t.type(e, CatalogUnavailableError, `${what}: ${e?.message}`);
    t.equal((e as CatalogUnavailableError | null)?.httpStatus, 503);
    t.notMatch(e?.message ?? '', cluster.password, 'no password in the message');
    await db.close();
  }
});

// A command run on a PostgreSQL node's data directory with KDELIVER_DATABASE_URL forgotten made a
// SQLite catalog there, seeded it, and acted on it (`entries delete` removed a media file the
// PostgreSQL catalog's servers serve). The node's directory now says which catalog it belongs to.
t.test('a PostgreSQL node\'s data directory refuses a command without KDELIVER_DATABASE_URL', async (t) => {
  const { existsSync, readFileSync } = await import('node:fs');
  const nodeDir = mkdtempSync(join(tmpdir(), 'kdeliver-pgnode-'));
  t.teardown(() => rmSync(nodeDir, { recursive: true, force: true }));
  const url = await cluster.createDatabase();
  const env = { KDELIVER_DATA_DIR: nodeDir, KDELIVER_LOG_LEVEL: 'silent' };
  const onPg = await run(process.execPath, [binTarget(), 'entries', 'list'], { env: { ...env, KDELIVER_DATABASE_URL: url }, timeoutMs: 60_000 });
  t.equal(onPg.code, 0, onPg.stderr);
  t.match(readFileSync(join(nodeDir, 'postgresql-catalog'), 'utf8'), /^postgres:\/\/kdeliver:\*\*\*@127\.0\.0\.1:\d+\/\w+\n$/, 'the directory names its catalog, without the password');
  const forgotten = await run(process.execPath, [binTarget(), 'entries', 'delete', '1_audio001'], { env, timeoutMs: 60_000 });
  t.equal(forgotten.code, 2, 'refused');
  t.match(forgotten.stderr, /^kdeliver: .* is the data directory of a node of the PostgreSQL catalog postgres:\/\/kdeliver:\*\*\*@.*KDELIVER_DATABASE_URL is not set: set it/, forgotten.stderr);
  t.equal(forgotten.stderr.trim().split('\n').length, 1, 'in one line');
  t.notOk(existsSync(join(nodeDir, 'catalog.sqlite')), 'no SQLite catalog made');
  const stillThere = await run(process.execPath, [binTarget(), 'entries', 'list'], { env: { ...env, KDELIVER_DATABASE_URL: url }, timeoutMs: 60_000 });
  t.match(stillThere.stdout, /1_audio001/, 'the entry is still in the PostgreSQL catalog');
});

// Two ways a connection never becomes one, as a network gives them: something at the address that
// closes the connection (another service, a firewall's reset), and nothing that answers (a host
// dropping packets). node-postgres's words for them ("Connection terminated unexpectedly",
// "read ECONNRESET", "timeout expired") name no cause: the line says what to check.
t.test('a database address that closes the connection, or never answers: the line says what to check', async (t) => {
  const net = await import('node:net');
  const listen = (onConnection: (s: import('node:net').Socket) => void) => new Promise<import('node:net').Server>((resolve) => {
    const server = net.createServer(onConnection).listen(0, '127.0.0.1', () => resolve(server));
    t.teardown(() => server.close());
  });
  const held: import('node:net').Socket[] = [];
  t.teardown(() => held.forEach((s) => s.destroy()));
  const closing = await listen((s) => s.destroy());
  const silent = await listen((s) => { held.push(s); });
  const at = (server: import('node:net').Server) => `postgres://kdeliver:secret-pw@127.0.0.1:${(server.address() as import('node:net').AddressInfo).port}/kdeliver`;
  const closed = await kdeliver(['entries', 'list'], at(closing));
  t.equal(closed.code, 1);
  t.match(closed.stderr, /^kdeliver: the catalog database postgres:\/\/kdeliver:\*\*\*@127\.0\.0\.1:\d+\/kdeliver is unavailable: .* \(the connection was closed before PostgreSQL answered: is it PostgreSQL that listens at that address and port/, closed.stderr);
  const unanswered = await kdeliver(['entries', 'list'], at(silent));
  t.equal(unanswered.code, 1);
  t.match(unanswered.stderr, /is unavailable: .* \(no answer in time: is the host reachable, and PostgreSQL listening at that address and port\?\)/, unanswered.stderr);
  t.notMatch(closed.stderr + unanswered.stderr, /secret-pw/, 'no password');
});
