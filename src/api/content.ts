// The content of a caption or thumbnail asset, from the resource object a client sends with
// setContent (or add): a completed upload token (KalturaUploadedFileTokenResource), a URL the
// server fetches (KalturaUrlResource) or the text itself (KalturaStringResource). Read whole into
// memory: captions and pictures are small, and a size bound keeps them so.
import { readFile, rm } from 'node:fs/promises';
import { claimUpload, partnerUploadToken } from '../ingest/uploads.js';
import { objString } from './args.js';
import { ApiError } from './errors.js';
import type { Params } from './params.js';
import { uploadApiError, uploadEnv } from './services/upload-token.js';
import type { ApiContext } from './types.js';
import { requireAdminKs } from './permissions.js';

export const CONTENT_RESOURCES = ['KalturaUploadedFileTokenResource', 'KalturaUrlResource', 'KalturaStringResource'] as const;

/** How long a URL resource may take, and how far its redirects may lead. */
const FETCH_TIMEOUT_MS = 20_000;

/** The bytes a resource names, at most `maxBytes`; `failed` is the error for a URL that cannot be fetched. */
export async function readContentResource(ctx: ApiContext, resource: Params | null, ownerId: string, maxBytes: number, failed: (url: string) => ApiError): Promise<Buffer> {
  const type = objString(resource, 'objectType');
  const token = objString(resource, 'token');
  const url = objString(resource, 'url');
  const content = objString(resource, 'content');
  const kind = type ?? (token !== undefined ? 'KalturaUploadedFileTokenResource' : url !== undefined ? 'KalturaUrlResource' : content !== undefined ? 'KalturaStringResource' : undefined);
  switch (kind) {
    case 'KalturaUploadedFileTokenResource': {
      if (!token) throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAMETER_NAME: 'contentResource:token' });
      const env = uploadEnv(ctx);
      let file: string;
      try {
        const t = partnerUploadToken(env, ctx.partnerId ?? -1, token);
        if (t.uploadedFileSize > maxBytes) throw new ApiError('UPLOAD_ERROR', { REASON: `the upload is ${t.uploadedFileSize} bytes; at most ${maxBytes} are taken here` });
        file = claimUpload(env, t, ownerId);
      } catch (e) {
        return uploadApiError(e);
      }
      try {
        return await readFile(file);
      } finally {
        await rm(file, { force: true });
      }
    }
    case 'KalturaUrlResource': {
      // the server fetches it: only an admin may point the server at a URL (it may reach what the caller cannot)
      requireAdminKs(ctx);
      if (!url) throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAMETER_NAME: 'contentResource:url' });
      return fetchBounded(url, maxBytes, failed);
    }
    case 'KalturaStringResource': {
      if (content === undefined) throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAMETER_NAME: 'contentResource:content' });
      const bytes = Buffer.from(content, 'utf8');
      if (bytes.length > maxBytes) throw new ApiError('UPLOAD_ERROR', { REASON: `the content is ${bytes.length} bytes; at most ${maxBytes} are taken here` });
      return bytes;
    }
    case undefined:
      throw new ApiError('MISSING_MANDATORY_PARAMETER', { PARAMETER_NAME: 'contentResource' });
    default:
      throw new ApiError('RESOURCE_TYPE_NOT_SUPPORTED', { RESOURCE_TYPE: kind });
  }
}

/** GET of an http(s) URL, refused past `maxBytes` or FETCH_TIMEOUT_MS; any failure is `failed(url)`. */
async function fetchBounded(url: string, maxBytes: number, failed: (url: string) => ApiError): Promise<Buffer> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw failed(url.slice(0, 200));
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw failed(url.slice(0, 200));
  try {
    const res = await fetch(parsed, { signal: AbortSignal.timeout(FETCH_TIMEOUT_MS), redirect: 'follow' });
    if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
      size += chunk.length;
      if (size > maxBytes) throw new Error('too large');
      chunks.push(Buffer.from(chunk));
    }
    return Buffer.concat(chunks);
  } catch {
    throw failed(url.slice(0, 200));
  }
}
