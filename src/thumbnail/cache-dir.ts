// Where an entry's rendered thumbnails are kept. Apart from service.ts, which loads sharp, so that
// deleting an entry (`kdeliver entries delete`) does not pay for it.
import { join } from 'node:path';

export function thumbnailCacheDir(dataDir: string, partnerId: number, entryId: string): string {
  return join(dataDir, 'cache', 'thumbnails', String(partnerId), entryId);
}
