// The one decision of recording a staged upload chunk (IngestStore.addUploadPart), shared by the
// SQLite and PostgreSQL stores: each reads the token inside its transaction (PostgreSQL locks its
// row), asks this, and writes what it says.
import { UploadTokenStatus, type UploadToken } from './store.js';

export interface UploadPartDecision {
  outcome: 'ok' | 'status' | 'gap' | 'size';
  /** The chunk's offset, -1 resolved to the end of what has arrived. */
  offset: number;
  /** The token to write back; null when nothing changes. */
  next: UploadToken | null;
}

export function decideUploadPart(token: UploadToken, p: { offset: number; length: number; restart: boolean; final: boolean }): UploadPartDecision {
  if (token.status !== UploadTokenStatus.PENDING && token.status !== UploadTokenStatus.PARTIAL_UPLOAD) return { outcome: 'status', offset: p.offset, next: null };
  const have = p.restart ? 0 : token.uploadedFileSize;
  const offset = p.restart ? 0 : p.offset < 0 ? have : p.offset;
  if (offset > have) return { outcome: 'gap', offset, next: null };
  const size = Math.max(have, offset + p.length);
  const next: UploadToken = { ...token, uploadedFileSize: size, status: UploadTokenStatus.PARTIAL_UPLOAD };
  if (p.final) {
    if (token.fileSize !== null && token.fileSize > 0 && size !== token.fileSize) return { outcome: 'size', offset, next };
    next.status = UploadTokenStatus.FULL_UPLOAD;
  }
  return { outcome: 'ok', offset, next };
}
