// playManifest: Kaltura's route forms → the one request model → resolvePlayback → renderPlayback.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DeliveryError } from '../src/errors.js';
import { parsePlayRequest } from '../src/request/play-request.js';
import { resolvePlayback } from '../src/playback.js';
import { renderPlayback } from '../src/render/index.js';
import { baseUrl, httpFacts, pathAfter, sendError, sendRendered } from './http.js';

const ID = /^-?[0-9]+$/;

export default async function playManifestRoutes(app: FastifyInstance) {
  async function handle(request: FastifyRequest, reply: FastifyReply) {
    const { pid, sp } = request.params as { pid?: string; sp?: string };
    if ((pid !== undefined && !ID.test(pid)) || (sp !== undefined && !ID.test(sp))) {
      return sendError(request, reply, new DeliveryError('BAD_QUERY', ', partner and sub-partner ids in the path must be numbers'));
    }
    const now = app.now();
    try {
      const req = parsePlayRequest(pathAfter(request, 'playManifest'), httpFacts(request));
      const pb = resolvePlayback({ catalog: app.catalog, config: app.config, now, baseUrl: baseUrl(request), countryOf: app.countryOf }, req);
      // partnerId and entryId are bound to the request logger (routes/metrics.ts)
      request.log.info({ format: pb.requestedFormat, code: 0 }, 'playManifest');
      return sendRendered(reply, renderPlayback(pb, now));
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
