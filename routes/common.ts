// What every URL family shares: the CORS preflight, and clear answers for unknown paths and
// failures. The one error path of the delivery routes: they throw, and this handler answers a
// delivery error (or a media-core refusal, mapped by src/errors.ts) as render/error.ts renders
// it; anything else never leaks a stack trace. (api_v3 and the console answer in their own
// formats and catch their own errors.)
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { asDeliveryError, DeliveryError } from '../src/errors.js';
import { CatalogUnavailableError } from '../src/catalog/errors.js';
import { INTERNAL_ERROR_TEXT, sendError } from './http.js';

/** Route config of a media route whose refusals are logged at warn, prefixed by this name. */
export interface RefusalLogConfig {
  refusalLog?: string;
  /**
   * A route that reads its body as delivery parameters (playManifest's POST): a body over its
   * limit is refused in the delivery form, as on a refusalLog route, and logged as its other
   * refusals are (info).
   */
  deliveryBody?: boolean;
}

const PREFLIGHT_HEADERS = {
  'Access-Control-Allow-Origin': '*',
  'Access-Control-Allow-Headers': 'Origin, X-Requested-With, Content-Type, Accept, Range, Cache-Control, X-Kaltura-Ks',
  'Access-Control-Allow-Methods': 'POST, GET, HEAD, OPTIONS',
  'Access-Control-Expose-Headers': 'Server, Content-Length, Content-Range, Date, Cache-Control, Content-Encoding, X-Kaltura, X-Kaltura-App',
  'Access-Control-Max-Age': '86400',
};

async function commonRoutes(app: FastifyInstance) {
  app.options('*', async (_request, reply) => {
    reply.headers(PREFLIGHT_HEADERS).code(200).send('');
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404).header('Content-Type', 'text/plain; charset=UTF-8').header('Access-Control-Allow-Origin', '*')
      .send(`not found: ${request.method} ${request.url.split('?')[0].slice(0, 200)} is not a kdeliver URL\n`);
  });

  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof CatalogUnavailableError) {
      // the shared catalog database is down or too slow: a clear 503 a client or load balancer retries
      request.log.warn({ err: error.message }, 'catalog unavailable');
      return reply.code(503).header('Retry-After', '5').header('Content-Type', 'text/plain; charset=UTF-8')
        .header('Cache-Control', 'no-store').send('service unavailable: the catalog database does not answer; try again shortly\n');
    }
    // media routes name themselves in route config (`refusalLog`): their refusals are warnings
    const { refusalLog, deliveryBody } = (request.routeOptions.config ?? {}) as RefusalLogConfig;
    // a body over the route's limit (the licence's, playManifest's) is refused in the route's own form, with a code
    const refusal = asDeliveryError(error) ?? ((refusalLog || deliveryBody) && error.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
      ? new DeliveryError('BAD_QUERY', ', the request body is too large', { httpStatus: 413 }) : null);
    if (refusal) {
      if (refusalLog) request.log.warn({ code: refusal.code, status: refusal.httpStatus }, `${refusalLog}: ${refusal.message}`);
      else request.log.info({ code: refusal.code }, `refused: error ${refusal.code} ${refusal.errorName}`);
      return sendError(request, reply, refusal);
    }
    sendOtherError(request, reply, error);
  });
}

/** Any other failure, in plain text: a client's error (4xx) says what it is, anything else is a 500 that leaks nothing. */
function sendOtherError(request: FastifyRequest, reply: FastifyReply, error: FastifyError): void {
  const status = error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
  if (status === 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: error.code }, error.message);
  reply.code(status).header('Content-Type', 'text/plain; charset=UTF-8')
    .send(status === 500 ? INTERNAL_ERROR_TEXT : `${error.message}\n`);
}

/**
 * Errors Fastify raises before any route is found (src/server.ts passes this as its
 * `frameworkErrors`): a malformed %-escape in the path is a bad request in kdeliver's own form
 * (error 25, X-Kaltura), not Fastify's JSON; any other as the error handler answers it.
 */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  if (error.code === 'FST_ERR_BAD_URL') {
    request.log.info({ code: error.code }, 'refused: the URL has a malformed %-escape');
    sendError(request, reply, new DeliveryError('BAD_QUERY', ', the URL has a malformed %-escape'));
    return;
  }
  sendOtherError(request, reply, error);
}

// Hooks and handlers above apply to the whole server, not only this plugin's scope.
(commonRoutes as any)[Symbol.for('skip-override')] = true;
export default commonRoutes;
