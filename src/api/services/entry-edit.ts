// Changing entries (merged into baseEntry and media in base-entry.ts): update, getByIds,
// approve/reject (moderation), and a new default thumbnail from a frame or a picture. Every write
// goes through the catalog, whose generation playManifest's answer cache and the read cache follow,
// so the next request sees the change: a rule assigned here refuses the next anonymous playManifest.
import { EntryStatus, EntryType, MediaType, ModerationStatus, type Entry, type EntryChanges } from '../../catalog/types.js';
import { FrameError, grabFrame } from '../../thumbnail/frames.js';
import { frameSourceOf } from '../../thumbnail/source.js';
import { encodeJpeg } from '../../thumbnail/image.js';
import { videoInput } from '../../thumbnail/service.js';
import { ID_ARG } from '../args.js';
import { ApiError, defineApiErrors } from '../errors.js';
import { callPartnerId, entryApiObject, entryApiObjects, partnerEntry } from '../lookup.js';
import type { Params } from '../params.js';
import { isAdminSession, requireAdminKs, requireEntryEditor } from '../permissions.js';
import type { ActionSpec, ApiContext, ApiObject, UploadedFile } from '../types.js';
import { addThumbFromBytes, MAX_THUMB_BYTES } from './thumb-asset.js';

defineApiErrors({
  ACCESS_CONTROL_ID_NOT_FOUND: 'Access control id "%ID%" not found',
  PROPERTY_VALIDATION_ADMIN_PROPERTY: 'The property "%PROP_NAME%" is updatable with admin session only',
  INVALID_ENTRY_SCHEDULE_DATES: 'Invalid entry schedule dates',
  ENTRY_TYPE_NOT_SUPPORTED: 'Entry type "%ENTRY_TYPE%" not supported',
  INVALID_ENTRY_MEDIA_TYPE: 'Entry "%ENTRY_NAME%" media type is "%WRONG_MEDIA_TYPE%", media type must be "%RIGHT_MEDIA_TYPE%"',
  ENTRY_NOT_READY: 'Entry "%ENTRY_NAME%" is not ready',
});

/** What update may change, with the length Kaltura allows and whether only an admin KS may. */
const UPDATABLE: Record<string, { max?: number; admin?: boolean }> = {
  name: { max: 256 },
  description: { max: 4096 },
  tags: { max: 4096 },
  adminTags: { max: 4096, admin: true },
  referenceId: { max: 1024, admin: true },
  accessControlId: { admin: true },
  startDate: { admin: true },
  endDate: { admin: true },
  partnerData: { max: 4096 },
};

/**
 * Properties of KalturaBaseEntry / KalturaMediaEntry that exist but update never changes (Kaltura's
 * readonly and insert-only ones): sending one is PROPERTY_VALIDATION_NOT_UPDATABLE, as in Kaltura.
 * A property of neither list is one this server does not keep, refused rather than dropped.
 */
const NOT_UPDATABLE = new Set([
  'id', 'partnerId', 'status', 'moderationStatus', 'moderationCount', 'type', 'createdAt', 'updatedAt', 'rank', 'totalRank',
  'votes', 'downloadUrl', 'searchText', 'version', 'thumbnailUrl', 'rootEntryId', 'capabilities', 'creatorId', 'mediaType',
  'dataUrl', 'flavorParamsIds', 'plays', 'views', 'lastPlayedAt', 'width', 'height', 'duration', 'msDuration', 'durationType',
  'documentType', 'redirectEntryId', 'replacingEntryId', 'replacedEntryId', 'replacementStatus', 'templateEntryId',
  'application', 'applicationVersion', 'defaultLanguage', 'responseLanguage', 'sourceType', 'searchProviderType',
  'searchProviderId', 'creditUserName', 'creditUrl', 'mediaDate', 'dataPath',
]);

/** A date field: a Unix time, or null/-1 to clear it (name__null). */
/** The last second a date may name (9999-12-31T23:59:59Z): past it a time no longer reads back as an integer. */
const LAST_TIME = 253_402_300_799;

function dateOf(input: Params, name: string): number | null {
  const v = input[name];
  if (v === null) return null;
  const n = Number(v);
  if (typeof v === 'object' || String(v).trim() === '' || !Number.isInteger(n) || n > LAST_TIME) {
    throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: String(v).slice(0, 64), PARAM_NAME: `entry:${name}`, ENUM_TYPE: 'time' });
  }
  return n < 0 ? null : n;
}

/**
 * The changes an update object asks for, checked as Kaltura checks them (permissions, lengths, the
 * profile, the dates). `insert` names the properties a new entry takes besides these, which the
 * caller applies itself (media.add's mediaType, userId, ...).
 */
async function entryChanges(ctx: ApiContext, entry: Pick<Entry, 'partnerId' | 'startDate' | 'endDate'>, input: Params, insert?: ReadonlySet<string>): Promise<EntryChanges> {
  const changes: EntryChanges = {};
  const admin = isAdminSession(ctx);
  for (const [k, v] of Object.entries(input)) {
    if (k === 'objectType' || insert?.has(k)) continue;
    const rule = UPDATABLE[k];
    if (!rule) {
      if (v === null) continue;
      if (NOT_UPDATABLE.has(k)) throw new ApiError('PROPERTY_VALIDATION_NOT_UPDATABLE', { PROP_NAME: k });
      // named by the type the caller sent (KalturaMediaEntry from media.add), as Kaltura names it
      const sent = typeof input.objectType === 'string' && /^Kaltura\w{0,40}Entry$/.test(input.objectType) ? input.objectType : 'KalturaBaseEntry';
      throw new ApiError('PROPERTY_IS_NOT_DEFINED', { PROP: k.slice(0, 64), TYPE: sent });
    }
    // a new entry may start without a name (API v2's addentry makes one so)
    if (insert && k === 'name' && (v === null || String(v) === '')) continue;
    // API v2's addentry (a user KS, as v2 allows: ctx.userMayIngest) has always set the new
    // entry's referenceId; an api_v3 caller needs an admin KS for it, as for an update
    if (rule.admin && !admin && !(insert && k === 'referenceId' && ctx.userMayIngest)) throw new ApiError('PROPERTY_VALIDATION_ADMIN_PROPERTY', { PROP_NAME: k });
    if (k === 'startDate' || k === 'endDate') {
      changes[k] = dateOf(input, k);
      continue;
    }
    if (k === 'accessControlId') {
      if (v === null) { changes.accessControlProfileId = null; continue; }
      const id = Number(v);
      const acp = Number.isInteger(id) ? await ctx.catalog.getAccessControlProfile(id) : undefined;
      if (!acp || acp.partnerId !== entry.partnerId) throw new ApiError('ACCESS_CONTROL_ID_NOT_FOUND', { ID: String(v).slice(0, 64) });
      changes.accessControlProfileId = acp.id;
      continue;
    }
    if (typeof v === 'object' && v !== null) throw new ApiError('INVALID_OBJECT_TYPE', { INVALID_OBJ_TYPE: k });
    const s = v === null ? '' : String(v);
    if (rule.max !== undefined && s.length > rule.max) throw new ApiError('PROPERTY_VALIDATION_MAX_LENGTH', { PROP_NAME: k, MAX_LEN: rule.max });
    if (k === 'name') {
      if (s.trim() === '') throw new ApiError('PROPERTY_VALIDATION_CANNOT_BE_NULL', { PROP_NAME: 'name' });
      changes.name = s;
    } else if (k === 'description') changes.description = s;
    else if (k === 'tags') changes.tags = s;
    else if (k === 'adminTags') changes.adminTags = s;
    else if (k === 'referenceId') changes.referenceId = s;
    else if (k === 'partnerData') changes.partnerData = s;
  }
  const start = changes.startDate !== undefined ? changes.startDate : entry.startDate;
  const end = changes.endDate !== undefined ? changes.endDate : entry.endDate;
  if (start !== null && end !== null && start >= end) throw new ApiError('INVALID_ENTRY_SCHEDULE_DATES');
  return changes;
}

/**
 * What a new entry's object (media.add, addFromUploadedFile) asks for besides the properties in
 * `insert`, checked as an update of it would be, before the entry is made: a property that cannot
 * be applied (an unknown rule, one not kept here) refuses the whole entry rather than being dropped.
 */
export function newEntryChanges(ctx: ApiContext, partnerId: number, input: Params, insert: ReadonlySet<string>): Promise<EntryChanges> {
  return entryChanges(ctx, { partnerId, startDate: null, endDate: null }, input, insert);
}

const updateAction = (param: string, kalturaType: string, mediaOnly: boolean): ActionSpec => ({
  description: 'Changes an entry: name, description, tags, adminTags, referenceId, accessControlId, startDate, endDate (the last five with an admin KS); the owner, or a KS with edit:{entryId}, may change the first three',
  params: { entryId: ID_ARG, [param]: { type: 'object', kalturaType, required: true } },
  returns: kalturaType,
  throws: ['ENTRY_ID_NOT_FOUND', 'INVALID_KS', 'PROPERTY_VALIDATION_ADMIN_PROPERTY', 'PROPERTY_VALIDATION_NOT_UPDATABLE', 'ACCESS_CONTROL_ID_NOT_FOUND', 'INVALID_ENTRY_SCHEDULE_DATES'],
  async handler(ctx, a) {
    const e = await partnerEntry(ctx, a.entryId);
    if (mediaOnly && e.type !== EntryType.MEDIA_CLIP) throw new ApiError('ENTRY_ID_NOT_FOUND', { ENTRY_ID: a.entryId });
    requireEntryEditor(ctx, e);
    const changes = await entryChanges(ctx, e, (a[param] as Params | null) ?? {});
    if (Object.keys(changes).length) await ctx.catalog.updateEntry(e.id, changes, ctx.now);
    return await entryApiObject(ctx, (await ctx.catalog.getEntry(e.id))!);
  },
});

/** Moderation: an admin decides; a rejected entry no longer plays (playManifest error 13), an approved one does. */
const moderate = (status: number): ActionSpec => ({
  description: status === ModerationStatus.APPROVED ? 'Approves an entry (moderation status 2)' : 'Rejects an entry (moderation status 3): it no longer plays',
  params: { entryId: ID_ARG },
  returns: 'void',
  throws: ['ENTRY_ID_NOT_FOUND'],
  async handler(ctx, a) {
    requireAdminKs(ctx);
    const e = await partnerEntry(ctx, a.entryId);
    await ctx.catalog.updateEntry(e.id, { moderationStatus: status }, ctx.now);
    return null;
  },
});

/** The entry a thumbnail is set on: of the partner, editable by the session. */
async function thumbnailEntry(ctx: ApiContext, id: string): Promise<Entry> {
  const e = await partnerEntry(ctx, id);
  requireEntryEditor(ctx, e);
  return e;
}

const updateThumbnailJpeg: ActionSpec = {
  description: "Makes a picture (JPEG, PNG, GIF or WebP, multipart fileData) the entry's default thumbnail, as a new thumbnail asset",
  writesMedia: true,
  params: { entryId: ID_ARG, fileData: { type: 'file', required: true } },
  returns: 'KalturaBaseEntry',
  throws: ['ENTRY_ID_NOT_FOUND', 'INVALID_KS', 'FILE_TYPE_NOT_SUPPORTED'],
  async handler(ctx, a) {
    const e = await thumbnailEntry(ctx, a.entryId);
    const file = a.fileData as UploadedFile;
    if (file.data.length > MAX_THUMB_BYTES) throw new ApiError('UPLOAD_ERROR', { REASON: `the picture is ${file.data.length} bytes; at most ${MAX_THUMB_BYTES} are taken` });
    await addThumbFromBytes(ctx, e, file.data, true);
    return await entryApiObject(ctx, (await ctx.catalog.getEntry(e.id))!);
  },
};

/** A frame of the entry's video at `seconds` as JPEG. */
export async function frameAt(ctx: ApiContext, e: Entry, seconds: number): Promise<Buffer> {
  if (e.mediaType !== MediaType.VIDEO || (e.type !== EntryType.MEDIA_CLIP && e.type !== EntryType.LIVE_STREAM)) {
    throw new ApiError('INVALID_ENTRY_MEDIA_TYPE', { ENTRY_NAME: e.id, WRONG_MEDIA_TYPE: e.mediaType, RIGHT_MEDIA_TYPE: MediaType.VIDEO });
  }
  const video = await frameSourceOf(ctx.catalog, e);
  if (!video || e.status !== EntryStatus.READY) throw new ApiError('ENTRY_NOT_READY', { ENTRY_NAME: e.id });
  const duration = video.durationMs / 1000 || e.duration;
  if (!Number.isFinite(seconds) || seconds < 0 || (duration > 0 && seconds > duration)) {
    throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: String(seconds), PARAM_NAME: 'timeOffset', ENUM_TYPE: `seconds from 0 to ${duration}` });
  }
  const at = Math.min(seconds, Math.max(0, duration - 0.04));
  // the video where the media store keeps it: a local path, or a URL ffmpeg reads with ranges
  const input = await videoInput(ctx, video.filePath);
  if (!input) throw new ApiError('INTERNAL_SERVERL_ERROR');
  let png: Buffer;
  try {
    png = await grabFrame('ffmpeg', input, at);
  } catch (e) {
    if (e instanceof FrameError) throw new ApiError('INTERNAL_SERVERL_ERROR');
    throw e;
  }
  return encodeJpeg(png, 85);
}

const updateThumbnail: ActionSpec = {
  description: "Makes the video's frame at timeOffset seconds the entry's default thumbnail, as a new thumbnail asset (ffmpeg grabs it)",
  writesMedia: true,
  params: { entryId: ID_ARG, timeOffset: { type: 'int', required: true }, flavorParamsId: { type: 'int' } },
  returns: 'KalturaMediaEntry',
  throws: ['ENTRY_ID_NOT_FOUND', 'INVALID_KS', 'INVALID_ENTRY_MEDIA_TYPE', 'ENTRY_NOT_READY'],
  async handler(ctx, a) {
    const e = await thumbnailEntry(ctx, a.entryId);
    const jpeg = await frameAt(ctx, e, a.timeOffset);
    await addThumbFromBytes(ctx, e, jpeg, true);
    return await entryApiObject(ctx, (await ctx.catalog.getEntry(e.id))!);
  },
};

const getByIds: ActionSpec = {
  description: 'The entries of a comma-separated list of ids (unknown ids are left out)',
  params: { entryIds: { type: 'string', required: true, maxLength: 64 * 500 } },
  returns: 'array:KalturaBaseEntry',
  async handler(ctx, a) {
    const pid = callPartnerId(ctx);
    const ids = [...new Set(String(a.entryIds).split(',').map((s) => s.trim()).filter(Boolean))].slice(0, 500);
    const found: Entry[] = [];
    for (const id of ids) {
      const e = await ctx.catalog.getEntry(id);
      if (e && e.partnerId === pid && e.status !== EntryStatus.DELETED) found.push(e);
    }
    return entryApiObjects(ctx, found);
  },
};

export const baseEntryEditActions: Record<string, ActionSpec> = {
  update: updateAction('baseEntry', 'KalturaBaseEntry', false),
  getByIds,
  approve: moderate(ModerationStatus.APPROVED),
  reject: moderate(ModerationStatus.REJECTED),
  updateThumbnailJpeg,
};

export const mediaEditActions: Record<string, ActionSpec> = {
  update: updateAction('mediaEntry', 'KalturaMediaEntry', true),
  approve: moderate(ModerationStatus.APPROVED),
  reject: moderate(ModerationStatus.REJECTED),
  updateThumbnail,
  updateThumbnailJpeg: { ...updateThumbnailJpeg, returns: 'KalturaMediaEntry' },
};
