// The library description file: the JSON format in which a person describes partners, flavor
// params, profiles and entries with their media (fixtures/README.md documents it). One loader
// validates it and imports it into the catalog; the sample library is just such a file.
import { validEntryKeys, type GivenEntryKeys } from './keys.js';
import { drmProfilesProblem, normalDrmProfiles } from './drm-profiles.js';
import { createPrivateKey } from 'node:crypto';
import { closeSync, existsSync, linkSync, mkdirSync, openSync, readdirSync, readFileSync, readSync, realpathSync, rmdirSync, rmSync, statSync, utimesSync, writeSync } from 'node:fs';
import { copyFile } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { OwnerConflictError, type Catalog, type HeldRecords, type LibraryRow, type LibraryTable, type LibraryWrite } from './store.js';
import { normalizeAccessRules } from './legacy-rules.js';
import { DEFAULT_STORYBOARD, EntryStatus, STORYBOARD_LIMITS, type AccessRule, type DrmProfile, type StoryboardConfig } from './types.js';
import { CaptionContentError, readCaptions, type CaptionFormat } from '../media/captions.js';
import { readMediaFacts, type MediaFacts } from '../media/facts.js';
import { isSafeId } from './ids.js';
import { languageCode, languageName } from './languages.js';
import { jsonReadProblem } from '../log.js';
import { shippedFile } from '../shipped.js';

export interface LibraryFile {
  version: 1;
  /** Folder of the media files, relative to the library file. Default "media". */
  mediaDir?: string;
  partners?: LibPartner[];
  flavorParams?: LibFlavorParams[];
  conversionProfiles?: LibConversionProfile[];
  accessControlProfiles?: LibAccessControlProfile[];
  deliveryProfiles?: LibDeliveryProfile[];
  storageProfiles?: LibStorageProfile[];
  uiConfs?: LibUiConf[];
  entries?: LibEntry[];
}
export interface LibPartner {
  id: number; name: string; adminSecret: string; userSecret: string; status?: number;
  /** Admin secrets besides adminSecret, each as good for KSs and admin sessions (`kdeliver partner secret`). */
  additionalAdminSecrets?: string[];
  enforceEncryption?: boolean; disableFlavorsOptimization?: boolean; deliveryProfileIds?: Record<string, number[]>; storageServePriority?: number;
  defaultConversionProfileId?: number;
  /** Storyboard (thumbnail track) settings; each left out keeps its default. */
  storyboard?: { tileWidth?: number; columns?: number; rows?: number; intervalSec?: number; quality?: number };
  /** Licence servers of Widevine, PlayReady and FairPlay (src/drm/profiles.ts); none: ClearKey only. */
  drmProfiles?: DrmProfile[];
}
export interface LibFlavorParams {
  id: number; name: string; tags?: string; format?: string; videoCodec?: string; audioCodec?: string;
  width?: number; height?: number; videoBitrate?: number; audioBitrate?: number; frameRate?: number;
}
export interface LibConversionProfile {
  id: number; partnerId: number; name: string; systemName?: string; isDefault?: boolean; flavorParamsIds: number[];
}
export interface LibAccessControlProfile {
  id: number; partnerId: number; name: string; systemName?: string; description?: string; isDefault?: boolean;
  /** Rules in kdeliver's form (src/access/types.ts) ... */
  rules?: AccessRule[];
  /** ... and/or Kaltura's legacy restrictions, mapped onto rules at import. */
  restrictions?: unknown[];
}
export interface LibDeliveryProfile {
  id: number; partnerId?: number; name: string; type: number; streamerType: string; url: string;
  isDefault?: boolean; priority?: number; active?: boolean; mediaProtocols?: string;
  tokenizer?: { type: string; [k: string]: unknown } | null; enforceDeliveriesSupport?: string; maxSize?: number;
  extraParams?: Record<string, unknown>;
}
export interface LibUiConf {
  id: number; partnerId?: number; name: string; objType?: number; width?: number; height?: number;
  /** The configuration document (XML or JSON) as text. */
  confFile?: string; confVars?: string; tags?: string;
}
export interface LibStorageProfile {
  id: number; partnerId: number; name: string; baseUrl: string; deliveryProfileIds?: Record<string, number[]>; active?: boolean;
}
export interface LibFlavor {
  id: string; flavorParamsId: number; file: string; containerFormat?: string; fileExt?: string;
  videoCodec?: string; audioCodec?: string; codecs?: string; width?: number; height?: number; bitrate?: number;
  frameRate?: number; durationMs?: number; language?: string; label?: string; isDefault?: boolean; tags?: string;
  status?: number; version?: number; isOriginal?: boolean;
  /**
   * Degrees clockwise the file's track matrix turns the picture for display (0, 90, 180, 270): it
   * records the file's turn, and turns nothing. Read from the file with the other facts when one of
   * FACT_FIELDS is left out (the file's then, whatever is given), else this, else 0.
   */
  rotation?: number;
  /** Copies on external storages: { storageProfileId: path }. */
  remoteFiles?: Record<string, string>;
}
export interface LibCaption {
  /** Either may be left out (derived from the other); neither: "Undefined" / "und". */
  id: string; language?: string; languageCode?: string; label?: string; format: 'srt' | 'vtt' | 'dfxp'; file: string;
  isDefault?: boolean; status?: number; displayOnPlayer?: boolean;
}
export interface LibEntry {
  id: string; partnerId: number; name: string; description?: string; type?: number; mediaType?: number;
  status?: number; duration?: number; moderationStatus?: number; startDate?: number | null; endDate?: number | null;
  accessControlProfileId?: number | null; tags?: string; adminTags?: string; userId?: string; referenceId?: string;
  createdAt?: number; version?: number; dataFile?: string; thumbnail?: string; redirectEntryId?: string;
  /** The conversion profile media.addContent transcodes into (Kaltura's conversionProfileId). */
  conversionProfileId?: number | null;
  /** Free text an integration keeps on the entry (Kaltura's partnerData). */
  partnerData?: string;
  flavors?: LibFlavor[]; captions?: LibCaption[];
  /** The entry's content key and key id (hex); random ones when absent (kept when the entry had some). */
  keys?: GivenEntryKeys;
}

export class LibraryError extends Error {}

const SAFE_FILE = /^[A-Za-z0-9._-]{1,200}$/;

function need(cond: unknown, where: string, what: string): asserts cond {
  if (!cond) throw new LibraryError(`${where}: ${what}`);
}

/** Reads and validates a library file; every problem names its place in the file. */
export function readLibraryFile(file: string): { library: LibraryFile; mediaDir: string } {
  let library: LibraryFile;
  let text: string | undefined;
  try {
    text = readFileSync(file, 'utf8');
    library = JSON.parse(text);
  } catch (e) {
    throw new LibraryError(`${file}: not a readable JSON file (${jsonReadProblem(e, text)})`);
  }
  need(isObject(library), file, 'the top level must be an object');
  need(library.version === 1, `${file}: version`, 'must be 1');
  need(library.mediaDir === undefined || typeof library.mediaDir === 'string', `${file}: mediaDir`, 'must be a string (a folder relative to the library file)');
  const mediaDir = resolve(dirname(file), library.mediaDir ?? 'media');
  validate(library, file, mediaDir);
  resolveKeyFiles(library, file);
  return { library, mediaDir };
}

/**
 * Where a `privateKeyFile` stored in a catalog is: an absolute path as it is; a relative name (left
 * by an import from before keys were stored inline) in kdeliver's own fixtures/ folder, where the
 * sample library's key is. For the CloudFront tokenizer and for export, which inlines such a key.
 */
export const storedKeyFile = (name: string): string => (isAbsolute(name) ? name : resolve(dirname(sampleLibraryPath()), name));

/** The tokenizer types (kdeliver's and Kaltura's spelling) whose `privateKeyFile` names a PEM file. */
const KEY_FILE_TOKENIZERS = new Set(['cloudfront', 'cloudFront']);

/**
 * A CloudFront tokenizer's `privateKeyFile`: absolute, or relative to the library file's folder
 * (as mediaDir). Read and checked here, so that a missing or wrong key refuses the library with
 * its place instead of failing every signature; stored as the PEM itself (`privateKey`), so that
 * the catalog signs wherever it is read: another node, another install folder, an export
 * imported elsewhere (a stored path named this machine's file). The catalog keeps it as it keeps
 * the partners' secrets (0600 on SQLite; never in an API answer).
 */
function resolveKeyFiles(lib: LibraryFile, file: string): void {
  lib.deliveryProfiles?.forEach((d, i) => {
    const tk = d.tokenizer;
    if (!tk || typeof tk !== 'object' || !KEY_FILE_TOKENIZERS.has(String(tk.type))) return;
    const given = tk.privateKeyFile;
    if (given === undefined || given === null || given === '') return;
    const w = `${file}: deliveryProfiles[${i}].tokenizer.privateKeyFile`;
    need(typeof given === 'string', w, 'must be a string (a PEM file, absolute or relative to the library file)');
    need(!tk.privateKey && !tk.key, w, 'give the key once: privateKeyFile or privateKey, not both');
    const keyFile = resolve(dirname(file), given);
    let pem: string;
    try {
      pem = readFileSync(keyFile, 'utf8');
    } catch (e) {
      throw new LibraryError(`${w}: cannot read ${keyFile} (${(e as NodeJS.ErrnoException).code ?? 'error'}); a relative path is taken from the library file's folder`);
    }
    try {
      createPrivateKey(pem);
    } catch {
      throw new LibraryError(`${w}: ${keyFile} is not a PEM private key`);
    }
    const { privateKeyFile: _file, ...rest } = tk;
    d.tokenizer = { ...rest, privateKey: pem };
  });
}

/** The type of a field of a library record, as `fieldsProblem` checks it. */
type FieldKind = 'int' | 'num' | 'str' | 'bool' | 'ints' | 'object';

/**
 * The fields each record may carry and their types, so that a mistyped value is refused with its
 * place rather than failing in the database (or stored as something the server cannot read).
 * Fields not named here are left to the checks in `validate`, or ignored (fixtures/README.md).
 */
const FIELDS: Record<string, Record<string, FieldKind>> = {
  partner: {
    id: 'int', name: 'str', status: 'int', enforceEncryption: 'bool', disableFlavorsOptimization: 'bool',
    deliveryProfileIds: 'object', storageServePriority: 'int', defaultConversionProfileId: 'int',
  },
  flavorParams: {
    id: 'int', name: 'str', tags: 'str', format: 'str', videoCodec: 'str', audioCodec: 'str', width: 'int', height: 'int',
    videoBitrate: 'int', audioBitrate: 'int', frameRate: 'num',
  },
  conversionProfile: { id: 'int', partnerId: 'int', name: 'str', systemName: 'str', isDefault: 'bool', flavorParamsIds: 'ints' },
  accessControlProfile: { id: 'int', partnerId: 'int', name: 'str', systemName: 'str', description: 'str', isDefault: 'bool' },
  deliveryProfile: {
    id: 'int', partnerId: 'int', name: 'str', type: 'int', streamerType: 'str', url: 'str', isDefault: 'bool', priority: 'int',
    active: 'bool', mediaProtocols: 'str', enforceDeliveriesSupport: 'str', maxSize: 'int', extraParams: 'object',
  },
  storageProfile: { id: 'int', partnerId: 'int', name: 'str', baseUrl: 'str', deliveryProfileIds: 'object', active: 'bool' },
  uiConf: { id: 'int', partnerId: 'int', name: 'str', objType: 'int', width: 'int', height: 'int', confFile: 'str', confVars: 'str', tags: 'str' },
  entry: {
    id: 'str', partnerId: 'int', name: 'str', description: 'str', type: 'int', mediaType: 'int', status: 'int', duration: 'num',
    moderationStatus: 'int', startDate: 'int', endDate: 'int', accessControlProfileId: 'int', tags: 'str', adminTags: 'str',
    userId: 'str', referenceId: 'str', createdAt: 'int', version: 'int', dataFile: 'str', thumbnail: 'str', redirectEntryId: 'str',
    conversionProfileId: 'int', partnerData: 'str',
  },
  flavor: {
    id: 'str', flavorParamsId: 'int', file: 'str', containerFormat: 'str', fileExt: 'str', videoCodec: 'str', audioCodec: 'str',
    codecs: 'str', width: 'int', height: 'int', bitrate: 'num', frameRate: 'num', durationMs: 'num', language: 'str', label: 'str',
    isDefault: 'bool', tags: 'str', status: 'int', version: 'int', isOriginal: 'bool', rotation: 'int', remoteFiles: 'object',
  },
  caption: {
    id: 'str', language: 'str', languageCode: 'str', label: 'str', file: 'str', isDefault: 'bool', status: 'int', displayOnPlayer: 'bool',
  },
};
/** Fields a record must have (the database has no default for them). */
const REQUIRED: Record<string, string[]> = {
  partner: ['id'], flavorParams: ['id', 'name'], conversionProfile: ['id', 'partnerId', 'name'],
  accessControlProfile: ['id', 'partnerId', 'name'], deliveryProfile: ['id', 'name', 'type', 'streamerType', 'url'],
  storageProfile: ['id', 'partnerId', 'name', 'baseUrl'], uiConf: ['id'], entry: ['id', 'partnerId'],
  flavor: ['id', 'flavorParamsId', 'file'], caption: ['id', 'file'],
};
const KIND_SAYS: Record<FieldKind, string> = {
  // "up to 2^53": a number past it is refused as not a number would be, and must say why
  int: 'a whole number up to 2^53', num: 'a number up to 2^53', str: 'a string', bool: 'true or false', ints: 'a list of whole numbers up to 2^53', object: 'an object',
};
// whole numbers beyond 2^53 are not kept exactly by JSON.parse: 1e30 would become another id
const isInt = (v: unknown) => Number.isSafeInteger(v);
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const FIELD_CHECK: Record<FieldKind, (v: unknown) => boolean> = {
  int: isInt,
  num: (v) => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER,
  str: (v) => typeof v === 'string',
  bool: (v) => typeof v === 'boolean',
  ints: (v) => Array.isArray(v) && v.every(isInt),
  object: isObject,
};

/** Checks a record against FIELDS and REQUIRED; null stands for a field left out. */
function checkFields(r: unknown, kind: string, where: string): asserts r is Record<string, unknown> {
  need(isObject(r), where, 'must be an object');
  for (const k of REQUIRED[kind]) need(r[k] !== undefined && r[k] !== null, where, `${k} is missing`);
  for (const [k, t] of Object.entries(FIELDS[kind])) {
    const v = r[k];
    need(v === undefined || v === null || FIELD_CHECK[t](v), where, `${k} must be ${KIND_SAYS[t]} (got ${JSON.stringify(v)?.slice(0, 40)})`);
  }
}

/** Each of the file's lists is a list (or absent). */
function list<T>(lib: LibraryFile, key: keyof LibraryFile, file: string): T[] {
  const v = lib[key];
  if (v === undefined || v === null) return [];
  need(Array.isArray(v), `${file}: ${key}`, 'must be a list ([...])');
  return v as T[];
}

function validate(lib: LibraryFile, file: string, mediaDir: string): void {
  const num = (v: unknown) => typeof v === 'number' && Number.isFinite(v);
  const kinds = {
    partners: 'partner', flavorParams: 'flavorParams', conversionProfiles: 'conversionProfile',
    accessControlProfiles: 'accessControlProfile', deliveryProfiles: 'deliveryProfile', storageProfiles: 'storageProfile',
    uiConfs: 'uiConf', entries: 'entry',
  } as const;
  for (const [key, kind] of Object.entries(kinds)) {
    list(lib, key as keyof LibraryFile, file).forEach((r, i) => checkFields(r, kind, `${file}: ${key}[${i}]`));
  }
  lib.accessControlProfiles?.forEach((a, i) => {
    for (const k of ['rules', 'restrictions'] as const) {
      need(a[k] === undefined || a[k] === null || Array.isArray(a[k]), `${file}: accessControlProfiles[${i}]`, `${k} must be a list ([...])`);
    }
  });
  // an id given twice would be written twice, the second silently replacing the first; flavor and
  // caption ids are the catalog's keys across every entry
  const seen = new Map<string, string>();
  const once = (space: string, id: unknown, where: string) => {
    const k = `${space} ${String(id)}`;
    const first = seen.get(k);
    need(first === undefined, where, `${space} id ${JSON.stringify(id)} is given twice (first at ${first})`);
    seen.set(k, where.slice(file.length + 2));
  };
  for (const [key, kind] of Object.entries(kinds)) {
    list<{ id: unknown }>(lib, key as keyof LibraryFile, file).forEach((r, i) => once(kind, r.id, `${file}: ${key}[${i}]`));
  }
  lib.entries?.forEach((e, i) => {
    const flavors = e.flavors === undefined || e.flavors === null ? [] : e.flavors;
    const captions = e.captions === undefined || e.captions === null ? [] : e.captions;
    need(Array.isArray(flavors), `${file}: entries[${i}].flavors`, 'must be a list ([...])');
    need(Array.isArray(captions), `${file}: entries[${i}].captions`, 'must be a list ([...])');
    flavors.forEach((f, j) => {
      checkFields(f, 'flavor', `${file}: entries[${i}].flavors[${j}]`);
      for (const [sid, path] of Object.entries(f.remoteFiles ?? {})) {
        need(/^[1-9][0-9]{0,15}$/.test(sid) && typeof path === 'string', `${file}: entries[${i}].flavors[${j}].remoteFiles`, 'must map storage profile ids to paths ({ "2": "path/file.mp4" })');
      }
      once('flavor', f.id, `${file}: entries[${i}].flavors[${j}]`);
    });
    captions.forEach((c, j) => {
      checkFields(c, 'caption', `${file}: entries[${i}].captions[${j}]`);
      once('caption', c.id, `${file}: entries[${i}].captions[${j}]`);
    });
  });
  // entries of a big library share a few media files: each is looked for once
  const present = new Map<string, boolean>();
  const exists = (p: string) => {
    let yes = present.get(p);
    // a folder (or a device) named as a media file would fail only when placed
    if (yes === undefined) present.set(p, (yes = statSync(p, { throwIfNoEntry: false })?.isFile() ?? false));
    return yes;
  };
  lib.partners?.forEach((p, i) => {
    const w = `${file}: partners[${i}]`;
    need(Number.isInteger(p.id) && p.id > 0, w, 'id must be a positive integer');
    need(typeof p.adminSecret === 'string' && p.adminSecret.length >= 8, w, 'adminSecret must be a string of at least 8 characters');
    need(typeof p.userSecret === 'string' && p.userSecret.length >= 8, w, 'userSecret must be a string of at least 8 characters');
    if (p.additionalAdminSecrets !== undefined) {
      const list = p.additionalAdminSecrets as unknown;
      need(Array.isArray(list) && list.every((s) => typeof s === 'string' && s.length >= 8 && s !== p.adminSecret && s !== p.userSecret)
        && new Set(list).size === list.length, `${w}.additionalAdminSecrets`,
        'must be a list of different strings of at least 8 characters, none the adminSecret or the userSecret');
    }
    if (p.storyboard !== undefined) checkStoryboard(p.storyboard, `${w}.storyboard`);
    if (p.drmProfiles !== undefined) {
      const problem = drmProfilesProblem(p.drmProfiles);
      need(problem === null, `${w}.drmProfiles`, problem!);
    }
  });
  lib.flavorParams?.forEach((fp, i) => need(Number.isInteger(fp.id) && fp.id >= 0, `${file}: flavorParams[${i}]`, 'id must be an integer ≥ 0'));
  lib.deliveryProfiles?.forEach((d, i) => {
    const w = `${file}: deliveryProfiles[${i}]`;
    need(typeof d.url === 'string' && (d.url.startsWith('/') || /^[a-z]+:\/\//i.test(d.url)), w, 'url must be absolute (scheme://host/...) or a path on this server starting with "/"');
  });
  lib.uiConfs?.forEach((u, i) => {
    const w = `${file}: uiConfs[${i}]`;
    need(Number.isInteger(u.id) && u.id > 0, w, 'id must be a positive integer');
    need(u.partnerId === undefined || Number.isInteger(u.partnerId), w, 'partnerId must be an integer (0: every partner)');
    need(u.confFile === undefined || typeof u.confFile === 'string', w, 'confFile must be a string (the document as text)');
  });
  lib.entries?.forEach((e, i) => {
    const w = `${file}: entries[${i}]`;
    need(typeof e.id === 'string' && isSafeId(e.id), w, 'id must be 1-64 characters of A-Z a-z 0-9 _ -');
    const checkFile = (f: string, ww: string) => {
      need(typeof f === 'string' && SAFE_FILE.test(f) && f !== '.' && f !== '..', ww,
        `file ${JSON.stringify(f)?.slice(0, 80)} must be a plain file name inside the media folder, 1-200 characters of A-Z a-z 0-9 . _ - (no space, no other letter, no folder): rename the file`);
      need(exists(join(mediaDir, f)), ww, `file ${join(mediaDir, f)} does not exist or is not a file`);
    };
    e.flavors?.forEach((f, j) => {
      const ww = `${w}.flavors[${j}]`;
      need(typeof f.id === 'string' && isSafeId(f.id), ww, 'id must be 1-64 characters of A-Z a-z 0-9 _ -');
      checkFile(f.file, ww);
      for (const k of ['bitrate', 'width', 'height', 'frameRate', 'durationMs'] as const) {
        need(f[k] === undefined || f[k] === null || num(f[k]), ww, `${k} must be a number`);
      }
      need(f.rotation === undefined || f.rotation === null || [0, 90, 180, 270].includes(f.rotation), ww,
        `rotation must be 0, 90, 180 or 270 (degrees clockwise the picture is turned for display; got ${JSON.stringify(f.rotation)?.slice(0, 40)})`);
    });
    e.captions?.forEach((c, j) => {
      const ww = `${w}.captions[${j}]`;
      need(typeof c.id === 'string' && isSafeId(c.id), ww, 'id must be 1-64 characters of A-Z a-z 0-9 _ -');
      need(c.format === 'srt' || c.format === 'vtt' || c.format === 'dfxp', ww, 'format must be "srt", "vtt" or "dfxp" (TTML)');
      checkFile(c.file, ww);
      // a caption file that is not captions is refused here, with its place (a broken TTML's
      // line), rather than at playback; one that is another format than declared is recorded as such
      checkCaption(c, join(mediaDir, c.file), ww);
    });
    need(e.keys === undefined || validEntryKeys(e.keys), w, 'keys must be { "key": 32 hex characters[, "keyId": 32 hex characters] }');
    if (e.dataFile) checkFile(e.dataFile, `${w}.dataFile`);
    if (e.thumbnail) checkFile(e.thumbnail, `${w}.thumbnail`);
  });
}

function checkStoryboard(sb: NonNullable<LibPartner['storyboard']>, where: string): void {
  need(sb && typeof sb === 'object' && !Array.isArray(sb), where, 'must be an object');
  const L = STORYBOARD_LIMITS;
  const whole = (k: 'tileWidth' | 'columns' | 'rows' | 'quality', [lo, hi]: readonly [number, number]) =>
    need(sb[k] === undefined || (Number.isInteger(sb[k]) && sb[k]! >= lo && sb[k]! <= hi), where, `${k} must be a whole number from ${lo} to ${hi}`);
  whole('tileWidth', L.tileWidth);
  whole('columns', L.columns);
  whole('rows', L.rows);
  whole('quality', L.quality);
  const [lo, hi] = L.intervalMs;
  need(sb.intervalSec === undefined || (typeof sb.intervalSec === 'number' && sb.intervalSec * 1000 >= lo && sb.intervalSec * 1000 <= hi), where, `intervalSec must be a number from ${lo / 1000} to ${hi / 1000}`);
  const cfg = { ...DEFAULT_STORYBOARD, ...storyboardConfigOf(sb) };
  // a 9:16 video makes tiles 16/9 taller than wide
  need(cfg.tileWidth * cfg.columns <= L.sheetSide && Math.ceil((cfg.tileWidth * 16) / 9) * cfg.rows <= L.sheetSide, where, `a sheet (tileWidth x columns, tile height x rows) must stay within ${L.sheetSide} pixels`);
}

/** The library's storyboard settings in the catalog's form (milliseconds). */
function storyboardConfigOf(sb: NonNullable<LibPartner['storyboard']>): Partial<StoryboardConfig> {
  const { intervalSec, ...rest } = sb;
  return { ...rest, ...(intervalSec !== undefined ? { intervalMs: Math.round(intervalSec * 1000) } : {}) };
}

/** The format a caption file really is, where it is not the one the library declares (written instead). */
const captionFormats = new WeakMap<LibCaption, CaptionFormat>();

/**
 * Reads a caption file as captionAsset.setContent reads content (src/media/captions.ts): text that
 * is SRT, WebVTT or TTML/DFXP with cues, else refused; a WebVTT file declared "srt" (or any other
 * mismatch) is recorded as the format it is, as setContent stores it.
 */
function checkCaption(c: LibCaption, file: string, where: string): void {
  let format: CaptionFormat;
  try {
    ({ format } = readCaptions(readFileSync(file)));
  } catch (e) {
    if (e instanceof CaptionContentError) throw new LibraryError(`${where}: ${file} is ${e.message}`);
    throw e;
  }
  if (format !== c.format) captionFormats.set(c, format);
}

/**
 * Whether two paths hold the same media: one file (a hard link of the other); across file systems
 * a copy an import made (same size and modification time: `place` keeps the source's); else two
 * files of the same size and bytes (read only then: a re-import from the same library folder finds
 * its hard links).
 */
function sameMedia(a: string, b: string): boolean {
  const sa = statSync(a, { throwIfNoEntry: false });
  const sb = statSync(b, { throwIfNoEntry: false });
  if (!sa?.isFile() || !sb?.isFile() || sa.size !== sb.size) return false;
  if (sa.dev === sb.dev && sa.ino === sb.ino) return true;
  if (sa.dev !== sb.dev && Math.trunc(sa.mtimeMs) === Math.trunc(sb.mtimeMs)) return true;
  return sameBytes(a, b);
}

function sameBytes(a: string, b: string): boolean {
  const fa = openSync(a, 'r');
  const fb = openSync(b, 'r');
  try {
    const ba = Buffer.allocUnsafe(1 << 20);
    const bb = Buffer.allocUnsafe(1 << 20);
    for (;;) {
      const na = readSync(fa, ba, 0, ba.length, null);
      const nb = readSync(fb, bb, 0, bb.length, null);
      if (na !== nb || !ba.subarray(0, na).equals(bb.subarray(0, nb))) return false;
      if (na === 0) return true;
    }
  } finally {
    closeSync(fa);
    closeSync(fb);
  }
}

/**
 * Makes `dest` (absent) the given file: a hard link where possible (same file system), else a copy
 * with the source's times. The folder exists. The copy is made off the main thread (the kernel's
 * copy, as fast as copyFileSync), so that a signal's handler runs while it is made: Ctrl-C stops the
 * import once the file under way is copied (the caller then removes it, as every file it placed).
 * A copy in pieces could stop sooner but took twice as long.
 */
async function place(given: string, dest: string): Promise<void> {
  // a symbolic link in the media folder is placed as the file it points to: a hard link to the
  // link itself would leave the data directory pointing outside it (or nowhere, when relative)
  const src = realpathSync(given);
  try {
    linkSync(src, dest);
    return;
  } catch {
    // another file system, or the source has its most links: a copy
  }
  await copyFile(src, dest);
  const st = statSync(src);
  utimesSync(dest, st.atimeMs / 1000, st.mtimeMs / 1000);
}

/** Whether `path` is `name` numbered (`numbered`): 309/0_x/portrait.2.mp4 of 309/0_x/portrait.mp4. */
function isNumbered(path: string, name: string): boolean {
  const ext = extname(name);
  const stem = ext ? name.slice(0, -ext.length) : name;
  return path.startsWith(`${stem}.`) && path.endsWith(ext) && /^[1-9][0-9]*$/.test(path.slice(stem.length + 1, path.length - ext.length));
}

/** `name` with `.{n}` before its extension: portrait.mp4 → portrait.2.mp4. */
function numbered(name: string, n: number): string {
  const ext = extname(name);
  return `${ext ? name.slice(0, -ext.length) : name}.${n}${ext}`;
}

/** A remote media store's writer (src/storage/media-writer.ts), as the library import uses it. */
export interface MediaPut {
  putFile(file: string, key: string): Promise<void>;
  /** Removes an object (a re-imported entry's media its new rows no longer name). */
  remove?(key: string): Promise<void>;
}

/** Where an import is: placing the entries' media, then writing the catalog (one transaction). */
export interface ImportProgress {
  phase: 'media' | 'catalog';
  /** Entries done in this phase, of `total`. */
  done: number;
  total: number;
}

/** How many entries between two progress calls while media are placed. */
const PROGRESS_EVERY = 250;

/** How many entries an import looks up in the catalog at a time (LibraryStore.held). */
const HELD_CHUNK = 500;

function heldOf(catalog: LibraryCatalog, chunk: LibEntry[]): Promise<HeldRecords> {
  return catalog.library.held({
    entries: chunk.map((e) => e.id),
    flavors: chunk.flatMap((e) => (e.flavors ?? []).map((f) => f.id)),
    captions: chunk.flatMap((e) => (e.captions ?? []).map((c) => c.id)),
  });
}

/**
 * Refuses, before any file is placed, a record whose id the catalog holds for another owner: an
 * entry of another partner, a flavor or caption of another entry. A flavor or caption of an entry
 * this file writes before it may move (that entry's rows are deleted first); the store's write
 * refuses what is left (OwnerConflictError).
 */
async function checkOwners(catalog: LibraryCatalog, entries: LibEntry[]): Promise<void> {
  const index = new Map(entries.map((e, i) => [e.id, i]));
  const freed = (holder: string, i: number) => (index.get(holder) ?? i) < i;
  for (let start = 0; start < entries.length; start += HELD_CHUNK) {
    const chunk = entries.slice(start, start + HELD_CHUNK);
    const held = await heldOf(catalog, chunk);
    const partnerOf = new Map(held.entries.map((r) => [r.id, r.partnerId]));
    const owner = { flavor: new Map(held.flavors.map((r) => [r.id, r.entryId])), caption: new Map(held.captions.map((r) => [r.id, r.entryId])) };
    chunk.forEach((e, k) => {
      const i = start + k;
      const w = `entries[${i}] (${e.id})`;
      const had = partnerOf.get(e.id);
      if (had !== undefined && had !== e.partnerId) throw new LibraryError(`${w}: ${ownerRefusal(new OwnerConflictError('entry', e.id, had, e.partnerId))}`);
      for (const what of ['flavor', 'caption'] as const) {
        ((what === 'flavor' ? e.flavors : e.captions) ?? []).forEach((a, j) => {
          const h = owner[what].get(a.id);
          if (h !== undefined && h !== e.id && !freed(h, i)) throw new LibraryError(`${w}.${what}s[${j}]: ${ownerRefusal(new OwnerConflictError(what, a.id, h, e.id))}`);
        });
      }
    });
  }
}

/** What the media phase decided for the catalog write: the placed names and the versions. */
interface Placement {
  /** `{entryId}/{file}` → the path the catalog row names (relative to the media root). */
  paths: Map<string, string>;
  flavorVersions: Map<LibFlavor, number>;
  entryVersions: Map<LibEntry, number>;
  /**
   * Entries the catalog held before, with the files of their folder it named: after a successful
   * write, the files it no longer names go.
   */
  reimported: { entry: LibEntry; named: string[] }[];
  /** What the files of flavors that leave media fields out say of themselves (src/media/facts.ts). */
  facts: Map<LibFlavor, MediaFacts>;
  /** Why the packager refuses the files of such flavors, for those it refuses (src/media/facts.ts). */
  refusals: Map<LibFlavor, string>;
  /** The tags of the flavor params of flavors that leave `tags` out: the file's params, else the catalog's. */
  paramsTags: Map<number, string>;
}

/** A flavor's fields its file can tell when the library leaves them out. */
export const FACT_FIELDS = ['codecs', 'videoCodec', 'audioCodec', 'width', 'height', 'frameRate', 'bitrate', 'durationMs'] as const;
/** The moov a library's media may have at most, unless the caller says (KDELIVER_MAX_MOOV_MB's default). */
const DEFAULT_MAX_MOOV_BYTES = 64 * 1024 * 1024;

/**
 * Imports a validated library into the catalog. Media files are placed under
 * `{partnerId}/{entryId}/` of the media root (a folder, or a remote store's writer); records whose ids exist are replaced. The database
 * work is one transaction, and files placed for a failed import are removed again. A file the
 * catalog names is never replaced in place: changed content goes under a new name (portrait.2.mp4)
 * that the written row names, so a failed import leaves the served media as they were, and a
 * flavor whose content changed gets a new version (its URLs change: /v/{version}/), as does its entry.
 * `onProgress` hears each phase start (done 0), every few hundred entries, and each phase end.
 */
/** An import stopped by its caller (`kdeliver import` given SIGINT or SIGTERM) before its catalog write. */
export class ImportInterrupted extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ImportInterrupted';
  }
}

/**
 * `signal`: aborted, the import stops before its next entry's files, or before its catalog write,
 * and fails as any failed import does: the catalog as it was, the files it placed removed. Once the
 * catalog write has begun it finishes (one transaction, its progress said as it goes).
 */
export async function importLibrary(
  catalog: LibraryCatalog, lib: LibraryFile, mediaDir: string, media: string | MediaPut, now = Math.floor(Date.now() / 1000), onProgress?: (p: ImportProgress) => void,
  maxMoovBytes = DEFAULT_MAX_MOOV_BYTES, signal?: AbortSignal,
): Promise<{ entries: number; warnings: string[] }> {
  const placed: string[] = [];
  // flavors whose MP4 the packager refuses (cut short, damaged): imported, served as files, said
  const warnings: string[] = [];
  /** Folders this import made: [the entry's folder, the first one made], removed again on failure when empty. */
  const made: [string, string][] = [];
  const rel = (e: LibEntry, f: string) => `${e.partnerId}/${e.id}/${f}`;
  const entries = lib.entries ?? [];
  const total = entries.length;
  // before a file is placed: a record naming a partner or profile that is neither in the file nor
  // in the catalog would otherwise fail deep in the write as a bare foreign-key error, and one whose
  // id another owner holds would fail only in the write
  await checkReferences(catalog, lib);
  await checkOwners(catalog, entries);
  // the files this import places, listed before each is placed: an import killed before its
  // commit (kill -9, Ctrl-C) cannot remove them itself, so the next import does
  let journal: { path: string; fd: number } | null = null;
  if (typeof media === 'string') {
    await removeOrphans(catalog, media);
    mkdirSync(media, { recursive: true });
    const path = join(media, `${JOURNAL_PREFIX}${process.pid}`);
    journal = { path, fd: openSync(path, 'w') };
  }
  const plan: Placement = { paths: new Map(), flavorVersions: new Map(), entryVersions: new Map(), reimported: [], facts: new Map(), refusals: new Map(), paramsTags: await paramsTagsOf(catalog, lib) };
  // entries of a big library share a few media files: each is read once
  const factsOfFile = new Map<string, { facts: MediaFacts | null; refused: string | null }>();
  try {
    onProgress?.({ phase: 'media', done: 0, total });
    for (let start = 0; start < total; start += HELD_CHUNK) {
      // placing a local library's files never waits for I/O (links, SQLite reads): without a turn
      // of the event loop now and then, a signal's handler would run only once the import is done
      if (signal) await new Promise((resolve) => setImmediate(resolve));
      const chunk = entries.slice(start, start + HELD_CHUNK);
      const held = await heldOf(catalog, chunk);
      const heldEntry = new Map(held.entries.map((r) => [r.id, r]));
      const heldFlavor = new Map(held.flavors.map((r) => [r.id, r]));
      // the files the catalog names, by entry
      const named = new Map<string, Set<string>>();
      const name = (entryId: string, p: string | null) => {
        if (!p) return;
        let set = named.get(entryId);
        if (!set) named.set(entryId, (set = new Set()));
        set.add(p);
      };
      for (const r of held.entries) { name(r.id, r.dataFile); name(r.id, r.thumbnailFile); }
      for (const r of [...held.flavors, ...held.captions, ...held.thumbs]) name(r.entryId, r.filePath);
      for (let k = 0; k < chunk.length; k++) {
        signal?.throwIfAborted();
        const e = chunk[k];
        const before = heldEntry.get(e.id);
        const folder = `${e.partnerId}/${e.id}/`;
        const names = [...(named.get(e.id) ?? [])].filter((p) => p.startsWith(folder));
        if (before) plan.reimported.push({ entry: e, named: names });
        const files = [...new Set([
          ...(e.flavors ?? []).map((f) => f.file), ...(e.captions ?? []).map((c) => c.file),
          ...(e.dataFile ? [e.dataFile] : []), ...(e.thumbnail ? [e.thumbnail] : []),
        ])];
        const taken = new Set([...names, ...files.map((f) => rel(e, f))]);
        const fresh = (f: string) => {
          for (let n = 2; ; n++) {
            const p = rel(e, numbered(f, n));
            if (!taken.has(p) && (typeof media !== 'string' || !existsSync(join(media, p)))) {
              taken.add(p);
              return p;
            }
          }
        };
        for (const f of files) {
          // between two files too: one entry's copies may take long
          signal?.throwIfAborted();
          const src = join(mediaDir, f);
          let p = rel(e, f);
          if (typeof media !== 'string') {
            // a remote store: each object whole or absent, and not looked at; one the catalog names
            // is not replaced (the import may fail), the file goes under a new key. One left by a
            // failed import is unused.
            if (names.includes(p)) p = fresh(f);
            await media.putFile(src, p);
            plan.paths.set(`${e.id}/${f}`, p);
            continue;
          }
          // the same media the catalog names already (under this name, or the new one an earlier
          // import gave changed content, portrait.2.mp4): kept
          const same = [p, ...names.filter((q) => isNumbered(q, p))].find((q) => sameMedia(src, join(media, q)));
          if (same !== undefined) {
            plan.paths.set(`${e.id}/${f}`, same);
            continue;
          }
          if (names.includes(p)) p = fresh(f);
          const dest = join(media, p);
          // listed before its folder is made, so that a kill at any point leaves nothing unlisted
          writeSync(journal!.fd, p + '\n');
          const dir = dirname(dest);
          const first = mkdirSync(dir, { recursive: true });
          if (first !== undefined) made.push([dir, first]);
          // a file there that the catalog does not name (left by a failed or killed import): replaced
          rmSync(dest, { force: true });
          // counted as placed before it is whole: one whose copy failed half-way is removed too
          placed.push(dest);
          await place(src, dest);
          plan.paths.set(`${e.id}/${f}`, p);
        }
        let changed = false;
        for (const f of e.flavors ?? []) {
          if (FACT_FIELDS.some((k) => f[k] === undefined || f[k] === null)) {
            let read = factsOfFile.get(f.file);
            if (read === undefined) factsOfFile.set(f.file, (read = await readMediaFacts(sourceOf(f), maxMoovBytes)));
            if (read.facts) plan.facts.set(f, read.facts);
            // the turn players apply is the file's own (fMP4 carries its matrix): a given one that
            // differs would only choose the wrong container and mislabel the picture
            if (read.facts && typeof f.rotation === 'number' && f.rotation !== read.facts.rotation) {
              warnings.push(`entries[${start + k}] (${e.id}) flavor ${f.id} (${f.file}): rotation ${f.rotation} given, but the file's track matrix turns its picture ${read.facts.rotation}°: ${read.facts.rotation} kept`);
            }
            if (read.refused) {
              plan.refusals.set(f, read.refused);
              warnings.push(`entries[${start + k}] (${e.id}) flavor ${f.id} (${f.file}): not packaged for HLS, DASH or Smooth Streaming, only served as a file: ${read.refused}`);
            }
          }
          const row = heldFlavor.get(f.id);
          if (!row || row.entryId !== e.id) {
            plan.flavorVersions.set(f, f.version ?? 1);
            continue;
          }
          // new content: another size, or another file than the one the row names
          const differs = typeof media !== 'string' || row.size !== statSync(sourceOf(f)).size || !sameMedia(sourceOf(f), join(media, row.filePath));
          if (differs) changed = true;
          plan.flavorVersions.set(f, f.version ?? (differs ? row.version + 1 : row.version));
        }
        plan.entryVersions.set(e, e.version ?? (before ? before.version + (changed ? 1 : 0) : 1));
        if (onProgress && (start + k + 1) % PROGRESS_EVERY === 0) onProgress({ phase: 'media', done: start + k + 1, total });
      }
    }
    onProgress?.({ phase: 'media', done: total, total });
    if (signal) await new Promise((resolve) => setImmediate(resolve));
    signal?.throwIfAborted();
    const writes = libraryWrites(lib, now, (e, f) => plan.paths.get(`${e.id}/${f}`) ?? rel(e, f), mediaDir, plan);
    onProgress?.({ phase: 'catalog', done: 0, total });
    try {
      await catalog.library.write(writes, onProgress && ((done) => onProgress({ phase: 'catalog', done, total })));
    } catch (e) {
      throw e instanceof OwnerConflictError ? new LibraryError(ownerRefusal(e)) : e;
    }
  } catch (err) {
    for (const p of placed) rmSync(p, { force: true });
    for (const [dir, first] of made.reverse()) {
      for (let d = dir; d.length >= first.length; d = dirname(d)) {
        try {
          rmdirSync(d); // only when empty
        } catch {
          break;
        }
      }
    }
    throw err;
  } finally {
    if (journal) {
      closeSync(journal.fd);
      rmSync(journal.path, { force: true });
    }
  }
  await removeUnnamed(media, plan, rel);
  return { entries: total, warnings };

  /** A flavor's file in the library's media folder. */
  function sourceOf(f: LibFlavor): string {
    return join(mediaDir, f.file);
  }
}

/**
 * After a successful import: the files of a re-imported entry's folder that its new rows do not
 * name (media a flavor no longer points at, a caption removed, changed content's old name).
 */
async function removeUnnamed(media: string | MediaPut, plan: Placement, rel: (e: LibEntry, f: string) => string): Promise<void> {
  for (const { entry: e, named } of plan.reimported) {
    const keep = new Set(
      [...(e.flavors ?? []).map((f) => f.file), ...(e.captions ?? []).map((c) => c.file), ...(e.dataFile ? [e.dataFile] : []), ...(e.thumbnail ? [e.thumbnail] : [])]
        .map((f) => plan.paths.get(`${e.id}/${f}`) ?? rel(e, f)),
    );
    if (typeof media !== 'string') {
      // a store is not listed: the objects the catalog named before
      for (const key of named) if (!keep.has(key)) await media.remove?.(key).catch(() => undefined);
      continue;
    }
    const folder = join(media, String(e.partnerId), e.id);
    let names: string[];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const n of names) {
      const p = rel(e, n);
      if (n.startsWith('.') || keep.has(p) || !statSync(join(folder, n), { throwIfNoEntry: false })?.isFile()) continue;
      rmSync(join(folder, n), { force: true });
    }
  }
}

/** The journal of an import's placed files in the media folder: `.import-placing-{pid}`. */
const JOURNAL_PREFIX = '.import-placing-';

/**
 * Removes what an import that died before its end placed (its journal is still there and its
 * process is gone). A killed import never committed. A listed file is kept when the catalog has a
 * live entry of that id (a file of it may be one it names); a deleted entry (status 3, `kdeliver
 * entries delete`) keeps only a file its rows still name (a library may import an entry as
 * deleted, with its flavors): its id alone protects nothing, else the files would stay for good.
 */
async function removeOrphans(catalog: LibraryCatalog, media: string): Promise<void> {
  for (const journal of staleJournals(media)) {
    // per entry: true, its every file is kept; else the files its rows name (none: no entry)
    const entryKeeps = new Map<string, true | Set<string>>();
    const keepsOf = async (entryId: string): Promise<true | Set<string>> => {
      const entry = await catalog.getEntry(entryId);
      if (entry === undefined) return new Set();
      if (entry.status !== EntryStatus.DELETED) return true;
      const held = await catalog.library.held({ entries: [entryId], flavors: [], captions: [] });
      const named = new Set<string>();
      for (const r of held.entries) for (const p of [r.dataFile, r.thumbnailFile]) if (p) named.add(p);
      for (const r of [...held.flavors, ...held.captions, ...held.thumbs]) if (r.entryId === entryId && r.filePath) named.add(r.filePath);
      return named;
    };
    for (const line of readFileSync(journal, 'utf8').split('\n')) {
      const [partner, entryId, file] = line.split('/');
      if (!partner || !entryId || !file) continue;
      let keeps = entryKeeps.get(entryId);
      if (keeps === undefined) entryKeeps.set(entryId, (keeps = await keepsOf(entryId)));
      if (keeps !== true && !keeps.has(line)) {
        rmSync(join(media, partner, entryId, file), { force: true });
        for (const dir of [join(media, partner, entryId), join(media, partner)]) {
          try {
            rmdirSync(dir); // only when empty
          } catch {
            break;
          }
        }
      }
    }
    rmSync(journal, { force: true });
  }
}

/** Whether the media folder holds the journal of an import that is no longer running. */
export const interruptedImport = (media: string): boolean => staleJournals(media).length > 0;

/**
 * The journals in the media folder whose import is not running. This process's own pid counts as
 * not running: its journal exists only while its import runs, and none runs when this is asked,
 * so one of that name was left by an earlier process that had the same pid.
 */
function staleJournals(media: string): string[] {
  let names: string[];
  try {
    names = readdirSync(media);
  } catch {
    return []; // no media folder yet
  }
  return names
    .filter((n) => n.startsWith(JOURNAL_PREFIX))
    .filter((n) => {
      const pid = Number(n.slice(JOURNAL_PREFIX.length));
      return pid === process.pid || !running(pid);
    })
    .map((n) => join(media, n));
}

function running(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Why a record of the file may not replace the catalog's record of the same id: an entry id held by
 * another partner, a flavor or caption id held by another entry. Kaltura's ids name one
 * record across every partner, so such a clash is a mistake in the file, not a move.
 */
function ownerRefusal({ what, id, heldBy, wants }: OwnerConflictError): string {
  return what === 'entry'
    ? `entry ${id} belongs to partner ${heldBy} in the catalog, not to partner ${wants}: an entry id names one entry across all partners`
    : `${what} ${id} belongs to entry ${heldBy} in the catalog, not to entry ${wants}: give it another id, or delete entry ${heldBy} first`;
}

/** What an import reads of the catalog besides its library store. */
export type LibraryCatalog = Pick<Catalog, 'library' | 'getEntry' | 'getPartner' | 'getAccessControlProfile' | 'getConversionProfile' | 'getStorageProfile' | 'getFlavorParams'>;

/** The tags of the flavor params named by flavors that leave `tags` out: the file's params (which the import writes), else the catalog's. */
async function paramsTagsOf(catalog: LibraryCatalog, lib: LibraryFile): Promise<Map<number, string>> {
  const tags = new Map<number, string>();
  for (const fp of lib.flavorParams ?? []) tags.set(fp.id, fp.tags ?? '');
  for (const e of lib.entries ?? []) {
    for (const f of e.flavors ?? []) {
      if ((f.tags !== undefined && f.tags !== null) || tags.has(f.flavorParamsId)) continue;
      const fp = await catalog.getFlavorParams(f.flavorParamsId);
      tags.set(f.flavorParamsId, fp ? fp.tags.join(',') : '');
    }
  }
  return tags;
}

/** Every partner, access-control, conversion and storage profile and flavor params the file's records name exists. */
async function checkReferences(catalog: LibraryCatalog, lib: LibraryFile): Promise<void> {
  const inFile = (list: { id: number }[] | undefined) => new Set((list ?? []).map((r) => r.id));
  const partners = inFile(lib.partners);
  const acps = inFile(lib.accessControlProfiles);
  const conversions = inFile(lib.conversionProfiles);
  const storages = inFile(lib.storageProfiles);
  const flavorParams = inFile(lib.flavorParams);
  const known = new Map<string, boolean>();
  const exists = async (what: string, id: number, look: (id: number) => Promise<unknown>) => {
    const k = `${what} ${id}`;
    let yes = known.get(k);
    if (yes === undefined) known.set(k, (yes = (await look(id)) !== undefined));
    return yes;
  };
  const partner = async (id: number, where: string) => {
    if (!partners.has(id)) need(await exists('partner', id, (i) => catalog.getPartner(i)), where, `partner ${id} is neither in the file nor in the catalog`);
  };
  for (const [key, list] of [['accessControlProfiles', lib.accessControlProfiles], ['storageProfiles', lib.storageProfiles]] as const) {
    for (const [i, r] of (list ?? []).entries()) await partner(r.partnerId, `${key}[${i}]`);
  }
  for (const [i, e] of (lib.entries ?? []).entries()) {
    await partner(e.partnerId, `entries[${i}] (${e.id})`);
    const acp = e.accessControlProfileId;
    if (acp !== undefined && acp !== null && !acps.has(acp)) {
      need(await exists('acp', acp, (id) => catalog.getAccessControlProfile(id)), `entries[${i}] (${e.id})`, `access-control profile ${acp} is neither in the file nor in the catalog`);
    }
    const cp = e.conversionProfileId;
    if (cp !== undefined && cp !== null && !conversions.has(cp)) {
      need(await exists('conversion', cp, (id) => catalog.getConversionProfile(id)), `entries[${i}] (${e.id})`, `conversion profile ${cp} is neither in the file nor in the catalog`);
    }
    for (const f of e.flavors ?? []) {
      // as in Kaltura, a flavor asset's params exist: their tags decide the formats it plays in, and
      // a flavor of params that are nowhere would be imported only to answer error 6 in every one
      if (!flavorParams.has(f.flavorParamsId)) {
        need(await exists('flavorParams', f.flavorParamsId, (id) => catalog.getFlavorParams(id)), `entries[${i}] (${e.id}) flavor ${f.id}`,
          `flavor params ${f.flavorParamsId} are neither in the file (flavorParams) nor in the catalog`);
      }
      for (const sid of Object.keys(f.remoteFiles ?? {}).map(Number)) {
        if (!storages.has(sid)) need(await exists('storage', sid, (id) => catalog.getStorageProfile(id)), `entries[${i}] (${e.id}).flavors`, `storage profile ${sid} is neither in the file nor in the catalog`);
      }
    }
  }
}

/** Booleans stay booleans and undefined becomes null: each store stores them its own way. */
function row(r: Record<string, string | number | boolean | null | undefined>): LibraryRow {
  const out: LibraryRow = {};
  for (const [k, v] of Object.entries(r)) out[k] = v === undefined ? null : v;
  return out;
}

/**
 * The catalog writes of a library, in order (src/catalog/store.ts LibraryWrite), made as they are
 * written: an entry's rows at a time, so that a library of 100,000 entries does not hold its
 * 600,000 rows in memory at once.
 */
function* libraryWrites(lib: LibraryFile, now: number, rel: (e: LibEntry, f: string) => string, mediaDir: string, plan: Pick<Placement, 'flavorVersions' | 'entryVersions' | 'facts' | 'refusals' | 'paramsTags'>): Generator<LibraryWrite> {
  let writes: LibraryWrite[] = [];
  const upsert = (table: LibraryTable, r: Parameters<typeof row>[0]) => writes.push({ op: 'upsert', table, row: row(r) });
  // entries of a big library share a few media files: each is measured once
  const sizes = new Map<string, number>();
  const sizeOf = (f: string) => {
    let n = sizes.get(f);
    if (n === undefined) sizes.set(f, (n = statSync(join(mediaDir, f)).size));
    return n;
  };
  for (const p of lib.partners ?? []) {
    upsert('partners', {
      id: p.id, name: p.name ?? `Partner ${p.id}`, admin_secret: p.adminSecret, user_secret: p.userSecret,
      additional_admin_secrets: JSON.stringify(p.additionalAdminSecrets ?? []),
      status: p.status ?? 1, enforce_encryption: !!p.enforceEncryption, disable_flavors_optimization: !!p.disableFlavorsOptimization,
      delivery_profile_ids: JSON.stringify(p.deliveryProfileIds ?? {}),
      storage_serve_priority: p.storageServePriority ?? 1, default_conversion_profile_id: p.defaultConversionProfileId ?? null,
      storyboard: JSON.stringify(p.storyboard ? storyboardConfigOf(p.storyboard) : {}),
      drm_profiles: JSON.stringify(normalDrmProfiles(p.drmProfiles ?? [])),
    });
  }
  for (const fp of lib.flavorParams ?? []) {
    upsert('flavor_params', {
      id: fp.id, name: fp.name, tags: fp.tags ?? '', format: fp.format ?? 'mp4', video_codec: fp.videoCodec ?? '',
      audio_codec: fp.audioCodec ?? '', width: fp.width ?? 0, height: fp.height ?? 0, video_bitrate: fp.videoBitrate ?? 0,
      audio_bitrate: fp.audioBitrate ?? 0, frame_rate: fp.frameRate ?? 0,
    });
  }
  for (const cp of lib.conversionProfiles ?? []) {
    upsert('conversion_profiles', {
      id: cp.id, partner_id: cp.partnerId, name: cp.name, system_name: cp.systemName ?? '', is_default: !!cp.isDefault,
      flavor_params_ids: (cp.flavorParamsIds ?? []).join(','), created_at: now,
    });
  }
  for (const d of lib.deliveryProfiles ?? []) {
    upsert('delivery_profiles', {
      id: d.id, partner_id: d.partnerId ?? 0, name: d.name, type: d.type, streamer_type: d.streamerType, url: d.url,
      is_default: !!d.isDefault, priority: d.priority ?? 0, active: d.active ?? true, media_protocols: d.mediaProtocols ?? '',
      tokenizer: d.tokenizer ? JSON.stringify(d.tokenizer) : null, enforce_deliveries_support: d.enforceDeliveriesSupport ?? '',
      max_size: d.maxSize ?? null, extra_params: JSON.stringify(d.extraParams ?? {}),
    });
  }
  for (const s of lib.storageProfiles ?? []) {
    upsert('storage_profiles', {
      id: s.id, partner_id: s.partnerId, name: s.name, base_url: s.baseUrl,
      delivery_profile_ids: JSON.stringify(s.deliveryProfileIds ?? {}), active: s.active ?? true,
    });
  }
  for (const a of lib.accessControlProfiles ?? []) {
    upsert('access_control_profiles', {
      id: a.id, partner_id: a.partnerId, name: a.name, system_name: a.systemName ?? '', description: a.description ?? '',
      is_default: !!a.isDefault, rules: JSON.stringify(normalizeAccessRules(a.rules ?? [], a.restrictions ?? [])),
      created_at: now, updated_at: now,
    });
  }
  for (const u of lib.uiConfs ?? []) {
    upsert('ui_confs', {
      id: u.id, partner_id: u.partnerId ?? 0, name: u.name ?? '', obj_type: u.objType ?? 1, width: u.width ?? null,
      height: u.height ?? null, conf_file: u.confFile ?? '', conf_vars: u.confVars ?? '', tags: u.tags ?? '',
      created_at: now, updated_at: now,
    });
  }
  yield* writes;
  for (const e of lib.entries ?? []) {
    writes = [];
    // flavors, captions and keys go with it (ON DELETE CASCADE); an entry imported again without
    // keys keeps the ones it had (players may hold licences for them): see the entryKeys write
    writes.push({ op: 'deleteEntry', id: e.id, partnerId: e.partnerId });
    // a field the library leaves out: what the flavor's file says (plan.facts), else empty
    const told = (f: LibFlavor) => plan.facts.get(f);
    const duration = e.duration ?? Math.max(0, ...(e.flavors ?? []).map((f) => (f.durationMs ?? told(f)?.durationMs ?? 0) / 1000));
    upsert('entries', {
      id: e.id, partner_id: e.partnerId, name: e.name ?? e.id, description: e.description ?? '', type: e.type ?? 1,
      media_type: e.mediaType ?? 1, status: e.status ?? 2, duration, moderation_status: e.moderationStatus ?? 6,
      start_date: e.startDate ?? null, end_date: e.endDate ?? null, access_control_profile_id: e.accessControlProfileId ?? null,
      tags: e.tags ?? '', admin_tags: e.adminTags ?? '', user_id: e.userId ?? '', reference_id: e.referenceId ?? '',
      created_at: e.createdAt ?? now, updated_at: now, version: plan.entryVersions.get(e) ?? e.version ?? 1,
      data_file: e.dataFile ? rel(e, e.dataFile) : null, thumbnail_file: e.thumbnail ? rel(e, e.thumbnail) : null,
      redirect_entry_id: e.redirectEntryId ?? null, conversion_profile_id: e.conversionProfileId ?? null, partner_data: e.partnerData ?? '',
    });
    writes.push({ op: 'entryKeys', entryId: e.id, keys: e.keys ?? null, now });
    for (const f of e.flavors ?? []) {
      const ext = (f.fileExt ?? extname(f.file).slice(1)).toLowerCase();
      upsert('flavor_assets', {
        id: f.id, entry_id: e.id, partner_id: e.partnerId, flavor_params_id: f.flavorParamsId, file_path: rel(e, f.file),
        size: sizeOf(f.file), container_format: f.containerFormat ?? (ext === '3gp' ? '3gp' : 'isom'),
        file_ext: ext, video_codec: f.videoCodec ?? told(f)?.videoCodec ?? '', audio_codec: f.audioCodec ?? told(f)?.audioCodec ?? '',
        codecs: f.codecs ?? told(f)?.codecs ?? '', width: f.width ?? told(f)?.width ?? 0, height: f.height ?? told(f)?.height ?? 0,
        bitrate: f.bitrate ?? told(f)?.bitrate ?? 0, frame_rate: f.frameRate ?? told(f)?.frameRate ?? 0,
        duration_ms: f.durationMs ?? told(f)?.durationMs ?? Math.round(duration * 1000), language: f.language ?? '', label: f.label ?? '',
        // as Kaltura's flavor assets take their params' tags when they are made
        is_default: !!f.isDefault, tags: f.tags ?? plan.paramsTags.get(f.flavorParamsId) ?? '', status: f.status ?? 2, version: plan.flavorVersions.get(f) ?? f.version ?? 1,
        is_original: f.isOriginal ?? f.flavorParamsId === 0, created_at: now, updated_at: now,
        packaging_refusal: plan.refusals.get(f) ?? '', rotation: told(f)?.rotation ?? f.rotation ?? 0,
      });
      for (const [sid, path] of Object.entries(f.remoteFiles ?? {})) {
        upsert('remote_files', { flavor_asset_id: f.id, storage_profile_id: Number(sid), path });
      }
    }
    for (const c of e.captions ?? []) {
      // either may be left out: each is derived from the other (src/catalog/languages.ts), and
      // neither makes an "Undefined" language ("und"), as Kaltura's own
      const lang = captionLanguage(c);
      upsert('caption_assets', {
        id: c.id, entry_id: e.id, partner_id: e.partnerId, ...lang,
        label: c.label ?? lang.language, format: captionFormats.get(c) ?? c.format, file_path: rel(e, c.file), size: sizeOf(c.file),
        is_default: !!c.isDefault, status: c.status ?? 2, version: 1, display_on_player: c.displayOnPlayer ?? true,
        created_at: now, updated_at: now,
      });
    }
    yield* writes;
  }
}

/** A caption's language name and code, either derived from the other when left out. */
function captionLanguage(c: LibCaption): { language: string; language_code: string } {
  const name = c.language || null;
  const code = c.languageCode || null;
  return {
    language: name ?? (code && code !== 'und' && languageName(code) === 'Undefined' ? code : languageName(code ?? 'und')),
    language_code: code ?? (name ? languageCode(name) : 'und'),
  };
}

/** The sample library shipped in fixtures/. */
export function sampleLibraryPath(): string {
  const p = shippedFile('fixtures/sample-library.json');
  if (p === null) throw new LibraryError('fixtures/sample-library.json not found next to kdeliver');
  return p;
}

