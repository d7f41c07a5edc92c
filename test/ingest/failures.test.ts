// Ingest when things go wrong, and the job queue across restarts: a disk that fills up
// mid-transcode, ffmpeg killed half-way, a job left running by a process that died, a job another
// process holds, a runner that lost its job.
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { existsSync } from 'node:fs';
import { requireCommands } from '../helpers/system.js';
import { loadConfig } from '../../src/config.js';
import { openCatalog } from '../../src/catalog/open.js';
import { addSource, claimJob, runJob, type IngestContext } from '../../src/ingest/pipeline.js';
import { startIngestWorker } from '../../src/ingest/queue.js';
import { filesUnder, makeSource } from './helpers.js';
import { sqliteDb } from '../helpers/sqlite.js';
import { repoPath } from '../helpers/repo.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

const work = mkdtempSync(join(tmpdir(), 'kdeliver-ingest-fail-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const config = loadConfig({ KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_LOG_LEVEL: 'silent' });
const catalog = await openCatalog(config);
t.teardown(() => sqliteDb(catalog).close());
const base: IngestContext = { catalog, dataDir: config.dataDir, mediaRoot: config.mediaRoot, concurrency: 2 };
const src = join(work, 'clip.mp4');
makeSource(src, { seconds: 4, width: 640, height: 360 });

/** An ffmpeg that runs the real one under a condition, as a shell wrapper. */
function wrapper(name: string, body: string): string {
  const file = join(work, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const entryFiles = (entryId: string) => filesUnder(join(config.mediaRoot, '309', entryId));

t.test('a disk that fills up mid-transcode: ERROR with the reason, only the source file left', async (t) => {
  // ulimit -f caps what the ffmpeg child may write; ignoring SIGXFSZ makes the write fail as a full disk would
  const ffmpeg = wrapper('ffmpeg-small-disk', 'trap "" XFSZ\nulimit -f 40\nexec ffmpeg "$@"');
  const ctx = { ...base, tools: { ffmpeg, ffprobe: 'ffprobe' } };
  const added = await addSource(ctx, { partnerId: 309, file: src, entryId: '0_diskfull' });
  t.equal((await catalog.getEntry('0_diskfull'))!.status, 1, 'PRECONVERT while queued');
  const outcome = await runJob(ctx, added.jobId);
  t.equal(outcome.ok, false);
  t.match(outcome.error, /the disk filled up while writing the \d+p flavor .*free space in the data directory and ingest again/);
  const entry = (await catalog.getEntry('0_diskfull'))!;
  t.equal(entry.status, -1, 'ERROR_CONVERTING');
  t.same((await catalog.listFlavors('0_diskfull')).map((f) => f.flavorParamsId), [0], 'only the source is in the catalog');
  t.same(entryFiles('0_diskfull'), [`${added.sourceFlavorId}.mp4`], 'no half-written file');
  t.same(filesUnder(join(config.dataDir, 'tmp')), []);
  const job = (await catalog.ingest.latestJob('0_diskfull'))!;
  t.equal(job.state, 'failed');
  t.equal(job.error, outcome.error);

  // Once there is room again, the same entry can be transcoded: a new job makes it READY
  const store = catalog.ingest;
  const again = await store.enqueueJob('0_diskfull', 309, null, Math.floor(Date.now() / 1000));
  const ok = await runJob(base, again);
  t.equal(ok.ok, true, ok.error ?? '');
  t.equal((await catalog.getEntry('0_diskfull'))!.status, 2);
});

t.test('ffmpeg killed half-way: ERROR saying so, nothing half-written', async (t) => {
  // -re makes ffmpeg read at real speed, so "half-way" is a moment we can hit
  // killed once its output has started to grow, whatever the machine's load
  const ffmpeg = wrapper('ffmpeg-killed', [
    'for a in "$@"; do out="$a"; done',
    '( while [ ! -s "$out" ]; do sleep 0.05; done; sleep 1; kill -9 $$ ) &',
    'exec ffmpeg -re "$@"',
  ].join('\n'));
  const ctx = { ...base, tools: { ffmpeg, ffprobe: 'ffprobe' }, concurrency: 1 };
  const added = await addSource(ctx, { partnerId: 309, file: src, entryId: '0_killed01' });
  let progress = 0;
  const outcome = await runJob(ctx, added.jobId, { onProgress: (f) => (progress = f) });
  t.equal(outcome.ok, false);
  t.match(outcome.error, /ffmpeg was stopped by SIGKILL while making the \d+p flavor .*ingest again/);
  t.ok(progress > 0 && progress < 1, `stopped part-way (${progress.toFixed(2)})`);
  t.equal((await catalog.getEntry('0_killed01'))!.status, -1);
  t.same(entryFiles('0_killed01'), [`${added.sourceFlavorId}.mp4`]);
  t.same(filesUnder(join(config.dataDir, 'tmp')), []);
});

t.test('a file that is not video or audio is refused before any entry exists', async (t) => {
  const png = join(work, 'still.png');
  writeFileSync(png, readFileSync(repoPath('fixtures/media/image-320x240.png')));
  await t.rejects(addSource(base, { partnerId: 309, file: png, entryId: '0_stillpng' }), { message: /not a video or audio file/ });
  t.equal(await catalog.getEntry('0_stillpng'), undefined);
  t.same(entryFiles('0_stillpng'), []);
  await t.rejects(addSource(base, { partnerId: 309, file: src, entryId: '../x' }), { message: /entry id "..\/x": use 1-64 characters/ });
  await t.rejects(addSource(base, { partnerId: 310, file: src, entryId: '0_diskfull' }), { message: /another partner/ });
});

const nowSec = () => Math.floor(Date.now() / 1000);
const stagingDir = join(config.dataDir, 'tmp', 'ingest');
/** A staging folder with a half-written file in it, as a runner leaves it. */
function stagingLeftover(name: string): string {
  const dir = join(stagingDir, name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'half.mp4'), 'half-written');
  return dir;
}

t.test('the queue survives a restart: a job left running by a dead process is taken over once its lease ran out', async (t) => {
  const added = await addSource(base, { partnerId: 309, file: src, entryId: '0_orphan01' });
  // Pretend a process that has since died was running it: its lease ran out unrenewed
  sqliteDb(catalog).prepare(`UPDATE ingest_jobs SET state = 'running', owner_token = 'deadattempt00000', owner_pid = 1, lease_until = ? WHERE id = ?`)
    .run(nowSec() - 1, added.jobId);
  // ... and left its staging folder behind (and one named as before attempt tokens)
  const leftover = stagingLeftover(`job-${added.jobId}-deadattempt00000`);
  const legacy = stagingLeftover(`job-${added.jobId}`);

  const queued = await addSource(base, { partnerId: 309, file: src, entryId: '0_queued01' });
  const worker = startIngestWorker(base, { pollMs: 200 });
  t.teardown(() => worker.stop());
  const [a, b] = await Promise.all([worker.waitFor(added.jobId), worker.waitFor(queued.jobId)]);
  t.equal(a.ok, true, a.error ?? '');
  t.equal(b.ok, true, b.error ?? '');
  t.equal((await catalog.getEntry('0_orphan01'))!.status, 2);
  t.equal((await catalog.getEntry('0_queued01'))!.status, 2);
  t.equal((await catalog.ingest.getJob(added.jobId))!.attempts, 1);
  await worker.idle();
  t.notOk(existsSync(leftover) || existsSync(legacy), 'the crash leftovers were cleaned');
  t.same(filesUnder(join(config.dataDir, 'tmp')), []);
});

t.test('a job another process holds is left alone, staging folder and all, until its lease runs out', async (t) => {
  const store = catalog.ingest;
  const added = await addSource(base, { partnerId: 309, file: src, entryId: '0_heldjob1' });
  // Another process (on this machine or not: no pid is looked at) claims it and starts writing
  const other = { token: 'otherattempt0001', pid: 999999, leaseUntil: nowSec() + 3600 };
  t.ok(await store.claimJob(added.jobId, other, nowSec()));
  const folder = stagingLeftover(`job-${added.jobId}-${other.token}`);
  const worker = startIngestWorker(base, { pollMs: 100 });
  t.teardown(() => worker.stop());
  await worker.idle();
  await new Promise((r) => setTimeout(r, 600));
  t.ok(existsSync(join(folder, 'half.mp4')), 'its staging folder is untouched');
  t.match(await store.getJob(added.jobId), { state: 'running', ownerToken: other.token, attempts: 1 }, 'the job is still the other process\'s');
  t.equal((await catalog.getEntry('0_heldjob1'))!.status, 1, 'PRECONVERT');

  // The other process stops renewing: once its lease has run out, the job is taken over under a new attempt
  sqliteDb(catalog).prepare('UPDATE ingest_jobs SET lease_until = ? WHERE id = ?').run(nowSec() - 1, added.jobId);
  worker.nudge();
  const outcome = await worker.waitFor(added.jobId);
  t.equal(outcome.ok, true, outcome.error ?? '');
  const job = (await store.getJob(added.jobId))!;
  t.match(job, { state: 'done', attempts: 2 });
  t.not(job.ownerToken, other.token);
  t.notOk(existsSync(folder), 'the lapsed attempt\'s folder was removed');
  t.equal((await catalog.getEntry('0_heldjob1'))!.status, 2);
});

t.test('a runner that lost its job stops and leaves the job and the entry to the new owner', async (t) => {
  const store = catalog.ingest;
  const added = await addSource(base, { partnerId: 309, file: src, entryId: '0_lostjob1', claim: true });
  t.ok(added.claim);
  // Its lease lapses (the process stalled) and another process takes the job over
  sqliteDb(catalog).prepare('UPDATE ingest_jobs SET lease_until = ? WHERE id = ?').run(nowSec() - 1, added.jobId);
  const taker = await claimJob(base, added.jobId);
  t.ok(taker, 'taken over');
  t.equal(await claimJob(base, added.jobId), null, 'a held job cannot be claimed twice');
  // The first runner carries on with its old token: its first renewal fails, and it stops
  const outcome = await runJob({ ...base, leaseSeconds: 2 }, added.jobId, { token: added.claim!.token });
  t.match(outcome, { ok: false, lost: true });
  t.match(outcome.error, /lost job \d+: it did not renew its lease in time/);
  t.match(await store.getJob(added.jobId), { state: 'running', ownerToken: taker!.token }, 'the job is the new owner\'s, untouched');
  t.equal((await catalog.getEntry('0_lostjob1'))!.status, 1, 'the entry is untouched (not ERROR)');
  t.same(entryFiles('0_lostjob1'), [`${added.sourceFlavorId}.mp4`], 'nothing of the lost run in the media folder');
  t.same(filesUnder(stagingDir), [], 'its own staging folder is gone');
  // The new owner finishes it
  const done = await runJob(base, added.jobId, { token: taker!.token });
  t.equal(done.ok, true, done.error ?? '');
  t.equal((await catalog.getEntry('0_lostjob1'))!.status, 2);
});

t.test('a phone video recorded sideways (rotation metadata) comes out upright', async (t) => {
  const plain = join(work, 'wide.mp4');
  makeSource(plain, { seconds: 2, width: 640, height: 360 });
  const rotated = join(work, 'portrait.mp4');
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const added = await addSource(base, { partnerId: 309, file: rotated, entryId: '0_portrait' });
  t.match(added.probe.video, { width: 360, height: 640, rotation: 270 }, 'probed upright, the turn clockwise (ffmpeg\'s rotate=90 is 90° counterclockwise)');
  const outcome = await runJob(base, added.jobId);
  t.equal(outcome.ok, true, outcome.error ?? '');
  const flavors = await catalog.listFlavors('0_portrait');
  const sizes = flavors.filter((f) => !f.isOriginal).map((f) => `${f.width}x${f.height}/${f.rotation}`).sort();
  t.same(sizes, ['136x240/0', '202x360/0'], 'the renditions are made upright: no turn');
  t.same(flavors.filter((f) => f.isOriginal).map((f) => f.rotation), [270], 'the source, kept as it came, is turned');
});

t.test('the conversion profile decides the ladder', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  sqliteDb(catalog).prepare(`INSERT INTO conversion_profiles (id, partner_id, name, flavor_params_ids, created_at) VALUES (77, 309, 'small only', '0,301961', ?)`).run(now);
  const added = await addSource(base, { partnerId: 309, file: src, entryId: '0_profile1', conversionProfileId: 77 });
  t.equal((await runJob(base, added.jobId)).ok, true);
  t.same((await catalog.listFlavors('0_profile1')).map((f) => f.flavorParamsId).sort(), [0, 301961]);
  await t.rejects(addSource(base, { partnerId: 310, file: src, conversionProfileId: 77 }), { message: /conversion profile 77 does not exist for partner 310/ });
  // a partner's default profile is used when none is named
  sqliteDb(catalog).prepare('UPDATE partners SET default_conversion_profile_id = 77 WHERE id = 309').run();
  const dflt = await addSource(base, { partnerId: 309, file: src, entryId: '0_profile2' });
  t.equal((await runJob(base, dflt.jobId)).ok, true);
  t.same((await catalog.listFlavors('0_profile2')).map((f) => f.flavorParamsId).sort(), [0, 301961]);
  sqliteDb(catalog).prepare('UPDATE partners SET default_conversion_profile_id = NULL WHERE id = 309').run();
});
