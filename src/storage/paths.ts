// Where things are in the data directory (KDELIVER_DATA_DIR): media files under media/, whose
// paths the catalog stores relative to that root (none may lead outside it), and the thumbnails
// rendered from them under cache/thumbnails/. Kept apart from the code that makes thumbnails, so
// that deleting an entry (`kdeliver entries delete`) does not load it.
import { join, resolve, sep } from 'node:path';
import { DeliveryError } from '../errors.js';

/** A catalog path resolved under the media root; anything that would leave it is refused. */
export function mediaPath(mediaRoot: string, relative: string): string {
  const root = resolve(mediaRoot);
  const full = resolve(root, relative);
  if (!full.startsWith(root + sep) || relative.includes('\0')) throw new DeliveryError('FILE_NOT_FOUND', ', path outside the media folder');
  return full;
}

/**
 * Where local writes are made before they are renamed into place: one folder under the media root
 * (the same file system as the media it is renamed to, so the rename is atomic; a folder that is a
 * mount of its own gets its .part beside the file), so that what a killed process left
 * half-written is found by listing it, not by walking every entry's folder
 * (src/storage/media-writer.ts).
 */
export function partialWritesDir(mediaRoot: string): string {
  return join(mediaRoot, '.partial');
}

/** The folder of the thumbnail cache: {partnerId}/{entryId}/{key}.jpg under it, nothing else. */
export function thumbnailCacheRoot(dataDir: string): string {
  return join(dataDir, 'cache', 'thumbnails');
}

/** Where an entry's rendered thumbnails are kept. */
export function thumbnailCacheDir(dataDir: string, partnerId: number, entryId: string): string {
  return join(thumbnailCacheRoot(dataDir), String(partnerId), entryId);
}
