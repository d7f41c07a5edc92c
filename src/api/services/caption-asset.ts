// caption_captionAsset: the caption assets of an entry, served as stored (serve) or as WebVTT
// (serveWebVTT, SRT converted by src/media/captions.ts). Serving needs no KS, as the player
// fetches these URLs directly, but an entry with access-control rules is checked like playback.
// Adding and changing them (add, setContent, update, setAsDefault, delete) takes a session that
// may edit the entry; content is kept only when it reads as SRT, WebVTT or TTML/DFXP.
import { checkEntryAccess, needsSignature, rulesOf } from '../../access/entry-check.js';
import { AssetStatus, EntryStatus, MediaType, type CaptionAsset, type Entry } from '../../catalog/types.js';
import { DeliveryError } from '../../errors.js';
import { CaptionContentError, captionFormatOf, captionSegmentToWebVtt, captionText, captionToWebVtt, readCaptions, webVttPlaylist } from '../../media/captions.js';
import { languageCode, languageName } from '../../catalog/languages.js';
import { ID_ARG, listArgs, objInt, objString, pageOf } from '../args.js';
import { CONTENT_RESOURCES, readContentResource } from '../content.js';
import { ApiError, defineApiErrors } from '../errors.js';
import { partnerAssets, partnerCaption, partnerEntry, requestProtocol } from '../lookup.js';
import { captionAssetObject, listResponse } from '../objects.js';
import type { Params } from '../params.js';
import { requireEntryEditor } from '../permissions.js';
import { playRequestFor } from '../playback-context.js';
import type { ApiContext, FileResult, ServiceModule } from '../types.js';
import { readMediaFile, removeEntryFile, writeMediaFile } from './thumb-asset.js';
import { isMissingObject } from '../../storage/media-store.js';

defineApiErrors({
  CAPTION_ASSET_PARSING_FAILED: 'Failed to parse caption asset "%ASSET_ID%": %REASON%',
  CAPTION_ASSET_UNSUPPORTED_FORMAT: 'Unsupported caption asset format "%FORMAT%"',
  CAPTION_ASSET_IS_NOT_READY: 'Caption asset "%ASSET_ID%" is not ready',
  CAPTION_ASSET_DOWNLOAD_FAILED: 'Caption asset download from URL "%URL%" failed',
});

/** Largest caption file taken (a feature film's subtitles are a few hundred kB). */
const MAX_CAPTION_BYTES = 10 * 1024 * 1024;

/** Kaltura's KalturaCaptionType → the stored format; CAP (4) and the others are not taken. */
const FORMAT_OF: Record<string, CaptionAsset['format']> = { 1: 'srt', 2: 'dfxp', 3: 'vtt' };

/**
 * Checks that caption bytes are SRT, WebVTT or TTML/DFXP that the packager can serve
 * (src/media/captions.ts's readCaptions, which the library import uses too); returns the text and
 * the format it is, refusing anything else with CAPTION_ASSET_PARSING_FAILED.
 */
export function readCaptionContent(id: string, data: Buffer): { text: string; format: CaptionAsset['format'] } {
  try {
    return readCaptions(data);
  } catch (e) {
    if (e instanceof CaptionContentError) throw new ApiError('CAPTION_ASSET_PARSING_FAILED', { ASSET_ID: id, REASON: e.message });
    throw e;
  }
}

/** The entry a caption is written for: of the partner, a video or audio entry, editable by the session. */
async function captionEntry(ctx: ApiContext, entryId: string): Promise<Entry> {
  const e = await partnerEntry(ctx, entryId);
  if (e.mediaType !== MediaType.VIDEO && e.mediaType !== MediaType.AUDIO) throw new ApiError('ENTRY_ID_NOT_FOUND', { ENTRY_ID: entryId });
  requireEntryEditor(ctx, e);
  return e;
}

/** The language fields of a KalturaCaptionAsset input (language is a name, "English"; languageCode follows it). */
function languageFields(input: Params | null, current: Pick<CaptionAsset, 'language' | 'languageCode'>): Pick<CaptionAsset, 'language' | 'languageCode'> {
  const language = objString(input, 'language');
  if (language === undefined) return current;
  const code = languageCode(language);
  return { language: code === 'und' ? language.slice(0, 64) : languageName(code), languageCode: code === 'und' ? '' : code };
}

const WRITABLE_CAPTION = new Set(['language', 'label', 'isDefault', 'format', 'displayOnPlayer', 'tags', 'captionParamsId', 'fileExt', 'accuracy', 'description']);

/** Refuses a property the caption input cannot set. */
function checkCaptionInput(input: Params | null, insert: boolean): void {
  for (const [k, v] of Object.entries(input ?? {})) {
    if (k === 'objectType' || v === null || WRITABLE_CAPTION.has(k)) continue;
    if (['id', 'entryId', 'partnerId', 'version', 'size', 'sizeInBytes', 'createdAt', 'updatedAt', 'status', 'languageCode'].includes(k)) {
      throw new ApiError('PROPERTY_VALIDATION_NOT_UPDATABLE', { PROP_NAME: k });
    }
    throw new ApiError('PROPERTY_IS_NOT_DEFINED', { PROP: k.slice(0, 64), TYPE: 'KalturaCaptionAsset' });
  }
  if (!insert && input && input.format !== undefined && input.format !== null) throw new ApiError('PROPERTY_VALIDATION_NOT_UPDATABLE', { PROP_NAME: 'format' });
}

function declaredFormat(input: Params | null): CaptionAsset['format'] | undefined {
  const f = objString(input, 'format');
  if (f === undefined || f === '') return undefined;
  const format = FORMAT_OF[f];
  if (!format) throw new ApiError('CAPTION_ASSET_UNSUPPORTED_FORMAT', { FORMAT: f.slice(0, 32) });
  return format;
}

const isDefaultOf = (input: Params | null): boolean | undefined => {
  const v = objInt(input, 'isDefault', 'KalturaNullableBoolean');
  return v === undefined || v === -1 ? undefined : v === 1;
};

/** Stores new caption content: a new file for each version, then the catalog, then the old file goes. */
async function storeCaptionContent(ctx: ApiContext, entry: Entry, c: CaptionAsset, data: Buffer): Promise<CaptionAsset> {
  const { text, format } = readCaptionContent(c.id, data);
  const version = c.status === AssetStatus.QUEUED && !c.filePath ? c.version : c.version + 1;
  const rel = `${entry.partnerId}/${entry.id}/caption-${c.id}-v${version}.${format}`;
  await writeMediaFile(ctx, rel, text);
  const next: CaptionAsset = { ...c, format, filePath: rel, size: Buffer.byteLength(text), status: AssetStatus.READY, version, updatedAt: ctx.now };
  try {
    await ctx.catalog.updateCaption(next);
  } catch (e) {
    await removeEntryFile(ctx, entry, rel);
    throw e;
  }
  if (c.filePath && c.filePath !== rel) await removeEntryFile(ctx, entry, c.filePath);
  return (await ctx.catalog.getCaption(c.id))!;
}

const downloadFailed = (url: string) => new ApiError('CAPTION_ASSET_DOWNLOAD_FAILED', { URL: url });

/** serveWebVTT's segmentIndex: 0 (or none) for the playlist, -1 for the whole file, else a segment number. */
function segmentIndexOf(v: string): number {
  if (v.trim() === '') return 0;
  const m = /^\s*(-?\d{1,9})(?:\.vtt)?\s*$/.exec(v);
  if (!m || Number(m[1]) < -1) throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: v.slice(0, 64), PARAM_NAME: 'segmentIndex', ENUM_TYPE: 'int' });
  return Number(m[1]);
}

/** The caption a serve call names: of the KS's partner, or (without a KS) of any partner, subject to the entry's rules. */
async function servedCaption(ctx: ApiContext, id: string): Promise<CaptionAsset> {
  const c = ctx.ks ? await partnerCaption(ctx, id) : await ctx.catalog.getCaption(id);
  if (!c || c.status === AssetStatus.DELETED) throw new ApiError('CAPTION_ASSET_ID_NOT_FOUND', { ID: id });
  const entry = await ctx.catalog.getEntry(c.entryId);
  if (!entry || entry.status === EntryStatus.DELETED) throw new ApiError('CAPTION_ASSET_ID_NOT_FOUND', { ID: id });
  const partner = await ctx.catalog.getPartner(entry.partnerId);
  // an entry with rules, in moderation or with a schedule: its captions are its media's
  if (partner && needsSignature(await rulesOf(ctx.catalog, entry), entry)) {
    try {
      // the PLAY checks of playManifest (session, rules, moderation, schedule), without its delivery stages
      const req = playRequestFor(ctx, entry, `/format/url/protocol/${requestProtocol(ctx)}`, ctx.ks?.raw ?? null);
      await checkEntryAccess(ctx, req, entry, partner, 'PLAY');
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
  let bytes: Buffer;
  try {
    bytes = await readMediaFile(ctx, c.filePath);
  } catch (e) {
    // a file that is not there: the asset has no content to give; a store that failed is said
    // as such (src/api/dispatch.ts), not as a missing asset a client would stop asking for
    if (isMissingObject(e)) throw new ApiError('CAPTION_ASSET_ID_NOT_FOUND', { ID: c.id });
    throw e;
  }
  return captionText(bytes);
}

export const captionAssetService: ServiceModule = {
  name: 'caption_captionAsset',
  description: 'Caption assets of entries (caption plugin)',
  actions: {
    add: {
      description: 'Adds a caption asset to a video or audio entry, without content (status QUEUED) until setContent; language is a name ("English"), format 1 SRT, 2 DFXP/TTML, 3 WebVTT',
      // writes no file itself, but makes an asset only a media write can complete (as thumbAsset.add)
      writesMedia: true,
      params: { entryId: ID_ARG, captionAsset: { type: 'object', kalturaType: 'KalturaCaptionAsset', required: true } },
      returns: 'KalturaCaptionAsset',
      throws: ['ENTRY_ID_NOT_FOUND', 'CAPTION_ASSET_UNSUPPORTED_FORMAT'],
      async handler(ctx, a) {
        const entry = await captionEntry(ctx, a.entryId);
        checkCaptionInput(a.captionAsset, true);
        const id = await ctx.catalog.newAssetId();
        const lang = languageFields(a.captionAsset, { language: 'English', languageCode: 'en' });
        const label = objString(a.captionAsset, 'label');
        const display = objInt(a.captionAsset, 'displayOnPlayer', 'bool');
        const c: CaptionAsset = {
          // no label given: none is stored, so the caption is shown under its language even after that changes
          id, entryId: entry.id, partnerId: entry.partnerId, ...lang, label: (label ?? '').slice(0, 256),
          format: declaredFormat(a.captionAsset) ?? 'vtt', filePath: '', size: 0, isDefault: isDefaultOf(a.captionAsset) ?? false,
          status: AssetStatus.QUEUED, version: 1, displayOnPlayer: display === undefined ? true : display !== 0,
          createdAt: ctx.now, updatedAt: ctx.now,
        };
        await ctx.catalog.addCaption(c);
        return captionAssetObject((await ctx.catalog.getCaption(id))!);
      },
    },
    setContent: {
      description: `Sets a caption's content (${CONTENT_RESOURCES.join(', ')}): SRT, WebVTT or TTML/DFXP, checked before it is kept; anything else is refused with CAPTION_ASSET_PARSING_FAILED`,
      writesMedia: true,
      params: { id: ID_ARG, contentResource: { type: 'object', kalturaType: 'KalturaContentResource', required: true } },
      returns: 'KalturaCaptionAsset',
      throws: ['CAPTION_ASSET_ID_NOT_FOUND', 'RESOURCE_TYPE_NOT_SUPPORTED', 'UPLOAD_TOKEN_NOT_FOUND', 'CAPTION_ASSET_DOWNLOAD_FAILED', 'CAPTION_ASSET_PARSING_FAILED'],
      async handler(ctx, a) {
        const c = await partnerCaption(ctx, a.id);
        const entry = await captionEntry(ctx, c.entryId);
        const data = await readContentResource(ctx, a.contentResource, c.id, MAX_CAPTION_BYTES, downloadFailed);
        readCaptionContent(c.id, data);
        const current = await ctx.catalog.getCaption(c.id);
        if (!current) throw new ApiError('CAPTION_ASSET_ID_NOT_FOUND', { ID: a.id });
        return captionAssetObject(await storeCaptionContent(ctx, entry, current, data));
      },
    },
    update: {
      description: 'Changes language, label, isDefault and displayOnPlayer of a caption asset',
      params: { id: ID_ARG, captionAsset: { type: 'object', kalturaType: 'KalturaCaptionAsset', required: true } },
      returns: 'KalturaCaptionAsset',
      throws: ['CAPTION_ASSET_ID_NOT_FOUND'],
      async handler(ctx, a) {
        const c = await partnerCaption(ctx, a.id);
        await captionEntry(ctx, c.entryId);
        checkCaptionInput(a.captionAsset, false);
        const lang = languageFields(a.captionAsset, c);
        const label = objString(a.captionAsset, 'label');
        const display = objInt(a.captionAsset, 'displayOnPlayer', 'bool');
        // a label that only repeated the old language (the library file's and older assets' default) follows the new one
        const kept = c.label === c.language && lang.language !== c.language ? '' : c.label;
        await ctx.catalog.updateCaption({
          ...c, ...lang, label: label !== undefined ? label.slice(0, 256) : kept, isDefault: isDefaultOf(a.captionAsset) ?? c.isDefault,
          displayOnPlayer: display === undefined ? c.displayOnPlayer : display !== 0, updatedAt: ctx.now,
        });
        return captionAssetObject((await ctx.catalog.getCaption(c.id))!);
      },
    },
    setAsDefault: {
      description: "Makes a caption asset its entry's default caption",
      params: { captionAssetId: ID_ARG },
      returns: 'void',
      throws: ['CAPTION_ASSET_ID_NOT_FOUND'],
      async handler(ctx, a) {
        const c = await partnerCaption(ctx, a.captionAssetId);
        await captionEntry(ctx, c.entryId);
        await ctx.catalog.updateCaption({ ...c, isDefault: true, updatedAt: ctx.now });
        return null;
      },
    },
    delete: {
      description: 'Deletes a caption asset and its file',
      params: { captionAssetId: ID_ARG },
      returns: 'void',
      throws: ['CAPTION_ASSET_ID_NOT_FOUND'],
      async handler(ctx, a) {
        const c = await partnerCaption(ctx, a.captionAssetId);
        const entry = await captionEntry(ctx, c.entryId);
        await ctx.catalog.deleteCaption(c.id);
        await removeEntryFile(ctx, entry, c.filePath);
        return null;
      },
    },
    getUrl: {
      description: 'The URL of the caption file (caption_captionAsset.serve); the entry\'s PLAY rules apply there',
      params: { id: ID_ARG, storageId: { type: 'int' } },
      returns: 'string',
      throws: ['CAPTION_ASSET_ID_NOT_FOUND', 'CAPTION_ASSET_IS_NOT_READY'],
      async handler(ctx, a) {
        const c = await partnerCaption(ctx, a.id);
        if (c.status !== AssetStatus.READY || !c.filePath) throw new ApiError('CAPTION_ASSET_IS_NOT_READY', { ASSET_ID: c.id });
        return `${ctx.baseUrl}/api_v3/index.php/service/caption_captionasset/action/serve/captionAssetId/${c.id}/version/${c.version}`;
      },
    },
    get: {
      params: { captionAssetId: ID_ARG },
      returns: 'KalturaCaptionAsset',
      throws: ['CAPTION_ASSET_ID_NOT_FOUND'],
      handler: async (ctx, a) => captionAssetObject(await partnerCaption(ctx, a.captionAssetId)),
    },
    list: {
      description: 'Lists caption assets (filters: entryIdEqual, entryIdIn, idEqual, idIn)',
      params: listArgs('KalturaAssetFilter'),
      returns: 'KalturaCaptionAssetListResponse',
      async handler(ctx, a) {
        const all = await partnerAssets(ctx, a.filter, (id) => ctx.catalog.listCaptions(id), (id) => ctx.catalog.getCaption(id));
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
        const c = await servedCaption(ctx, a.captionAssetId);
        return {
          kind: 'file', contentType: SERVE_TYPES[c.format], body: await readCaptionFile(ctx, c),
          headers: { 'content-disposition': `inline; filename="${c.id}.${c.format}"` },
        };
      },
    },
    serveWebVTT: {
      description: 'The caption as WebVTT (SRT and DFXP are converted): without a segmentIndex (or 0), an HLS playlist of its segments; -1, the whole file; n, segment n',
      auth: 'optional',
      params: {
        captionAssetId: ID_ARG,
        segmentDuration: { type: 'int', default: 30 },
        // a string read as an int: the playlist names its segments segmentIndex/{n}.vtt, so the
        // value arrives with the file name's extension (PHP's int cast reads past it)
        segmentIndex: { type: 'string', kalturaType: 'int', default: '' },
        localTimestamp: { type: 'int', default: 10000 },
      },
      returns: 'file',
      throws: ['CAPTION_ASSET_ID_NOT_FOUND', 'ACCESS_CONTROL_RESTRICTED'],
      async handler(ctx, a): Promise<FileResult> {
        const index = segmentIndexOf(a.segmentIndex as string);
        const seconds = a.segmentDuration as number;
        if (index !== -1 && seconds <= 0) throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: String(seconds), PARAM_NAME: 'segmentDuration', ENUM_TYPE: 'int' });
        const c = await servedCaption(ctx, a.captionAssetId);
        if (index === 0) {
          const entry = await ctx.catalog.getEntry(c.entryId);
          return { kind: 'file', contentType: 'application/x-mpegurl', body: webVttPlaylist(seconds, Math.trunc(entry?.duration ?? 0)) };
        }
        const text = await readCaptionFile(ctx, c);
        let body: string;
        try {
          // a WebVTT file as it is; any other converted from what it holds (src/media/captions.ts)
          body = index === -1
            ? (captionFormatOf(text) === 'vtt' ? text : captionToWebVtt(text))
            : captionSegmentToWebVtt(text, { index, segmentSec: seconds, localTimestampMs: a.localTimestamp as number });
        } catch {
          // TTML is checked at import: only a file changed on disk since then gets here
          throw new ApiError('CAPTION_ASSET_ID_NOT_FOUND', { ID: c.id });
        }
        return { kind: 'file', contentType: 'text/vtt; charset=utf-8', body };
      },
    },
  },
};
