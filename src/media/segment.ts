// Cuts a media index into key-frame-aligned segments. Times in the output are milliseconds
// relative to the start of the (possibly clipped) stream; sample ranges are [first, end).
// Video leads: each nominal boundary moves forward to the next key frame, and audio is cut at
// the same presentation times so both tracks of a segment cover the same span.
import { MediaError } from './errors.js';
import { type MediaIndex, type TrackIndex, audioTrack, videoTrack, ptsOf, dtsAt, firstSampleFrom } from './mp4/index-types.js';

export interface SegmentPolicy {
  durationMs: number;
  /** Shorter first segments (Kaltura's HLS bootstrap 2,2,2,4 s). */
  bootstrapMs: number[];
}

/** Kaltura's defaults: HLS 10 s after a 2,2,2,4 s bootstrap; DASH and MSS a flat 4 s. */
export const hlsPolicy = (durationMs: number): SegmentPolicy => ({ durationMs, bootstrapMs: [2000, 2000, 2000, 4000].filter((d) => d < durationMs) });
export const flatPolicy = (durationMs: number): SegmentPolicy => ({ durationMs, bootstrapMs: [] });

export interface Clip {
  fromMs: number;
  /** Exclusive end; Infinity for the whole file. */
  toMs: number;
}

export interface SampleRange {
  first: number;
  end: number;
}

export interface Segment {
  startMs: number;
  durationMs: number;
  video: SampleRange | null;
  audio: SampleRange | null;
}

export interface TrackTiming {
  track: TrackIndex;
  /** Subtract from a sample's dts to get its output decode time (track timescale). */
  dtsBase: number;
  /** Subtract from a sample's cto to get its output composition offset (may leave it negative). */
  ctoBase: number;
}

export interface Timeline {
  index: MediaIndex;
  video: TrackTiming | null;
  audio: TrackTiming | null;
  segments: Segment[];
  durationMs: number;
  /** Absolute presentation time (ms in the source) of the output's time 0. */
  originMs: number;
}

// Decode times come from the stts runs (dtsAt, firstSampleFrom): a playlist never needs the
// per-sample tables, so building a timeline does not decode them (src/media/mp4/track.ts).

/** Index of the first sample whose presentation time is at or after t (track timescale). */
const audioIndexAt = (a: TrackIndex, t: number): number => firstSampleFrom(a, t, a.mediaTimeOffset);

/** Index of the first sample with dts >= t. */
const dtsIndexAt = (v: TrackIndex, t: number): number => firstSampleFrom(v, t);

function nominalBoundaries(policy: SegmentPolicy, totalMs: number): number[] {
  const out: number[] = [];
  let t = 0;
  let i = 0;
  while (t < totalMs) {
    out.push(t);
    t += i < policy.bootstrapMs.length ? policy.bootstrapMs[i] : policy.durationMs;
    i++;
  }
  return out;
}

function checkClip(index: MediaIndex, clip: Clip): void {
  if (!(clip.fromMs >= 0) || !(clip.toMs > 0)) throw new MediaError('BAD_CLIP', 'clip times must be positive');
  if (clip.toMs <= clip.fromMs) throw new MediaError('BAD_CLIP', `clipTo ${clip.toMs} is not after clipFrom ${clip.fromMs}`);
  if (clip.fromMs >= index.durationMs) throw new MediaError('BAD_CLIP', `clipFrom ${clip.fromMs} is past the end of the media (${Math.round(index.durationMs)} ms)`);
}

const memo = new WeakMap<MediaIndex, Map<string, Timeline>>();

/**
 * buildTimeline, remembered per cached index: segment requests for the same file and policy
 * reuse one timeline instead of walking the key frames again.
 */
export function timelineFor(index: MediaIndex, policy: SegmentPolicy, clip: Clip = { fromMs: 0, toMs: Infinity }, use: { video: boolean; audio: boolean } = { video: true, audio: true }): Timeline {
  let m = memo.get(index);
  if (!m) memo.set(index, (m = new Map()));
  const key = `${policy.durationMs}/${policy.bootstrapMs.join(',')}/${clip.fromMs}/${clip.toMs}/${use.video ? 1 : 0}${use.audio ? 1 : 0}`;
  let tl = m.get(key);
  if (!tl) {
    tl = buildTimeline(index, policy, clip, use);
    // clipped variants are unbounded in number: keep a few per file
    if (m.size >= 64) m.delete(m.keys().next().value!);
    m.set(key, tl);
  }
  return tl;
}

/**
 * Builds the segment list of one file. Only tracks asked for are used (a video-only DASH
 * representation still cuts on the same key frames).
 */
export function buildTimeline(index: MediaIndex, policy: SegmentPolicy, clip: Clip = { fromMs: 0, toMs: Infinity }, use: { video: boolean; audio: boolean } = { video: true, audio: true }): Timeline {
  checkClip(index, clip);
  const v = videoTrack(index) ?? null;
  const a = audioTrack(index) ?? null;
  const video = use.video ? v : null;
  const audio = use.audio ? a : null;
  const lead = v ?? a;
  if (!lead) throw new MediaError('UNSUPPORTED', 'no audio or video track');
  const endMs = Math.min(clip.toMs, index.durationMs);
  const segments: Segment[] = [];
  let originMs: number;
  let durationMs: number;
  let vt: TrackTiming | null = null;
  let at: TrackTiming | null = null;

  if (v) {
    const ts = v.timescale;
    // start on the key frame at or before clipFrom
    let start = 0;
    const fromTs = (clip.fromMs * ts) / 1000;
    const keys = v.sync;
    if (keys) {
      for (let k = 0; k < keys.length && ptsOf(v, keys[k]) <= fromTs + 1e-6; k++) start = keys[k];
    } else start = Math.max(0, dtsIndexAt(v, fromTs + v.mediaTimeOffset) - (fromTs > 0 ? 1 : 0));
    if (v.count === 0) throw new MediaError('UNSUPPORTED', 'empty video track');
    originMs = (ptsOf(v, start) * 1000) / ts;
    const startDts = dtsAt(v, start);
    const endIdx = endMs >= index.durationMs ? v.count : Math.max(start + 1, dtsIndexAt(v, startDts + ((endMs - originMs) * ts) / 1000 - 1e-6));
    const relEnd = (dtsAt(v, endIdx) - startDts) * 1000 / ts;
    durationMs = relEnd;
    // key-frame boundaries
    const bounds: number[] = [start];
    let ki = 0;
    for (const nominal of nominalBoundaries(policy, relEnd).slice(1)) {
      const target = startDts + (nominal * ts) / 1000 - 1e-6;
      if (keys) {
        while (ki < keys.length && (keys[ki] <= bounds[bounds.length - 1] || dtsAt(v, keys[ki]) < target)) ki++;
        if (ki >= keys.length || keys[ki] >= endIdx) break;
        bounds.push(keys[ki]);
      } else {
        const i = dtsIndexAt(v, target);
        if (i >= endIdx) break;
        if (i > bounds[bounds.length - 1]) bounds.push(i);
      }
    }
    bounds.push(endIdx);
    vt = { track: v, dtsBase: startDts, ctoBase: v.ctoAt(start) };
    const aBase = a ? Math.round((originMs * a.timescale) / 1000) : 0;
    if (a) at = { track: a, dtsBase: aBase + a.mediaTimeOffset, ctoBase: 0 };
    const audioAt = (relMs: number): number => (a ? audioIndexAt(a, aBase + (relMs * a.timescale) / 1000 - 1e-6) : 0);
    // Audio that runs on past the last picture (a screen recording stopped late, a music bed under
    // a short clip) gets segments of its own after the video's, cut where the policy cuts, so that
    // each segment's duration says what it holds and the stream lasts as the entry does (its
    // longest track). It was all put in the last video segment, whose duration did not count it.
    // Less than a second over (the usual few milliseconds of audio frames against video frames,
    // an encoder's flush) stays in the last segment, as before, rather than make a sliver of a
    // segment. A video-only view (no audio used) ends with its video.
    const audioEndMs = audio ? Math.min(endMs, ((audio.endDts - audio.mediaTimeOffset) * 1000) / audio.timescale) - originMs : 0;
    const tail = audio !== null && endIdx === v.count && audioEndMs - relEnd >= 1000;
    // a segment's end time is the next one's start: each is computed, and searched, once
    let t0 = ((dtsAt(v, bounds[0]) - startDts) * 1000) / ts;
    let aFirst = audio ? audioAt(t0) : 0;
    for (let s = 0; s + 1 < bounds.length; s++) {
      const t1 = s + 2 < bounds.length ? ((dtsAt(v, bounds[s + 1]) - startDts) * 1000) / ts : relEnd;
      const aEnd = audio ? (s + 2 < bounds.length || tail ? audioAt(t1) : audioAt(endMs - originMs + 1e-3)) : 0;
      segments.push({
        startMs: t0,
        durationMs: t1 - t0,
        video: video ? { first: bounds[s], end: bounds[s + 1] } : null,
        audio: audio ? { first: aFirst, end: aEnd } : null,
      });
      t0 = t1;
      aFirst = aEnd;
    }
    if (tail) {
      // the policy's boundaries after the video's end; one within a second of the previous start
      // would make a sliver of a segment, so it is skipped
      const starts = nominalBoundaries(policy, audioEndMs).filter((b) => b >= relEnd + 1000);
      for (let s = 0; s <= starts.length; s++) {
        const last = s === starts.length;
        const t1 = last ? audioEndMs : starts[s];
        const aEnd = last ? audioAt(endMs - originMs + 1e-3) : audioAt(t1);
        segments.push({ startMs: t0, durationMs: t1 - t0, video: null, audio: { first: aFirst, end: aEnd } });
        t0 = t1;
        aFirst = aEnd;
      }
      durationMs = audioEndMs;
    }
  } else {
    const aa = a!;
    const ts = aa.timescale;
    const fromTs = (clip.fromMs * ts) / 1000;
    let start = Math.max(0, audioIndexAt(aa, fromTs + 1e-6) - 1);
    if (dtsAt(aa, start) - aa.mediaTimeOffset < 0) start = audioIndexAt(aa, 0);
    if (start >= aa.count) throw new MediaError('UNSUPPORTED', 'empty audio track');
    const startPts = dtsAt(aa, start) - aa.mediaTimeOffset;
    originMs = (startPts * 1000) / ts;
    const endIdx = endMs >= index.durationMs ? aa.count : Math.max(start + 1, audioIndexAt(aa, (endMs * ts) / 1000 - 1e-6));
    const relEnd = ((dtsAt(aa, endIdx) - aa.mediaTimeOffset - startPts) * 1000) / ts;
    durationMs = relEnd;
    at = { track: aa, dtsBase: dtsAt(aa, start), ctoBase: 0 };
    const bounds: number[] = [start];
    for (const nominal of nominalBoundaries(policy, relEnd).slice(1)) {
      const i = audioIndexAt(aa, startPts + (nominal * ts) / 1000 - 1e-6);
      if (i >= endIdx) break;
      if (i > bounds[bounds.length - 1]) bounds.push(i);
    }
    bounds.push(endIdx);
    for (let s = 0; s + 1 < bounds.length; s++) {
      const t0 = ((dtsAt(aa, bounds[s]) - dtsAt(aa, start)) * 1000) / ts;
      const t1 = s + 2 < bounds.length ? ((dtsAt(aa, bounds[s + 1]) - dtsAt(aa, start)) * 1000) / ts : relEnd;
      segments.push({ startMs: t0, durationMs: t1 - t0, video: null, audio: { first: bounds[s], end: bounds[s + 1] } });
    }
  }
  if (!use.video) vt = null;
  if (!use.audio) at = null;
  return { index, video: vt, audio: at, segments, durationMs, originMs };
}
