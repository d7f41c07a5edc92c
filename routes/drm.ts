// The ClearKey licence endpoint of encrypted entries (W3C EME "Clear Key" JSON licences):
//   POST /p/{pid}/sp/{sp}/clearKeyLicense/entryId/{eid}[/ks/{ks}]/license
// The packager writes this URL, with the session's KS, into the MPDs and fMP4 playlists of an
// encrypted entry. The KS may come in the path, the `ks` query value or X-Kaltura-Ks. A licence
// goes only to a KS of the entry's partner that may play it, and only for the entry's key id
// (src/drm). The HLS AES-128 key is served by the packager route (encryption.key).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { routeParams } from '../src/request/path-params.js';
import { licenceDecision } from '../src/drm/licence.js';
import { DeliveryError } from '../src/errors.js';
import { renderError } from '../src/render/error.js';
import type { RefusalLogConfig } from './common.js';
import { requestEnv, sendRendered } from './http.js';

const BODY_LIMIT = 16 * 1024;

export default async function drmRoutes(app: FastifyInstance) {
  // a CDM's licence request comes as JSON under whatever content type its player sets
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));

  async function licence(request: FastifyRequest, reply: FastifyReply) {
    const env = requestEnv(request);
    const params = routeParams(env.http, 'clearKeyLicense');
    const { pid } = request.params as { pid: string };
    const header = request.headers['x-kaltura-ks'];
    const { entry, licence: answer } = await licenceDecision(env, {
      partnerId: Number(pid), entryId: params.get('entryId'), ks: (typeof header === 'string' && header) || params.get('ks'), body: request.body ?? null,
    });
    request.log.info({ entryId: entry.id }, 'ClearKey licence given');
    reply.code(200).headers({
      'Content-Type': 'application/json',
      'Cache-Control': 'no-store, private',
      'Access-Control-Allow-Origin': '*',
    });
    return reply.send(JSON.stringify(answer));
  }

  // the licence URL opened with GET (a browser, curl without -X POST) is kdeliver's, asked the wrong way
  function wrongMethod(request: FastifyRequest, reply: FastifyReply) {
    const refusal = new DeliveryError('BAD_QUERY', ', a ClearKey licence is asked with POST and a JSON body {"kids":["<base64url key id>"],"type":"temporary"}', { httpStatus: 405 });
    request.log.info({ code: refusal.code }, `licence: ${request.method} instead of POST`);
    const r = renderError(refusal, request.method, request.server.env.clock());
    return sendRendered(reply, { ...r, headers: { ...r.headers, Allow: 'POST, OPTIONS' } });
  }

  for (const prefix of ['/p/:pid/sp/:sp', '/p/:pid']) {
    app.route({ method: 'POST', url: `${prefix}/clearKeyLicense/*`, handler: licence, config: { refusalLog: 'licence' } satisfies RefusalLogConfig });
    app.route({ method: 'GET', url: `${prefix}/clearKeyLicense/*`, handler: wrongMethod });
  }
}
