// The server's log on a disk that fills: `kdeliver serve >> kdeliver.log` with kdeliver.log on a
// full file system. With pino's own destination the first failed write started an exit whose
// hook retried the write for ever: the server answered nothing, kept its port and ignored SIGTERM.
// Now it serves on, keeps what it could not write up to a bound (then counts what it drops), and
// writes it, whole lines only, with a line naming the drops once the disk has room again
// (src/log-output.ts). Real parts: a small tmpfs (mounting it needs root, as the CI machine is),
// the installed `kdeliver` command with its standard output on that file system.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, linkBin } from '../helpers/command.js';
import { LogOutput } from '../../src/log-output.js';

if (process.getuid?.() !== 0) throw new Error('this test mounts a small tmpfs as a full disk for the log: run it as root');

const work = mkdtempSync(join(tmpdir(), 'kdeliver-log-full-'));
const mounts: string[] = [];
t.teardown(() => {
  for (const m of mounts) execFileSync('umount', ['-l', m]);
  rmSync(work, { recursive: true, force: true });
});

function smallDisk(name: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** Fills the file system under `dir` to its last byte; the fillers are `filler-*`. */
function fill(dir: string): void {
  let i = 0;
  for (const size of [65536, 4096, 512, 1]) {
    const chunk = Buffer.alloc(size, 1);
    try {
      for (;;) writeFileSync(join(dir, `filler-${i++}`), chunk);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    }
  }
}

function unfill(dir: string): void {
  for (const f of readdirSync(dir)) if (f.startsWith('filler-')) rmSync(join(dir, f));
}

/** Waits (a turn of the event loop at a time, at most `turns` of 10 ms) until `done()`. */
async function until(done: () => boolean, turns = 1000): Promise<boolean> {
  for (let i = 0; i < turns && !done(); i++) await new Promise((r) => setTimeout(r, 10));
  return done();
}

const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter((l) => l !== '');

t.test('LogOutput on a full disk: lines kept up to the bound, the rest counted, all written whole once there is room', async (t) => {
  const disk = smallDisk('unit');
  const file = join(disk, 'kdeliver.log');
  const fd = openSync(file, 'a');
  t.teardown(() => closeSync(fd));
  const out = new LogOutput(fd, { maxPendingBytes: 20_000, retryMs: 50, now: () => 1234 });
  out.write(`${JSON.stringify({ n: 0, pad: 'a'.repeat(100) })}\n`);
  t.ok(await until(() => out.pending === 0), 'written while there is room');
  fill(disk);
  const line = (n: number) => `${JSON.stringify({ n, pad: 'b'.repeat(3000) })}\n`;
  // the first fits in what is left of the log file's last page; the second stops part-way in it
  // (a short write), and the rest of it cannot be written
  out.write(line(1));
  t.ok(await until(() => out.pending === 0), 'a line that fits in the file\'s last page is written');
  out.write(line(2));
  t.ok(await until(() => out.failing !== null), 'the next one fails');
  t.match(out.failing, /^ENOSPC: /, 'with ENOSPC');
  for (let n = 3; n <= 20; n++) out.write(line(n));
  t.ok(out.pending > 0 && out.pending <= 20_000, 'the lines wait, no more than the bound');
  const dropped = out.dropped;
  t.ok(dropped > 0 && dropped < 18, `the lines past the bound are dropped and counted (${dropped})`);
  unfill(disk);
  t.ok(await until(() => out.pending === 0), 'everything kept is written once there is room, without a new line to push it');
  t.equal(out.failing, null, 'the output takes lines again');
  out.write(`${JSON.stringify({ n: 21 })}\n`);
  t.ok(await until(() => out.pending === 0), 'and the lines after it');
  const got = lines(file).map((l) => JSON.parse(l) as { n?: number; msg?: string; level?: number });
  const kept = 20 - dropped;
  t.same(got.filter((l) => l.n !== undefined).map((l) => l.n), [...Array(kept + 1).keys(), 21], 'whole lines (each parses), in order, none twice');
  const note = got.find((l) => l.msg !== undefined);
  t.match(note, { level: 40, time: 1234, msg: new RegExp(`^${dropped} log lines were dropped: the log output could not be written \\(ENOSPC: `) }, 'a line says how many were dropped and why');
  t.equal(got.indexOf(note!), kept + 1, 'where they were dropped');
});

t.test('kdeliver serve with its log on a full disk serves on, logs again once there is room, stops on SIGTERM', async (t) => {
  const disk = smallDisk('serve');
  const dataDir = join(work, 'data');
  const logFile = join(disk, 'kdeliver.log');
  const binDir = join(work, 'bin');
  linkBin(binDir);
  const fd = openSync(logFile, 'a');
  const child = spawn('kdeliver', ['serve'], {
    env: { ...cleanEnv, PATH: `${binDir}:${process.env.PATH}`, HOST: '127.0.0.1', PORT: '0', NODE_ENV: 'production', KDELIVER_DATA_DIR: dataDir },
    stdio: ['ignore', fd, 'pipe'],
  });
  closeSync(fd);
  t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  t.ok(await until(() => /listening on http:\/\/127\.0\.0\.1:\d+/.test(err), 6000), `started: ${err}`);
  const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(err)![1];
  const ask = async (id: string) => {
    try {
      return (await fetch(`${base}/p/100/sp/0/playManifest/entryId/${id}/format/url/a.mp4`, { signal: AbortSignal.timeout(20_000) })).status;
    } catch (e) {
      return `no answer (${(e as Error).message})`;
    }
  };
  t.equal(await ask('0_before'), 404, 'answers');
  t.ok(await until(() => readFileSync(logFile, 'utf8').includes('0_before')), 'and logs');

  fill(disk);
  const answers: (number | string)[] = [];
  for (let i = 0; i < 20 && !answers.some((a) => a !== 404); i++) answers.push(await ask(`0_full${i}`));
  t.same(answers, Array(20).fill(404), 'every request answered while the log cannot be written');

  unfill(disk);
  t.equal(await ask('0_after'), 404, 'answers once there is room');
  t.ok(await until(() => readFileSync(logFile, 'utf8').includes('0_after')), 'and logs again');
  const log = lines(logFile);
  for (const l of log) t.doesNotThrow(() => JSON.parse(l), 'every line whole');
  t.ok(log.some((l) => l.includes('0_full19')), 'the lines of the full spell written after it (well under the bound)');

  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  t.equal(await exited, 0, 'SIGTERM stops it (exit 0)');
  clearTimeout(timer);
});
