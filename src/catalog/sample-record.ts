// Whether a data directory holds the sample library. Its secrets are public (fixtures/README.md),
// so only such a directory may fall back to them; every other one keeps generated secrets in
// secrets.json (./secrets.ts). The answer comes from the directory itself, never from NODE_ENV,
// so that every process on it (server and command line, with or without NODE_ENV) agrees:
// - `{dataDir}/sample-library`: written when the sample library is seeded into the directory;
// - a catalog file seeded by an older kdeliver, without that record and without secrets.json,
//   counts when it holds the sample partner 309 with its sample admin secret;
// - a directory without a catalog (nor secrets.json) is new: it is one when the sample library is
//   to be seeded into it.
import Database from 'better-sqlite3';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const RECORD = 'sample-library';
const SAMPLE_PARTNER = { id: 309, adminSecret: 'sample-admin-secret-309' };

export const sampleRecordFile = (dataDir: string): string => join(dataDir, RECORD);

/** Records that the sample library was seeded into the data directory. */
export function writeSampleRecord(dataDir: string): void {
  writeFileSync(sampleRecordFile(dataDir), 'The sample library (fixtures/sample-library.json) was seeded into this data directory: kdeliver signs and checks its URLs with the public sample secrets.\n');
}

/** A new catalog that is not seeded: a record left from an earlier catalog no longer holds. */
export function removeSampleRecord(dataDir: string): void {
  rmSync(sampleRecordFile(dataDir), { force: true });
}

/** The catalog file was seeded with the sample library (by a kdeliver that wrote no record). */
function catalogHoldsSampleLibrary(dbFile: string): boolean {
  let db: Database.Database | undefined;
  try {
    db = new Database(dbFile, { readonly: true, fileMustExist: true });
    const row = db.prepare('SELECT admin_secret FROM partners WHERE id = ?').get(SAMPLE_PARTNER.id) as { admin_secret: string } | undefined;
    return row?.admin_secret === SAMPLE_PARTNER.adminSecret;
  } catch {
    return false; // unreadable or not a catalog: not known to hold the sample library
  } finally {
    db?.close();
  }
}

/**
 * True when the data directory holds the sample library, or is new and `seed` (the sample library
 * is to be seeded into it). `sqlite`: the catalog is the directory's file (no KDELIVER_DATABASE_URL).
 */
export function isSampleDataDir(dataDir: string, opts: { sqlite: boolean; seed: boolean }): boolean {
  const dbFile = join(dataDir, 'catalog.sqlite');
  const hasCatalog = existsSync(dbFile);
  // without its catalog file a SQLite directory starts again: a record left behind does not count
  if ((hasCatalog || !opts.sqlite) && existsSync(sampleRecordFile(dataDir))) return true;
  if (existsSync(join(dataDir, 'secrets.json'))) return false;
  if (hasCatalog) {
    if (!catalogHoldsSampleLibrary(dbFile)) return false;
    try { writeSampleRecord(dataDir); } catch { /* a read-only directory: found again by its catalog next time */ }
    return true;
  }
  return opts.seed;
}
