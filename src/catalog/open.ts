// Opening the catalog as the server and the command-line tools do: the database file of the data
// directory, brought up to date, seeded with the sample library on first start when configured.
import { existsSync, mkdirSync } from 'node:fs';
import { openDatabase } from './db.js';
import { createCatalog } from './catalog.js';
import type { Catalog } from './store.js';
import { importLibrary, readLibraryFile, sampleLibraryPath } from './library.js';

/** config: the server's configuration (src/config.ts), of which this reads the data directory's parts. */
export async function openCatalog(config: { dbFile: string; mediaRoot: string; sampleLibrary: boolean }): Promise<Catalog> {
  const fresh = !existsSync(config.dbFile);
  const catalog = createCatalog(openDatabase(config.dbFile));
  // media/ exists from the start, whatever the library: /readyz checks that it is readable
  mkdirSync(config.mediaRoot, { recursive: true });
  if (fresh && config.sampleLibrary) {
    const { library, mediaDir } = readLibraryFile(sampleLibraryPath());
    try {
      await importLibrary(catalog, library, mediaDir, config.mediaRoot);
    } catch (e) {
      await catalog.close();
      throw e;
    }
  }
  return catalog;
}
