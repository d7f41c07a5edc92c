// I-frame (trick play) entries of a timeline: every video key frame with its time, the time to
// the next key frame, and the bytes that hold it. MPEG-TS names a range of the ordinary segment
// (the key frame's own PES packets, as nginx-vod-module and Apple's segmenter do; the segment
// file starts with the PAT and PMT, its Media Initialization Section). fMP4 segments carry one
// moof for many frames, so a key frame in the middle of one has no header of its own there: fMP4
// names ranges of a second resource per segment, `iframes-{n}`, that holds each key frame as a
// fragment of its own. Computed from the parsed index alone, remembered per cached timeline.
import { type TrackIndex, ptsOf } from './mp4/index-types.js';
import { keyFrameFragments } from './fmp4/writer.js';
import type { Timeline } from './segment.js';
import { tsKeyFrameLength, tsKeyFrameRanges } from './ts/writer.js';

export interface IFrame {
  /** 0-based segment of the timeline that holds the key frame (n - 1 in file names). */
  seg: number;
  sample: number;
  /** Presentation time from the start of the timeline. */
  startMs: number;
  /** To the next key frame's presentation time, or to the end for the last. */
  durationMs: number;
  /** Bytes of the key frame in the segment (TS) or in the segment's iframes resource (fMP4). */
  offset: number;
  length: number;
}

const isSync = (t: TrackIndex, keys: Set<number> | null, i: number): boolean => !keys || keys.has(i);

const memo = new WeakMap<Timeline, Map<string, IFrame[]>>();

export function iframesOf(tl: Timeline, container: 'ts' | 'fmp4'): IFrame[] {
  let m = memo.get(tl);
  if (!m) memo.set(tl, (m = new Map()));
  let list = m.get(container);
  if (!list) m.set(container, (list = computeIframes(tl, container)));
  return list;
}

/**
 * The I-frame stream's peak and average bit rate (what a master says of it), or null when it has
 * no frame. An MPEG-TS key frame's bytes are its own PES's packets wherever it sits in its
 * segment, so they are counted without laying every segment out (the offsets iframesOf gives
 * need that: on a 2-hour file, most of a first master's time).
 */
export function iframeRates(tl: Timeline, container: 'ts' | 'fmp4'): { peak: number; average: number } | null {
  let m = rates.get(tl);
  if (!m) rates.set(tl, (m = new Map()));
  let r = m.get(container);
  if (r === undefined) {
    const frames = container === 'ts' ? computeIframes(tl, container, false) : iframesOf(tl, container);
    m.set(container, (r = frames.length ? iframeBandwidth(frames) : null));
  }
  return r;
}
const rates = new WeakMap<Timeline, Map<string, { peak: number; average: number } | null>>();

/** `withOffsets` false (MPEG-TS only): offsets left at 0, lengths from tsKeyFrameLength. */
function computeIframes(tl: Timeline, container: 'ts' | 'fmp4', withOffsets = true): IFrame[] {
  const v = tl.video;
  if (!v) return [];
  const t = v.track;
  const keys = t.sync ? new Set(t.sync) : null;
  const out: IFrame[] = [];
  tl.segments.forEach((seg, s) => {
    if (!seg.video) return;
    const ranges = !withOffsets ? null : container === 'ts' ? tsKeyFrameRanges(tl, s) : keyFrameFragments(tl, s).ranges;
    for (let i = seg.video.first; i < seg.video.end; i++) {
      if (!isSync(t, keys, i)) continue;
      const r = ranges ? ranges.get(i) : { offset: 0, length: tsKeyFrameLength(tl, i) };
      if (!r) continue;
      const startMs = Math.max(0, (ptsOf(t, i) * 1000) / t.timescale - tl.originMs);
      out.push({ seg: s, sample: i, startMs, durationMs: 0, offset: r.offset, length: r.length });
    }
  });
  out.forEach((f, k) => {
    f.durationMs = Math.max(0, (k + 1 < out.length ? out[k + 1].startMs : tl.durationMs) - f.startMs);
  });
  return out.filter((f) => f.durationMs > 0);
}

/** Peak and average bit rate of an I-frame stream, bits/s: each key frame's bytes over its duration. */
export function iframeBandwidth(frames: IFrame[]): { peak: number; average: number } {
  let peak = 0;
  let bytes = 0;
  let ms = 0;
  for (const f of frames) {
    peak = Math.max(peak, (f.length * 8000) / f.durationMs);
    bytes += f.length;
    ms += f.durationMs;
  }
  return { peak: Math.max(1000, Math.round(peak)), average: ms > 0 ? Math.max(1000, Math.round((bytes * 8000) / ms)) : 1000 };
}
