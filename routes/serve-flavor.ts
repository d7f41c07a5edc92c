// serveFlavor: a flavor's file, progressive, with ranges (playmanifest.md §9.1). The packager's
// /hls, /dash, /mss forms of the same path are routes/packager.ts.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EntryStatus } from '../src/catalog/types.js';
import { asDeliveryError, DeliveryError } from '../src/errors.js';
import { mergeParams, readPairs, splitPath } from '../src/request/path-params.js';
import { conditionalHeaders, contentTypeOf, mediaFile, planFile } from '../src/serve/file.js';
import { loadEntry, readyFlavor } from '../src/packaging/packager.js';
import { parseMs } from '../src/request/packager-url.js';
import { openClippedMp4 } from '../src/media/progressive.js';
import { mediaAccessCheck, pathAfter, requestEnv, sendError, sendFile, sendPlanned } from './http.js';

/** format/download's fileName: an attachment under that name. */
function setDisposition(headers: Record<string, string>, fileName: string | undefined) {
  if (!fileName) return;
  headers['Content-Disposition'] = `attachment; filename="${fileName.replace(/["\\\r\n]/g, '_')}"`;
  headers['Content-Description'] = 'File Transfer';
}

export default async function serveFlavorRoutes(app: FastifyInstance) {
  const cache = app.indexCache;
  const handles = app.handleCache;
  async function handle(request: FastifyRequest, reply: FastifyReply) {
    try {
      const params = mergeParams(readPairs(splitPath(pathAfter(request, 'serveFlavor'))), request.query as Record<string, unknown>);
      const entryId = params.get('entryId');
      const flavorId = params.get('flavorId');
      // under /p/{pid} the entry must be that partner's (as on the packager and flvclipper);
      // the /extwidget forms name no partner
      const { pid } = request.params as { pid?: string };
      const entry = pid !== undefined ? loadEntry(app.catalog, entryId, Number(pid)) : entryId ? app.catalog.getEntry(entryId) : undefined;
      if (!entry || entry.status === EntryStatus.DELETED) throw new DeliveryError('ENTRY_NOT_FOUND');
      const flavor = readyFlavor(flavorId ? app.catalog.getFlavor(flavorId) : undefined, entry);
      const denied = mediaAccessCheck(requestEnv(request))(entry, flavor);
      if (denied) throw denied;

      const { path: file, size } = mediaFile(app.config.mediaRoot, flavor.filePath);
      const conditional = conditionalHeaders(request.headers);
      // clipTo / clipFrom (from playManifest seekFrom/clipTo or a preview): a real, smaller MP4 written on the fly
      const clipTo = parseMs('clipTo', params.get('clipTo'));
      const clipFrom = parseMs('clipFrom', params.get('clipFrom') ?? params.get('seekFrom')) ?? 0;
      if (clipTo !== undefined || clipFrom > 0) {
        if (clipTo !== undefined && clipTo <= clipFrom) throw new DeliveryError('BAD_QUERY', `, clipTo ${clipTo} is not after clipFrom ${clipFrom}`);
        const mp4 = await openClippedMp4(file, clipFrom, clipTo, cache, handles);
        const plan = planFile(mp4.size, `"${flavor.id}-${flavor.version}-${clipFrom}-${clipTo ?? ''}-${mp4.size}"`, mp4.contentType, conditional);
        setDisposition(plan.headers, params.get('fileName'));
        return sendPlanned(request, reply, plan, (start, end) => mp4.read(start, end));
      }
      const plan = planFile(size, `"${flavor.id}-${flavor.version}-${size}"`, contentTypeOf(file), conditional);
      setDisposition(plan.headers, params.get('fileName'));
      return sendFile(request, reply, file, plan);
    } catch (e) {
      const err = asDeliveryError(e);
      if (!err) throw e;
      return sendError(request, reply, err);
    }
  }
  for (const prefix of ['/p/:pid/sp/:sp', '/p/:pid', '/index.php/extwidget', '/extwidget']) {
    // HEAD is routed here too (not to Fastify's automatic HEAD), so it keeps the file's Content-Length
    app.route({ method: ['GET', 'HEAD'], url: `${prefix}/serveFlavor/*`, handler: handle });
  }
}
