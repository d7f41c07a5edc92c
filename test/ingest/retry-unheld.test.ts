// `kdeliver ingest` on a data directory whose disk fills at the end of the transcoding: the
// catalog cannot take the flavors, nor the failure (SQLite needs room for either), so the entry
// stays PRECONVERT with a job its dead runner held. `ingest --retry` refused it ("not in ERROR"),
// and with no server on the data directory nothing ever finished it. Now, once the job's lease has
// run out, --retry runs that job, and the entry becomes READY. Nothing half-written is left on the
// way. Real parts: a small tmpfs as the data directory (mounting it needs root, as the CI machine
// is), the installed `kdeliver` command, ffmpeg.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedCommand } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';
import { requireCommands } from '../helpers/system.js';

if (process.getuid?.() !== 0) throw new Error('this test mounts a small tmpfs as the data directory: run it as root');
requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

const work = mkdtempSync(join(tmpdir(), 'kdeliver-retry-unheld-'));
const disk = join(work, 'disk');
mkdirSync(disk);
// room for the source and the transcodes, not for the catalog's writes after them (measured: the
// 240p and 360p flavors of h264-360p.mp4 and its thumbnail fit, the WAL frames of the commit do not)
execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=2500k', 'tmpfs', disk]);
t.teardown(() => {
  execFileSync('umount', ['-l', disk]);
  rmSync(work, { recursive: true, force: true });
});
const cmd = installedCommand(t, work);
const dataDir = join(disk, 'data');
const env = { KDELIVER_DATA_DIR: dataDir, NODE_ENV: 'production', KDELIVER_INGEST_LEASE_SECONDS: '2' };

const files = (dir: string): string[] => existsSync(dir) ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name) : [];

t.test('the disk fills as the transcodes are committed; once there is room, --retry finishes the entry', async (t) => {
  t.equal((await cmd.kdeliver(['partner', 'add', '--id', '800', '--name', 'Mine'], env)).code, 0, 'partner added');
  const first = await cmd.kdeliver(['ingest', join(projectRoot, 'fixtures', 'media', 'h264-360p.mp4'), '--partner', '800', '--entry-id', '0_full0001'], env);
  t.equal(first.code, 1, 'the ingest fails');
  t.match(first.stderr, /^kdeliver: cannot write: its disk is full/m, 'saying the disk is full');
  const listed = await cmd.kdeliver(['entries', 'list', '--partner', '800'], env);
  t.match(listed.stdout, /0_full0001\s+800\s+1 PRECONVERT/, 'the entry is still PRECONVERT (its failure could not be written either)');
  t.same(files(join(dataDir, 'media', '800', '0_full0001')).length, 1, 'its folder holds the source only: no flavor file without its record');
  t.same(files(join(dataDir, 'tmp')), [], 'no staging files left');

  execFileSync('mount', ['-o', 'remount,size=20m', disk]);
  // the job is its dead runner's until the lease (2 s) runs out: --retry says so until then
  let retry = await cmd.kdeliver(['ingest', '--retry', '0_full0001'], env);
  for (let i = 0; i < 40 && retry.code !== 0 && /held by a runner until/.test(retry.stderr); i++) {
    await new Promise((r) => setTimeout(r, 250));
    retry = await cmd.kdeliver(['ingest', '--retry', '0_full0001'], env);
  }
  t.equal(retry.code, 0, `--retry runs it: ${retry.stderr}`);
  t.match(retry.stdout, /entry 0_full0001: its transcoding \(job \d+\) was left unfinished; running it/, 'saying what it does');
  t.match(retry.stderr, /entry 0_full0001 READY with 3 flavors/, 'READY with its flavors');
  const after = await cmd.kdeliver(['entries', 'list', '--partner', '800'], env);
  t.match(after.stdout, /0_full0001\s+800\s+2 READY/, 'the catalog says READY');
  t.same(files(join(dataDir, 'tmp')), [], 'no staging files left');
});

t.test('a READY entry is still refused', async (t) => {
  const r = await cmd.kdeliver(['ingest', '--retry', '0_full0001'], env);
  t.equal(r.code, 1);
  t.match(r.stderr, /entry 0_full0001 is not in ERROR \(status 2\); only a failed entry is retried$/m);
});
