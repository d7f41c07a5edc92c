// An S3 object that reads as missing (a bare 404) while the bucket's own probe does not answer in
// time: the store is not answering, so the media answer is a 504 naming it, as a read that timed
// out would be (it was a 502, "failed", before), and never a 404 "file missing" a CDN keeps. A
// missing bucket behind the same 404 stays a 502 (test/storage/remote-media.test.ts).
// Real parts: s3rver through the real AWS SDK, behind an HTTP proxy started here that passes every
// request on until it is told to hold the bucket's HEAD (HeadBucket, the store's probe) unanswered.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { filesUnder, startS3 } from '../helpers/media-origins.js';
import { SAMPLE } from '../helpers/packager-urls.js';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';

const ref = await startServer(t);
const s3 = await startS3(t);
for (const f of filesUnder(ref.config.mediaRoot)) await s3.put(`lib/${f}`, readFileSync(join(ref.config.mediaRoot, f)));

let holdBucketHead = false;
const held: ServerResponse[] = [];
const target = new URL(s3.endpoint);
const proxy = createServer((req: IncomingMessage, res: ServerResponse) => {
  // path style: the bucket's HEAD is HEAD /media (the SDK may add a query)
  if (holdBucketHead && req.method === 'HEAD' && new URL(req.url ?? '/', 'http://x').pathname.replace(/\/$/, '') === `/${s3.bucket}`) {
    held.push(res);
    return;
  }
  const up = request({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (r) => {
    res.writeHead(r.statusCode ?? 502, r.headers);
    r.pipe(res);
  });
  up.on('error', () => res.destroy());
  req.pipe(up);
});
await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
t.teardown(() => {
  for (const r of held) r.destroy();
  proxy.closeAllConnections();
  proxy.close();
});
const endpoint = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;

const srv = await startServer(t, { env: { ...s3.env('lib'), AWS_ENDPOINT_URL: endpoint, KDELIVER_MEDIA_TIMEOUT_MS: '800' } });

t.test('a 404 while the store\'s probe times out: 504 naming the store, in about the media timeout', async (t) => {
  const flavor = `/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/${SAMPLE.p240}`;
  const before = await fetch(`${srv.url}${flavor}`, { headers: { Range: 'bytes=0-99' } });
  t.equal(before.status, 206, 'served through the proxy while the store answers');
  await before.arrayBuffer();
  await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `lib/309/${SAMPLE.entryId}/h264-240p.mp4` }));
  holdBucketHead = true;
  // what the probe said while the store answered stands two seconds (src/storage/media-store.ts)
  await new Promise((r) => setTimeout(r, 2100));
  const t0 = performance.now();
  const r = await fetch(`${srv.url}${flavor}`, { signal: AbortSignal.timeout(30_000) });
  const body = await r.text();
  t.equal(r.status, 504, 'the store did not answer: 504');
  t.match(body, new RegExp(`s3 store s3://${s3.bucket}/lib \\(309/${SAMPLE.entryId}/h264-240p\\.mp4\\)`), 'names the store and the object');
  t.match(r.headers.get('cache-control') ?? '', /no-store|no-cache|private/, 'no cache keeps it');
  t.ok(performance.now() - t0 < 5000, 'answered within the media timeouts, not held');
  t.ok(held.length > 0, 'the probe was asked (and held) behind the 404');
});
