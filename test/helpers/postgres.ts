// A throwaway PostgreSQL cluster for tests: Debian's own binaries (installed with apt-get when
// missing and running as root), initdb in a temp directory, pg_ctl on a free loopback port with
// the unix socket in that directory, a fresh database for each caller, and everything stopped and
// removed when the test file ends (also when it fails or the process exits on an error).
// One cluster per test process (tap runs each test file in its own process), started on first use.
import { spawnSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import tap from 'tap';
import { requirePackage } from './system.js';
import type { CatalogChange, PgCatalog } from '../../src/catalog/pg/catalog.js';

interface Tap {
  comment(...args: unknown[]): void;
  teardown(fn: () => unknown): void;
}

export interface PgCluster {
  host: string;
  port: number;
  user: string;
  password: string;
  /** The cluster's directory (data/, the socket, the log). */
  dir: string;
  /** postgres://user:pass@127.0.0.1:port/db */
  url(db: string): string;
  /** Creates a new empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server at once (as a crash or an unplugged database would), keeping the files. */
  kill(): void;
  /** Starts it again after kill(), on the same port; nothing when it runs. */
  restart(): void;
  stop(): void;
}

const USER = 'kdeliver';
const PASSWORD = 'kdeliver-test-pw';

/** Debian's PostgreSQL binaries, newest version first; undefined when not installed. */
export function postgresBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb')) && existsSync(join(root, v, 'bin', 'pg_ctl')));
  versions.sort((a, b) => Number(b) - Number(a));
  return versions[0] && join(root, versions[0], 'bin');
}

const isRoot = () => typeof process.getuid === 'function' && process.getuid() === 0;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

let cluster: Promise<PgCluster> | undefined;
let databases = 0;

/** The test process's cluster, started on first use and removed when the process ends. */
export function startPostgres(t: Tap): Promise<PgCluster> {
  cluster ??= makeCluster(t);
  return cluster;
}

/** A fresh database on the test process's cluster: its URL. */
export async function pgDatabase(t: Tap): Promise<string> {
  return (await startPostgres(t)).createDatabase();
}

async function makeCluster(t: Tap): Promise<PgCluster> {
  requirePackage(t, 'postgresql', () => postgresBinDir() !== undefined);
  const bin = postgresBinDir()!;
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-pg-'));
  const data = join(dir, 'data');
  // initdb and postgres refuse to run as root: as root the cluster belongs to Debian's postgres user
  const asPostgres = isRoot();
  const owner = asPostgres ? Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim()) : undefined;
  const ownerGid = asPostgres ? Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim()) : undefined;
  if (asPostgres && !Number.isInteger(owner)) throw new Error('running as root but there is no `postgres` user: apt-get install -y postgresql makes it');
  const run = (cmd: string, args: string[]) => {
    const argv = asPostgres ? ['runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args]] as const : [join(bin, cmd), args] as const;
    const res = spawnSync(argv[0], argv[1] as string[], { encoding: 'utf8', cwd: dir });
    if (res.status !== 0) {
      const log = existsSync(join(dir, 'log')) ? readFileSync(join(dir, 'log'), 'utf8').slice(-2000) : '';
      throw new Error(`${cmd} ${args.join(' ')} failed (${res.status}): ${res.stderr}${res.stdout}\n${log}`);
    }
    return res.stdout;
  };
  const pwfile = join(dir, 'pw');
  writeFileSync(pwfile, PASSWORD);
  if (asPostgres) {
    chownSync(dir, owner!, ownerGid!);
    chownSync(pwfile, owner!, ownerGid!);
  }
  run('initdb', ['-D', data, '-U', USER, `--pwfile=${pwfile}`, '--auth-local=trust', '--auth-host=scram-sha-256',
    '-E', 'UTF8', '--locale=C', '--no-sync']);
  let port = 0;
  let running = false;
  // fsync off: a test cluster survives a killed server (kill()), not a crashed machine
  const start = () => {
    if (running) return;
    run('pg_ctl', ['-D', data, '-l', join(dir, 'log'), '-w', '-t', '60', '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c max_connections=200`, 'start']);
    running = true;
  };
  const stopWith = (mode: 'fast' | 'immediate') => {
    if (!running) return;
    running = false;
    try {
      run('pg_ctl', ['-D', data, '-m', mode, '-w', 'stop']);
    } catch {
      // already down
    }
  };
  const remove = () => {
    stopWith('fast');
    rmSync(dir, { recursive: true, force: true });
  };
  // on any way out of the process: a failed test throws (exit); tap's timeout and ^C send a
  // signal, which is re-raised once the cluster is gone (a SIGKILL leaves it behind: nothing can run then)
  process.once('exit', remove);
  const onSignal = (sig: NodeJS.Signals) => {
    remove();
    process.kill(process.pid, sig);
  };
  for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.once(sig, onSignal);
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      start();
      break;
    } catch (e) {
      // another process took the port between freePort and postgres binding it
      if (attempt >= 3) {
        remove();
        throw e;
      }
    }
  }
  t.comment(`PostgreSQL (${bin}) on 127.0.0.1:${port}, cluster in ${dir}`);
  const url = (db: string) => `postgres://${USER}:${encodeURIComponent(PASSWORD)}@127.0.0.1:${port}/${db}`;
  const c: PgCluster = {
    host: '127.0.0.1', port, user: USER, password: PASSWORD, dir, url,
    async createDatabase(name?: string) {
      const db = name ?? `test_${process.pid}_${++databases}`;
      const client = new pg.Client({ connectionString: url('postgres') });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE "${db}"`);
      } finally {
        await client.end();
      }
      return url(db);
    },
    kill: () => stopWith('immediate'),
    restart: start,
    stop: remove,
  };
  // the root test's teardown: the cluster outlives the subtest that happened to start it
  tap.teardown(() => {
    process.removeListener('exit', remove);
    for (const sig of ['SIGTERM', 'SIGINT', 'SIGHUP'] as const) process.removeListener(sig, onSignal);
    remove();
  });
  return c;
}

/** Resolves with the first change matching `pred` that catalog `c` hears (LISTEN/NOTIFY), or rejects after `ms`. */
export function heard(c: PgCatalog, pred: (ch: CatalogChange) => boolean, ms = 1000): Promise<{ change: CatalogChange; afterMs: number }> {
  const start = performance.now();
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no matching change within ${ms} ms`));
    }, ms);
    const off = c.subscribe((change) => {
      if (!pred(change)) return;
      clearTimeout(timer);
      off();
      resolve({ change, afterMs: performance.now() - start });
    });
  });
}
