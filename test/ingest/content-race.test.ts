// Two processes giving one empty entry its content at once (a server's media.addContent and
// `kdeliver ingest --entry-id`, or two nodes): each found the entry empty, and both registered a
// source and queued a job, whose runs then removed each other's files. The catalog now takes the
// first registration only (the entry must still take content when it is written), and a bad file
// arriving second does not put the other's content in ERROR. In one process, as two processes
// reach the catalog: addSource called twice at once, without the API's queue per entry.
import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommands } from '../helpers/system.js';
import { loadConfig } from '../../src/config.js';
import { openCatalog } from '../../src/catalog/open.js';
import { addSource, ContentTakenError, type IngestContext } from '../../src/ingest/pipeline.js';
import { EntryStatus } from '../../src/catalog/types.js';
import { filesUnder, makeSource } from './helpers.js';
import { sqliteDb } from '../helpers/sqlite.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

const work = mkdtempSync(join(tmpdir(), 'kdeliver-content-race-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const config = loadConfig({ KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_LOG_LEVEL: 'silent' });
const catalog = await openCatalog(config);
t.teardown(() => sqliteDb(catalog).close());
const ctx: IngestContext = { catalog, dataDir: config.dataDir, mediaRoot: config.mediaRoot };
const clip = join(work, 'clip.mp4');
makeSource(clip, { seconds: 2, width: 320, height: 240 });
const notMedia = join(work, 'notes.txt');
writeFileSync(notMedia, 'not a video at all');

const emptyEntry = async () => {
  const id = await catalog.ingest.newEntryId();
  await catalog.ingest.createEntry({ id, partnerId: 309, name: 'empty', status: EntryStatus.NO_CONTENT, mediaType: 1, now: 1_700_000_000 });
  return id;
};

t.test('two sources for one empty entry at once: the first is kept, the second refused and removed', async (t) => {
  const entryId = await emptyEntry();
  const results = await Promise.allSettled([clip, clip, clip].map(() => addSource(ctx, { partnerId: 309, file: clip, entryId })));
  const kept = results.filter((r) => r.status === 'fulfilled');
  const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  t.equal(kept.length, 1, 'one registration');
  t.equal(refused.length, 2);
  for (const r of refused) t.ok(r.reason instanceof ContentTakenError, `refused: ${r.reason.message}`);
  const sources = (await catalog.listFlavors(entryId)).filter((f) => f.isOriginal);
  t.equal(sources.length, 1, 'one source flavor');
  t.same(filesUnder(join(config.mediaRoot, '309', entryId)), [sources[0].filePath.split('/').pop()], 'and only its file');
  t.equal((await catalog.getEntry(entryId))!.status, EntryStatus.PRECONVERT);
  t.equal((await catalog.ingest.latestJob(entryId))!.state, 'queued');
});

t.test('a file that is no media, second to an entry given content meanwhile, leaves it as it is', async (t) => {
  const entryId = await emptyEntry();
  // the bad file's probe answers a second late: the good one is registered by then
  const slowProbe = join(work, 'slow-ffprobe');
  writeFileSync(slowProbe, '#!/bin/sh\nsleep 1\nexec ffprobe "$@"\n');
  chmodSync(slowProbe, 0o755);
  const [good, bad] = await Promise.allSettled([
    addSource(ctx, { partnerId: 309, file: clip, entryId }),
    addSource({ ...ctx, tools: { ffmpeg: 'ffmpeg', ffprobe: slowProbe } }, { partnerId: 309, file: notMedia, entryId }),
  ]);
  t.equal(good.status, 'fulfilled');
  t.equal(bad.status, 'rejected');
  t.equal((await catalog.getEntry(entryId))!.status, EntryStatus.PRECONVERT, 'never ERROR_IMPORTING for the other file');
  t.equal((await catalog.ingest.latestJob(entryId))!.state, 'queued', 'no failed job recorded over the real one');
});
