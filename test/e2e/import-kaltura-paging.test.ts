// `kdeliver import-kaltura --all` reads every entry of a partner with more entries than one
// baseEntry.list page holds (500), including a run of 600 entries that share one createdAt (the
// importer pages by createdAt, oldest first, and goes on by page index inside a tie). The source
// is a kdeliver server whose catalog comes from a library file; --no-media keeps it quick.
import t from 'tap';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { installedCommand } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-paging-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);
const SECRET = 'paging-admin-secret-777';
const TIED = 600;
const TOTAL = 1205;

t.test('more entries than a page, 600 of them created in the same second', async (t) => {
  const lib = join(work, 'lib');
  mkdirSync(join(lib, 'media'), { recursive: true });
  copyFileSync(join(projectRoot, 'fixtures', 'media', 'audio-128k.mp4'), join(lib, 'media', 'a.mp4'));
  const id = (i: number) => `0_p${String(i).padStart(7, '0')}`;
  writeFileSync(join(lib, 'library.json'), JSON.stringify({
    version: 1,
    partners: [{ id: 777, name: 'Paging', adminSecret: SECRET, userSecret: 'paging-user-secret-777' }],
    entries: Array.from({ length: TOTAL }, (_, i) => ({
      id: id(i), partnerId: 777, name: `Entry ${i}`, mediaType: 5, duration: 12,
      createdAt: i < TIED ? 1_700_000_000 : 1_700_000_000 + i,
      flavors: [{ id: `0_f${String(i).padStart(7, '0')}`, flavorParamsId: 301981, file: 'a.mp4', tags: 'audio_only,web', bitrate: 128 }],
    })),
  }));
  const srcEnv = { KDELIVER_DATA_DIR: join(work, 'source'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const loaded = await cmd.kdeliver(['import', join(lib, 'library.json')], srcEnv);
  t.equal(loaded.code, 0, loaded.stderr);
  const src = await cmd.serve(srcEnv);

  const dstDir = join(work, 'imported');
  const r = await cmd.kdeliver(['import-kaltura', '--service-url', src.url, '--partner-id', '777', '--admin-secret', SECRET, '--all', '--no-media', '--jobs', '4'],
    { KDELIVER_DATA_DIR: dstDir, KDELIVER_SAMPLE_LIBRARY: 'false' });
  t.equal(r.code, 0, r.stderr.slice(-2000));
  t.match(r.stdout, new RegExp(`partner 777 into partner 777: ${TOTAL} imported, 0 unchanged, 0 undeliverable, 0 not imported, 0 failed`));
  const db = new Database(join(dstDir, 'catalog.sqlite'), { readonly: true });
  const ids = db.prepare('SELECT id FROM entries ORDER BY id').pluck().all() as string[];
  const flavors = db.prepare('SELECT COUNT(*) FROM flavor_assets').pluck().get();
  db.close();
  t.same(ids, Array.from({ length: TOTAL }, (_, i) => id(i)), 'every entry, once');
  t.equal(flavors, TOTAL, 'with its flavor');
  await src.stop();
});
