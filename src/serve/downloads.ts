// The raw, download and flvclipper actions: which file of an entry they serve (raw and download
// also under which name, and whether the answer is the file or a redirect to the relocated URL).
import type { Catalog } from '../catalog/store.js';
import { AssetStatus, EntryType, MediaType, type Entry, type FlavorAsset } from '../catalog/types.js';
import type { AccessDecision } from '../access/types.js';
import { DeliveryError } from '../errors.js';
import { isFlavorAllowed } from '../access/evaluate.js';
import { playableFirst } from '../selection/flavors.js';

export interface ServedFile {
  /** Relative to the media root. */
  path: string;
  /** Attachment name, with extension. */
  name: string;
  ext: string;
  flavor?: FlavorAsset;
}

/**
 * The attachment name: the base name and the file's extension, unless the base already ends with
 * it. A dot elsewhere is part of the name ("Only from example.com", "talk.v2"): taken for an
 * extension, it gave a saved mp4 the name of a .com file.
 */
export const withExt = (base: string, ext: string) => (!ext || base.toLowerCase().endsWith(`.${ext.toLowerCase()}`) ? base : `${base}.${ext}`);
/** The name without the file's extension (withExt's inverse), for the relocate URLs. */
export const withoutExt = (name: string, ext: string) => (ext && name.toLowerCase().endsWith(`.${ext.toLowerCase()}`) ? name.slice(0, -(ext.length + 1)) : name);

const allowed = (f: FlavorAsset, limit: AccessDecision['limitFlavors'] | null) => isFlavorAllowed(limit, f, null);

/** The first "web" flavor of a list in ascending bitrate: mbr, else web, a playable one first (playableFirst). */
function webFlavor(flavors: readonly FlavorAsset[]): FlavorAsset | undefined {
  const playable = playableFirst(flavors);
  return playable.find((f) => f.tags.includes('mbr')) ?? playable.find((f) => f.tags.includes('web'));
}

/**
 * The flavor flvclipper plays when none is named, as Kaltura's flvclipper picks it
 * (assetPeer::retrieveBestPlayByEntryId): the ready web flavor of lowest bitrate (webFlavor);
 * `edit` (flavor/0 or flavor/edit: retrieveBestEditByEntryId) first looks among those tagged
 * `edit`. Of the flavors an MP4 clip can be cut from.
 */
export function clipFlavor(flavors: readonly FlavorAsset[], edit = false): FlavorAsset | undefined {
  const ready = flavors.filter((f) => f.status === AssetStatus.READY && /^(mp4|m4v|mov|m4a)$/i.test(f.fileExt || 'mp4')).sort((a, b) => a.bitrate - b.bitrate);
  return (edit ? playableFirst(ready).find((f) => f.tags.includes('edit')) : undefined) ?? webFlavor(ready);
}

const extOf = (path: string) => (/\.([A-Za-z0-9]+)$/.exec(path)?.[1] ?? '').toLowerCase();

/** Kaltura's safe name: spaces to "-", everything outside [a-zA-Z0-9-_] removed. */
export const safeName = (name: string) => name.replace(/ /g, '-').replace(/[^a-zA-Z0-9\-_]/g, '') || 'file';

export async function rawFile(catalog: Catalog, entry: Entry, opts: { type: string | null; format: string | null; fileName: string | null; limit: AccessDecision['limitFlavors'] | null }): Promise<ServedFile> {
  const flavors = (await catalog.listFlavors(entry.id)).filter((f) => f.status === AssetStatus.READY && allowed(f, opts.limit));
  const baseName = opts.fileName && opts.fileName !== 'name' ? opts.fileName : entry.name;
  // an image keeps a name with any dot in it as it is, as Kaltura's raw does (image entries are
  // often named after their file); other files get their extension unless the name ends with it
  const named = (path: string, ext: string, flavor?: FlavorAsset): ServedFile => ({
    path, ext, flavor, name: entry.mediaType === MediaType.IMAGE && baseName.includes('.') ? baseName : withExt(baseName, ext),
  });

  if (opts.type === 'download' && opts.format && entry.type !== EntryType.DOCUMENT) {
    const f = flavors.find((x) => x.fileExt === opts.format);
    if (!f) throw new DeliveryError('FLAVOR_NOT_FOUND', `, no flavor asset for extension ${opts.format}`);
    return named(f.filePath, f.fileExt, f);
  }
  if (entry.type === EntryType.DOCUMENT || entry.type === EntryType.DATA) {
    const f = flavors.find((x) => x.isOriginal) ?? flavors[0];
    if (f) return named(f.filePath, f.fileExt, f);
    if (entry.dataFile) return named(entry.dataFile, extOf(entry.dataFile));
    throw new DeliveryError('FILE_NOT_FOUND');
  }
  if (entry.mediaType === MediaType.IMAGE) {
    if (!entry.dataFile) throw new DeliveryError('FILE_NOT_FOUND');
    return named(entry.dataFile, extOf(entry.dataFile));
  }
  if (entry.type === EntryType.MEDIA_CLIP) {
    const f = flavors.find((x) => x.isOriginal) ?? webFlavor(flavors);
    if (!f) throw new DeliveryError('FLAVOR_NOT_FOUND', ', no original or web flavor is ready');
    return named(f.filePath, f.fileExt, f);
  }
  throw new DeliveryError('INVALID_ENTRY_TYPE');
}

export async function downloadFile(catalog: Catalog, entry: Entry, opts: { flavorId: string | null; fileName: string | null; limit: AccessDecision['limitFlavors'] | null; downloadAssetIds: string[] }): Promise<ServedFile> {
  const all = await catalog.listFlavors(entry.id);
  const ok = (f: FlavorAsset) => allowed(f, opts.limit) || opts.downloadAssetIds.includes(f.id);
  let flavor: FlavorAsset | undefined;
  if (opts.flavorId) {
    flavor = all.find((f) => f.id === opts.flavorId);
    if (!flavor || (flavor.status !== AssetStatus.READY && flavor.status !== AssetStatus.EXPORTING) || !ok(flavor)) throw new DeliveryError('FLAVOR_NOT_FOUND');
  } else {
    const ready = all.filter((f) => f.status === AssetStatus.READY && ok(f));
    flavor = webFlavor(ready) ?? ((entry.mediaType === MediaType.VIDEO || entry.mediaType === MediaType.AUDIO) ? ready.find((f) => f.isOriginal) : undefined);
  }
  if (flavor) {
    const params = await catalog.getFlavorParams(flavor.flavorParamsId);
    const base = opts.fileName ? opts.fileName.split(/[\\/]/).pop()! : params && flavor.flavorParamsId !== 0 ? `${entry.name} (${params.name})` : entry.name;
    const ext = flavor.fileExt || 'mp4';
    return { path: flavor.filePath, ext, flavor, name: base.endsWith(`.${ext}`) ? base : `${base}.${ext}` };
  }
  if (entry.mediaType === MediaType.IMAGE && entry.dataFile) {
    const ext = extOf(entry.dataFile);
    const base = opts.fileName ? opts.fileName.split(/[\\/]/).pop()! : entry.name;
    return { path: entry.dataFile, ext, name: base.endsWith(`.${ext}`) ? base : `${base}.${ext}` };
  }
  throw new DeliveryError('FILE_NOT_FOUND', ', the entry has no file to download');
}

/** download's relocate value: the name with ?|*\/><&[] space % # replaced by _. */
export const relocateName = (name: string) => name.replace(/[?|*\\/><&[\] %#]/g, '_');

/** The preview byte budget: size × preview / duration × 1.2, capped at the size. */
export const previewBytes = (size: number, previewSec: number, durationSec: number) =>
  durationSec > 0 ? Math.min(size, Math.floor((size * previewSec / durationSec) * 1.2)) : size;
