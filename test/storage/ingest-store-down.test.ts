// A node whose media store (S3) does not answer leaves ingest jobs in the queue. Before, its
// worker claimed every queued job and failed it with the store's message (the entry in ERROR,
// `kdeliver ingest --retry` needed), although another node that reaches the store could have run
// it. The worker now asks what /readyz asks (storeUnreachable, src/storage/media-store.ts) before
// it claims, and takes jobs again once the store answers (routes/ingest-worker.ts). A job that
// fails while the store is down goes back to the queue (src/ingest/pipeline.ts runJob) instead
// of leaving its entry in ERROR.
// Real parts: s3rver through the real AWS SDK, behind a TCP relay this test cuts and restores.
import t, { type Test } from 'tap';
import { createServer, connect, type Socket } from 'node:net';
import { startServer } from '../helpers/server.js';
import { startS3, freePort } from '../helpers/media-origins.js';
import { nudgeIngestWorkers } from '../../src/ingest/queue.js';

/** A TCP relay to `target` on its own port, which can be closed (connections refused) and opened again. */
async function relay(t: { teardown(fn: () => unknown): void }, target: number) {
  const port = await freePort();
  const sockets = new Set<Socket>();
  let server: ReturnType<typeof createServer> | null = null;
  const up = () => new Promise<void>((resolve) => {
    server = createServer((c) => {
      const u = connect(target, '127.0.0.1');
      sockets.add(c).add(u);
      c.pipe(u).pipe(c);
      const end = () => { c.destroy(); u.destroy(); sockets.delete(c); sockets.delete(u); };
      c.on('error', end).on('close', end);
      u.on('error', end).on('close', end);
    });
    server.listen(port, '127.0.0.1', resolve);
  });
  const down = () => new Promise<void>((resolve) => {
    for (const s of sockets) s.destroy();
    sockets.clear();
    if (!server) return resolve();
    server.close(() => resolve());
    server = null;
  });
  await up();
  t.teardown(down);
  return { endpoint: `http://127.0.0.1:${port}`, up, down };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A server whose media store is s3rver reached through a relay the test can cut. */
async function nodeBehindRelay(t: Test) {
  const s3 = await startS3(t);
  const link = await relay(t, Number(new URL(s3.endpoint).port));
  const s = await startServer(t, { env: { ...s3.env('lib'), AWS_ENDPOINT_URL: link.endpoint } });
  return { link, s, ingest: s.app.catalog.ingest, now: () => Math.floor(Date.now() / 1000) };
}

t.test('S3 down: queued jobs stay queued on this node; once the store answers they are taken', async (t) => {
  const { link, s, ingest, now } = await nodeBehindRelay(t);

  await link.down();
  // a /readyz verdict stands two seconds; the worker polls every two
  await sleep(2100);
  const ready = await fetch(`${s.url}/readyz`);
  t.equal(ready.status, 503, 'the node says its store is down');

  const jobId = await ingest.enqueueJob('1_rcit0qgs', 309, null, now());
  nudgeIngestWorkers();
  await sleep(4500);
  t.match(await ingest.getJob(jobId), { state: 'queued', attempts: 0 }, 'the job was left for a node that reaches the store');
  t.equal((await s.app.catalog.getEntry('1_rcit0qgs'))!.status, 2, 'the entry is untouched (READY)');

  await link.up();
  let job = await ingest.getJob(jobId);
  for (let i = 0; i < 50 && job?.state === 'queued'; i++) {
    await sleep(200);
    job = await ingest.getJob(jobId);
  }
  t.not(job?.state, 'queued', 'the store answers again: the job is taken');
  t.equal(job?.attempts, 1);
});

t.test('S3 goes down while a job runs: the job goes back to the queue, the entry is left as it was; it finishes once the store answers', async (t) => {
  const { link, s, ingest, now } = await nodeBehindRelay(t);
  const before = (await s.app.catalog.listFlavors('1_rcit0qgs')).map((f) => f.id).sort();

  const jobId = await ingest.enqueueJob('1_rcit0qgs', 309, null, now());
  nudgeIngestWorkers();
  const until = async (state: string, seconds: number) => {
    let job = await ingest.getJob(jobId);
    for (let i = 0; i < seconds * 10 && job?.state !== state; i++) {
      await sleep(100);
      job = await ingest.getJob(jobId);
    }
    return job;
  };
  t.equal((await until('running', 20))?.state, 'running', 'the job started');
  // cut while it reads its source or transcodes: whichever store call comes next fails
  await link.down();
  const back = await until('queued', 120);
  t.match(back, { state: 'queued', attempts: 1, error: null }, 'the failure was the store\'s: the job is queued again, not failed');
  const entry = (await s.app.catalog.getEntry('1_rcit0qgs'))!;
  t.equal(entry.status, 2, 'the entry is untouched (READY, not ERROR_CONVERTING)');
  t.same((await s.app.catalog.listFlavors('1_rcit0qgs')).map((f) => f.id).sort(), before, 'its flavors are the ones it had');

  await link.up();
  const done = await until('done', 180);
  t.equal(done?.state, 'done', 'the store answers again: the job is run to its end');
  t.equal((await s.app.catalog.getEntry('1_rcit0qgs'))!.status, 2, 'READY with its new flavors');
});
