// Resumable, verified downloads of the importer. A file is fetched into `{key}.part` in the
// import's own folder of the data directory (never the media root), with a small `.json` beside
// it saying which version of which asset it holds and the validator (ETag / Last-Modified) the
// source gave. An interrupted download goes on from where it stopped with a ranged GET
// (`Range: bytes=N-` and `If-Range`), and starts again from zero when the source answers with the
// whole file instead; the ETag (or Last-Modified) in `If-Range` makes sure the bytes that continue
// a partial file are of the same version of it. A finished file is checked (its size against the
// source's word and the response's length; its MD5 when the source sends one in Content-MD5) and
// only then renamed to `{key}`: a complete file's name never holds a partial one. An ETag is not
// taken for an MD5, even when it looks like one: servers make them in their own ways (kdeliver's
// thumbnail ETags are 32 hex digits of something else).
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';

export class DownloadError extends Error {}
/** The source refused the file (a 4xx answer): asking again would give the same. */
export class RefusedError extends DownloadError {
  constructor(readonly status: number) {
    super(`the source answered HTTP ${status}`);
  }
}
/** The bytes arrived but are not the file the source described (size or MD5). */
export class VerifyError extends DownloadError {}

export interface DownloadRequest {
  url: string;
  /** Folder of the partial and complete downloads (inside the data directory, on the media root's file system). */
  dir: string;
  /** Names the asset and its version: a different version never resumes another's bytes. */
  key: string;
  /** The size the source says the file has, when it says one. */
  expectedSize?: number;
  /** Bytes received so far (resumed bytes included), and the total when known. */
  onProgress?: (received: number, total: number | null) => void;
  /** No byte for this long: the attempt is given up (ms). */
  idleTimeoutMs?: number;
  /** Attempts of one download (each resumes the last). */
  attempts?: number;
}

interface PartState { validator?: string; total?: number; md5?: string }

/**
 * Downloads `url` to `{dir}/{key}` (resuming `{dir}/{key}.part` if an earlier attempt left one)
 * and returns that path with the file's size. Throws DownloadError with a one-line reason.
 */
export async function download(r: DownloadRequest): Promise<{ path: string; size: number; downloaded: number; resumedFrom: number }> {
  mkdirSync(r.dir, { recursive: true });
  const done = join(r.dir, r.key);
  if (existsSync(done)) return { path: done, size: statSync(done).size, downloaded: 0, resumedFrom: 0 };
  const part = `${done}.part`;
  const meta = `${part}.json`;
  const attempts = r.attempts ?? 3;
  let lastError: Error | null = null;
  let downloaded = 0;
  let resumedFrom = -1;
  for (let attempt = 1; attempt <= attempts; attempt++) {
    try {
      const got = await once(r, part, meta);
      downloaded += got.downloaded;
      if (resumedFrom < 0) resumedFrom = got.from;
      const size = statSync(part).size;
      await verify(r, part, size);
      renameSync(part, done);
      rmSync(meta, { force: true });
      return { path: done, size, downloaded, resumedFrom };
    } catch (e) {
      lastError = e as Error;
      if (e instanceof RefusedError) throw e;
      if (e instanceof VerifyError) {
        // the bytes are wrong, not merely short: asking again would give the same
        rmSync(part, { force: true });
        rmSync(meta, { force: true });
        throw e;
      }
      if (attempt < attempts) await new Promise((res) => setTimeout(res, 250 * attempt));
    }
  }
  throw new DownloadError(lastError?.message ?? 'download failed');
}

function readState(meta: string): PartState {
  try {
    return JSON.parse(readFileSync(meta, 'utf8')) as PartState;
  } catch {
    return {};
  }
}

/** One GET (ranged when part of the file is here): appends to the part file. */
async function once(r: DownloadRequest, part: string, meta: string): Promise<{ downloaded: number; from: number }> {
  const state = readState(meta);
  let have = existsSync(part) ? statSync(part).size : 0;
  // a part file without a record of what it is cannot be resumed safely
  if (have > 0 && !existsSync(meta)) have = 0;
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (have > 0) {
    headers.range = `bytes=${have}-`;
    if (state.validator) headers['if-range'] = state.validator;
  }
  const controller = new AbortController();
  const idleMs = r.idleTimeoutMs ?? 60_000;
  let idle = setTimeout(() => controller.abort(), idleMs);
  const touch = () => {
    clearTimeout(idle);
    idle = setTimeout(() => controller.abort(), idleMs);
  };
  try {
    let res: Response;
    try {
      res = await fetch(r.url, { headers, redirect: 'follow', signal: controller.signal });
    } catch (e) {
      throw new Error(`cannot fetch: ${causeOf(e)}`);
    }
    touch();
    if (res.status === 416 && have > 0) {
      // the part already holds the whole file (the source says there is nothing after it)
      await res.body?.cancel();
      return { downloaded: 0, from: have };
    }
    if (res.status !== 200 && res.status !== 206) {
      await res.body?.cancel();
      if (res.status >= 400 && res.status < 500 && res.status !== 408 && res.status !== 429) throw new RefusedError(res.status);
      throw new Error(`the source answered HTTP ${res.status}`);
    }
    const etag = res.headers.get('etag');
    const validator = etag && !etag.startsWith('W/') ? etag : res.headers.get('last-modified') ?? undefined;
    let from = 0;
    let total: number | null = null;
    if (res.status === 206) {
      const m = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(res.headers.get('content-range') ?? '');
      if (!m || Number(m[1]) !== have) {
        await res.body?.cancel();
        throw new Error(`the source answered a range that does not continue the file (${res.headers.get('content-range')})`);
      }
      from = have;
      total = m[3] === '*' ? null : Number(m[3]);
    } else {
      const len = res.headers.get('content-length');
      total = len !== null && /^\d+$/.test(len) ? Number(len) : null;
    }
    // Content-MD5 (RFC 1864) is of the whole file only in a 200 answer; a resumed one keeps the first's
    const md5 = res.status === 200 ? res.headers.get('content-md5') ?? undefined : state.md5;
    writeFileSync(meta, JSON.stringify({ validator, total: total ?? r.expectedSize, md5 } satisfies PartState));
    if (!res.body) throw new Error('the source sent no body');
    let received = from;
    r.onProgress?.(received, total ?? r.expectedSize ?? null);
    // Each chunk is written before the next is read, so that whatever arrived before a drop is in
    // the part file and the next attempt asks for exactly what is missing (a stream pipeline
    // would throw away what it still buffered when it fails).
    const fh = await open(part, from > 0 ? 'a' : 'w');
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        await fh.write(chunk);
        received += chunk.length;
        touch();
        r.onProgress?.(received, total ?? r.expectedSize ?? null);
      }
      await fh.sync();
    } catch (e) {
      throw new Error(`the transfer stopped after ${received} bytes: ${causeOf(e)}`);
    } finally {
      await fh.close();
    }
    if (total !== null && received !== total) throw new Error(`the transfer stopped after ${received} of ${total} bytes`);
    return { downloaded: received - from, from };
  } finally {
    clearTimeout(idle);
  }
}

async function verify(r: DownloadRequest, part: string, size: number): Promise<void> {
  const state = readState(`${part}.json`);
  const expected = r.expectedSize ?? state.total;
  if (expected !== undefined && expected !== null && size !== expected) {
    throw new VerifyError(`size check failed: ${size} bytes received, the source says ${expected}`);
  }
  if (state.md5) {
    const h = createHash('md5');
    await pipeline(createReadStream(part), h);
    if (h.digest('base64') !== state.md5.trim()) throw new VerifyError('MD5 check failed: the file does not match the source\'s Content-MD5');
  }
}

function causeOf(e: unknown): string {
  const err = e as { name?: string; message?: string; cause?: { code?: string; message?: string } };
  if (err?.name === 'AbortError') return 'no data for too long';
  const c = err?.cause;
  return (c?.code ?? c?.message ?? err?.message ?? String(e)).replace(/\s+/g, ' ').slice(0, 200);
}
