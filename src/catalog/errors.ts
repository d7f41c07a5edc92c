// Failures of the catalog's database, whatever the backend, as the HTTP layer sees them
// (routes/common.ts answers CatalogUnavailableError with 503).

/** The database cannot be reached or did not answer in time: the HTTP layer answers 503. */
export class CatalogUnavailableError extends Error {
  readonly httpStatus = 503;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'CatalogUnavailableError';
  }
}

/** The database holds a schema newer than this kdeliver knows: it must not start against it. */
export class CatalogSchemaTooNewError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogSchemaTooNewError';
  }
}

/**
 * What is wrong with the data directory when a write to it failed for a reason its operator must
 * mend (SQLite's or the file system's: a full disk, a read-only file system), or null for any
 * other failure. The CLI says it in one line and api_v3 in its error message, instead of a stack
 * trace or a bare "Internal server error".
 */
export function dataDirWriteProblem(e: unknown): string | null {
  const code = (e as { code?: unknown } | null)?.code;
  if (code === 'SQLITE_FULL' || code === 'ENOSPC' || code === 'EDQUOT') return 'its disk is full';
  if (code === 'SQLITE_READONLY' || code === 'EROFS') return 'it is read-only';
  return null;
}
