// Assembles the Fastify server: the environment (src/env.ts) built once and decorated as `env`,
// one encapsulated plugin per URL family from routes/. Nothing here knows about playManifest.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { Config } from './config.js';
import type { Env } from './env.js';
import { openConfiguredCatalog } from './open-catalog.js';
import { requestId } from './log.js';
import { stdoutLogOutput } from './log-output.js';
import { redactApiUrl } from './api/redact.js';
import { rulesRead } from './access/evaluate.js';
import { noCountryDatabase, openCountryLookup } from './access/geo.js';
import { createManifestCache } from './cache/manifest-cache.js';
import { createApiAnswerCache, type ApiAnswerCache } from './api/answer-cache.js';
import { createHandleCache } from './media/file-handles.js';
import { setSegmentCacheBytes } from './media/body.js';
import { createIndexCache } from './media/index-cache.js';
import { openMediaStore } from './storage/media-store.js';
import { sweepPartialWrites } from './storage/media-writer.js';
import { warmUpMediaCode } from './media/warm-up.js';
import { holdSpareMemory } from './media/spare-memory.js';
import { shippedFile } from './shipped.js';
import { readIntoPageCache, type WarmResult } from './catalog/warm-file.js';
import metricsRoutes from '../routes/metrics.js';
import healthRoutes from '../routes/health.js';
import consoleRoutes from '../routes/console.js';
import warmUpRoutes from '../routes/warm-up.js';
import commonRoutes, { frameworkError } from '../routes/common.js';
import playManifestRoutes from '../routes/play-manifest.js';
import serveFlavorRoutes from '../routes/serve-flavor.js';
import rawDownloadRoutes from '../routes/raw-download.js';
import packagerRoutes from '../routes/packager.js';
import drmRoutes from '../routes/drm.js';
import flvclipperRoutes from '../routes/flvclipper.js';
import apiV3Routes from '../routes/api-v3.js';
import partnerServices2Routes from '../routes/partnerservices2.js';
import thumbnailRoutes from '../routes/thumbnail.js';
import ingestWorker from '../routes/ingest-worker.js';

declare module 'fastify' {
  interface FastifyInstance {
    /** Everything a request can reach besides itself; routes hand it to the stages (routes/http.ts requestEnv). */
    env: Env;
    // The Env's parts, for the routes and tests that use one of them:
    config: Env['config'];
    catalog: Env['catalog'];
    /** Unix seconds (Env.clock). */
    now: Env['clock'];
    manifestCache: Env['manifestCache'];
    /** api_v3 answers to anonymous read-only requests (src/api/answer-cache.ts). */
    apiCache: ApiAnswerCache;
    indexCache: Env['indexCache'];
    handleCache: Env['handleCache'];
    media: Env['media'];
    /** Adds an answerer that runs before Fastify routes each request (EarlyAnswer). */
    answerBeforeRouting(answer: EarlyAnswer): void;
  }
}

/**
 * An answer given before Fastify routes a request: true when it answered (and counted and logged
 * the answer as the route would), false to let the request go on; a promise of either when the
 * answerer must ask first (a KS-bearing answer verifies the KS against the catalog's
 * revocations). Only for answers already made and checked by a route, such as playManifest's kept
 * answers (routes/play-manifest.ts): they need no routing, hooks or request objects, which cost
 * more than the answer itself.
 */
export type EarlyAnswer = (req: IncomingMessage, res: ServerResponse) => boolean | Promise<boolean>;

export interface ServerOptions {
  config: Config;
  /** Override the clock (tests). */
  now?: () => number;
  logger?: FastifyServerOptions['logger'];
}

/** What the "request completed" line says of its answer: the status, and the method and URL (secrets hidden) it answered. */
export function completedAnswer(res: { statusCode?: number; request?: { method?: string; url?: string }; method?: string; url?: string }): Record<string, unknown> {
  const method = res.request?.method ?? res.method;
  const url = res.request?.url ?? res.url;
  return method === undefined || url === undefined ? { statusCode: res.statusCode } : { statusCode: res.statusCode, method, url: redactApiUrl(url) };
}

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  if (config.logLevel === 'silent') return false;
  return {
    level: config.logLevel,
    // KS, kt and secrets travel in URLs and headers: never log them as they are. The API's forms
    // (/secret/… path pairs, 1:ks=…, request1_secret=…) are hidden on every URL, since a client may
    // send them to one no route takes (API v2 reads no path pairs), which is logged all the same.
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: redactApiUrl(req.url), id: req.id }),
      // the completion line names its request too (Fastify passes the reply, which knows it; an
      // answer given before routing passes them itself, routes/http.ts sendEarly): a line found by
      // its status or time says what was asked without a search for its request id
      res: completedAnswer,
    },
    redact: { paths: ['req.headers["x-kaltura-ks"]', 'req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  };
}

/** The production logger: loggerOptions, written to standard output by a LogOutput (src/log-output.ts says why). */
function serverLogger(config: Config): FastifyServerOptions['logger'] {
  const options = loggerOptions(config);
  return options ? { ...(options as object), stream: stdoutLogOutput() } : options;
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const early: EarlyAnswer[] = [];
  let closing = false;
  const app = Fastify({
    logger: opts.logger ?? serverLogger(config),
    // that many hops (the socket's peer is hop 0), never `true`, which trusts every X-Forwarded-For
    // entry, the client's own too; Fastify takes a plain number as "trust none"
    trustProxy: config.trustProxy > 0 ? (_address: string, hop: number) => hop < config.trustProxy : false,
    // "//" must reach the path parser as it is (it drops empty segments itself)
    routerOptions: { ignoreDuplicateSlashes: false, maxParamLength: 8192 },
    genReqId: requestId,
    requestTimeout: 60_000,
    frameworkErrors: frameworkError,
    // Fastify's own HTTP/1 server, as it makes it (its server options), with the early answerers
    // in front of its request handler; none while the server closes (Fastify then answers 503)
    serverFactory: (handler, fastifyOptions) => {
      const options = fastifyOptions as { keepAliveTimeout?: number; requestTimeout?: number; connectionTimeout?: number; maxRequestsPerSocket?: number };
      // the early answerers in turn, then Fastify; one that must ask first holds the rest until it has
      const answerFrom = (i: number, req: IncomingMessage, res: ServerResponse): void => {
        for (; !closing && i < early.length; i++) {
          const answered = early[i](req, res);
          if (answered instanceof Promise) {
            const next = i + 1;
            answered.then((done) => done || answerFrom(next, req, res), (e) => {
              app.log.error({ err: e }, 'an early answerer failed; the route answers');
              answerFrom(next, req, res);
            });
            return;
          }
          if (answered) return;
        }
        handler(req, res);
      };
      const server = createServer((req, res) => answerFrom(0, req, res));
      server.keepAliveTimeout = options.keepAliveTimeout ?? 72_000;
      server.requestTimeout = options.requestTimeout ?? 0;
      server.setTimeout(options.connectionTimeout ?? 0);
      if (options.maxRequestsPerSocket) server.maxRequestsPerSocket = options.maxRequestsPerSocket;
      return server;
    },
  });
  app.decorate('answerBeforeRouting', (answer: EarlyAnswer) => {
    early.push(answer);
  });
  app.addHook('preClose', (done) => {
    closing = true;
    done();
  });
  const geo = config.geoIpFile ? openCountryLookup(config.geoIpFile) : null;
  const catalog = await openConfiguredCatalog(config);
  // the segment answer cache is the process's (src/media/body.ts): its bound comes from here
  setSegmentCacheBytes(config.segmentCacheBytes);
  const handleCache = createHandleCache();
  const media = await openMediaStore(config, handleCache);
  const env: Env = {
    catalog,
    config,
    clock: opts.now ?? (() => Math.floor(Date.now() / 1000)),
    countryOf: geo ? (ip) => geo.countryOf(ip) : noCountryDatabase,
    manifestCache: createManifestCache(config.manifestCacheEntries),
    indexCache: createIndexCache({ maxBytes: config.indexCacheBytes, maxMoovBytes: config.maxMoovBytes, store: media }),
    handleCache,
    media,
    log: app.log,
  };
  app.decorate('env', env);
  app.decorate('config', env.config);
  app.decorate('catalog', env.catalog);
  app.decorate('now', env.clock);
  app.decorate('manifestCache', env.manifestCache);
  app.decorate('apiCache', createApiAnswerCache({ maxEntries: config.apiCacheEntries, maxBytes: config.apiCacheBytes, maxSeconds: config.apiCacheSeconds }));
  app.decorate('indexCache', env.indexCache);
  app.decorate('handleCache', env.handleCache);
  app.decorate('media', env.media);
  // before the first request: the packager's playlist code compiled on a shipped sample file, not
  // on the first viewer's (src/media/warm-up.ts)
  const WARM_UP_FILE = 'fixtures/media/h264-240p.mp4';
  // and, from then on, memory ready for the next long file's moov (src/media/spare-memory.ts)
  let releaseSpare = (): void => undefined;
  app.addHook('onReady', async () => {
    // in the background: what a killed process left half-written in the media folder
    // (src/storage/media-writer.ts); a write under way elsewhere is left alone
    void sweepPartialWrites(config.mediaRoot).then((n) => {
      if (n > 0) app.log.info({ removed: n }, `removed ${n} half-written media file(s) a stopped process left in the media folder`);
    }, (e: unknown) => app.log.warn({ err: e }, 'the media folder\'s half-written files could not be removed'));
    await warmUpMediaCode({ hlsSegmentMs: config.hlsSegmentDurationMs, dashSegmentMs: config.dashSegmentDurationMs, file: shippedFile(WARM_UP_FILE) });
    releaseSpare = holdSpareMemory();
  });
  // without a country database, a country condition holds for every request it is asked for
  // (src/access/geo.ts): said at start, naming the profiles, in the background (a catalog that
  // cannot answer yet is /readyz's to report, not a reason to stop)
  if (!geo) {
    app.addHook('onReady', async () => {
      void (async () => {
        const named: string[] = [];
        for (const p of await catalog.listPartners()) {
          for (const acp of await catalog.listAccessControlProfiles(p.id)) if (rulesRead(acp.rules, 'country')) named.push(`${acp.id} (partner ${p.id})`);
        }
        if (named.length > 0) {
          app.log.warn({ accessControlProfiles: named }, `access-control profile(s) ${named.join(', ')} have country conditions and no country database is configured (KDELIVER_GEOIP_FILE): their rules apply to every request they are asked for`);
        }
      })().catch(() => undefined);
    });
  }
  // after start, in the background: the SQLite catalog file into the page cache, so the first
  // viewer of each entry of a big catalog does not wait for the disk (src/catalog/warm-file.ts)
  const stopWarm = new AbortController();
  let catalogWarm: Promise<WarmResult | null> = Promise.resolve(null);
  if (!config.databaseUrl && config.catalogWarmBytes > 0) {
    app.addHook('onReady', async () => {
      catalogWarm = readIntoPageCache([config.dbFile, `${config.dbFile}-wal`], { maxBytes: config.catalogWarmBytes, signal: stopWarm.signal }).then((r) => {
        const mb = (r.bytes / 1048576).toFixed(1);
        app.log.info({ catalogWarmBytes: r.bytes, ms: Math.round(r.ms) }, r.stopped ? `catalog file not read into the page cache (${r.stopped}); ${mb} MB read` : `catalog file read into the page cache: ${mb} MB in ${Math.round(r.ms)} ms`);
        return r;
      });
    });
  }
  app.addHook('onClose', async () => {
    releaseSpare();
    stopWarm.abort();
    const warmed = await catalogWarm;
    await handleCache.close();
    await media.close();
    await catalog.close();
    // the warm read's descriptors of the catalog file, closed only now: closing one drops SQLite's
    // locks on the file (src/catalog/warm-file.ts)
    await warmed?.release();
  });

  await app.register(metricsRoutes); // first: its hooks must see every route
  await app.register(healthRoutes);
  await app.register(commonRoutes);
  await app.register(playManifestRoutes);
  await app.register(serveFlavorRoutes);
  await app.register(rawDownloadRoutes);
  await app.register(packagerRoutes);
  await app.register(drmRoutes);
  await app.register(flvclipperRoutes);
  await app.register(apiV3Routes);
  await app.register(partnerServices2Routes);
  await app.register(thumbnailRoutes);
  await app.register(ingestWorker);
  await app.register(consoleRoutes);
  await app.register(warmUpRoutes); // last: its request goes through every hook above
  return app;
}
