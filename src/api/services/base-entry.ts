// baseEntry and media: get and list entries of the calling partner, and the playback context
// the web player loads media with.
import type { EntryFilter } from '../../catalog/catalog.js';
import { EntryType } from '../../catalog/types.js';
import { ApiError } from '../errors.js';
import { ID_ARG, listArgs, objInt, objList, objString, readPager } from '../args.js';
import { callPartnerId, entryApiObject, partnerEntry } from '../lookup.js';
import { listResponse } from '../objects.js';
import type { Params } from '../params.js';
import { playbackContext } from '../playback-context.js';
import { baseEntryIngestActions, mediaIngestActions } from './media-ingest.js';
import type { ActionSpec, ApiContext, ApiObject, ServiceModule } from '../types.js';

/** Kaltura's KalturaBaseEntryFilter fields this server honours → the catalog's filter. */
export function entryFilter(ctx: ApiContext, f: Params | null, mediaOnly: boolean): EntryFilter {
  const filter: EntryFilter = { partnerId: callPartnerId(ctx) };
  const idEqual = objString(f, 'idEqual');
  const idIn = objList(f, 'idIn');
  if (idEqual !== undefined) filter.idIn = [idEqual];
  if (idIn !== undefined) filter.idIn = filter.idIn ? filter.idIn.filter((id) => idIn.includes(id)) : idIn;
  const redirect = objString(f, 'redirectFromEntryId');
  if (redirect !== undefined) filter.redirectFromEntryId = redirect;
  const ref = objString(f, 'referenceIdEqual');
  if (ref !== undefined) filter.referenceIdEqual = ref;
  const nameLike = objString(f, 'nameLike');
  if (nameLike !== undefined && nameLike !== '') filter.nameLike = nameLike;
  const statusEqual = objInt(f, 'statusEqual', 'KalturaEntryStatus');
  const statusIn = objList(f, 'statusIn');
  if (statusIn !== undefined) filter.statusIn = statusIn.map(Number).filter(Number.isInteger);
  if (statusEqual !== undefined) filter.statusIn = [statusEqual];
  const mediaType = objInt(f, 'mediaTypeEqual', 'KalturaMediaType');
  if (mediaType !== undefined) filter.mediaTypeEqual = mediaType;
  const typeEqual = objInt(f, 'typeEqual', 'KalturaEntryType');
  const typeIn = objList(f, 'typeIn');
  if (typeIn !== undefined) filter.typeIn = typeIn.map(Number).filter(Number.isInteger);
  if (typeEqual !== undefined) filter.typeIn = [typeEqual];
  if (mediaOnly) filter.typeIn = (filter.typeIn ?? [EntryType.MEDIA_CLIP]).filter((t) => t === EntryType.MEDIA_CLIP);
  // Kaltura skips its default status filter when the entry is named (idEqual, redirectFromEntryId)
  if (idEqual !== undefined || redirect !== undefined) filter.includeDeleted = true;
  return filter;
}

function listEntries(ctx: ApiContext, a: Record<string, any>, mediaOnly: boolean, type: string): ApiObject {
  const { pageSize, pageIndex } = readPager(a.pager);
  const { objects, totalCount } = ctx.catalog.listEntries(entryFilter(ctx, a.filter, mediaOnly), pageSize, pageIndex);
  return listResponse(type, objects.map((e) => entryApiObject(ctx, e)), totalCount);
}

const VERSION = { type: 'int', default: -1 } as const;

const getAction = (mediaOnly: boolean, returns: string): ActionSpec => ({
  description: 'Gets an entry by id',
  params: { entryId: ID_ARG, version: VERSION },
  returns,
  throws: ['ENTRY_ID_NOT_FOUND'],
  handler(ctx, a) {
    const e = partnerEntry(ctx, a.entryId);
    // a non-media entry is not found through the media service
    if (mediaOnly && e.type !== EntryType.MEDIA_CLIP) throw new ApiError('ENTRY_ID_NOT_FOUND', { ENTRY_ID: a.entryId });
    return entryApiObject(ctx, e);
  },
});

export const baseEntryService: ServiceModule = {
  name: 'baseEntry',
  description: 'Entries of every type',
  actions: {
    ...baseEntryIngestActions, // addFromUploadedFile, delete (src/ingest)
    get: getAction(false, 'KalturaBaseEntry'),
    list: {
      description: 'Lists entries (filters: idEqual, idIn, redirectFromEntryId, referenceIdEqual, nameLike, statusEqual, statusIn, mediaTypeEqual, typeEqual, typeIn)',
      params: listArgs('KalturaBaseEntryFilter'),
      returns: 'KalturaBaseEntryListResponse',
      handler: (ctx, a) => listEntries(ctx, a, false, 'KalturaBaseEntryListResponse'),
    },
    getPlaybackContext: {
      description: 'What a player may play: sources per format, flavors, captions, and the access-control actions and messages',
      params: {
        entryId: ID_ARG,
        contextDataParams: { type: 'object', kalturaType: 'KalturaPlaybackContextOptions' },
      },
      returns: 'KalturaPlaybackContext',
      throws: ['ENTRY_ID_NOT_FOUND'],
      handler(ctx, a) {
        const e = partnerEntry(ctx, a.entryId);
        const o = a.contextDataParams;
        return playbackContext(ctx, e, {
          referrer: objString(o, 'referrer') || undefined,
          streamerType: objString(o, 'streamerType') || undefined,
          mediaProtocol: objString(o, 'mediaProtocol') || undefined,
        });
      },
    },
  },
};

export const mediaService: ServiceModule = {
  name: 'media',
  description: 'Media entries (video, audio, image)',
  actions: {
    ...mediaIngestActions, // add, addContent, addFromUploadedFile, delete (src/ingest)
    get: getAction(true, 'KalturaMediaEntry'),
    list: {
      description: 'Lists media entries',
      params: listArgs('KalturaMediaEntryFilter'),
      returns: 'KalturaMediaListResponse',
      handler: (ctx, a) => listEntries(ctx, a, true, 'KalturaMediaListResponse'),
    },
  },
};
