// caption_captionAsset: the caption assets of an entry, served as stored (serve) or as WebVTT
// (serveWebVTT, SRT converted by src/media/captions.ts). Serving needs no KS, as the player
// fetches these URLs directly, but an entry with access-control rules is checked like playback.
import { readFile } from 'node:fs/promises';
import { checkEntryAccess, rulesOf } from '../../access/entry-check.js';
import { mediaPath } from '../../serve/file.js';
import { AssetStatus, EntryStatus, type CaptionAsset } from '../../catalog/types.js';
import { DeliveryError } from '../../errors.js';
import { captionToWebVtt } from '../../media/captions.js';
import { ID_ARG, listArgs, pageOf } from '../args.js';
import { ApiError } from '../errors.js';
import { partnerAssets, partnerCaption, requestProtocol } from '../lookup.js';
import { captionAssetObject, listResponse } from '../objects.js';
import { playRequestFor } from '../playback-context.js';
import type { ApiContext, FileResult, ServiceModule } from '../types.js';

/** The caption a serve call names: of the KS's partner, or (without a KS) of any partner, subject to the entry's rules. */
function servedCaption(ctx: ApiContext, id: string): CaptionAsset {
  const c = ctx.ks ? partnerCaption(ctx, id) : ctx.catalog.getCaption(id);
  if (!c || c.status === AssetStatus.DELETED) throw new ApiError('CAPTION_ASSET_ID_NOT_FOUND', { ID: id });
  const entry = ctx.catalog.getEntry(c.entryId);
  if (!entry || entry.status === EntryStatus.DELETED) throw new ApiError('CAPTION_ASSET_ID_NOT_FOUND', { ID: id });
  const partner = ctx.catalog.getPartner(entry.partnerId);
  if (partner && rulesOf(ctx.catalog, entry).length > 0) {
    try {
      // the PLAY checks of playManifest (session, rules, moderation, schedule), without its delivery stages
      const req = playRequestFor(ctx, entry, `/format/url/protocol/${requestProtocol(ctx)}`, ctx.ks?.raw ?? null);
      checkEntryAccess(ctx, req, entry, partner, 'PLAY');
    } catch (e) {
      if (e instanceof DeliveryError) throw new ApiError('ACCESS_CONTROL_RESTRICTED', { ENTRY_ID: entry.id, REASON: e.message });
      throw e;
    }
  }
  return c;
}

const SERVE_TYPES: Record<CaptionAsset['format'], string> = {
  vtt: 'text/vtt; charset=utf-8',
  srt: 'text/plain; charset=utf-8',
  dfxp: 'application/ttml+xml; charset=utf-8',
};

async function readCaptionFile(ctx: ApiContext, c: CaptionAsset): Promise<string> {
  try {
    return await readFile(mediaPath(ctx.config.mediaRoot, c.filePath), 'utf8');
  } catch {
    throw new ApiError('CAPTION_ASSET_ID_NOT_FOUND', { ID: c.id });
  }
}

export const captionAssetService: ServiceModule = {
  name: 'caption_captionAsset',
  description: 'Caption assets of entries (caption plugin)',
  actions: {
    get: {
      params: { captionAssetId: ID_ARG },
      returns: 'KalturaCaptionAsset',
      throws: ['CAPTION_ASSET_ID_NOT_FOUND'],
      handler: (ctx, a) => captionAssetObject(partnerCaption(ctx, a.captionAssetId)),
    },
    list: {
      description: 'Lists caption assets (filters: entryIdEqual, entryIdIn, idEqual, idIn)',
      params: listArgs('KalturaAssetFilter'),
      returns: 'KalturaCaptionAssetListResponse',
      handler(ctx, a) {
        const all = partnerAssets(ctx, a.filter, (id) => ctx.catalog.listCaptions(id), (id) => ctx.catalog.getCaption(id));
        return listResponse('KalturaCaptionAssetListResponse', pageOf(all, a.pager).map(captionAssetObject), all.length);
      },
    },
    serve: {
      description: 'The caption file as stored',
      auth: 'optional',
      params: { captionAssetId: ID_ARG },
      returns: 'file',
      throws: ['CAPTION_ASSET_ID_NOT_FOUND', 'ACCESS_CONTROL_RESTRICTED'],
      async handler(ctx, a): Promise<FileResult> {
        const c = servedCaption(ctx, a.captionAssetId);
        return {
          kind: 'file', contentType: SERVE_TYPES[c.format], body: await readCaptionFile(ctx, c),
          headers: { 'content-disposition': `inline; filename="${c.id}.${c.format}"` },
        };
      },
    },
    serveWebVTT: {
      description: 'The caption as WebVTT (SRT and DFXP are converted); segment parameters are accepted and the whole file is one segment',
      auth: 'optional',
      params: {
        captionAssetId: ID_ARG,
        segmentDuration: { type: 'int', default: 30 },
        segmentIndex: { type: 'int', default: -1 },
        localTimestamp: { type: 'int', default: 10000 },
      },
      returns: 'file',
      throws: ['CAPTION_ASSET_ID_NOT_FOUND', 'ACCESS_CONTROL_RESTRICTED'],
      async handler(ctx, a): Promise<FileResult> {
        const c = servedCaption(ctx, a.captionAssetId);
        const text = await readCaptionFile(ctx, c);
        let body: string;
        try {
          body = c.format === 'vtt' ? text : captionToWebVtt(c.format, text);
        } catch {
          // TTML is checked at import: only a file changed on disk since then gets here
          throw new ApiError('CAPTION_ASSET_ID_NOT_FOUND', { ID: c.id });
        }
        return { kind: 'file', contentType: 'text/vtt; charset=utf-8', body };
      },
    },
  },
};
