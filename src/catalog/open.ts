// Opening the catalog as the server and the command-line tools do: the PostgreSQL catalog when
// KDELIVER_DATABASE_URL names one (src/catalog/pg), else the database file of the data directory;
// brought up to date, seeded with the sample library on first start when configured.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { DataDirError, makeDirectory } from '../data-dir.js';
import { dirname, join } from 'node:path';
import { withoutCredentials } from '../log.js';
import { openDatabase } from './db.js';
import { createCatalog } from './catalog.js';
import type { Catalog } from './store.js';
import { importLibrary, readLibraryFile, sampleLibraryPath, type MediaPut } from './library.js';
import { confirmSampleCatalog, removeSampleRecord, sampleRecordFile, writeSampleRecord } from './sample-record.js';

/**
 * config: the server's configuration (src/config.ts), of which this reads the data directory's
 * parts. sampleSecrets: the secrets fell back to the public sample ones (the data directory looked
 * like the sample library's); the opened catalog must then be the sample library, else this
 * refuses with a SampleCatalogError (src/catalog/sample-record.ts).
 */
export async function openCatalog(config: {
  dataDir?: string; dbFile: string; databaseUrl?: string | null; mediaRoot: string; sampleLibrary: boolean; sampleSecrets?: boolean;
} & SeedMedia): Promise<Catalog> {
  // seeding the sample library is recorded in the data directory: its processes then keep using
  // the sample secrets (src/catalog/sample-record.ts)
  const dataDir = config.dataDir ?? dirname(config.dbFile);
  makeDirectory(dataDir);
  const catalog = config.databaseUrl ? await openShared(config.databaseUrl, dataDir, config) : await openFile(dataDir, config);
  if (config.databaseUrl) notePostgresCatalog(dataDir, config.databaseUrl);
  if (config.sampleSecrets) await confirmSampleCatalog(catalog, dataDir, !!config.databaseUrl);
  return catalog;
}

/**
 * sampleMedia: where a seeded sample library's media go when that is not the local media folder:
 * the writer of the S3 store every node reads (src/open-catalog.ts gives it). Files left in this
 * node's data directory would be read by no node, and the catalog would name objects the store
 * does not have.
 */
interface SeedMedia { sampleMedia?: MediaPut | null }
type SeedConfig = { mediaRoot: string; sampleLibrary: boolean } & SeedMedia;

const sampleMediaDestination = (config: SeedConfig): string | MediaPut => config.sampleMedia ?? config.mediaRoot;

async function openShared(databaseUrl: string, dataDir: string, config: SeedConfig): Promise<Catalog> {
  mkdirSync(config.mediaRoot, { recursive: true });
  // loaded here: a SQLite catalog, and every command's --help, need not load the PostgreSQL client
  const { openPostgresCatalog } = await import('./pg/open.js');
  // seeded when empty, by one node of those starting at once
  return openPostgresCatalog(databaseUrl, config.sampleLibrary ? async (c) => {
    const { library, mediaDir } = readLibraryFile(sampleLibraryPath());
    await importLibrary(c, library, mediaDir, sampleMediaDestination(config));
    writeSampleRecord(dataDir);
  } : null);
}

/**
 * A data directory a node of a PostgreSQL catalog uses says so in this file. A command run on it
 * without KDELIVER_DATABASE_URL (forgotten in one shell) would otherwise make a SQLite catalog
 * there, seed it, and act on that one: `kdeliver entries delete` then deleted an entry no server
 * reads, and the media file the PostgreSQL catalog's servers serve.
 */
const postgresNoteFile = (dataDir: string): string => join(dataDir, 'postgresql-catalog');

function notePostgresCatalog(dataDir: string, databaseUrl: string): void {
  const file = postgresNoteFile(dataDir);
  const text = `${withoutCredentials(databaseUrl)}\n`;
  if (existsSync(file) && readFileSync(file, 'utf8') === text) return;
  // written whole or not at all: processes starting together may each write it
  const part = `${file}.${process.pid}.part`;
  writeFileSync(part, text);
  renameSync(part, file);
}

async function openFile(dataDir: string, config: SeedConfig & { dbFile: string }): Promise<Catalog> {
  const pgNote = postgresNoteFile(dataDir);
  if (!existsSync(config.dbFile) && existsSync(pgNote)) {
    throw new DataDirError(`${dataDir} is the data directory of a node of the PostgreSQL catalog ${readFileSync(pgNote, 'utf8').trim()} (its file postgresql-catalog says so), and KDELIVER_DATABASE_URL is not set: set it to act on that catalog; to start a SQLite catalog in this directory instead, remove ${pgNote}`);
  }
  let fresh = !existsSync(config.dbFile);
  const catalog = createCatalog(openDatabase(config.dbFile));
  // media/ exists from the start, whatever the library: /readyz checks that it is readable.
  mkdirSync(config.mediaRoot, { recursive: true });
  // A first start killed while seeding (kill -9, Ctrl-C) leaves the file with no partner and no
  // record of the seed: it is seeded now, as a new one would be (config.sampleLibrary is only
  // true for a directory without its own secrets.json, src/catalog/sample-record.ts isSampleDataDir)
  if (!fresh && config.sampleLibrary && !existsSync(sampleRecordFile(dataDir)) && (await catalog.listPartners()).length === 0) fresh = true;
  if (fresh && config.sampleLibrary) {
    const { library, mediaDir } = readLibraryFile(sampleLibraryPath());
    try {
      await importLibrary(catalog, library, mediaDir, sampleMediaDestination(config));
      writeSampleRecord(dataDir);
    } catch (e) {
      // the file was made by this start and holds nothing yet: removed, so that the next start
      // finds it fresh and seeds again (a media store that was down now fails the seed); but not
      // when it holds a partner: another process starting on the same new directory seeded it
      // meanwhile, and uses it
      const empty = await catalog.listPartners().then((p) => p.length === 0, () => false);
      await catalog.close();
      if (empty) for (const f of [config.dbFile, `${config.dbFile}-wal`, `${config.dbFile}-shm`]) rmSync(f, { force: true });
      throw e;
    }
  } else if (fresh) {
    removeSampleRecord(dataDir);
  }
  return catalog;
}
