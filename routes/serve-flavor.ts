// serveFlavor: a flavor's file, progressive, with byte ranges, as Kaltura's serveFlavor action
// serves it (src/delivery/urls.ts builds these URLs). The packager's /hls, /dash, /mss forms of
// the same path are routes/packager.ts. Refusals are thrown to routes/common.ts's handler.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { DeliveryError, withAcp } from '../src/errors.js';
import type { Entry, FlavorAsset } from '../src/catalog/types.js';
import type { RequestEnv } from '../src/env.js';
import { routeParams, serveFlavorUnderPrefix } from '../src/request/path-params.js';
import { checkFileVersion, liveEntry, readyFlavor } from '../src/access/entry-check.js';
import { attachmentDisposition, clipEtag, conditionalHeaders, contentTypeOf, mediaFile, planFile } from '../src/serve/file.js';
import { parseClipEnd, parseMs, parseSeek } from '../src/request/packager-url.js';
import { openClippedMp4 } from '../src/media/progressive.js';
import { actionUrls, pathPartner, requestEnv, sendFile, sendPlanned } from './http.js';
import { mediaAccess } from '../src/serve/media-access.js';
import { checkClearMedia } from '../src/drm/session.js';

/** format/download's fileName: an attachment under that name. */
function setDisposition(headers: Record<string, string>, fileName: string | undefined) {
  if (!fileName) return;
  headers['Content-Disposition'] = attachmentDisposition(fileName);
  headers['Content-Description'] = 'File Transfer';
}

/** The access-control evaluation the answer came after (src/serve/media-access.ts mediaAccess). */
function setAcp(headers: Record<string, string>, acp: string | null) {
  if (acp !== null) headers['X-Kaltura-ACP'] = acp;
}

export default async function serveFlavorRoutes(app: FastifyInstance) {
  const cache = app.indexCache;
  const media = app.media;
  async function handle(request: FastifyRequest, reply: FastifyReply, partnerId = pathPartner(request)) {
    const env = requestEnv(request);
    const params = routeParams(env.http, 'serveFlavor');
    const entryId = params.get('entryId');
    const flavorId = params.get('flavorId');
    const entry = await liveEntry(app.catalog, entryId, partnerId);
    const flavor = readyFlavor(flavorId ? await app.catalog.getFlavor(flavorId) : undefined, entry);
    const { refusal, acp } = await mediaAccess(env, entry, flavor);
    if (refusal) throw withAcp(refusal, acp);
    try {
      return await serve(request, reply, env, params, entry, flavor, acp);
    } catch (e) {
      // refused after the SERVE rules ran: with their X-Kaltura-ACP, as the answer would have been
      throw withAcp(e, acp);
    }
  }

  async function serve(request: FastifyRequest, reply: FastifyReply, env: RequestEnv, params: Map<string, string>, entry: Entry, flavor: FlavorAsset, acp: string | null) {
    // an encrypted entry's file is its clear media: an admin's only (its URL carries the KS, src/delivery)
    await checkClearMedia(env, entry, params.get('ks'));
    // /v/{n}: only the current version's file is served (error 5 otherwise)
    checkFileVersion(flavor, params.get('v'));

    const { name: file, size } = await mediaFile(media, flavor.filePath);
    const conditional = conditionalHeaders(request.headers);
    // clipTo / clipFrom (from playManifest seekFrom/clipTo or a preview): a real, smaller MP4 written on the fly
    const clipTo = parseClipEnd('clipTo', params.get('clipTo'));
    const clipFrom = (params.has('clipFrom') ? parseMs('clipFrom', params.get('clipFrom')) : parseSeek('seekFrom', params.get('seekFrom'))) ?? 0;
    if (clipTo !== undefined || clipFrom > 0) {
      if (clipTo !== undefined && clipTo <= clipFrom) throw new DeliveryError('BAD_QUERY', `, clipTo ${clipTo} is not after clipFrom ${clipFrom}`);
      const mp4 = await openClippedMp4(file, clipFrom, clipTo, cache, media);
      const plan = planFile(mp4.size, clipEtag(flavor, clipFrom, clipTo, mp4.size), mp4.contentType, conditional);
      setDisposition(plan.headers, params.get('fileName'));
      setAcp(plan.headers, acp);
      return sendPlanned(request, reply, plan, (start, end) => mp4.read(start, end), media);
    }
    const plan = planFile(size, `"${flavor.id}-${flavor.version}-${size}"`, contentTypeOf(file), conditional);
    setDisposition(plan.headers, params.get('fileName'));
    setAcp(plan.headers, acp);
    return sendFile(request, reply, media, file, plan);
  }
  for (const prefix of ['/p/:pid/sp/:sp', '/p/:pid', '/index.php/extwidget', '/extwidget']) {
    // HEAD is routed here too (not to Fastify's automatic HEAD), so it keeps the file's Content-Length;
    // the bare action (…/serveFlavor?entryId=…) reads its parameters from the query
    for (const url of actionUrls(prefix, 'serveFlavor')) app.route({ method: ['GET', 'HEAD'], url, handler: (request, reply) => handle(request, reply) });
  }
  // Any other path holding /serveFlavor/ is serveFlavor too, as Kaltura's web server routes it
  // (src/request/path-params.ts serveFlavorUnderPrefix): `/s/p/{pid}/sp/{sp}/serveFlavor/…`, a
  // folder a CDN or proxy puts in front, nothing at all. Fastify tries this wildcard only when no
  // other route matches, so every route above, the packager's /hls, /dash, /mss and every other
  // family keep their URLs. The same checks run: the media signature covers the path from its
  // start (src/serve/media-access.ts), so a prefix put in front of a signed URL breaks it.
  app.route({
    method: ['GET', 'HEAD'], url: '/*',
    handler: (request, reply) => {
      const under = serveFlavorUnderPrefix(request.raw.url ?? request.url);
      if (under) return handle(request, reply, under.partnerId);
      reply.callNotFound();
      return reply;
    },
  });
}
