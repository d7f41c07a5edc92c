// uploadToken.upload's answer is the token as stored after the chunk's write: its updatedAt is the
// write's, as an immediate uploadToken.get shows it. The answer used to carry the updatedAt the
// token had before the chunk (for the final chunk too, and for a chunk kept aside until the ones
// before it arrive). Driven through src/ingest/uploads.ts with the clock the server passes in.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openCatalog } from '../../src/catalog/open.js';
import { createUploadToken, writeChunk } from '../../src/ingest/uploads.js';
import { uploadTokenObject } from '../../src/api/services/upload-token.js';
import { sqliteDb } from '../helpers/sqlite.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-upload-updated-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const config = loadConfig({ KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_LOG_LEVEL: 'silent' });
const catalog = await openCatalog(config);
t.teardown(() => sqliteDb(catalog).close());
const env = (now: number) => ({ catalog, dataDir: config.dataDir, now });

t.test('each chunk answers the updatedAt its write stored', async (t) => {
  const t0 = 1_800_000_000;
  const token = await createUploadToken(env(t0), { partnerId: 309, userId: 'me', fileName: 'clip.mp4', fileSize: 3000 });
  t.equal(token.updatedAt, t0);
  const stored = async () => uploadTokenObject((await catalog.ingest.getUploadToken(token.id))!);

  // 2 s later, a first chunk
  const first = uploadTokenObject(await writeChunk(env(t0 + 2), 309, token.id, Buffer.alloc(1000, 1), { resume: false, resumeAt: -1, finalChunk: false }));
  t.match(first, { uploadedFileSize: 1000, updatedAt: t0 + 2 });
  t.same(first, await stored(), 'the answer is what uploadToken.get then says');

  // a chunk past the end, kept aside
  const early = uploadTokenObject(await writeChunk(env(t0 + 4), 309, token.id, Buffer.alloc(1000, 3), { resume: true, resumeAt: 2000, finalChunk: false }));
  t.match(early, { uploadedFileSize: 1000, updatedAt: t0 + 4 });
  t.same(early, await stored());

  // the final chunk, which completes the upload
  const last = uploadTokenObject(await writeChunk(env(t0 + 6), 309, token.id, Buffer.alloc(1000, 2), { resume: true, resumeAt: 1000, finalChunk: true }));
  t.match(last, { status: 2, uploadedFileSize: 3000, updatedAt: t0 + 6 });
  t.same(last, await stored());
});
