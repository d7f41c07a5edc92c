// The data directory (and other folders kdeliver makes) on disk: what a path still to be made
// would be made in, and making it.
import { existsSync, mkdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';

/** The data directory cannot be made where the configuration says (the CLI answers it in one line). */
export class DataDirError extends Error {}

/** The data directory's SQLite catalog file (when KDELIVER_DATABASE_URL names no PostgreSQL one). */
export const catalogFile = (dataDir: string): string => join(dataDir, 'catalog.sqlite');

/**
 * The path itself when it exists, else its nearest existing ancestor, and whether that is a folder:
 * what a path that is still to be made will be made in (the data directory, an export's file).
 */
export function nearestExisting(path: string): { path: string; isFolder: boolean } {
  let there = path;
  while (!existsSync(there) && dirname(there) !== there) there = dirname(there);
  return { path: there, isFolder: statSync(there).isDirectory() };
}

/**
 * Makes `dir` and the folders above it that are missing, one level at a time. Node's recursive
 * mkdir never returns for a path under /proc (it retries the kernel's ENOENT forever), and under
 * /sys it fails with a bare EPERM: here the first level that cannot be made is named instead.
 */
export function makeDirectory(dir: string): void {
  const missing: string[] = [];
  for (let p = dir; !existsSync(p) && dirname(p) !== p; p = dirname(p)) missing.push(p);
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue; // another process made it meanwhile
      if (!code) throw e;
      throw new DataDirError(`KDELIVER_DATA_DIR=${JSON.stringify(dir)}: cannot be made: making ${d} failed (${code}); choose a folder this user may create`);
    }
  }
}
