// Resizing and encoding with sharp (libvips): Kaltura's thumbnail types mapped onto sharp's fit
// modes, and a sprite made by repeating one picture when no video decoder is at hand. The only
// module that calls sharp.
import type { ThumbnailRequest } from './params.js';

// A thumbnail request must not become a decompression bomb: refuse sources beyond 100 megapixels
export const LIMIT_INPUT_PIXELS = 100_000_000;

type Sharp = (typeof import('sharp'))['default'];
let sharpLoaded: Promise<Sharp> | undefined;
/**
 * sharp, loaded at the first picture rather than with the server: loading libvips costs about a
 * quarter of a second of CPU, which every start (each command, each test's server) paid before.
 */
const loadSharp = (): Promise<Sharp> => (sharpLoaded ??= import('sharp').then((m) => m.default));

/** A picture's format and size as sharp reads them; throws on anything it cannot decode. */
export async function pictureMetadata(data: Buffer): Promise<{ format?: string; width?: number; height?: number }> {
  const sharp = await loadSharp();
  return sharp(data, { limitInputPixels: LIMIT_INPUT_PIXELS, failOn: 'error' }).metadata();
}

/**
 * Decodes every pixel of a picture, failing as drawing it would. Its header (pictureMetadata)
 * says nothing of the rest: a JPEG or PNG cut off after its header reads with its full size there,
 * and fails only when a thumbnail is made of it.
 */
export async function decodePicture(data: Buffer): Promise<void> {
  const sharp = await loadSharp();
  await sharp(data, { limitInputPixels: LIMIT_INPUT_PIXELS, failOn: 'error' }).stats();
}

/** A picture (a frame grab, a sprite, a sheet) encoded as JPEG. */
export async function encodeJpeg(input: Buffer, quality: number): Promise<Buffer> {
  const sharp = await loadSharp();
  return sharp(input).jpeg({ quality }).toBuffer();
}

export type ImageSpec = Pick<ThumbnailRequest, 'width' | 'height' | 'type' | 'quality' | 'bgcolor' | 'crop'>;

const FIT = { 1: 'inside', 2: 'contain', 3: 'cover', 4: 'cover', 5: 'fill' } as const;

/** Crops, resizes and encodes a picture as JPEG. */
export async function renderImage(input: Buffer | string, spec: ImageSpec): Promise<Buffer> {
  const sharp = await loadSharp();
  let img = sharp(input, { limitInputPixels: LIMIT_INPUT_PIXELS, failOn: 'error' }).rotate();
  if (spec.crop) {
    const meta = await sharp(input, { limitInputPixels: LIMIT_INPUT_PIXELS }).metadata();
    const W = meta.width ?? 0;
    const H = meta.height ?? 0;
    const x = Math.min(spec.crop.x, Math.max(0, W - 1));
    const y = Math.min(spec.crop.y, Math.max(0, H - 1));
    img = img.extract({ left: x, top: y, width: Math.max(1, Math.min(spec.crop.w, W - x)), height: Math.max(1, Math.min(spec.crop.h, H - y)) });
  }
  if (spec.width || spec.height) {
    const bg = `#${spec.bgcolor}`;
    // With one side given, the crop types (3, 4) crop a square of that side, as Kaltura's do; the
    // others keep the aspect ratio
    const square = !(spec.width && spec.height) && (spec.type === 3 || spec.type === 4);
    const width = spec.width || (square ? spec.height : 0);
    const height = spec.height || (square ? spec.width : 0);
    const fit = width && height ? FIT[spec.type] : 'inside';
    img = img.resize({
      width: width || undefined, height: height || undefined, fit,
      position: spec.type === 4 ? 'top' : 'centre', background: bg,
    });
  }
  return img.flatten({ background: `#${spec.bgcolor}` }).jpeg({ quality: spec.quality, mozjpeg: false }).toBuffer();
}

/** The audio picture's size: 16:9, as the player's poster box. */
const AUDIO_PICTURE_SIZE = { width: 640, height: 360 } as const;
let audioPictureMade: Promise<Buffer> | undefined;
/**
 * The picture an audio entry without one of its own shows (a PNG, made once per process): bars of
 * a waveform on a dark ground, kdeliver's own drawing. Kaltura shows a picture of its own there
 * too (entry::getThumbnail in kaltura/server names a template), where a 404 would leave the
 * player's poster empty. It is resized like any other picture.
 */
export function audioPicture(): Promise<Buffer> {
  audioPictureMade ??= loadSharp().then((sharp) => {
    const { width, height } = AUDIO_PICTURE_SIZE;
    const px = Buffer.alloc(width * height * 3);
    const paint = (x0: number, y0: number, w: number, h: number, rgb: readonly number[]) => {
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) px.set(rgb, (y * width + x) * 3);
    };
    paint(0, 0, width, height, [0x1e, 0x29, 0x3b]);
    // 40 bars, 8 wide with gaps of 4, centred; heights from two slow waves, tapered at both
    // ends, the same every time
    const bars = 40;
    const left = (width - (bars * 12 - 4)) / 2;
    for (let i = 0; i < bars; i++) {
      const taper = Math.sin((Math.PI * (i + 0.5)) / bars);
      const h = 2 * Math.round(4 + 72 * taper * Math.abs(Math.sin(i * 0.42 + 0.3) * Math.sin(i * 0.11 + 0.5)));
      paint(left + i * 12, height / 2 - h / 2, 8, h, [0x94, 0xa3, 0xb8]);
    }
    return sharp(px, { raw: { width, height, channels: 3 } }).png().toBuffer();
  });
  return audioPictureMade;
}

/**
 * A horizontal strip of `slices` copies of one picture, each `sliceWidth` wide (and `sliceHeight`
 * high when given; with `fitInside`, within both keeping the aspect ratio): the sprite without ffmpeg.
 */
export async function repeatSprite(input: Buffer | string, slices: number, sliceWidth: number, sliceHeight: number, fitInside = false): Promise<Buffer> {
  const sharp = await loadSharp();
  const one = await sharp(input, { limitInputPixels: LIMIT_INPUT_PIXELS })
    .resize({ width: sliceWidth, height: sliceHeight || undefined, fit: sliceHeight && !fitInside ? 'fill' : 'inside' })
    .png().toBuffer({ resolveWithObject: true });
  const { width, height } = one.info;
  return sharp({ create: { width: width * slices, height, channels: 3, background: '#000000' } })
    .composite(Array.from({ length: slices }, (_, i) => ({ input: one.data, left: i * width, top: 0 })))
    .png().toBuffer();
}

/** A storyboard sheet without ffmpeg: the first `count` tiles all show one picture, the rest black. */
export async function repeatSheet(input: Buffer | string, count: number, l: { tileWidth: number; tileHeight: number; columns: number; rows: number }): Promise<Buffer> {
  const sharp = await loadSharp();
  const one = await sharp(input, { limitInputPixels: LIMIT_INPUT_PIXELS }).resize({ width: l.tileWidth, height: l.tileHeight, fit: 'fill' }).png().toBuffer();
  return sharp({ create: { width: l.tileWidth * l.columns, height: l.tileHeight * l.rows, channels: 3, background: '#000000' } })
    .composite(Array.from({ length: count }, (_, i) => ({ input: one, left: (i % l.columns) * l.tileWidth, top: Math.floor(i / l.columns) * l.tileHeight })))
    .png().toBuffer();
}
