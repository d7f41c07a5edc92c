// Why a media file could not be packaged. src/errors.ts maps these to delivery errors (4xx
// answers); the media core never knows about HTTP.
export type MediaErrorKind =
  | 'NOT_MP4' // not an ISO-BMFF file, or a box structure that cannot be walked
  | 'TRUNCATED' // the file ends inside a box the index needs
  | 'NO_MOOV'
  | 'MOOV_TOO_LARGE'
  | 'UNSUPPORTED' // a codec or layout the packager does not handle (fragmented input, no tracks)
  | 'OUT_OF_RANGE' // a segment number or clip outside the media
  | 'BAD_CLIP'
  | 'BAD_ENCRYPTION'; // an encryption description the writers cannot use (key sizes, a missing key id or URI)

export class MediaError extends Error {
  constructor(readonly kind: MediaErrorKind, message: string) {
    super(message);
  }
}

export const isMediaError = (e: unknown): e is MediaError => e instanceof MediaError;
