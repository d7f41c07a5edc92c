// Configuration: read once at start from the environment (and, when KDELIVER_CONFIG names one,
// a JSON file whose keys are the same variable names), validated, then passed to everything as a
// plain object. No other module reads process.env.
import { accessSync, constants, existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { totalmem } from 'node:os';
import { isSampleDataDir } from './catalog/sample-record.js';
import { dataDirSecretStore, randomSecret, SecretStoreError, SERVER_SECRET_NAMES, type ServerSecrets } from './catalog/secrets.js';
import { jsonReadProblem, withoutCredentials } from './log.js';
import { catalogFile, nearestExisting } from './data-dir.js';

export interface Config {
  host: string;
  port: number;
  dataDir: string;
  /** SQLite catalog file (when databaseUrl is null). */
  dbFile: string;
  /** KDELIVER_DATABASE_URL: the PostgreSQL catalog shared by every node, or null for the SQLite file. */
  databaseUrl: string | null;
  /** Root of media files; catalog paths are relative to it. */
  mediaRoot: string;
  /** Public base URL of this server (scheme://host[:port]), or null to take it from each request. */
  publicUrl: string | null;
  /**
   * How many proxies in front of kdeliver are trusted to add to X-Forwarded-For (0: none, the
   * socket's peer is the client). The client is the address the outermost trusted proxy saw, the
   * entry that many places from the end: entries further left are the client's own words.
   */
  trustProxy: number;
  /** Server-wide secret of playManifest `kt` signed URLs. Never empty (see serverSecrets). */
  urlTokenSecret: string;
  /** Secret of the signatures kdeliver puts on its own protected media URLs and checks on them. Never empty. */
  mediaUrlSecret: string;
  /**
   * A secret fell back to the public sample one (the data directory looks like the sample
   * library's): whatever uses the secrets opens the catalog first, which refuses to go on when it
   * is not the sample library (src/catalog/sample-record.ts, confirmSampleCatalog).
   */
  sampleSecrets: boolean;
  /**
   * Seed the sample library into an empty catalog: KDELIVER_SAMPLE_LIBRARY (default: not in
   * production), for a data directory that holds the sample library or is new (not one with its
   * own secrets.json or catalog).
   */
  sampleLibrary: boolean;
  production: boolean;
  logLevel: string;
  /** Cache age of playManifest answers that may be cached (Kaltura's play_manifest_cache_age). */
  playManifestCacheAge: number;
  /** playManifest answers kept in memory (0: none), see src/cache/manifest-cache.ts. */
  manifestCacheEntries: number;
  /** api_v3 answers to anonymous read-only requests kept in memory (0: none), see src/api/answer-cache.ts. */
  apiCacheEntries: number;
  /** Bytes those answers may take (bodies, their gzipped copies and keys). */
  apiCacheBytes: number;
  /** Longest time an api_v3 answer is kept, seconds (Kaltura's anonymous cache expiry is 600). */
  apiCacheSeconds: number;
  hlsSegmentDurationMs: number;
  /** List I-frame playlists in packager HLS masters (nginx-vod-module's vod_hls_output_iframes_playlist). */
  hlsIframes: boolean;
  /** List the storyboard as a thumbnail track in packager HLS masters and DASH manifests. */
  thumbnailTracks: boolean;
  /**
   * Absolute segment URLs in packager DASH manifests (nginx-vod-module's
   * vod_dash_absolute_manifest_urls, on by default there too); false keeps them relative to the MPD.
   */
  dashAbsoluteUrls: boolean;
  /**
   * How DASH manifests carry captions unless the URL asks (`/subtitleFormat/…/`): WebVTT files or
   * TTML in fMP4 segments (stpp), as nginx-vod-module's vod_dash_subtitle_format chooses.
   */
  dashSubtitles: 'webvtt' | 'stpp';
  dashSegmentDurationMs: number;
  /** Byte bound of the packager's parsed-index cache. */
  indexCacheBytes: number;
  /** Byte bound of the thumbnail disk cache under the data directory (src/thumbnail/disk-cache.ts). */
  thumbnailCacheBytes: number;
  /** KDELIVER_SEGMENT_CACHE_MB: byte bound of the packager's segment answer cache (src/media/body.ts); 0 turns it off. */
  segmentCacheBytes: number;
  /**
   * The SQLite catalog file is read once into the page cache after start when it is at most this
   * many bytes (0: never), see src/catalog/warm-file.ts.
   */
  catalogWarmBytes: number;
  /** Largest moov box the packager will parse. */
  maxMoovBytes: number;
  /** MaxMind-format country database for country conditions, or null. */
  geoIpFile: string | null;
  /** Time to let in-flight requests finish on SIGTERM. */
  shutdownGraceMs: number;
  /**
   * How long a running ingest job stays its runner's without a renewal: every runner (server or
   * CLI) renews it in the catalog every third of this; a job whose lease ran out may be taken over
   * by another process (src/ingest/lease.ts).
   */
  ingestLeaseSeconds: number;
  /** Where media is read from (KDELIVER_MEDIA_URL): src/storage/media-store.ts. */
  media: MediaLocation;
  /** Byte bound of the remote media block cache (KDELIVER_MEDIA_CACHE_MB). */
  mediaCacheBytes: number;
  /** Whole-request bound of one remote media read (KDELIVER_MEDIA_TIMEOUT_MS): past it, 504. */
  mediaTimeoutMs: number;
  /** Bound of connecting to the media origin (KDELIVER_MEDIA_CONNECT_TIMEOUT_MS): past it, 504. */
  mediaConnectTimeoutMs: number;
  /**
   * An external key service (nginx-vod-module's DRM JSON) the content keys of encrypted entries
   * come from instead of the catalog, or null (src/drm/key-service.ts).
   */
  drmKeyServiceUrl: string | null;
}

/**
 * The media backend: local disk under the data directory (KDELIVER_MEDIA_URL unset), an
 * S3-compatible bucket and key prefix, or a read-only HTTP origin. Credentials are never here:
 * the S3 client reads the standard AWS_* variables (config.s3 holds only what is not secret).
 */
export type MediaLocation =
  | { kind: 'local' }
  | { kind: 's3'; url: string; bucket: string; prefix: string; endpoint: string | null; region: string; forcePathStyle: boolean; accessKeyId: string | null; secretAccessKey: string | null; sessionToken: string | null }
  | { kind: 'http'; url: string; base: string };

export class ConfigError extends Error {}

/**
 * The base URL of the address the server listens on, as a client writes it: an IPv6 address in
 * brackets (HOST=:: is http://[::]:8080, never http://:::8080), one given with brackets not
 * bracketed twice. The server's "listening on" line and the URLs `kdeliver ingest` prints use it.
 */
export function listenUrl(host: string, port: number): string {
  const bare = unbracketed(host);
  return `http://${bare.includes(':') ? `[${bare}]` : bare}:${port}`;
}

/**
 * The base URL a person on this machine opens for a server listening on `host`: listenUrl, with
 * an every-interface address (0.0.0.0, ::) replaced by the loopback one, which a browser, curl
 * or a player can open (in a container, the published port on the host's localhost).
 */
export function openUrl(host: string, port: number): string {
  const bare = unbracketed(host);
  return listenUrl(bare === '0.0.0.0' || bare === '' ? '127.0.0.1' : bare === '::' ? '::1' : bare, port);
}

/** An IPv6 address as URLs write it ([::1]) without its brackets; any other host as it is. */
const unbracketed = (host: string): string => host.replace(/^\[(.*)\]$/, '$1');

export const SAMPLE_URL_TOKEN_SECRET = 'sample-url-token-secret';
export const SAMPLE_MEDIA_URL_SECRET = 'sample-media-url-secret';

type Env = Record<string, string | undefined>;

const KEYS = [
  'HOST', 'PORT', 'KDELIVER_DATA_DIR', 'KDELIVER_PUBLIC_URL', 'KDELIVER_TRUST_PROXY', 'KDELIVER_URL_TOKEN_SECRET',
  'KDELIVER_MEDIA_URL_SECRET', 'KDELIVER_SAMPLE_LIBRARY', 'NODE_ENV', 'KDELIVER_LOG_LEVEL', 'KDELIVER_PLAYMANIFEST_CACHE_AGE',
  'KDELIVER_MANIFEST_CACHE_ENTRIES', 'KDELIVER_API_CACHE_ENTRIES', 'KDELIVER_API_CACHE_MB', 'KDELIVER_API_CACHE_SECONDS', 'KDELIVER_HLS_SEGMENT_MS', 'KDELIVER_HLS_IFRAMES', 'KDELIVER_THUMBNAIL_TRACKS', 'KDELIVER_DASH_ABSOLUTE_URLS', 'KDELIVER_DASH_SUBTITLES', 'KDELIVER_DASH_SEGMENT_MS', 'KDELIVER_INDEX_CACHE_MB', 'KDELIVER_THUMBNAIL_CACHE_MB', 'KDELIVER_SEGMENT_CACHE_MB', 'KDELIVER_MAX_MOOV_MB', 'KDELIVER_CATALOG_WARM_MB',
  'KDELIVER_GEOIP_FILE', 'KDELIVER_SHUTDOWN_GRACE_MS', 'KDELIVER_INGEST_LEASE_SECONDS', 'KDELIVER_DRM_KEY_SERVICE_URL',
  'KDELIVER_MEDIA_URL', 'KDELIVER_MEDIA_CACHE_MB', 'KDELIVER_MEDIA_TIMEOUT_MS', 'KDELIVER_MEDIA_CONNECT_TIMEOUT_MS', 'KDELIVER_S3_FORCE_PATH_STYLE',
  'AWS_ENDPOINT_URL', 'AWS_REGION', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN',
  'KDELIVER_DATABASE_URL',
] as const;

/**
 * A URL as a configuration error quotes it: a password (user:password@) and a query (a token,
 * a signature) are never echoed, parseable or not.
 */
const shownUrl = (raw: string) => JSON.stringify(withoutCredentials(raw));

/**
 * KDELIVER_MEDIA_URL and, for s3://, the standard AWS variables. Reads the environment only, so a
 * command can ask where media goes before loadConfig writes anything (the generated secrets).
 */
export function mediaLocation(env: Env): MediaLocation {
  // kdeliver's own S3 setting is checked whatever the media's place, as every other setting is: a
  // typo stops the start, not the day the media move to S3 (AWS_* variables may be set for other
  // tools, and are read only for an S3 store)
  const forcePathStyle = bool('KDELIVER_S3_FORCE_PATH_STYLE', env.KDELIVER_S3_FORCE_PATH_STYLE, false);
  const raw = env.KDELIVER_MEDIA_URL;
  if (!raw) return { kind: 'local' };
  const shown = shownUrl(raw);
  let u: URL;
  try {
    u = new URL(raw);
  } catch {
    throw new ConfigError(`KDELIVER_MEDIA_URL=${shown}: expected s3://bucket/prefix or an http(s):// URL`);
  }
  if (u.protocol === 's3:') {
    if (!u.hostname) throw new ConfigError(`KDELIVER_MEDIA_URL=${shown}: expected s3://bucket/prefix (no bucket)`);
    if (u.search || u.hash || u.username || u.password) throw new ConfigError(`KDELIVER_MEDIA_URL=${shown}: expected s3://bucket/prefix without query, fragment or credentials (set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)`);
    const prefix = decodeURIComponent(u.pathname).replace(/^\/+|\/+$/g, '');
    const endpoint = env.AWS_ENDPOINT_URL || null;
    if (endpoint && !/^https?:\/\//.test(endpoint)) throw new ConfigError(`AWS_ENDPOINT_URL=${shownUrl(endpoint)}: expected an http(s):// URL`);
    return {
      kind: 's3', url: `s3://${u.hostname}${prefix ? `/${prefix}` : ''}`, bucket: u.hostname, prefix, endpoint,
      region: env.AWS_REGION || 'us-east-1',
      forcePathStyle,
      accessKeyId: env.AWS_ACCESS_KEY_ID || null, secretAccessKey: env.AWS_SECRET_ACCESS_KEY || null,
      // temporary credentials (an assumed role, SSO) are a key pair and a token: without the
      // token S3 refuses the pair, so it travels with them
      sessionToken: env.AWS_SESSION_TOKEN || null,
    };
  }
  if (u.protocol === 'http:' || u.protocol === 'https:') {
    if (u.search || u.hash || u.username || u.password) throw new ConfigError(`KDELIVER_MEDIA_URL=${shown}: expected an http(s) URL without query, fragment or credentials`);
    const base = u.toString().replace(/\/+$/, '');
    return { kind: 'http', url: base, base };
  }
  throw new ConfigError(`KDELIVER_MEDIA_URL=${shown}: expected s3://bucket/prefix or an http(s):// URL (got ${u.protocol})`);
}

/**
 * Why this user cannot use the data directory, in one line, or null: one that does not exist yet is
 * made at the first start, so a file where a folder of its path should be or a parent this user may
 * not write stops it now; an existing one must be writable when it holds the SQLite catalog
 * (sqlite). Otherwise the catalog's mkdir or open fails later with a stack trace.
 */
function dataDirProblem(dir: string, sqlite: boolean): string | null {
  // why a folder may not be written: its file system mounted read-only (EROFS) is not this user's
  // permission, and is not made right by changing the folder's mode
  const notWritable = (d: string): string | null => {
    try {
      accessSync(d, constants.W_OK);
      return null;
    } catch (e) {
      return (e as NodeJS.ErrnoException).code === 'EROFS' ? 'on a read-only file system' : 'not writable by this user';
    }
  };
  const there = nearestExisting(dir);
  if (there.path === dir) {
    if (!there.isFolder) return 'expected a directory (it is a file)';
    const why = sqlite ? notWritable(dir) : null;
    return why ? `${why}: the SQLite catalog (catalog.sqlite) is written there; make it writable, or choose another directory` : null;
  }
  if (!there.isFolder) return `cannot be made: ${there.path} is a file, not a directory`;
  const why = notWritable(there.path);
  if (why) return `cannot be made: ${there.path} is ${why} (make the directory, or choose one this user may write)`;
  return null;
}

/** A quarter of the machine's memory, at most 4 GiB: the page cache keeps room for the media. */
const defaultCatalogWarmMb = () => Math.min(4096, Math.floor(totalmem() / 4 / 1024 / 1024));

function bool(key: string, v: string | undefined, dflt: boolean): boolean {
  if (v === undefined || v === '') return dflt;
  if (/^(1|true|yes|on)$/i.test(v)) return true;
  if (/^(0|false|no|off)$/i.test(v)) return false;
  throw new ConfigError(`${key}=${JSON.stringify(v)}: expected true or false`);
}

/**
 * KDELIVER_TRUST_PROXY: false (0), true (one proxy: the nginx or load balancer in front) or the
 * number of proxies in the chain (a CDN before nginx: 2). "true" once meant every hop, so that a
 * client's own X-Forwarded-For entry (left of what the proxy appends) chose its address for the IP
 * rules.
 */
function proxyHops(v: string | undefined): number {
  if (v !== undefined && /^\d+$/.test(v)) return int('KDELIVER_TRUST_PROXY', v, 0, 0, 10);
  try {
    return bool('KDELIVER_TRUST_PROXY', v, false) ? 1 : 0;
  } catch {
    throw new ConfigError(`KDELIVER_TRUST_PROXY=${JSON.stringify(v)}: expected true, false or the number of proxies in front (0 to 10)`);
  }
}

function oneOf<T extends string>(key: string, v: string | undefined, values: readonly T[], dflt: T): T {
  if (v === undefined || v === '') return dflt;
  if ((values as readonly string[]).includes(v)) return v as T;
  throw new ConfigError(`${key}=${JSON.stringify(v)}: expected one of ${values.join(', ')}`);
}

function int(key: string, v: string | undefined, dflt: number, min: number, max: number): number {
  if (v === undefined || v === '') return dflt;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) {
    throw new ConfigError(`${key}=${JSON.stringify(v)}: expected a whole number from ${min} to ${max}`);
  }
  return Number(v);
}

/** KDELIVER_DATABASE_URL: postgres://user:pass@host:port/db; never echoed with its password. */
function databaseUrl(v: string | undefined): string | null {
  if (v === undefined || v === '') return null;
  let u: URL | undefined;
  try {
    u = new URL(v);
  } catch {
    u = undefined;
  }
  if (!u || !/^postgres(ql)?:$/.test(u.protocol) || !u.hostname || u.pathname.length < 2) {
    // text that is not a URL at all may be anything (a password pasted in the wrong place): not shown
    throw new ConfigError(`KDELIVER_DATABASE_URL=${u ? shownUrl(v) : '(not a URL)'}: expected postgres://user:password@host:port/database (unset: the SQLite catalog in the data directory)`);
  }
  return v;
}

export function loadConfig(processEnv: Env = process.env): Config {
  // the keys whose values came from the KDELIVER_CONFIG file (not overridden by the environment)
  const fromFile = new Set<string>();
  try {
    return readConfig(processEnv, fromFile);
  } catch (e) {
    // a bad value from the file: the message names the file as well, where a person looks for it
    const key = e instanceof ConfigError ? /^([A-Z][A-Z0-9_]*)=/.exec(e.message)?.[1] : undefined;
    if (key && fromFile.has(key)) throw new ConfigError(`${processEnv.KDELIVER_CONFIG}: ${(e as ConfigError).message}`);
    throw e;
  }
}

/**
 * The data directory loadConfig would use, found without writing anything (loadConfig makes the
 * directory's secrets when it has none): for a command that must refuse a missing catalog first.
 */
export function configuredDataDir(processEnv: Env = process.env): string {
  return dataDirOf(withConfigFile(processEnv, new Set()));
}

const dataDirOf = (env: Env): string => resolve(env.KDELIVER_DATA_DIR || 'storage');

/** The environment over the KDELIVER_CONFIG file's keys; fills `fileKeys` with the keys whose values come from the file. */
function withConfigFile(processEnv: Env, fileKeys: Set<string>): Env {
  let env: Env = processEnv;
  if (processEnv.KDELIVER_CONFIG) {
    let fromFile: unknown;
    let text: string | undefined;
    try {
      text = readFileSync(processEnv.KDELIVER_CONFIG, 'utf8');
      fromFile = JSON.parse(text);
    } catch (e) {
      throw new ConfigError(`KDELIVER_CONFIG=${processEnv.KDELIVER_CONFIG}: not a readable JSON file (${jsonReadProblem(e, text)})`);
    }
    // a JSON text that is not an object (null, a list, a string) has no keys to read: said as such,
    // not as a TypeError's stack (null) or an "unknown key 0" (a list or a string)
    if (fromFile === null || typeof fromFile !== 'object' || Array.isArray(fromFile)) {
      throw new ConfigError(`KDELIVER_CONFIG=${processEnv.KDELIVER_CONFIG}: expected a JSON object of variable names and values, e.g. {"PORT": 9000} (got ${Array.isArray(fromFile) ? 'a list' : fromFile === null ? 'null' : `a ${typeof fromFile}`})`);
    }
    for (const [k, v] of Object.entries(fromFile)) {
      if (!(KEYS as readonly string[]).includes(k)) throw new ConfigError(`${processEnv.KDELIVER_CONFIG}: unknown key ${k} (known: ${KEYS.join(', ')})`);
      if (typeof v !== 'string' && typeof v !== 'number' && typeof v !== 'boolean') throw new ConfigError(`${processEnv.KDELIVER_CONFIG}: ${k} must be a string, number or boolean`);
    }
    // the environment wins over the file
    env = { ...Object.fromEntries(Object.entries(fromFile).map(([k, v]) => [k, String(v)])), ...processEnv };
    for (const k of Object.keys(fromFile)) if (processEnv[k] === undefined) fileKeys.add(k);
  }
  return env;
}

/** loadConfig's work; fills `fileKeys` with the keys whose values come from the KDELIVER_CONFIG file. */
function readConfig(processEnv: Env, fileKeys: Set<string>): Config {
  const env = withConfigFile(processEnv, fileKeys);
  const production = env.NODE_ENV === 'production';
  const dataDir = dataDirOf(env);
  // asked for (or the default): seed the sample library into a new data directory
  const seedSample = bool('KDELIVER_SAMPLE_LIBRARY', env.KDELIVER_SAMPLE_LIBRARY, !production);
  let publicUrl: string | null = null;
  if (env.KDELIVER_PUBLIC_URL) {
    let u: URL;
    try {
      u = new URL(env.KDELIVER_PUBLIC_URL);
    } catch {
      throw new ConfigError(`KDELIVER_PUBLIC_URL=${JSON.stringify(env.KDELIVER_PUBLIC_URL)}: expected an absolute http(s) URL such as https://media.example.com`);
    }
    if (!/^https?:$/.test(u.protocol) || u.search || u.hash) {
      throw new ConfigError(`KDELIVER_PUBLIC_URL=${JSON.stringify(env.KDELIVER_PUBLIC_URL)}: expected an http(s) URL without query or fragment`);
    }
    publicUrl = u.toString().replace(/\/+$/, '');
  }
  const configured: ServerSecrets = {
    KDELIVER_URL_TOKEN_SECRET: env.KDELIVER_URL_TOKEN_SECRET || '',
    KDELIVER_MEDIA_URL_SECRET: env.KDELIVER_MEDIA_URL_SECRET || '',
  };
  if (production) {
    if (!seedSample && (configured.KDELIVER_URL_TOKEN_SECRET === SAMPLE_URL_TOKEN_SECRET || configured.KDELIVER_MEDIA_URL_SECRET === SAMPLE_MEDIA_URL_SECRET)) {
      throw new ConfigError('KDELIVER_URL_TOKEN_SECRET / KDELIVER_MEDIA_URL_SECRET: the sample secrets are refused in production unless KDELIVER_SAMPLE_LIBRARY=true');
    }
    for (const [key, value] of Object.entries(configured)) {
      if (value && value !== SAMPLE_URL_TOKEN_SECRET && value !== SAMPLE_MEDIA_URL_SECRET && value.length < 16) {
        throw new ConfigError(`${key}: expected at least 16 characters in production (a long random string), got ${value.length}`);
      }
    }
  }
  const givenHost = env.HOST || '127.0.0.1';
  if (!/^(?:[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?|\[?[0-9A-Fa-f:.]+(?:%[\w.]+)?\]?)$/.test(givenHost)) {
    throw new ConfigError(`HOST=${JSON.stringify(givenHost)}: expected an IP address (0.0.0.0, ::, 127.0.0.1) or a host name to listen on`);
  }
  // an IPv6 address as URLs write it ([::1]) is taken, and listened on without its brackets: the
  // resolver knows no name "[::1]", and the server used to refuse to start on it
  const host = unbracketed(givenHost);
  const unusable = dataDirProblem(dataDir, !env.KDELIVER_DATABASE_URL);
  if (unusable) throw new ConfigError(`KDELIVER_DATA_DIR=${JSON.stringify(env.KDELIVER_DATA_DIR || 'storage')}: ${unusable}`);
  if (env.KDELIVER_GEOIP_FILE && !(existsSync(env.KDELIVER_GEOIP_FILE) && statSync(env.KDELIVER_GEOIP_FILE).isFile())) {
    throw new ConfigError(`KDELIVER_GEOIP_FILE=${JSON.stringify(env.KDELIVER_GEOIP_FILE)}: expected a readable MaxMind-format (.mmdb) file`);
  }
  const logLevel = env.KDELIVER_LOG_LEVEL || 'info';
  if (!['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].includes(logLevel)) {
    throw new ConfigError(`KDELIVER_LOG_LEVEL=${JSON.stringify(logLevel)}: expected one of fatal, error, warn, info, debug, trace, silent`);
  }
  let drmKeyServiceUrl: string | null = null;
  if (env.KDELIVER_DRM_KEY_SERVICE_URL) {
    let ok = false;
    try {
      const u = new URL(env.KDELIVER_DRM_KEY_SERVICE_URL.replace(/\{(entryId|partnerId)\}/g, 'x'));
      ok = /^https?:$/.test(u.protocol) && !u.hash;
    } catch { /* refused below */ }
    if (!ok) throw new ConfigError(`KDELIVER_DRM_KEY_SERVICE_URL=${shownUrl(env.KDELIVER_DRM_KEY_SERVICE_URL)}: expected an absolute http(s) URL, e.g. http://keys.internal/drm/{partnerId}/{entryId}`);
    drmKeyServiceUrl = env.KDELIVER_DRM_KEY_SERVICE_URL;
  }
  const config = {
    host,
    port: int('PORT', env.PORT, 8080, 0, 65535),
    dataDir,
    dbFile: catalogFile(dataDir),
    databaseUrl: databaseUrl(env.KDELIVER_DATABASE_URL),
    mediaRoot: join(dataDir, 'media'),
    publicUrl,
    trustProxy: proxyHops(env.KDELIVER_TRUST_PROXY),
    production,
    logLevel,
    playManifestCacheAge: int('KDELIVER_PLAYMANIFEST_CACHE_AGE', env.KDELIVER_PLAYMANIFEST_CACHE_AGE, 60, 0, 86400),
    manifestCacheEntries: int('KDELIVER_MANIFEST_CACHE_ENTRIES', env.KDELIVER_MANIFEST_CACHE_ENTRIES, 10000, 0, 1000000),
    apiCacheEntries: int('KDELIVER_API_CACHE_ENTRIES', env.KDELIVER_API_CACHE_ENTRIES, 10000, 0, 1000000),
    apiCacheBytes: int('KDELIVER_API_CACHE_MB', env.KDELIVER_API_CACHE_MB, 64, 1, 65536) * 1024 * 1024,
    apiCacheSeconds: int('KDELIVER_API_CACHE_SECONDS', env.KDELIVER_API_CACHE_SECONDS, 600, 1, 600),
    hlsSegmentDurationMs: int('KDELIVER_HLS_SEGMENT_MS', env.KDELIVER_HLS_SEGMENT_MS, 10000, 1000, 60000),
    hlsIframes: bool('KDELIVER_HLS_IFRAMES', env.KDELIVER_HLS_IFRAMES, true),
    thumbnailTracks: bool('KDELIVER_THUMBNAIL_TRACKS', env.KDELIVER_THUMBNAIL_TRACKS, true),
    dashAbsoluteUrls: bool('KDELIVER_DASH_ABSOLUTE_URLS', env.KDELIVER_DASH_ABSOLUTE_URLS, true),
    dashSubtitles: oneOf('KDELIVER_DASH_SUBTITLES', env.KDELIVER_DASH_SUBTITLES, ['webvtt', 'stpp'] as const, 'webvtt'),
    dashSegmentDurationMs: int('KDELIVER_DASH_SEGMENT_MS', env.KDELIVER_DASH_SEGMENT_MS, 4000, 1000, 60000),
    indexCacheBytes: int('KDELIVER_INDEX_CACHE_MB', env.KDELIVER_INDEX_CACHE_MB, 256, 1, 65536) * 1024 * 1024,
    thumbnailCacheBytes: int('KDELIVER_THUMBNAIL_CACHE_MB', env.KDELIVER_THUMBNAIL_CACHE_MB, 512, 1, 16777216) * 1024 * 1024,
    segmentCacheBytes: int('KDELIVER_SEGMENT_CACHE_MB', env.KDELIVER_SEGMENT_CACHE_MB, 64, 0, 65536) * 1024 * 1024,
    catalogWarmBytes: int('KDELIVER_CATALOG_WARM_MB', env.KDELIVER_CATALOG_WARM_MB, defaultCatalogWarmMb(), 0, 1048576) * 1024 * 1024,
    maxMoovBytes: int('KDELIVER_MAX_MOOV_MB', env.KDELIVER_MAX_MOOV_MB, 64, 1, 4096) * 1024 * 1024,
    geoIpFile: env.KDELIVER_GEOIP_FILE || null,
    shutdownGraceMs: int('KDELIVER_SHUTDOWN_GRACE_MS', env.KDELIVER_SHUTDOWN_GRACE_MS, 10000, 0, 600000),
    ingestLeaseSeconds: int('KDELIVER_INGEST_LEASE_SECONDS', env.KDELIVER_INGEST_LEASE_SECONDS, 30, 2, 3600),
    media: mediaLocation(env),
    mediaCacheBytes: int('KDELIVER_MEDIA_CACHE_MB', env.KDELIVER_MEDIA_CACHE_MB, 256, 1, 65536) * 1024 * 1024,
    mediaTimeoutMs: int('KDELIVER_MEDIA_TIMEOUT_MS', env.KDELIVER_MEDIA_TIMEOUT_MS, 10000, 100, 600000),
    mediaConnectTimeoutMs: int('KDELIVER_MEDIA_CONNECT_TIMEOUT_MS', env.KDELIVER_MEDIA_CONNECT_TIMEOUT_MS, 3000, 100, 600000),
    drmKeyServiceUrl,
  };
  // last, once every value is valid: the only steps that may write (the record of an older sample
  // directory, generated secrets).
  // Whether the data directory holds the sample library (or is new and gets it now) is the
  // directory's own state (src/catalog/sample-record.ts), whatever NODE_ENV says: only then are the
  // sample secrets its fallback, and only then is the sample library seeded into it. Its own
  // secrets.json always wins; the opened catalog confirms the rest (sampleSecrets).
  const sampleDir = isSampleDataDir(dataDir, { sqlite: !config.databaseUrl, seed: seedSample });
  if (production && sampleDir && !seedSample && !SERVER_SECRET_NAMES.every((n) => configured[n])) {
    throw new ConfigError(`KDELIVER_DATA_DIR=${dataDir} holds the sample library, whose secrets are public: refused in production unless KDELIVER_SAMPLE_LIBRARY=true (or set KDELIVER_URL_TOKEN_SECRET and KDELIVER_MEDIA_URL_SECRET)`);
  }
  const secrets = serverSecrets(configured, sampleDir, dataDir);
  return {
    ...config, sampleLibrary: seedSample && sampleDir, urlTokenSecret: secrets.KDELIVER_URL_TOKEN_SECRET, mediaUrlSecret: secrets.KDELIVER_MEDIA_URL_SECRET,
    sampleSecrets: sampleDir && !SERVER_SECRET_NAMES.every((n) => configured[n]),
  };
}

/**
 * The server-wide secrets, each never empty: the configured value; else, in a data directory that
 * holds the sample library (sampleDir), the sample one; else the value generated once and kept in
 * the secret store, which every process on the same data directory reads. This is the only place they are decided, so what
 * playManifest signs with is what the media routes check with.
 */
function serverSecrets(configured: ServerSecrets, sampleDir: boolean, dataDir: string): ServerSecrets {
  if (SERVER_SECRET_NAMES.every((n) => configured[n])) return configured;
  let fallback: ServerSecrets;
  if (sampleDir) {
    fallback = { KDELIVER_URL_TOKEN_SECRET: SAMPLE_URL_TOKEN_SECRET, KDELIVER_MEDIA_URL_SECRET: SAMPLE_MEDIA_URL_SECRET };
  } else {
    const store = dataDirSecretStore(dataDir);
    try {
      fallback = store.load(randomSecret);
    } catch (e) {
      if (e instanceof SecretStoreError) throw new ConfigError(e.message);
      throw new ConfigError(`${store.location}: cannot keep the generated secrets there (${(e as Error).message}); make KDELIVER_DATA_DIR writable, or set KDELIVER_URL_TOKEN_SECRET and KDELIVER_MEDIA_URL_SECRET`);
    }
  }
  return Object.fromEntries(SERVER_SECRET_NAMES.map((n) => [n, configured[n] || fallback[n]])) as ServerSecrets;
}
