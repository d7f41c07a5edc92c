// The S3 media writer (src/storage/media-writer.ts) against s3rver through the real AWS SDK: what
// is stored is byte-identical to what was given (a PutObject, and a multipart upload of a file
// larger than a part, both without aws-chunked framing kept as bytes), spans and local copies read
// back exactly, a failed put leaves nothing under its key; and the layout of staged upload parts.
import t from 'tap';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { HeadObjectCommand, ListMultipartUploadsCommand } from '@aws-sdk/client-s3';
import { PART_BYTES, s3MediaWriter, MediaWriteError } from '../../src/storage/media-writer.js';
import { layParts } from '../../src/ingest/uploads.js';
import { sha256, startS3 } from '../helpers/media-origins.js';

const s3 = await startS3(t);
const loc = (endpoint: string) => ({
  kind: 's3' as const, url: 's3://media/lib', bucket: 'media', prefix: 'lib', endpoint, region: 'us-east-1', forcePathStyle: true,
  accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER', sessionToken: null,
});
const timeouts = { timeoutMs: 30_000, connectTimeoutMs: 5_000 };
const writer = s3MediaWriter(loc(s3.endpoint), timeouts);
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-writer-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

t.test('what is put is stored byte for byte, in one put and in a multipart upload', async (t) => {
  const small = randomBytes(70_000);
  await writer.putBytes('309/0_small/a.bin', small);
  t.equal(sha256(await s3.get('lib/309/0_small/a.bin')), sha256(small), 'a PutObject');

  const big = randomBytes(PART_BYTES * 2 + 123_457);
  const file = join(dir, 'big.bin');
  writeFileSync(file, big);
  await writer.putFile(file, '309/0_big/b.mp4', { move: true });
  const stored = await s3.get('lib/309/0_big/b.mp4');
  t.equal(stored.length, big.length, 'the whole size');
  t.equal(sha256(stored), sha256(big), 'a multipart upload of three parts');
  const head = await s3.client.send(new HeadObjectCommand({ Bucket: 'media', Key: 'lib/309/0_big/b.mp4' }));
  t.equal(head.ContentLength, big.length, 'HeadObject says the same size');
  t.equal(readFileSync(file).length, big.length, 'a remote put leaves the local file to its caller');

  const span = await writer.readRange('309/0_big/b.mp4', PART_BYTES - 10, 5000);
  const chunks: Buffer[] = [];
  for await (const c of span) chunks.push(c as Buffer);
  t.same(Buffer.concat(chunks), big.subarray(PART_BYTES - 10, PART_BYTES - 10 + 5000), 'a span across a part boundary');
  const copy = await writer.localFile('309/0_big/b.mp4', join(dir, 'copy', 'b.mp4'));
  t.equal(sha256(readFileSync(copy)), sha256(big), 'a local copy streamed from the store');
  t.same(await writer.readAll('309/0_small/a.bin'), small);
  await writer.remove('309/0_small/a.bin');
  await writer.remove('309/0_small/a.bin');
  const gone = await writer.readAll('309/0_small/a.bin').catch((e: unknown) => e);
  t.type(gone, MediaWriteError, 'removed (twice: no error)');
  t.match((gone as Error).message, /answered 404/);
});

t.test('a store that fails: a clear error naming the store and key, and nothing under the key', async (t) => {
  const dead = s3MediaWriter(loc('http://127.0.0.1:9'), { timeoutMs: 5_000, connectTimeoutMs: 2_000 });
  const err = await dead.putBytes('309/0_x/a.bin', Buffer.from('x')).catch((e: unknown) => e);
  t.type(err, MediaWriteError);
  t.match((err as Error).message, /^s3 store s3:\/\/media\/lib \(309\/0_x\/a\.bin\): the upload failed: (refused the connection|could not be reached)/);
  t.notMatch((err as Error).message, /S3RVER/, 'no credential');

  // a multipart upload whose source breaks off half way is aborted: no object, no parts left over
  const file = join(dir, 'gone.bin');
  writeFileSync(file, randomBytes(PART_BYTES * 2 + 1));
  const putting = writer.putFile(file, '309/0_half/a.mp4');
  rmSync(file);
  // the stream opens lazily, so the file may already be gone: either way no object appears
  await putting.catch(() => undefined);
  const listed = await s3.client.send(new ListMultipartUploadsCommand({ Bucket: 'media' })).catch(() => null);
  t.equal(listed?.Uploads?.length ?? 0, 0, 'no unfinished multipart upload left');
});

t.test('a store that takes the connection and never answers: every operation fails within its bound, naming the stall', async (t) => {
  // as a paused store behaves (SIGSTOP, a hung proxy): the connection opens, nothing comes back
  const sockets = new Set<Socket>();
  const silent = createServer((sock) => { sockets.add(sock); sock.on('error', () => undefined); sock.resume(); });
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => { for (const s of sockets) s.destroy(); silent.close(); });
  const endpoint = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const stalled = s3MediaWriter(loc(endpoint), { timeoutMs: 700, connectTimeoutMs: 700 });
  const ops: [string, () => Promise<unknown>][] = [
    ['putBytes', () => stalled.putBytes('309/0_s/a.bin', randomBytes(200_000))],
    ['readAll', () => stalled.readAll('309/0_s/a.bin')],
    ['readRange', async () => { for await (const c of await stalled.readRange('309/0_s/a.bin', 0, 10)) void c; }],
    ['has', () => stalled.has('309/0_s/a.bin')],
    ['remove', () => stalled.remove('309/0_s/a.bin')],
  ];
  for (const [name, op] of ops) {
    const t0 = Date.now();
    const err = await op().then(() => null, (e: unknown) => e);
    const ms = Date.now() - t0;
    t.type(err, MediaWriteError, `${name}: a MediaWriteError`);
    t.match((err as Error | null)?.message, /^s3 store s3:\/\/media\/lib \(309\/0_s\/a\.bin\): the [a-z -]+ failed: did not answer within 700 ms \(KDELIVER_MEDIA_TIMEOUT_MS\)$/, `${name}: says it stalled`);
    // the SDK tries twice: two bounds and a little
    t.ok(ms < 4_000, `${name}: gave up after ${ms} ms`);
  }
});

t.test('staged upload parts laid out: later parts win where they overlap', async (t) => {
  const p = (offset: number, length: number, objectKey: string) => ({ offset, length, objectKey });
  t.same(layParts([p(0, 10, 'a'), p(10, 5, 'b')], 15), [{ objectKey: 'a', offset: 0, length: 10 }, { objectKey: 'b', offset: 0, length: 5 }]);
  // a retry of bytes 5-14 after a longer first part: its bytes replace those, the rest stays
  t.same(layParts([p(0, 20, 'a'), p(5, 10, 'r')], 20), [
    { objectKey: 'a', offset: 0, length: 5 }, { objectKey: 'r', offset: 0, length: 10 }, { objectKey: 'a', offset: 15, length: 5 },
  ]);
  t.same(layParts([], 0), []);
  t.throws(() => layParts([p(0, 10, 'a')], 12), /no bytes 10-11/);
});
