// `kdeliver import-kaltura` into a data directory whose media are on S3 (KDELIVER_MEDIA_URL=s3://…,
// a real S3 protocol server, s3rver, through the real AWS SDK). It used to refuse at start ("run it
// with local media, then copy the folder"). Now the downloads are staged on local disk as before
// and, once an entry's files are all complete and verified, put into the store under the names
// the catalog gives them: every flavor object is byte for byte the source's file, nothing is left
// in the media folder or the staging folder, a second run finds the objects there and downloads
// nothing, and a kdeliver server reading that store plays the imported entry (a segment decoded
// by ffprobe). With the store down, the run fails the entries with a one-line reason naming the
// store and writes nothing to the catalog for them.
import t from 'tap';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { installedCommand } from '../helpers/command.js';
import { startS3 } from '../helpers/media-origins.js';
import { run } from '../helpers/command.js';

const SOURCE_SECRET = 'sample-admin-secret-309';
const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-s3-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);
const quiet = { KDELIVER_LOG_LEVEL: 'warn' };
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const ENTRIES = ['1_rcit0qgs', '1_alt0audi'];

t.test('import-kaltura puts the media into the S3 store, and a server reading it plays them', async (t) => {
  const srcDir = join(work, 'source');
  const src = await cmd.serve({ KDELIVER_DATA_DIR: srcDir, KDELIVER_SAMPLE_LIBRARY: 'true', ...quiet });
  t.teardown(() => src.stop());
  const s3 = await startS3(t);
  const dstDir = join(work, 'imported');
  const env = { KDELIVER_DATA_DIR: dstDir, KDELIVER_SAMPLE_LIBRARY: 'false', ...s3.env('lib') };
  const args = ['import-kaltura', '--service-url', src.url, '--partner-id', '309', '--admin-secret', SOURCE_SECRET, '--entry-ids', ENTRIES.join(','), '--jobs', '2'];

  const first = await cmd.kdeliver(args, env);
  t.equal(first.code, 0, `exit 0:\n${first.stdout}\n${first.stderr}`);
  t.match(first.stdout, /: 2 imported, 0 unchanged/, 'both entries imported');

  // every file the catalog names is an object of the store, the source's bytes
  const db = new Database(join(dstDir, 'catalog.sqlite'), { readonly: true, fileMustExist: true });
  const flavors = db.prepare(`SELECT id, file_path AS path, size FROM flavor_assets WHERE entry_id IN (${ENTRIES.map(() => '?').join(',')})`).all(...ENTRIES) as { id: string; path: string; size: number }[];
  const captions = db.prepare(`SELECT id, file_path AS path FROM caption_assets WHERE entry_id IN (${ENTRIES.map(() => '?').join(',')})`).all(...ENTRIES) as { id: string; path: string }[];
  const thumbs = db.prepare(`SELECT thumbnail_file AS path FROM entries WHERE thumbnail_file IS NOT NULL AND id IN (${ENTRIES.map(() => '?').join(',')})`).all(...ENTRIES) as { path: string }[];
  db.close();
  t.ok(flavors.length >= 4, `flavors imported (${flavors.length})`);
  const srcDb = new Database(join(srcDir, 'catalog.sqlite'), { readonly: true, fileMustExist: true });
  t.teardown(() => srcDb.close());
  for (const f of flavors) {
    const object = await s3.get(`lib/${f.path}`);
    const srcPath = (srcDb.prepare('SELECT file_path AS p FROM flavor_assets WHERE id = ?').get(f.id) as { p: string }).p;
    t.equal(sha(object), sha(readFileSync(join(srcDir, 'media', srcPath))), `${f.id}: the object is the source's file`);
    t.equal(object.length, f.size, `${f.id}: its size is recorded`);
  }
  for (const c of captions) t.ok((await s3.get(`lib/${c.path}`)).length > 0, `caption ${c.id} in the store`);
  for (const th of thumbs) t.ok((await s3.get(`lib/${th.path}`)).length > 0, `thumbnail ${th.path} in the store`);
  const filesIn = (dir: string): string[] => (existsSync(dir)
    ? readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => d.isFile()).map((d) => join(d.parentPath, d.name))
    : []);
  t.same(filesIn(join(dstDir, 'media')), [], 'no file in the local media folder');
  t.same(filesIn(join(dstDir, 'tmp', 'import')), [], 'nothing left in the staging folder');

  // a second run finds every object in the store: nothing is downloaded again
  const second = await cmd.kdeliver(args, env);
  t.equal(second.code, 0, second.stderr);
  t.match(second.stdout, /: 0 imported, 2 unchanged/, 'the second run leaves both entries as they are');

  // a server on that data directory and store plays an imported entry
  const dst = await cmd.serve({ ...env, ...quiet });
  t.teardown(() => dst.stop());
  const master = await fetch(`${dst.url}/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`);
  t.equal(master.status, 200, 'playManifest answers');
  const variant = (await master.text()).split('\n').find((l) => l.startsWith('http'))!;
  const playlist = await (await fetch(variant)).text();
  const seg = new URL(playlist.split('\n').find((l) => l.endsWith('.ts'))!, variant).href;
  const probe = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', seg], { timeoutMs: 60_000 });
  t.equal(probe.code, 0, probe.stderr);
  // (ffprobe lists a TS program's streams again under the program)
  t.same([...new Set(probe.stdout.split('\n').map((l) => l.trim()).filter(Boolean))].sort(), ['audio', 'video'], 'ffprobe reads the video and audio of a segment of the imported entry, from the store');

  await t.test('the store down: the entries fail with a reason naming the store, no stack', async (t) => {
    await s3.stop();
    const again = await cmd.kdeliver([...args.slice(0, -4), '--entry-ids', '1_audio001', '--jobs', '1'], env);
    t.not(again.code, 0, 'the run does not succeed');
    t.match(again.stdout + again.stderr, /s3 store s3:\/\/media\/lib \(.*\): .* failed/, 'the reason names the store');
    t.notMatch(again.stdout + again.stderr, /\n\s+at .*\.js:\d+/, 'no stack');
    const after = new Database(join(dstDir, 'catalog.sqlite'), { readonly: true, fileMustExist: true });
    t.equal((after.prepare("SELECT count(*) AS n FROM entries WHERE id = '1_audio001'").get() as { n: number }).n, 0, 'nothing of it in the catalog');
    after.close();
  });
});
