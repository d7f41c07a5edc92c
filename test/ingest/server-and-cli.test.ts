// `kdeliver ingest` beside a running `kdeliver serve` on the same data directory, as a person runs
// them: two real processes, real ffmpeg, one catalog. The transcode outlives many lease periods
// (KDELIVER_INGEST_LEASE_SECONDS is shortened for the test, the job is not), and the server must
// neither take the job over nor touch its staging folder while the CLI holds it.
import t from 'tap';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommands } from '../helpers/system.js';
import { openDatabase } from '../../src/catalog/db.js';
import { createCatalog } from '../../src/catalog/catalog.js';
import { makeSource } from './helpers.js';
import { runnableArgs, runnableModule, projectRoot } from '../helpers/repo.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

// Short enough that the job outlives several lease periods, long enough that a CI machine under
// full load does not starve the CLI past its lease (at 2 s it once did, and the CLI rightly
// claimed the job again: a second attempt, which the assertions below count as a failure)
const LEASE = 4;
const root = projectRoot;
const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KDELIVER_') && k !== 'PORT' && k !== 'HOST' && k !== 'NODE_ENV'));
const work = mkdtempSync(join(tmpdir(), 'kdeliver-ingest-beside-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const dataDir = join(work, 'data');
const env = { ...inherited, KDELIVER_DATA_DIR: dataDir, KDELIVER_INGEST_LEASE_SECONDS: String(LEASE) };

function kdeliver(args: string[], extraEnv: Record<string, string> = {}): { child: ChildProcess; output: () => string; exit: Promise<number | null> } {
  const child = spawn(process.execPath, [...runnableArgs, runnableModule('src/cli/kdeliver.ts'), ...args], { cwd: root, env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  let out = '';
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (out += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (out += d));
  return { child, output: () => out, exit: new Promise((resolve) => child.on('exit', (code) => resolve(code))) };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

t.test('a long CLI ingest next to a running server ends READY, every flavor decodable', async (t) => {
  // The source: ten minutes of a small test pattern with a tone
  const src = join(work, 'long.mp4');
  makeSource(src, { seconds: 600, width: 160, height: 90 });

  const server = kdeliver(['serve'], { HOST: '127.0.0.1', PORT: '0', KDELIVER_LOG_LEVEL: 'info' });
  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start in 90 s:\n${server.output()}`)), 90_000);
    const look = () => {
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(server.output());
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    };
    server.child.stdout!.on('data', look);
    server.child.stderr!.on('data', look);
    server.child.on('exit', () => { clearTimeout(timer); reject(new Error(`server exited during start:\n${server.output()}`)); });
  });

  const cli = kdeliver(['ingest', src, '--partner', '309', '--entry-id', '0_beside01', '--name', 'Long', '--jobs', '1']);
  // Watch the job from outside while the CLI runs: who holds it, and that its folder stays
  const db = openDatabase(join(dataDir, 'catalog.sqlite'));
  t.teardown(() => db.close());
  const tokens = new Set<string>();
  const owners = new Set<number>();
  const leases = new Set<number>();
  let folderSeen = false;
  let folderGone = false;
  let done = false;
  const watching = (async () => {
    while (!done) {
      const job = db.prepare(`SELECT * FROM ingest_jobs WHERE entry_id = '0_beside01' ORDER BY id DESC LIMIT 1`).get() as Record<string, any> | undefined;
      if (job?.state === 'running') {
        tokens.add(String(job.owner_token));
        owners.add(job.owner_pid);
        leases.add(job.lease_until);
        const staging = join(dataDir, 'tmp', 'ingest');
        const folder = `job-${job.id}-${job.owner_token}`;
        const present = existsSync(staging) && readdirSync(staging).includes(folder);
        if (present) folderSeen = true;
        else if (folderSeen && db.prepare('SELECT state FROM ingest_jobs WHERE id = ?').pluck().get(job.id) === 'running') folderGone = true;
      }
      await sleep(200);
    }
  })();
  const code = await cli.exit;
  done = true;
  await watching;
  t.equal(code, 0, 'the CLI exits 0', { output: cli.output() });
  t.match(cli.output(), /entry 0_beside01 READY with 2 flavors/);
  t.notMatch(cli.output(), /lost job|another process/);

  const job = db.prepare(`SELECT * FROM ingest_jobs WHERE entry_id = '0_beside01'`).get() as Record<string, any>;
  t.equal(job.state, 'done');
  t.same([...owners], [cli.child.pid], 'the CLI process held the job throughout: the server never took it over');
  t.equal(job.attempts, 1, 'one attempt');
  t.ok(job.updated_at - job.created_at >= 3 * LEASE, `the job outlived several lease periods (${job.updated_at - job.created_at} s, lease ${LEASE} s)`);
  t.equal(tokens.size, 1, 'one attempt held the job from start to end');
  t.ok(leases.size >= 3, `the CLI renewed its lease (${leases.size} lease ends seen)`);
  t.ok(folderSeen, 'the CLI staging folder was seen');
  t.notOk(folderGone, 'no one removed the staging folder while the job ran');
  t.notMatch(server.output(), /taken over/);
  t.same(readdirSync(join(dataDir, 'tmp', 'ingest')), [], 'no staging folder left');

  const catalog = createCatalog(db);
  t.equal((await catalog.getEntry('0_beside01'))!.status, 2, 'READY');
  const flavors = await catalog.listFlavors('0_beside01');
  t.equal(flavors.length, 2, 'the source and the 90p flavor');
  // Every flavor as the server serves it, decoded to the end by ffmpeg
  for (const f of flavors) {
    const url = `http://127.0.0.1:${port}/p/309/sp/30900/serveFlavor/entryId/0_beside01/v/1/flavorId/${f.id}/name/a.mp4`;
    const r = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-xerror', '-i', url, '-f', 'null', '-'], { encoding: 'utf8' });
    t.equal(r.status, 0, `flavor ${f.id} (${f.flavorParamsId}) decodes`, { stderr: r.stderr });
    t.equal(r.stderr, '', `flavor ${f.id} decodes without an error`);
    t.ok(Math.abs(f.durationMs - 600_000) < 1000, `flavor ${f.id} is ten minutes long`);
  }

  server.child.kill('SIGTERM');
  t.equal(await server.exit, 0);
});
