// Catalog records → Kaltura API objects. Every object carries its objectType; int enums and
// times are numbers; absent values are left undefined (the serializers omit them).
import type { CaptionAsset, Entry, FlavorAsset, FlavorParams } from '../catalog/types.js';
import { AssetStatus, EntryType, MediaType } from '../catalog/types.js';
import type { ApiObject } from './types.js';

/** Entries whose file is served by the raw action, not by playManifest: images, documents, data. */
const servedRaw = (e: Entry): boolean => e.mediaType === MediaType.IMAGE || e.type === EntryType.DOCUMENT || e.type === EntryType.DATA;
const rawUrl = (base: string, e: Entry): string => `${base}/p/${e.partnerId}/sp/${e.partnerId}00/raw/entry_id/${e.id}/version/${e.version}`;

/**
 * An entry's downloadUrl, in api_v3's objects and API v2's entry alike (Kaltura's entry model
 * makes it once for both). A video or audio media clip: playManifest's format/download of the
 * source flavor (params 0) when the entry has one, as Kaltura names it, else of playManifest's own
 * choice. Every other entry (images, documents, data entries, live entries) has no recorded
 * flavors to play: the raw action's URL, which serves an image's, document's or data entry's file.
 * README, "Entry URLs".
 */
export function entryDownloadUrl(base: string, e: Entry, protocol: string, hasSource = true): string {
  const playable = e.type === EntryType.MEDIA_CLIP && (e.mediaType === MediaType.VIDEO || e.mediaType === MediaType.AUDIO);
  return playable
    ? `${base}/p/${e.partnerId}/sp/${e.partnerId}00/playManifest/entryId/${e.id}/format/download/protocol/${protocol}${hasSource ? '/flavorParamIds/0' : ''}`
    : rawUrl(base, e);
}

/** The public URLs of an entry, in the forms Kaltura emits. */
export const entryUrls = {
  thumbnail: (base: string, e: Entry): string => `${base}/p/${e.partnerId}/sp/${e.partnerId}00/thumbnail/entry_id/${e.id}/version/${e.version}`,
  download: entryDownloadUrl,
  data: (base: string, e: Entry, protocol: string): string =>
    servedRaw(e)
      ? rawUrl(base, e)
      : `${base}/p/${e.partnerId}/sp/${e.partnerId}00/playManifest/entryId/${e.id}/format/url/protocol/${protocol}`,
};

const entryObjectType = (e: Entry): string =>
  e.type === EntryType.DOCUMENT ? 'KalturaDocumentEntry'
    : e.type === EntryType.DATA ? 'KalturaDataEntry'
      : e.type === EntryType.PLAYLIST ? 'KalturaPlaylist'
        : e.type === EntryType.LIVE_STREAM ? 'KalturaLiveStreamEntry'
          : 'KalturaMediaEntry';

export interface EntryObjectOptions {
  baseUrl: string;
  protocol: string;
  flavors: readonly FlavorAsset[];
}

export function entryObject(e: Entry, o: EntryObjectOptions): ApiObject {
  const ready = o.flavors.filter((f) => f.status === AssetStatus.READY);
  const playable = e.type === EntryType.MEDIA_CLIP || e.type === EntryType.LIVE_STREAM || e.type === EntryType.LIVE_CHANNEL;
  const msDuration = Math.round(e.duration * 1000);
  const obj: ApiObject = {
    objectType: entryObjectType(e),
    id: e.id,
    name: e.name,
    description: e.description,
    partnerId: e.partnerId,
    userId: e.userId,
    creatorId: e.userId,
    tags: e.tags,
    adminTags: e.adminTags,
    status: e.status,
    moderationStatus: e.moderationStatus,
    type: e.type,
    createdAt: e.createdAt,
    updatedAt: e.updatedAt,
    version: e.version,
    thumbnailUrl: entryUrls.thumbnail(o.baseUrl, e),
    accessControlId: e.accessControlProfileId ?? undefined,
    startDate: e.startDate ?? undefined,
    endDate: e.endDate ?? undefined,
    referenceId: e.referenceId || undefined,
    redirectEntryId: e.redirectEntryId ?? undefined,
    partnerData: e.partnerData || undefined,
    conversionProfileId: e.conversionProfileId ?? undefined,
    rootEntryId: e.id,
    capabilities: '',
  };
  if (playable) {
    Object.assign(obj, {
      plays: 0,
      views: 0,
      width: ready.reduce((m, f) => Math.max(m, f.width), 0) || undefined,
      height: ready.reduce((m, f) => Math.max(m, f.height), 0) || undefined,
      duration: Math.round(e.duration),
      msDuration,
      durationType: e.duration <= 240 ? 'short' : e.duration <= 1200 ? 'medium' : 'long',
      mediaType: e.mediaType,
      dataUrl: entryUrls.data(o.baseUrl, e, o.protocol),
      flavorParamsIds: [...new Set(ready.map((f) => f.flavorParamsId))].join(','),
      downloadUrl: entryUrls.download(o.baseUrl, e, o.protocol, ready.some((f) => f.flavorParamsId === 0)),
    });
  } else if (e.type === EntryType.DOCUMENT) {
    // KalturaDocumentType: DOCUMENT 11, SWF 12, PDF 13 (by the data file's extension)
    const ext = (e.dataFile ?? '').split('.').pop()?.toLowerCase();
    Object.assign(obj, { documentType: ext === 'pdf' ? 13 : ext === 'swf' ? 12 : 11, downloadUrl: entryUrls.download(o.baseUrl, e, o.protocol) });
  } else if (e.type === EntryType.DATA) {
    Object.assign(obj, { dataUrl: entryUrls.data(o.baseUrl, e, o.protocol), downloadUrl: entryUrls.download(o.baseUrl, e, o.protocol) });
  } else {
    Object.assign(obj, { dataUrl: entryUrls.data(o.baseUrl, e, o.protocol) });
  }
  if (e.mediaType === MediaType.IMAGE) Object.assign(obj, { duration: 0, msDuration: 0 });
  return obj;
}

const tagsOf = (f: FlavorAsset): string => f.tags.join(',');

export function flavorAssetObject(f: FlavorAsset): ApiObject {
  return {
    objectType: 'KalturaFlavorAsset',
    id: f.id,
    entryId: f.entryId,
    partnerId: f.partnerId,
    version: f.version,
    size: Math.ceil(f.size / 1024),
    tags: tagsOf(f),
    fileExt: f.fileExt,
    createdAt: f.createdAt,
    updatedAt: f.updatedAt,
    description: '',
    sizeInBytes: f.size,
    flavorParamsId: f.flavorParamsId,
    width: f.width,
    height: f.height,
    bitrate: f.bitrate,
    frameRate: f.frameRate,
    isOriginal: f.isOriginal,
    isWeb: f.tags.includes('web'),
    containerFormat: f.containerFormat,
    videoCodecId: f.videoCodec || undefined,
    status: f.status,
    language: f.language || undefined,
    label: f.label || undefined,
    isDefault: f.isDefault,
  };
}

export function flavorParamsObject(p: FlavorParams): ApiObject {
  return {
    objectType: 'KalturaFlavorParams',
    id: p.id,
    partnerId: 0,
    name: p.name,
    systemName: p.name,
    description: p.name,
    tags: p.tags.join(','),
    format: p.format,
    videoCodec: p.videoCodec,
    videoBitrate: p.videoBitrate,
    audioCodec: p.audioCodec,
    audioBitrate: p.audioBitrate,
    width: p.width,
    height: p.height,
    frameRate: p.frameRate,
    isSystemDefault: 1,
    mediaParserType: '0',
  };
}

/** Kaltura's KalturaCaptionType (a string enum): SRT "1", DFXP "2", WEBVTT "3", CAP "4". */
/** Kaltura's CaptionType: 1 SRT, 2 DFXP, 3 WebVTT (a string enum in the API). */
export const captionTypeOf = (c: CaptionAsset): string => ({ srt: '1', dfxp: '2', vtt: '3' })[c.format];

export function captionAssetObject(c: CaptionAsset): ApiObject {
  return {
    objectType: 'KalturaCaptionAsset',
    id: c.id,
    entryId: c.entryId,
    partnerId: c.partnerId,
    version: c.version,
    size: c.size,
    tags: '',
    fileExt: c.format,
    createdAt: c.createdAt,
    updatedAt: c.updatedAt,
    description: '',
    sizeInBytes: c.size,
    captionParamsId: 0,
    language: c.language,
    languageCode: c.languageCode,
    isDefault: c.isDefault ? 1 : 0,
    label: c.label || c.language,
    format: captionTypeOf(c),
    status: c.status,
    displayOnPlayer: c.displayOnPlayer,
    accuracy: 100,
  };
}

export function listResponse(objectType: string, objects: ApiObject[], totalCount: number): ApiObject {
  return { objectType, objects, totalCount };
}
