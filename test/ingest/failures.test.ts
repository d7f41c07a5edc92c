// Ingest when things go wrong, and the job queue across restarts: a disk that fills up
// mid-transcode, ffmpeg killed half-way, a job left running by a process that died.
import t from 'tap';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { requireCommands } from '../helpers/system.js';
import { loadConfig } from '../../src/config.js';
import { openCatalog } from '../../src/catalog/open.js';
import { addSource, runJob, type IngestContext } from '../../src/ingest/pipeline.js';
import { startIngestWorker } from '../../src/ingest/queue.js';
import { ingestStore } from '../../src/ingest/store.js';
import { filesUnder, makeSource } from './helpers.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

const work = mkdtempSync(join(tmpdir(), 'kdeliver-ingest-fail-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const config = loadConfig({ KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_LOG_LEVEL: 'silent' });
const catalog = openCatalog(config);
t.teardown(() => catalog.db.close());
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
  t.equal(catalog.getEntry('0_diskfull')!.status, 1, 'PRECONVERT while queued');
  const outcome = await runJob(ctx, added.jobId);
  t.equal(outcome.ok, false);
  t.match(outcome.error, /the disk filled up while writing the \d+p flavor .*free space in the data directory and ingest again/);
  const entry = catalog.getEntry('0_diskfull')!;
  t.equal(entry.status, -1, 'ERROR_CONVERTING');
  t.same(catalog.listFlavors('0_diskfull').map((f) => f.flavorParamsId), [0], 'only the source is in the catalog');
  t.same(entryFiles('0_diskfull'), [`${added.sourceFlavorId}.mp4`], 'no half-written file');
  t.same(filesUnder(join(config.dataDir, 'tmp')), []);
  const job = ingestStore(catalog.db).latestJob('0_diskfull')!;
  t.equal(job.state, 'failed');
  t.equal(job.error, outcome.error);

  // Once there is room again, the same entry can be transcoded: a new job makes it READY
  const store = ingestStore(catalog.db);
  const again = store.enqueueJob('0_diskfull', 309, null, Math.floor(Date.now() / 1000));
  const ok = await runJob(base, again);
  t.equal(ok.ok, true, ok.error ?? '');
  t.equal(catalog.getEntry('0_diskfull')!.status, 2);
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
  t.equal(catalog.getEntry('0_killed01')!.status, -1);
  t.same(entryFiles('0_killed01'), [`${added.sourceFlavorId}.mp4`]);
  t.same(filesUnder(join(config.dataDir, 'tmp')), []);
});

t.test('a file that is not video or audio is refused before any entry exists', async (t) => {
  const png = join(work, 'still.png');
  writeFileSync(png, readFileSync(new URL('../../fixtures/media/image-320x240.png', import.meta.url)));
  await t.rejects(addSource(base, { partnerId: 309, file: png, entryId: '0_stillpng' }), { message: /not a video or audio file/ });
  t.equal(catalog.getEntry('0_stillpng'), undefined);
  t.same(entryFiles('0_stillpng'), []);
  await t.rejects(addSource(base, { partnerId: 309, file: src, entryId: '../x' }), { message: /entry id "..\/x": use 1-64 characters/ });
  await t.rejects(addSource(base, { partnerId: 310, file: src, entryId: '0_diskfull' }), { message: /another partner/ });
});

t.test('the queue survives a restart: a job left running by a dead process is taken over', async (t) => {
  const added = await addSource(base, { partnerId: 309, file: src, entryId: '0_orphan01' });
  // Pretend a process that has since died was running it, with a lease still in the future
  const dead = spawn('true');
  await new Promise((r) => dead.on('close', r));
  catalog.db.prepare(`UPDATE ingest_jobs SET state = 'running', owner_pid = ?, lease_until = ? WHERE id = ?`)
    .run(dead.pid, Math.floor(Date.now() / 1000) + 3600, added.jobId);
  // ... and left a staging folder behind
  const leftover = join(config.dataDir, 'tmp', 'ingest', `job-${added.jobId}`);
  mkdirSync(leftover, { recursive: true });
  writeFileSync(join(leftover, 'half.mp4'), 'half-written');

  const queued = await addSource(base, { partnerId: 309, file: src, entryId: '0_queued01' });
  const worker = startIngestWorker(base, { pollMs: 200 });
  t.teardown(() => worker.stop());
  const [a, b] = await Promise.all([worker.waitFor(added.jobId), worker.waitFor(queued.jobId)]);
  t.equal(a.ok, true, a.error ?? '');
  t.equal(b.ok, true, b.error ?? '');
  t.equal(catalog.getEntry('0_orphan01')!.status, 2);
  t.equal(catalog.getEntry('0_queued01')!.status, 2);
  t.equal(ingestStore(catalog.db).getJob(added.jobId)!.attempts, 1);
  await worker.idle();
  t.same(filesUnder(join(config.dataDir, 'tmp')), [], 'the crash leftovers were cleaned');
});

t.test('a phone video recorded sideways (rotation metadata) comes out upright', async (t) => {
  const plain = join(work, 'wide.mp4');
  makeSource(plain, { seconds: 2, width: 640, height: 360 });
  const rotated = join(work, 'portrait.mp4');
  const { spawnSync } = await import('node:child_process');
  const r = spawnSync('ffmpeg', ['-nostdin', '-loglevel', 'error', '-y', '-i', plain, '-c', 'copy', '-metadata:s:v:0', 'rotate=90', rotated], { encoding: 'utf8' });
  t.equal(r.status, 0, r.stderr);
  const added = await addSource(base, { partnerId: 309, file: rotated, entryId: '0_portrait' });
  t.match(added.probe.video, { width: 360, height: 640 }, 'probed upright');
  const outcome = await runJob(base, added.jobId);
  t.equal(outcome.ok, true, outcome.error ?? '');
  const sizes = catalog.listFlavors('0_portrait').filter((f) => !f.isOriginal).map((f) => `${f.width}x${f.height}`).sort();
  t.same(sizes, ['136x240', '202x360']);
});

t.test('the conversion profile decides the ladder', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  catalog.db.prepare(`INSERT INTO conversion_profiles (id, partner_id, name, flavor_params_ids, created_at) VALUES (77, 309, 'small only', '0,301961', ?)`).run(now);
  const added = await addSource(base, { partnerId: 309, file: src, entryId: '0_profile1', conversionProfileId: 77 });
  t.equal((await runJob(base, added.jobId)).ok, true);
  t.same(catalog.listFlavors('0_profile1').map((f) => f.flavorParamsId).sort(), [0, 301961]);
  await t.rejects(addSource(base, { partnerId: 310, file: src, conversionProfileId: 77 }), { message: /conversion profile 77 does not exist for partner 310/ });
  // a partner's default profile is used when none is named
  catalog.db.prepare('UPDATE partners SET default_conversion_profile_id = 77 WHERE id = 309').run();
  const dflt = await addSource(base, { partnerId: 309, file: src, entryId: '0_profile2' });
  t.equal((await runJob(base, dflt.jobId)).ok, true);
  t.same(catalog.listFlavors('0_profile2').map((f) => f.flavorParamsId).sort(), [0, 301961]);
  catalog.db.prepare('UPDATE partners SET default_conversion_profile_id = NULL WHERE id = 309').run();
});
