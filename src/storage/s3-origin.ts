// An S3-compatible bucket through the AWS SDK: HeadObject for size and ETag, ranged GetObject
// with IfMatch for the bytes. Credentials come from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY
// (with AWS_SESSION_TOKEN for temporary ones)
// (src/config.ts); they are never in a message. Checksums are computed and checked only when an
// operation requires them: recent SDKs otherwise send aws-chunked bodies with trailing checksums,
// which some S3-compatible stores keep as the stored bytes.
import http from 'node:http';
import https from 'node:https';
import { GetObjectCommand, HeadBucketCommand, HeadObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { MediaLocation } from '../config.js';
import { SourceError } from '../media/errors.js';
import type { Origin, OriginTimeouts } from './origin.js';

type S3Location = Extract<MediaLocation, { kind: 's3' }>;

/** The SDK client for a location: also used by the tests and tools that put objects there. */
export function s3Client(loc: S3Location, t: OriginTimeouts): S3Client {
  // The SDK warns on Node 20 (its releases after January 2027 need 22) on every command a user
  // runs; kdeliver is built for Node 20 and pins SDK versions that run on it (package-lock.json),
  // so the warning tells the user nothing they can act on. Their own setting wins.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  return new S3Client({
    region: loc.region,
    endpoint: loc.endpoint ?? undefined,
    forcePathStyle: loc.forcePathStyle,
    credentials: loc.accessKeyId && loc.secretAccessKey ? { accessKeyId: loc.accessKeyId, secretAccessKey: loc.secretAccessKey, ...(loc.sessionToken ? { sessionToken: loc.sessionToken } : {}) } : undefined,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
    maxAttempts: 2,
    // the SDK builds its Node HTTP handler from these options. A stall is bounded by the socket's
    // inactivity (no byte either way for timeoutMs), which also holds while an upload's part is
    // sent or a long source streams; the SDK's requestTimeout only logs a warning unless told to
    // throw, and would then cut a large part on a slow link however well it moved
    requestHandler: {
      connectionTimeout: t.connectTimeoutMs,
      socketTimeout: t.timeoutMs,
      httpAgent: new http.Agent({ keepAlive: true, maxSockets: 64 }),
      httpsAgent: new https.Agent({ keepAlive: true, maxSockets: 64 }),
    },
  });
}

/** What the SDK threw, as an origin failure. */
function failure(e: unknown, where: string): SourceError {
  const err = e as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; message?: string };
  const status = err.$metadata?.httpStatusCode;
  if (status === 404 || err.name === 'NoSuchKey' || err.name === 'NotFound') return new SourceError('missing', where, 'has no such object');
  if (status === 412 || err.name === 'PreconditionFailed') return new SourceError('changed', where, 'the object changed while it was read (412)');
  if (err.name === 'AbortError' || err.name === 'TimeoutError' || err.code === 'ETIMEDOUT' || /timed? ?out/i.test(err.message ?? '')) {
    return new SourceError('timeout', where, 'no complete answer in time');
  }
  if (status) return new SourceError('status', where, `answered ${status}${err.name ? ` (${err.name})` : ''}`, status);
  const code = err.code ?? err.name;
  return new SourceError('unreachable', where, code === 'ECONNREFUSED' ? 'refused the connection' : `could not be reached (${code ?? 'connection failed'})`);
}

export function s3Origin(loc: S3Location, t: OriginTimeouts, client: S3Client = s3Client(loc, t)): Origin {
  const describe = `s3 store ${loc.url}`;
  const keyOf = (key: string) => (loc.prefix ? `${loc.prefix}/${key}` : key);
  const where = (key: string) => `${describe} (${key})`;
  const bounded = () => ({ abortSignal: AbortSignal.timeout(t.timeoutMs) });

  return {
    describe,
    async head(key) {
      try {
        const r = await client.send(new HeadObjectCommand({ Bucket: loc.bucket, Key: keyOf(key) }), bounded());
        const size = r.ContentLength ?? -1;
        if (size < 0) throw new SourceError('status', where(key), 'answered HeadObject without a size');
        const etag = r.ETag ?? null;
        return { size, version: etag ?? `${size}-${r.LastModified?.toISOString() ?? ''}`, etag };
      } catch (e) {
        throw e instanceof SourceError ? e : failure(e, where(key));
      }
    },
    async read(key, meta, offset, length) {
      try {
        const r = await client.send(new GetObjectCommand({
          Bucket: loc.bucket, Key: keyOf(key), Range: `bytes=${offset}-${offset + length - 1}`, IfMatch: meta.etag ?? undefined,
        }), bounded());
        const bytes = await r.Body!.transformToByteArray();
        if (bytes.length !== length) throw new SourceError('unreachable', where(key), `answered ${bytes.length} of ${length} bytes`);
        return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
      } catch (e) {
        throw e instanceof SourceError ? e : failure(e, where(key));
      }
    },
    // ffmpeg reads a presigned URL with ranges like any HTTP file: no download to disk first, and
    // it is handed a signature for one object for a quarter of an hour, never the credentials
    ffmpegUrl: (key) => getSignedUrl(client, new GetObjectCommand({ Bucket: loc.bucket, Key: keyOf(key) }), { expiresIn: 900 }),
    // a HEAD of a missing key and of a missing bucket look alike (404, no body), so the bucket
    // itself is asked: a misspelled bucket makes every object "missing" and must not be ready
    async probe() {
      try {
        await client.send(new HeadBucketCommand({ Bucket: loc.bucket }), bounded());
      } catch (e) {
        const f = failure(e, describe);
        // which error statuses are an answer (a 403: a reader allowed GetObject but not ListBucket,
        // which HeadBucket needs) is storeUnreachable's decision, for every store
        throw f.failure === 'missing' ? new SourceError('missing', describe, `has no bucket ${loc.bucket}`) : f;
      }
    },
    close: () => client.destroy(),
  };
}
