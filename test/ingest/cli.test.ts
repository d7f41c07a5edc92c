// `kdeliver ingest` as a person runs it: a real child process, real ffmpeg, a real data directory.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommands } from '../helpers/system.js';
import { openDatabase } from '../../src/catalog/db.js';
import { createCatalog } from '../../src/catalog/catalog.js';
import { probeMedia } from '../../src/ingest/probe.js';
import { filesUnder, keyFrameTimes, makeSource, runCliModule } from './helpers.js';
import { runnableModule } from '../helpers/repo.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

const CLI = runnableModule('src/cli/ingest.ts');
const work = mkdtempSync(join(tmpdir(), 'kdeliver-ingest-cli-'));
const dataDir = join(work, 'data');
const env = { KDELIVER_DATA_DIR: dataDir };
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const openCatalog = () => createCatalog(openDatabase(join(dataDir, 'catalog.sqlite')));

t.test('a 480p video becomes a READY entry with a 240p and a 360p flavor, never upscaled to 720p', async (t) => {
  const src = join(work, 'clip.mp4');
  makeSource(src, { seconds: 5, width: 854, height: 480 });
  const r = await runCliModule(CLI, [src, '--partner', '309', '--entry-id', '0_cliclip1', '--name', 'My clip'], env);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /entry 0_cliclip1: source \S+ registered \(h264 854x480 \+ aac, 5\.0 s\)/);
  t.match(r.stdout, /skipped flavor params 301971: larger than the source/);
  // not a terminal: one line per 10 %
  const lines = r.stderr.split('\n').filter((l) => l.startsWith('transcoding 0_cliclip1: '));
  t.same(lines.map((l) => l.split(': ')[1]), ['0%', '10%', '20%', '30%', '40%', '50%', '60%', '70%', '80%', '90%', '100%']);
  t.match(r.stderr, /entry 0_cliclip1 READY with 3 flavors/);

  const catalog = openCatalog();
  t.teardown(() => catalog.db.close());
  const entry = (await catalog.getEntry('0_cliclip1'))!;
  t.equal(entry.status, 2, 'READY');
  t.equal(entry.name, 'My clip');
  t.equal(entry.mediaType, 1);
  t.ok(Math.abs(entry.duration - 5) < 0.2);
  t.ok(entry.thumbnailFile, 'a default thumbnail was made');
  const flavors = await catalog.listFlavors('0_cliclip1');
  t.same(flavors.map((f) => f.flavorParamsId).sort(), [0, 301951, 301961]);
  const source = flavors.find((f) => f.isOriginal)!;
  t.same(source.tags, ['source', 'web'], 'an H.264/AAC MP4 source is web-playable');
  for (const f of flavors.filter((x) => !x.isOriginal)) {
    const file = join(dataDir, 'media', f.filePath);
    const p = await probeMedia(file);
    t.equal(p.video?.codec, 'h264');
    t.equal(p.audio?.codec, 'aac');
    t.equal(`${p.video?.width}x${p.video?.height}`, `${f.width}x${f.height}`, 'catalog matches the file');
    t.equal(f.height, f.flavorParamsId === 301961 ? 240 : 360);
    t.match(f.codecs, /^avc1\.64[0-9a-f]{4},mp4a\.40\.2$/);
    t.equal(f.status, 2);
    t.same(keyFrameTimes(file).map((x) => Math.round(x * 100) / 100), [0, 2, 4], 'a key frame every 2 s');
  }
  t.same(filesUnder(join(dataDir, 'tmp')), [], 'no staging file left');
  t.notOk(filesUnder(join(dataDir, 'media', '309', '0_cliclip1')).some((f) => f.endsWith('.part')));
});

t.test('an audio-only source gets the AAC audio flavor (301981)', async (t) => {
  const src = join(work, 'tone.m4a');
  makeSource(src, { seconds: 3, video: false });
  const r = await runCliModule(CLI, [src, '--partner', '309', '--entry-id', '0_clitone1'], env);
  t.equal(r.code, 0, r.stderr);
  const catalog = openCatalog();
  t.teardown(() => catalog.db.close());
  const entry = (await catalog.getEntry('0_clitone1'))!;
  t.equal(entry.status, 2);
  t.equal(entry.mediaType, 5, 'audio');
  t.equal(entry.thumbnailFile, null);
  const flavors = await catalog.listFlavors('0_clitone1');
  t.same(flavors.map((f) => f.flavorParamsId).sort(), [0, 301981]);
  const audio = flavors.find((f) => f.flavorParamsId === 301981)!;
  t.same(audio.tags, ['audio_only', 'web', 'mbr', 'applembr', 'dash']);
  t.equal(audio.width, 0);
  t.equal(audio.codecs, 'mp4a.40.2');
});

t.test('bad input leaves nothing behind and says what to do', async (t) => {
  const before = filesUnder(join(dataDir, 'media'));
  const catalog0 = openCatalog();
  const entriesBefore = (await catalog0.listEntries({ partnerId: 309, includeDeleted: true }, 500)).totalCount;
  catalog0.db.close();

  const text = join(work, 'notes.mp4');
  writeFileSync(text, 'these are my notes, not a video\n'.repeat(100));
  let r = await runCliModule(CLI, [text, '--partner', '309'], env);
  t.equal(r.code, 1);
  t.match(r.stderr, /ingest failed: not a media file ffmpeg can read.*upload a video or audio file/);

  const empty = join(work, 'empty.mp4');
  writeFileSync(empty, '');
  r = await runCliModule(CLI, [empty, '--partner', '309'], env);
  t.equal(r.code, 1);
  t.match(r.stderr, /the file is empty \(0 bytes\)/);

  r = await runCliModule(CLI, [join(work, 'clip.mp4')], env);
  t.equal(r.code, 2);
  t.match(r.stderr, /--partner is required\nusage: kdeliver ingest/);

  // --entry-id of an entry that plays: refused before the file is read, whatever the file; the
  // entry keeps its status, its flavors and its files (it was put in ERROR_IMPORTING by a file that
  // was not media, or had its source replaced by one that was)
  const c0 = openCatalog();
  const flavorsBefore = JSON.stringify(await c0.listFlavors('1_rcit0qgs'));
  const entryBefore = JSON.stringify(await c0.getEntry('1_rcit0qgs'));
  c0.db.close();
  for (const file of [text, join(work, 'clip.mp4')]) {
    r = await runCliModule(CLI, [file, '--partner', '309', '--entry-id', '1_rcit0qgs'], env);
    t.equal(r.code, 1, file);
    t.match(r.stderr, /ingest failed: entry 1_rcit0qgs already has content \(READY\): give another --entry-id, or none for a new entry/, file);
  }
  // a deleted entry's id (as `kdeliver entries delete` leaves it) is not taken again: said with the same hint (it had none)
  r = await runCliModule(CLI, [join(work, 'clip.mp4'), '--partner', '309', '--entry-id', '1_deleted0'], env);
  t.equal(r.code, 1);
  t.equal(r.stderr, 'kdeliver ingest: ingest failed: entry 1_deleted0 is deleted: give another --entry-id, or none for a new entry\n');
  const c1 = openCatalog();
  t.equal(JSON.stringify(await c1.getEntry('1_rcit0qgs')), entryBefore, 'the entry is as it was');
  t.equal(JSON.stringify(await c1.listFlavors('1_rcit0qgs')), flavorsBefore, 'its flavors are as they were');
  c1.db.close();


  t.same(filesUnder(join(dataDir, 'media')), before, 'no file added or left behind');
  t.same(filesUnder(join(dataDir, 'tmp')), []);
  const catalog = openCatalog();
  t.teardown(() => catalog.db.close());
  t.equal((await catalog.listEntries({ partnerId: 309, includeDeleted: true }, 500)).totalCount, entriesBefore, 'no entry added');
  t.equal(catalog.db.pragma('integrity_check', { simple: true }), 'ok');
});

t.test('--retry transcodes a failed entry again from its source', async (t) => {
  const c0 = openCatalog();
  const before = (await c0.listFlavors('0_cliclip1')).filter((f) => !f.isOriginal);
  // as a failed transcode leaves it
  c0.db.prepare('UPDATE entries SET status = -1 WHERE id = ?').run('0_cliclip1');
  c0.db.close();
  const r = await runCliModule(CLI, ['--retry', '0_cliclip1'], env);
  t.equal(r.code, 0, r.stderr);
  t.match(r.stdout, /entry 0_cliclip1: transcoding again from its source/);
  const catalog = openCatalog();
  t.teardown(() => catalog.db.close());
  t.equal((await catalog.getEntry('0_cliclip1'))!.status, 2);
  const after = (await catalog.listFlavors('0_cliclip1')).filter((f) => !f.isOriginal);
  t.same(after.map((f) => f.flavorParamsId).sort(), [301951, 301961]);
  t.notOk(after.some((f) => before.some((b) => b.id === f.id)), 'new renditions');
  for (const b of before) t.notOk(existsSync(join(dataDir, 'media', b.filePath)), `old file removed: ${b.filePath}`);
  t.same(filesUnder(join(dataDir, 'media', '309', '0_cliclip1')).length, 4, 'source, two renditions, the thumbnail');
  const again = await runCliModule(CLI, ['--retry', '0_cliclip1'], env);
  t.equal(again.code, 1);
  t.match(again.stderr, /is not in ERROR \(status 2\); only a failed entry is retried/);
});
