// api_v3: every URL form of Kaltura's front controller (/api_v3/service/{s}/action/{a},
// /api_v3/index.php/service/..., /api_v3/index.php?service=..., /api_v3/service/multirequest)
// and /api_v3/api_schema.php. Thin: the body is taken as bytes and everything else happens in
// src/api. Answers are HTTP 200 even for errors (the clients need that). Every answer, errors and
// the schema included, is gzipped when Accept-Encoding allows gzip and never otherwise, with
// `Vary: Accept-Encoding` either way, so a cache keeps the two apart.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import { handleApiRequest, refusedBeforeBody } from '../src/api/front-controller.js';
import { createRegistry } from '../src/api/dispatch.js';
import { ApiError } from '../src/api/errors.js';
import { redactApiUrl } from '../src/api/redact.js';
import { apiSchemaXml } from '../src/api/schema.js';
import { SERVICES } from '../src/api/services/index.js';
import { acceptsGzip } from '../src/request/accept-encoding.js';
import { baseUrl, drainRefusedBody, requestEnv, sendApiAnswer as send, sendRaw, takeBodiesAsBytes } from './http.js';
import { factValue, newFactReads, type KeptApiAnswer } from '../src/api/answer-cache.js';
import { countryOnce } from '../src/request/http-facts.js';
import { splitUrl } from '../src/request/path-params.js';

/** Uploads come through here too (multipart), so the body limit is larger than Fastify's default. */
const BODY_LIMIT = 64 * 1024 * 1024;
/** Of a body over the limit, the bytes read for the fields sent before the file (the `json` field with `format`). */
const BODY_HEAD_KEPT = 64 * 1024;
const gzipAsync = promisify(gzip);

/** The path after /api_v3 and the raw query, as the front controller reads them. */
function apiUrlParts(raw: string): { path: string; query: string } {
  const { path, query } = splitUrl(raw);
  return { path: path.replace(/^\/api_v3/, ''), query };
}

export default async function apiV3Routes(app: FastifyInstance) {
  const registry = createRegistry(SERVICES);
  const generatedDate = app.now();
  // the schema never changes while the server runs: built and compressed once, on first request
  let schema: Buffer | null = null;
  let schemaGzipped: Promise<Buffer> | null = null;
  const gzippedSchema = () => {
    schemaGzipped ??= gzipAsync(schema!).catch((e: unknown) => {
      schemaGzipped = null;
      throw e;
    });
    return schemaGzipped;
  };

  // the front controller reads JSON, form and multipart bodies itself
  takeBodiesAsBytes(app, BODY_LIMIT);

  // within api_v3 even a transport failure (an oversized body, say) is an API error with HTTP 200
  app.setErrorHandler(async (error: Error & { code?: string }, request, reply) => {
    request.log.info({ code: error.code }, `api_v3: ${error.message}`);
    const refusal = new ApiError('INTERNAL_SERVERL_ERROR');
    let bodyHead: Buffer | undefined;
    // an upload of a whole big file in one request: said, with the way that works
    if (error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      refusal.message = `${refusal.message}: the request body is over ${BODY_LIMIT / 1048576} MB; upload a larger file in chunks (uploadToken.upload with resume and resumeAt)`;
      bodyHead = await drainRefusedBody(request, BODY_HEAD_KEPT);
    }
    const out = refusedBeforeBody({ ...apiUrlParts(request.raw.url ?? request.url), contentType: request.headers['content-type'], bodyHead }, refusal);
    return send(request, reply, { status: 200, headers: { 'content-type': out.contentType, 'access-control-allow-origin': '*' }, body: out.body });
  });

  app.get('/api_v3/api_schema.php', async (request, reply) => {
    schema ??= Buffer.from(apiSchemaXml(SERVICES, generatedDate), 'utf8');
    return send(request, reply, { status: 200, headers: { 'content-type': 'text/xml; charset=utf-8', 'access-control-allow-origin': '*' }, body: schema }, gzippedSchema);
  });

  const cache = app.apiCache;
  const handler = async (request: FastifyRequest, reply: FastifyReply) => {
    const { path, query } = apiUrlParts(request.raw.url ?? request.url);
    const body = Buffer.isBuffer(request.body) ? request.body : undefined;
    const contentType = request.headers['content-type'];
    // a read-only request: its answer may be kept, and may already be (src/api/answer-cache.ts)
    const { key, parsed } = cache.keyOf({ method: request.method, isHttps: request.protocol === 'https', baseUrl: baseUrl(request), path, query, contentType, body });
    // the generation before the catalog is read: an answer made while it changes is never kept
    const generation = app.catalog.generation();
    let facts: Parameters<typeof factValue>[0] | undefined;
    const fact = (name: string) => factValue(facts ??= { clientIp: request.ip, headers: request.headers, country: countryOnce(request.ip, app.env.countryOf) }, name);
    if (key !== null) {
      const kept = cache.get(key, generation, Date.now(), fact);
      if (kept) return sendKept(request, reply, kept);
    }
    const reads = key !== null ? newFactReads() : undefined;
    const env = requestEnv(request);
    const res = await handleApiRequest(registry, reads ? { ...env, reads } : env, { path, query, contentType, body, parsed },
      { onUnexpected: (e) => request.log.error({ err: e }, 'api_v3 action failed') });
    const kept = key !== null && reads
      ? cache.put(key, generation, Date.now(), env.now, reads, fact, { status: res.status, headers: res.headers, body: typeof res.body === 'string' ? Buffer.from(res.body, 'utf8') : res.body })
      : null;
    // the first answer is the kept one's bytes: the same body, gzipped once
    return kept ? send(request, reply, { ...res, body: kept.body }, async () => cache.gzipped(kept)) : send(request, reply, res);
  };

  /**
   * A kept answer: its headers and bytes as first sent, and Kaltura's X-Kaltura mark of a cache
   * hit. The headers were made when it was kept (routes/http.ts sendRaw).
   */
  function sendKept(request: FastifyRequest, reply: FastifyReply, kept: KeptApiAnswer): FastifyReply {
    const gzip = gzipWanted(request.headers['accept-encoding']);
    const body = gzip ? cache.gzipped(kept) : kept.body;
    kept.head ??= keptHead(kept, false);
    if (gzip) kept.gzipHead ??= keptHead(kept, true);
    return sendRaw(request, reply, kept.status, gzip ? kept.gzipHead! : kept.head, body.length, body);
  }
  const keptHead = (kept: KeptApiAnswer, gzip: boolean): string[] => {
    const head: string[] = [];
    for (const [k, v] of Object.entries(kept.headers)) head.push(k, v);
    head.push('vary', 'Accept-Encoding', 'x-kaltura', kept.tag);
    if (gzip) head.push('content-encoding', 'gzip');
    head.push('content-length', String(gzip ? kept.gzipped!.length : kept.body.length));
    return head;
  };
  // clients send a few Accept-Encoding texts, again and again
  const gzipByHeader = new Map<string, boolean>();
  const gzipWanted = (h: string | string[] | undefined): boolean => {
    if (typeof h !== 'string') return acceptsGzip(h);
    let yes = gzipByHeader.get(h);
    if (yes === undefined) {
      yes = acceptsGzip(h);
      if (gzipByHeader.size >= 100) gzipByHeader.clear();
      gzipByHeader.set(h, yes);
    }
    return yes;
  };
  // secrets also travel as api_v3 path pairs and flattened keys: the access log gets a redacted URL
  const logSerializers = { req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: redactApiUrl(req.url), id: req.id }) };
  app.route({ method: ['GET', 'POST', 'HEAD'], url: '/api_v3', handler, logSerializers });
  app.route({ method: ['GET', 'POST', 'HEAD'], url: '/api_v3/*', handler, logSerializers });
}
