// Keys per entry in the catalog: the sample library's contract keys, random keys (16 bytes from
// crypto.randomBytes, never derived from the id) for entries created or imported without them,
// and keys that travel with an export and come back with its import.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/config.js';
import { openCatalog } from '../../src/catalog/open.js';
import { describeCatalog } from '../../src/catalog/export.js';
import { importLibrary, readLibraryFile, sampleLibraryPath } from '../../src/catalog/library.js';
import { readEntryKeys } from '../../src/catalog/keys.js';
import { sqliteDb } from '../helpers/sqlite.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-keys-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

const open = (name: string, sample = true) => openCatalog(loadConfig({ KDELIVER_DATA_DIR: join(work, name), KDELIVER_SAMPLE_LIBRARY: String(sample), KDELIVER_LOG_LEVEL: 'silent' }));

t.test('the sample library carries the contract keys', async (t) => {
  const c = await open('a');
  t.same((await c.getEntryKeys('1_aeshls01')).key, '99a62b5ba79a2db6bfd1e25f616d3c88');
  t.same(await c.getEntryKeys('1_cenc0001'), { keyId: 'b0eb8a17323924b6d8d36875aacb0b48', key: '2e12bc8bbc726374d07ee3626f50108f' });
  sqliteDb(c).close();
});

t.test('entries without keys get random ones, different per entry and per data directory', async (t) => {
  const a = await open('r1');
  const b = await open('r2');
  const ka = await a.getEntryKeys('1_rcit0qgs');
  const kb = await b.getEntryKeys('1_rcit0qgs');
  t.match(ka.key, /^[0-9a-f]{32}$/);
  t.match(ka.keyId, /^[0-9a-f]{32}$/);
  t.not(ka.key, kb.key, 'the same entry id in two libraries: different keys (nothing derived from the id)');
  t.not(ka.keyId, kb.keyId);
  t.not(ka.key, (await a.getEntryKeys('1_kssecure')).key, 'two entries: different keys');
  t.same(await a.getEntryKeys('1_rcit0qgs'), ka, 'stable once made');
  // an entry created by ingest has keys from its creation
  await a.ingest.createEntry({ id: '0_newentry', partnerId: 309, name: 'new', status: 0, mediaType: 1, now: 1 });
  const made = readEntryKeys(sqliteDb(a), '0_newentry');
  t.ok(made && /^[0-9a-f]{32}$/.test(made.key) && made.key !== ka.key, 'created with random keys');
  sqliteDb(a).close();
  sqliteDb(b).close();
});

t.test('export and import carry the keys; re-import without keys keeps them', async (t) => {
  const a = await open('x');
  const before = await a.getEntryKeys('1_rcit0qgs');
  const { library } = await describeCatalog(a, join(work, 'x', 'media'));
  const exported = library.entries!.find((e) => e.id === '1_cenc0001');
  t.same(exported?.keys, { keyId: 'b0eb8a17323924b6d8d36875aacb0b48', key: '2e12bc8bbc726374d07ee3626f50108f' });
  t.same(library.entries!.find((e) => e.id === '1_rcit0qgs')?.keys, before);
  sqliteDb(a).close();

  // a library file as written, imported into an empty directory
  const b = await open('y', false);
  const { mediaDir } = readLibraryFile(sampleLibraryPath());
  await importLibrary(b, { ...library, entries: library.entries!.filter((e) => ['1_rcit0qgs', '1_cenc0001'].includes(e.id)).map((e) => ({ ...e, flavors: [], captions: [], thumbnail: undefined, dataFile: undefined })) }, mediaDir, join(work, 'y', 'media'));
  t.same(await b.getEntryKeys('1_rcit0qgs'), before, 'random keys came back');
  t.same((await b.getEntryKeys('1_cenc0001')).key, '2e12bc8bbc726374d07ee3626f50108f');
  // the same entry imported again without keys keeps its keys
  await importLibrary(b, { version: 1, entries: [{ id: '1_rcit0qgs', partnerId: 309, name: 'again' }] }, mediaDir, join(work, 'y', 'media'));
  t.same(await b.getEntryKeys('1_rcit0qgs'), before);
  const bad = join(work, 'bad.json');
  writeFileSync(bad, JSON.stringify({ version: 1, entries: [{ id: '1_bad', partnerId: 309, name: 'bad', keys: { key: 'abc' } }] }));
  t.throws(() => readLibraryFile(bad), /keys must be/, 'a malformed key is refused by the library reader');
  sqliteDb(b).close();
});
