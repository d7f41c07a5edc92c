// uploadToken: chunked, resumable uploads into the data directory (src/ingest/uploads.ts), for
// media.addContent and baseEntry.addFromUploadedFile to ingest.
import { ApiError } from '../errors.js';
import { ID_ARG, objInt, objString } from '../args.js';
import { callPartnerId } from '../lookup.js';
import { requireAdminKs, requireIngestSession } from '../permissions.js';
import type { ApiContext, ApiObject, ServiceModule, UploadedFile } from '../types.js';
import {
  createUploadToken, deleteUploadToken, partnerUploadToken, UploadError, writeChunk, type UploadEnv,
} from '../../ingest/uploads.js';
import type { UploadToken } from '../../catalog/store.js';

export const uploadEnv = (ctx: ApiContext): UploadEnv => ({ catalog: ctx.catalog, dataDir: ctx.config.dataDir, now: ctx.now, media: ctx.media?.writer });

export function uploadTokenObject(t: UploadToken): ApiObject {
  return {
    objectType: 'KalturaUploadToken',
    id: t.id, partnerId: t.partnerId, userId: t.userId, status: t.status, fileName: t.fileName,
    fileSize: t.fileSize ?? undefined, uploadedFileSize: t.uploadedFileSize, createdAt: t.createdAt, updatedAt: t.updatedAt,
    autoFinalize: 0,
  };
}

/** src/ingest's upload refusals as api_v3 errors. */
export function uploadApiError(e: unknown): never {
  if (!(e instanceof UploadError)) throw e;
  switch (e.kind) {
    case 'NOT_FOUND': throw new ApiError('UPLOAD_TOKEN_NOT_FOUND');
    case 'INVALID_STATUS_FOR_UPLOAD': throw new ApiError('UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD', { REASON: e.message });
    case 'INVALID_STATUS_FOR_ADD_ENTRY': throw new ApiError('UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY', { REASON: e.message });
    case 'SIZE_MISMATCH': throw new ApiError('UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE', { REASON: e.message });
    // the media store failed: a 503 a client retries, the same request again
    case 'STORE_FAILED': throw new ApiError('UPLOAD_ERROR', { REASON: e.message }, { httpStatus: 503 });
    default: throw new ApiError('UPLOAD_ERROR', { REASON: e.message });
  }
}

export { requireAdminKs } from '../permissions.js';

export const uploadTokenService: ServiceModule = {
  name: 'uploadToken',
  description: 'Uploads of media files in chunks, resumable',
  actions: {
    add: {
      description: 'Creates an upload token (optionally with the file name and its size in bytes)',
      params: { uploadToken: { type: 'object', kalturaType: 'KalturaUploadToken' } },
      returns: 'KalturaUploadToken',
      async handler(ctx, a) {
        requireIngestSession(ctx);
        const partnerId = callPartnerId(ctx);
        const size = objInt(a.uploadToken, 'fileSize');
        if (size !== undefined && size < 0) throw new ApiError('UPLOAD_ERROR', { REASON: 'fileSize must not be negative' });
        const t = await createUploadToken(uploadEnv(ctx), {
          partnerId, userId: ctx.ks?.userId ?? '', fileName: objString(a.uploadToken, 'fileName') ?? '', fileSize: size ?? null,
        });
        return uploadTokenObject(t);
      },
    },
    upload: {
      description: 'Uploads a chunk: resume=false starts over; resume=true writes at resumeAt (-1: at the end; past the end: kept until the chunks before it arrive); finalChunk=true completes the upload',
      writesMedia: true,
      params: {
        uploadTokenId: ID_ARG,
        fileData: { type: 'file', required: true },
        resume: { type: 'bool', default: false },
        finalChunk: { type: 'bool', default: true },
        resumeAt: { type: 'float', default: -1 },
      },
      returns: 'KalturaUploadToken',
      throws: ['UPLOAD_TOKEN_NOT_FOUND', 'UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD', 'UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE', 'UPLOAD_ERROR'],
      async handler(ctx, a) {
        requireIngestSession(ctx);
        const env = uploadEnv(ctx);
        try {
          const partnerId = callPartnerId(ctx);
          // an unknown token is refused before a bad resumeAt, as ever; the chunk's turn reads it again
          await partnerUploadToken(env, partnerId, a.uploadTokenId);
          const resumeAt = Math.floor(Number(a.resumeAt));
          if (!Number.isSafeInteger(resumeAt) || resumeAt < -1) throw new ApiError('UPLOAD_ERROR', { REASON: 'resumeAt must be -1 or a byte offset' });
          const file = a.fileData as UploadedFile;
          return uploadTokenObject(await writeChunk(env, partnerId, a.uploadTokenId, file.data, { resume: !!a.resume, resumeAt, finalChunk: !!a.finalChunk }));
        } catch (e) {
          return uploadApiError(e);
        }
      },
    },
    get: {
      params: { uploadTokenId: ID_ARG },
      returns: 'KalturaUploadToken',
      throws: ['UPLOAD_TOKEN_NOT_FOUND'],
      async handler(ctx, a) {
        requireAdminKs(ctx);
        try {
          return uploadTokenObject(await partnerUploadToken(uploadEnv(ctx), callPartnerId(ctx), a.uploadTokenId));
        } catch (e) {
          return uploadApiError(e);
        }
      },
    },
    delete: {
      params: { uploadTokenId: ID_ARG },
      returns: 'void',
      throws: ['UPLOAD_TOKEN_NOT_FOUND'],
      async handler(ctx, a) {
        requireAdminKs(ctx);
        try {
          await deleteUploadToken(uploadEnv(ctx), await partnerUploadToken(uploadEnv(ctx), callPartnerId(ctx), a.uploadTokenId));
          return null;
        } catch (e) {
          return uploadApiError(e);
        }
      },
    },
  },
};
