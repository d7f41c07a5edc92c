// Which media stores take writes (ingest output, uploads, imported media): local disk and S3
// (src/storage/media-writer.ts); an HTTP origin is read-only. Decided from the configuration
// alone, so that the server (its ingest worker and the API's write actions) and the CLI's writing
// commands refuse at start-up, before any work is done.
import type { MediaLocation } from '../config.js';

/** Why media cannot be written to this location, naming KDELIVER_MEDIA_URL; null when it can. */
export function mediaWriteRefusal(loc: MediaLocation): string | null {
  if (loc.kind === 'http') {
    return `KDELIVER_MEDIA_URL=${loc.url} is a read-only HTTP origin: ingest, upload and import of media are refused (unset KDELIVER_MEDIA_URL to write media to local disk, or name an s3:// store)`;
  }
  return null;
}
