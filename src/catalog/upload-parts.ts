// The one decision of recording a staged upload chunk (IngestStore.addUploadPart), shared by the
// SQLite and PostgreSQL stores: each reads the token and its parts inside its transaction
// (PostgreSQL locks the token's row), asks this, and writes what it says.
import { UploadTokenStatus, type UploadToken } from './store.js';

export interface UploadPartDecision {
  outcome: 'ok' | 'status' | 'gap' | 'size';
  /** The chunk's offset, -1 resolved to the end of what has arrived. */
  offset: number;
  /** The token to write back; null when nothing changes. */
  next: UploadToken | null;
}

/**
 * How many bytes from the start the spans cover without a gap: what has arrived of an upload
 * whose chunks may come in any order (Kaltura's parallel chunked upload).
 */
export function coveredFromStart(spans: { offset: number; length: number }[]): number {
  let covered = 0;
  for (const s of [...spans].sort((a, b) => a.offset - b.offset)) {
    if (s.offset > covered) break;
    covered = Math.max(covered, s.offset + s.length);
  }
  return covered;
}

/**
 * A chunk at its offset. One that starts past what has arrived is kept for later (the chunks
 * before it may be on their way, as in Kaltura's parallel upload), unless it is the final chunk:
 * that one must find every byte before it, and is refused (`gap`) until they are in.
 */
export function decideUploadPart(token: UploadToken, parts: { offset: number; length: number }[], p: { offset: number; length: number; restart: boolean; final: boolean }): UploadPartDecision {
  if (token.status !== UploadTokenStatus.PENDING && token.status !== UploadTokenStatus.PARTIAL_UPLOAD) return { outcome: 'status', offset: p.offset, next: null };
  const have = p.restart ? 0 : token.uploadedFileSize;
  const offset = p.restart ? 0 : p.offset < 0 ? have : p.offset;
  if (offset > have && p.final) return { outcome: 'gap', offset, next: null };
  const size = coveredFromStart([...(p.restart ? [] : parts), { offset, length: p.length }]);
  const next: UploadToken = { ...token, uploadedFileSize: size, status: UploadTokenStatus.PARTIAL_UPLOAD };
  if (p.final) {
    if (token.fileSize !== null && token.fileSize > 0 && size !== token.fileSize) return { outcome: 'size', offset, next };
    next.status = UploadTokenStatus.FULL_UPLOAD;
  }
  return { outcome: 'ok', offset, next };
}
