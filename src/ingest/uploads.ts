// Upload tokens (Kaltura's uploadToken service): a file arrives in one or more chunks into
// `{dataDir}/uploads/{tokenId}`, resumable, and is then handed to ingest exactly once.
import { closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { mkdir, open, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { UploadTokenStatus, type Catalog, type UploadToken } from '../catalog/store.js';

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

export async function createUploadToken(env: UploadEnv, t: { partnerId: number; userId: string; fileName: string; fileSize: number | null }): Promise<UploadToken> {
  const store = env.catalog.ingest;
  const id = await store.newUploadTokenId();
  await store.createUploadToken({ id, ...t, fileName: t.fileName.slice(0, 256), now: env.now });
  return (await store.getUploadToken(id))!;
}

/** The token of a partner; another partner's token answers exactly like an unknown one. */
export async function partnerUploadToken(env: UploadEnv, partnerId: number, id: string): Promise<UploadToken> {
  const t = await env.catalog.ingest.getUploadToken(id);
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
 * Writes one chunk of a partner's upload token. A chunk may repeat bytes already received (a
 * retry) but never leave a gap: one that starts past the end is refused with the offset to send
 * instead. A failed write is cut back to what had arrived before it. The file work is
 * asynchronous: a chunk is up to 64 MB, and a synchronous write of it would hold up every other
 * request of the server.
 */
export async function writeChunk(env: UploadEnv, partnerId: number, tokenId: string, data: Buffer, o: ChunkOptions): Promise<UploadToken> {
  const file = uploadPath(env.dataDir, tokenId);
  return oneAtATime(file, async () => {
    const store = env.catalog.ingest;
    // read again in turn: the chunk before this one may have completed the token
    const token = await partnerUploadToken(env, partnerId, tokenId);
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
      const current = await store.getUploadToken(tokenId);
      if (current && current.status !== UploadTokenStatus.DELETED && current.status !== UploadTokenStatus.TIMED_OUT) return;
      await rm(file, { force: true });
      refuseUnlessUploadable(await partnerUploadToken(env, partnerId, tokenId));
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
        await store.updateUploadToken(next, env.now);
        throw new UploadError('SIZE_MISMATCH', `${size} bytes have arrived but the token was created for ${token.fileSize}: send the missing bytes from byte ${size}`, { UPLOADED_SIZE: size, FILE_SIZE: token.fileSize });
      }
      next.status = UploadTokenStatus.FULL_UPLOAD;
    }
    await store.updateUploadToken(next, env.now);
    return next;
  });
}

/** Refuses a token that is not a complete, unused upload (what claimUpload takes). */
export function refuseUnlessComplete(token: UploadToken): void {
  if (token.status !== UploadTokenStatus.FULL_UPLOAD) {
    throw new UploadError('INVALID_STATUS_FOR_ADD_ENTRY', token.status === UploadTokenStatus.CLOSED
      ? `upload token ${token.id} was already used for entry ${token.entryId ?? '?'}: upload the file again with a new token`
      : `upload token ${token.id} is not complete (${token.uploadedFileSize} bytes so far): send the final chunk (finalChunk=true) first`);
  }
}

/**
 * Takes a completed upload for an entry: the token is marked used at once, by a conditional
 * update (so a second use is refused, even from another request or node, while the first is
 * still being probed), and the file's path is returned.
 */
export async function claimUpload(env: UploadEnv, token: UploadToken, entryId: string): Promise<string> {
  refuseUnlessComplete(token);
  const file = uploadPath(env.dataDir, token.id);
  if (!(await env.catalog.ingest.closeUploadToken(token.id, entryId, env.now))) {
    // another request took it since `token` was read: refused as that request's use makes it
    refuseUnlessComplete((await env.catalog.ingest.getUploadToken(token.id)) ?? { ...token, status: UploadTokenStatus.DELETED });
    throw new UploadError('INVALID_STATUS_FOR_ADD_ENTRY', `upload token ${token.id} is not complete: send the final chunk (finalChunk=true) first`);
  }
  // A zero-byte upload may have had no chunk to create the file
  if (!existsSync(file)) {
    mkdirSync(join(env.dataDir, 'uploads'), { recursive: true });
    closeSync(openSync(file, 'a'));
  }
  return file;
}

export async function deleteUploadToken(env: UploadEnv, token: UploadToken): Promise<void> {
  await env.catalog.ingest.updateUploadToken({ ...token, status: UploadTokenStatus.DELETED }, env.now);
  rmSync(uploadPath(env.dataDir, token.id), { force: true });
}

/** Upload tokens left unfinished for `maxAgeSeconds` are TIMED_OUT (4) and their partial files removed. */
export async function expireUploadTokens(env: UploadEnv, maxAgeSeconds: number): Promise<number> {
  const stale = await env.catalog.ingest.expireUploadTokens(env.now - maxAgeSeconds, env.now);
  for (const id of stale) rmSync(uploadPath(env.dataDir, id), { force: true });
  return stale.length;
}
