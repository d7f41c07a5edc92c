// Which media stores take writes (ingest output, uploads, imported media): local disk only, in
// this build. Decided from the configuration alone, so that the server (its ingest worker and the
// API's write actions) and the CLI's writing commands refuse at start-up, before any work is done.
import type { MediaLocation } from '../config.js';

/** Why media cannot be written to this location, naming KDELIVER_MEDIA_URL; null when it can. */
export function mediaWriteRefusal(loc: MediaLocation): string | null {
  if (loc.kind === 'http') {
    return `KDELIVER_MEDIA_URL=${loc.url} is a read-only HTTP origin: ingest, upload and import of media are refused (unset KDELIVER_MEDIA_URL to write media to local disk)`;
  }
  if (loc.kind === 's3') {
    return `KDELIVER_MEDIA_URL=${loc.url} is an S3 store, which this build reads media from but does not write to: ingest, upload and import of media are refused (unset KDELIVER_MEDIA_URL to write media to local disk)`;
  }
  return null;
}
