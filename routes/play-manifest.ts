// playManifest: Kaltura's route forms → one call (src/playback.ts answerPlayManifest: parse →
// resolve → render) through the answer cache (src/cache/manifest-cache.ts withAnswerCache), which
// sends an answer that depends only on the URL and the catalog again without running it, or
// building the request's environment. A kept answer even goes out before Fastify routes the
// request (keptAnswerBeforeRouting, below).
// POST takes the same URL forms, its body's parameters under the URL's (src/request/body.ts,
// read into the request model by src/request/play-request.ts); its answer is never kept, nor
// answered from a kept one (the body can change it: src/cache/manifest-cache.ts keyOf).
// Refusals are thrown and answered by routes/common.ts's error handler.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TLSSocket } from 'node:tls';
import { performance } from 'node:perf_hooks';
import { playManifestFacts } from '../src/metrics/request-facts.js';
import type { EarlyAnswer } from '../src/server.js';
import { DeliveryError } from '../src/errors.js';
import { answerPlayManifest, keptSessionFacet } from '../src/playback.js';
import { answerHead, withAnswerCache, type AnswerCache, type Fresh, type Kept } from '../src/cache/manifest-cache.js';
import type { CachedAnswer } from '../src/env.js';
import { actionUrls, baseUrl, baseUrlOf, payloadOf, requestEnv, sendEarly, sendRaw, sendRendered, takeBodiesAsBytes } from './http.js';
import type { RefusalLogConfig } from './common.js';

const ID = /^-?[0-9]+$/;
/**
 * A POST body's bound: parameters only (a KS is a few kB); a longer playManifest URL than this
 * would be refused too (src/request/path-params.ts MAX_PATH_LENGTH).
 */
const BODY_LIMIT = 64 * 1024;

export default async function playManifestRoutes(app: FastifyInstance) {
  const answers = withAnswerCache(app.manifestCache, () => app.catalog.generation(), answerPlayManifest, payloadOf, {
    secret: app.config.mediaUrlSecret,
    facetOf: (ks, clientIp, rawUri, now, kept) => keptSessionFacet({ catalog: app.catalog, now }, { ks, clientIp, rawUri }, kept),
  });

  // not async: a kept answer goes out without a promise per request; Fastify catches throws and
  // rejections of the promise a fresh answer returns
  function handle(request: FastifyRequest, reply: FastifyReply): FastifyReply | Promise<FastifyReply> {
    const { pid, sp } = request.params as { pid?: string; sp?: string };
    if ((pid !== undefined && !ID.test(pid)) || (sp !== undefined && !ID.test(sp))) {
      throw new DeliveryError('BAD_QUERY', ', partner and sub-partner ids in the path must be numbers');
    }
    const now = request.server.env.clock();
    const facts = { method: request.method, isHttps: request.protocol === 'https', baseUrl: baseUrl(request), rawUrl: request.raw.url ?? request.url, ks: request.headers['x-kaltura-ks'], now, clientIp: request.ip };
    const a = answers.cachedAnswer(facts, () => requestEnv(request, now));
    // partnerId and entryId are bound to the request logger (routes/metrics.ts)
    const send = (f: Kept | Fresh): FastifyReply => {
      if (f.kept) {
        request.log.info({ format: f.kept.format, code: 0, cached: true }, 'playManifest');
        // built and checked when first sent
        return sendRaw(request, reply, f.kept.status, answerHead(f.kept, now), f.kept.bytes, f.kept.body);
      }
      request.log.info({ format: f.fresh.playback.requestedFormat, code: 0 }, 'playManifest');
      return sendRendered(reply, f.fresh.rendered, f.body);
    };
    return a instanceof Promise ? a.then(send) : send(a);
  }
  takeBodiesAsBytes(app, BODY_LIMIT);
  const config: RefusalLogConfig = { deliveryBody: true };
  for (const prefix of ['/p/:pid/sp/:sp', '/p/:pid', '/s/p/:pid/sp/:sp', '/s/p/:pid', '/index.php/extwidget', '/extwidget']) {
    for (const url of actionUrls(prefix, 'playManifest')) {
      app.get(url, handle);
      app.post(url, { config }, handle);
    }
  }
  app.answerBeforeRouting(keptAnswerBeforeRouting(app, answers));
}

/**
 * A kept answer, sent before Fastify routes the request: its key is the one the route computes
 * (same method, scheme, base URL, raw URL and X-Kaltura-Ks header; the scheme and host read as
 * Fastify reads request.protocol and request.host, below), and only a request the route answered
 * can have put an answer under it, so routing it again would decide nothing new. A KS-bearing
 * answer is given once its KS is verified against the client's address as Fastify reads
 * request.ip without a trusted proxy (the socket's peer); behind one, the route gives it. It is
 * counted in /metrics and logged as the route does it (the three lines of a kept answer:
 * incoming request, playManifest, request completed); the latency counted ends when the answer
 * is handed to the socket.
 */
function keptAnswerBeforeRouting(app: FastifyInstance, answers: AnswerCache): EarlyAnswer {
  const trustProxy = app.config.trustProxy > 0;
  return (req: IncomingMessage, res: ServerResponse): boolean | Promise<boolean> => {
    const { url, method } = req;
    if (url === undefined || (method !== 'GET' && method !== 'HEAD') || !url.includes('/playManifest')) return false;
    const started = performance.now();
    const { protocol, host } = schemeAndHost(req, trustProxy);
    const now = app.env.clock();
    const kept = answers.keptOnly({
      method, isHttps: protocol === 'https', baseUrl: baseUrlOf(app.config.publicUrl, protocol, host), rawUrl: url, ks: req.headers['x-kaltura-ks'], now,
      clientIp: trustProxy ? null : req.socket.remoteAddress ?? null,
    });
    const send = (a: CachedAnswer | null): boolean => a !== null && sendEarly(app, req, res, {
      family: 'playManifest', started, status: a.status, head: answerHead(a, now), body: a.body, bytes: a.bytes,
      log: () => ({ bindings: { ...playManifestFacts(url) }, line: [{ format: a.format, code: 0, cached: true }, 'playManifest'] }),
    });
    return kept instanceof Promise ? kept.then(send) : send(kept);
  };
}

/**
 * request.protocol and request.host as Fastify makes them (lib/request.js of the fastify package),
 * for kdeliver's two settings: without a trusted proxy, the socket's scheme and the Host header;
 * behind a trusted proxy (KDELIVER_TRUST_PROXY), the last X-Forwarded-Proto and X-Forwarded-Host
 * entries where they are present: the ones the proxy nearest kdeliver set.
 */
function schemeAndHost(req: IncomingMessage, trustProxy: boolean): { protocol: string; host: string } {
  const own = (req.socket as TLSSocket).encrypted === true ? 'https' : 'http';
  const host = req.headers.host ?? '';
  if (!trustProxy) return { protocol: own, host };
  const proto = req.headers['x-forwarded-proto'];
  const fwdHost = req.headers['x-forwarded-host'];
  return {
    protocol: typeof proto === 'string' && proto !== '' ? lastEntry(proto) : own,
    host: typeof fwdHost === 'string' && fwdHost !== '' ? lastEntry(fwdHost) : host,
  };
}

function lastEntry(value: string): string {
  const comma = value.lastIndexOf(',');
  return (comma < 0 ? value : value.slice(comma + 1)).trim();
}
