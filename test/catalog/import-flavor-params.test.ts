// A flavor whose flavorParamsId names flavor params neither in the file nor in the catalog is
// refused by `kdeliver import` with its place, before anything is written (as Kaltura's flavor
// assets have params that exist): it used to be imported silently and then answer error 6 (flavor
// not found) in every format. Params given in the file or held by the catalog (the system
// defaults, an earlier import's) are fine.
import t from 'tap';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { binTarget, cleanEnv, run } from '../helpers/command.js';
import { libraryFolder } from '../helpers/library-folder.js';

const { work, partner, flavor, entry, write } = libraryFolder(t, 'import-flavor-params');

t.test('a flavor whose flavor params are nowhere is refused with its place, before anything is written', async (t) => {
  const data = join(work, 'data-params');
  const env = { ...cleanEnv, KDELIVER_DATA_DIR: data, KDELIVER_SAMPLE_LIBRARY: 'false' };
  const cli = (...args: string[]) => run(process.execPath, [binTarget(), ...args], { env, timeoutMs: 120000 });
  const first = await cli('import', write({ partners: [partner], entries: [entry('0_first')] }));
  t.equal(first.code, 0, first.stderr);

  const refused = await cli('import', write({ entries: [
    entry('0_fine', { flavors: [flavor('0_finef', { flavorParamsId: 301961 })] }),
    entry('0_bad', { flavors: [flavor('0_badf1', { flavorParamsId: 301951 }), flavor('0_badf2', { flavorParamsId: 999 })] }),
  ] }));
  t.equal(refused.code, 2, refused.stderr);
  t.match(refused.stderr, /^kdeliver: entries\[1\] \(0_bad\) flavor 0_badf2: flavor params 999 are neither in the file \(flavorParams\) nor in the catalog\n$/m);
  t.notMatch(refused.stderr, /\n\s+at /, 'no stack');
  t.notMatch(refused.stdout, /imported/);
  const db = new Database(join(data, 'catalog.sqlite'), { readonly: true });
  t.same(db.prepare('SELECT id FROM entries ORDER BY id').pluck().all(), ['0_first'], 'no entry of the refused file was written');
  t.same(db.prepare('SELECT COUNT(*) FROM flavor_params WHERE id = 999').pluck().get(), 0);
  db.close();
  t.same(readdirSync(join(data, 'media', '600')), ['0_first'], 'no media placed for it');

  // params given in the file itself, or held by the catalog since an earlier import: imported
  const inFile = await cli('import', write({
    flavorParams: [{ id: 999, name: 'Mine 999', tags: 'web,mbr,applembr,dash' }],
    entries: [entry('0_bad', { flavors: [flavor('0_badf2', { flavorParamsId: 999 })] })],
  }));
  t.equal(inFile.code, 0, inFile.stderr);
  const inCatalog = await cli('import', write({ entries: [entry('0_again', { flavors: [flavor('0_againf', { flavorParamsId: 999 })] })] }));
  t.equal(inCatalog.code, 0, inCatalog.stderr);
});
