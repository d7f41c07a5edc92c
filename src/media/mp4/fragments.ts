// A fragmented MP4 (ffmpeg's -movflags frag_keyframe, OBS's fragmented recordings, CMAF files)
// keeps its samples in moof boxes after the moov, each describing the mdat that follows it. The
// reader (reader.ts) reads every moof, and the samples they describe are appended here to the
// moov's own (none with empty_moov; the first fragment's without it), so the packager sees one
// track with whole sample tables, as it sees a progressive MP4's. Box layouts: ISO/IEC 14496-12,
// 8.8 (mvex, trex, moof, traf, tfhd, tfdt, trun).
import { MediaError } from '../errors.js';
import type { DecodeRuns } from './index-types.js';
import { Mp4Track, type TrackDescription } from './track.js';

/** One moof as read: its payload (after its header) and where its box starts in the file. */
export interface Moof {
  at: number;
  payload: Uint8Array;
}

/** A track's sample defaults (trex), which a traf's tfhd may override. */
interface TrackDefaults {
  duration: number;
  size: number;
  flags: number;
}

/** The samples the moofs give one track, in decode order. */
export interface FragmentSamples {
  size: number[];
  offset: number[];
  duration: number[];
  cto: number[];
  sync: boolean[];
  /** The first fragment's base media decode time (tfdt), or null when it has none. */
  firstDecodeTime: number | null;
  /** Decode time reached so far (the tfdt of a later fragment may jump ahead of it: a gap). */
  end: number;
}

interface Box {
  type: string;
  start: number;
  end: number;
}

function boxes(dv: DataView, b: Uint8Array, start: number, end: number): Box[] {
  const out: Box[] = [];
  for (let o = start; o + 8 <= end;) {
    let size = dv.getUint32(o);
    let header = 8;
    if (size === 1) {
      if (o + 16 > end) break;
      size = Number(dv.getBigUint64(o + 8));
      header = 16;
    } else if (size === 0) size = end - o;
    if (size < header || o + size > end) throw new MediaError('NOT_MP4', `fragment box at ${o}: size ${size} does not fit its parent`);
    out.push({ type: String.fromCharCode(b[o + 4], b[o + 5], b[o + 6], b[o + 7]), start: o + header, end: o + size });
    o += size;
  }
  return out;
}

/** mvex's trex boxes: each track's sample defaults, by track id. */
export function trackDefaults(dv: DataView, b: Uint8Array, mvexStart: number, mvexEnd: number): Map<number, TrackDefaults> {
  const out = new Map<number, TrackDefaults>();
  for (const x of boxes(dv, b, mvexStart, mvexEnd)) {
    if (x.type !== 'trex' || x.end - x.start < 24) continue;
    out.set(dv.getUint32(x.start + 4), { duration: dv.getUint32(x.start + 12), size: dv.getUint32(x.start + 16), flags: dv.getUint32(x.start + 20) });
  }
  return out;
}

/** A sample's flags say it is not a sync sample (sample_is_non_sync_sample). */
const NON_SYNC = 0x10000;

/**
 * The samples of every track the moofs describe, by track id. A sample whose bytes run past the
 * end of the file ends its track there: a recording cut short keeps what it wrote whole.
 */
export function fragmentSamples(moofs: Moof[], defaults: Map<number, TrackDefaults>, fileSize: number): Map<number, FragmentSamples> {
  const out = new Map<number, FragmentSamples>();
  const ended = new Set<number>();
  for (const moof of moofs) {
    const b = moof.payload;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // without a base-data-offset, a traf's data starts where the previous traf's ended (the first
    // traf's: at the moof), unless default-base-is-moof says at the moof for every traf
    let dataEnd = moof.at;
    for (const traf of boxes(dv, b, 0, b.length)) {
      if (traf.type !== 'traf') continue;
      const kids = boxes(dv, b, traf.start, traf.end);
      const tfhd = kids.find((x) => x.type === 'tfhd');
      if (!tfhd || tfhd.end - tfhd.start < 8) throw new MediaError('NOT_MP4', `moof at ${moof.at}: traf without tfhd`);
      const flags = dv.getUint32(tfhd.start) & 0xffffff;
      const id = dv.getUint32(tfhd.start + 4);
      const trex = defaults.get(id) ?? { duration: 0, size: 0, flags: 0 };
      let o = tfhd.start + 8;
      let base = flags & 0x20000 ? moof.at : dataEnd;
      if (flags & 0x1) {
        base = Number(dv.getBigUint64(o));
        o += 8;
      }
      if (flags & 0x2) o += 4;
      let defDuration = trex.duration;
      let defSize = trex.size;
      let defFlags = trex.flags;
      if (flags & 0x8) { defDuration = dv.getUint32(o); o += 4; }
      if (flags & 0x10) { defSize = dv.getUint32(o); o += 4; }
      if (flags & 0x20) { defFlags = dv.getUint32(o); o += 4; }
      if (o > tfhd.end) throw new MediaError('NOT_MP4', `moof at ${moof.at}: tfhd of track ${id} too short`);
      // duration-is-empty: a traf with no samples
      if (flags & 0x10000) continue;
      let s = out.get(id);
      if (!s) {
        s = { size: [], offset: [], duration: [], cto: [], sync: [], firstDecodeTime: null, end: 0 };
        out.set(id, s);
      }
      const tfdt = kids.find((x) => x.type === 'tfdt');
      if (tfdt) {
        const t = b[tfdt.start] === 1 ? Number(dv.getBigUint64(tfdt.start + 4)) : dv.getUint32(tfdt.start + 4);
        if (s.firstDecodeTime === null && s.size.length === 0) {
          s.firstDecodeTime = t;
          s.end = t;
        } else if (t > s.end && s.duration.length > 0) {
          // a gap: the last sample lasts until this fragment starts, so later samples keep their times
          s.duration[s.duration.length - 1] += t - s.end;
          s.end = t;
        }
      }
      let next = base;
      for (const trun of kids) {
        if (trun.type !== 'trun') continue;
        const v = b[trun.start];
        const tf = dv.getUint32(trun.start) & 0xffffff;
        const n = dv.getUint32(trun.start + 4);
        let p = trun.start + 8;
        if (tf & 0x1) { next = base + dv.getInt32(p); p += 4; }
        let firstFlags: number | null = null;
        if (tf & 0x4) { firstFlags = dv.getUint32(p); p += 4; }
        const per = ((tf & 0x100 ? 1 : 0) + (tf & 0x200 ? 1 : 0) + (tf & 0x400 ? 1 : 0) + (tf & 0x800 ? 1 : 0)) * 4;
        if (p + n * per > trun.end) throw new MediaError('NOT_MP4', `moof at ${moof.at}: trun of track ${id} too short for its ${n} samples`);
        for (let k = 0; k < n; k++) {
          const duration = tf & 0x100 ? dv.getUint32(p) : defDuration;
          if (tf & 0x100) p += 4;
          const size = tf & 0x200 ? dv.getUint32(p) : defSize;
          if (tf & 0x200) p += 4;
          let sampleFlags = k === 0 && firstFlags !== null ? firstFlags : defFlags;
          if (tf & 0x400) { sampleFlags = dv.getUint32(p); p += 4; }
          let cto = 0;
          if (tf & 0x800) { cto = v === 0 ? dv.getUint32(p) : dv.getInt32(p); p += 4; }
          if (next + size > fileSize) ended.add(id);
          if (!ended.has(id)) {
            s.size.push(size);
            s.offset.push(next);
            s.duration.push(duration);
            s.cto.push(cto);
            s.sync.push((sampleFlags & NON_SYNC) === 0);
            s.end += duration;
          }
          next += size;
        }
        if (s.size.length > 100_000_000) throw new MediaError('NOT_MP4', `track ${id}: more samples than a file holds`);
      }
      dataEnd = next;
    }
  }
  return out;
}

/** What of a track describes it, besides its sample tables. */
function descriptionOf(t: Mp4Track): Omit<TrackDescription, 'count' | 'stts' | 'sync' | 'endDts' | 'mediaTimeOffset'> {
  const { id, kind, format, timescale, language, width, height, matrix, sar, channels, sampleRate, sampleEntry, codecConfig, nalLengthSize, parameterSets, codecString, aacObjectType, aacFreqIndex, aacChannelConfig } = t;
  return { id, kind, format, timescale, language, width, height, matrix, sar, channels, sampleRate, sampleEntry, codecConfig, nalLengthSize, parameterSets, codecString, aacObjectType, aacFreqIndex, aacChannelConfig };
}

/**
 * The track with the fragments' samples after the moov's own. `startOf` gives the track's start
 * (mediaTimeOffset) from its first sample's composition offset, as the reader takes it (the edit
 * list's, when the track has one), on the track's own decode timeline. Every sample is its own
 * chunk: fragments put samples anywhere.
 */
export function appendFragments(t: Mp4Track, f: FragmentSamples, fileSize: number, startOf: (firstCto: number) => number): Mp4Track {
  const n0 = t.count;
  const count = n0 + f.size.length;
  const size = new Uint32Array(count);
  const offset = new Float64Array(count);
  const duration = new Uint32Array(count);
  const cto = new Int32Array(count);
  const syncList: number[] = [];
  if (n0 > 0) {
    size.set(t.size);
    offset.set(t.offset);
    const dts = t.dts;
    for (let i = 0; i < n0; i++) {
      duration[i] = (i + 1 < n0 ? dts[i + 1] : t.endDts) - dts[i];
      cto[i] = t.ctoAt(i);
      if (!t.sync) syncList.push(i);
    }
    if (t.sync) syncList.push(...t.sync);
    // the first fragment starting after the moov's samples end: the last of them lasts until then
    if (f.firstDecodeTime !== null && f.firstDecodeTime > t.endDts) duration[n0 - 1] += f.firstDecodeTime - t.endDts;
  }
  for (let k = 0; k < f.size.length; k++) {
    const i = n0 + k;
    size[i] = f.size[k];
    offset[i] = f.offset[k];
    duration[i] = f.duration[k];
    cto[i] = f.cto[k];
    if (f.sync[k]) syncList.push(i);
  }
  const runs: { count: number; delta: number }[] = [];
  for (let i = 0; i < count; i++) {
    const last = runs[runs.length - 1];
    if (last && last.delta === duration[i]) last.count++;
    else runs.push({ count: 1, delta: duration[i] });
  }
  const stts: DecodeRuns = { count: new Uint32Array(runs.length), delta: new Uint32Array(runs.length), first: new Float64Array(runs.length), start: new Float64Array(runs.length), hint: 0 };
  let first = 0;
  let time = 0;
  runs.forEach((r, k) => {
    stts.count[k] = r.count;
    stts.delta[k] = r.delta;
    stts.first[k] = first;
    stts.start[k] = time;
    first += r.count;
    time += r.count * r.delta;
  });
  const ctts: number[] = [];
  for (let i = 0; i < count; i++) {
    if (ctts.length && ctts[ctts.length - 1] === cto[i]) ctts[ctts.length - 2]++;
    else ctts.push(1, cto[i]);
  }
  const hasCto = cto.some((c) => c !== 0);
  return new Mp4Track(
    {
      // decode times here start at 0; a first fragment that starts later (its tfdt; a cut of a
      // live recording) moves the start the edit list names, or the first sample's, by as much
      ...descriptionOf(t), count, stts, endDts: time, mediaTimeOffset: startOf(count > 0 ? cto[0] : 0) - (n0 === 0 ? f.firstDecodeTime ?? 0 : 0),
      sync: syncList.length === count ? null : Uint32Array.from(syncList),
    },
    { fixedSize: 0, sizes: size, chunkOffsets: offset, stsc: Uint32Array.of(1, 1, 1), ctts: hasCto ? Uint32Array.from(ctts, (x) => x >>> 0) : null },
    fileSize,
    null,
  );
}
