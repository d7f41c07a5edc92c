// The legacy API v2: /index.php/partnerservices2/{action} (and /api/{action}), GET or POST (form
// or multipart), every answer HTTP 200 (src/api/v2/front.ts), gzipped when the client accepts
// gzip. Thin: the body is taken as bytes and src/api/v2 does the rest, on the same service
// registry as api_v3, so v2 and api_v3 share every rule and error. KSs and secrets travel in
// these URLs too: the access log gets the redacted URL.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { createRegistry } from '../src/api/dispatch.js';
import { redactApiUrl } from '../src/api/redact.js';
import { SERVICES } from '../src/api/services/index.js';
import { handleV2Request, isV2Action } from '../src/api/v2/front.js';
import { renderEnvelope, v2Format } from '../src/api/v2/render.js';
import { splitUrl } from '../src/request/path-params.js';
import { requestEnv, sendApiAnswer } from './http.js';

/** Uploads come through here (Canvas' media comments): the same limit as api_v3's. */
const BODY_LIMIT = 64 * 1024 * 1024;

export default async function partnerServices2Routes(app: FastifyInstance) {
  const registry = createRegistry(SERVICES);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

  // even a transport failure (an oversized upload) is answered the v2 way, with HTTP 200
  app.setErrorHandler(async (error: Error & { code?: string }, request, reply) => {
    request.log.info({ code: error.code }, `partnerservices2: ${error.message}`);
    const desc = error.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? `Internal server error the request body is over ${BODY_LIMIT} bytes` : 'Internal server error ';
    // in the format the query asks for (the PHP client's 3, JSON's 1): the body is not read
    const format = v2Format(new URLSearchParams(splitUrl(request.raw.url ?? '').query).get('format') ?? undefined);
    const out = renderEnvelope({ result: { serverTime: request.server.env.clock() }, error: [{ code: 'INTERNAL_SERVER_ERROR', desc }], debug: {} }, format);
    return sendApiAnswer(request, reply, { status: 200, headers: { 'content-type': out.contentType, 'access-control-allow-origin': '*' }, body: out.body });
  });

  const handler = async (request: FastifyRequest<{ Params: { action: string } }>, reply: FastifyReply) => {
    const { query } = splitUrl(request.raw.url ?? request.url);
    const res = await handleV2Request(registry, requestEnv(request), {
      action: request.params.action,
      query,
      contentType: request.headers['content-type'],
      body: Buffer.isBuffer(request.body) ? request.body : undefined,
    }, (e) => request.log.error({ err: e }, 'partnerservices2 action failed'));
    // gzipped as the old API wiki page says ("if client specified that gzip is supported"), as api_v3's
    return sendApiAnswer(request, reply, res);
  };
  const logSerializers = { req: (req: { method: string; url: string; id: string }) => ({ method: req.method, url: redactApiUrl(req.url), id: req.id }) };
  // with or without a trailing slash, as every other URL family kdeliver answers
  for (const url of ['/index.php/partnerservices2/:action', '/index.php/partnerservices2/:action/']) {
    app.route({ method: ['GET', 'POST', 'HEAD'], url, handler, logSerializers });
  }
  // The same API at /api/{method}: the form the old API wiki page gives ("…/api/methodname"), which
  // Kaltura's web server rewrote to partnerservices2 until 2015 (it now sends /api/ to api_v3). So
  // only the v2 actions kdeliver implements answer there, each in one path segment; any other name
  // is kdeliver's plain 404, not v2's "Invalid service" (/api/service/... is never v2).
  for (const url of ['/api/:action', '/api/:action/']) {
    app.route({
      method: ['GET', 'POST', 'HEAD'], url, logSerializers,
      handler: async (request: FastifyRequest<{ Params: { action: string } }>, reply: FastifyReply) =>
        isV2Action(request.params.action) ? handler(request, reply) : reply.callNotFound(),
    });
  }
}
