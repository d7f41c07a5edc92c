// A download from S3 or an HTTP origin (serveFlavor, raw, download) streams the object block by
// block (src/storage/media-store.ts). It fetched each block only when the one before was sent, so
// a download waited one origin round trip per megabyte. The next blocks are now fetched while one
// is sent, into the block cache when it has room for them. Real parts: kdeliver servers whose
// media is read from a node:http origin that serves the sample library's files with byte ranges,
// a few milliseconds late, as an object store answers.
import t from 'tap';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { SAMPLE } from '../helpers/packager-urls.js';
import { originRange, sha256 } from '../helpers/media-origins.js';

const ref = await startServer(t);
let running = 0;
let atOnce = 0;
let ranges = 0;
const origin = createServer((req, res) => {
  const asked = originRange(req, res, ref.config.mediaRoot);
  if (!asked) return;
  ranges++;
  atOnce = Math.max(atOnce, ++running);
  setTimeout(() => {
    running--;
    const { file, size, start, end } = asked;
    res.writeHead(206, { 'content-length': String(end + 1 - start), 'content-range': `bytes ${start}-${end}/${size}`, etag: '"v1"' }).end(readFileSync(file).subarray(start, end + 1));
  }, 20);
});
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
t.teardown(() => origin.close());
const port = (origin.address() as { port: number }).port;

const flavor = `/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/${SAMPLE.p720}/name/a.mp4`;
const file = readFileSync(join(ref.config.mediaRoot, '309', SAMPLE.entryId, 'h264-720p.mp4'));

async function download(cacheMb: string) {
  const s = await startServer(t, { env: { KDELIVER_MEDIA_URL: `http://127.0.0.1:${port}/media`, KDELIVER_SAMPLE_LIBRARY: 'true', KDELIVER_MEDIA_CACHE_MB: cacheMb } });
  [running, atOnce, ranges] = [0, 0, 0];
  const r = await fetch(`${s.url}${flavor}`);
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()), atOnce, ranges };
}

t.test('a download fetches the next blocks while it sends one; the same bytes', async (t) => {
  t.ok(file.length > 1 << 20, `the file is ${file.length} bytes: more than one block`);
  const got = await download('64');
  t.equal(got.status, 200);
  t.equal(sha256(got.body), sha256(file), 'the file, byte for byte');
  t.ok(got.atOnce >= 2, `${got.atOnce} block reads under way at once`);
  t.equal(got.ranges, Math.ceil(file.length / (1 << 20)), 'each block fetched once');
});

t.test('with a block cache too small to keep them, nothing is fetched ahead', async (t) => {
  const got = await download('1');
  t.equal(got.status, 200);
  t.equal(sha256(got.body), sha256(file), 'the file, byte for byte');
  t.equal(got.atOnce, 1, 'one block read at a time');
});
