// Assembles the Fastify server: the environment (src/env.ts) built once and decorated as `env`,
// one encapsulated plugin per URL family from routes/. Nothing here knows about playManifest.
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Config } from './config.js';
import type { Env } from './env.js';
import { openCatalog } from './catalog/open.js';
import { redactUrl } from './log.js';
import { openCountryLookup } from './access/geo.js';
import { createManifestCache } from './cache/manifest-cache.js';
import { createApiAnswerCache, type ApiAnswerCache } from './api/answer-cache.js';
import { createHandleCache } from './media/file-handles.js';
import { createIndexCache } from './media/index-cache.js';
import { openMediaStore } from './storage/media-store.js';
import metricsRoutes from '../routes/metrics.js';
import healthRoutes from '../routes/health.js';
import consoleRoutes from '../routes/console.js';
import commonRoutes from '../routes/common.js';
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
  }
}

export interface ServerOptions {
  config: Config;
  /** Override the clock (tests). */
  now?: () => number;
  logger?: FastifyServerOptions['logger'];
}

export function loggerOptions(config: Config): FastifyServerOptions['logger'] {
  if (config.logLevel === 'silent') return false;
  return {
    level: config.logLevel,
    // KS, kt and secrets travel in URLs and headers: never log them as they are
    serializers: {
      req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: redactUrl(req.url), id: req.id }),
    },
    redact: { paths: ['req.headers["x-kaltura-ks"]', 'req.headers.authorization', 'req.headers.cookie'], censor: '[redacted]' },
  };
}

export async function buildServer(opts: ServerOptions): Promise<FastifyInstance> {
  const { config } = opts;
  const app = Fastify({
    logger: opts.logger ?? loggerOptions(config),
    trustProxy: config.trustProxy,
    // "//" must reach the path parser as it is (it drops empty segments itself)
    routerOptions: { ignoreDuplicateSlashes: false, maxParamLength: 8192 },
    genReqId: () => Math.random().toString(36).slice(2, 10),
    requestTimeout: 60_000,
  });
  const geo = config.geoIpFile ? openCountryLookup(config.geoIpFile) : null;
  const catalog = await openCatalog(config);
  const handleCache = createHandleCache();
  const media = openMediaStore(config, handleCache);
  const env: Env = {
    catalog,
    config,
    clock: opts.now ?? (() => Math.floor(Date.now() / 1000)),
    countryOf: geo ? (ip) => geo.countryOf(ip) : () => null,
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
  app.addHook('onClose', async () => {
    await handleCache.close();
    await media.close();
    await catalog.close();
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
  return app;
}
