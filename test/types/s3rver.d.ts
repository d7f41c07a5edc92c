// s3rver ships no types: the server as test/helpers/media-origins.ts runs it.
declare module 's3rver' {
  import type { AddressInfo } from 'node:net';

  export interface S3rverOptions {
    address?: string;
    port?: number;
    /** No request log. */
    silent?: boolean;
    /** Where the buckets' objects are kept. */
    directory: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }

  export default class S3rver {
    constructor(options: S3rverOptions);
    /** Listens; resolves to the bound address. */
    run(): Promise<AddressInfo>;
    close(): Promise<void>;
  }
}
