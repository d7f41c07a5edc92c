// The URLs the commands print for a person to open are URLs: with HOST an IPv6 address (`::`, every
// interface, as a dual-stack machine is often told to listen), `kdeliver ingest` printed
// http://:::8080/p/..., which no player, browser or curl can open; HOST=[::1] (with the brackets
// config.ts accepts) made serve's line say http://[[::1]]:8080.
import t from 'tap';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { binTarget, cleanEnv, installedCommand } from '../helpers/command.js';
import { requireCommands } from '../helpers/system.js';
import { projectRoot } from '../helpers/repo.js';
import { listenUrl, openUrl } from '../../src/config.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-printed-urls-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);

t.test('listenUrl writes an IPv6 address in brackets, once', async (t) => {
  t.equal(listenUrl('::', 8080), 'http://[::]:8080');
  t.equal(listenUrl('[::1]', 9000), 'http://[::1]:9000');
  t.equal(listenUrl('0.0.0.0', 8080), 'http://0.0.0.0:8080');
  t.equal(listenUrl('media.example.com', 80), 'http://media.example.com:80');
});

t.test('openUrl: the URL a person opens, loopback where the server binds every interface', async (t) => {
  // the Docker image listens on 0.0.0.0: http://0.0.0.0:8080/... is the bind address, not an address to open
  t.equal(openUrl('0.0.0.0', 8080), 'http://127.0.0.1:8080');
  t.equal(openUrl('::', 8080), 'http://[::1]:8080');
  t.equal(openUrl('[::]', 8080), 'http://[::1]:8080');
  t.equal(openUrl('127.0.0.1', 9000), 'http://127.0.0.1:9000');
  t.equal(openUrl('192.0.2.7', 80), 'http://192.0.2.7:80');
});

t.test('kdeliver ingest with HOST=:: prints URLs that parse and open: the loopback address, in brackets', async (t) => {
  requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
  const dataDir = join(work, 'data');
  const env = { KDELIVER_DATA_DIR: dataDir, KDELIVER_SAMPLE_LIBRARY: 'false' };
  const added = await cmd.kdeliver(['partner', 'add', '--name', 'v6'], env);
  t.equal(added.code, 0, added.stderr);
  const movie = join(work, 'movie.mp4');
  copyFileSync(join(projectRoot, 'fixtures/media/h264-240p.mp4'), movie);
  const r = await cmd.kdeliver(['ingest', movie, '--partner', '100'], { ...env, HOST: '::', PORT: '8080' });
  t.equal(r.code, 0, r.stderr);
  const urls = r.stdout.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('http'));
  t.equal(urls.length, 3, r.stdout);
  for (const u of urls) {
    t.match(u, /^http:\/\/\[::1\]:8080\/p\/100\/sp\/10000\//, u);
    t.equal(new URL(u).port, '8080', `${u} parses, port 8080`);
  }
});

t.test('kdeliver serve with HOST=0.0.0.0 (as in the Docker image): the URLs to try are loopback ones', async (t) => {
  const env = { ...cleanEnv, KDELIVER_DATA_DIR: join(work, 'sample'), HOST: '0.0.0.0', PORT: '0' };
  const child = spawn(process.execPath, [binTarget(), 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => { if (child.exitCode === null) child.kill('SIGKILL'); });
  let log = '';
  const tried = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no URLs to try in 60 s:\n${log}`)), 60_000);
    const look = (d: Buffer) => { log += d; if (/needs a KS/.test(log)) { clearTimeout(timer); resolve(); } };
    child.stdout.on('data', look);
    child.stderr.on('data', look);
  });
  await tried;
  const port = /kdeliver listening on http:\/\/0\.0\.0\.0:(\d+) — try:/.exec(log)?.[1];
  t.ok(port, 'it says where it listens: every interface');
  const tries = log.split('\n').map((l) => l.trim()).filter((l) => l.startsWith('http'));
  t.equal(tries.length, 5, log);
  for (const u of tries) t.match(u, new RegExp(`^http://127\\.0\\.0\\.1:${port}/p/309/`), u);
  const r = await fetch(tries[1].split(/\s+/)[0]);
  t.equal(r.status, 200, 'the HLS master URL it prints opens');
  await r.text();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  child.kill('SIGTERM');
  t.equal(await exited, 0);
});
