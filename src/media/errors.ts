// Why a media file could not be packaged. src/errors.ts maps these to delivery errors (4xx
// answers); the media core never knows about HTTP.
export type MediaErrorKind =
  | 'NOT_MP4' // not an ISO-BMFF file, or a box structure that cannot be walked
  | 'TRUNCATED' // the file ends inside a box the index needs
  | 'NO_MOOV'
  | 'MOOV_TOO_LARGE'
  | 'UNSUPPORTED' // a codec or layout the packager does not handle (no audio or video track)
  | 'OUT_OF_RANGE' // a segment number or clip outside the media
  | 'BAD_CLIP'
  | 'BAD_ENCRYPTION'; // an encryption description the writers cannot use (key sizes, a missing key id or URI)

export class MediaError extends Error {
  constructor(readonly kind: MediaErrorKind, message: string) {
    super(message);
  }
}

export const isMediaError = (e: unknown): e is MediaError => e instanceof MediaError;

/**
 * Why a byte source (source.ts) could not be read: the source store (src/storage/: S3, an HTTP
 * origin) says which. src/errors.ts maps these at the edge: a missing object is "file not found"
 * (404), a timeout 504, anything else 502. `source` names the store and key for people, never a
 * credential or a signed URL.
 */
export type SourceFailure =
  | 'missing' // there is no such object (404)
  | 'status' // the origin answered an error status
  | 'unreachable' // connection refused, reset or closed mid-answer
  | 'timeout' // no complete answer within the configured time
  | 'changed' // the object changed while it was being read (its ETag no longer matched)
  | 'unreadable'; // the store cannot read it (a local file this user may not read, a failing disk)

export class SourceError extends Error {
  /** `httpStatus`: the error status a 'status' failure answered, when it was one. */
  constructor(readonly failure: SourceFailure, readonly source: string, readonly detail: string, readonly httpStatus?: number) {
    super(`${source}: ${detail}`);
  }
}

export const isSourceError = (e: unknown): e is SourceError => e instanceof SourceError;
