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
