// Observability for the whole app: a Prometheus /metrics endpoint, the hooks that feed it, and the
// request-log bindings that put partner, entry and error code on every playManifest log line.
// Registered before the other route plugins and not encapsulated (skip-override), because Fastify
// attaches hooks and the child-logger factory to routes when they are registered.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHttpMetrics, kalturaErrorCode } from '../src/metrics/http-metrics.js';
import { playManifestFacts, routeFamily } from '../src/metrics/request-facts.js';
import { thumbnailCacheStats } from '../src/thumbnail/disk-cache.js';
import { verifiedKsStats } from '../src/access/ks.js';
import { widgetSessionStats } from '../src/api/services/session.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ReturnType<typeof createHttpMetrics>;
  }
}

async function metricsPlugin(app: FastifyInstance): Promise<void> {
  // the packager's media-index cache: one per configuration, shared with the packager routes
  const metrics = createHttpMetrics({
    indexCache: () => app.indexCache.stats(),
    manifestCache: () => app.manifestCache.stats(),
    mediaCache: () => app.media.cacheStats(),
    apiCache: () => app.apiCache.stats(),
    catalogCache: () => app.catalog.readCacheStats?.() ?? null,
    thumbnailCache: () => thumbnailCacheStats(app.config.dataDir),
    memos: {
      widgetSessions: () => widgetSessionStats(app.catalog),
      verifiedKs: verifiedKsStats,
      revocations: () => app.catalog.revocationMemoStats?.() ?? null,
    },
  });
  app.decorate('metrics', metrics);

  // with logging off there is no line to bind them to: Fastify's own factory is the fastest
  const logs = (app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') ?? false;
  if (logs) {
    app.setChildLoggerFactory(function childLogger(logger, bindings, opts, rawReq) {
      const url = rawReq.url ?? '';
      if (url.includes('/playManifest') && routeFamily(url) === 'playManifest') {
        const { partnerId, entryId } = playManifestFacts(url);
        return logger.child({ ...bindings, partnerId, entryId }, opts);
      }
      return logger.child(bindings, opts);
    });
  }

  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    const family = routeFamily(request.url);
    const status = reply.statusCode;
    // error codes ride only on refusals; answers may carry other X-Kaltura lines
    const errorCode = status >= 400 ? kalturaErrorCode(reply.getHeader('x-kaltura')) : null;
    const length = Number(reply.getHeader('content-length'));
    metrics.observe({
      family,
      method: request.method,
      status,
      seconds: reply.elapsedTime / 1000,
      bytes: request.method !== 'HEAD' && Number.isFinite(length) ? length : 0,
      errorCode,
    });
    // Fastify's "request completed" line follows this hook and logs through reply.log.
    if (family === 'playManifest' && (reply.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info')) reply.log = reply.log.child({ code: errorCode ?? 0 });
    done();
  });

  app.get('/metrics', { logLevel: 'warn' }, async (_req, reply) => {
    reply.header('content-type', 'text/plain; version=0.0.4; charset=utf-8').header('cache-control', 'no-store');
    return metrics.registry.render();
  });
}

// Not encapsulated: the hooks, decorator and logger factory apply to the whole app.
(metricsPlugin as unknown as Record<symbol, boolean>)[Symbol.for('skip-override')] = true;
export default metricsPlugin;
