// `kdeliver import` of a library whose media are on another file system (so each file is copied,
// not hard-linked), stopped by Ctrl-C (SIGINT) while it copies: it stops once the file under way
// is copied, as a failed import does (README, "Your own library"): exit 130, the catalog as it
// was, no file of it left (the one it was copying included), and no journal. It used to copy with copyFileSync and
// turn the event loop only once per 500 entries, so a library of a few big files never heard the
// signal: it copied everything and exited 0.
import t from 'tap';
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, rmSync, statSync, writeFileSync, ftruncateSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { binTarget, cleanEnv } from '../helpers/command.js';

const shm = '/dev/shm';
const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-copy-int-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const otherFs = existsSync(shm) && statSync(shm).isDirectory() && statSync(shm).dev !== statSync(work).dev;
if (!otherFs) {
  t.pass('skipped: no /dev/shm on another file system than the temporary folder');
} else {
  // the library on /dev/shm (tmpfs); the data directory under the temporary folder: every file is
  // copied. 30 files of 64 MB, sparse on tmpfs (no memory taken) but written out whole by a copy.
  const libDir = mkdtempSync(join(shm, 'kdeliver-import-copy-int-'));
  t.teardown(() => rmSync(libDir, { recursive: true, force: true }));
  mkdirSync(join(libDir, 'media'));
  const N = 30;
  const SIZE = 64 * 1024 * 1024;
  const entries = Array.from({ length: N }, (_, i) => {
    const file = `big-${i}.mp4`;
    const fd = openSync(join(libDir, 'media', file), 'w');
    ftruncateSync(fd, SIZE);
    closeSync(fd);
    return {
      id: `0_cpy${String(i).padStart(4, '0')}`, partnerId: 5001, name: `entry ${i}`, duration: 12,
      // every fact given: no file is probed
      flavors: [{ id: `0_cpf${String(i).padStart(4, '0')}`, flavorParamsId: 0, file, width: 426, height: 240, bitrate: 378, frameRate: 25,
        codecs: 'avc1.640015,mp4a.40.2', tags: 'source,web,mbr', containerFormat: 'isom', videoCodec: 'h264', audioCodec: 'aac', durationMs: 12000 }],
    };
  });
  writeFileSync(join(libDir, 'library.json'), JSON.stringify({
    version: 1, partners: [{ id: 5001, name: 'Copies', adminSecret: 'copy-admin-secret-5001', userSecret: 'copy-user-secret-5001' }], entries,
  }));

  t.test('SIGINT while media are copied from another file system: stops, nothing of the import left', async (t) => {
    const dataDir = join(work, 'data');
    const child = spawn(process.execPath, [binTarget(), 'import', join(libDir, 'library.json')], {
      env: { ...cleanEnv, KDELIVER_DATA_DIR: dataDir, KDELIVER_SAMPLE_LIBRARY: 'false' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    child.stderr.on('data', (d: Buffer) => (out += d));
    child.stdout.on('data', (d: Buffer) => (out += d));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    let done = false;
    void exited.then(() => (done = true));
    // once the second file is being copied: the first whole, the second part-written
    const folder = join(dataDir, 'media', '5001');
    while (!done && (!existsSync(folder) || readdirSync(folder).length < 2)) await new Promise((r) => setTimeout(r, 5));
    t.notOk(done, 'the import still runs when the copies have begun');
    const signalled = Date.now();
    child.kill('SIGINT');
    // how many of the library's files the media folder ever held after the signal: the copies go
    // on no further than the one under way (before, every file was copied, then all removed)
    let most = 0;
    while (!done) {
      most = Math.max(most, existsSync(folder) ? readdirSync(folder).length : 0);
      await new Promise((r) => setTimeout(r, 2));
    }
    const { code, signal } = await exited;
    const took = Date.now() - signalled;
    t.ok(most < N, `the copies stopped at the signal (at most ${most} of ${N} files placed)`);
    t.same({ code, signal }, { code: 130, signal: null }, `exit 130 (${out.trim().split('\n').at(-1)})`);
    t.match(out, /SIGINT: stopping/);
    t.match(out, /interrupted \(SIGINT\): the catalog is as it was, and the media files it placed were removed/);
    t.notMatch(out, /imported /);
    t.ok(took < 5000, `stopped within 5 s of the signal (${took} ms)`);
    const db = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true });
    t.equal(db.prepare('SELECT COUNT(*) FROM entries WHERE partner_id = 5001').pluck().get(), 0, 'no entry of the library in the catalog');
    db.close();
    const media = join(dataDir, 'media');
    t.same(existsSync(folder) ? readdirSync(folder) : [], [], 'no file of the library in the media folder, whole or half-copied');
    t.same(readdirSync(media).filter((f) => f.startsWith('.import-placing')), [], 'no journal of placed files left');
  });
}
