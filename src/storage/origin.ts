// What a remote media store needs from where the bytes live: an object's size and version, and
// exact byte spans of that version. Two kinds: s3-origin.ts (an S3-compatible bucket) and
// http-origin.ts (any server answering byte-range GETs). Both throw the media core's SourceError (src/media/errors.ts).

export interface ObjectMeta {
  size: number;
  /** Changes whenever the bytes do: the ETag, else size and Last-Modified. */
  version: string;
  /** The ETag to send as a precondition on reads, when the origin gave a strong one. */
  etag: string | null;
}

export interface Origin {
  /** For messages and cache keys: the store's URL, never a credential. */
  readonly describe: string;
  head(key: string): Promise<ObjectMeta>;
  /** Exactly `length` bytes at `offset` of the object as it was when `meta` was read. */
  read(key: string, meta: ObjectMeta, offset: number, length: number): Promise<Buffer>;
  /** A URL ffmpeg can read the object from with ranges (src/thumbnail/). */
  ffmpegUrl(key: string): Promise<string>;
  /**
   * /readyz: resolves when the store answered, else throws a SourceError saying why (which error
   * statuses still mean "there" is src/storage/media-store.ts storeUnreachable's decision). Without
   * it, a HEAD of a probe key is the check.
   */
  probe?(): Promise<void>;
  close(): void;
}

export interface OriginTimeouts {
  /** Whole-request bound of one head or read. */
  timeoutMs: number;
  /** Bound of opening a connection. */
  connectTimeoutMs: number;
}
