// playManifest: Kaltura's route forms → the one request model → resolvePlayback → renderPlayback.
// Answers that depend only on the URL and the catalog are kept (src/cache/manifest-cache.ts) and
// sent again without running the pipeline.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DeliveryError } from '../src/errors.js';
import { parsePlayRequest } from '../src/request/play-request.js';
import { resolvePlayback } from '../src/playback.js';
import { renderPlayback } from '../src/render/index.js';
import { answerHead, storableAnswer, type CachedAnswer } from '../src/cache/manifest-cache.js';
import { baseUrl, pathAfter, payloadOf, requestEnv, sendError, sendRendered } from './http.js';

const ID = /^-?[0-9]+$/;

export default async function playManifestRoutes(app: FastifyInstance) {
  const cache = app.manifestCache;

  // not async: a kept answer goes out without a promise per request; Fastify catches throws
  function handle(request: FastifyRequest, reply: FastifyReply): FastifyReply {
    const { pid, sp } = request.params as { pid?: string; sp?: string };
    if ((pid !== undefined && !ID.test(pid)) || (sp !== undefined && !ID.test(sp))) {
      return sendError(request, reply, new DeliveryError('BAD_QUERY', ', partner and sub-partner ids in the path must be numbers'));
    }
    const now = app.now();
    const base = baseUrl(request);
    const rawUrl = request.raw.url ?? request.url;
    const key = cache.keyOf(request.method, request.protocol === 'https', base, rawUrl, request.headers['x-kaltura-ks']);
    const generation = app.catalog.generation();
    if (key !== null) {
      const hit = cache.get(key, generation, rawUrl);
      if (hit) {
        request.log.info({ format: hit.format, code: 0, cached: true }, 'playManifest');
        return sendCached(request, reply, hit, now);
      }
    }
    try {
      const env = requestEnv(request, now);
      const req = parsePlayRequest(pathAfter(request, 'playManifest'), env.http);
      const pb = resolvePlayback(env, req);
      // partnerId and entryId are bound to the request logger (routes/metrics.ts)
      request.log.info({ format: pb.requestedFormat, code: 0 }, 'playManifest');
      const rendered = renderPlayback(pb, now);
      const body = payloadOf(rendered);
      const keep = key !== null ? storableAnswer(req, pb, rendered, body, now, generation) : null;
      if (keep) cache.put(key!, keep);
      return sendRendered(reply, rendered, body);
    } catch (e) {
      if (!(e instanceof DeliveryError)) throw e;
      request.log.info({ code: e.code }, `playManifest refused: error ${e.code} ${e.errorName}`);
      return sendError(request, reply, e);
    }
  }
  for (const prefix of ['/p/:pid/sp/:sp', '/p/:pid', '/s/p/:pid/sp/:sp', '/s/p/:pid', '/index.php/extwidget', '/extwidget']) {
    app.get(`${prefix}/playManifest`, handle);
    app.get(`${prefix}/playManifest/*`, handle);
  }
}

function sendCached(request: FastifyRequest, reply: FastifyReply, a: CachedAnswer, now: number): FastifyReply {
  // Headers and body were built and checked when the answer was first sent; they go straight
  // to Node, past Fastify's send pipeline (its onResponse hooks, and so the metrics, still run).
  reply.hijack();
  reply.raw.writeHead(a.status, answerHead(a, now));
  reply.raw.end(request.method === 'HEAD' ? undefined : a.body);
  return reply;
}
