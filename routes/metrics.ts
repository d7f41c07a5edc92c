// Observability for the whole app: a Prometheus /metrics endpoint, the hooks that feed it, and the
// request-log bindings that put partner, entry and error code on every playManifest log line (a
// POST's entry, which may be in its body, from the request model once the body is read).
// Registered before the other route plugins and not encapsulated (skip-override), because Fastify
// attaches hooks and the child-logger factory to routes when they are registered.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createHttpMetrics, kalturaErrorCode } from '../src/metrics/http-metrics.js';
import { loggableId, playManifestFacts, routeFamily } from '../src/metrics/request-facts.js';
import { readPlayRequest } from '../src/request/play-request.js';
import { httpFacts } from './http.js';
import { isWarmUpRequest } from './warm-up.js';
import type { IncomingMessage } from 'node:http';
import type { FastifyBaseLogger } from 'fastify';
import { thumbnailCacheStats } from '../src/thumbnail/disk-cache.js';
import { verifiedKsStats } from '../src/access/ks.js';
import { widgetSessionStats } from '../src/api/services/session.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: ReturnType<typeof createHttpMetrics>;
  }
}

/** For a playManifest POST's request: its logger made again with the entry its body names (below). */
const rebinders = new WeakMap<IncomingMessage, (entryId: string | null) => FastifyBaseLogger>();

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

  // with logging off there is nothing to silence or bind: Fastify's own factory is the fastest;
  // at warn or error, only the warm-up request's logger differs; at info, playManifest's bindings
  const enabled = (level: string): boolean => (app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.(level) ?? false;
  const logs = enabled('info');
  const anyLogs = enabled('fatal');
  if (anyLogs) {
    app.setChildLoggerFactory(function childLogger(logger, bindings, opts, rawReq) {
      // the server's own warm-up request (routes/warm-up.ts) says nothing
      if (isWarmUpRequest(rawReq)) return logger.child(bindings, { ...opts, level: 'silent' });
      const url = rawReq.url ?? '';
      if (!logs) return logger.child(bindings, opts);
      if (url.includes('/playManifest') && routeFamily(url) === 'playManifest') {
        const facts = playManifestFacts(url);
        // a POST's entry may be in its body, read after this: the logger is made again with it
        // then (pino's child bindings add keys, they do not replace them)
        if (rawReq.method === 'POST') rebinders.set(rawReq, (entryId) => logger.child({ ...bindings, ...facts, entryId }, opts));
        return logger.child({ ...bindings, ...facts }, opts);
      }
      return logger.child(bindings, opts);
    });
  }
  if (logs) {
    app.addHook('preHandler', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
      const rebind = rebinders.get(request.raw);
      if (rebind && Buffer.isBuffer(request.body) && request.body.length > 0) {
        // the entry the request model resolves (path over query over body, the aliases); a body
        // it cannot read is refused by the route, logged with the URL's entry
        let entryId: string | null | undefined;
        try {
          entryId = loggableId(readPlayRequest(httpFacts(request)).entryId);
        } catch {
          entryId = undefined;
        }
        if (entryId !== undefined && entryId !== playManifestFacts(request.raw.url ?? '').entryId) request.log = reply.log = rebind(entryId);
      }
      done();
    });
  }

  app.addHook('onResponse', (request: FastifyRequest, reply: FastifyReply, done: () => void) => {
    // the server's own warm-up request (routes/warm-up.ts) is no one's
    if (isWarmUpRequest(request.raw)) return done();
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
