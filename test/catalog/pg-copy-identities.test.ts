// `kdeliver copy-catalog` keeps the ids of rows whose key PostgreSQL generates (identity columns:
// ingest_jobs and upload_parts, src/catalog/migrations.ts): after the copy, the next row written on
// PostgreSQL must get an id past the copied ones. Before, only ingest_jobs' identity was moved on,
// so an upload whose first chunk was recorded on the one box (SQLite) and whose next chunk reached
// a node after the move failed with a duplicate key on upload_parts.
// Real parts: the SQLite catalog file and a throwaway PostgreSQL, each through its own catalog.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCatalog } from '../../src/catalog/catalog.js';
import { openDatabase } from '../../src/catalog/db.js';
import { openPgCatalog } from '../../src/catalog/pg/catalog.js';
import { copySqliteToPostgres } from '../../src/catalog/pg/copy.js';
import { pgDatabase } from '../helpers/postgres.js';

const NOW = 1_780_000_000;

t.test('an upload begun on SQLite goes on after the copy to PostgreSQL', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-copy-id-'));
  const db = openDatabase(join(dir, 'catalog.sqlite'));
  t.teardown(() => {
    db.close();
    rmSync(dir, { recursive: true, force: true });
  });
  const lite = createCatalog(db);
  const partner = await lite.addPartner({ name: 'mover' });
  for (const id of ['0_tok1', '0_tok2']) {
    await lite.ingest.createUploadToken({ id, partnerId: partner.id, userId: 'u', fileName: 'a.mp4', fileSize: 30, now: NOW });
    await lite.ingest.addUploadPart({ tokenId: id, offset: 0, length: 10, objectKey: `.uploads/${id}/0`, restart: false, final: false, now: NOW });
  }

  const pg = await openPgCatalog(await pgDatabase(t));
  t.teardown(() => pg.close());
  await copySqliteToPostgres(db, pg.db);
  const out = await pg.ingest.addUploadPart({ tokenId: '0_tok1', offset: 10, length: 20, objectKey: '.uploads/0_tok1/10', restart: false, final: true, now: NOW + 1 });
  t.match(out, { token: { uploadedFileSize: 30 } }, 'the next chunk is recorded on PostgreSQL');
  t.same((await pg.ingest.uploadParts('0_tok1')).map((p) => p.objectKey), ['.uploads/0_tok1/0', '.uploads/0_tok1/10'], 'both parts, in arrival order');
  // copied again (the README says it may be run again): the ids still move on
  await copySqliteToPostgres(db, pg.db);
  await pg.ingest.addUploadPart({ tokenId: '0_tok2', offset: 10, length: 5, objectKey: '.uploads/0_tok2/10', restart: false, final: false, now: NOW + 2 });
  t.same((await pg.ingest.uploadParts('0_tok2')).map((p) => p.objectKey), ['.uploads/0_tok2/0', '.uploads/0_tok2/10'], 'after a second copy too');
});
