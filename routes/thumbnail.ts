// Thumbnails: /p/{pid}/sp/{sp}/thumbnail/entry_id/{id}[/width/…][/height/…][/type/…][/vid_sec/…][/vid_slices/…]
// (api-v3-and-player.md §3.7). The THUMBNAIL access-control context applies; the picture comes
// from src/thumbnail (default thumbnail, frame grabs, sprites, a disk cache).
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { EntryStatus } from '../src/catalog/types.js';
import { DeliveryError } from '../src/errors.js';
import { mergeParams, readPairs, splitPath } from '../src/request/path-params.js';
import { readSession, rulesOf } from '../src/access/entry-check.js';
import { accessBlockedError, evaluateAccessRules } from '../src/access/evaluate.js';
import { parseThumbnailParams } from '../src/thumbnail/params.js';
import { getThumbnail } from '../src/thumbnail/service.js';
import { pathAfter, sendError } from './http.js';

const first = (v: string | string[] | undefined) => (Array.isArray(v) ? v[0] : v) ?? '';

export default async function thumbnailRoutes(app: FastifyInstance) {
  async function handle(request: FastifyRequest<{ Params: { pid: string } }>, reply: FastifyReply) {
    try {
      const params = mergeParams(readPairs(splitPath(pathAfter(request, 'thumbnail'))), request.query as Record<string, unknown>);
      const req = parseThumbnailParams(request.params.pid, params);
      const entry = app.catalog.getEntry(req.entryId);
      if (!entry || entry.status === EntryStatus.DELETED || entry.partnerId !== req.partnerId) throw new DeliveryError('ENTRY_NOT_FOUND');
      const partner = app.catalog.getPartner(entry.partnerId);
      if (!partner) throw new DeliveryError('PARTNER_NOT_FOUND');

      const now = app.now();
      const rules = rulesOf(app.catalog, entry);
      const ksString = req.ks ?? (first(request.headers['x-kaltura-ks']) || null);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(request.headers)) headers[k.toLowerCase()] = first(v as string | string[] | undefined);
      const facts = {
        ks: ksString, clientIp: request.ip, referrer: /[\r\n]/.test(headers.referer ?? '') ? '' : headers.referer ?? '',
        userAgent: headers['user-agent'] ?? '', headers, hashes: {}, rawUri: request.raw.url ?? request.url,
      };
      const ks = readSession({ catalog: app.catalog, now }, facts, entry, partner, rules.length > 0);
      if (rules.length > 0) {
        const decision = evaluateAccessRules(rules, {
          contexts: ['THUMBNAIL'], ks, ksString, clientIp: facts.clientIp, referrer: facts.referrer, userAgent: facts.userAgent,
          headers, hashes: {}, entryId: entry.id, entry, now,
        });
        if (decision.blocked) throw accessBlockedError(decision);
      }

      const thumb = await getThumbnail({ catalog: app.catalog, dataDir: app.config.dataDir, mediaRoot: app.config.mediaRoot }, entry, req);
      reply.header('Access-Control-Allow-Origin', '*');
      reply.header('Cache-Control', rules.length > 0 ? 'private, max-age=3600' : 'public, max-age=86400');
      reply.header('ETag', thumb.etag);
      reply.header('X-Kdeliver-Thumbnail', thumb.source);
      if (first(request.headers['if-none-match']) === thumb.etag) return reply.code(304).send();
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
