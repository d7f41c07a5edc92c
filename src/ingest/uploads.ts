// Upload tokens (Kaltura's uploadToken service): a file arrives in one or more chunks into
// `{dataDir}/uploads/{tokenId}`, resumable, and is then handed to ingest exactly once.
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, rmSync, statSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import type { Catalog } from '../catalog/catalog.js';
import { ingestStore, UploadTokenStatus, type UploadToken } from './store.js';

export type UploadErrorKind = 'NOT_FOUND' | 'INVALID_STATUS_FOR_UPLOAD' | 'OUT_OF_ORDER' | 'SIZE_MISMATCH' | 'INVALID_STATUS_FOR_ADD_ENTRY' | 'WRITE_FAILED';

export class UploadError extends Error {
  constructor(readonly kind: UploadErrorKind, message: string, readonly details: Record<string, string | number> = {}) {
    super(message);
  }
}

export const uploadPath = (dataDir: string, tokenId: string) => join(dataDir, 'uploads', tokenId);

export interface UploadEnv {
  catalog: Catalog;
  dataDir: string;
  now: number;
}

export function createUploadToken(env: UploadEnv, t: { partnerId: number; userId: string; fileName: string; fileSize: number | null }): UploadToken {
  const store = ingestStore(env.catalog.db);
  const id = store.newUploadTokenId();
  store.createUploadToken({ id, ...t, fileName: t.fileName.slice(0, 256), now: env.now });
  return store.getUploadToken(id)!;
}

/** The token of a partner; another partner's token answers exactly like an unknown one. */
export function partnerUploadToken(env: UploadEnv, partnerId: number, id: string): UploadToken {
  const t = ingestStore(env.catalog.db).getUploadToken(id);
  if (!t || t.partnerId !== partnerId || t.status === UploadTokenStatus.DELETED) throw new UploadError('NOT_FOUND', `upload token ${id} not found`);
  return t;
}

export interface ChunkOptions {
  /** Append to what has arrived (true), or start the file over (false). */
  resume: boolean;
  /** Byte offset of this chunk; -1: at the end of what has arrived. */
  resumeAt: number;
  /** The last chunk: the upload is complete after it. */
  finalChunk: boolean;
}

/**
 * Writes one chunk. A chunk may repeat bytes already received (a retry), but never leave a gap:
 * one that starts past the end is refused with the offset to send instead.
 */
export function writeChunk(env: UploadEnv, token: UploadToken, data: Buffer, o: ChunkOptions): UploadToken {
  const store = ingestStore(env.catalog.db);
  if (token.status !== UploadTokenStatus.PENDING && token.status !== UploadTokenStatus.PARTIAL_UPLOAD) {
    throw new UploadError('INVALID_STATUS_FOR_UPLOAD', `upload token ${token.id} is ${token.status === UploadTokenStatus.FULL_UPLOAD ? 'already complete' : 'already used'}: create a new upload token for another file`);
  }
  const file = uploadPath(env.dataDir, token.id);
  mkdirSync(join(env.dataDir, 'uploads'), { recursive: true });
  const have = o.resume && existsSync(file) ? statSync(file).size : 0;
  const at = o.resume ? (o.resumeAt < 0 ? have : o.resumeAt) : 0;
  if (at > have) {
    throw new UploadError('OUT_OF_ORDER', `chunk out of order: it starts at byte ${at} but ${have} bytes have arrived; send the chunk that starts at byte ${have} first`, { RESUME_AT: at, UPLOADED_SIZE: have });
  }
  const fd = openSync(file, o.resume ? (existsSync(file) ? 'r+' : 'w+') : 'w');
  let size = have;
  try {
    let off = 0;
    while (off < data.length) off += writeSync(fd, data, off, data.length - off, at + off);
    size = Math.max(have, at + data.length);
  } catch (e) {
    // A full disk must not leave a torn chunk that a resume would build on
    try { ftruncateSync(fd, have); } catch { /* nothing more to do */ }
    const code = (e as NodeJS.ErrnoException).code;
    throw new UploadError('WRITE_FAILED', code === 'ENOSPC' || code === 'EFBIG'
      ? `the server's disk is full (${code}); the chunk was not kept: try again later from byte ${have}`
      : `the chunk could not be written (${code ?? (e as Error).message}); try again from byte ${have}`);
  } finally {
    closeSync(fd);
  }
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
}

/**
 * Takes a completed upload for an entry: the token is marked used at once (so a second use is
 * refused even while the first is still being probed) and the file's path is returned.
 */
export function claimUpload(env: UploadEnv, token: UploadToken, entryId: string): string {
  if (token.status !== UploadTokenStatus.FULL_UPLOAD) {
    throw new UploadError('INVALID_STATUS_FOR_ADD_ENTRY', token.status === UploadTokenStatus.CLOSED
      ? `upload token ${token.id} was already used for entry ${token.entryId ?? '?'}: upload the file again with a new token`
      : `upload token ${token.id} is not complete (${token.uploadedFileSize} bytes so far): send the final chunk (finalChunk=true) first`);
  }
  const file = uploadPath(env.dataDir, token.id);
  // A zero-byte upload may have had no chunk to create the file
  if (!existsSync(file)) {
    mkdirSync(join(env.dataDir, 'uploads'), { recursive: true });
    closeSync(openSync(file, 'a'));
  }
  ingestStore(env.catalog.db).updateUploadToken({ ...token, status: UploadTokenStatus.CLOSED, entryId }, env.now);
  return file;
}

export function deleteUploadToken(env: UploadEnv, token: UploadToken): void {
  ingestStore(env.catalog.db).updateUploadToken({ ...token, status: UploadTokenStatus.DELETED }, env.now);
  rmSync(uploadPath(env.dataDir, token.id), { force: true });
}

/** Upload tokens left unfinished for `maxAgeSeconds` are TIMED_OUT (4) and their partial files removed. */
export function expireUploadTokens(env: UploadEnv, maxAgeSeconds: number): number {
  const store = ingestStore(env.catalog.db);
  const stale = store.staleUploadTokens(env.now - maxAgeSeconds);
  for (const id of stale) {
    const t = store.getUploadToken(id)!;
    store.updateUploadToken({ ...t, status: UploadTokenStatus.TIMED_OUT }, env.now);
    rmSync(uploadPath(env.dataDir, id), { force: true });
  }
  return stale.length;
}
