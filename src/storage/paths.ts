// Where the catalog's media files are: paths stored in the catalog are relative to the media root
// (KDELIVER_DATA_DIR/media), and none may lead outside it.
import { resolve, sep } from 'node:path';
import { DeliveryError } from '../errors.js';

/** A catalog path resolved under the media root; anything that would leave it is refused. */
export function mediaPath(mediaRoot: string, relative: string): string {
  const root = resolve(mediaRoot);
  const full = resolve(root, relative);
  if (!full.startsWith(root + sep) || relative.includes('\0')) throw new DeliveryError('FILE_NOT_FOUND', ', path outside the media folder');
  return full;
}
