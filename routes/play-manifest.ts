// playManifest: Kaltura's route forms → one call (src/playback.ts answerPlayManifest: parse →
// resolve → render) through the answer cache (src/cache/manifest-cache.ts withAnswerCache), which
// sends an answer that depends only on the URL and the catalog again without running it, or
// building the request's environment.
// Refusals are thrown and answered by routes/common.ts's error handler.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DeliveryError } from '../src/errors.js';
import { answerPlayManifest } from '../src/playback.js';
import { answerHead, withAnswerCache } from '../src/cache/manifest-cache.js';
import type { CachedAnswer } from '../src/env.js';
import { baseUrl, payloadOf, requestEnv, sendRendered } from './http.js';

const ID = /^-?[0-9]+$/;

export default async function playManifestRoutes(app: FastifyInstance) {
  const answer = withAnswerCache(app.manifestCache, () => app.catalog.generation(), answerPlayManifest, payloadOf);

  // not async: a kept answer goes out without a promise per request; Fastify catches throws and
  // rejections of the promise a fresh answer returns
  function handle(request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
    const { pid, sp } = request.params as { pid?: string; sp?: string };
    if ((pid !== undefined && !ID.test(pid)) || (sp !== undefined && !ID.test(sp))) {
      throw new DeliveryError('BAD_QUERY', ', partner and sub-partner ids in the path must be numbers');
    }
    const now = request.server.env.clock();
    const facts = { method: request.method, isHttps: request.protocol === 'https', baseUrl: baseUrl(request), rawUrl: request.raw.url ?? request.url, ks: request.headers['x-kaltura-ks'], now };
    const a = answer(facts, () => requestEnv(request, now));
    // partnerId and entryId are bound to the request logger (routes/metrics.ts)
    if ('kept' in a) {
      request.log.info({ format: a.kept.format, code: 0, cached: true }, 'playManifest');
      return sendKept(request, reply, a.kept, now);
    }
    return a.then((f) => {
      request.log.info({ format: f.fresh.playback.requestedFormat, code: 0 }, 'playManifest');
      return sendRendered(reply, f.fresh.rendered, f.body);
    });
  }
  for (const prefix of ['/p/:pid/sp/:sp', '/p/:pid', '/s/p/:pid/sp/:sp', '/s/p/:pid', '/index.php/extwidget', '/extwidget']) {
    app.get(`${prefix}/playManifest`, handle);
    app.get(`${prefix}/playManifest/*`, handle);
  }
}

function sendKept(request: FastifyRequest, reply: FastifyReply, a: CachedAnswer, now: number): FastifyReply {
  // Headers and body were built and checked when the answer was first sent; they go straight
  // to Node, past Fastify's send pipeline (its onResponse hooks, and so the metrics, still run).
  reply.hijack();
  reply.raw.writeHead(a.status, answerHead(a, now));
  reply.raw.end(request.method === 'HEAD' ? undefined : a.body);
  return reply;
}
