// The catalog as command-line tools open it: the same database file and first-start seeding as
// the server (src/server.ts openCatalog), without loading any HTTP code.
import { existsSync } from 'node:fs';
import type { Config } from '../config.js';
import { openDatabase } from '../catalog/db.js';
import { createCatalog, type Catalog } from '../catalog/catalog.js';
import { importLibrary, readLibraryFile, sampleLibraryPath } from '../catalog/library.js';

export function openCatalogForCli(config: Config): Catalog {
  const fresh = !existsSync(config.dbFile);
  const catalog = createCatalog(openDatabase(config.dbFile));
  if (fresh && config.sampleLibrary) {
    const { library, mediaDir } = readLibraryFile(sampleLibraryPath());
    importLibrary(catalog.db, library, mediaDir, config.mediaRoot);
  }
  return catalog;
}
