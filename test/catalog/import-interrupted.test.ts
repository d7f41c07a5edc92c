// `kdeliver import` stopped by Ctrl-C (SIGINT) or a supervisor's SIGTERM while it places a big
// library's media: it stops as a failed import does (README, "Your own library"): the catalog as it
// was, the files it placed removed, no journal left, exit 130. It used to die at once, leaving
// every file it had placed (a hard link per flavor, or an object in a media store, where no later
// import finds it) until the next `kdeliver import` into that data directory.
import t from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { binTarget, cleanEnv } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-interrupted-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

// a library big enough that placing its files takes a while: 20,000 entries sharing one small
// file, with every fact given (no file is probed)
const libDir = join(work, 'lib');
mkdirSync(join(libDir, 'media'), { recursive: true });
const { copyFileSync } = await import('node:fs');
copyFileSync(join(projectRoot, 'fixtures', 'media', 'h264-240p.mp4'), join(libDir, 'media', 'clip.mp4'));
const N = 20_000;
const entries = Array.from({ length: N }, (_, i) => ({
  id: `0_int${String(i).padStart(6, '0')}`, partnerId: 5001, name: `entry ${i}`, type: 1, mediaType: 1, status: 2, duration: 12,
  flavors: [{ id: `0_fl${String(i).padStart(6, '0')}`, flavorParamsId: 0, file: 'clip.mp4', width: 426, height: 240, bitrate: 378, frameRate: 25,
    codecs: 'avc1.640015,mp4a.40.2', tags: 'source,web,mbr', isOriginal: true, containerFormat: 'isom', videoCodec: 'h264', audioCodec: 'aac', durationMs: 12000 }],
}));
writeFileSync(join(libDir, 'library.json'), JSON.stringify({
  version: 1, mediaDir: 'media', partners: [{ id: 5001, name: 'Big', adminSecret: 'big-admin-secret-5001', userSecret: 'big-user-secret-5001' }], entries,
}));

for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  t.test(`${sig} while media are placed: nothing of the import is left`, async (t) => {
    const dataDir = join(work, `data-${sig}`);
    const child = spawn(process.execPath, [binTarget(), 'import', join(libDir, 'library.json')], {
      env: { ...cleanEnv, KDELIVER_DATA_DIR: dataDir, KDELIVER_SAMPLE_LIBRARY: 'false' }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
    await new Promise<void>((resolve) => {
      const look = (d: Buffer) => {
        out += d;
        if (out.includes('placing media, 20,000 entries')) {
          child.stderr.off('data', look);
          child.stderr.on('data', (e: Buffer) => (out += e));
          resolve();
        }
      };
      child.stderr.on('data', look);
      child.stdout.on('data', (d: Buffer) => (out += d));
      child.on('exit', () => resolve());
    });
    child.kill(sig);
    const { code, signal } = await exited;
    t.same({ code, signal }, { code: 130, signal: null }, `exit 130 (${out.trim().split('\n').at(-1)})`);
    t.match(out, /interrupted \(SIG[A-Z]+\): the catalog is as it was, and the media files it placed were removed/);
    const db = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true });
    t.equal(db.prepare('SELECT COUNT(*) FROM entries WHERE partner_id = 5001').pluck().get(), 0, 'no entry of the library in the catalog');
    db.close();
    const media = join(dataDir, 'media');
    t.same(existsSync(join(media, '5001')) ? readdirSync(join(media, '5001')) : [], [], 'no file of the library in the media folder');
    t.same(readdirSync(media).filter((f) => f.startsWith('.import-placing')), [], 'no journal of placed files left');
  });
}
