// The server's environment: everything a request can reach besides the request itself, built once
// at start-up (src/server.ts, the `env` decorator). A request adds its moment, the base URL it is
// answered under and its HTTP facts (RequestEnv, built by routes/http.ts requestEnv). Each stage
// declares the narrow view it reads (Pick<RequestEnv, ...>) and is handed the one environment,
// so a fact added here reaches every caller instead of only the call sites that remember to copy
// it. Types only: stages import this file without importing what builds it, and it imports
// nothing that imports it back (no folder loop runs through it), which is why the answer cache's
// interface is declared here: src/cache/manifest-cache.ts, which builds it, knows playManifest's
// answers and so the stages that make them.
import type { Catalog } from './catalog/store.js';
import type { Config } from './config.js';
import type { HandleCache } from './media/file-handles.js';
import type { IndexCache } from './media/index-cache.js';
import type { MediaStore } from './storage/media-store.js';
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
   * Country (ISO 3166-1 alpha-2) of an IP from KDELIVER_GEOIP_FILE; null when unknown; throws
   * NoCountryDatabaseError when no database is configured (src/access/geo.ts). Requests read it
   * through their HTTP facts (`country()`), never here.
   */
  countryOf: (ip: string) => string | null;
  /** Rendered playManifest answers that depend only on their URL and the catalog. */
  manifestCache: ManifestCache;
  /** Parsed media indexes, shared by the packager, flvclipper and clipped serveFlavor. */
  indexCache: IndexCache;
  /** Open source files, shared by the same routes: a file played through several is opened once. */
  handleCache: HandleCache;
  /**
   * Where media bytes are read (KDELIVER_MEDIA_URL: local disk, S3, an HTTP origin): every media
   * route and the packager read catalog file paths through it (src/storage/media-store.ts).
   */
  media: MediaStore;
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

export interface CachedAnswer {
  status: number;
  /** Node's flat [name, value, ...] header list, names lower-cased as Fastify sends them. */
  head: string[];
  /** Where in `head` the values of the time-dependent caching headers sit. */
  timedAt: [name: string, index: number][];
  /** As the route sends it (routes/http.ts payloadOf). */
  body: string | Buffer;
  bytes: number;
  cacheAge: number;
  /** The Unix second the answer holds for, when it holds for one second only (Playback.sameWithinSecond). */
  second?: number;
  /** What the log line of a hit says (the client's format). */
  format: string;
  generation: number;
  /**
   * The raw URL the answer was made for, when its body quotes it (Rendered.quotesRequestUrl):
   * then only that URL may reuse it, not another URL of the same key. Absent otherwise.
   */
  exactUrl?: string;
}

export interface ManifestCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  /** Keys asked once so far, whose answer is kept if asked again (src/cache/asked-once.ts). */
  firstAskings: number;
  /** The decision store's (below): requests answered from a kept decision, shapes and decisions kept, decisions made once so far. */
  decisionHits: number;
  decisionEntries: number;
  decisionFirstAskings: number;
  /** The session answer store's (src/cache/session-answers.ts): requests answered from it, answers kept. */
  sessionHits: number;
  sessionEntries: number;
}

/**
 * playManifest's second tier (src/playback.ts): what the stages before the tokenizer decided for
 * a request shape, kept per catalog generation. The value's type is playback.ts's; this file
 * declares only the store, as for the answer cache.
 */
export interface DecisionStore<T> {
  get(key: string, generation: number): T | undefined;
  put(key: string, generation: number, value: T): void;
  /** Whether a decision under this key (shape and session/referrer facts) was made before; if not, it is not kept (src/cache/asked-once.ts). */
  askedBefore(key: string): boolean;
  /** Counts a request answered from a kept decision (for /metrics). */
  hit(): void;
}

/**
 * playManifest's third tier (src/cache/session-answers.ts): answers of requests that carry a KS,
 * kept per URL without its KS and per session facts. What a session and an answer are is that
 * file's; this file declares only the store, as for the decision store.
 */
export interface SessionAnswerStore<S, A> {
  /** What a request's KS is verified against, when an answer of this URL (without its KS) is kept. */
  session(key: string, generation: number): S | undefined;
  answer(key: string, facet: string, generation: number): A | undefined;
  /** Whether this URL and session facts were asked once before; if not, nothing is kept (src/cache/asked-once.ts). */
  askedBefore(key: string, facet: string): boolean;
  put(key: string, facet: string, session: S, generation: number, answer: A): void;
  /** Counts a request answered from a kept session answer (for /metrics). */
  hit(): void;
}

export interface ManifestCache {
  /**
   * The key of a request's answer: the raw URL (query included, but for the parameters no answer
   * depends on: keyUrl) and what outside it a storable answer depends on (method, scheme, public
   * host). null when nothing is kept, so callers skip building answers, or when the request
   * carries a KS in the X-Kaltura-Ks header, the one input outside the URL a kept answer never saw,
   * or is not a GET or HEAD (a POST's body is part of the request).
   */
  keyOf(method: string, isHttps: boolean, baseUrl: string, rawUrl: string, ksHeader: string | string[] | undefined): string | null;
  /** The answer stored under `key` for this catalog generation that may answer `rawUrl` in second `now`, or undefined. */
  get(key: string, generation: number, rawUrl: string | undefined, now: number): CachedAnswer | undefined;
  /** As get, but a miss is not counted: the request goes on to the route, which asks again. */
  peek(key: string, generation: number, rawUrl: string, now: number): CachedAnswer | undefined;
  /** Whether `key` was asked once before; an answer is kept (put) only then (src/cache/asked-once.ts). */
  askedBefore(key: string): boolean;
  put(key: string, answer: CachedAnswer): void;
  stats(): ManifestCacheStats;
  /** The decision store, bounded by the same number of entries (0: none). */
  decisions: DecisionStore<unknown>;
  /** The kept answers of KS-bearing requests, bounded by the same number of entries (0: none). */
  sessions: SessionAnswerStore<unknown, unknown>;
}
