// Importing a library over a catalog that already names its media, on both backends: a refused or
// failed import changes nothing (no media the catalog names replaced, no folder left), an id
// another owner holds is refused before any file is placed, changed content gets a new version
// (its URLs change), media a re-import no longer names go, and a caption may leave out its
// language or its code.
import t, { type Test } from 'tap';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCatalog } from '../../src/catalog/catalog.js';
import { openDatabase } from '../../src/catalog/db.js';
import { importLibrary, LibraryError, readLibraryFile, type LibraryCatalog, type MediaPut } from '../../src/catalog/library.js';
import type { Catalog } from '../../src/catalog/store.js';
import { openPgCatalog } from '../../src/catalog/pg/catalog.js';
import { projectRoot } from '../helpers/repo.js';
import { pgDatabase } from '../helpers/postgres.js';

const fixture = (name: string) => join(projectRoot, 'fixtures/media', name);
const sha = (f: string) => createHash('sha1').update(readFileSync(f)).digest('hex');
const partners = [4000, 4001].map((id) => ({ id, name: `P${id}`, adminSecret: `admin-secret-${id}`, userSecret: `user-secret-${id}` }));
const portrait = (over: Record<string, unknown> = {}) => ({
  id: '0_portr001', partnerId: 4000, name: 'Portrait', flavors: [{ id: '0_fportr01', flavorParamsId: 0, file: 'portrait.mp4', durationMs: 12000 }], ...over,
});

/** A library folder: media/{name} copied from fixtures/media, and lib.json. */
function libraryFolder(root: string, media: Record<string, string>, lib: Record<string, unknown>) {
  mkdirSync(join(root, 'media'), { recursive: true });
  for (const [name, from] of Object.entries(media)) copyFileSync(fixture(from), join(root, 'media', name));
  writeFileSync(join(root, 'lib.json'), JSON.stringify({ version: 1, ...lib }));
  return readLibraryFile(join(root, 'lib.json'));
}

type Backend = (t: Test) => Promise<Catalog>;
const backends: [string, Backend][] = [
  ['SQLite', async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'kdeliver-reimport-db-'));
    const db = openDatabase(join(dir, 'catalog.sqlite'));
    t.teardown(() => { db.close(); rmSync(dir, { recursive: true, force: true }); });
    return createCatalog(db) as unknown as Catalog;
  }],
  ['PostgreSQL', async (t) => {
    const pg = await openPgCatalog(await pgDatabase(t));
    t.teardown(() => pg.close());
    return pg as unknown as Catalog;
  }],
];

for (const [backend, open] of backends) {
  t.test(backend, async (t) => {
    const catalog = await open(t);
    const work = mkdtempSync(join(tmpdir(), 'kdeliver-reimport-'));
    t.teardown(() => rmSync(work, { recursive: true, force: true }));
    const mediaRoot = join(work, 'data-media');
    const placedPortrait = join(mediaRoot, '4000', '0_portr001', 'portrait.mp4');
    const first = libraryFolder(join(work, 'lib1'), { 'portrait.mp4': 'h264-240p.mp4' }, {
      partners, entries: [portrait(), { id: '0_other001', partnerId: 4001, name: 'Other' }],
    });
    await importLibrary(catalog, first.library, first.mediaDir, mediaRoot);
    t.equal(sha(placedPortrait), sha(fixture('h264-240p.mp4')));
    t.equal((await catalog.getFlavor('0_fportr01'))!.version, 1);

    await t.test('an id another partner holds is refused, with its place, before any file is placed', async (t) => {
      const lib3 = libraryFolder(join(work, 'lib3'), { 'portrait.mp4': 'h264-360p.mp4' }, {
        entries: [portrait(), { id: '0_other001', partnerId: 4000, name: 'Taken' }],
      });
      const progress: string[] = [];
      await t.rejects(importLibrary(catalog, lib3.library, lib3.mediaDir, mediaRoot, undefined, (p) => progress.push(p.phase)),
        { constructor: LibraryError, message: /^entries\[1\] \(0_other001\): entry 0_other001 belongs to partner 4001 in the catalog, not to partner 4000/ });
      t.same(progress, [], 'refused before the media phase');
      t.equal(sha(placedPortrait), sha(fixture('h264-240p.mp4')), 'the media the catalog names is untouched');
      t.notOk(existsSync(join(mediaRoot, '4000', '0_other001')), 'no folder made for the refused entry');
      t.equal((await catalog.getEntry('0_other001'))!.partnerId, 4001);
      // same with a flavor id another entry holds
      const lib4 = libraryFolder(join(work, 'lib4'), { 'portrait.mp4': 'h264-360p.mp4' }, {
        entries: [portrait({ id: '0_thief001' }), portrait({ flavors: [{ ...portrait().flavors[0], id: '0_fportr02' }] })],
      });
      await t.rejects(importLibrary(catalog, lib4.library, lib4.mediaDir, mediaRoot),
        { constructor: LibraryError, message: /^entries\[0\] \(0_thief001\)\.flavors\[0\]: flavor 0_fportr01 belongs to entry 0_portr001 in the catalog/ });
      t.equal(sha(placedPortrait), sha(fixture('h264-240p.mp4')));
      t.notOk(existsSync(join(mediaRoot, '4000', '0_thief001')));
    });

    await t.test('an import that fails in the catalog write leaves the media as they were', async (t) => {
      const lib = libraryFolder(join(work, 'lib5'), { 'portrait.mp4': 'h264-360p.mp4' }, { entries: [portrait(), portrait({ id: '0_new00001', flavors: [{ id: '0_fnew0001', flavorParamsId: 0, file: 'portrait.mp4' }] })] });
      const failing: LibraryCatalog = new Proxy(catalog, {
        get: (o, k) => (k === 'library' ? { ...o.library, held: o.library.held, write: async () => { throw new Error('the disk is full'); } } : (o as any)[k]),
      });
      await t.rejects(importLibrary(failing, lib.library, lib.mediaDir, mediaRoot), /the disk is full/);
      t.equal(sha(placedPortrait), sha(fixture('h264-240p.mp4')), 'the file the catalog names was not replaced');
      t.same(readdirSync(join(mediaRoot, '4000', '0_portr001')), ['portrait.mp4'], 'no other file left');
      t.notOk(existsSync(join(mediaRoot, '4000', '0_new00001')), 'no empty folder left');
      t.same(readdirSync(join(mediaRoot, '4000')).sort(), ['0_portr001'].sort());
      t.equal((await catalog.getFlavor('0_fportr01'))!.version, 1);
    });

    await t.test('a re-import with changed content gives the flavor and its entry a new version; the same again keeps them', async (t) => {
      const same = libraryFolder(join(work, 'lib6'), { 'portrait.mp4': 'h264-240p.mp4' }, { entries: [portrait()] });
      await importLibrary(catalog, same.library, same.mediaDir, mediaRoot);
      t.equal((await catalog.getFlavor('0_fportr01'))!.version, 1, 'the same content (another copy of it): the same version');
      t.equal((await catalog.getEntry('0_portr001'))!.version, 1);

      const lib = libraryFolder(join(work, 'lib7'), { 'portrait.mp4': 'h264-360p.mp4' }, { entries: [portrait()] });
      await importLibrary(catalog, lib.library, lib.mediaDir, mediaRoot);
      const f = (await catalog.getFlavor('0_fportr01'))!;
      t.equal(f.version, 2, 'new content: a new flavor version');
      t.equal((await catalog.getEntry('0_portr001'))!.version, 2, 'and a new entry version');
      t.equal(sha(join(mediaRoot, f.filePath)), sha(fixture('h264-360p.mp4')), 'the row names the new content');
      t.same(readdirSync(join(mediaRoot, '4000', '0_portr001')), [f.filePath.split('/').pop()], 'the old file is gone');
      await importLibrary(catalog, lib.library, lib.mediaDir, mediaRoot);
      t.equal((await catalog.getFlavor('0_fportr01'))!.version, 2, 'imported again unchanged: the version stays');
      t.equal((await catalog.getFlavor('0_fportr01'))!.filePath, f.filePath);
      const given = libraryFolder(join(work, 'lib8'), { 'portrait.mp4': 'h264-240p.mp4' }, { entries: [portrait({ flavors: [{ ...portrait().flavors[0], version: 7 }] })] });
      await importLibrary(catalog, given.library, given.mediaDir, mediaRoot);
      t.equal((await catalog.getFlavor('0_fportr01'))!.version, 7, 'a version the file gives is kept');
    });

    await t.test('media a re-import no longer names are removed from the entry folder', async (t) => {
      const lib = libraryFolder(join(work, 'lib9'), { 'a.mp4': 'h264-240p.mp4', 'b.mp4': 'h264-360p.mp4', 'eng.vtt': 'captions-eng.vtt' }, {
        entries: [portrait({ flavors: [{ id: '0_fportr01', flavorParamsId: 0, file: 'a.mp4' }], captions: [{ id: '0_cportr01', language: 'English', languageCode: 'en', format: 'vtt', file: 'eng.vtt' }] })],
      });
      await importLibrary(catalog, lib.library, lib.mediaDir, mediaRoot);
      t.same(readdirSync(join(mediaRoot, '4000', '0_portr001')).sort(), ['a.mp4', 'eng.vtt']);
      lib.library.entries![0].flavors![0].file = 'b.mp4';
      lib.library.entries![0].captions = [];
      await importLibrary(catalog, lib.library, lib.mediaDir, mediaRoot);
      t.same(readdirSync(join(mediaRoot, '4000', '0_portr001')), ['b.mp4'], 'the flavor\'s old file and the removed caption are gone');
    });

    await t.test('a caption may leave out its language or its code', async (t) => {
      const cap = (id: string, over: Record<string, unknown>) => ({ id, format: 'vtt', file: 'eng.vtt', ...over });
      const lib = libraryFolder(join(work, 'lib10'), { 'eng.vtt': 'captions-eng.vtt' }, {
        entries: [{ id: '0_capts001', partnerId: 4000, name: 'Captions', captions: [
          cap('0_cneith01', {}), cap('0_cname001', { language: 'French' }), cap('0_ccode001', { languageCode: 'de' }),
        ] }],
      });
      await importLibrary(catalog, lib.library, lib.mediaDir, mediaRoot);
      const got = Object.fromEntries((await catalog.listCaptions('0_capts001')).map((c) => [c.id, [c.language, c.languageCode]]));
      t.same(got, { '0_cneith01': ['Undefined', 'und'], '0_cname001': ['French', 'fr'], '0_ccode001': ['German', 'de'] });
    });

    await t.test('a remote media store: a key the catalog names is not overwritten, and nothing is put for a refused import', async (t) => {
      const puts: string[] = [];
      const removed: string[] = [];
      const store: MediaPut = { putFile: async (_file, key) => { puts.push(key); }, remove: async (key) => { removed.push(key); } };
      const lib = libraryFolder(join(work, 'lib11'), { 'b.mp4': 'h264-240p.mp4' }, {
        entries: [portrait({ flavors: [{ id: '0_fportr01', flavorParamsId: 0, file: 'b.mp4' }] }), { id: '0_other001', partnerId: 4000, name: 'Taken' }],
      });
      await t.rejects(importLibrary(catalog, lib.library, lib.mediaDir, store), { constructor: LibraryError, message: /0_other001/ });
      t.same(puts, [], 'refused before any put');
      const { filePath: named, version } = (await catalog.getFlavor('0_fportr01'))!;
      lib.library.entries!.pop();
      await importLibrary(catalog, lib.library, lib.mediaDir, store);
      t.equal(puts.length, 1);
      t.equal(named, '4000/0_portr001/b.mp4');
      t.equal(puts[0], '4000/0_portr001/b.2.mp4', 'put under a new key');
      t.equal((await catalog.getFlavor('0_fportr01'))!.version, version + 1, 'content not looked at: a new version');
      t.same(removed, ['4000/0_portr001/b.mp4'], 'the key the catalog named before is removed after the write');
      t.equal((await catalog.getFlavor('0_fportr01'))!.filePath, puts[0], 'which the row names');
    });
  });
}
