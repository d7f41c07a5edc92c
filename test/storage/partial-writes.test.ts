// A process killed (kill -9) while it copies a file into local media leaves its `.part` file; it
// is never named by the catalog, and it used to stay beside the entry's media until the entry was
// deleted. Local writes are now made in the media root's `.partial` folder, and a server start
// removes what was left there untouched for an hour (a write under way in another process, such
// as `kdeliver ingest` beside the server, is left alone). Real parts: a child process writing
// through the compiled media writer, killed with SIGKILL mid-copy.
import t from 'tap';
import { execFileSync, spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, utimesSync, watch, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startServer } from '../helpers/server.js';
import { projectRoot } from '../helpers/repo.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-partial-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const dataDir = join(work, 'data');
const mediaRoot = join(dataDir, 'media');
mkdirSync(mediaRoot, { recursive: true });
const partial = join(mediaRoot, '.partial');

const until = async (what: string, ok: () => boolean, ms = 10_000): Promise<void> => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

t.test('kill -9 mid-copy leaves its .part in media/.partial only; the next start removes it', async (t) => {
  // a source big enough that its copy takes a while (~0.3 s here); the child is killed as soon as
  // its .part appears in the folder (fs.watch), long before the copy could end
  const source = join(work, 'source.mp4');
  const chunk = Buffer.alloc(16 << 20, 7);
  const sfd = openSync(source, 'w');
  for (let i = 0; i < 32; i++) writeSync(sfd, chunk);
  closeSync(sfd);
  mkdirSync(partial);
  const writer = pathToFileURL(join(projectRoot, 'dist', 'src', 'storage', 'media-writer.js')).href;
  let child!: ReturnType<typeof spawn>;
  const appeared = new Promise<void>((resolve) => {
    const w = watch(partial, (_ev, name) => {
      if (!name?.endsWith('.part')) return;
      child.kill('SIGKILL');
      w.close();
      resolve();
    });
  });
  child = spawn(process.execPath, ['--input-type=module', '-e',
    `const { localMediaWriter } = await import(${JSON.stringify(writer)}); await localMediaWriter(${JSON.stringify(mediaRoot)}).putFile(${JSON.stringify(source)}, '309/0_partial1/source.mp4'); console.log('copied');`],
  { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  child.stdout!.on('data', (d) => { out += d; });
  const exited = new Promise<NodeJS.Signals | null>((r) => child.on('exit', (_c, sig) => r(sig)));
  // (a writer that puts its .part elsewhere ends its copy first)
  await Promise.race([appeared, exited]);
  t.equal(await exited, 'SIGKILL', 'killed mid-copy');
  t.equal(out, '', 'before the copy ended');

  const left = readdirSync(partial);
  t.equal(left.length, 1, 'one half-written file');
  t.match(left[0], /^[0-9a-f]{12}-source\.mp4\.part$/, 'a .part named after its destination');
  t.notOk(existsSync(join(mediaRoot, '309', '0_partial1', 'source.mp4')), 'nothing at the destination');
  t.same(readdirSync(join(mediaRoot, '309', '0_partial1')), [], 'nothing half-written beside the entry\'s media');

  // an hour untouched: no write is under way; another, just touched, is someone's write now
  const hourAgo = (Date.now() - 61 * 60 * 1000) / 1000;
  utimesSync(join(partial, left[0]), hourAgo, hourAgo);
  const live = join(partial, 'abcdefabcdef-other.mp4.part');
  closeSync(openSync(live, 'w'));

  await startServer(t, { env: { KDELIVER_DATA_DIR: dataDir } });
  await until('the stale .part removed', () => !existsSync(join(partial, left[0])));
  t.pass('the next start removed the stale .part');
  t.ok(existsSync(live), 'a write under way is left alone');
});

t.test('a folder of the media root on another mount: the write lands, nothing left beside it', async (t) => {
  if (process.getuid?.() !== 0) throw new Error('this test mounts folders inside the media folder: run it as root');
  const root = join(work, 'mounted-media');
  const { localMediaWriter } = await import(pathToFileURL(join(projectRoot, 'dist', 'src', 'storage', 'media-writer.js')).href);
  // a tmpfs (another file system) and a bind mount of this one (the same device number: a Docker
  // -v volume of the host's disk); rename() refuses both from media/.partial (EXDEV)
  const bound = join(work, 'bound-source');
  mkdirSync(bound);
  for (const [entry, mount] of [['0_tmpfs001', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs']], ['0_bindmnt1', ['--bind', bound]]] as const) {
    const entryDir = join(root, '309', entry);
    mkdirSync(entryDir, { recursive: true });
    execFileSync('mount', [...mount, entryDir]);
    t.teardown(() => execFileSync('umount', ['-l', entryDir]));
    await localMediaWriter(root).putBytes(`309/${entry}/caption.vtt`, 'WEBVTT\n');
    t.equal(readFileSync(join(entryDir, 'caption.vtt'), 'utf8'), 'WEBVTT\n', `${entry}: written`);
    t.same(readdirSync(entryDir), ['caption.vtt'], `${entry}: nothing else left beside it`);
  }
  t.same(readdirSync(join(root, '.partial')), [], 'nor in media/.partial');
});
