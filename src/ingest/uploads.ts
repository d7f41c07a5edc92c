// Upload tokens (Kaltura's uploadToken service): a file arrives in one or more chunks, resumable,
// and is then handed to ingest exactly once. Where the chunks go:
// - local media: into `{dataDir}/uploads/{tokenId}`, one file written in place, as ever;
// - a shared media store (S3): each chunk becomes an object of the store (`.uploads/{tokenId}/…`)
//   recorded in the catalog (upload_parts), so the chunks of one upload may arrive at different
//   nodes; the catalog serialises them per token. When the upload is used (claimUpload) the node
//   that takes it streams the parts into one local file (ffprobe and ffmpeg need it there anyway),
//   ingest puts that file in the store as the entry's source, and the parts are removed.
import { createWriteStream, closeSync, existsSync, mkdirSync, openSync, rmSync } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat, writeFile, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { pipeline } from 'node:stream/promises';
import { UploadTokenStatus, type Catalog, type UploadPart, type UploadToken } from '../catalog/store.js';
import { MediaWriteError, type MediaWriter } from '../storage/media-writer.js';
import { oneAtATime } from '../concurrency/one-at-a-time.js';

export type UploadErrorKind = 'NOT_FOUND' | 'INVALID_STATUS_FOR_UPLOAD' | 'SIZE_MISMATCH' | 'INVALID_STATUS_FOR_ADD_ENTRY' | 'WRITE_FAILED' | 'STORE_FAILED';

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
  /** The media store's writer: when it is shared (S3) chunks are staged there; else (or absent) in `{dataDir}/uploads`. */
  media?: MediaWriter | null;
}

/** The writer of a shared media store, when chunks are staged there. */
const sharedStore = (env: UploadEnv): MediaWriter | null => (env.media?.shared ? env.media : null);

/** Where the staged parts of a token live in a shared store. */
const partsPrefix = (tokenId: string) => `.uploads/${tokenId}/`;

/** A store that failed under a chunk or an assembly: nothing was kept, and the same request may be sent again. */
function storeFailed(e: unknown, retry: string): never {
  if (e instanceof MediaWriteError) throw new UploadError('STORE_FAILED', `${e.shown}; nothing was kept: ${retry}`);
  throw e;
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

/** Runs the writes of one upload file one after another: two chunks at once must not interleave their bytes. */
const chunkWrites = oneAtATime();

function refuseUnlessUploadable(token: UploadToken): void {
  if (token.status !== UploadTokenStatus.PENDING && token.status !== UploadTokenStatus.PARTIAL_UPLOAD) {
    throw new UploadError('INVALID_STATUS_FOR_UPLOAD', `upload token ${token.id} is ${token.status === UploadTokenStatus.FULL_UPLOAD ? 'already complete' : 'already used'}: create a new upload token for another file`);
  }
}

/**
 * Writes one chunk of a partner's upload token. A chunk may repeat bytes already received (a
 * retry); one that starts past the end is kept aside until the chunks before it arrive, as
 * Kaltura's parallel chunked upload sends them (src/catalog/upload-parts.ts decides the same for a
 * shared store), except the final chunk, refused until every byte before it is in. A failed write
 * is cut back to what had arrived before it. The file work is asynchronous: a chunk is up to
 * 64 MB, and a synchronous write of it would hold up every other request of the server.
 */
export async function writeChunk(env: UploadEnv, partnerId: number, tokenId: string, data: Buffer, o: ChunkOptions): Promise<UploadToken> {
  const shared = sharedStore(env);
  if (shared) return stageChunk(env, shared, partnerId, tokenId, data, o);
  const file = uploadPath(env.dataDir, tokenId);
  return chunkWrites(file, async () => {
    const store = env.catalog.ingest;
    // read again in turn: the chunk before this one may have completed the token
    let token = await partnerUploadToken(env, partnerId, tokenId);
    refuseUnlessUploadable(token);
    // an uploads folder this user may not write (EACCES), or on a full or read-only disk: the
    // reference's upload error saying why, as for a failed write (it was a bare internal error)
    await mkdir(join(env.dataDir, 'uploads'), { recursive: true }).catch((e: unknown) => {
      throw writeFailed(e, token.uploadedFileSize);
    });
    const early = earlyChunksPath(env.dataDir, tokenId);
    // Deletion and expiry remove the file at any time, perhaps before this write recreated it:
    // their answer stands, and their removal is done again
    const refuseIfGoneMeanwhile = async () => {
      const current = await store.getUploadToken(tokenId);
      if (current && current.status !== UploadTokenStatus.DELETED && current.status !== UploadTokenStatus.TIMED_OUT) return;
      await rm(file, { force: true });
      await rm(early, { recursive: true, force: true });
      refuseUnlessUploadable(await partnerUploadToken(env, partnerId, tokenId));
    };
    // A chunk's record is written only while the token still takes chunks (updateUploadingToken):
    // one deleted or expired after the checks above stays so, answered as such, its files gone.
    const goneMeanwhile = async (): Promise<never> => {
      await refuseIfGoneMeanwhile();
      refuseUnlessUploadable((await store.getUploadToken(tokenId)) ?? { ...token, status: UploadTokenStatus.DELETED });
      throw new UploadError('INVALID_STATUS_FOR_UPLOAD', `upload token ${tokenId} takes no more chunks`);
    };
    // starting over: what was kept for later belongs to the old file
    if (!o.resume) await rm(early, { recursive: true, force: true });
    const existing = o.resume ? await stat(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code === 'ENOENT') return null;
      throw e;
    }) : null;
    // What the catalog recorded is what has arrived: bytes past it in the file are a chunk whose
    // process was killed before it answered (or before it recorded the chunk), which the client
    // was never told of and sends again. They are cut off below, never built on.
    const have = existing ? Math.min(existing.size, token.uploadedFileSize) : 0;
    // Fewer bytes in the file than recorded (a crash lost what was not yet on disk, or the file is
    // not on this node): what is in the file is what has arrived. Recorded first, so that
    // uploadToken.get and this chunk's answer (or refusal) say where to resume, and resumeAt -1
    // goes on from there; a chunk at the old size is then kept aside like any early chunk.
    if (o.resume && have < token.uploadedFileSize) {
      token = { ...token, uploadedFileSize: have };
      if (!(await store.updateUploadingToken(token, env.now))) await goneMeanwhile();
    }
    const at = o.resume ? (o.resumeAt < 0 ? have : o.resumeAt) : 0;
    if (at > have && o.finalChunk) throw finalBeforeTheRest(at, have);
    if (at > have) {
      // whole under its name or absent (a killed server leaves no half of it to be appended)
      const part = join(early, `${at}.${randomBytes(4).toString('hex')}.part`);
      try {
        await mkdir(early, { recursive: true });
        await writeFile(part, data);
        await rename(part, join(early, String(at)));
      } catch (e) {
        await rm(part, { force: true });
        await refuseIfGoneMeanwhile();
        throw writeFailed(e, have);
      }
      await refuseIfGoneMeanwhile();
      const next: UploadToken = { ...token, status: UploadTokenStatus.PARTIAL_UPLOAD };
      if (!(await store.updateUploadingToken(next, env.now))) await goneMeanwhile();
      // the token as stored: the write set its updatedAt
      return { ...next, updatedAt: env.now };
    }
    const handle = await open(file, o.resume ? (existing ? 'r+' : 'w+') : 'w').catch(async (e: unknown) => {
      await refuseIfGoneMeanwhile();
      throw writeFailed(e, have);
    });
    let size = have;
    let appended: string[] = [];
    let failure: UploadError | null = null;
    try {
      if (existing && existing.size > have) await handle.truncate(have);
      await writeAt(handle, data, at);
      // the chunks kept for later that now follow on, each removed once the catalog counts it
      ({ size, appended } = await appendEarlyChunks(handle, early, Math.max(have, at + data.length)));
    } catch (e) {
      // A full disk must not leave a torn chunk that a resume would build on
      try { await handle.truncate(have); } catch { /* nothing more to do */ }
      failure = writeFailed(e, have);
    } finally {
      await handle.close();
    }
    await refuseIfGoneMeanwhile();
    if (failure) throw failure;
    const next: UploadToken = { ...token, uploadedFileSize: size, status: UploadTokenStatus.PARTIAL_UPLOAD };
    if (o.finalChunk) {
      if (token.fileSize !== null && token.fileSize > 0 && size !== token.fileSize) {
        if (!(await store.updateUploadingToken(next, env.now))) await goneMeanwhile();
        throw sizeMismatch(size, token.fileSize);
      }
      next.status = UploadTokenStatus.FULL_UPLOAD;
    }
    if (!(await store.updateUploadingToken(next, env.now))) await goneMeanwhile();
    for (const f of appended) await rm(f, { force: true });
    return { ...next, updatedAt: env.now };
  });
}

/** Where a token's chunks that arrived before the ones they follow wait, one file per offset. */
const earlyChunksPath = (dataDir: string, tokenId: string) => `${uploadPath(dataDir, tokenId)}.early`;

async function writeAt(handle: FileHandle, data: Buffer, at: number): Promise<void> {
  let off = 0;
  while (off < data.length) off += (await handle.write(data, off, data.length - off, at + off)).bytesWritten;
}

/**
 * Appends, in offset order, the kept chunks that start within the `size` bytes the file has;
 * returns the new size and their files (removed by the caller once the catalog records the size:
 * a server killed before that finds them again).
 */
async function appendEarlyChunks(handle: FileHandle, dir: string, size: number): Promise<{ size: number; appended: string[] }> {
  const names = await readdir(dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return [] as string[];
    throw e;
  });
  const appended: string[] = [];
  for (const offset of names.filter((n) => /^\d+$/.test(n)).map(Number).sort((a, b) => a - b)) {
    if (offset > size) break;
    const f = join(dir, String(offset));
    const bytes = await readFile(f);
    if (offset + bytes.length > size) {
      await writeAt(handle, bytes.subarray(size - offset), size);
      size = offset + bytes.length;
    }
    appended.push(f);
  }
  return { size, appended };
}

function writeFailed(e: unknown, have: number): UploadError {
  const code = (e as NodeJS.ErrnoException).code;
  return new UploadError('WRITE_FAILED', code === 'ENOSPC' || code === 'EFBIG'
    ? `the server's disk is full (${code}); the chunk was not kept: try again later from byte ${have}`
    : `the chunk could not be written (${code ?? (e as Error).message}); try again from byte ${have}`);
}

/**
 * A final chunk whose bytes before it are not all in: as Kaltura's, the client sends it again
 * (UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE) once the chunks before it have arrived.
 */
function finalBeforeTheRest(at: number, have: number): UploadError {
  return new UploadError('SIZE_MISMATCH', `the final chunk starts at byte ${at} but the bytes before it have arrived only up to byte ${have}: send it again once the chunks before it are in`, { RESUME_AT: at, UPLOADED_SIZE: have });
}

/**
 * The final chunk left the upload another size than the token was made for. Too few bytes: the
 * rest may follow. Too many: no resume can shrink what arrived, only a restart (resume=false).
 */
function sizeMismatch(size: number, fileSize: number): UploadError {
  const what = size < fileSize
    ? `${size} bytes have arrived but the token was created for ${fileSize}: send the missing bytes from byte ${size}`
    : `${size} bytes have arrived, more than the ${fileSize} the token was created for: send the file again from byte 0 (resume=false)`;
  return new UploadError('SIZE_MISMATCH', what, { UPLOADED_SIZE: size, FILE_SIZE: fileSize });
}

/**
 * A chunk of an upload on a shared store: the bytes go in as their own object first, then the
 * catalog records the part, or refuses it (the token no longer takes chunks, or the chunk would
 * leave a gap) and the object is removed again. The catalog decides under a lock of the token, so
 * chunks that reach two nodes at once are ordered as one node would order them.
 */
async function stageChunk(env: UploadEnv, media: MediaWriter, partnerId: number, tokenId: string, data: Buffer, o: ChunkOptions): Promise<UploadToken> {
  const store = env.catalog.ingest;
  const token = await partnerUploadToken(env, partnerId, tokenId);
  refuseUnlessUploadable(token);
  // refused before any byte is sent to the store; the catalog checks again in turn
  if (o.resume && o.finalChunk && o.resumeAt > token.uploadedFileSize) throw finalBeforeTheRest(o.resumeAt, token.uploadedFileSize);
  const key = `${partsPrefix(tokenId)}${Date.now().toString(36)}-${randomBytes(6).toString('hex')}`;
  await media.putBytes(key, data).catch((e: unknown) => storeFailed(e, `send this chunk again (the upload has ${token.uploadedFileSize} bytes)`));
  let r;
  try {
    r = await store.addUploadPart({ tokenId, offset: o.resume ? o.resumeAt : 0, length: data.length, objectKey: key, restart: !o.resume, final: o.finalChunk, now: env.now });
  } catch (e) {
    await media.remove(key).catch(() => undefined);
    throw e;
  }
  for (const k of r.dropped) await media.remove(k).catch(() => undefined);
  if (r.outcome === 'status' || r.outcome === 'gap') {
    await media.remove(key).catch(() => undefined);
    if (r.outcome === 'gap') throw finalBeforeTheRest(r.offset, r.token.uploadedFileSize);
    refuseUnlessUploadable(await partnerUploadToken(env, partnerId, tokenId));
    throw new UploadError('INVALID_STATUS_FOR_UPLOAD', `upload token ${tokenId} takes no more chunks`);
  }
  if (r.outcome === 'size') {
    const size = r.token.uploadedFileSize;
    throw sizeMismatch(size, token.fileSize ?? 0);
  }
  return r.token;
}

/** The spans of staged parts that make the file's bytes 0..size, in order: where parts overlap, the later one's bytes. */
export function layParts(parts: UploadPart[], size: number): { objectKey: string; offset: number; length: number }[] {
  const cuts = [...new Set([0, size, ...parts.flatMap((p) => [p.offset, p.offset + p.length]).filter((c) => c > 0 && c < size)])].sort((a, b) => a - b);
  const out: { objectKey: string; offset: number; length: number; part: number }[] = [];
  for (let i = 0; i + 1 < cuts.length; i++) {
    const [a, b] = [cuts[i], cuts[i + 1]];
    let k = parts.length - 1;
    while (k >= 0 && !(parts[k].offset <= a && parts[k].offset + parts[k].length >= b)) k--;
    if (k < 0) throw new UploadError('WRITE_FAILED', `the upload has no bytes ${a}-${b - 1}: upload the file again with a new token`);
    const last = out[out.length - 1];
    if (last && last.part === k) last.length += b - a;
    else out.push({ objectKey: parts[k].objectKey, offset: a - parts[k].offset, length: b - a, part: k });
  }
  return out.map(({ objectKey, offset, length }) => ({ objectKey, offset, length }));
}

/** Streams a token's staged parts into `file`, one span after another (never a whole part in memory). */
async function assembleParts(env: UploadEnv, media: MediaWriter, token: UploadToken, file: string): Promise<void> {
  const spans = layParts(await env.catalog.ingest.uploadParts(token.id), token.uploadedFileSize);
  await mkdir(join(env.dataDir, 'uploads'), { recursive: true });
  const out = createWriteStream(file);
  try {
    for (const s of spans) await pipeline(await media.readRange(s.objectKey, s.offset, s.length), out, { end: false });
    await new Promise<void>((resolve, reject) => out.end((e?: Error | null) => (e ? reject(e) : resolve())));
  } catch (e) {
    out.destroy();
    await rm(file, { force: true });
    if (e instanceof UploadError) throw e;
    const why = e instanceof MediaWriteError ? e.shown : `${media.describe}: the parts of upload ${token.id} could not be read (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`;
    throw new UploadError('STORE_FAILED', `${why}; nothing was kept: use the upload token ${token.id} again (it is still complete)`);
  }
}

/** Removes a token's staged parts from a shared store (the catalog's records of them stay, unread). */
async function removeParts(env: UploadEnv, tokenId: string): Promise<void> {
  const media = sharedStore(env);
  if (!media) return;
  for (const p of await env.catalog.ingest.uploadParts(tokenId)) await media.remove(p.objectKey).catch(() => undefined);
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
  const shared = sharedStore(env);
  if (shared) {
    // assembled before the token is used up: a store that fails now leaves it complete, to use
    // again. Its name has no dot: like a local upload's, it says nothing of the file's type, which
    // the ingest then probes (a `.1f0a…` suffix was taken for an extension)
    const file = `${uploadPath(env.dataDir, token.id)}-${randomBytes(4).toString('hex')}`;
    await assembleParts(env, shared, token, file);
    if (!(await env.catalog.ingest.closeUploadToken(token.id, entryId, env.now))) {
      await rm(file, { force: true });
      refuseUnlessComplete((await env.catalog.ingest.getUploadToken(token.id)) ?? { ...token, status: UploadTokenStatus.DELETED });
      throw new UploadError('INVALID_STATUS_FOR_ADD_ENTRY', `upload token ${token.id} is not complete: send the final chunk (finalChunk=true) first`);
    }
    await removeParts(env, token.id);
    return file;
  }
  const file = uploadPath(env.dataDir, token.id);
  if (!(await env.catalog.ingest.closeUploadToken(token.id, entryId, env.now))) {
    // another request took it since `token` was read: refused as that request's use makes it
    refuseUnlessComplete((await env.catalog.ingest.getUploadToken(token.id)) ?? { ...token, status: UploadTokenStatus.DELETED });
    throw new UploadError('INVALID_STATUS_FOR_ADD_ENTRY', `upload token ${token.id} is not complete: send the final chunk (finalChunk=true) first`);
  }
  // chunks kept past the final size are no part of the file
  rmSync(earlyChunksPath(env.dataDir, token.id), { recursive: true, force: true });
  // A zero-byte upload may have had no chunk to create the file
  if (!existsSync(file)) {
    mkdirSync(join(env.dataDir, 'uploads'), { recursive: true });
    closeSync(openSync(file, 'a'));
  }
  return file;
}

export async function deleteUploadToken(env: UploadEnv, token: UploadToken): Promise<void> {
  await env.catalog.ingest.updateUploadToken({ ...token, status: UploadTokenStatus.DELETED }, env.now);
  await removeUploadFiles(env, token.id);
}

/** What an upload leaves: its file, the chunks kept for later, its staged parts (S3). */
async function removeUploadFiles(env: UploadEnv, id: string): Promise<void> {
  rmSync(uploadPath(env.dataDir, id), { force: true });
  rmSync(earlyChunksPath(env.dataDir, id), { recursive: true, force: true });
  await removeParts(env, id);
}

/** Upload tokens left unfinished for `maxAgeSeconds` are TIMED_OUT (4) and their partial files removed. */
export async function expireUploadTokens(env: UploadEnv, maxAgeSeconds: number): Promise<number> {
  const stale = await env.catalog.ingest.expireUploadTokens(env.now - maxAgeSeconds, env.now);
  for (const id of stale) await removeUploadFiles(env, id);
  return stale.length;
}
