// /readyz with media on S3 or behind an HTTP origin: "the catalog and storage are reachable"
// (README, "Running it") means the store, not the node's local data directory. Before, the storage
// check looked at {data dir}/media only, so a node whose S3 store was down said ready while every
// segment answered 502. A store that refuses or does not answer in time, or an S3 bucket that does
// not exist (a misspelled KDELIVER_MEDIA_URL, where every media file was a 404): 503 naming the
// store (never a credential); a store that answers (a missing probe object is an answer): ready.
// Real parts: s3rver through the real AWS SDK, a TCP server that accepts and never answers.
import t, { type Test } from 'tap';
import { createServer, type Socket } from 'node:net';
import { createServer as createHttpServer } from 'node:http';
import { startServer } from '../helpers/server.js';
import { startS3 } from '../helpers/media-origins.js';

async function readyz(url: string): Promise<{ status: number; body: any; ms: number }> {
  const t0 = performance.now();
  const res = await fetch(`${url}/readyz`, { signal: AbortSignal.timeout(30_000) });
  return { status: res.status, body: await res.json(), ms: performance.now() - t0 };
}
const storage = (body: any) => body.checks.find((c: { name: string }) => c.name === 'storage');

/** A TCP server that takes connections and never answers; its port. */
async function silentOrigin(t: Test): Promise<number> {
  const sockets: Socket[] = [];
  const silent = createServer((c) => void sockets.push(c));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  t.teardown(() => {
    for (const c of sockets) c.destroy();
    silent.close();
  });
  return (silent.address() as { port: number }).port;
}

t.test('S3: ready while the store answers, 503 naming the store when it is down', async (t) => {
  const s3 = await startS3(t);
  const s = await startServer(t, { env: { ...s3.env('ready'), KDELIVER_SAMPLE_LIBRARY: 'false' } });
  const up = await readyz(s.url);
  t.equal(up.status, 200, 'the store answers: ready');
  t.same(storage(up.body), { name: 'storage', ok: true });
  await s3.stop();
  // a verdict stands two seconds (below)
  await new Promise((r) => setTimeout(r, 2100));
  const down = await readyz(s.url);
  t.equal(down.status, 503, 'the store refuses connections: not ready');
  t.equal(storage(down.body).ok, false);
  t.match(storage(down.body).error, /s3 store s3:\/\/media\/ready/, 'the error names the store');
  t.notMatch(JSON.stringify(down.body), /S3RVER/, 'no credential in the answer');
});

t.test('S3: a bucket that does not exist is not ready (every object would be "missing")', async (t) => {
  const s3 = await startS3(t);
  const env = { ...s3.env('lib'), KDELIVER_MEDIA_URL: 's3://no-such-bucket/lib', KDELIVER_SAMPLE_LIBRARY: 'false' };
  const s = await startServer(t, { env });
  const r = await readyz(s.url);
  t.equal(r.status, 503, 'not ready');
  t.match(storage(r.body).error, /s3 store s3:\/\/no-such-bucket\/lib: has no bucket no-such-bucket/, 'says the bucket is missing');
});

t.test('HTTP origin that never answers: 503 within the media timeouts, not a hang', async (t) => {
  const port = await silentOrigin(t);
  const s = await startServer(t, { env: { KDELIVER_MEDIA_URL: `http://127.0.0.1:${port}/media`, KDELIVER_MEDIA_TIMEOUT_MS: '800', KDELIVER_SAMPLE_LIBRARY: 'false' } });
  const r = await readyz(s.url);
  t.equal(r.status, 503, 'not ready');
  t.match(storage(r.body).error, /http origin http:\/\/127\.0\.0\.1:\d+\/media/, 'the error names the origin');
  t.ok(r.ms < 5000, `answered within the media timeout (${r.ms.toFixed(0)} ms)`);
});

t.test('HTTP origin that never answers, default media timeout (10 s): /readyz still answers within its own 2 s', async (t) => {
  // before, the answer took the whole media timeout: past what orchestrators' probes wait
  const port = await silentOrigin(t);
  const s = await startServer(t, { env: { KDELIVER_MEDIA_URL: `http://127.0.0.1:${port}/media`, KDELIVER_SAMPLE_LIBRARY: 'false' } });
  const r = await readyz(s.url);
  t.equal(r.status, 503, 'not ready');
  t.match(storage(r.body).error, /^http origin http:\/\/127\.0\.0\.1:\d+\/media did not answer within 2 s$/, 'says which store is slow');
  t.same(r.body.checks.find((c: { name: string }) => c.name === 'catalog'), { name: 'catalog', ok: true }, 'the catalog check is not held up');
  t.ok(r.ms >= 1900 && r.ms < 4000, `answered after the 2 s wait (${r.ms.toFixed(0)} ms)`);
});

t.test('HTTP origin answering 503: not ready; one probe per two seconds, however often /readyz is asked', async (t) => {
  let asked = 0;
  let status = 503;
  const origin = createHttpServer((req, res) => {
    asked++;
    res.writeHead(status, { 'content-length': '0' }).end();
  });
  await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
  t.teardown(() => origin.close());
  const port = (origin.address() as { port: number }).port;
  const s = await startServer(t, { env: { KDELIVER_MEDIA_URL: `http://127.0.0.1:${port}/media`, KDELIVER_SAMPLE_LIBRARY: 'false' } });
  asked = 0;
  const answers = await Promise.all(Array.from({ length: 20 }, () => readyz(s.url)));
  t.same([...new Set(answers.map((a) => a.status))], [503], 'a store answering 503 is not ready');
  t.match(storage(answers[0].body).error, /answered 503/);
  t.equal(asked, 1, 'twenty /readyz at once: one request to the store');
  status = 403;
  await new Promise((r) => setTimeout(r, 2100));
  const r = await readyz(s.url);
  t.equal(r.status, 200, 'a 403 is an answer: reachable (its reads say what is wrong)');
  t.equal(asked, 2, 'asked again once the verdict is two seconds old');
});
