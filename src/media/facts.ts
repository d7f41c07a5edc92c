// What a media file says of itself, read with the packager's own MP4 reader: the RFC 6381 codecs
// (HLS masters list them), the codec names, the duration, the picture's size and frame rate, and
// the overall bitrate. Both imports fill a flavor's record with these where their source gives
// none: `kdeliver import-kaltura` (Kaltura's API gives no codecs per flavor, src/import/run.ts) and
// a library file's flavors that leave them out (src/catalog/library.ts). A file the reader does not
// understand (not MP4) has none.
import { CODEC_NAMES } from './codecs.js';
import { MediaError } from './errors.js';
import { readMediaIndex } from './mp4/reader.js';
import { audioTrack, rotationOf, shownSize, videoTrack, type TrackIndex } from './mp4/index-types.js';

export interface MediaFacts {
  codecs: string;
  videoCodec: string;
  audioCodec: string;
  durationMs: number;
  /** The video track's picture as shown (turned by `rotation`); 0 × 0 without video. */
  width: number;
  height: number;
  /** Degrees clockwise the video track's matrix turns the picture for display: 0, 90, 180 or 270. */
  rotation: number;
  /** Frames per second of the video track (3 decimals); 0 without video. */
  frameRate: number;
  /** The whole file's bits over its duration, kbit/s (as a flavor's `bitrate`); 0 when it has no duration. */
  bitrate: number;
}


export async function mediaFacts(path: string, maxMoovBytes: number): Promise<MediaFacts | null> {
  return (await readMediaFacts(path, maxMoovBytes)).facts;
}

/** Names of the ISO BMFF family, which the packager is meant to read. */
const MP4_NAME = /\.(mp4|m4v|m4a|mov|3gp|3g2|f4v)$/i;

/**
 * mediaFacts, and why the packager refuses the file when it is an MP4 it will not package (a
 * truncated or damaged one, a moov over the limit): such a file is served only
 * as a file, which the person importing it should hear of. A file that is neither MP4 by its
 * boxes nor by its name (a WebM, an FLV) has no facts and no reason: it is meant for progressive
 * download.
 */
export async function readMediaFacts(path: string, maxMoovBytes: number): Promise<{ facts: MediaFacts | null; refused: string | null }> {
  try {
    return { facts: await factsOf(path, maxMoovBytes), refused: null };
  } catch (e) {
    const said = e instanceof MediaError && (e.kind !== 'NOT_MP4' || MP4_NAME.test(path));
    return { facts: null, refused: said ? e.message : null };
  }
}

async function factsOf(path: string, maxMoovBytes: number): Promise<MediaFacts> {
  const index = await readMediaIndex(path, { maxMoovBytes });
  const v = videoTrack(index);
  const a = audioTrack(index);
  const durationMs = Math.round(index.durationMs);
  const shown = v ? shownSize(v) : { width: 0, height: 0 };
  return {
    codecs: [v?.codecString, a?.codecString].filter(Boolean).join(','),
    videoCodec: v ? CODEC_NAMES[v.format] ?? v.format : '',
    audioCodec: a ? audioCodecName(a) : '',
    durationMs,
    width: shown.width,
    height: shown.height,
    rotation: v ? rotationOf(v.matrix) : 0,
    frameRate: v ? frameRate(v) : 0,
    bitrate: durationMs > 0 ? Math.round((index.fileSize * 8) / durationMs) : 0,
  };
}

/** MP3 may travel in an `mp4a` sample entry too (esds object type 0x6b or 0x69: mp4a.6b, mp4a.69). */
function audioCodecName(t: TrackIndex): string {
  if (t.format === '.mp3' || t.codecString === 'mp4a.6b' || t.codecString === 'mp4a.69') return 'mp3';
  return CODEC_NAMES[t.format] ?? t.format;
}

/** Samples over the time they span (the decode-time runs), not the track header's duration, which an edit may change. */
function frameRate(t: TrackIndex): number {
  let ticks = 0;
  for (let r = 0; r < t.stts.count.length; r++) ticks += t.stts.count[r] * t.stts.delta[r];
  return ticks > 0 ? Math.round((t.count * t.timescale * 1000) / ticks) / 1000 : 0;
}
