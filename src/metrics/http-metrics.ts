// The server's metric set: what is counted for every HTTP answer, and the gauges read at scrape
// time. Knows nothing of Fastify: the route plugin feeds it plain observations.
import { createRegistry, type Registry } from './registry.js';
import type { RouteFamily } from './request-facts.js';
import { segmentCacheStats } from '../media/body.js';
import { keptPlaylistStats } from '../packaging/kept-playlists.js';
import type { ThumbnailCacheStats } from '../thumbnail/disk-cache.js';

/** What the packager's index cache and the playManifest answer cache report. */
export interface CacheStats {
  bytes: number;
  entries: number;
  hits: number;
  misses: number;
  /** playManifest's kept decisions (the answer cache's second tier) */
  decisionHits?: number;
  decisionEntries?: number;
  decisionFirstAskings?: number;
  /** playManifest's kept answers of KS-bearing requests (src/cache/session-answers.ts) */
  sessionHits?: number;
  sessionEntries?: number;
  /** keys asked once so far (or whose kept answer went stale), kept if asked again (src/cache/asked-once.ts): playManifest and api_v3 answers */
  firstAskings?: number;
}

export interface ResponseObservation {
  family: RouteFamily;
  method: string;
  status: number;
  /** Seconds from the request's arrival to the last byte written. */
  seconds: number;
  /** Body bytes sent (Content-Length of the answer), 0 when unknown or HEAD. */
  bytes: number;
  /** playManifest's reference error code (X-Kaltura: error-N), when the answer was an error. */
  errorCode: number | null;
}

/** The remote media block cache's counters (src/storage/block-cache.ts BlockCacheStats). */
export interface MediaCacheStats {
  hits: number;
  misses: number;
  joined: number;
  bytes: number;
}

/** A memo's size and its hits and misses since start. */
export interface MemoStats {
  entries: number;
  hits: number;
  misses: number;
}

/** The memos of the session path: none of them holds an answer, each saves work on every request. */
export interface MemoSources {
  /** session.startWidgetSession's sessions handed out again (src/api/services/session.ts). */
  widgetSessions?: () => MemoStats | null;
  /** Verified KSs' decrypted fields (src/access/ks.ts). */
  verifiedKs?: () => MemoStats | null;
  /** The SQLite catalog's KS revocation memo (src/catalog/catalog.ts); none on PostgreSQL (the read cache keeps them). */
  revocations?: () => MemoStats | null;
}

export interface HttpMetrics {
  registry: Registry;
  observe(o: ResponseObservation): void;
}

// Loopback manifests answer in well under a millisecond; segments read from disk take longer.
const LATENCY_BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export function createHttpMetrics(opts: { indexCache?: () => CacheStats | null; manifestCache?: () => CacheStats | null; mediaCache?: () => MediaCacheStats | null; apiCache?: () => CacheStats | null; catalogCache?: () => { entries: number; hits: number; misses: number } | null; thumbnailCache?: () => ThumbnailCacheStats | null; memos?: MemoSources; startedAt?: number } = {}): HttpMetrics {
  const registry = createRegistry();
  const requests = registry.counter('kdeliver_http_requests_total', 'HTTP answers by route family, method and status code.');
  const latency = registry.histogram('kdeliver_http_request_duration_seconds', 'Time from request arrival to the last byte of the answer, by route family.', LATENCY_BOUNDS);
  const bytes = registry.counter('kdeliver_http_response_bytes_total', 'Body bytes served (Content-Length of answers), by route family.');
  const pmErrors = registry.counter('kdeliver_playmanifest_errors_total', 'playManifest answers refused with a reference error code (X-Kaltura: error-N), by code.');
  const startedAt = opts.startedAt ?? Date.now() / 1000;
  registry.gauge('kdeliver_process_start_time_seconds', 'Start time of the process, Unix seconds.', () => [{ labels: {}, value: Math.floor(startedAt) }]);
  // caches' figures read at scrape time: those counted since start (named _total) are counters
  const scraped = (name: string, help: string, read: () => { labels: Record<string, string>; value: number }[]) =>
    (name.endsWith('_total') ? registry.counterRead : registry.gauge)(name, help, read);
  // the packager's segment answer cache (src/media/body.ts), one per process
  for (const [name, help, pick] of [
    ['kdeliver_packager_segment_cache_hits_total', 'Segments answered from the segment answer cache since start.', (c) => c.hits],
    ['kdeliver_packager_segment_cache_misses_total', 'Segments the segment answer cache could not answer (made from the source) since start.', (c) => c.misses],
    ['kdeliver_packager_segment_cache_bytes', 'Bytes of segment answers held by the segment answer cache.', (c) => c.bytes],
    ['kdeliver_packager_segment_cache_entries', 'Segment answers held by the segment answer cache.', (c) => c.entries],
  ] as Array<[string, string, (c: ReturnType<typeof segmentCacheStats>) => number]>) {
    scraped(name, help, () => [{ labels: {}, value: pick(segmentCacheStats()) }]);
  }
  // the packager's kept per-flavor playlists (src/packaging/kept-playlists.ts), one per process
  for (const [name, help, pick] of [
    ['kdeliver_packager_playlist_cache_hits_total', 'Per-flavor playlists sent from the kept playlists (by the route, or before routing) since start.', (c) => c.hits],
    ['kdeliver_packager_playlist_cache_misses_total', 'Per-flavor playlists rendered (not found kept) since start.', (c) => c.misses],
    ['kdeliver_packager_playlist_cache_bytes', 'Bytes of per-flavor playlists kept (by timeline and by URL).', (c) => c.bytes + c.byUrlBytes],
    ['kdeliver_packager_playlist_cache_entries', 'Per-flavor playlists kept (by timeline and by URL).', (c) => c.entries + c.byUrl],
  ] as Array<[string, string, (c: ReturnType<typeof keptPlaylistStats>) => number]>) {
    scraped(name, help, () => [{ labels: {}, value: pick(keptPlaylistStats()) }]);
  }
  // a cache's figures, read at scrape time; none before the cache exists
  const stat = (read: (() => CacheStats | null) | undefined, pick: (s: CacheStats) => number) => () => {
    const s = read?.();
    return s ? [{ labels: {}, value: pick(s) }] : [];
  };
  const figures: [string, string, (() => CacheStats | null) | undefined, (s: CacheStats) => number][] = [
    ['kdeliver_packager_index_cache_hits_total', 'Packager media-index cache hits since start.', opts.indexCache, (s) => s.hits],
    ['kdeliver_packager_index_cache_misses_total', 'Packager media-index cache misses (index parses) since start.', opts.indexCache, (s) => s.misses],
    ['kdeliver_packager_index_cache_bytes', 'Bytes of parsed media indexes held by the packager cache.', opts.indexCache, (s) => s.bytes],
    ['kdeliver_packager_index_cache_entries', 'Media indexes held by the packager cache.', opts.indexCache, (s) => s.entries],
    ['kdeliver_playmanifest_cache_hits_total', 'playManifest answers sent from the answer cache since start.', opts.manifestCache, (s) => s.hits],
    ['kdeliver_playmanifest_cache_misses_total', 'playManifest requests the answer cache could not answer (the pipeline ran) since start.', opts.manifestCache, (s) => s.misses],
    ['kdeliver_playmanifest_cache_entries', 'playManifest answers held by the answer cache.', opts.manifestCache, (s) => s.entries],
    ['kdeliver_playmanifest_cache_bytes', 'Bytes of playManifest answers held by the answer cache (its bound is 64 MB).', opts.manifestCache, (s) => s.bytes],
    ['kdeliver_playmanifest_decision_hits_total', 'playManifest requests answered from a kept decision (session verified, URLs signed and answer rendered per request) since start.', opts.manifestCache, (s) => s.decisionHits ?? 0],
    ['kdeliver_playmanifest_cache_first_askings', 'playManifest answers asked once so far, kept if asked again (at most KDELIVER_MANIFEST_CACHE_ENTRIES).', opts.manifestCache, (s) => s.firstAskings ?? 0],
    ['kdeliver_playmanifest_decision_entries', 'playManifest request shapes whose decisions are kept.', opts.manifestCache, (s) => s.decisionEntries ?? 0],
    ['kdeliver_playmanifest_decision_first_askings', 'playManifest decisions (request shape and session facts) made once so far, kept if made again (at most KDELIVER_MANIFEST_CACHE_ENTRIES).', opts.manifestCache, (s) => s.decisionFirstAskings ?? 0],
    ['kdeliver_playmanifest_session_hits_total', 'playManifest requests with a KS answered from a kept session answer (KS verified, signatures made per request) since start.', opts.manifestCache, (s) => s.sessionHits ?? 0],
    ['kdeliver_playmanifest_session_entries', 'playManifest answers of KS-bearing requests kept (per URL without its KS and session facts).', opts.manifestCache, (s) => s.sessionEntries ?? 0],
    ['kdeliver_api_cache_hits_total', 'api_v3 answers sent from the answer cache (read-only requests, anonymous or asked again under one KS) since start.', opts.apiCache, (s) => s.hits],
    ['kdeliver_api_cache_misses_total', 'Read-only api_v3 requests the answer cache could not answer since start.', opts.apiCache, (s) => s.misses],
    ['kdeliver_api_cache_entries', 'api_v3 answers (and learned request-fact lists) held by the answer cache.', opts.apiCache, (s) => s.entries],
    ['kdeliver_api_cache_bytes', 'Bytes of api_v3 answers held by the answer cache (bodies, gzipped copies, keys).', opts.apiCache, (s) => s.bytes],
    ['kdeliver_api_cache_first_askings', 'api_v3 requests asked once so far (or whose kept answer expired), whose answer is kept if asked again (at most KDELIVER_API_CACHE_ENTRIES).', opts.apiCache, (s) => s.firstAskings ?? 0],
  ];
  for (const [name, help, read, pick] of figures) scraped(name, help, stat(read, pick));
  // the catalog's read cache (src/catalog/catalog.ts, src/catalog/pg/catalog.ts): at most 50,000 reads
  for (const [name, help, pick] of [
    ['kdeliver_catalog_read_cache_entries', 'Catalog reads (entries, flavors, profiles, list counts...) held by the read cache (at most 50,000).', (c) => c.entries],
    ['kdeliver_catalog_read_cache_hits_total', 'Catalog reads answered from the read cache since start.', (c) => c.hits],
    ['kdeliver_catalog_read_cache_misses_total', 'Catalog reads the read cache could not answer (the database was asked) since start.', (c) => c.misses],
  ] as Array<[string, string, (c: { entries: number; hits: number; misses: number }) => number]>) {
    scraped(name, help, () => {
      const c = opts.catalogCache?.();
      return c ? [{ labels: {}, value: pick(c) }] : [];
    });
  }
  // the remote media block cache (src/storage/block-cache.ts): no series with local media
  const media: [string, string, (s: MediaCacheStats) => number][] = [
    ['kdeliver_media_cache_hits_total', 'Remote media blocks read from the block cache since start.', (s) => s.hits],
    ['kdeliver_media_cache_misses_total', 'Remote media blocks fetched from the origin since start.', (s) => s.misses],
    ['kdeliver_media_cache_joined_total', 'Remote media block reads that joined a fetch already under way since start.', (s) => s.joined],
    ['kdeliver_media_cache_bytes', 'Bytes of remote media blocks held in memory.', (s) => s.bytes],
  ];
  for (const [name, help, pick] of media) {
    scraped(name, help, () => {
      const s = opts.mediaCache?.();
      return s ? [{ labels: {}, value: pick(s) }] : [];
    });
  }

  // the thumbnail disk cache under the data directory (src/thumbnail/disk-cache.ts)
  for (const [name, help, pick] of [
    ['kdeliver_thumbnail_cache_hits_total', 'Thumbnails and storyboard sheets read from the thumbnail disk cache since start.', (s) => s.hits],
    ['kdeliver_thumbnail_cache_misses_total', 'Thumbnails and storyboard sheets not found in the thumbnail disk cache (rendered) since start.', (s) => s.misses],
    ['kdeliver_thumbnail_cache_bytes', 'Bytes of the files held by the thumbnail disk cache (its bound is KDELIVER_THUMBNAIL_CACHE_MB).', (s) => s.bytes],
    ['kdeliver_thumbnail_cache_entries', 'Files held by the thumbnail disk cache.', (s) => s.entries],
    ['kdeliver_thumbnail_cache_evictions_total', 'Files the thumbnail disk cache removed to keep its bound since start.', (s) => s.evictions],
  ] as Array<[string, string, (s: ThumbnailCacheStats) => number]>) {
    scraped(name, help, () => {
      const s = opts.thumbnailCache?.();
      return s ? [{ labels: {}, value: pick(s) }] : [];
    });
  }
  // the memos of the session path: widget sessions handed out again, verified KSs, revocations
  const memos: Array<[string, string, (() => MemoStats | null) | undefined]> = [
    ['kdeliver_api_widget_session_cache', 'widget sessions (session.startWidgetSession) handed out again (at most 1,000 per catalog)', opts.memos?.widgetSessions],
    ['kdeliver_ks_verified_cache', "verified KSs' decrypted fields (at most 10,000)", opts.memos?.verifiedKs],
    ['kdeliver_catalog_revocation_cache', 'KS revocation ends kept by the SQLite catalog (at most 50,000)', opts.memos?.revocations],
  ];
  for (const [prefix, what, read] of memos) {
    for (const [suffix, help, pick] of [
      ['entries', `Held: ${what}.`, (s) => s.entries],
      ['hits_total', `Answered from the memo since start: ${what}.`, (s) => s.hits],
      ['misses_total', `Not found in the memo (made or read anew) since start: ${what}.`, (s) => s.misses],
    ] as Array<[string, string, (s: MemoStats) => number]>) {
      scraped(`${prefix}_${suffix}`, help, () => {
        const s = read?.();
        return s ? [{ labels: {}, value: pick(s) }] : [];
      });
    }
  }

  // one bound set of series per family, method and status: an answer counts without building label keys
  const bound = new Map<string, { requests: { inc(by?: number): void }; latency: { observe(v: number): void }; bytes: { inc(by?: number): void } }>();
  return {
    registry,
    observe(o) {
      const k = `${o.family} ${o.method} ${o.status}`;
      let b = bound.get(k);
      if (!b) {
        b = {
          requests: requests.series({ family: o.family, method: o.method, status: o.status }),
          latency: latency.series({ family: o.family }),
          bytes: bytes.series({ family: o.family }),
        };
        bound.set(k, b);
      }
      b.requests.inc();
      b.latency.observe(o.seconds);
      if (o.bytes > 0) b.bytes.inc(o.bytes);
      if (o.family === 'playManifest' && o.errorCode !== null) pmErrors.inc({ code: o.errorCode });
    },
  };
}

/** The reference error code of an `X-Kaltura` header value ("error-3" → 3), or null. */
export function kalturaErrorCode(header: unknown): number | null {
  const values = Array.isArray(header) ? header : [header];
  for (const v of values) {
    const m = typeof v === 'string' ? /^\s*error-(\d{1,4})\b/.exec(v) : null;
    if (m) return Number(m[1]);
  }
  return null;
}
