// The server's environment: everything a request can reach besides the request itself, built once
// at start-up (src/server.ts, the `env` decorator). A request adds its moment, the base URL it is
// answered under and its HTTP facts (RequestEnv, built by routes/http.ts requestEnv). Each stage
// declares the narrow view it reads (Pick<RequestEnv, ...>) and is handed the one environment,
// so a fact added here reaches every caller instead of only the call sites that remember to copy
// it. Types only: stages import this file without importing what builds it.
import type { Catalog } from './catalog/catalog.js';
import type { Config } from './config.js';
import type { ManifestCache } from './cache/manifest-cache.js';
import type { HandleCache } from './media/file-handles.js';
import type { IndexCache } from './media/index-cache.js';
import type { HttpFacts } from './request/http-facts.js';

/** Where the server writes what it does (pino's levels; the Fastify logger is one). */
export interface Log {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

export interface Env {
  catalog: Catalog;
  config: Config;
  /** Unix seconds now; tests fix it. */
  clock: () => number;
  /**
   * Country (ISO 3166-1 alpha-2) of an IP from KDELIVER_GEOIP_FILE; null when unknown or when no
   * database is configured. Requests read it through their HTTP facts (`country()`), never here.
   */
  countryOf: (ip: string) => string | null;
  /** Rendered playManifest answers that depend only on their URL and the catalog. */
  manifestCache: ManifestCache;
  /** Parsed media indexes, shared by the packager, flvclipper and clipped serveFlavor. */
  indexCache: IndexCache;
  /** Open source files, shared by the same routes: a file played through several is opened once. */
  handleCache: HandleCache;
  log: Log;
}

/** The environment of one request. */
export interface RequestEnv extends Env {
  /** Unix seconds, read once per request: every stage of it sees the same second. */
  now: number;
  /** scheme://host[:port] this server is reached at (configured, else from the request). */
  baseUrl: string;
  http: HttpFacts;
}
