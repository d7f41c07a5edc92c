// A throwaway PostgreSQL cluster for a benchmark, as the tests make theirs: Debian's binaries,
// initdb in a temporary directory (as the `postgres` user when we are root: initdb refuses root),
// pg_ctl on a free loopback port with durability off (fsync, full pages: a benchmark's cluster
// need not survive a crash), removed by stop().
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './procs.mjs';
import { run } from './system.mjs';

const USER = 'kdeliver';
const PASSWORD = 'kdeliver-bench-pw';

function binDir() {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter((v) => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error('PostgreSQL is not installed: run `sudo apt-get install -y postgresql`');
  return join(root, versions[0], 'bin');
}

/** Starts the cluster; resolves to { url(db), createDatabase(name), stop() }. */
export async function startPostgres() {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-bench-pg-'));
  const asRoot = process.getuid?.() === 0;
  const id = (flag) => Number(spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' }).stdout.trim());
  const pg = (cmd, args) => (asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, cmd), ...args], { cwd: dir }) : run(join(bin, cmd), args, { cwd: dir }));
  writeFileSync(join(dir, 'pw'), PASSWORD);
  if (asRoot) for (const p of [dir, join(dir, 'pw')]) chownSync(p, id('-u'), id('-g'));
  pg('initdb', ['-D', join(dir, 'data'), '-U', USER, `--pwfile=${join(dir, 'pw')}`, '--auth-local=trust', '--auth-host=scram-sha-256', '-E', 'UTF8', '--locale=C', '--no-sync']);
  const port = await freePort();
  pg('pg_ctl', ['-D', join(dir, 'data'), '-l', join(dir, 'log'), '-w', '-t', '60', '-o',
    `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200`, 'start']);
  const url = (db) => `postgres://${USER}:${PASSWORD}@127.0.0.1:${port}/${db}`;
  return {
    port, url,
    createDatabase(name) {
      pg('psql', ['-h', dir, '-p', String(port), '-U', USER, '-d', 'postgres', '-c', `CREATE DATABASE "${name}"`]);
      return url(name);
    },
    stop() {
      try {
        pg('pg_ctl', ['-D', join(dir, 'data'), '-m', 'fast', '-w', 'stop']);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}
