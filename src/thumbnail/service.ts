// A thumbnail for a request: the default thumbnail (or an image entry's picture) resized, a frame
// grabbed at vid_sec, or a sprite of vid_slices frames, made once and then served from a disk
// cache under the data directory, bounded in bytes (src/thumbnail/disk-cache.ts). Concurrent
// requests for the same picture share one rendering, and at most a few renderings run at once,
// so a burst of sprite requests cannot starve serving.
import { createHash, randomBytes } from 'node:crypto';
import { access, mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Env } from '../env.js';
import { MediaType, type Entry, type FlavorAsset } from '../catalog/types.js';
import { DeliveryError, sourceErrorToDelivery } from '../errors.js';
import { thumbnailCacheDir } from '../storage/paths.js';
import { thumbnailCache, type ThumbnailDiskCache } from './disk-cache.js';
import { FrameError, grabFrame, grabSheet, grabSprite } from './frames.js';
import { audioPicture, encodeJpeg, renderImage, repeatSheet, repeatSprite, type ImageSpec } from './image.js';
import { DEFAULT_WIDTH, MAX_SIDE, MAX_SPRITE_WIDTH, hasDefaultSize, renditionKey, type ThumbnailRequest } from './params.js';
import { frameSourceOf } from './source.js';
import { sheetSpan, type StoryboardLayout } from './storyboard.js';
import { limiter } from '../concurrency/limiter.js';
import { storeFailure, type MediaStore } from '../storage/media-store.js';

/** The server's environment as thumbnails read it (the catalog; config.dataDir, config.mediaRoot, config.thumbnailCacheBytes). */
export interface ThumbnailContext extends Pick<Env, 'catalog'> {
  config: Pick<Env['config'], 'dataDir' | 'mediaRoot' | 'thumbnailCacheBytes'>;
  /**
   * Where the videos and pictures are read (KDELIVER_MEDIA_URL); local disk under
   * config.mediaRoot when absent. ffmpeg is handed a URL it reads with ranges for remote media.
   */
  media?: MediaStore;
  /** ffmpeg command; frame grabs fall back to the default thumbnail where it is missing. */
  ffmpeg?: string;
  /** Renderings at once (default 2). */
  concurrency?: number;
}

export interface Thumbnail {
  data: Buffer;
  etag: string;
  /** How it was made, for logs and tests: cache | default | frame | sprite | repeated-sprite | storyboard | repeated-storyboard. */
  source: string;
}

const inFlight = new Map<string, Promise<Thumbnail>>();
/** Frame grabs and sprites under way at once, across requests. */
const limited = limiter();

export async function getThumbnail(ctx: ThumbnailContext, entry: Entry, req: ThumbnailRequest): Promise<Thumbnail> {
  const video = entry.mediaType === MediaType.IMAGE ? null : await frameSourceOf(ctx.catalog, entry);
  const picture = entry.thumbnailFile ?? (entry.mediaType === MediaType.IMAGE ? entry.dataFile : null);
  return cachedPicture(ctx, entry, [renditionKey(req), entry.id, entry.version, entry.updatedAt, picture, video?.id, video?.version], () => render(ctx, entry, req, video, picture));
}

/**
 * A thumbnail asset's picture at the size a KalturaThumbParams asks for (thumbAsset.serve), made
 * and cached as any thumbnail and within the same bound on renderings at once: the action needs no
 * session, and a resize per request would let anyone keep the server's cores busy.
 */
export function getThumbAssetRendition(ctx: ThumbnailContext, entry: Entry, asset: { id: string; version: number; filePath: string }, spec: ImageSpec, read: () => Promise<Buffer>): Promise<Thumbnail> {
  return cachedPicture(ctx, entry, ['thumbAsset', asset.id, asset.version, asset.filePath, spec], async () => ({ data: await renderImage(await read(), spec), source: 'thumb-asset' }));
}

/**
 * Sheet n (1-based) of the entry's storyboard: the frames of its tiles side by side (see
 * grabSheet), made and cached like any thumbnail. Without ffmpeg every tile shows the default
 * thumbnail, as sprites do.
 */
export async function getStoryboardSheet(ctx: ThumbnailContext, entry: Entry, layout: StoryboardLayout, video: FlavorAsset, n: number): Promise<Thumbnail> {
  const picture = entry.thumbnailFile;
  const key = ['storyboard', n, layout.tileWidth, layout.tileHeight, layout.columns, layout.rows, layout.intervalMs, layout.quality, layout.durationMs, entry.id, entry.version, entry.updatedAt, picture, video.id, video.version];
  return cachedPicture(ctx, entry, key, async () => {
    const span = sheetSpan(layout, n);
    const file = await videoInput(ctx, video.filePath);
    let still: string | Buffer | null = null;
    try {
      if (!file) throw new FrameError('the video file is missing');
      const png = await grabSheet(ctx.ffmpeg ?? 'ffmpeg', file, {
        startSec: span.startMs / 1000, spanSec: (span.endMs - span.startMs) / 1000, intervalSec: layout.intervalMs / 1000,
        tileWidth: layout.tileWidth, tileHeight: layout.tileHeight, columns: layout.columns, rows: layout.rows,
      });
      return { data: await encodeJpeg(png, layout.quality), source: 'storyboard' };
    } catch (e) {
      // without ffmpeg, the entry's picture stands in for every tile (read once: remote media reads it whole)
      if (e instanceof FrameError && e.missingTool && picture) still = await pictureInput(ctx, picture);
      if (!still) throw await frameFailure(ctx, e, 'no frames could be taken from the video for the storyboard');
    }
    const sheet = await repeatSheet(still, span.count, layout);
    return { data: await encodeJpeg(sheet, layout.quality), source: 'repeated-storyboard' };
  });
}

/**
 * The renderer's generation, part of every cache key: raise it when the same request renders
 * differently (2: types 3 and 4 with one side crop a square, src/thumbnail/image.ts; 3: a sprite's
 * slice i is vid_slice i's frame, src/thumbnail/frames.ts grabSprite; without start_sec and
 * end_sec both at Kaltura's whole seconds; one of a height alone no longer squashed). The disk
 * cache outlives an upgrade, and a key that stayed the same would keep sending the earlier picture
 * under the same ETag; files of an earlier generation are never read again and age out of the bound.
 */
const RENDERING = 3;

/** A picture from the disk cache, or rendered once (concurrent asks share the rendering) and kept there. */
async function cachedPicture(ctx: ThumbnailContext, entry: Entry, keyParts: unknown[], make: () => Promise<Omit<Thumbnail, 'etag'>>): Promise<Thumbnail> {
  const key = createHash('sha1').update(JSON.stringify([RENDERING, ...keyParts])).digest('hex').slice(0, 32);
  const dir = thumbnailCacheDir(ctx.config.dataDir, entry.partnerId, entry.id);
  const cached = join(dir, `${key}.jpg`);
  const etag = `"${key}"`;
  const disk = thumbnailCache(ctx.config.dataDir, ctx.config.thumbnailCacheBytes);
  try {
    const data = await readFile(cached);
    disk.hit(cached, data.length);
    return { data, etag, source: 'cache' };
  } catch {
    // not made yet, or removed meanwhile (evicted: a reader that had opened it still reads it whole)
    disk.miss(cached);
  }
  let pending = inFlight.get(cached);
  if (!pending) {
    pending = limited(ctx.concurrency ?? 2, make).then(async (r) => {
      // Answered once the file is in place (or given up) and the bound holds again, so the next
      // request finds it on disk; until then requests for it share this promise rather than
      // rendering again
      await keepInCache(disk, dir, cached, r.data);
      return { ...r, etag };
    }).finally(() => inFlight.delete(cached));
    inFlight.set(cached, pending);
  }
  return pending;
}

/**
 * Writes a rendering under a name of its own, then renames it into place: a reader sees the whole
 * file or none. A full disk costs the cache, not the answer, and leaves no temporary file behind.
 * The cache's eviction removes an entry's folder once empty: made again when it went between
 * mkdir and the write.
 */
async function keepInCache(disk: ThumbnailDiskCache, dir: string, cached: string, data: Buffer): Promise<void> {
  const tmp = `${cached}.${randomBytes(4).toString('hex')}.tmp`;
  try {
    for (let attempt = 1; ; attempt++) {
      await mkdir(dir, { recursive: true });
      try {
        await writeFile(tmp, data);
        break;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT' || attempt >= 3) throw e;
      }
    }
    await rename(tmp, cached);
  } catch {
    await rm(tmp, { force: true }).catch(() => {});
    return;
  }
  await disk.kept(cached, data.length);
}

const exists = (file: string): Promise<boolean> => access(file).then(() => true, () => false);

/**
 * What ffmpeg reads a video from, or null when there is no such file: a local path, or (remote
 * media) a URL it reads with byte ranges: the origin's own, or a presigned S3 URL (no copy to disk).
 */
export async function videoInput(ctx: Pick<ThumbnailContext, 'config' | 'media'>, relative: string): Promise<string | null> {
  if (!ctx.media || ctx.media.kind === 'local') {
    const file = join(ctx.config.mediaRoot, relative);
    return (await exists(file)) ? file : null;
  }
  const name = ctx.media.locate(relative);
  return (await ctx.media.version(name)) ? ctx.media.ffmpegInput(name) : null;
}

/**
 * Why a frame could not be taken, as the answer says it: a grab cut off by its time limit, or a
 * remote store that does not answer now, is a 5xx no cache keeps (the same grab may work in a
 * moment); a video ffmpeg cannot read is the file's, error 5 (404).
 */
async function frameFailure(ctx: ThumbnailContext, e: unknown, what = 'no frame could be taken from the video'): Promise<DeliveryError> {
  if (e instanceof FrameError && e.stopped) return new DeliveryError('FILE_NOT_FOUND', ', the frame could not be taken in time; try again', { httpStatus: 503 });
  if (ctx.media && ctx.media.kind !== 'local') {
    const gone = await storeFailure(ctx.media, { fresh: true });
    if (gone) return sourceErrorToDelivery(gone);
  }
  return new DeliveryError('FILE_NOT_FOUND', `, ${what}`);
}

/** A picture as sharp reads it (a local path, or a remote picture's bytes), or null when missing. */
async function pictureInput(ctx: ThumbnailContext, relative: string): Promise<string | Buffer | null> {
  if (!ctx.media || ctx.media.kind === 'local') {
    const file = join(ctx.config.mediaRoot, relative);
    return (await exists(file)) ? file : null;
  }
  const name = ctx.media.locate(relative);
  return (await ctx.media.version(name)) ? ctx.media.readAll(name) : null;
}

async function render(ctx: ThumbnailContext, entry: Entry, req: ThumbnailRequest, video: FlavorAsset | null, picture: string | null): Promise<Omit<Thumbnail, 'etag'>> {
  const ffmpeg = ctx.ffmpeg ?? 'ffmpeg';
  // asynchronous checks: a miss must not hold up the server's other requests on the disk
  const videoFile = video ? await videoInput(ctx, video.filePath) : null;
  // a video whose file is missing is the file's error 5, as one ffmpeg cannot read: the poster
  // answered for the frame asked was kept a day under that frame's name
  const missing = video && !videoFile ? `, the video file of flavor ${video.id} is missing` : '';
  if (missing && (req.vidSec !== null || req.vidSlices !== null)) throw new DeliveryError('FILE_NOT_FOUND', missing);
  const duration = Math.max(0.04, entry.duration || (video ? video.durationMs / 1000 : 0));
  const clamp = (s: number) => Math.min(Math.max(0, s), Math.max(0, duration - 0.04));

  const spec = { width: req.width, height: req.height, type: req.type, quality: req.quality, bgcolor: req.bgcolor, crop: req.crop };
  const sprite = req.vidSlices !== null && req.vidSlice === null;
  // A sprite's slices: with a width alone (the player's /width/164/vid_slices/100) that wide,
  // keeping the aspect ratio; with a height alone that high, keeping it too (as wide as a single
  // vid_slice of that height), within the widest slice the sprite's bound leaves (MAX_SPRITE_WIDTH
  // / n, and MAX_SIDE: the width follows the video, which the URL's check could not know); with a
  // width and height given, stretched to them; without a size, each fits inside the default size
  // (120 x 90, or def_width x def_height), as Kaltura resizes each slice by type 1
  const heightAlone = !req.width && req.height > 0;
  const sliceWidth = heightAlone ? Math.min(MAX_SIDE, Math.floor(MAX_SPRITE_WIDTH / (req.vidSlices ?? 1))) : req.width || DEFAULT_WIDTH;
  const fitInside = hasDefaultSize(req);
  // the stretch of the clip that vid_slices spreads over, and the second slice i shows, as
  // Kaltura's thumbnail action computes it (myEntryUtils::resizeEntryImage in kaltura/server): with
  // start_sec or end_sec, start + (end - start) * i / n; without either, the whole second
  // floor(length in ms * i / n / 1000), so that 100 slices of a 12 s video show 0, 0 ... 1, 1 ...
  // 11 s. The sprite's slice i is the very frame vid_slice i is (src/thumbnail/frames.ts grabSprite)
  const start = clamp(req.startSec ?? 0);
  const end = Math.min(duration, req.endSec ?? duration);
  const clipped = req.startSec !== null || req.endSec !== null;
  const lengthMs = Math.round(duration * 1000);
  const sliceAt = (i: number) => clamp(clipped ? start + ((end - start) * i) / req.vidSlices! : Math.floor((lengthMs * i) / (req.vidSlices! * 1000)));

  if (videoFile && (req.vidSec !== null || req.vidSlices !== null)) {
    try {
      if (sprite) {
        const times = Array.from({ length: req.vidSlices! }, (_, i) => sliceAt(i));
        const png = await grabSprite(ffmpeg, videoFile, { times, sliceWidth, sliceHeight: req.height, fitInside, heightAlone });
        return { data: await encodeJpeg(png, req.quality), source: 'sprite' };
      }
      const at = req.vidSlices !== null ? sliceAt(req.vidSlice!) : clamp(req.vidSec ?? 0);
      const png = await grabFrame(ffmpeg, videoFile, at);
      return { data: await renderImage(png, spec), source: 'frame' };
    } catch (e) {
      // Without ffmpeg, the default thumbnail stands in for frames; any other failure is the file's
      // (or its store's), and is said, as Kaltura's capture failure is: the poster answered for the
      // frame asked was kept a day under that frame's name, and was still served once the video
      // could be read again
      if (!(e instanceof FrameError && e.missingTool)) throw await frameFailure(ctx, e);
    }
  }
  let input: string | Buffer | null = picture ? await pictureInput(ctx, picture) : null;
  if (!input && videoFile) {
    try {
      input = await grabFrame(ffmpeg, videoFile, Math.min(3, duration / 2));
    } catch (e) {
      // a grab that may work in a moment is said so (5xx, kept nowhere); otherwise "no thumbnail" below
      const failure = e instanceof FrameError && e.missingTool ? null : await frameFailure(ctx, e);
      if (failure && failure.httpStatus >= 500) throw failure;
    }
  }
  // an audio entry without a picture of its own shows kdeliver's audio picture, as Kaltura shows its own
  const audio = !input && !picture && entry.mediaType === MediaType.AUDIO;
  if (audio) input = await audioPicture();
  if (!input) throw new DeliveryError('FILE_NOT_FOUND', missing || ', the entry has no thumbnail');
  try {
    if (sprite) {
      const strip = await repeatSprite(input, req.vidSlices!, sliceWidth, req.height, fitInside || heightAlone);
      return { data: await encodeJpeg(strip, req.quality), source: audio ? 'audio-picture-sprite' : 'repeated-sprite' };
    }
    return { data: await renderImage(input, spec), source: audio ? 'audio-picture' : 'default' };
  } catch {
    throw new DeliveryError('FILE_NOT_FOUND', ', the thumbnail file cannot be read as a picture');
  }
}
