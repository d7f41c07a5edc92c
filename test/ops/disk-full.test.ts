// A data directory whose disk is full: the command line says so in one line (it printed Node's
// stack trace from copyFileSync), and an api_v3 write answers INTERNAL_SERVERL_ERROR saying the
// data directory cannot be written because its disk is full (it said "Internal server error
// occurred" and nothing more). Real parts: a small tmpfs as the data directory (mounting it needs
// root, as the CI machine is), the installed `kdeliver` command, SQLite filling it.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedCommand } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';
import { generateKs } from '../../src/access/ks.js';

if (process.getuid?.() !== 0) throw new Error('this test mounts a small tmpfs as a full disk: run it as root');

const work = mkdtempSync(join(tmpdir(), 'kdeliver-disk-full-'));
const mounts: string[] = [];
t.teardown(() => {
  for (const m of mounts) execFileSync('umount', ['-l', m]);
  rmSync(work, { recursive: true, force: true });
});
const cmd = installedCommand(t, work);

function smallDisk(name: string, size: string): string {
  const dir = join(work, name);
  mkdirSync(dir);
  execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir]);
  mounts.push(dir);
  return dir;
}

/** Fills the file system under `dir` to its last few kilobytes. */
function fill(dir: string): void {
  let i = 0;
  for (const size of [1 << 20, 4096]) {
    const chunk = Buffer.alloc(size, 1);
    try {
      for (;;) writeFileSync(join(dir, `filler-${i++}`), chunk);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOSPC') throw e;
    }
  }
}

t.test('kdeliver import onto a full disk: one line saying so, exit 1, no stack', async (t) => {
  const dataDir = smallDisk('import', '2m');
  const r = await cmd.kdeliver(['import', join(projectRoot, 'fixtures', 'sample-library.json')], { KDELIVER_DATA_DIR: dataDir, KDELIVER_SAMPLE_LIBRARY: 'false' });
  t.equal(r.code, 1, 'exit 1');
  t.match(r.stderr, /^kdeliver: cannot write: its disk is full \(ENOSPC: no space left on device/m, 'says the disk is full');
  t.notMatch(r.stderr, /^\s+at /m, 'no stack trace');
});

t.test('an api_v3 write with the data directory full says so', async (t) => {
  // room for the sample library's media (copies across file systems), then filled
  const dataDir = smallDisk('serve', '160m');
  const s = await cmd.serve({ KDELIVER_DATA_DIR: dataDir });
  fill(dataDir);
  const admin = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 600, now: Math.floor(Date.now() / 1000), version: 2 });
  // less than a page is left: the WAL frame of any write does not fit
  const r = await fetch(`${s.url}/api_v3/service/accessControlProfile/action/add?format=1&ks=${admin}`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ accessControlProfile: { objectType: 'KalturaAccessControlProfile', name: 'on a full disk' } }),
  });
  const body = await r.json();
  t.equal(body.code, 'INTERNAL_SERVERL_ERROR', 'the code clients know');
  t.match(body.message, /the server's data directory cannot be written \(its disk is full: SQLITE_FULL\)$/, 'and why');
  t.notMatch(body.message, /\//, 'no path of the server\'s');

  // a picture written to the media folder on that disk: the store's failure, without its path
  const form = new FormData();
  form.append('fileData', new Blob([readFileSync(join(projectRoot, 'fixtures', 'media', 'thumb-640x360.jpg'))], { type: 'image/jpeg' }), 'thumb.jpg');
  const pic = await (await fetch(`${s.url}/api_v3/service/thumbAsset/action/addFromImage?format=1&ks=${admin}&entryId=1_rcit0qgs`, { method: 'POST', body: form })).json();
  t.equal(pic.code, 'INTERNAL_SERVERL_ERROR', 'a media write: the code clients know');
  t.match(pic.message, /the media store failed \(the media folder \(309\/1_rcit0qgs\/thumbasset-\S+\): could not be written \(ENOSPC\)\)/, 'and why');
  t.notMatch(pic.message, new RegExp(dataDir), 'no path of the server\'s');
  t.equal(await s.stop(), 0);
});
