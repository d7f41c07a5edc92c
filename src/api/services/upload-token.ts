// uploadToken: chunked, resumable uploads into the data directory (src/ingest/uploads.ts), for
// media.addContent and baseEntry.addFromUploadedFile to ingest.
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ApiError } from '../errors.js';
import { objInt, objString } from '../args.js';
import { callPartnerId } from '../lookup.js';
import type { ApiContext, ApiObject, ServiceModule, UploadedFile } from '../types.js';
import {
  createUploadToken, deleteUploadToken, partnerUploadToken, uploadPath, UploadError, type ChunkOptions, type UploadEnv,
} from '../../ingest/uploads.js';
import { ingestStore, UploadTokenStatus, type UploadToken } from '../../ingest/store.js';

export const uploadEnv = (ctx: ApiContext): UploadEnv => ({ catalog: ctx.catalog, dataDir: ctx.config.dataDir, now: ctx.now });

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
    case 'OUT_OF_ORDER': throw new ApiError('UPLOAD_TOKEN_CHUNK_OUT_OF_ORDER', { REASON: e.message });
    case 'SIZE_MISMATCH': throw new ApiError('UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE', { REASON: e.message });
    default: throw new ApiError('UPLOAD_ERROR', { REASON: e.message });
  }
}

/**
 * Writing to the library (uploads, new entries, deletion) takes an admin KS: a user KS, and the
 * anonymous widget session any player can get, may only read.
 */
export function requireAdminKs(ctx: ApiContext): void {
  if (!ctx.ks || ctx.ks.type < 2) throw new ApiError('SERVICE_FORBIDDEN', { SERVICE: `${ctx.service}.${ctx.action} (an admin KS is required)` });
}

/** The tail of each upload file's chain of chunk writes. */
const chunkWrites = new Map<string, Promise<unknown>>();

/** Runs the writes of one upload file one after another: two chunks at once must not interleave their bytes. */
function oneAtATime<T>(file: string, write: () => Promise<T>): Promise<T> {
  const run = (chunkWrites.get(file) ?? Promise.resolve()).then(write);
  const tail = run.then(() => undefined, () => undefined);
  chunkWrites.set(file, tail);
  void tail.then(() => {
    if (chunkWrites.get(file) === tail) chunkWrites.delete(file);
  });
  return run;
}

function refuseUnlessUploadable(token: UploadToken): void {
  if (token.status !== UploadTokenStatus.PENDING && token.status !== UploadTokenStatus.PARTIAL_UPLOAD) {
    throw new UploadError('INVALID_STATUS_FOR_UPLOAD', `upload token ${token.id} is ${token.status === UploadTokenStatus.FULL_UPLOAD ? 'already complete' : 'already used'}: create a new upload token for another file`);
  }
}

/**
 * src/ingest's writeChunk with the file work off the event loop: a chunk is up to 64 MB, and a
 * synchronous write of it holds up every other request of the server. Same rules: a chunk may
 * repeat bytes already received (a retry) but never leave a gap, and a failed write is cut back
 * to what had arrived before it.
 */
async function writeChunkAsync(env: UploadEnv, partnerId: number, tokenId: string, data: Buffer, o: ChunkOptions): Promise<UploadToken> {
  const file = uploadPath(env.dataDir, tokenId);
  return oneAtATime(file, async () => {
    const store = ingestStore(env.catalog.db);
    // read again in turn: the chunk before this one may have completed the token
    const token = partnerUploadToken(env, partnerId, tokenId);
    refuseUnlessUploadable(token);
    await mkdir(join(env.dataDir, 'uploads'), { recursive: true });
    const existing = o.resume ? await stat(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    }) : null;
    const have = existing ? existing.size : 0;
    const at = o.resume ? (o.resumeAt < 0 ? have : o.resumeAt) : 0;
    if (at > have) {
      throw new UploadError('OUT_OF_ORDER', `chunk out of order: it starts at byte ${at} but ${have} bytes have arrived; send the chunk that starts at byte ${have} first`, { RESUME_AT: at, UPLOADED_SIZE: have });
    }
    // Deletion and expiry remove the file at any time, perhaps before this write recreated it:
    // their answer stands, and their removal is done again
    const refuseIfGoneMeanwhile = async () => {
      const current = store.getUploadToken(tokenId);
      if (current && current.status !== UploadTokenStatus.DELETED && current.status !== UploadTokenStatus.TIMED_OUT) return;
      await rm(file, { force: true });
      refuseUnlessUploadable(partnerUploadToken(env, partnerId, tokenId));
    };
    const handle = await open(file, o.resume ? (existing ? 'r+' : 'w+') : 'w').catch(async (e: unknown) => {
      await refuseIfGoneMeanwhile();
      throw e;
    });
    let size = have;
    let failure: UploadError | null = null;
    try {
      let off = 0;
      while (off < data.length) off += (await handle.write(data, off, data.length - off, at + off)).bytesWritten;
      size = Math.max(have, at + data.length);
    } catch (e) {
      // A full disk must not leave a torn chunk that a resume would build on
      try { await handle.truncate(have); } catch { /* nothing more to do */ }
      const code = (e as NodeJS.ErrnoException).code;
      failure = new UploadError('WRITE_FAILED', code === 'ENOSPC' || code === 'EFBIG'
        ? `the server's disk is full (${code}); the chunk was not kept: try again later from byte ${have}`
        : `the chunk could not be written (${code ?? (e as Error).message}); try again from byte ${have}`);
    } finally {
      await handle.close();
    }
    await refuseIfGoneMeanwhile();
    if (failure) throw failure;
    const next: UploadToken = { ...token, uploadedFileSize: size, status: UploadTokenStatus.PARTIAL_UPLOAD };
    if (o.finalChunk) {
      if (token.fileSize !== null && token.fileSize > 0 && size !== token.fileSize) {
        store.updateUploadToken(next, env.now);
        throw new UploadError('SIZE_MISMATCH', `${size} bytes have arrived but the token was created for ${token.fileSize}: send the missing bytes from byte ${size}`, { UPLOADED_SIZE: size, FILE_SIZE: token.fileSize });
      }
      next.status = UploadTokenStatus.FULL_UPLOAD;
    }
    store.updateUploadToken(next, env.now);
    return next;
  });
}

const TOKEN_ID = { type: 'string', required: true, maxLength: 64 } as const;

export const uploadTokenService: ServiceModule = {
  name: 'uploadToken',
  description: 'Uploads of media files in chunks, resumable',
  actions: {
    add: {
      description: 'Creates an upload token (optionally with the file name and its size in bytes)',
      params: { uploadToken: { type: 'object', kalturaType: 'KalturaUploadToken' } },
      returns: 'KalturaUploadToken',
      handler(ctx, a) {
        requireAdminKs(ctx);
        const partnerId = callPartnerId(ctx);
        const size = objInt(a.uploadToken, 'fileSize');
        if (size !== undefined && size < 0) throw new ApiError('UPLOAD_ERROR', { REASON: 'fileSize must not be negative' });
        const t = createUploadToken(uploadEnv(ctx), {
          partnerId, userId: ctx.ks?.userId ?? '', fileName: objString(a.uploadToken, 'fileName') ?? '', fileSize: size ?? null,
        });
        return uploadTokenObject(t);
      },
    },
    upload: {
      description: 'Uploads a chunk: resume=false starts over; resume=true writes at resumeAt (-1: at the end); finalChunk=true completes the upload',
      params: {
        uploadTokenId: TOKEN_ID,
        fileData: { type: 'file', required: true },
        resume: { type: 'bool', default: false },
        finalChunk: { type: 'bool', default: true },
        resumeAt: { type: 'float', default: -1 },
      },
      returns: 'KalturaUploadToken',
      throws: ['UPLOAD_TOKEN_NOT_FOUND', 'UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD', 'UPLOAD_TOKEN_CHUNK_OUT_OF_ORDER', 'UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE', 'UPLOAD_ERROR'],
      async handler(ctx, a) {
        requireAdminKs(ctx);
        const env = uploadEnv(ctx);
        try {
          const partnerId = callPartnerId(ctx);
          // an unknown token is refused before a bad resumeAt, as ever; the chunk's turn reads it again
          partnerUploadToken(env, partnerId, a.uploadTokenId);
          const resumeAt = Math.floor(Number(a.resumeAt));
          if (!Number.isFinite(resumeAt) || resumeAt < -1) throw new ApiError('UPLOAD_ERROR', { REASON: 'resumeAt must be -1 or a byte offset' });
          const file = a.fileData as UploadedFile;
          return uploadTokenObject(await writeChunkAsync(env, partnerId, a.uploadTokenId, file.data, { resume: !!a.resume, resumeAt, finalChunk: !!a.finalChunk }));
        } catch (e) {
          return uploadApiError(e);
        }
      },
    },
    get: {
      params: { uploadTokenId: TOKEN_ID },
      returns: 'KalturaUploadToken',
      throws: ['UPLOAD_TOKEN_NOT_FOUND'],
      handler(ctx, a) {
        requireAdminKs(ctx);
        try {
          return uploadTokenObject(partnerUploadToken(uploadEnv(ctx), callPartnerId(ctx), a.uploadTokenId));
        } catch (e) {
          return uploadApiError(e);
        }
      },
    },
    delete: {
      params: { uploadTokenId: TOKEN_ID },
      returns: 'void',
      throws: ['UPLOAD_TOKEN_NOT_FOUND'],
      handler(ctx, a) {
        requireAdminKs(ctx);
        try {
          deleteUploadToken(uploadEnv(ctx), partnerUploadToken(uploadEnv(ctx), callPartnerId(ctx), a.uploadTokenId));
          return null;
        } catch (e) {
          return uploadApiError(e);
        }
      },
    },
  },
};
