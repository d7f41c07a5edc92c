// thumbAsset: the pictures of an entry. One of them is the default, which is also the entry's
// thumbnail file: what /thumbnail, the player's poster and the storyboard fallback show. Setting a
// new default changes the entry's version, so every thumbnail URL (and the rendered-thumbnail cache
// keyed by it) moves on at once. media.updateThumbnail and updateThumbnailJpeg (entry-edit.ts) add
// a default asset through the same functions.
import { checkEntryAccess } from '../../access/entry-check.js';
import { AssetStatus, EntryStatus, type Entry, type ThumbAsset } from '../../catalog/types.js';
import { DeliveryError } from '../../errors.js';
import { localMediaWriter, type MediaWriter } from '../../storage/media-writer.js';
import { ID_ARG, listArgs, objInt, objString, pageOf } from '../args.js';
import { CONTENT_RESOURCES, readContentResource } from '../content.js';
import { ApiError, defineApiErrors } from '../errors.js';
import { callPartnerId, partnerAssets, partnerEntry } from '../lookup.js';
import { listResponse } from '../objects.js';
import type { Params } from '../params.js';
import { requireEntryEditor } from '../permissions.js';
import { playRequestFor } from '../playback-context.js';
import type { ApiContext, ApiObject, FileResult, ParamSpec, ServiceModule, UploadedFile } from '../types.js';
import { decodePicture, LIMIT_INPUT_PIXELS, pictureMetadata, type ImageSpec } from '../../thumbnail/image.js';
import { getThumbAssetRendition } from '../../thumbnail/service.js';
import { DEFAULT_BGCOLOR, DEFAULT_QUALITY, MAX_SIDE } from '../../thumbnail/params.js';

defineApiErrors({
  THUMB_ASSET_ID_NOT_FOUND: 'The Thumbnail asset id "%ID%" not found',
  THUMB_ASSET_IS_NOT_READY: 'The thumbnail asset is not ready',
  THUMB_ASSET_IS_DEFAULT: 'Thumbnail asset "%ASSET%" is default and could not be deleted',
  THUMB_ASSET_DOWNLOAD_FAILED: 'Failed to download thumbnail from URL "%URL_PATH%"',
  // Kaltura's code for a file that is not of a type it takes; the type is what the bytes look like
  FILE_TYPE_NOT_SUPPORTED: 'File type %TYPE% is not supported',
});

/** Largest picture taken: a poster frame is a few hundred kB. */
export const MAX_THUMB_BYTES = 20 * 1024 * 1024;
const EXT: Record<string, string> = { jpeg: 'jpg', png: 'png', gif: 'gif', webp: 'webp' };
export const THUMB_TYPES: Record<string, string> = { jpg: 'image/jpeg', png: 'image/png', gif: 'image/gif', webp: 'image/webp' };

/** What a picture is: its extension and size; anything sharp cannot read whole as JPEG, PNG, GIF or WebP is refused. */
export async function readPicture(data: Buffer): Promise<{ ext: string; width: number; height: number }> {
  try {
    const meta = await pictureMetadata(data);
    const ext = meta.format ? EXT[meta.format] : undefined;
    if (!ext || !meta.width || !meta.height) throw new ApiError('FILE_TYPE_NOT_SUPPORTED', { TYPE: meta.format ?? 'unknown' });
    // kept, a picture that stops short would be READY (the default, perhaps) and draw as a 404
    await decodePicture(data).catch(() => {
      throw new ApiError('FILE_TYPE_NOT_SUPPORTED', { TYPE: `${meta.format!.toUpperCase()} (the picture is cut off or damaged: upload the whole file)` });
    });
    return { ext, width: meta.width, height: meta.height };
  } catch (e) {
    if (e instanceof ApiError) throw e;
    // a real picture too large to decode is said to be so, not called something else
    if (/exceeds pixel limit/.test((e as Error).message)) throw new ApiError('FILE_TYPE_NOT_SUPPORTED', { TYPE: `a picture over ${LIMIT_INPUT_PIXELS / 1_000_000} megapixels` });
    throw new ApiError('FILE_TYPE_NOT_SUPPORTED', { TYPE: 'unknown (not a JPEG, PNG, GIF or WebP picture)' });
  }
}

/**
 * Where the API writes media: the server's store (local disk or S3); local disk under the media
 * root only where the call has no store at all. A read-only store (an HTTP origin) is refused as
 * the dispatcher refuses an action marked `writesMedia`: never a file in a local folder that the
 * server does not read.
 */
export function mediaWriterOf(ctx: Pick<ApiContext, 'media' | 'config'>): MediaWriter {
  if (!ctx.media) return localMediaWriter(ctx.config.mediaRoot);
  if (ctx.media.writer) return ctx.media.writer;
  throw new ApiError('UPLOAD_ERROR', { REASON: ctx.media.readOnly ?? `the media store ${ctx.media.describe} takes no writes` });
}

/** Writes a file of the media store: a reader sees all of it or nothing (src/storage/media-writer.ts). */
export async function writeMediaFile(ctx: Pick<ApiContext, 'media' | 'config'>, rel: string, data: Buffer | string): Promise<void> {
  await mediaWriterOf(ctx).putBytes(rel, data);
}

/**
 * A whole (small) file of the media store (a picture, a caption), read as every media reader reads
 * it: through the server's store (local disk, S3, or a read-only HTTP origin, which has no writer).
 */
export function readMediaFile(ctx: Pick<ApiContext, 'media' | 'config'>, rel: string): Promise<Buffer> {
  return ctx.media ? ctx.media.readAll(ctx.media.locate(rel)) : localMediaWriter(ctx.config.mediaRoot).readAll(rel);
}

/** Removes a file the catalog no longer names, if it is in the entry's own folder. */
export async function removeEntryFile(ctx: Pick<ApiContext, 'media' | 'config'>, entry: Pick<Entry, 'partnerId' | 'id'>, rel: string): Promise<void> {
  if (!rel || !rel.startsWith(`${entry.partnerId}/${entry.id}/`) || rel.includes('..')) return;
  // a read-only store's files (an HTTP origin's) are not the server's to remove
  if (ctx.media && !ctx.media.writer) return;
  await mediaWriterOf(ctx).remove(rel).catch(() => undefined);
}

export function thumbAssetObject(t: ThumbAsset): ApiObject {
  // Kaltura marks the default thumbnail with the tag default_thumb
  const tags = [...t.tags.split(',').map((x) => x.trim()).filter((x) => x && x !== 'default_thumb'), ...(t.isDefault ? ['default_thumb'] : [])].join(',');
  return {
    objectType: 'KalturaThumbAsset',
    id: t.id, entryId: t.entryId, partnerId: t.partnerId, version: t.version, size: Math.ceil(t.size / 1024), tags,
    fileExt: t.fileExt || undefined, createdAt: t.createdAt, updatedAt: t.updatedAt, description: t.description,
    sizeInBytes: t.size, thumbParamsId: 0, width: t.width, height: t.height, status: t.status,
  };
}

export async function partnerThumb(ctx: ApiContext, id: string): Promise<ThumbAsset> {
  const pid = callPartnerId(ctx);
  const t = await ctx.catalog.getThumbAsset(id);
  if (!t || t.partnerId !== pid) throw new ApiError('THUMB_ASSET_ID_NOT_FOUND', { ID: id });
  return t;
}

/** A new asset of an entry, without content (QUEUED) until setContent gives it a picture. */
async function newThumb(ctx: ApiContext, entry: Entry, input: Params | null): Promise<ThumbAsset> {
  const id = await ctx.catalog.newAssetId();
  return {
    id, entryId: entry.id, partnerId: entry.partnerId, filePath: '', fileExt: '', width: 0, height: 0, size: 0,
    tags: (objString(input, 'tags') ?? '').slice(0, 256), description: (objString(input, 'description') ?? '').slice(0, 1024),
    isDefault: false, status: AssetStatus.QUEUED, version: 1, createdAt: ctx.now, updatedAt: ctx.now,
  };
}

/** Gives an asset its picture (a new file, a new version), and makes it the default when asked or when it already is. */
export async function storeThumbContent(ctx: ApiContext, entry: Entry, t: ThumbAsset, data: Buffer, makeDefault: boolean, isNew: boolean, read?: Awaited<ReturnType<typeof readPicture>>): Promise<ThumbAsset> {
  // `read`: the caller's reading of the same bytes (every pixel decoded: not done twice)
  const pic = read ?? await readPicture(data);
  const version = isNew ? t.version : t.version + 1;
  const rel = `${entry.partnerId}/${entry.id}/thumbasset-${t.id}-v${version}.${pic.ext}`;
  await writeMediaFile(ctx, rel, data);
  const next: ThumbAsset = { ...t, filePath: rel, fileExt: pic.ext, width: pic.width, height: pic.height, size: data.length, status: AssetStatus.READY, version, updatedAt: ctx.now };
  try {
    if (makeDefault) await adoptEntryThumbnail(ctx, entry);
    if (isNew) await ctx.catalog.addThumbAsset(next);
    else await ctx.catalog.updateThumbAsset(next);
    if (makeDefault || t.isDefault) await ctx.catalog.setDefaultThumbAsset(next, ctx.now);
  } catch (e) {
    await removeEntryFile(ctx, entry, rel);
    throw e;
  }
  // the catalog no longer names the old picture
  if (!isNew && t.filePath && t.filePath !== rel) await removeEntryFile(ctx, entry, t.filePath);
  return (await ctx.catalog.getThumbAsset(t.id))!;
}

/**
 * The entry's current default picture, when it is no asset's (the library's `thumbnail`, or the
 * frame ingest grabbed), becomes a non-default asset before another takes its place: it stays
 * listable and can be made the default again, and it is not left behind as a file nothing names.
 */
export async function adoptEntryThumbnail(ctx: ApiContext, entry: Entry): Promise<void> {
  const current = (await ctx.catalog.getEntry(entry.id))?.thumbnailFile;
  if (!current || (await ctx.catalog.listThumbAssets(entry.id)).some((a) => a.filePath === current)) return;
  let data: Buffer;
  try {
    data = await readMediaFile(ctx, current);
  } catch {
    return; // a picture already gone from the disk: nothing to keep
  }
  const pic = await readPicture(data).catch(() => null);
  if (!pic) return;
  await ctx.catalog.addThumbAsset({ ...await newThumb(ctx, entry, null), filePath: current, fileExt: pic.ext, width: pic.width, height: pic.height, size: data.length, status: AssetStatus.READY });
}

/** A new READY asset from picture bytes (updateThumbnailJpeg, addFromImage, a frame grab). */
export async function addThumbFromBytes(ctx: ApiContext, entry: Entry, data: Buffer, makeDefault: boolean): Promise<ThumbAsset> {
  return storeThumbContent(ctx, entry, await newThumb(ctx, entry, null), data, makeDefault, true);
}

/** The entry of an asset, for a change: it must still exist and the session may edit it. */
async function editableEntryOf(ctx: ApiContext, entryId: string): Promise<Entry> {
  const e = await partnerEntry(ctx, entryId);
  requireEntryEditor(ctx, e);
  return e;
}

/** The asset a serve call names: of the KS's partner, or (without a KS) of any partner, subject to the entry's THUMBNAIL rules. */
async function servedThumb(ctx: ApiContext, id: string): Promise<{ t: ThumbAsset; entry: Entry }> {
  const t = ctx.ks ? await partnerThumb(ctx, id) : await ctx.catalog.getThumbAsset(id);
  if (!t) throw new ApiError('THUMB_ASSET_ID_NOT_FOUND', { ID: id });
  const entry = await ctx.catalog.getEntry(t.entryId);
  const partner = entry && await ctx.catalog.getPartner(entry.partnerId);
  if (!entry || !partner || entry.status === EntryStatus.DELETED) throw new ApiError('THUMB_ASSET_ID_NOT_FOUND', { ID: id });
  try {
    await checkEntryAccess(ctx, playRequestFor(ctx, entry, '/format/url', ctx.ks?.raw ?? null), entry, partner, 'THUMBNAIL', { playValidation: false });
  } catch (e) {
    if (e instanceof DeliveryError) throw new ApiError('ACCESS_CONTROL_RESTRICTED', { ENTRY_ID: entry.id, REASON: e.message });
    throw e;
  }
  if (t.status !== AssetStatus.READY || !t.filePath) throw new ApiError('THUMB_ASSET_IS_NOT_READY');
  return { t, entry };
}

/** The properties of a KalturaThumbParams that serve applies; any other is refused, not skipped. */
const THUMB_PARAMS: ParamSpec = { type: 'object', kalturaType: 'KalturaThumbParams', properties: ['width', 'height', 'quality', 'cropType'] };

/**
 * The picture a KalturaThumbParams asks for, as /thumbnail makes it (cropType is its `type`: 1
 * fit inside, 2 pad, 3 crop, 4 crop from the top, 5 stretch), or null for the picture as stored.
 */
function thumbParamsSpec(p: Params | null | undefined): ImageSpec | null {
  if (!p) return null;
  const int = (k: string, min: number, max: number): number | undefined => {
    const v = objInt(p, k, `int from ${min} to ${max}`);
    if (v !== undefined && (v < min || v > max)) throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: v, PARAM_NAME: `thumbParams:${k}`, ENUM_TYPE: `int from ${min} to ${max}` });
    return v;
  };
  const width = int('width', 0, MAX_SIDE) ?? 0;
  const height = int('height', 0, MAX_SIDE) ?? 0;
  const quality = int('quality', 1, 100);
  const cropType = int('cropType', 1, 5) ?? 1;
  if (!width && !height && quality === undefined) return null;
  return { width, height, type: cropType as ImageSpec['type'], quality: quality ?? DEFAULT_QUALITY, bgcolor: DEFAULT_BGCOLOR, crop: null };
}

const serveUrl = (ctx: ApiContext, t: ThumbAsset, spec: ImageSpec | null = null): string => {
  const url = `${ctx.baseUrl}/api_v3/index.php/service/thumbAsset/action/serve/thumbAssetId/${t.id}/version/${t.version}`;
  if (!spec) return url;
  // Kaltura's thumbAsset::getThumbnailUrl carries the params as a query string the same way
  const q = [`thumbParams:width=${spec.width}`, `thumbParams:height=${spec.height}`, `thumbParams:quality=${spec.quality}`, `thumbParams:cropType=${spec.type}`];
  return `${url}?thumbParams:objectType=KalturaThumbParams&${q.join('&')}`;
};

const downloadFailed = (url: string) => new ApiError('THUMB_ASSET_DOWNLOAD_FAILED', { URL_PATH: url });

export const thumbAssetService: ServiceModule = {
  name: 'thumbAsset',
  description: 'Thumbnail assets: the pictures of an entry, one of them its default thumbnail',
  actions: {
    add: {
      description: 'Adds a thumbnail asset without content (status QUEUED); give it a picture with setContent',
      // writes no file itself, but makes an asset only a media write can complete
      writesMedia: true,
      params: { entryId: ID_ARG, thumbAsset: { type: 'object', kalturaType: 'KalturaThumbAsset' } },
      returns: 'KalturaThumbAsset',
      throws: ['ENTRY_ID_NOT_FOUND'],
      async handler(ctx, a) {
        const entry = await editableEntryOf(ctx, a.entryId);
        const t = await newThumb(ctx, entry, a.thumbAsset);
        await ctx.catalog.addThumbAsset(t);
        return thumbAssetObject((await ctx.catalog.getThumbAsset(t.id))!);
      },
    },
    addFromImage: {
      description: 'Adds a READY thumbnail asset from a picture (JPEG, PNG, GIF or WebP) sent as multipart fileData',
      writesMedia: true,
      params: { entryId: ID_ARG, fileData: { type: 'file', required: true } },
      returns: 'KalturaThumbAsset',
      throws: ['ENTRY_ID_NOT_FOUND', 'FILE_TYPE_NOT_SUPPORTED'],
      async handler(ctx, a) {
        const entry = await editableEntryOf(ctx, a.entryId);
        const file = a.fileData as UploadedFile;
        if (file.data.length > MAX_THUMB_BYTES) throw new ApiError('UPLOAD_ERROR', { REASON: `the picture is ${file.data.length} bytes; at most ${MAX_THUMB_BYTES} are taken` });
        return thumbAssetObject(await addThumbFromBytes(ctx, entry, file.data, false));
      },
    },
    setContent: {
      description: `Gives a thumbnail asset its picture (${CONTENT_RESOURCES.join(', ')}); a default asset stays the default with the new picture`,
      writesMedia: true,
      params: { id: ID_ARG, contentResource: { type: 'object', kalturaType: 'KalturaContentResource', required: true } },
      returns: 'KalturaThumbAsset',
      throws: ['THUMB_ASSET_ID_NOT_FOUND', 'RESOURCE_TYPE_NOT_SUPPORTED', 'UPLOAD_TOKEN_NOT_FOUND', 'THUMB_ASSET_DOWNLOAD_FAILED', 'FILE_TYPE_NOT_SUPPORTED'],
      async handler(ctx, a) {
        const t = await partnerThumb(ctx, a.id);
        const entry = await editableEntryOf(ctx, t.entryId);
        const data = await readContentResource(ctx, a.contentResource, t.id, MAX_THUMB_BYTES, downloadFailed);
        const pic = await readPicture(data);
        const current = await ctx.catalog.getThumbAsset(t.id);
        if (!current) throw new ApiError('THUMB_ASSET_ID_NOT_FOUND', { ID: a.id });
        return thumbAssetObject(await storeThumbContent(ctx, entry, current, data, false, false, pic));
      },
    },
    setAsDefault: {
      description: "Makes a READY asset the entry's default thumbnail (served by /thumbnail and shown as the poster)",
      params: { thumbAssetId: ID_ARG },
      returns: 'void',
      throws: ['THUMB_ASSET_ID_NOT_FOUND', 'THUMB_ASSET_IS_NOT_READY'],
      async handler(ctx, a) {
        const t = await partnerThumb(ctx, a.thumbAssetId);
        await editableEntryOf(ctx, t.entryId);
        if (t.status !== AssetStatus.READY || !t.filePath) throw new ApiError('THUMB_ASSET_IS_NOT_READY');
        await adoptEntryThumbnail(ctx, await partnerEntry(ctx, t.entryId));
        await ctx.catalog.setDefaultThumbAsset(t, ctx.now);
        return null;
      },
    },
    update: {
      description: 'Changes the tags and description of a thumbnail asset',
      params: { id: ID_ARG, thumbAsset: { type: 'object', kalturaType: 'KalturaThumbAsset', required: true } },
      returns: 'KalturaThumbAsset',
      throws: ['THUMB_ASSET_ID_NOT_FOUND'],
      async handler(ctx, a) {
        const t = await partnerThumb(ctx, a.id);
        await editableEntryOf(ctx, t.entryId);
        const tags = objString(a.thumbAsset, 'tags');
        const description = objString(a.thumbAsset, 'description');
        await ctx.catalog.updateThumbAsset({ ...t, tags: tags !== undefined ? tags.slice(0, 256) : t.tags, description: description !== undefined ? description.slice(0, 1024) : t.description, updatedAt: ctx.now });
        return thumbAssetObject((await ctx.catalog.getThumbAsset(t.id))!);
      },
    },
    delete: {
      description: 'Deletes a thumbnail asset and its file; the default one cannot be deleted',
      params: { thumbAssetId: ID_ARG },
      returns: 'void',
      throws: ['THUMB_ASSET_ID_NOT_FOUND', 'THUMB_ASSET_IS_DEFAULT'],
      async handler(ctx, a) {
        const t = await partnerThumb(ctx, a.thumbAssetId);
        const entry = await editableEntryOf(ctx, t.entryId);
        if (t.isDefault) throw new ApiError('THUMB_ASSET_IS_DEFAULT', { ASSET: t.id });
        await ctx.catalog.deleteThumbAsset(t.id);
        await removeEntryFile(ctx, entry, t.filePath);
        return null;
      },
    },
    get: {
      params: { thumbAssetId: ID_ARG },
      returns: 'KalturaThumbAsset',
      throws: ['THUMB_ASSET_ID_NOT_FOUND'],
      handler: async (ctx, a) => thumbAssetObject(await partnerThumb(ctx, a.thumbAssetId)),
    },
    getByEntryId: {
      description: 'Every thumbnail asset of an entry',
      params: { entryId: ID_ARG },
      returns: 'array:KalturaThumbAsset',
      throws: ['ENTRY_ID_NOT_FOUND'],
      handler: async (ctx, a) => (await ctx.catalog.listThumbAssets((await partnerEntry(ctx, a.entryId)).id)).map(thumbAssetObject),
    },
    list: {
      description: 'Lists thumbnail assets (filters: entryIdEqual, entryIdIn, idEqual, idIn)',
      params: listArgs('KalturaThumbAssetFilter'),
      returns: 'KalturaThumbAssetListResponse',
      async handler(ctx, a) {
        const all = await partnerAssets(ctx, a.filter, (id) => ctx.catalog.listThumbAssets(id), (id) => ctx.catalog.getThumbAsset(id));
        return listResponse('KalturaThumbAssetListResponse', pageOf(all, a.pager).map(thumbAssetObject), all.length);
      },
    },
    getUrl: {
      description: 'The URL of the picture (thumbAsset.serve); the THUMBNAIL access rules of the entry apply there',
      params: { id: ID_ARG, storageId: { type: 'int' }, thumbParams: THUMB_PARAMS },
      returns: 'string',
      throws: ['THUMB_ASSET_ID_NOT_FOUND', 'THUMB_ASSET_IS_NOT_READY', 'INVALID_ENUM_VALUE', 'PROPERTY_IS_NOT_DEFINED'],
      async handler(ctx, a) {
        const spec = thumbParamsSpec(a.thumbParams as Params | null);
        const t = await partnerThumb(ctx, a.id);
        if (t.status !== AssetStatus.READY || !t.filePath) throw new ApiError('THUMB_ASSET_IS_NOT_READY');
        return serveUrl(ctx, t, spec);
      },
    },
    serve: {
      description: 'The picture as stored; the THUMBNAIL access rules of the entry apply',
      auth: 'optional',
      params: { thumbAssetId: ID_ARG, version: { type: 'int' }, thumbParams: THUMB_PARAMS, options: { type: 'object', kalturaType: 'KalturaThumbnailServeOptions' } },
      returns: 'file',
      throws: ['THUMB_ASSET_ID_NOT_FOUND', 'THUMB_ASSET_IS_NOT_READY', 'ACCESS_CONTROL_RESTRICTED', 'INVALID_ENUM_VALUE', 'PROPERTY_IS_NOT_DEFINED'],
      async handler(ctx, a): Promise<FileResult> {
        const spec = thumbParamsSpec(a.thumbParams as Params | null);
        const { t, entry } = await servedThumb(ctx, a.thumbAssetId);
        let body: Buffer;
        try {
          // resized through the thumbnail service: cached, and within its bound on renderings at once
          body = spec ? (await getThumbAssetRendition(ctx, entry, t, spec, () => readMediaFile(ctx, t.filePath))).data : await readMediaFile(ctx, t.filePath);
        } catch {
          throw new ApiError('THUMB_ASSET_IS_NOT_READY');
        }
        const ext = spec ? 'jpg' : t.fileExt;
        return { kind: 'file', contentType: THUMB_TYPES[ext] ?? 'application/octet-stream', body, headers: { 'content-disposition': `inline; filename="${t.id}.${ext}"` } };
      },
    },
  },
  schema: {
    classes: [
      { name: 'KalturaThumbAsset', base: 'KalturaAsset', props: 'thumbParamsId:int,width:int,height:int,status:KalturaThumbAssetStatus' },
      { name: 'KalturaThumbAssetListResponse', base: 'KalturaListResponse', props: 'objects:array:KalturaThumbAsset' },
      { name: 'KalturaThumbParams', base: 'KalturaObjectBase', props: 'width:int,height:int,quality:int,cropType:int' },
      { name: 'KalturaThumbnailServeOptions', base: 'KalturaObjectBase', props: 'download:bool' },
    ],
    enums: [{ name: 'KalturaThumbAssetStatus', enumType: 'int', values: { ERROR: -1, QUEUED: 0, CAPTURING: 1, READY: 2, DELETED: 3, IMPORTING: 7, EXPORTING: 9 } }],
  },
};
