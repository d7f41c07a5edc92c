// Opening the catalog as the server and the command-line tools do: the PostgreSQL catalog when
// KDELIVER_DATABASE_URL names one (src/catalog/pg), else the database file of the data directory;
// brought up to date, seeded with the sample library on first start when configured.
import { existsSync, mkdirSync } from 'node:fs';
import { openDatabase } from './db.js';
import { createCatalog } from './catalog.js';
import type { Catalog } from './store.js';
import { importLibrary, readLibraryFile, sampleLibraryPath } from './library.js';
import { openPostgresCatalog } from './pg/open.js';

/** config: the server's configuration (src/config.ts), of which this reads the data directory's parts. */
export async function openCatalog(config: { dbFile: string; databaseUrl?: string | null; mediaRoot: string; sampleLibrary: boolean }): Promise<Catalog> {
  if (config.databaseUrl) {
    mkdirSync(config.mediaRoot, { recursive: true });
    // seeded when empty, by one node of those starting at once
    return openPostgresCatalog(config.databaseUrl, config.sampleLibrary ? async (catalog) => {
      const { library, mediaDir } = readLibraryFile(sampleLibraryPath());
      await importLibrary(catalog, library, mediaDir, config.mediaRoot);
    } : null);
  }
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
