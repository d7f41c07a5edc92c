// Real media origins for the remote-media tests, started on loopback by the test itself: an S3
// protocol server from npm (s3rver) driven through the real AWS SDK, and nginx (./nginx.ts)
// serving a media folder with byte ranges.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { CreateBucketCommand, GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import S3rver from 's3rver';
import { s3Client } from '../../src/storage/s3-origin.js';
import { freePort } from './nginx.js';

export { freePort, startNginx, type NginxOrigin } from './nginx.js';

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
  const loc = { kind: 's3' as const, url: `s3://${bucket}`, bucket, prefix: '', endpoint, region: 'us-east-1', forcePathStyle: true, accessKeyId: KEY_ID, secretAccessKey: SECRET, sessionToken: null };
  const client = s3Client(loc, { timeoutMs: 30_000, connectTimeoutMs: 5_000 });
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  const stop = async () => {
    if (!running) return;
    running = false;
    // close() waits for every open connection to end; a client's pooled connection that is not
    // idle at that moment would keep a stopped store running (and a test waiting for it), so after
    // a moment the rest are cut, as a store going down cuts them
    const closed = server.close();
    const cut = setTimeout(() => (server as unknown as { httpServer?: { closeAllConnections(): void } }).httpServer?.closeAllConnections(), 2_000);
    try {
      await closed;
    } finally {
      clearTimeout(cut);
    }
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

/**
 * What a node:http origin serving the files under `root` (its URLs /media/<path>) answers itself:
 * 404 for no such file, the whole file (or its headers, for HEAD) without a `bytes=a-b` range.
 * For a range it answers nothing and gives the file and the range, for the test to answer (as
 * itself, late, or wrongly).
 */
export function originRange(req: IncomingMessage, res: ServerResponse, root: string): { file: string; size: number; start: number; end: number } | null {
  const file = join(root, decodeURIComponent(new URL(req.url!, 'http://x').pathname.replace(/^\/media\//, '')));
  let size: number;
  try {
    size = statSync(file).size;
  } catch {
    res.writeHead(404, { 'content-length': '0' }).end();
    return null;
  }
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (req.method === 'HEAD' || !m) {
    res.writeHead(200, { 'content-length': String(size), etag: '"v1"' }).end(req.method === 'HEAD' ? undefined : readFileSync(file));
    return null;
  }
  return { file, size, start: Number(m[1]), end: Math.min(Number(m[2]), size - 1) };
}
