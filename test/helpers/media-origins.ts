// Real media origins for the remote-media tests, started on loopback by the test itself: an S3
// protocol server from npm (s3rver) driven through the real AWS SDK, and nginx (Debian package,
// installed as root when missing: system.ts) serving a media folder with byte ranges.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { s3Client } from '../../src/storage/s3-origin.js';
import { requireCommands } from './system.js';

interface Tap {
  teardown(fn: () => unknown): void;
  comment(...args: unknown[]): void;
}

export const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Every file under dir, as paths relative to it. */
export function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p));
    }
  };
  walk(dir);
  return out.sort();
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

export interface S3Store {
  endpoint: string;
  bucket: string;
  client: S3Client;
  /** The variables a kdeliver server reads this store with. */
  env(prefix: string): Record<string, string>;
  put(key: string, body: Buffer): Promise<void>;
  get(key: string): Promise<Buffer>;
  stop(): Promise<void>;
}

const KEY_ID = 'S3RVER';
const SECRET = 'S3RVER';

/** s3rver on a free loopback port with one empty bucket; stopped at teardown. */
export async function startS3(t: Tap, bucket = 'media'): Promise<S3Store> {
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-s3-'));
  const port = await freePort();
  const server = new S3rver({ address: '127.0.0.1', port, silent: true, directory: dir });
  await server.run();
  let running = true;
  const endpoint = `http://127.0.0.1:${port}`;
  const loc = { kind: 's3' as const, url: `s3://${bucket}`, bucket, prefix: '', endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyId: KEY_ID, secretAccessKey: SECRET };
  const client = s3Client(loc, { timeoutMs: 30_000, connectTimeoutMs: 5_000 });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const stop = async () => {
    if (!running) return;
    running = false;
    await server.close();
  };
  t.teardown(async () => {
    await stop();
    client.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  return {
    endpoint, bucket, client,
    env: (prefix) => ({
      KDELIVER_MEDIA_URL: `s3://${bucket}${prefix ? `/${prefix}` : ''}`, AWS_ENDPOINT_URL: endpoint, AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: KEY_ID, AWS_SECRET_ACCESS_KEY: SECRET, KDELIVER_S3_FORCE_PATH_STYLE: 'true',
    }),
    put: async (key, body) => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    get: async (key) => Buffer.from(await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray()),
    stop,
  };
}

export interface NginxOrigin {
  /** http://127.0.0.1:PORT */
  url: string;
  stop(): Promise<void>;
  start(): Promise<void>;
}

/**
 * nginx serving `root` at every location of `locations` (extra directives inside a server block,
 * e.g. a `location /media/ { alias ...; }`); on a fixed free port, so it can be stopped and
 * started again at the same address.
 */
export async function startNginx(t: Tap, locations: string): Promise<NginxOrigin> {
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
  sendfile on;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  default_type application/octet-stream;
  server {
    listen 127.0.0.1:${port};
    ${locations}
  }
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
  return { url, stop, start };
}
