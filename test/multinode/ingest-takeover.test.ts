// An ingest job across two real `kdeliver serve` processes on one PostgreSQL catalog and one
// media store: the job is uploaded through node A over api_v3 and A's worker runs it; node B,
// started while A holds it, leaves it alone while A's lease is renewed; A is killed with SIGKILL
// mid-transcode; B takes the job over once A's lease has run out (a short lease:
// KDELIVER_INGEST_LEASE_SECONDS), runs it to the end, and the entry plays from B. The job's row is
// watched from outside the whole time: one attempt holds it at a time, A's ffmpeg does not outlive
// A into B's attempt, and nothing of A's attempt is left behind.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { startPostgres } from '../helpers/postgres.js';
import { kdeliverNodes } from '../helpers/nodes.js';
import { requireCommands } from '../helpers/system.js';
import { makeSource } from '../ingest/helpers.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

// Short, so the test does not wait long for the takeover; long enough that A, renewing every
// third of it, never loses its lease to a loaded machine while it is alive
const LEASE = 4;
const cluster = await startPostgres(t);
const dbUrl = await cluster.createDatabase();
const nodes = kdeliverNodes(t, dbUrl, { KDELIVER_INGEST_LEASE_SECONDS: String(LEASE) });
const db = new pg.Client({ connectionString: dbUrl });

interface JobRow { id: number; state: string; owner_token: string | null; owner_pid: number | null; lease_until: number | null; attempts: number; progress: number; error: string | null }

/** Processes whose command line names `needle` (A's ffmpeg, by its staging folder). */
function processesNaming(needle: string): number[] {
  const found: number[] = [];
  for (const p of readdirSync('/proc')) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(needle)) found.push(Number(p));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

t.test('a job whose node is killed mid-job is finished by the other node after the lease', async (t) => {
  const source = join(nodes.dataDir, '..', 'long.mp4');
  // five minutes of a small picture: a transcode of about twenty seconds here
  makeSource(source, { seconds: 300, width: 160, height: 90 });
  const A = await nodes.start();
  let watching = true;
  let watcher: Promise<void> = Promise.resolve();
  await db.connect();
  t.teardown(async () => {
    watching = false;
    await watcher;
    await db.end();
  });

  const api = async (service: string, action: string, params: Record<string, unknown>, ks = ''): Promise<any> => {
    const res = await fetch(`${A.url}/api_v3/service/${service}/action/${action}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ks, ...params }),
    });
    return res.json();
  };
  const ks: string = await api('session', 'start', { secret: 'sample-admin-secret-309', partnerId: 309, type: 2, userId: 'multinode' });
  const token = await api('uploadToken', 'add', { uploadToken: { objectType: 'KalturaUploadToken', fileName: 'long.mp4' } }, ks);
  const form = new FormData();
  form.set('format', '1');
  form.set('ks', ks);
  form.set('uploadTokenId', token.id);
  form.set('fileData', new Blob([readFileSync(source)]), 'long.mp4');
  const uploaded = await (await fetch(`${A.url}/api_v3/service/uploadToken/action/upload`, { method: 'POST', body: form })).json();
  t.match(uploaded, { status: 2 }, 'uploaded to A');
  const entry = await api('media', 'addFromUploadedFile', { mediaEntry: { objectType: 'KalturaMediaEntry', name: 'Takeover', mediaType: 1 }, uploadTokenId: token.id }, ks);
  t.match(entry, { objectType: 'KalturaMediaEntry', id: /^0_/ }, 'media.addFromUploadedFile on A');
  const entryId: string = entry.id;

  // the job's row, as often as the watcher can read it
  const rows: (JobRow & { at: number })[] = [];
  const row = async () => (await db.query<JobRow>('SELECT id::int, state, owner_token, owner_pid::int, lease_until::float8, attempts::int, progress::float8, error FROM ingest_jobs WHERE entry_id = $1 ORDER BY id DESC LIMIT 1', [entryId])).rows[0];
  watcher = (async () => {
    while (watching) {
      const r = await row().catch(() => undefined);
      if (r) rows.push({ ...r, at: Date.now() / 1000 });
      await sleep(50);
    }
  })();
  const until = async (what: string, ms: number, pred: (r: JobRow) => boolean): Promise<JobRow> => {
    for (const end = Date.now() + ms; Date.now() < end; await sleep(50)) {
      const r = await row();
      if (r && pred(r)) return r;
    }
    throw new Error(`${what}: not within ${ms} ms (last row ${JSON.stringify(await row())})\nA:\n${A.log().slice(-3000)}`);
  };

  const onA = await until('A runs the job', 60_000, (r) => r.state === 'running' && r.owner_pid === A.pid);
  const tokenA = onA.owner_token!;
  const folderA = `job-${onA.id}-${tokenA}`;
  // B joins while A holds the job, and must leave it alone for as long as A renews its lease
  const B = await nodes.start();
  await sleep(2 * LEASE * 1000);
  const stillA = await row();
  t.match(stillA, { state: 'running', owner_token: tokenA, owner_pid: A.pid, attempts: 1 }, `after ${2 * LEASE} s beside B, A still holds the job (progress ${stillA.progress})`);
  t.ok(stillA.progress < 1, 'mid-job');
  const ffmpegOfA = processesNaming(folderA);
  t.ok(ffmpegOfA.length > 0, `A's ffmpeg runs (${ffmpegOfA.join(', ')})`);

  await A.kill();
  const killedAt = Date.now() / 1000;
  const leaseOfA = (await row()).lease_until!;
  t.comment(`A (pid ${A.pid}) killed at progress ${stillA.progress}; its lease ends ${(leaseOfA - killedAt).toFixed(1)} s later`);

  const onB = await until('B takes the job over', 60_000, (r) => r.owner_token !== tokenA && r.state === 'running');
  const takenAt = Date.now() / 1000;
  t.equal(onB.owner_pid, B.pid, 'B holds the job now');
  t.equal(onB.attempts, 2, 'the second attempt');
  const orphans = processesNaming(folderA);
  t.same(orphans, [], "no ffmpeg of A's attempt runs while B's attempt does");
  for (const p of orphans) process.kill(p, 'SIGKILL');
  t.ok(takenAt >= leaseOfA - 1, `B took it over after A's lease ran out (lease end ${leaseOfA}, seen taken ${takenAt.toFixed(1)}, ${(takenAt - killedAt).toFixed(1)} s after the kill)`);

  const done = await until('the job ends', 240_000, (r) => r.state !== 'running' && r.state !== 'queued');
  watching = false;
  await watcher;
  t.match(done, { state: 'done', attempts: 2, error: null }, 'the job is done, in two attempts');
  t.match(B.log(), /ingest job taken over/, "B's log says it took the job over");

  // one attempt at a time, A's then B's, never back
  const holders: string[] = [];
  for (const r of rows) {
    if (r.state !== 'running' || !r.owner_token) continue;
    if (holders.at(-1) !== r.owner_token) holders.push(r.owner_token);
  }
  t.same(holders, [tokenA, onB.owner_token], `the job was held by A's attempt, then B's, never both (${rows.length} rows watched)`);
  t.ok(rows.filter((r) => r.owner_token === tokenA && r.state === 'running').every((r) => r.owner_pid === A.pid), "A's attempt was A's");
  t.ok(rows.filter((r) => r.owner_token === onB.owner_token).every((r) => r.owner_pid === B.pid), "B's attempt was B's");

  // nothing of A's attempt is left: its staging folder was swept, none is left at all
  const staging = join(nodes.dataDir, 'tmp', 'ingest');
  t.same(existsSync(staging) ? readdirSync(staging) : [], [], 'no staging folder left');

  // the entry, READY, plays from B
  const got = await (await fetch(`${B.url}/api_v3/service/baseentry/action/get?format=1&entryId=${entryId}&ks=${encodeURIComponent(ks)}`)).json();
  t.match(got, { id: entryId, status: 2 }, 'READY');
  t.ok(Math.abs(got.duration - 300) <= 1, `five minutes long (${got.duration} s)`);
  const flavors = await (await fetch(`${B.url}/api_v3/service/flavorasset/action/list?format=1&filter[entryIdEqual]=${entryId}&ks=${encodeURIComponent(ks)}`)).json();
  t.ok(flavors.objects?.length >= 2, `${flavors.objects?.length} flavors (the source and the ladder)`);
  const hls = `${B.url}/p/309/sp/0/playManifest/entryId/${entryId}/format/applehttp/protocol/http/a.m3u8`;
  const master = await fetch(hls);
  t.equal(master.status, 200, 'B answers the HLS master');
  const body = await master.text();
  for (const f of flavors.objects) {
    if (!f.tags.includes('source') || flavors.objects.length === 1) t.match(body, f.id, `the master lists flavor ${f.id}`);
  }
  // ffmpeg plays the HLS from B, and decodes every flavor B serves, to the end
  const hlsPlay = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-xerror', '-i', hls, '-t', '30', '-f', 'null', '-'], { encoding: 'utf8', timeout: 120_000 });
  t.equal(hlsPlay.status, 0, 'ffmpeg plays 30 s of the HLS from B', { stderr: hlsPlay.stderr });
  for (const f of flavors.objects) {
    const url = `${B.url}/p/309/sp/30900/serveFlavor/entryId/${entryId}/v/1/flavorId/${f.id}/name/a.mp4`;
    const r = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-xerror', '-i', url, '-f', 'null', '-'], { encoding: 'utf8', timeout: 120_000 });
    t.equal(r.status, 0, `flavor ${f.id} decodes to the end from B`, { stderr: r.stderr });
  }
  await B.stop();
});
