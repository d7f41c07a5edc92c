// The ingest queue on a shared PostgreSQL catalog, driven by two "nodes" (two catalogs with their
// own pools): a job is never held by two attempts at once, leases are kept by the database's
// clock, and a lapsed lease is taken over and never revived.
import t, { type Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPgCatalog, type PgCatalog } from '../../src/catalog/pg/catalog.js';
import type { JobOwner } from '../../src/catalog/store.js';
import { pgDatabase } from '../helpers/postgres.js';

const NOW = 1_780_000_000;

async function twoNodes(tt: Test): Promise<[PgCatalog, PgCatalog]> {
  const url = await pgDatabase(tt);
  const a = await openPgCatalog(url, { nodeId: 'a' });
  const b = await openPgCatalog(url, { nodeId: 'b' });
  tt.teardown(async () => {
    await a.close();
    await b.close();
  });
  await a.addPartner({ id: 500, name: 'ingest' });
  return [a, b];
}

const owner = (token: string, leaseSeconds = 30, now = NOW): JobOwner => ({ token, pid: process.pid, leaseUntil: now + leaseSeconds });

async function newJob(c: PgCatalog, i: number): Promise<number> {
  const id = `0_job${String(i).padStart(5, '0')}`;
  await c.ingest.createEntry({ id, partnerId: 500, name: id, status: 1, mediaType: 1, now: NOW });
  return c.ingest.enqueueJob(id, 500, null, NOW);
}

t.test('two nodes claiming the same jobs at once: each job is held by exactly one', async (t) => {
  const [a, b] = await twoNodes(t);
  const jobs = [];
  for (let i = 0; i < 30; i++) jobs.push(await newJob(a, i));
  const held = new Map<number, string[]>();
  // each node runs several claim loops at once, as a worker would over its candidates
  const worker = async (node: PgCatalog, name: string) => {
    for (const job of await node.ingest.claimableJobs(NOW)) {
      if (await node.ingest.claimJob(job.id, owner(`${name}-${job.id}`), NOW)) held.set(job.id, [...(held.get(job.id) ?? []), name]);
    }
  };
  await Promise.all([worker(a, 'a1'), worker(b, 'b1'), worker(a, 'a2'), worker(b, 'b2')]);
  t.equal(held.size, jobs.length, 'every job was claimed');
  t.ok([...held.values()].every((h) => h.length === 1), 'no job was claimed twice');
  for (const id of jobs) {
    const j = (await a.ingest.getJob(id))!;
    t.equal(j.state, 'running');
    t.equal(j.attempts, 1);
    t.equal(j.ownerToken, `${held.get(id)![0]}-${id}`, 'the row names the attempt that was told it holds the job');
  }
  t.same(await b.ingest.claimableJobs(NOW), [], 'nothing left to claim while the leases last');

  // ten attempts at one queued job at the same instant: one wins
  const one = await newJob(a, 99);
  const results = await Promise.all(Array.from({ length: 10 }, (_, i) => (i % 2 ? a : b).ingest.claimJob(one, owner(`race-${i}`), NOW)));
  t.equal(results.filter(Boolean).length, 1, 'exactly one of ten simultaneous claims succeeds');
});

t.test('leases are kept by the database clock; a lapsed lease is taken over and never revived', async (t) => {
  const [a, b] = await twoNodes(t);
  const job = await newJob(a, 1);
  // the caller's clock says 1970: the lease is still five seconds from the database's now
  t.ok(await a.ingest.claimJob(job, owner('first', 5, 0), 0));
  const claimed = (await a.ingest.getJob(job))!;
  const dbNow = Math.floor(Date.now() / 1000);
  t.ok(Math.abs(claimed.leaseUntil! - (dbNow + 5)) <= 1, `lease_until ${claimed.leaseUntil} is the database's now + 5`);
  t.notOk(await b.ingest.claimJob(job, owner('second'), NOW * 2), 'a caller clock far ahead does not make a live lease lapse');
  t.ok(await a.ingest.holdsJob(job, 'first', 0));
  t.notOk(await a.ingest.holdsJob(job, 'second', 0), 'a token that does not hold it');
  t.notOk(await b.ingest.renewLease(job, 'second', NOW + 30, 0.5, NOW), 'renewing needs the holding token');
  t.ok(await a.ingest.renewLease(job, 'first', 1, 0.25, 0), 'the holder renews (to 1 s from now)');
  t.equal((await a.ingest.getJob(job))!.progress, 0.25);
  t.same((await b.ingest.liveAttempts(0)).map((x) => x.jobId), [job]);

  await sleep(2200);
  t.notOk(await a.ingest.holdsJob(job, 'first', 0), 'the lease ran out');
  t.same(await b.ingest.liveAttempts(0), [], 'no live attempt: its staging folder may be swept');
  t.notOk(await a.ingest.renewLease(job, 'first', 30, 0.5, 0), 'a lapsed lease is not revived by its old holder');
  t.same((await b.ingest.claimableJobs(0)).map((j) => j.id), [job], 'the job is claimable again');
  t.ok(await b.ingest.claimJob(job, owner('second', 30), NOW), 'another node takes it over');
  const taken = (await b.ingest.getJob(job))!;
  t.equal(taken.ownerToken, 'second');
  t.equal(taken.attempts, 2);
  t.notOk(await a.ingest.finishJob(job, 'first', 'done', null, 1, NOW), 'the old attempt cannot finish it');
  t.notOk(await a.ingest.requeueJob(job, 'first', NOW), 'nor hand it back');
  t.notOk(await a.ingest.completeJob(job, 'first', '0_job00001', [], { duration: 1, mediaType: 1, thumbnailFile: null, now: NOW }));
  t.ok(await b.ingest.completeJob(job, 'second', '0_job00001', [], { duration: 12.5, mediaType: 1, thumbnailFile: 'x.jpg', now: NOW + 1 }));
  const done = (await a.ingest.getJob(job))!;
  t.match(done, { state: 'done', progress: 1, leaseUntil: null });
  t.match(await a.getEntry('0_job00001'), { status: 2, duration: 12.5, thumbnailFile: 'x.jpg', version: 2 });
});

t.test('jobs and entries through the whole ingest store', async (t) => {
  const [a, b] = await twoNodes(t);
  const entryId = await a.ingest.newEntryId();
  const flavorId = await a.ingest.newFlavorId();
  t.match(entryId, /^0_[a-z0-9]{8}$/);
  const source = {
    id: flavorId, entryId, partnerId: 500, flavorParamsId: 0, filePath: `500/${entryId}/source.mp4`, size: 100,
    containerFormat: 'isom', fileExt: 'mp4', videoCodec: 'avc1', audioCodec: 'mp4a', codecs: '', width: 640, height: 360,
    bitrate: 800, frameRate: 25, durationMs: 10_000, language: '', label: '', isDefault: false, tags: ['source'], status: 2,
    version: 1, isOriginal: true, createdAt: NOW, updatedAt: NOW, packagingRefusal: '', rotation: 0,
  };
  const job = (await a.ingest.registerSource({
    newEntry: { id: entryId, partnerId: 500, name: 'up', status: 1, mediaType: 1, now: NOW }, replaceFlavorIds: [], entryId,
    status: 1, flavor: source, mediaType: 1, duration: 10, partnerId: 500, conversionProfileId: 1, now: NOW,
  }))!;
  t.match(await b.ingest.getJob(job), { state: 'queued', entryId, conversionProfileId: 1, attempts: 0 });
  t.same((await b.listFlavors(entryId)).map((f) => f.id), [flavorId], 'node B sees the source flavor');
  t.ok(await b.ingest.claimJob(job, owner('t1'), NOW));
  t.ok(await b.ingest.failJob(job, 't1', entryId, -1, 'transcode failed: bad input', NOW + 1));
  t.match(await a.ingest.latestJob(entryId), { state: 'failed', error: 'transcode failed: bad input' });
  t.equal((await a.getEntry(entryId))!.status, -1);
  const retry = await a.ingest.retryEntry(entryId, 500, 1, owner('t2'), NOW + 2);
  t.match(await a.ingest.getJob(retry), { state: 'running', attempts: 1, ownerToken: 't2', conversionProfileId: 1 });
  const failed = (await a.ingest.recordFailedSource(entryId, 500, null, -2, 'unreadable', NOW + 3))!;
  t.match(await a.ingest.getJob(failed), { state: 'failed', error: 'unreadable', ownerToken: null });

  const token = await a.ingest.newUploadTokenId();
  await a.ingest.createUploadToken({ id: token, partnerId: 500, userId: 'u', fileName: 'f.mp4', fileSize: 10, now: NOW });
  const tok = (await b.ingest.getUploadToken(token))!;
  t.match(tok, { status: 0, uploadedFileSize: 0, fileSize: 10 });
  await b.ingest.updateUploadToken({ ...tok, status: 2, uploadedFileSize: 10 }, NOW + 1);
  const closes = await Promise.all([a.ingest.closeUploadToken(token, entryId, NOW + 2), b.ingest.closeUploadToken(token, entryId, NOW + 2)]);
  t.same(closes.filter(Boolean).length, 1, 'a full token is closed by one request only');
  await a.ingest.createUploadToken({ id: 'stale', partnerId: 500, userId: 'u', fileName: 'g.mp4', fileSize: null, now: NOW - 100 });
  t.same(await b.ingest.expireUploadTokens(NOW - 50, NOW), ['stale']);
  t.equal((await a.ingest.getUploadToken('stale'))!.status, 4);

  await a.ingest.markEntryDeleted(entryId, NOW + 9);
  t.match(await b.getEntry(entryId), { status: 3, dataFile: null, thumbnailFile: null });
  t.same(await b.listFlavors(entryId), []);
  t.equal(await b.ingest.latestJob(entryId), undefined, 'its jobs are gone');
});
