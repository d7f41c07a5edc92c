// The catalog written back as a library description (the format src/catalog/library.ts imports),
// with its media beside it, so that `kdeliver export` then `kdeliver import` on another machine
// gives the same catalog. Reads only; the media files are hard-linked where possible, else copied.
import { copyFileSync, existsSync, linkSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Catalog } from './store.js';
import type { DeliveryProfile, Entry, Partner } from './types.js';
import type {
  LibCaption, LibEntry, LibFlavor, LibPartner, LibraryFile, LibStorageProfile,
} from './library.js';
import { FACT_FIELDS, storedKeyFile } from './library.js';

export interface ExportResult {
  library: LibraryFile;
  /** Media files to place beside the library: library file name → source path. */
  files: Map<string, string>;
}

/** The library file's name for a catalog file: unique per entry, plain (no folders), as the importer requires. */
function libName(entry: Entry, path: string, taken: Map<string, string>, source: string): string {
  // A file imported from an earlier export already carries the entry id: do not stack it twice
  const plain = basename(path).startsWith(`${entry.id}__`) ? basename(path).slice(entry.id.length + 2) : basename(path);
  const base = plain.replace(/[^A-Za-z0-9._-]/g, '_').slice(-120) || 'file';
  let name = `${entry.id}__${base}`;
  for (let i = 2; taken.has(name) && taken.get(name) !== source; i++) name = `${entry.id}__${i}_${base}`;
  return name;
}

/** Describes the whole catalog; file names refer to `files`. */
export async function describeCatalog(catalog: Catalog, mediaRoot: string): Promise<ExportResult> {
  const files = new Map<string, string>();
  const partners = await catalog.listPartners();
  const storageProfiles: LibStorageProfile[] = [];
  for (const p of partners) {
    for (const s of await catalog.listStorageProfiles(p.id)) {
      storageProfiles.push({ id: s.id, partnerId: s.partnerId, name: s.name, baseUrl: s.baseUrl, deliveryProfileIds: s.deliveryProfileIds, active: s.active });
    }
  }
  const library: LibraryFile = {
    version: 1,
    mediaDir: 'media',
    partners: partners.map((p) => ({
      id: p.id, name: p.name, adminSecret: p.adminSecret, userSecret: p.userSecret, status: p.status,
      ...(p.additionalAdminSecrets.length ? { additionalAdminSecrets: [...p.additionalAdminSecrets] } : {}),
      enforceEncryption: p.enforceEncryption,
      ...(p.disableFlavorsOptimization ? { disableFlavorsOptimization: true } : {}),
      deliveryProfileIds: p.deliveryProfileIds, storageServePriority: p.storageServePriority,
      ...(p.defaultConversionProfileId !== null ? { defaultConversionProfileId: p.defaultConversionProfileId } : {}),
      ...(Object.keys(p.storyboard).length ? { storyboard: libraryStoryboard(p.storyboard) } : {}),
      ...(p.drmProfiles.length ? { drmProfiles: p.drmProfiles } : {}),
    })),
    flavorParams: (await catalog.listFlavorParams()).map((fp) => ({
      id: fp.id, name: fp.name, tags: fp.tags.join(','), format: fp.format, videoCodec: fp.videoCodec, audioCodec: fp.audioCodec,
      width: fp.width, height: fp.height, videoBitrate: fp.videoBitrate, audioBitrate: fp.audioBitrate, frameRate: fp.frameRate,
    })),
    conversionProfiles: (await catalog.library.allConversionProfiles()).map((cp) => (
      { id: cp.id, partnerId: cp.partnerId, name: cp.name, systemName: cp.systemName, isDefault: cp.isDefault, flavorParamsIds: cp.flavorParamsIds }
    )),
    accessControlProfiles: (await catalog.library.allAccessControlProfiles()).map((a) => (
      { id: a.id, partnerId: a.partnerId, name: a.name, systemName: a.systemName, description: a.description, isDefault: a.isDefault, rules: a.rules }
    )),
    deliveryProfiles: (await catalog.listDeliveryProfiles()).map((d) => ({
      id: d.id, partnerId: d.partnerId, name: d.name, type: d.type, streamerType: d.streamerType, url: d.url, isDefault: d.isDefault,
      priority: d.priority, active: d.active, mediaProtocols: d.mediaProtocols.join(','), tokenizer: portableTokenizer(d.tokenizer),
      enforceDeliveriesSupport: d.enforceDeliveriesSupport.join(','), ...(d.maxSize !== null ? { maxSize: d.maxSize } : {}),
      extraParams: d.extraParams,
    })),
    storageProfiles,
    uiConfs: (await catalog.listUiConfs()).map((u) => ({
      id: u.id, partnerId: u.partnerId, name: u.name, objType: u.objType, ...(u.width !== null ? { width: u.width } : {}),
      ...(u.height !== null ? { height: u.height } : {}), confFile: u.confFile, confVars: u.confVars, tags: u.tags,
    })),
    entries: [],
  };

  for (const id of await catalog.library.allEntryIds()) {
    const e = (await catalog.getEntry(id))!;
    const file = (path: string): string | null => {
      const src = join(mediaRoot, path);
      // A file the catalog names but the disk lacks cannot travel; the record is left out with it
      if (!existsSync(src)) return null;
      const name = libName(e, path, files, src);
      files.set(name, src);
      return name;
    };
    const flavors: LibFlavor[] = [];
    for (const f of await catalog.listFlavors(e.id)) {
      const name = file(f.filePath);
      if (!name) continue;
      const remote = await catalog.listRemoteFiles(f.id);
      const flavor: LibFlavor = {
        id: f.id, flavorParamsId: f.flavorParamsId, file: name, containerFormat: f.containerFormat, fileExt: f.fileExt,
        videoCodec: f.videoCodec, audioCodec: f.audioCodec, codecs: f.codecs, width: f.width, height: f.height, bitrate: f.bitrate,
        frameRate: f.frameRate, durationMs: f.durationMs, language: f.language, label: f.label, isDefault: f.isDefault,
        tags: f.tags.join(','), status: f.status, version: f.version, isOriginal: f.isOriginal,
        // the turn the import read from the file: given, since a re-import with every media field
        // given does not read the file again
        ...(f.rotation ? { rotation: f.rotation } : {}),
        ...(remote.length ? { remoteFiles: Object.fromEntries(remote.map((r) => [String(r.storageProfileId), r.path])) } : {}),
      };
      // a file the packager refuses, as the import found when it read it: the media fields the file
      // could not tell are left out (empty, and the duration the import took from the entry), so
      // that importing this library reads it again, finds the same, and fills in the same
      if (f.packagingRefusal) {
        for (const k of FACT_FIELDS) if (!flavor[k]) delete flavor[k];
        if (flavor.durationMs === Math.round(e.duration * 1000)) delete flavor.durationMs;
      }
      flavors.push(flavor);
    }
    const captions: LibCaption[] = [];
    for (const c of await catalog.listCaptions(e.id)) {
      // a caption added through the API without content yet has no file to carry
      if (!c.filePath) continue;
      const name = file(c.filePath);
      if (!name) continue;
      captions.push({
        id: c.id, language: c.language, languageCode: c.languageCode, label: c.label, format: c.format, file: name,
        isDefault: c.isDefault, status: c.status, displayOnPlayer: c.displayOnPlayer,
      });
    }
    // the content keys travel with the library: encrypted media a player has keys for stays playable
    const keys = await catalog.library.entryKeys(e.id);
    const dataFile = e.dataFile ? file(e.dataFile) : null;
    const thumbnail = e.thumbnailFile ? file(e.thumbnailFile) : null;
    const entry: LibEntry = {
      id: e.id, partnerId: e.partnerId, name: e.name, description: e.description, type: e.type, mediaType: e.mediaType,
      status: e.status, duration: e.duration, moderationStatus: e.moderationStatus, startDate: e.startDate, endDate: e.endDate,
      accessControlProfileId: e.accessControlProfileId, tags: e.tags, adminTags: e.adminTags, userId: e.userId,
      referenceId: e.referenceId, createdAt: e.createdAt, version: e.version,
      ...(dataFile ? { dataFile } : {}), ...(thumbnail ? { thumbnail } : {}),
      ...(e.redirectEntryId ? { redirectEntryId: e.redirectEntryId } : {}),
      ...(e.conversionProfileId !== null ? { conversionProfileId: e.conversionProfileId } : {}),
      ...(e.partnerData ? { partnerData: e.partnerData } : {}),
      ...(keys ? { keys } : {}),
      flavors, captions,
    };
    library.entries!.push(entry);
  }
  return { library, files };
}

/** Places the described media in `mediaDir` (hard links where the file system allows, else copies). */
export function writeMedia(files: Map<string, string>, mediaDir: string): void {
  mkdirSync(mediaDir, { recursive: true });
  for (const [name, src] of files) {
    const dest = join(mediaDir, name);
    rmSync(dest, { force: true });
    try {
      linkSync(src, dest);
    } catch {
      copyFileSync(src, dest);
    }
  }
}

/** A partner's storyboard settings in the library's form (intervalSec). */
function libraryStoryboard(sb: Partner['storyboard']): NonNullable<LibPartner['storyboard']> {
  const { intervalMs, ...rest } = sb;
  return { ...rest, ...(intervalMs !== undefined ? { intervalSec: intervalMs / 1000 } : {}) };
}

/**
 * A tokenizer as another machine can use it: a key file an older import left in the catalog (a
 * path on this machine) goes out as the PEM itself, as an import stores it now; one that cannot
 * be read goes out as it is (the import there says which file it could not read).
 */
function portableTokenizer(t: DeliveryProfile['tokenizer']): DeliveryProfile['tokenizer'] {
  if (!t || typeof t.privateKeyFile !== 'string' || t.privateKey || t.key) return t;
  try {
    const pem = readFileSync(storedKeyFile(t.privateKeyFile), 'utf8');
    const { privateKeyFile: _file, ...rest } = t;
    return { ...rest, privateKey: pem };
  } catch {
    return t;
  }
}
