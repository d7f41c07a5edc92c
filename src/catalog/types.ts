// The catalog's records, as the stages see them. Field names follow Kaltura's API objects where
// one exists, so a reader of the reference can map them one to one. Times are Unix seconds,
// bitrates kbit/s, durations seconds (entries) or milliseconds (where the name says Ms).

/** Kaltura's entry.type (KalturaEntryType). */
export const EntryType = { MEDIA_CLIP: 1, MIX: 2, PLAYLIST: 5, DATA: 6, LIVE_STREAM: 7, LIVE_CHANNEL: 8, DOCUMENT: 10 } as const;
/** Kaltura's entry.mediaType (KalturaMediaType). */
export const MediaType = { VIDEO: 1, IMAGE: 2, AUDIO: 5 } as const;
/** Kaltura's entry.status (KalturaEntryStatus). */
export const EntryStatus = { ERROR_IMPORTING: -2, ERROR_CONVERTING: -1, IMPORT: 0, PRECONVERT: 1, READY: 2, DELETED: 3, PENDING: 4, MODERATE: 5, BLOCKED: 6, NO_CONTENT: 7 } as const;
const ENTRY_STATUS_NAMES = new Map<number, string>(Object.entries(EntryStatus).map(([k, v]) => [v, k]));
/** An entry status's name (READY, ERROR_CONVERTING, ...), or its number when it has none. */
export const entryStatusName = (status: number): string => ENTRY_STATUS_NAMES.get(status) ?? String(status);
/** Kaltura's moderationStatus (KalturaEntryModerationStatus). */
export const ModerationStatus = { PENDING_MODERATION: 1, APPROVED: 2, REJECTED: 3, DELETED: 4, FLAGGED_FOR_REVIEW: 5, AUTO_APPROVED: 6 } as const;
/** Kaltura's flavorAsset.status (KalturaFlavorAssetStatus). */
export const AssetStatus = { ERROR: -1, QUEUED: 0, CONVERTING: 1, READY: 2, DELETED: 3, NOT_APPLICABLE: 4, TEMP: 5, WAIT_FOR_CONVERT: 6, IMPORTING: 7, VALIDATING: 8, EXPORTING: 9 } as const;
/** Kaltura's partner.status (KalturaPartnerStatus). */
export const PartnerStatus = { DELETED: 0, ACTIVE: 1, BLOCKED: 2, FULL_BLOCK: 3 } as const;

export interface Partner {
  id: number;
  name: string;
  adminSecret: string;
  /**
   * Admin secrets besides adminSecret (Kaltura's enabled additional admin secrets): each verifies
   * a KS and starts an admin session, which it then signs; adminSecret signs every other KS.
   */
  additionalAdminSecrets: string[];
  userSecret: string;
  /** PartnerStatus. */
  status: number;
  /** optimized_playback enforce_encryption: HTTPS request and protocol https required. */
  enforceEncryption: boolean;
  /**
   * Kaltura's FEATURE_DISABLE_FLAVORS_OPTIMIZATION: playManifest keeps flavors a larger one within
   * 5 % of its bitrate would make redundant.
   */
  disableFlavorsOptimization: boolean;
  /** Per-format ordered delivery-profile ids (partner.deliveryProfileIds in Kaltura). */
  deliveryProfileIds: Record<string, number[]>;
  /** 1 Kaltura only, 2 Kaltura first, 3 external first, 4 external only. */
  storageServePriority: number;
  defaultConversionProfileId: number | null;
  /** Storyboard settings that differ from the defaults (DEFAULT_STORYBOARD below; the files are made by src/thumbnail/). */
  storyboard: Partial<StoryboardConfig>;
  /** The licence servers of its encrypted entries, one per DRM system (src/drm/profiles.ts). */
  drmProfiles: DrmProfile[];
}

/** A DRM system whose licence server a partner runs elsewhere (Kaltura's DRM provider plugins). */
export type DrmProvider = 'widevine' | 'playready' | 'fairplay';

/**
 * A partner's DRM profile (Kaltura's KalturaDrmProfile, one per provider and partner): where the
 * players of its encrypted entries get licences for one system. kdeliver runs none of these
 * servers; it writes their signalling and lists them in the playback context.
 */
export interface DrmProfile {
  provider: DrmProvider;
  /**
   * The licence URL players are given, used as written but for {partnerId}, {entryId} and {ks}
   * (the caller's KS, URL-encoded; empty without one).
   */
  licenseServerUrl: string;
  /** FairPlay: the application certificate, base64 (KalturaFairplayDrmProfile.publicCertificate). */
  publicCertificate?: string;
  /**
   * FairPlay: where players fetch the application certificate (http(s), used as written); listed
   * as `certificateURL` in the playback context. One of it and publicCertificate is required.
   */
  certificateUrl?: string;
  /** FairPlay: the skd:// key URI of the playlists, with {entryId} and {keyId} (hex); default skd://{keyId}. */
  keyUri?: string;
}

export interface FlavorParams {
  id: number;
  name: string;
  tags: string[];
  format: string; // container: mp4, 3gp, ...
  videoCodec: string; // h264, h265, ...
  audioCodec: string;
  width: number;
  height: number;
  videoBitrate: number;
  audioBitrate: number;
  frameRate: number;
}

export interface Entry {
  id: string;
  partnerId: number;
  name: string;
  description: string;
  type: number;
  mediaType: number;
  status: number;
  /** Seconds (may be fractional). */
  duration: number;
  moderationStatus: number;
  startDate: number | null;
  endDate: number | null;
  accessControlProfileId: number | null;
  tags: string;
  adminTags: string;
  userId: string;
  referenceId: string;
  createdAt: number;
  updatedAt: number;
  version: number;
  /** Data file relative to the media root: the image of an image entry, the file of a document. */
  dataFile: string | null;
  /** Default thumbnail, relative to the media root. */
  thumbnailFile: string | null;
  redirectEntryId: string | null;
  /** Free text an integration keeps on the entry (Kaltura's partnerData). */
  partnerData: string;
  /** The conversion profile its content is transcoded with (media.add); null: the partner's default. */
  conversionProfileId: number | null;
}

export interface FlavorAsset {
  id: string;
  entryId: string;
  partnerId: number;
  flavorParamsId: number;
  /** Relative to the media root; never absolute, never containing "..". */
  filePath: string;
  size: number;
  containerFormat: string;
  fileExt: string;
  videoCodec: string;
  audioCodec: string;
  /** RFC 6381 codec string, e.g. "avc1.64001f,mp4a.40.2"; empty when unknown. */
  codecs: string;
  width: number;
  height: number;
  bitrate: number;
  frameRate: number;
  /** Milliseconds. */
  durationMs: number;
  language: string;
  label: string;
  isDefault: boolean;
  tags: string[];
  status: number;
  version: number;
  isOriginal: boolean;
  createdAt: number;
  updatedAt: number;
  /**
   * Why the packager refuses the file (a recording cut short, no MP4), as `kdeliver import` found
   * when it read it; '' when it packages it or the file was not read (its media fields given).
   */
  packagingRefusal: string;
  /**
   * Degrees clockwise the picture is turned for display (0, 90, 180 or 270), as the file's track
   * matrix says (src/media/facts.ts); 0 when the file was not read. `width` and `height` are the
   * picture as shown (a phone's portrait video: taller than wide).
   */
  rotation: number;
}

export interface CaptionAsset {
  id: string;
  entryId: string;
  partnerId: number;
  /** Language name as Kaltura stores it, e.g. "English". */
  language: string;
  /** ISO 639-1 code, e.g. "en". */
  languageCode: string;
  label: string;
  /** "srt", "dfxp" (TTML) or "vtt": Kaltura's CaptionType 1, 2 and 3. */
  format: 'srt' | 'vtt' | 'dfxp';
  filePath: string;
  size: number;
  isDefault: boolean;
  status: number;
  version: number;
  displayOnPlayer: boolean;
  createdAt: number;
  updatedAt: number;
}

// The access-control vocabulary: how rules are stored (the library file and the catalog use this
// very shape). Modelled on Kaltura's kRule / kCondition / kRuleAction objects, with readable names
// instead of numeric enums; src/api maps both ways, src/access evaluates them.

/** Kaltura ContextType: where a request is evaluated. */
export type AccessContext = 'PLAY' | 'DOWNLOAD' | 'THUMBNAIL' | 'METADATA' | 'EXPORT' | 'SERVE';

/** Every condition may carry the partner's `description` (kept and shown, not evaluated). */
export type Condition = ConditionOf & { description?: string };
type ConditionOf =
  | { type: 'authenticated'; not?: boolean; privileges?: string[] }
  | { type: 'ip'; not?: boolean; values: string[]; httpHeader?: string; acceptInternalIps?: boolean }
  | { type: 'country'; not?: boolean; values: string[] }
  | { type: 'site'; not?: boolean; values: string[] }
  | { type: 'userAgent'; not?: boolean; values: string[] }
  | { type: 'httpHeader'; not?: boolean; headerName: string; values: string[] }
  | { type: 'sessionType'; not?: boolean; sessionType: number }
  | { type: 'fieldCompare'; not?: boolean; field: 'time'; offset?: number; value: number; comparison: number }
  | { type: 'entryScheduled'; not?: boolean }
  | { type: 'assetProperties'; not?: boolean; properties: Record<string, string | number> }
  | { type: 'hash'; not?: boolean; hashName: string; hashSecret: string }
  | { type: 'or'; not?: boolean; conditions: Condition[] };

export type RuleAction =
  | { type: 'block' }
  | { type: 'preview'; limit: number }
  | { type: 'limitFlavors'; flavorParamsIds: number[]; isBlockedList: boolean }
  | { type: 'limitDeliveryProfiles'; deliveryProfileIds: number[]; isBlockedList: boolean }
  // handed to clients in the playback context; checkAliveTimeoutMs: the player pings the new host
  // first, within that many ms, and keeps the old one when it does not answer
  | { type: 'requestHostRegex'; pattern: string; replacement: string; checkAliveTimeoutMs?: number }
  // the DRM plugin's DRM_POLICY action ("drm.DRM_POLICY"): the entry is delivered encrypted
  // (src/drm); policyId names the reference's DRM policy, kept for clients, not evaluated
  | { type: 'drmPolicy'; policyId: number };

export interface AccessRule {
  description?: string;
  message?: string;
  code?: string;
  /** Empty or absent: every context. */
  contexts?: AccessContext[];
  conditions?: Condition[];
  actions: RuleAction[];
  stopProcessing?: boolean;
  forceAdminValidation?: boolean;
}

export interface AccessControlProfile {
  id: number;
  partnerId: number;
  name: string;
  systemName: string;
  description: string;
  isDefault: boolean;
  rules: AccessRule[];
  createdAt: number;
  updatedAt: number;
}

export interface TokenizerConfig {
  /** e.g. "kaltura", "akamaiHttp", "akamaiSecureHd", "cloudfront", "level3", "l3", "limelight", "ks", "wowza", "cht", "vnpt", "chinacache", "bitgravity". */
  type: string;
  [setting: string]: unknown;
}

export interface DeliveryProfile {
  id: number;
  partnerId: number;
  name: string;
  /** Kaltura's DeliveryProfileType, e.g. 61 VOD_PACKAGER_HLS. */
  type: number;
  streamerType: string;
  /** Absolute URL, or a path starting with "/" meaning the server's own public URL. */
  url: string;
  isDefault: boolean;
  priority: number;
  /** Kaltura's ACTIVE or STAGING_OUT; inactive profiles are never chosen. */
  active: boolean;
  /** Comma list of allowed request protocols; empty means any. */
  mediaProtocols: string[];
  tokenizer: TokenizerConfig | null;
  /** Values of enforce_delivery admin tags this profile supports. */
  enforceDeliveriesSupport: string[];
  maxSize: number | null;
  extraParams: Record<string, unknown>;
}

export interface StorageProfile {
  id: number;
  partnerId: number;
  name: string;
  /** Base URL of the external storage (a CDN or object-store origin). */
  baseUrl: string;
  /** Per-format delivery-profile ids for this storage. */
  deliveryProfileIds: Record<string, number[]>;
  active: boolean;
}

/** A copy of a flavor's file on an external storage. */
export interface RemoteFile {
  flavorAssetId: string;
  storageProfileId: number;
  /** Path relative to the storage's base URL. */
  path: string;
}

export interface ConversionProfile {
  id: number;
  partnerId: number;
  name: string;
  systemName: string;
  isDefault: boolean;
  flavorParamsIds: number[];
  createdAt: number;
}

/** A thumbnail of an entry (Kaltura's thumbAsset); the default one is also the entry's thumbnailFile. */
export interface ThumbAsset {
  id: string;
  entryId: string;
  partnerId: number;
  /** Relative to the media root; '' while the asset has no content (status QUEUED). */
  filePath: string;
  fileExt: string;
  width: number;
  height: number;
  size: number;
  tags: string;
  description: string;
  isDefault: boolean;
  status: number;
  version: number;
  createdAt: number;
  updatedAt: number;
}

/** Kaltura's uiConf: a player's or uploader's configuration document. */
export interface UiConf {
  id: number;
  /** 0: every partner's. */
  partnerId: number;
  name: string;
  /** Kaltura's UiConfObjType (1 player, 2 contribution wizard, ...). */
  objType: number;
  width: number | null;
  height: number | null;
  /** The configuration document (XML or JSON), as text. */
  confFile: string;
  confVars: string;
  tags: string;
  createdAt: number;
  updatedAt: number;
}

/** The fields of an entry a person may change through the API. */
export type EntryChanges = Partial<Pick<Entry,
  'name' | 'description' | 'tags' | 'adminTags' | 'referenceId' | 'accessControlProfileId' | 'startDate' | 'endDate' | 'moderationStatus' | 'partnerData'>>;

// A partner's storyboard (thumbnail track) settings.
export interface StoryboardConfig {
  /** Width of one tile in pixels; the height follows the video's aspect ratio. */
  tileWidth: number;
  columns: number;
  rows: number;
  intervalMs: number;
  /** JPEG quality of a sheet. */
  quality: number;
}

/**
 * 160 px tiles, 5 x 5 to a sheet (an 800 x 450 JPEG at quality 70: about 40-110 kB for 16:9
 * video, below the 200 kB a player should fetch for a seek preview), one tile every 5 s.
 */
export const DEFAULT_STORYBOARD: StoryboardConfig = { tileWidth: 160, columns: 5, rows: 5, intervalMs: 5000, quality: 70 };

/** The bounds a partner's settings are checked against (the library loader uses them). */
export const STORYBOARD_LIMITS = {
  tileWidth: [32, 640],
  columns: [1, 20],
  rows: [1, 20],
  intervalMs: [500, 600_000],
  quality: [1, 100],
  /** JPEG decoders and players cope; memory and bytes are the limit. */
  sheetSide: 4096,
} as const;
