// The catalog as the server and the commands open it (src/catalog/open.ts), with the sample
// library's media, when it is seeded, written where every node reads media: into the S3 store
// KDELIVER_MEDIA_URL names, else the local media folder. It sits here, above both src/catalog/
// and src/storage/, because neither may import the other (test/architecture/import-rules.test.ts).
import type { Config } from './config.js';
import { openCatalog } from './catalog/open.js';
import type { Catalog } from './catalog/store.js';
export async function openConfiguredCatalog(config: Config): Promise<Catalog> {
  // a writer (an S3 client) only where a seed may use it, and its module (the S3 SDK) loaded only then
  const sampleMedia = config.media.kind === 's3' && config.sampleLibrary ? (await import('./storage/media-writer.js')).openMediaWriter(config) : null;
  return openCatalog({ ...config, sampleMedia });
}
