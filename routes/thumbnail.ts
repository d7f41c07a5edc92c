// Thumbnails: /p/{pid}/sp/{sp}/thumbnail/entry_id/{id}[/width/…][/height/…][/type/…][/vid_sec/…][/vid_slices/…]
// (api-v3-and-player.md §3.7). The THUMBNAIL access-control context applies; the picture comes
// from src/thumbnail (default thumbnail, frame grabs, sprites, a disk cache).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EntryStatus } from '../src/catalog/types.js';
import { DeliveryError } from '../src/errors.js';
import { mergeParams, readPairs, splitPath } from '../src/request/path-params.js';
import { checkEntryAccess, rulesOf } from '../src/access/entry-check.js';
import { parseThumbnailParams } from '../src/thumbnail/params.js';
import { getThumbnail } from '../src/thumbnail/service.js';
import { headerValue } from '../src/request/http-facts.js';
import { accessFacts, pathAfter, requestEnv, sendError } from './http.js';

export default async function thumbnailRoutes(app: FastifyInstance) {
  async function handle(request: FastifyRequest<{ Params: { pid: string } }>, reply: FastifyReply) {
    try {
      const params = mergeParams(readPairs(splitPath(pathAfter(request, 'thumbnail'))), request.query as Record<string, unknown>);
      const req = parseThumbnailParams(request.params.pid, params);
      const entry = app.catalog.getEntry(req.entryId);
      if (!entry || entry.status === EntryStatus.DELETED || entry.partnerId !== req.partnerId) throw new DeliveryError('ENTRY_NOT_FOUND');
      const partner = app.catalog.getPartner(entry.partnerId);
      if (!partner) throw new DeliveryError('PARTNER_NOT_FOUND');

      const env = requestEnv(request);
      checkEntryAccess(env, accessFacts(env.http, { ks: req.ks ?? null }), entry, partner, 'THUMBNAIL', { playValidation: false });
      const protectedEntry = rulesOf(app.catalog, entry).length > 0;

      const thumb = await getThumbnail({ catalog: app.catalog, dataDir: app.config.dataDir, mediaRoot: app.config.mediaRoot }, entry, req);
      reply.header('Access-Control-Allow-Origin', '*');
      reply.header('Cache-Control', protectedEntry ? 'private, max-age=3600' : 'public, max-age=86400');
      reply.header('ETag', thumb.etag);
      reply.header('X-Kdeliver-Thumbnail', thumb.source);
      if (headerValue(request.headers, 'if-none-match') === thumb.etag) return reply.code(304).send();
      reply.header('Content-Type', 'image/jpeg');
      reply.header('Content-Length', String(thumb.data.length));
      return reply.code(200).send(thumb.data);
    } catch (e) {
      if (e instanceof DeliveryError) return sendError(request, reply, e);
      throw e;
    }
  }
  for (const prefix of ['/p/:pid/sp/:sp', '/p/:pid']) app.get(`${prefix}/thumbnail/*`, handle);
}
