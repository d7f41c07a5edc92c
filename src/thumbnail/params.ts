// The thumbnail URL's parameters (`/p/{pid}/sp/{sp}/thumbnail/entry_id/{id}/width/…`), read once
// into one typed request, with every number checked: a bad value is a 400, never a surprise.
import { DeliveryError } from '../errors.js';
import { isSafeId } from '../catalog/ids.js';

export interface ThumbnailRequest {
  /** The partner the URL names (/p/{pid}); undefined on the action's own path, which names none. */
  partnerId: number | undefined;
  entryId: string;
  /** Cache-busting version from the URL (entries' thumbnailUrl carries one); not otherwise used. */
  version: number | null;
  /**
   * The width and height as the URL gives them: null where it leaves one out, 0 where it says 0
   * (the source's size on that side). `width` and `height` below are what is made of them.
   */
  asked: { width: number | null; height: number | null };
  /**
   * The size of the picture, as Kaltura's thumbnail action settles it: when the URL names neither
   * width nor height, its default (def_width x def_height where given, each else 120 x 90), made
   * by `type` as any size is (type 1 fits inside it); else the sides given, a side left out being
   * 0. A side of 0 takes the source's: both 0 is the picture at its stored size, one 0 follows the
   * aspect ratio (or, for types 3 and 4, the other side: a square).
   */
  width: number;
  height: number;
  /**
   * Kaltura's thumbnail types: 1 resize keeping the aspect ratio (fit inside), 2 fit inside and
   * fill the rest with bgcolor, 3 crop to fill (centre), 4 crop to fill keeping the top, 5 stretch.
   */
  type: 1 | 2 | 3 | 4 | 5;
  /** JPEG quality 1-100. */
  quality: number;
  /** RRGGBB. */
  bgcolor: string;
  /** A frame at this second of the video, or null for the default thumbnail. */
  vidSec: number | null;
  /** A sprite (or one slice of it) of this many frames, or null. */
  vidSlices: number | null;
  /** With vidSlices: just this slice (0-based). */
  vidSlice: number | null;
  startSec: number | null;
  endSec: number | null;
  /** A crop of the source before resizing, in source pixels. */
  crop: { x: number; y: number; w: number; h: number } | null;
  ks: string | null;
}

export const MAX_SIDE = 4096;
/** Kaltura's thumbnail size when the URL names neither width nor height (nor def_width, def_height). */
export const DEFAULT_WIDTH = 120;
export const DEFAULT_HEIGHT = 90;
/**
 * A picture's JPEG quality and padding colour when the request names none (/thumbnail,
 * thumbAsset.serve); white, Kaltura's default bgcolor, pads type 2 and fills transparency.
 */
export const DEFAULT_QUALITY = 75;
export const DEFAULT_BGCOLOR = 'ffffff';
export const MAX_SLICES = 200;
/** A sprite wider than this is refused: JPEG and browsers handle up to 65535, memory is the limit. */
export const MAX_SPRITE_WIDTH = 32768;

const bad = (what: string): never => {
  throw new DeliveryError('BAD_QUERY', `, ${what}`);
};

function intParam(params: Map<string, string>, key: string, min: number, max: number): number | null {
  const v = params.get(key);
  if (v === undefined || v === '') return null;
  if (!/^\d{1,9}$/.test(v)) bad(`${key} must be a whole number`);
  const n = Number(v);
  if (n < min || n > max) bad(`${key} must be from ${min} to ${max}`);
  return n;
}

/**
 * The URL's cache-busting `version` (thumbnails and storyboards alike): a whole number or absent,
 * so `/version/abc` is the same 400 on both routes.
 */
export function versionParam(params: Map<string, string>): number | null {
  return intParam(params, 'version', 0, 1e9);
}

function secParam(params: Map<string, string>, key: string): number | null {
  const v = params.get(key);
  if (v === undefined || v === '') return null;
  if (!/^\d{1,7}(\.\d{1,6})?$/.test(v)) bad(`${key} must be a number of seconds`);
  return Number(v);
}

/**
 * The URL's values as the reference's thumbnail action reads them: without a trailing `.jpg`,
 * `.gif` or `.png` (partners end the URL with one, `/height/200.jpg`, `/entry_id/1_abc.jpg`, for
 * feeds and pages that want an image extension).
 */
function withoutImageExtension(params: Map<string, string>): Map<string, string> {
  const out = new Map<string, string>();
  for (const [k, v] of params) out.set(k, v.replace(/^(.+)\.(jpg|gif|png)$/, '$1'));
  return out;
}

/** Reads the merged path pairs and query of a thumbnail URL. */
export function parseThumbnailParams(partnerId: string | undefined, urlParams: Map<string, string>): ThumbnailRequest {
  if (partnerId !== undefined && !/^\d{1,10}$/.test(partnerId)) bad('partner id must be a number');
  const params = withoutImageExtension(urlParams);
  // KMS asks for a stretched picture with a width or height ending in "!" (the reference's type 5)
  let stretch = false;
  for (const key of ['width', 'height']) {
    const v = params.get(key);
    if (v !== undefined && /^\d+!$/.test(v)) {
      params.set(key, v.slice(0, -1));
      stretch = true;
    }
  }
  const entryId = params.get('entry_id') ?? params.get('entryId');
  if (!entryId) throw new DeliveryError('MISSING_PARAMETER', ', entry_id');
  if (!isSafeId(entryId)) bad('entry_id is not an entry id');
  const type = stretch ? 5 : intParam(params, 'type', 1, 5) ?? 1;
  const bg = params.get('bgcolor') ?? DEFAULT_BGCOLOR;
  if (!/^[0-9a-fA-F]{6}$/.test(bg)) bad('bgcolor must be six hex digits (RRGGBB)');
  const vidSlices = intParam(params, 'vid_slices', 1, MAX_SLICES);
  const askedSlice = intParam(params, 'vid_slice', 0, MAX_SLICES - 1);
  if (askedSlice !== null && vidSlices === null) bad('vid_slice needs vid_slices');
  // a slice past the last is the last, as Kaltura reads it (a player that computes
  // floor(t / duration * n) asks for slice n at the very end)
  const vidSlice = askedSlice === null ? null : Math.min(askedSlice, vidSlices! - 1);
  const startSec = secParam(params, 'start_sec');
  const endSec = secParam(params, 'end_sec');
  if (startSec !== null && endSec !== null && endSec <= startSec) bad('end_sec must be after start_sec');
  const asked = { width: intParam(params, 'width', 0, MAX_SIDE), height: intParam(params, 'height', 0, MAX_SIDE) };
  // the size when the URL names neither side (API v2's thumbnail URL of an image entry carries
  // /def_height/480/def_width/640, src/api/v2/objects.ts); checked whether used or not
  const defWidth = intParam(params, 'def_width', 0, MAX_SIDE);
  const defHeight = intParam(params, 'def_height', 0, MAX_SIDE);
  const defaultSize = asked.width === null && asked.height === null;
  const width = defaultSize ? defWidth ?? DEFAULT_WIDTH : asked.width ?? 0;
  const height = defaultSize ? defHeight ?? DEFAULT_HEIGHT : asked.height ?? 0;
  if (vidSlices !== null && vidSlice === null && vidSlices * (width || DEFAULT_WIDTH) > MAX_SPRITE_WIDTH) bad(`a sprite of vid_slices x width must stay within ${MAX_SPRITE_WIDTH} pixels`);
  const sx = intParam(params, 'src_x', 0, 100000);
  const sy = intParam(params, 'src_y', 0, 100000);
  const sw = intParam(params, 'src_w', 1, 100000);
  const sh = intParam(params, 'src_h', 1, 100000);
  const crop = sw !== null && sh !== null ? { x: sx ?? 0, y: sy ?? 0, w: sw, h: sh } : null;
  return {
    partnerId: partnerId === undefined ? undefined : Number(partnerId),
    entryId,
    version: versionParam(params),
    asked, width, height,
    type: type as ThumbnailRequest['type'],
    // 0 is the default quality, as Kaltura reads it
    quality: intParam(params, 'quality', 0, 100) || DEFAULT_QUALITY,
    bgcolor: bg.toLowerCase(),
    vidSec: secParam(params, 'vid_sec'),
    vidSlices, vidSlice, startSec, endSec, crop,
    ks: params.get('ks') || null,
  };
}

/** Whether the URL names neither width nor height, so the picture has the default size. */
export const hasDefaultSize = (r: Pick<ThumbnailRequest, 'asked'>): boolean => r.asked.width === null && r.asked.height === null;

/**
 * The parameters that change the picture, in a fixed order: the cache key's core. The default
 * size is marked: a sprite of it fits its slices inside the size, where a sprite of a width and
 * height the URL gives stretches them to it (src/thumbnail/service.ts). Requests that name a size
 * keep the key they had before the default existed: /width/0/height/0 is the stored size, as a
 * request without a size was then.
 */
export function renditionKey(r: ThumbnailRequest): string {
  const key: unknown[] = [r.width, r.height, r.type, r.quality, r.bgcolor, r.vidSec, r.vidSlices, r.vidSlice, r.startSec, r.endSec, r.crop];
  if (hasDefaultSize(r)) key.push('default size');
  return JSON.stringify(key);
}
