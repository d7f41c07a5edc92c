// The built-in VOD packager behind /hls, /dash and /mss (nginx-vod-module's URL grammar as Kaltura
// deploys it). Thin: parse the URL, call the packager stage, send text or a described media body
// with ranges. HEAD and Range never build more than they must.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bodyStream } from '../src/media/body.js';
import { answerPackager, packagerDeps } from '../src/packaging/packager.js';
import { parsePackagerPath, type PackagerProtocol } from '../src/request/packager-url.js';
import { planRange } from '../src/serve/file.js';
import type { RefusalLogConfig } from './common.js';
import { pathAfter, requestEnv, sendPlanned } from './http.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { EarlyAnswer } from '../src/server.js';
import { requestId } from '../src/log.js';
import { routeFamily } from '../src/metrics/request-facts.js';
import { keepForUrl, keptForUrl } from '../src/packaging/kept-playlists.js';

const CORS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Expose-Headers': 'Server,Content-Length,Content-Range,Date',
};
const IMMUTABLE = 'public, max-age=31536000, immutable';
const MANIFEST_CACHE = 'public, max-age=60';

export default async function packagerRoutes(app: FastifyInstance) {
  const media = app.media;

  async function handle(proto: PackagerProtocol, request: FastifyRequest, reply: FastifyReply) {
    const req = parsePackagerPath(proto, pathAfter(request, proto));
    const env = requestEnv(request);
    const answer = await answerPackager(req, packagerDeps(env));
    if (answer.kind === 'key') {
      // the content key: to this session only, kept by no cache
      reply.code(200).headers({ ...CORS, 'Content-Type': 'application/octet-stream', 'Cache-Control': 'no-store, private' });
      return reply.send(answer.body);
    }
    if (answer.kind === 'text') {
      const text = answer.body;
      const length = String(typeof text === 'string' ? Buffer.byteLength(text) : text.length);
      const head = { ...CORS, 'Content-Type': answer.contentType, 'Cache-Control': MANIFEST_CACHE, 'Content-Length': length };
      if (answer.byUrlGeneration !== undefined && request.raw.url) keepForUrl(request.raw.url, answer.byUrlGeneration, Buffer.from(text), head, performance.now());
      return sendDirect(reply, 200, head, request.method === 'HEAD' ? undefined : text);
    }
    const { body } = answer;
    const range = typeof request.headers.range === 'string' ? request.headers.range : undefined;
    const plan = planRange(body.length, range, { ...CORS, 'Content-Type': body.contentType, 'Cache-Control': IMMUTABLE });
    if (body.bytes) {
      // a kept answer (or an init segment): one buffer to the socket, no file opened, no stream
      return sendDirect(reply, plan.status, plan.headers, request.method === 'HEAD' || !plan.range ? undefined : body.bytes.subarray(plan.range.start, plan.range.end + 1));
    }
    return sendPlanned(request, reply, plan, (start, end) => bodyStream(answer.filePath, body, start, end, media), media);
  }

  /**
   * An answer whose headers and whole body are in hand goes straight to Node, past Fastify's send
   * pipeline (about a tenth of a kept playlist's CPU); its onResponse hooks, and so the metrics,
   * still run. Content-Length is always among the headers.
   */
  function sendDirect(reply: FastifyReply, status: number, headers: Record<string, string>, body: string | Buffer | undefined): FastifyReply {
    reply.hijack();
    // the metrics hook reads the answer's length from Fastify's headers (Node keeps writeHead's own)
    reply.header('content-length', headers['Content-Length']);
    reply.raw.writeHead(status, headers);
    reply.raw.end(body);
    return reply;
  }

  app.answerBeforeRouting(keptPlaylistBeforeRouting(app));

  for (const proto of ['hls', 'dash', 'mss'] as const) {
    // HEAD declared explicitly: Fastify's automatic HEAD route would reset Content-Length to 0
    app.route({ method: ['GET', 'HEAD'], url: `/${proto}/*`, handler: (request, reply) => handle(proto, request, reply), config: { refusalLog: 'packager' } satisfies RefusalLogConfig });
  }
}

/**
 * A per-flavor playlist kept under its raw URL (src/packaging/kept-playlists.ts keepForUrl: clear,
 * entries without rules, this catalog generation, within a second of the route's own answer),
 * sent before Fastify routes the request, with the route's headers. Counted in /metrics and logged
 * as Fastify logs a routed request (incoming request, request completed).
 */
function keptPlaylistBeforeRouting(app: FastifyInstance): EarlyAnswer {
  const logs = (app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info') ?? false;
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const { url, method } = req;
    if (url === undefined || (method !== 'GET' && method !== 'HEAD') || !url.startsWith('/hls/') || !url.includes('.m3u8')) return false;
    const started = performance.now();
    const kept = keptForUrl(url, app.catalog.generation(), started);
    if (!kept) return false;
    res.writeHead(200, kept.head);
    res.end(method === 'HEAD' ? undefined : kept.body);
    const elapsed = performance.now() - started;
    app.metrics.observe({ family: routeFamily(url), method, status: 200, seconds: elapsed / 1000, bytes: method === 'HEAD' ? 0 : kept.body.length, errorCode: null });
    if (logs) {
      const id = requestId();
      const log = app.log.child({ reqId: id });
      log.info({ req: { method, url, id } }, 'incoming request');
      log.info({ res: { statusCode: 200 }, responseTime: elapsed }, 'request completed');
    }
    return true;
  };
}
