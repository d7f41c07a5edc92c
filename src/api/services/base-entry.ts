// baseEntry and media: get and list entries of the calling partner, and the playback context
// the web player loads media with.
import { ENTRY_ORDER_NAMES, type EntryFilter, type EntryOrder } from '../../catalog/store.js';
import { EntryStatus, EntryType, ModerationStatus } from '../../catalog/types.js';
import { ApiError } from '../errors.js';
import { ID_ARG, listArgs, objInt, objList, objString, readPager } from '../args.js';
import { callPartnerId, entryApiObject, entryApiObjects, partnerEntry } from '../lookup.js';
import { listResponse } from '../objects.js';
import type { Params } from '../params.js';
import { playbackContext } from '../playback-context.js';
import { baseEntryIngestActions, mediaIngestActions } from './media-ingest.js';
import { baseEntryEditActions, mediaEditActions } from './entry-edit.js';
import type { ActionSpec, ApiContext, ApiObject, ServiceModule } from '../types.js';

/** What an `xEqual` and an `xIn` field ask for together (Kaltura ANDs them): undefined when neither is set. */
export function equalAndIn<T>(equal: T | undefined, list: T[] | undefined): T[] | undefined {
  if (equal === undefined) return list;
  return list === undefined || list.includes(equal) ? [equal] : [];
}

/**
 * redirectFromEntryId names an entry and means "that entry, or the one it redirects to when that
 * one is READY" (a live entry's recording, say); an entry of another partner, or none, matches nothing.
 */
async function redirectTarget(ctx: ApiContext, id: string): Promise<string | null> {
  const pid = callPartnerId(ctx);
  const from = await ctx.catalog.getEntry(id);
  if (!from || from.partnerId !== pid) return null;
  const to = from.redirectEntryId ? await ctx.catalog.getEntry(from.redirectEntryId) : undefined;
  return to && to.partnerId === pid && to.status === EntryStatus.READY ? to.id : from.id;
}

/** Kaltura's KalturaBaseEntryFilter fields (every one src/api/filters.ts lists) → the catalog's filter. */
export async function entryFilter(ctx: ApiContext, f: Params | null, mediaOnly: boolean): Promise<EntryFilter> {
  const filter: EntryFilter = { partnerId: callPartnerId(ctx) };
  const idEqual = objString(f, 'idEqual');
  let ids = equalAndIn(idEqual, objList(f, 'idIn'));
  const redirect = objString(f, 'redirectFromEntryId');
  if (redirect !== undefined) {
    const target = await redirectTarget(ctx, redirect);
    ids = target === null ? [] : equalAndIn(target, ids);
  }
  if (ids !== undefined) filter.idIn = ids;
  const ref = objString(f, 'referenceIdEqual');
  if (ref !== undefined) filter.referenceIdEqual = ref;
  const nameLike = objString(f, 'nameLike');
  if (nameLike !== undefined && nameLike !== '') filter.nameLike = nameLike;
  // a comma list of integers (what is not one is dropped)
  const ints = (name: string) => objList(f, name)?.map(Number).filter(Number.isInteger);
  const statuses = equalAndIn(objInt(f, 'statusEqual', 'KalturaEntryStatus'), ints('statusIn'));
  if (statuses !== undefined) filter.statusIn = statuses;
  // an xNotEqual and an xNotIn field leave out what either names
  const notIn = (field: string, enumType: string) => [objInt(f, `${field}NotEqual`, enumType), ...(ints(`${field}NotIn`) ?? [])].filter((s): s is number => s !== undefined);
  const notStatuses = notIn('status', 'KalturaEntryStatus');
  if (notStatuses.length) filter.statusNotIn = notStatuses;
  const moderation = equalAndIn(objInt(f, 'moderationStatusEqual', 'KalturaEntryModerationStatus'), ints('moderationStatusIn'));
  if (moderation !== undefined) filter.moderationStatusIn = moderation;
  const notModeration = notIn('moderationStatus', 'KalturaEntryModerationStatus');
  if (notModeration.length) filter.moderationStatusNotIn = notModeration;
  const mediaType = objInt(f, 'mediaTypeEqual', 'KalturaMediaType');
  if (mediaType !== undefined) filter.mediaTypeEqual = mediaType;
  const types = equalAndIn(objInt(f, 'typeEqual', 'KalturaEntryType'), ints('typeIn'));
  if (types !== undefined) filter.typeIn = types;
  const mediaTypes = ints('mediaTypeIn');
  if (mediaTypes !== undefined) filter.mediaTypeIn = mediaTypes;
  const user = objString(f, 'userIdEqual');
  if (user !== undefined) filter.userIdEqual = user;
  const tags = objList(f, 'tagsMultiLikeOr');
  if (tags !== undefined) filter.tagsMultiLikeOr = tags;
  const since = objInt(f, 'createdAtGreaterThanOrEqual', 'time');
  if (since !== undefined) filter.createdAtGreaterThanOrEqual = since;
  const order = objString(f, 'orderBy');
  if (order !== undefined && order !== '') {
    if (!(ENTRY_ORDER_NAMES as readonly string[]).includes(order)) throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: order.slice(0, 64), PARAM_NAME: 'filter:orderBy', ENUM_TYPE: `KalturaBaseEntryOrderBy (${ENTRY_ORDER_NAMES.join(', ')})` });
    filter.orderBy = order as EntryOrder;
  }
  if (mediaOnly) filter.typeIn = (filter.typeIn ?? [EntryType.MEDIA_CLIP]).filter((t) => t === EntryType.MEDIA_CLIP);
  // Kaltura's own defaults for a list: without a status filter only ready entries, and without a
  // moderation filter none pending moderation or rejected (README "api_v3"), so an
  // entry still converting, or waiting for approval, is not listed until it can play. A named
  // entry (idEqual, redirectFromEntryId) skips both, whatever its status, deleted included.
  if (idEqual !== undefined || redirect !== undefined) filter.includeDeleted = true;
  else {
    if (!filter.statusIn && !filter.statusNotIn) filter.statusIn = [EntryStatus.READY];
    if (!filter.moderationStatusIn && !filter.moderationStatusNotIn) {
      filter.moderationStatusNotIn = [ModerationStatus.PENDING_MODERATION, ModerationStatus.REJECTED];
    }
  }
  return filter;
}

async function listEntries(ctx: ApiContext, a: Record<string, any>, mediaOnly: boolean, type: string): Promise<ApiObject> {
  const { pageSize, pageIndex } = readPager(a.pager);
  const { objects, totalCount } = await ctx.catalog.listEntries(await entryFilter(ctx, a.filter, mediaOnly), pageSize, pageIndex);
  return listResponse(type, await entryApiObjects(ctx, objects), totalCount);
}

const VERSION = { type: 'int', default: -1 } as const;

const getAction = (mediaOnly: boolean, returns: string): ActionSpec => ({
  description: 'Gets an entry by id',
  params: { entryId: ID_ARG, version: VERSION },
  returns,
  throws: ['ENTRY_ID_NOT_FOUND'],
  async handler(ctx, a) {
    const e = await partnerEntry(ctx, a.entryId);
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
    ...baseEntryEditActions, // update, getByIds, approve, reject, updateThumbnailJpeg (entry-edit.ts)
    get: getAction(false, 'KalturaBaseEntry'),
    list: {
      description: 'Lists entries (filters: idEqual, idIn, redirectFromEntryId, referenceIdEqual, nameLike, statusEqual, statusIn, statusNotEqual, statusNotIn, moderationStatusEqual, moderationStatusIn, moderationStatusNotEqual, moderationStatusNotIn, mediaTypeEqual, mediaTypeIn, typeEqual, typeIn, userIdEqual, tagsMultiLikeOr, createdAtGreaterThanOrEqual, orderBy)',
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
      async handler(ctx, a) {
        const e = await partnerEntry(ctx, a.entryId);
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
    ...mediaEditActions, // update, approve, reject, updateThumbnail, updateThumbnailJpeg (entry-edit.ts)
    get: getAction(true, 'KalturaMediaEntry'),
    list: {
      description: 'Lists media entries',
      params: listArgs('KalturaMediaEntryFilter'),
      returns: 'KalturaMediaListResponse',
      handler: (ctx, a) => listEntries(ctx, a, true, 'KalturaMediaListResponse'),
    },
  },
};
