// Opening the catalog as the server and the command-line tools do: the PostgreSQL catalog when
// KDELIVER_DATABASE_URL names one (src/catalog/pg), else the database file of the data directory;
// brought up to date, seeded with the sample library on first start when configured.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { openDatabase } from './db.js';
import { createCatalog } from './catalog.js';
import type { Catalog } from './store.js';
import { importLibrary, readLibraryFile, sampleLibraryPath } from './library.js';
import { openPostgresCatalog } from './pg/open.js';
import { removeSampleRecord, sampleRecordFile, writeSampleRecord } from './sample-record.js';
import { ConfigError, SAMPLE_MEDIA_URL_SECRET, SAMPLE_URL_TOKEN_SECRET } from '../config.js';

/** config: the server's configuration (src/config.ts), of which this reads the data directory's parts. */
export async function openCatalog(config: {
  dataDir?: string; dbFile: string; databaseUrl?: string | null; mediaRoot: string; sampleLibrary: boolean; urlTokenSecret?: string; mediaUrlSecret?: string;
}): Promise<Catalog> {
  // seeding the sample library is recorded in the data directory: its processes then keep using
  // the sample secrets (src/catalog/sample-record.ts)
  const dataDir = config.dataDir ?? dirname(config.dbFile);
  if (config.databaseUrl) {
    mkdirSync(config.mediaRoot, { recursive: true });
    let seeded = false;
    // seeded when empty, by one node of those starting at once
    const catalog = await openPostgresCatalog(config.databaseUrl, config.sampleLibrary ? async (c) => {
      const { library, mediaDir } = readLibraryFile(sampleLibraryPath());
      await importLibrary(c, library, mediaDir, config.mediaRoot);
      writeSampleRecord(dataDir);
      seeded = true;
    } : null);
    // A new data directory took the sample secrets because the sample library was to be seeded;
    // the shared catalog was not empty: it must be the sample library, or they would sign for it
    const sampleSecrets = config.urlTokenSecret === SAMPLE_URL_TOKEN_SECRET || config.mediaUrlSecret === SAMPLE_MEDIA_URL_SECRET;
    if (config.sampleLibrary && !seeded && sampleSecrets && !existsSync(sampleRecordFile(dataDir))) {
      if ((await catalog.getPartner(309))?.adminSecret === 'sample-admin-secret-309') {
        writeSampleRecord(dataDir);
      } else {
        await catalog.close();
        throw new ConfigError(`KDELIVER_DATA_DIR=${dataDir} is new and the catalog of KDELIVER_DATABASE_URL is not the sample library: its public secrets are not for it. Set KDELIVER_SAMPLE_LIBRARY=false (or NODE_ENV=production) to have this data directory's own secrets generated, or set KDELIVER_URL_TOKEN_SECRET and KDELIVER_MEDIA_URL_SECRET`);
      }
    }
    return catalog;
  }
  const fresh = !existsSync(config.dbFile);
  const catalog = createCatalog(openDatabase(config.dbFile));
  // media/ exists from the start, whatever the library: /readyz checks that it is readable
  mkdirSync(config.mediaRoot, { recursive: true });
  if (fresh && config.sampleLibrary) {
    const { library, mediaDir } = readLibraryFile(sampleLibraryPath());
    try {
      await importLibrary(catalog, library, mediaDir, config.mediaRoot);
      writeSampleRecord(dataDir);
    } catch (e) {
      await catalog.close();
      throw e;
    }
  } else if (fresh) {
    removeSampleRecord(dataDir);
  }
  return catalog;
}
