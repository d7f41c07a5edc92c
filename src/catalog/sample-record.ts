// Whether a data directory holds the sample library. Its secrets are public (fixtures/README.md),
// so only such a directory may fall back to them; every other one keeps generated secrets in
// secrets.json (./secrets.ts). The answer comes from the directory itself, never from NODE_ENV,
// so that every process on it (server and command line, with or without NODE_ENV) agrees.
// Before the catalog is opened (isSampleDataDir, for src/config.ts):
// - a directory with its own secrets.json keeps them, whatever else it holds;
// - `{dataDir}/sample-library`: written when the sample library is seeded into the directory;
// - a catalog file seeded by an older kdeliver, without that record and without secrets.json,
//   counts when it holds the sample partner;
// - a directory without a catalog (nor secrets.json), or whose catalog has no partner (a first
//   start killed while seeding), is new: it is one when the sample library is to be seeded into it.
// After the catalog is opened (confirmSampleCatalog, for src/catalog/open.ts): a process that fell
// back to the sample secrets goes on only when the catalog, SQLite or PostgreSQL, holds the sample
// partner; a record left over from another catalog (a restored catalog file, another
// KDELIVER_DATABASE_URL) makes it refuse to start, it never signs for that catalog.
import Database from 'better-sqlite3';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from './store.js';
import { catalogFile } from '../data-dir.js';

const RECORD = 'sample-library';

/** The sample library's partner (fixtures/sample-library.json), by which its catalog is known. */
export const SAMPLE_PARTNER = { id: 309, adminSecret: 'sample-admin-secret-309' } as const;

/** The partner read from a catalog is the sample library's. */
export const isSamplePartner = (p: { adminSecret: string } | null | undefined): boolean => p?.adminSecret === SAMPLE_PARTNER.adminSecret;

/**
 * A library file to import into a data directory that holds the sample library (or is new and
 * gets it first) must not replace the sample partner with one of other secrets: the catalog would
 * no longer be the sample library, and every process on the directory would then refuse it
 * (confirmSampleCatalog), the import's own next run included. The problem, or null.
 */
export function sampleLibraryReplaced(partners: readonly { id: number; adminSecret: string }[] | undefined, dataDir: string): string | null {
  const i = partners?.findIndex((p) => p.id === SAMPLE_PARTNER.id && !isSamplePartner(p)) ?? -1;
  if (i < 0) return null;
  return `partners[${i}]: partner ${SAMPLE_PARTNER.id} is the sample library's partner in the data directory ${dataDir}, ` +
    'which holds the sample library (or gets it first, being new) and signs with its public secrets: this file would replace it with ' +
    'a partner of other secrets, and the data directory would no longer open. Import it into a data directory without the sample ' +
    'library (a new one with KDELIVER_SAMPLE_LIBRARY=false, or one with its own secrets.json)';
}

/** A process fell back to the public sample secrets for a catalog that is not the sample library. */
export class SampleCatalogError extends Error {}

export const sampleRecordFile = (dataDir: string): string => join(dataDir, RECORD);

/** Records that the sample library was seeded into the data directory. */
export function writeSampleRecord(dataDir: string): void {
  writeFileSync(sampleRecordFile(dataDir), 'The sample library (fixtures/sample-library.json) was seeded into this data directory: kdeliver signs and checks its URLs with the public sample secrets.\n');
}

/** A new catalog that is not seeded: a record left from an earlier catalog no longer holds. */
export function removeSampleRecord(dataDir: string): void {
  rmSync(sampleRecordFile(dataDir), { force: true });
}

/**
 * The catalog file was seeded with the sample library (by a kdeliver that wrote no record).
 * Read-only SQL rather than the Catalog: this runs in the synchronous config loader, before the
 * catalog is opened (opening it migrates, that is writes); confirmSampleCatalog reads it through
 * the Catalog once it is open.
 */
function catalogHoldsSampleLibrary(dbFile: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(dbFile, { readonly: true, fileMustExist: true });
    const row = db.prepare('SELECT admin_secret FROM partners WHERE id = ?').get(SAMPLE_PARTNER.id) as { admin_secret: string } | undefined;
    return isSamplePartner(row && { adminSecret: row.admin_secret });
  } catch {
    return false; // unreadable or not a catalog: not known to hold the sample library
  } finally {
    db?.close();
  }
}

/**
 * The catalog file holds no partner: it is empty (0 bytes, no tables yet) or migrated but never
 * given a partner. That is what a first start killed while it seeded the sample library leaves
 * (the file is made before the seed's one transaction commits; Ctrl-C then kills the process, as
 * kill -9 does): such a directory is still new, not one of its own. A file that cannot be read
 * as SQLite is not known to be empty.
 */
export function catalogHasNoPartner(dbFile: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(dbFile, { readonly: true, fileMustExist: true });
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'partners'").all();
    return tables.length === 0 || db.prepare('SELECT 1 FROM partners LIMIT 1').get() === undefined;
  } catch {
    return false;
  } finally {
    db?.close();
  }
}

/**
 * True when the data directory holds the sample library, or is new and `seed` (the sample library
 * is to be seeded into it). `sqlite`: the catalog is the directory's file (no KDELIVER_DATABASE_URL).
 * Only a guess from the directory: confirmSampleCatalog checks it against the opened catalog.
 */
export function isSampleDataDir(dataDir: string, opts: { sqlite: boolean; seed: boolean }): boolean {
  // its own secrets always win over a record
  if (existsSync(join(dataDir, 'secrets.json'))) return false;
  const dbFile = catalogFile(dataDir);
  const hasCatalog = existsSync(dbFile);
  // without its catalog file a SQLite directory starts again: a record left behind does not count
  if ((hasCatalog || !opts.sqlite) && existsSync(sampleRecordFile(dataDir))) return true;
  if (hasCatalog && opts.sqlite) {
    // a first start killed while seeding left the file without a partner: new, as without it
    if (catalogHasNoPartner(dbFile)) return opts.seed;
    if (!catalogHoldsSampleLibrary(dbFile)) return false;
    try { writeSampleRecord(dataDir); } catch { /* a read-only directory: found again by its catalog next time */ }
    return true;
  }
  return opts.seed;
}

/**
 * The opened catalog of a process that fell back to the sample secrets must be the sample library
 * (seeded now or before): else it is closed and SampleCatalogError says what to do. Records the
 * sample library when it is found without a record (another node seeded the shared catalog).
 */
export async function confirmSampleCatalog(catalog: Catalog, dataDir: string, shared: boolean): Promise<void> {
  if (isSamplePartner(await catalog.getPartner(SAMPLE_PARTNER.id))) {
    if (!existsSync(sampleRecordFile(dataDir))) {
      try { writeSampleRecord(dataDir); } catch { /* a read-only directory: confirmed again next time */ }
    }
    return;
  }
  await catalog.close();
  const which = shared ? 'the catalog of KDELIVER_DATABASE_URL' : `its catalog ${catalogFile(dataDir)}`;
  const record = sampleRecordFile(dataDir);
  throw new SampleCatalogError(existsSync(record)
    ? `KDELIVER_DATA_DIR=${dataDir} is recorded as holding the sample library (${record}), but ${which} is not the sample library (no sample partner ${SAMPLE_PARTNER.id}): its public secrets are refused for it. Remove ${record} to have this data directory's own secrets generated, or set KDELIVER_URL_TOKEN_SECRET and KDELIVER_MEDIA_URL_SECRET`
    : `KDELIVER_DATA_DIR=${dataDir} is new and ${which} is not the sample library: its public secrets are not for it. Set KDELIVER_SAMPLE_LIBRARY=false (or NODE_ENV=production) to have this data directory's own secrets generated, or set KDELIVER_URL_TOKEN_SECRET and KDELIVER_MEDIA_URL_SECRET`);
}
