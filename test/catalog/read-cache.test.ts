// The SQLite catalog's read cache on a catalog bigger than it: it holds at most 50,000 reads, and
// when full the least recently asked goes, so the entries asked again and again stay while a
// million others pass through once. It used to empty itself whole at 50,000, dropping those too.
// A kept read is the same frozen object (src/catalog/catalog.ts readCache); a read again from
// SQLite is a new one.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createCatalog } from '../../src/catalog/catalog.js';
import { openDatabase } from '../../src/catalog/db.js';
import { importLibrary, readLibraryFile, sampleLibraryPath } from '../../src/catalog/library.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-read-cache-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

t.test('a catalog asked for far more than the cache holds keeps what is asked often, and stays bounded', async (t) => {
  const { library, mediaDir } = readLibraryFile(sampleLibraryPath());
  const catalog = createCatalog(openDatabase(join(work, 'catalog.sqlite')));
  t.teardown(() => catalog.close());
  await importLibrary(catalog, library, mediaDir, join(work, 'media'));
  const hot = await catalog.getEntry('1_rcit0qgs');
  const hotFlavors = await catalog.listFlavors('1_rcit0qgs');
  const cold = await catalog.getEntry('1_alt0audi');
  t.ok(hot && Object.isFrozen(hot), 'a kept read is frozen');
  t.equal(await catalog.getEntry('1_rcit0qgs'), hot, 'asked again: the same object');
  // 120,000 other reads (ids no entry has: each one read and kept), the player's entry among them
  for (let i = 0; i < 120_000; i++) {
    await catalog.getEntry(`0_${i.toString(36).padStart(8, '0')}`);
    if (i % 1000 === 0) {
      t.equal(await catalog.getEntry('1_rcit0qgs'), hot, `still kept after ${i} other reads`);
      await catalog.listFlavors('1_rcit0qgs');
    }
  }
  t.equal(await catalog.listFlavors('1_rcit0qgs'), hotFlavors, 'its flavors too');
  const again = await catalog.getEntry('1_alt0audi');
  t.not(again, cold, 'bounded: one asked once has gone, read from SQLite again');
  t.same(again, cold, 'the same values');
});
