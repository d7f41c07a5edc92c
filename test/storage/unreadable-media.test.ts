// A media file the server may not read: `kdeliver serve` run as its own user (nobody here) over a
// data directory where one flavor's file was copied in by root with mode 600. Its playlist,
// segments, progressive file and clips answer 502 with code 5, saying the file cannot be read
// (EACCES) and naming it under the media folder, never by the server's path; they were 500s with
// a stack in the log. The other flavors play. Real parts: the installed `kdeliver` command run
// with runuser (so the test needs root, as the CI machine is), the sample library.
import t, { type Test } from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdtempSync, readdirSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { cleanEnv, linkBin, run } from '../helpers/command.js';
import { repoPath } from '../helpers/repo.js';

if (process.getuid?.() !== 0) throw new Error('this test runs the server as the user nobody over a root-owned media file: run it as root');

const work = mkdtempSync(join(tmpdir(), 'kdeliver-unreadable-'));
chmodSync(work, 0o755);
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const binDir = join(work, 'bin');
linkBin(binDir);
const dataDir = join(work, 'data');
const env = { PATH: `${binDir}:${process.env.PATH}`, KDELIVER_DATA_DIR: dataDir };

/** The data directory with the sample library, made by the command, handed to nobody but one flavor's file; the server started as nobody. */
async function serveAsNobody(t: Test): Promise<{ base: string; log: () => string }> {
  const seeded = await run('kdeliver', ['partner', 'list'], { env });
  t.equal(seeded.code, 0, `seeded: ${seeded.stderr}`);
  const nobody = Number((await run('id', ['-u', 'nobody'])).stdout.trim());
  t.not(userInfo().uid, nobody, 'the test runs as another user than the server');
  // the seeded media are hard links to the repository's fixtures/media files: each is made a copy
  // of its own first, or the owner and mode set below would be the fixtures' too (one inode)
  const chownAll = (p: string): void => {
    const st = statSync(p);
    if (st.isFile() && st.nlink > 1) {
      copyFileSync(p, `${p}.own`);
      renameSync(`${p}.own`, p);
    }
    chownSync(p, nobody, -1);
    if (st.isDirectory()) for (const f of readdirSync(p)) chownAll(join(p, f));
  };
  const fixture = repoPath('fixtures/media/h264-720p.mp4');
  const was = statSync(fixture);
  chownAll(dataDir);
  const locked = join(dataDir, 'media', '309', '1_rcit0qgs', 'h264-720p.mp4');
  chownSync(locked, 0, 0);
  chmodSync(locked, 0o600);
  const now = statSync(fixture);
  t.same([now.uid, now.mode], [was.uid, was.mode], "the repository's fixture keeps its owner and mode");
  const child = spawn('runuser', ['-u', 'nobody', '--', 'env', ...Object.entries({ ...cleanEnv, ...env, HOST: '127.0.0.1', PORT: '0' }).map(([k, v]) => `${k}=${v}`), 'kdeliver', 'serve'], {
    stdio: ['ignore', 'pipe', 'pipe'], detached: true,
  });
  t.teardown(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch { /* gone */ }
  });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  for (let i = 0; i < 600 && !/listening on http:\/\/127\.0\.0\.1:\d+/.test(out) && child.exitCode === null; i++) await new Promise((r) => setTimeout(r, 100));
  const base = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
  if (!base) throw new Error(`kdeliver serve did not start as nobody (exit ${child.exitCode}):\n${out}`);
  return { base, log: () => out };
}

t.test('served as nobody, one flavor\'s file root\'s own', async (t) => {
  const { base, log } = await serveAsNobody(t);
  const T = `${base}/p/309/sp/30900`;
  const flavor = (id: string) => `${base}/hls/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/${id}/name/a.mp4`;

  // the unreadable flavor: 502, code 5, why, no path of the server's
  for (const url of [
    `${flavor('1_f3rcit00')}/index.m3u8`,
    `${flavor('1_f3rcit00')}/seg-1-v1-a1.ts`,
    `${T}/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f3rcit00/name/a.mp4`,
    `${T}/flvclipper/entry_id/1_rcit0qgs/flavor/1_f3rcit00/clip_from/0/clip_to/2000`,
  ]) {
    const r = await fetch(url);
    const text = await r.text();
    t.equal(r.status, 502, `${url}: 502`);
    t.equal(r.headers.get('x-kaltura'), 'error-5', 'code 5');
    t.match(text, /the media folder \(309\/1_rcit0qgs\/h264-720p\.mp4\): cannot be read by this server \(EACCES\)/, 'says why');
    t.notMatch(text, work, 'not the server\'s own path');
  }
  t.notMatch(log(), /"level":50/, 'no error logged as the server\'s own failure (a 500)');

  // the other flavors play
  t.equal((await fetch(`${flavor('1_f2rcit00')}/seg-1-v1-a1.ts`)).status, 200, 'a segment of the 360p flavor');
  t.equal((await fetch(`${T}/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f2rcit00/name/a.mp4`)).status, 200, 'its file');
});
