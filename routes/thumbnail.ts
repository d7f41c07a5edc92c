// Thumbnails: /p/{pid}/sp/{sp}/thumbnail/entry_id/{id}[/width/…][/height/…][/type/…][/vid_sec/…][/vid_slices/…]
// (Kaltura's thumbnail action, which the player's poster and seek preview use), and the entry's storyboard:
// /p/{pid}/sp/{sp}/storyboard/entry_id/{id}[/version/{v}][/ks/{ks}]/{storyboard.vtt | images.m3u8 | sheet-{n}.jpg}.
// The THUMBNAIL access-control context applies to both; the pictures come from src/thumbnail
// (default thumbnail, frame grabs, sprites, storyboard sheets, a disk cache). Refusals are thrown
// to routes/common.ts's handler.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Entry } from '../src/catalog/types.js';
import type { RequestEnv } from '../src/env.js';
import { DeliveryError, withAcp } from '../src/errors.js';
import { routeParams } from '../src/request/path-params.js';
import { checkEntryAccess, liveEntry, partnerOf, rulesOf } from '../src/access/entry-check.js';
import { parseThumbnailParams, versionParam } from '../src/thumbnail/params.js';
import { getStoryboardSheet, getThumbnail, type Thumbnail } from '../src/thumbnail/service.js';
import { holdThumbnailCache } from '../src/thumbnail/disk-cache.js';
import { entryStoryboard } from '../src/thumbnail/source.js';
import { imagePlaylist, storyboardVtt } from '../src/thumbnail/storyboard.js';
import { headerValue } from '../src/request/http-facts.js';
import { etagMatches } from '../src/serve/file.js';
import { accessFacts, actionUrls, requestEnv } from './http.js';
import { isSafeId } from '../src/catalog/ids.js';

/**
 * The partner's live entry (any partner's when the URL names none), if the THUMBNAIL rules let
 * this request see its pictures; `reply` gets their X-Kaltura-ACP (src/access/evaluate.ts
 * acpHeader), as Kaltura's thumbnail action sends it.
 */
export async function allowedPictureEntry(env: RequestEnv, reply: FastifyReply, partnerId: number | undefined, entryId: string, ks: string | null): Promise<Entry> {
  // a deleted entry: error 9, as Kaltura's thumbnail action answers (it alone finds deleted entries)
  const entry = await liveEntry(env.catalog, entryId, partnerId, 'ENTRY_DELETED_MODERATED');
  const partner = await partnerOf(env.catalog, entry);
  const { acp } = await checkEntryAccess(env, accessFacts(env.http, { ks }), entry, partner, 'THUMBNAIL', { playValidation: false });
  if (acp !== null) reply.header('X-Kaltura-ACP', acp);
  return entry;
}

/** A refusal after allowedPictureEntry: with the X-Kaltura-ACP it set, as the answer would have been. */
function refusedAfterRules(reply: FastifyReply) {
  return (e: unknown): never => {
    const acp = reply.getHeader('X-Kaltura-ACP');
    throw withAcp(e, typeof acp === 'string' ? acp : null);
  };
}

/** A picture of the entry as JPEG: kept privately for an entry with rules, 304 for its ETag. */
export async function sendPicture(request: FastifyRequest, reply: FastifyReply, entry: Entry, thumb: Thumbnail) {
  const protectedEntry = (await rulesOf(request.server.catalog, entry)).length > 0;
  reply.header('Access-Control-Allow-Origin', '*');
  reply.header('Cache-Control', protectedEntry ? 'private, max-age=3600' : 'public, max-age=86400');
  reply.header('ETag', thumb.etag);
  reply.header('X-Kdeliver-Thumbnail', thumb.source);
  const ifNoneMatch = headerValue(request.headers, 'if-none-match');
  if (ifNoneMatch !== undefined && etagMatches(ifNoneMatch, thumb.etag)) return reply.code(304).send();
  reply.header('Content-Type', 'image/jpeg');
  reply.header('Content-Length', String(thumb.data.length));
  return reply.code(200).send(thumb.data);
}

export default async function thumbnailRoutes(app: FastifyInstance) {
  // the disk cache's folder is scanned from start, in the background, so its bound holds over what
  // an earlier run left (src/thumbnail/disk-cache.ts); /metrics reads it
  const hold = holdThumbnailCache(app.config.dataDir, app.config.thumbnailCacheBytes);
  app.addHook('onClose', async () => hold.release());

  async function handle(request: FastifyRequest<{ Params: { pid?: string } }>, reply: FastifyReply) {
    const env = requestEnv(request);
    const params = routeParams(env.http, 'thumbnail');
    const req = parseThumbnailParams(request.params.pid, params);
    const entry = await allowedPictureEntry(env, reply, req.partnerId, req.entryId, req.ks ?? null);
    return sendPicture(request, reply, entry, await getThumbnail(env, entry, req).catch(refusedAfterRules(reply)));
  }

  async function storyboard(request: FastifyRequest<{ Params: { pid: string } }>, reply: FastifyReply) {
    const env = requestEnv(request);
    const { params, file } = routeParams(env.http, 'storyboard', true);
    if (!/^\d{1,10}$/.test(request.params.pid)) throw new DeliveryError('BAD_QUERY', ', partner id must be a number');
    // the file name first: a URL that leaves it off ends in the entry id, which would read as a
    // missing entry_id
    const sheet = /^sheet-(\d{1,6})\.jpg$/.exec(file);
    if (!sheet && file !== 'storyboard.vtt' && file !== 'images.m3u8') throw new DeliveryError('FILE_NOT_FOUND', `, no storyboard file ${JSON.stringify(file.slice(0, 60))} (storyboard.vtt, images.m3u8, sheet-{n}.jpg)`);
    const entryId = params.get('entry_id') ?? params.get('entryId');
    if (!entryId) throw new DeliveryError('MISSING_PARAMETER', ', entry_id');
    if (!isSafeId(entryId)) throw new DeliveryError('BAD_QUERY', ', entry_id is not an entry id');
    // read only to be checked: /version/abc is the 400 it is on /thumbnail (the storyboard's URLs
    // carry the entry's version to bust caches; the pictures come from the current entry)
    versionParam(params);
    const entry = await allowedPictureEntry(env, reply, Number(request.params.pid), entryId, params.get('ks') || null);
    const sb = await entryStoryboard(app.catalog, entry);
    if (!sb) throw new DeliveryError('FILE_NOT_FOUND', ', the entry has no video to make a storyboard of');
    if (sheet) {
      const n = Number(sheet[1]);
      if (n < 1 || n > sb.layout.sheets) throw new DeliveryError('FILE_NOT_FOUND', `, sheet ${n} is out of range (1-${sb.layout.sheets})`);
      return sendPicture(request, reply, entry, await getStoryboardSheet(env, entry, sb.layout, sb.video, n));
    }
    const protectedEntry = (await rulesOf(app.catalog, entry)).length > 0;
    reply.headers({
      'Access-Control-Allow-Origin': '*',
      'Cache-Control': protectedEntry ? 'private, max-age=60' : 'public, max-age=60',
      'Content-Type': file === 'images.m3u8' ? 'application/vnd.apple.mpegurl' : 'text/vtt; charset=utf-8',
    });
    return reply.code(200).send(file === 'images.m3u8' ? imagePlaylist(sb.layout) : storyboardVtt(sb.layout));
  }

  // the bare action (…/thumbnail?entry_id=…) reads its parameters from the query
  for (const prefix of ['/p/:pid/sp/:sp', '/p/:pid']) {
    for (const url of actionUrls(prefix, 'thumbnail')) app.get(url, handle);
    app.get(`${prefix}/storyboard/*`, storyboard);
  }
  // the thumbnail action's own path, as raw, download and serveFlavor answer theirs: it names no
  // partner, so any partner's entry, as Kaltura's thumbnail action finds it
  for (const prefix of ['/index.php/extwidget', '/extwidget']) for (const url of actionUrls(prefix, 'thumbnail')) app.get(url, handle);
}
