// The ingest actions of media and baseEntry (merged into those services in base-entry.ts):
// media.add, media.addContent with an uploaded-file-token resource, addFromUploadedFile, delete.
// The upload is registered as the entry's source at once; transcoding runs in the background
// queue (src/ingest/queue.ts), and the entry's status goes PRECONVERT (1) → READY (2) or ERROR.
import { rmSync } from 'node:fs';
import { ApiError } from '../errors.js';
import { ID_ARG, objInt, objString } from '../args.js';
import { callPartnerId, entryApiObject, partnerEntry } from '../lookup.js';
import type { ActionSpec, ApiContext } from '../types.js';
import type { Params } from '../params.js';
import { EntryStatus, EntryType, MediaType, type Entry } from '../../catalog/types.js';
import { addSource, ContentTakenError, IngestError, takesContent, type IngestContext } from '../../ingest/pipeline.js';
import { nudgeIngestWorkers } from '../../ingest/queue.js';
import { oneAtATime } from '../../concurrency/one-at-a-time.js';
import { claimUpload, partnerUploadToken, refuseUnlessComplete } from '../../ingest/uploads.js';
import { deleteEntry } from '../../ingest/delete.js';
import { uploadApiError, uploadEnv } from './upload-token.js';
import { isAdminSession, requireAdminKs, requireIngestSession } from '../permissions.js';
import { newEntryChanges } from './entry-edit.js';

const ingestContext = (ctx: ApiContext): IngestContext => ({
  catalog: ctx.catalog, dataDir: ctx.config.dataDir, mediaRoot: ctx.config.mediaRoot, media: ctx.media?.writer, now: () => ctx.now,
});

/** Properties of a new entry's object that createEntry applies itself; the others are checked as an update's. */
const INSERT_ONLY: ReadonlySet<string> = new Set(['mediaType', 'conversionProfileId', 'userId', 'type']);
const MAX_USER_ID = 100;

/**
 * A new entry from a KalturaMediaEntry / KalturaBaseEntry input object, waiting for content
 * (NO_CONTENT). Every property is applied or the entry is refused before anything is made: an
 * accessControlId dropped would make public an entry meant to be behind a rule.
 * A conversionProfileId given is kept on the entry: media.addContent transcodes with it later, as
 * addFromUploadedFile does at once.
 */
async function createEntry(ctx: ApiContext, input: Params | null): Promise<Entry> {
  requireIngestSession(ctx);
  const partnerId = callPartnerId(ctx);
  const mediaType = objInt(input, 'mediaType', 'KalturaMediaType') ?? MediaType.VIDEO;
  if (mediaType !== MediaType.VIDEO && mediaType !== MediaType.AUDIO) {
    throw new ApiError('INVALID_ENUM_VALUE', { ENUM_VAL: mediaType, PARAM_NAME: 'entry:mediaType', ENUM_TYPE: 'KalturaMediaType (1 video, 5 audio)' });
  }
  const type = objInt(input, 'type', 'KalturaEntryType');
  // AUTOMATIC (-1) lets the server choose: a media clip
  if (type !== undefined && type !== EntryType.MEDIA_CLIP && type !== -1) throw new ApiError('ENTRY_TYPE_NOT_SUPPORTED', { ENTRY_TYPE: type });
  const profile = objInt(input, 'conversionProfileId');
  if (profile !== undefined && !(await ctx.catalog.listConversionProfiles(partnerId)).some((p) => p.id === profile)) {
    throw new ApiError('CONVERSION_PROFILE_ID_NOT_FOUND', { ID: profile });
  }
  const owner = objString(input, 'userId');
  if (owner !== undefined && owner !== (ctx.ks?.userId ?? '') && !isAdminSession(ctx)) throw new ApiError('PROPERTY_VALIDATION_ADMIN_PROPERTY', { PROP_NAME: 'userId' });
  if (owner !== undefined && owner.length > MAX_USER_ID) throw new ApiError('PROPERTY_VALIDATION_MAX_LENGTH', { PROP_NAME: 'userId', MAX_LEN: MAX_USER_ID });
  const { name, description, tags, referenceId, ...rest } = await newEntryChanges(ctx, partnerId, input ?? {}, INSERT_ONLY);
  const store = ctx.catalog.ingest;
  const id = await store.newEntryId();
  await store.createEntry({
    id, partnerId, name: name ?? '', description: description ?? '', tags: tags ?? '', referenceId: referenceId ?? '',
    userId: owner ?? ctx.ks?.userId ?? '', status: EntryStatus.NO_CONTENT, mediaType, now: ctx.now, conversionProfileId: profile ?? null,
  });
  if (Object.keys(rest).length) {
    try {
      await ctx.catalog.updateEntry(id, rest, ctx.now);
    } catch (e) {
      // the caller is told the entry was not made: it must not stay without its rule or schedule
      // (best effort: the catalog that failed the update may fail this too; the entry has no content)
      await store.markEntryDeleted(id, ctx.now).catch(() => undefined);
      throw e;
    }
  }
  return (await ctx.catalog.getEntry(id))!;
}

/**
 * Hands a completed upload to ingest as the entry's source, transcoded with the entry's conversion
 * profile (the partner's default when it has none); the token is used up either way.
 */
async function ingestUpload(ctx: ApiContext, entry: Entry, tokenId: string) {
  const env = uploadEnv(ctx);
  let file: string;
  let fileName: string;
  try {
    const token = await partnerUploadToken(env, entry.partnerId, tokenId);
    fileName = token.fileName;
    file = await claimUpload(env, token, entry.id);
  } catch (e) {
    return uploadApiError(e);
  }
  try {
    await addSource(ingestContext(ctx), {
      partnerId: entry.partnerId, file, fileName: fileName || undefined, move: true, entryId: entry.id,
      userId: ctx.ks?.userId, conversionProfileId: entry.conversionProfileId ?? undefined,
    });
    nudgeIngestWorkers();
  } catch (e) {
    // given content by another process (or node) meanwhile: what a second addContent is told
    if (e instanceof ContentTakenError) throw new ApiError('ENTRY_ALREADY_WITH_CONTENT');
    if (e instanceof IngestError) throw new ApiError('INGEST_FAILED', { ENTRY_ID: entry.id, REASON: e.message });
    throw e;
  } finally {
    rmSync(file, { force: true });
  }
  return await entryApiObject(ctx, (await ctx.catalog.getEntry(entry.id))!);
}

function uploadedTokenOf(resource: Params | null): string {
  const type = objString(resource, 'objectType');
  if (type !== undefined && type !== 'KalturaUploadedFileTokenResource') {
    throw new ApiError('RESOURCE_TYPE_NOT_SUPPORTED', { RES_TYPE: type });
  }
  const token = objString(resource, 'token');
  if (!token) throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAM_NAME: 'resource:token' });
  return token;
}

/** The refusals of a new entry's object (createEntry). */
const NEW_ENTRY_ERRORS = [
  'INVALID_ENUM_VALUE', 'ENTRY_TYPE_NOT_SUPPORTED', 'CONVERSION_PROFILE_ID_NOT_FOUND', 'PROPERTY_IS_NOT_DEFINED', 'PROPERTY_VALIDATION_NOT_UPDATABLE',
  'PROPERTY_VALIDATION_ADMIN_PROPERTY', 'PROPERTY_VALIDATION_MAX_LENGTH', 'PROPERTY_VALIDATION_CANNOT_BE_NULL', 'INVALID_OBJECT_TYPE',
  'ACCESS_CONTROL_ID_NOT_FOUND', 'INVALID_ENTRY_SCHEDULE_DATES',
];
const INGEST_ERRORS = ['UPLOAD_TOKEN_NOT_FOUND', 'UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY', 'INGEST_FAILED'];

const addFromUploadedFile = (entryParam: string, kalturaType: string): ActionSpec => ({
  description: 'Creates an entry from a completed upload token; transcoding runs in the background',
  writesMedia: true,
  params: { [entryParam]: { type: 'object', kalturaType, required: true }, uploadTokenId: ID_ARG, type: { type: 'int', default: -1 } },
  returns: kalturaType,
  throws: [...NEW_ENTRY_ERRORS, ...INGEST_ERRORS],
  async handler(ctx, a) {
    // the token is checked before the entry is made: a refused upload leaves no empty entry behind
    requireIngestSession(ctx);
    try {
      refuseUnlessComplete(await partnerUploadToken(uploadEnv(ctx), callPartnerId(ctx), a.uploadTokenId));
    } catch (e) {
      return uploadApiError(e);
    }
    const entry = await createEntry(ctx, a[entryParam]);
    return await ingestUpload(ctx, entry, a.uploadTokenId);
  },
});

const deleteAction: ActionSpec = {
  description: 'Deletes an entry: its status becomes DELETED (3) and its files are removed',
  params: { entryId: ID_ARG },
  returns: 'void',
  throws: ['ENTRY_ID_NOT_FOUND'],
  async handler(ctx, a) {
    requireAdminKs(ctx);
    const e = await partnerEntry(ctx, a.entryId);
    await deleteEntry({ catalog: ctx.catalog, dataDir: ctx.config.dataDir, mediaRoot: ctx.config.mediaRoot, media: ctx.media?.writer, now: ctx.now }, e.id);
    return null;
  },
};

/** media.addContent's requests for one entry, one after another (src/concurrency/one-at-a-time.ts). */
const contentTurns = oneAtATime();

export const mediaIngestActions: Record<string, ActionSpec> = {
  add: {
    description: 'Creates a media entry without content (status NO_CONTENT, 7); add content with media.addContent',
    params: { entry: { type: 'object', kalturaType: 'KalturaMediaEntry', required: true } },
    returns: 'KalturaMediaEntry',
    throws: NEW_ENTRY_ERRORS,
    handler: async (ctx, a) => await entryApiObject(ctx, await createEntry(ctx, a.entry)),
  },
  addContent: {
    description: 'Adds the content of an entry from a KalturaUploadedFileTokenResource; transcoding runs in the background',
    writesMedia: true,
    params: { entryId: ID_ARG, resource: { type: 'object', kalturaType: 'KalturaResource', required: true } },
    returns: 'KalturaMediaEntry',
    throws: ['ENTRY_ID_NOT_FOUND', 'ENTRY_ALREADY_WITH_CONTENT', 'RESOURCE_TYPE_NOT_SUPPORTED', ...INGEST_ERRORS],
    async handler(ctx, a) {
      requireAdminKs(ctx);
      const { id } = await partnerEntry(ctx, a.entryId);
      // One entry's content is judged and given one request at a time: two at once both found it
      // empty, both used up their tokens, and queued two sources whose jobs removed each other's files
      return await contentTurns(id, async () => {
        const e = await partnerEntry(ctx, id);
        // Kaltura's rules, in its order, before the resource is looked at: only a media clip takes
        // content, and only while it has none. A client resending addContent after a timeout reads
        // ENTRY_ALREADY_WITH_CONTENT as "done"; replacing content is updateContent's, not done here.
        if (e.type !== EntryType.MEDIA_CLIP) throw new ApiError('ENTRY_ID_NOT_FOUND', { ENTRY_ID: e.id });
        if (!(await takesContent(ctx.catalog, e))) throw new ApiError('ENTRY_ALREADY_WITH_CONTENT');
        return await ingestUpload(ctx, e, uploadedTokenOf(a.resource));
      });
    },
  },
  addFromUploadedFile: addFromUploadedFile('mediaEntry', 'KalturaMediaEntry'),
  delete: deleteAction,
};

export const baseEntryIngestActions: Record<string, ActionSpec> = {
  addFromUploadedFile: addFromUploadedFile('entry', 'KalturaBaseEntry'),
  delete: deleteAction,
};
