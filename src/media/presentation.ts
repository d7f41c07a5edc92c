// What a packager manifest describes, independent of the protocol: renditions (one per flavor in
// the set), each a list of clips (one per sequence entry, usually one), plus caption tracks.
// File-name conventions of the reference packager live here too, shared by every writer.
import { fragmentLength } from './fmp4/writer.js';
import type { Segment, Timeline } from './segment.js';
import { tsCarries, tsSegmentLength } from './ts/writer.js';

export interface Rendition {
  /** 1-based position in the URL set: the "-f{n}" of file names. */
  f: number;
  clips: Timeline[];
  hasVideo: boolean;
  hasAudio: boolean;
  width: number;
  height: number;
  frameRate: number;
  /** ISO 639 code (2 or 3 letters) or "" */
  language: string;
  label: string;
  isDefault: boolean;
}

export interface CaptionTrack {
  /** 1-based caption number in the manifest. */
  n: number;
  languageCode: string;
  label: string;
  isDefault: boolean;
}

export interface Presentation {
  renditions: Rendition[];
  captions: CaptionTrack[];
  /** fMP4 (HLS container/fmp4, DASH, MSS) or MPEG-TS (HLS default). */
  container: 'ts' | 'fmp4';
  /** HLS: list an I-frame playlist per video variant in the master. */
  iframes?: boolean;
  /** The entry's storyboard as a thumbnail track (HLS image stream, DASH image adaptation set). */
  thumbnails?: ThumbnailTrack;
  /** DASH: captions as WebVTT files (the default) or as TTML in fMP4 segments (stpp). */
  dashSubtitles?: DashSubtitleFormat;
}

export type DashSubtitleFormat = 'webvtt' | 'stpp';

export interface ThumbnailTrack {
  /** Where its files are: a path from the server root, ending in "/" (they are not the packager's). */
  base: string;
  tileWidth: number;
  tileHeight: number;
  columns: number;
  rows: number;
  /** One sheet's time: columns x rows tiles. */
  sheetDurationMs: number;
  sheets: number;
  /** Estimated, bits/s. */
  bandwidth: number;
}

/** Track selector of a file name: "-v1-a1", "-v1", "-a1". */
export const trackSuffix = (v: boolean, a: boolean): string => `${v ? '-v1' : ''}${a ? '-a1' : ''}`;

export const codecsOf = (tl: Timeline, video: boolean, audio: boolean): string =>
  [video && tl.video ? tl.video.track.codecString : '', audio && tl.audio ? tl.audio.track.codecString : ''].filter(Boolean).join(',');

export const totalDurationMs = (clips: Timeline[]): number => clips.reduce((n, c) => n + c.durationMs, 0);

/** Global (1-based) segment number → clip and segment within it. */
export function locateSegment(clips: Timeline[], n: number): { clip: number; seg: number } | null {
  let i = n - 1;
  if (!Number.isInteger(i) || i < 0) return null;
  for (let c = 0; c < clips.length; c++) {
    if (i < clips[c].segments.length) return { clip: c, seg: i };
    i -= clips[c].segments.length;
  }
  return null;
}

// Bit rates walk every sample: remembered per (cached) timeline, so manifests of long files stay cheap
const rateMemo = new WeakMap<Timeline[], Map<string, unknown>>();
function remembered<T>(clips: Timeline[], key: string, compute: () => T): T {
  let m = rateMemo.get(clips);
  if (!m) rateMemo.set(clips, (m = new Map()));
  let v = m.get(key) as T | undefined;
  if (v === undefined) m.set(key, (v = compute()));
  return v;
}
const clipsMemo = new WeakMap<Timeline, Timeline[]>();
/** A stable array identity per single-clip list, so the memo above hits across requests. */
const stable = (clips: Timeline[]): Timeline[] => {
  if (clips.length !== 1) return clips;
  let c = clipsMemo.get(clips[0]);
  if (!c) clipsMemo.set(clips[0], (c = clips));
  return c;
};

/**
 * How a bit rate weighs a segment: by its samples' bytes alone (DASH and MSS, whose bitrates name
 * their quality levels and fragment URLs), or as the file a player downloads in that container
 * (HLS): an MPEG-TS segment's PAT, PMT, PES and ADTS headers, access unit delimiters, parameter
 * sets and packet stuffing, an fMP4 segment's moof, are bits the link carries too. RFC 8216 makes
 * BANDWIDTH the peak and AVERAGE-BANDWIDTH the average bit rate of the segments themselves, and
 * players (AVPlayer, ExoPlayer) pick variants by them.
 */
export type Weighing = 'samples' | 'ts' | 'fmp4';

/** Bytes of one segment with the chosen tracks, weighed as asked. */
function segmentBytes(tl: Timeline, s: Segment, video: boolean, audio: boolean, weighing: Weighing): number {
  if (weighing !== 'samples') {
    // only the chosen tracks, as a -v1, -a1 or -v1-a1 file carries them
    const view: Timeline = { ...tl, video: video ? tl.video : null, audio: audio ? tl.audio : null };
    const seg: Segment = { ...s, video: video ? s.video : null, audio: audio ? s.audio : null };
    if (!(view.video && seg.video) && !(view.audio && seg.audio)) return 0;
    if (weighing === 'fmp4') return fragmentLength(view, seg);
    if (tsCarries(view)) return tsSegmentLength(view, seg);
  }
  let bytes = 0;
  if (video && tl.video && s.video) for (let i = s.video.first; i < s.video.end; i++) bytes += tl.video.track.size[i];
  if (audio && tl.audio && s.audio) for (let i = s.audio.first; i < s.audio.end; i++) bytes += tl.audio.track.size[i];
  return bytes;
}

/** Peak bit rate over the segments, in bits/s, counting the chosen tracks. */
export function peakBandwidth(clips: Timeline[], video: boolean, audio: boolean, weighing: Weighing): number {
  return remembered(stable(clips), `peak${video ? 'v' : ''}${audio ? 'a' : ''}/${weighing}`, () => computePeak(clips, video, audio, weighing));
}

function computePeak(clips: Timeline[], video: boolean, audio: boolean, weighing: Weighing): number {
  const sizes = segmentSizes(clips, video, audio, weighing);
  let peak = 0;
  clips.forEach((tl, c) => tl.segments.forEach((s, k) => {
    if (s.durationMs > 0) peak = Math.max(peak, (sizes[c][k] * 8 * 1000) / s.durationMs);
  }));
  return Math.max(1000, Math.round(peak));
}

/**
 * Each clip's segment sizes, weighed as asked: worked out once for both the peak and the average
 * (a container's weighing counts every segment's packets or boxes).
 */
function segmentSizes(clips: Timeline[], video: boolean, audio: boolean, weighing: Weighing): number[][] {
  return remembered(stable(clips), `sizes${video ? 'v' : ''}${audio ? 'a' : ''}/${weighing}`, () => clips.map((tl) => tl.segments.map((s) => segmentBytes(tl, s, video, audio, weighing))));
}

/** Average bit rate, bits/s. */
export function averageBandwidth(clips: Timeline[], video: boolean, audio: boolean, weighing: Weighing): number {
  return remembered(stable(clips), `avg${video ? 'v' : ''}${audio ? 'a' : ''}/${weighing}`, () => computeAverage(clips, video, audio, weighing));
}

function computeAverage(clips: Timeline[], video: boolean, audio: boolean, weighing: Weighing): number {
  const sizes = segmentSizes(clips, video, audio, weighing);
  let bytes = 0;
  let ms = 0;
  clips.forEach((tl, c) => {
    ms += tl.durationMs;
    for (const n of sizes[c]) bytes += n;
  });
  return ms > 0 ? Math.max(1000, Math.round((bytes * 8 * 1000) / ms)) : 1000;
}
