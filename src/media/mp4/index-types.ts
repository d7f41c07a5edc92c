// The parsed sample tables of one MP4 file: everything the segmenter and the writers need, held
// in typed arrays rather than one object per sample. A playlist needs only decode times (kept as
// stts runs) and key frames, so the per-sample tables a segment needs (dts, cto, offset) are
// decoded from the moov's own tables the first time a segment asks (src/media/mp4/track.ts):
// a 2-hour file's first playlist parses in a few milliseconds, and its index holds about 12
// bytes a sample once every table is decoded.

export type TrackKind = 'video' | 'audio' | 'text' | 'other';

export interface TrackIndex {
  /** track_ID from tkhd. */
  id: number;
  kind: TrackKind;
  /** Sample-entry four-character code: avc1, avc3, hvc1, hev1, mp4a, ... */
  format: string;
  timescale: number;
  /** ISO-639-2/T code from mdhd ("und" when unset). */
  language: string;
  width: number;
  height: number;
  /**
   * tkhd's transformation matrix, its 36 bytes as stored: how the picture is turned on screen (a
   * phone's portrait video is stored landscape with a 90° matrix). Identity for audio.
   */
  matrix: Uint8Array;
  /** Sample (pixel) aspect ratio of video: the sample entry's pasp, else the H.264 SPS's VUI, else 1:1. */
  sar: [number, number];
  /** Audio channels: the codec configuration's (AAC's AudioSpecificConfig, dac3, dec3) where it names them, else the sample entry's channelcount. */
  channels: number;
  sampleRate: number;
  /** The whole first stsd entry box (header included), copied verbatim into init segments. */
  sampleEntry: Uint8Array;
  /** avcC / hvcC payload for video, AudioSpecificConfig for AAC; empty when absent. */
  codecConfig: Uint8Array;
  /** Length-prefix size of NAL units (avcC/hvcC lengthSizeMinusOne + 1); 0 for non-NAL codecs. */
  nalLengthSize: number;
  /** Parameter-set NAL units (SPS/PPS, or VPS/SPS/PPS) from the codec config, for Annex-B output. */
  parameterSets: Uint8Array[];
  /** RFC 6381 codec string, e.g. avc1.64001e or mp4a.40.2 ("" when unknown). */
  codecString: string;
  /** AAC audio object type (2 = LC) and sampling-frequency index, for ADTS headers. */
  aacObjectType: number;
  aacFreqIndex: number;
  aacChannelConfig: number;
  count: number;
  /** stts as runs: decode times without a per-sample table (dtsAt and firstSampleFrom read it). */
  stts: DecodeRuns;
  /** Decode times in track timescale (decoded on first use; 32-bit when the track's end fits). */
  readonly dts: Float64Array | Uint32Array;
  /** Composition offsets (pts - dts), or null when the track has no ctts (decoded on first use). */
  readonly cto: Int32Array | null;
  /** Composition offset of sample i, read from ctts's runs without decoding the table (0 without ctts). */
  ctoAt(i: number): number;
  readonly size: Uint32Array;
  /** Absolute file offsets of the samples (decoded on first use; 32-bit when the file is under 4 GiB). */
  readonly offset: Float64Array | Uint32Array;
  /** Indices of sync samples in ascending order; null means every sample is sync. */
  sync: Uint32Array | null;
  /** End of the last sample's decode time (sum of all stts deltas). */
  endDts: number;
  /**
   * Media time (track timescale) that maps to presentation time 0: the first edit's media_time,
   * or the first sample's composition offset when there is no edit list.
   */
  mediaTimeOffset: number;
}

export interface MediaIndex {
  fileSize: number;
  moovSize: number;
  /** Presentation duration in milliseconds (longest track). */
  durationMs: number;
  tracks: TrackIndex[];
  /**
   * Bytes the index holds now (its typed arrays and copied boxes, plus a small allowance for the
   * objects), for the cache bound. It changes when a table is decoded on first use; onResize, when
   * set (by the index cache), hears of each change.
   */
  readonly bytes: number;
  onResize: ((index: MediaIndex) => void) | null;
  /** The version of the source it was read from (ByteSource.version), when the source says. */
  sourceVersion?: string;
  /** Its source was found replaced since (body.ts leaseFor): the index cache reads the file again. */
  replaced?: boolean;
}

/**
 * A track's stts, one entry per run of equal sample durations: run r covers samples
 * [first[r], first[r] + count[r]) starting at decode time start[r], each delta[r] long.
 */
export interface DecodeRuns {
  count: Uint32Array;
  delta: Uint32Array;
  first: Float64Array;
  start: Float64Array;
  /** The run dtsAt found last (where the next lookup looks first). */
  hint: number;
}

export const isKeyFrame = (t: TrackIndex, i: number): boolean => {
  if (!t.sync) return true;
  // binary search: sync lists are short relative to sample counts
  let lo = 0;
  let hi = t.sync.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = t.sync[mid];
    if (v === i) return true;
    if (v < i) lo = mid + 1;
    else hi = mid - 1;
  }
  return false;
};

/**
 * The sync samples of [first, end), or null when every sample is one. Found from the first at or
 * after `first` by binary search: a walk over the whole list for every segment made the HLS
 * master of a 2-hour file, which weighs every segment, take seconds.
 */
export function syncSamplesIn(t: TrackIndex, first: number, end: number): Set<number> | null {
  const sync = t.sync;
  if (!sync) return null;
  let lo = 0;
  let hi = sync.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (sync[mid] < first) lo = mid + 1;
    else hi = mid;
  }
  const s = new Set<number>();
  for (let k = lo; k < sync.length && sync[k] < end; k++) s.add(sync[k]);
  return s;
}

/** Presentation time of sample i, in track timescale, on the edit-list timeline. */
export const ptsOf = (t: TrackIndex, i: number): number => dtsAt(t, i) + t.ctoAt(i) - t.mediaTimeOffset;

/** The run of stts that holds sample k (0 <= k < count). */
function runOf(r: DecodeRuns, k: number): number {
  let lo = 0;
  let hi = r.first.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if (r.first[mid] <= k) lo = mid;
    else hi = mid - 1;
  }
  r.hint = lo;
  return lo;
}

/**
 * Decode time of sample k from the stts runs (no per-sample table needed); for k = count, the
 * track's end (where a sample after the last would start).
 */
export function dtsAt(t: TrackIndex, k: number): number {
  if (k >= t.count) return t.endDts;
  const r = t.stts;
  // samples are mostly asked for in order: the run found last is looked at first
  let run = r.hint;
  const first = r.first[run];
  if (k < first || k >= first + r.count[run]) run = runOf(r, k);
  return r.start[run] + (k - r.first[run]) * r.delta[run];
}

/**
 * The first sample whose decode time minus `shift` is not below `time` (dts - shift >= time), or
 * count when there is none. Searches the stts runs, then inside one run, so it costs a few dozen
 * steps on any track and allocates nothing (a cold process runs it in the interpreter).
 */
export function firstSampleFrom(t: TrackIndex, time: number, shift = 0): number {
  const r = t.stts;
  const starts = r.start;
  const counts = r.count;
  const deltas = r.delta;
  const runs = starts.length;
  // the first run whose last sample is not before time: the segmenter asks in increasing time, so
  // the run found last, or the one after it, is tried before a binary search
  let run = r.hint;
  const here = run < runs && !(starts[run] + (counts[run] - 1) * deltas[run] - shift < time);
  const prevBefore = run === 0 || starts[run - 1] + (counts[run - 1] - 1) * deltas[run - 1] - shift < time;
  if (here && prevBefore) {
    // the hint
  } else if (!here && run + 1 < runs && !(starts[run + 1] + (counts[run + 1] - 1) * deltas[run + 1] - shift < time)) run++;
  else {
    let lo = 0;
    let hi = runs;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (starts[mid] + (counts[mid] - 1) * deltas[mid] - shift < time) lo = mid + 1;
      else hi = mid;
    }
    if (lo === runs) return t.count;
    run = lo;
  }
  r.hint = run;
  const start = starts[run];
  const delta = deltas[run];
  const last = counts[run] - 1;
  // inside the run: the quotient's estimate, then stepped to the exact answer of the comparison
  // above (the estimate's rounding can be one sample off)
  let a = delta === 0 ? 0 : Math.min(last, Math.max(0, Math.ceil((time + shift - start) / delta)));
  while (a > 0 && !(start + (a - 1) * delta - shift < time)) a--;
  while (a < last && start + a * delta - shift < time) a++;
  return r.first[run] + a;
}

/**
 * The turn of a track matrix (ISO/IEC 14496-12 tkhd: a, b, u, c, d, v, x, y, w; a to d in 16.16
 * fixed point), to the nearest quarter, in degrees clockwise on screen: a point (1, 0) goes to
 * (a, b), and y grows downwards. A phone held upright records 90 (or 270 held the other way);
 * identity, and a scale alone, is 0. A mirroring matrix (rare) is counted by where (1, 0) goes
 * too: a left-right mirror as 180, which is not what it shows, but it still leaves MPEG-TS for
 * fMP4, which keeps the matrix.
 */
export function rotationOf(matrix: Uint8Array): number {
  if (matrix.length < 36) return 0;
  const view = new DataView(matrix.buffer, matrix.byteOffset, matrix.byteLength);
  const a = view.getInt32(0);
  const b = view.getInt32(4);
  if (a === 0 && b === 0) return 0;
  const quarters = Math.round(Math.atan2(b, a) / (Math.PI / 2));
  return ((quarters % 4) + 4) % 4 * 90;
}

/** A video track's picture as shown: its sides exchanged when its matrix turns it a quarter. */
export function shownSize(t: Pick<TrackIndex, 'width' | 'height' | 'matrix'>): { width: number; height: number } {
  return rotationOf(t.matrix) % 180 === 90 ? { width: t.height, height: t.width } : { width: t.width, height: t.height };
}

export const videoTrack = (m: MediaIndex): TrackIndex | undefined => m.tracks.find((t) => t.kind === 'video');
export const audioTrack = (m: MediaIndex): TrackIndex | undefined => m.tracks.find((t) => t.kind === 'audio');
