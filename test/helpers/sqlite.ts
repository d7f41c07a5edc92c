import type { SqliteCatalog } from '../../src/catalog/catalog.js';
import type { Db } from '../../src/catalog/db.js';
import type { Catalog } from '../../src/catalog/store.js';

/**
 * The SQLite database under a catalog, for a test that reads or changes rows behind the catalog's
 * back. Such a test needs the SQLite catalog; on any other it stops here, with the reason.
 */
export function sqliteDb(c: Catalog): Db {
  if (!('db' in c)) throw new Error('this test reaches into the SQLite database; the catalog is not SQLite (KDELIVER_TEST_CATALOG=postgres?)');
  return (c as SqliteCatalog).db;
}
