// nginx (Debian package, installed as root when missing: system.ts) started by a test on a free
// loopback port, with its whole prefix (configuration, pid, logs, temporary files) in a temporary
// folder removed at teardown. The port is fixed for the nginx's life, so a test can stop and
// start it again at the same address (an origin going away mid-answer).
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommands } from './system.js';

interface Tap {
  teardown(fn: () => unknown): void;
  comment(...args: unknown[]): void;
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as { port: number };
      srv.close(() => resolve(port));
    });
  });
}

export interface NginxOrigin {
  /** http://127.0.0.1:PORT */
  url: string;
  port: number;
  /** The nginx's own folder (configuration, logs, temporary files); free for the test's files too. */
  prefix: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * nginx with `http(port, prefix)` inside its http block (server blocks, cache paths, maps): the
 * rest of the configuration (pid, logs, temporary paths under the prefix) is written here.
 */
export async function startNginxWith(t: Tap, http: (port: number, prefix: string) => string): Promise<NginxOrigin> {
  requireCommands(t, ['nginx'], 'nginx');
  const prefix = mkdtempSync(join(tmpdir(), 'kdeliver-nginx-'));
  chmodSync(prefix, 0o755);
  for (const d of ['logs', 'tmp']) mkdirSync(join(prefix, d));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  writeFileSync(join(prefix, 'nginx.conf'), `
${asRoot ? 'user root;' : ''}
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  default_type application/octet-stream;
  ${http(port, prefix)}
}
`);
  const url = `http://127.0.0.1:${port}`;
  let proc: ChildProcess | null = null;
  const start = async () => {
    const child = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf'), '-g', 'daemon off; master_process on;'], { stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr!.setEncoding('utf8').on('data', (d: string) => (err += d));
    proc = child;
    for (let i = 0; i < 150; i++) {
      if (child.exitCode !== null) break;
      if (await fetch(`${url}/`).then(() => true, () => false)) return;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`nginx did not start: ${err}${readFileSync(join(prefix, 'logs', 'error.log'), 'utf8').slice(-2000)}`);
  };
  const stop = async () => {
    const p = proc;
    proc = null;
    if (!p || p.exitCode !== null) return;
    // TERM: nginx's fast shutdown, which closes the connections it is answering on
    const ended = new Promise((r) => p.once('exit', r));
    p.kill('SIGTERM');
    await ended;
  };
  await start();
  t.teardown(async () => {
    await stop();
    rmSync(prefix, { recursive: true, force: true });
  });
  return { url, port, prefix, stop, start };
}

/**
 * nginx serving files with `locations` (directives inside one server block, e.g. a
 * `location /media/ { alias ...; }`), with sendfile as a real origin uses it.
 */
export function startNginx(t: Tap, locations: string): Promise<NginxOrigin> {
  return startNginxWith(t, (port) => `sendfile on;\n  server {\n    listen 127.0.0.1:${port};\n    ${locations}\n  }`);
}
