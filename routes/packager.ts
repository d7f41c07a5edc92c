// The built-in VOD packager behind /hls, /dash and /mss (nginx-vod-module's URL grammar as Kaltura
// deploys it). Thin: parse the URL, call the packager stage, send text or a described media body
// with ranges. HEAD and Range never build more than they must.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { bodyStream } from '../src/media/body.js';
import { answerPackager, packagerDeps } from '../src/packaging/packager.js';
import { parsePackagerPath, type PackagerProtocol } from '../src/request/packager-url.js';
import { planRange } from '../src/serve/file.js';
import type { RefusalLogConfig } from './common.js';
import { DeliveryError } from '../src/errors.js';
import { pathAfter, requestEnv, sendEarly, sendPlanned, sendRaw } from './http.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { EarlyAnswer } from '../src/server.js';
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
      if (answer.byUrlGeneration !== undefined && request.raw.url) keepForUrl(request.raw.url, app.catalog, answer.byUrlGeneration, Buffer.from(text), head, performance.now());
      return sendRaw(request, reply, 200, head, Number(length), text);
    }
    const { body } = answer;
    const range = typeof request.headers.range === 'string' ? request.headers.range : undefined;
    const plan = planRange(body.length, range, { ...CORS, 'Content-Type': body.contentType, 'Cache-Control': IMMUTABLE });
    if (body.bytes) {
      // a kept answer (or an init segment): one buffer to the socket, no file opened, no stream
      return sendRaw(request, reply, plan.status, plan.headers, Number(plan.headers['Content-Length']), plan.range ? body.bytes.subarray(plan.range.start, plan.range.end + 1) : undefined);
    }
    return sendPlanned(request, reply, plan, (start, end) => bodyStream(answer.filePath, body, start, end, media, answer.index), media);
  }

  app.answerBeforeRouting(keptPlaylistBeforeRouting(app));

  for (const proto of ['hls', 'dash', 'mss'] as const) {
    // HEAD declared explicitly: Fastify's automatic HEAD route would reset Content-Length to 0
    app.route({ method: ['GET', 'HEAD'], url: `/${proto}/*`, handler: (request, reply) => handle(proto, request, reply), config: { refusalLog: 'packager' } satisfies RefusalLogConfig });
  }
  // playManifest's hdnetworkmanifest F4M (delivery profile 1002) names /hds/... manifests: a player
  // following one is told that HDS is not made here, with Kaltura's code, not that the URL is unknown
  app.route({
    method: ['GET', 'HEAD'], url: '/hds/*', config: { refusalLog: 'packager' } satisfies RefusalLogConfig,
    handler: async () => {
      throw new DeliveryError('FILE_NOT_FOUND', ', HDS (/hds) is not packaged by kdeliver: play format applehttp (HLS) or mpegdash (DASH)');
    },
  });
}

/**
 * A per-flavor playlist kept under its raw URL (src/packaging/kept-playlists.ts keepForUrl: clear,
 * entries without rules, this catalog generation, within a second of the route's own answer),
 * sent before Fastify routes the request, with the route's headers. Counted in /metrics and logged
 * as Fastify logs a routed request (incoming request, request completed).
 */
function keptPlaylistBeforeRouting(app: FastifyInstance): EarlyAnswer {
  return (req: IncomingMessage, res: ServerResponse): boolean => {
    const { url, method } = req;
    if (url === undefined || (method !== 'GET' && method !== 'HEAD') || !url.startsWith('/hls/') || !url.includes('.m3u8')) return false;
    const started = performance.now();
    const kept = keptForUrl(url, app.catalog, app.catalog.generation(), started);
    if (!kept) return false;
    return sendEarly(app, req, res, { family: routeFamily(url), started, status: 200, head: kept.head, body: kept.body, bytes: kept.body.length });
  };
}
