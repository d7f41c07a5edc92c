// Why remote media could not be read. The media store (media-store.ts) throws these; src/errors.ts
// maps them at the edge: a missing object is the reference's "file not found" (404), an origin
// that answered an error, refused or dropped the connection is a 502, one that did not answer in
// time a 504. `source` names the store and key for people (never a credential or a signed URL).
export type OriginFailure =
  | 'missing' // the origin says there is no such object (404)
  | 'status' // the origin answered an error status
  | 'unreachable' // connection refused, reset or closed mid-answer
  | 'timeout' // no complete answer within the configured time
  | 'changed'; // the object changed while it was being read (its ETag no longer matched)

export class OriginError extends Error {
  constructor(readonly failure: OriginFailure, readonly source: string, detail: string) {
    super(`${source}: ${detail}`);
  }
}

export const isOriginError = (e: unknown): e is OriginError => e instanceof OriginError;
