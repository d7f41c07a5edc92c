// A fragmented MP4 (ffmpeg's -movflags frag_keyframe, OBS's fragmented recordings, CMAF files)
// keeps its samples in moof boxes, each describing the mdat that follows it (usually after the
// moov; a recorder may write the moov last). The reader (reader.ts) reads every moof, and the
// samples they describe are appended here to the moov's own (none with empty_moov; the first
// fragment's without it), so the packager sees one track with whole sample tables, as it sees a
// progressive MP4's. Box layouts: ISO/IEC 14496-12,
// 8.8 (mvex, trex, moof, traf, tfhd, tfdt, trun).
import { MediaError } from '../errors.js';
import type { DecodeRuns } from './index-types.js';
import { Mp4Track, type TrackDescription } from './track.js';
import { MAX_SAMPLES, children, type Box } from './boxes.js';

/** One moof as read: its payload (after its header) and where its box starts in the file. */
export interface Moof {
  at: number;
  payload: Uint8Array;
}

/** A track's sample defaults (trex), which a traf's tfhd may override. */
interface TrackDefaults {
  /** default_sample_description_index (1-based) */
  description: number;
  duration: number;
  size: number;
  flags: number;
}

/** The samples the moofs give one track, in decode order: the first `count` of each array. */
export interface FragmentSamples {
  count: number;
  size: Uint32Array;
  offset: Float64Array;
  duration: Uint32Array;
  cto: Int32Array;
  /** 1 for a sync sample. */
  sync: Uint8Array;
  /** The first fragment's base media decode time (tfdt), or null when it has none. */
  firstDecodeTime: number | null;
  /** Decode time reached so far (the tfdt of a later fragment may jump ahead of it: a gap). */
  end: number;
  /** A sample ran past the end of the file: the track ends before it. */
  ended: boolean;
  /** The sample descriptions other than the first that fragments with samples name (tfhd, or trex's default). */
  otherDescriptions: Set<number>;
}

/** Room for `n` samples, allocated once: every trun's sample count is known before one is read. */
function newSamples(n: number): FragmentSamples {
  return { count: 0, size: new Uint32Array(n), offset: new Float64Array(n), duration: new Uint32Array(n), cto: new Int32Array(n), sync: new Uint8Array(n), firstDecodeTime: null, end: 0, ended: false, otherDescriptions: new Set() };
}

/** mvex's trex boxes: each track's sample defaults, by track id. */
export function trackDefaults(dv: DataView, b: Uint8Array, mvexStart: number, mvexEnd: number): Map<number, TrackDefaults> {
  const out = new Map<number, TrackDefaults>();
  for (const x of children(b, mvexStart, mvexEnd)) {
    if (x.type !== 'trex' || x.end - x.start < 24) continue;
    out.set(dv.getUint32(x.start + 4), { description: dv.getUint32(x.start + 8), duration: dv.getUint32(x.start + 12), size: dv.getUint32(x.start + 16), flags: dv.getUint32(x.start + 20) });
  }
  return out;
}

/** A sample's flags say it is not a sync sample (sample_is_non_sync_sample). */
const NON_SYNC = 0x10000;

/**
 * The samples of every track the moofs describe, by track id. A sample whose bytes run past the
 * end of the file (or start before it) ends its track there: a recording cut short keeps what it
 * wrote whole.
 */
export function fragmentSamples(moofs: Moof[], defaults: Map<number, TrackDefaults>, fileSize: number): Map<number, FragmentSamples> {
  const out = new Map<number, FragmentSamples>();
  const counts = sampleCounts(moofs);
  for (const moof of moofs) {
    const b = moof.payload;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    // without a base-data-offset, a traf's data starts where the previous traf's ended (the first
    // traf's: at the moof), unless default-base-is-moof says at the moof for every traf
    let dataEnd = moof.at;
    for (const traf of children(b, 0, b.length)) {
      if (traf.type !== 'traf') continue;
      const kids = children(b, traf.start, traf.end);
      const tfhd = kids.find((x) => x.type === 'tfhd');
      if (!tfhd || tfhd.end - tfhd.start < 8) throw new MediaError('NOT_MP4', `moof at ${moof.at}: traf without tfhd`);
      const flags = dv.getUint32(tfhd.start) & 0xffffff;
      const id = dv.getUint32(tfhd.start + 4);
      const trex = defaults.get(id) ?? { description: 1, duration: 0, size: 0, flags: 0 };
      let o = tfhd.start + 8;
      let base = flags & 0x20000 ? moof.at : dataEnd;
      if (flags & 0x1) {
        base = Number(dv.getBigUint64(o));
        o += 8;
      }
      let description = trex.description;
      if (flags & 0x2) {
        description = dv.getUint32(o);
        o += 4;
      }
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
        s = newSamples(counts.get(id) ?? 0);
        out.set(id, s);
      }
      const tfdt = kids.find((x) => x.type === 'tfdt');
      if (tfdt) {
        const t = b[tfdt.start] === 1 ? Number(dv.getBigUint64(tfdt.start + 4)) : dv.getUint32(tfdt.start + 4);
        if (s.firstDecodeTime === null && s.count === 0) {
          s.firstDecodeTime = t;
          s.end = t;
        } else if (t > s.end && s.count > 0 && !s.ended && s.duration[s.count - 1] + (t - s.end) <= 0xffffffff) {
          // a gap: the last sample lasts until this fragment starts, so later samples keep their
          // times (a gap longer than a sample can last is a damaged tfdt, and is not followed)
          s.duration[s.count - 1] += t - s.end;
          s.end = t;
        }
      }
      let next = base;
      const before = s.count;
      for (const trun of kids) {
        if (trun.type !== 'trun') continue;
        const signedCto = b[trun.start] !== 0;
        const tf = dv.getUint32(trun.start) & 0xffffff;
        const n = dv.getUint32(trun.start + 4);
        let p = trun.start + 8;
        if (tf & 0x1) { next = base + dv.getInt32(p); p += 4; }
        let firstFlags = defFlags;
        if (tf & 0x4) { firstFlags = dv.getUint32(p); p += 4; }
        const hasDuration = (tf & 0x100) !== 0;
        const hasSize = (tf & 0x200) !== 0;
        const hasFlags = (tf & 0x400) !== 0;
        const hasCto = (tf & 0x800) !== 0;
        // (trunCount saw the box hold its samples; a traf naming its track twice could count
        // them to another track)
        if (s.count + n > s.size.length) throw new MediaError('NOT_MP4', `moof at ${moof.at}: traf of track ${id} does not say its track once`);
        for (let k = 0; k < n; k++) {
          let duration = defDuration;
          if (hasDuration) { duration = dv.getUint32(p); p += 4; }
          let size = defSize;
          if (hasSize) { size = dv.getUint32(p); p += 4; }
          let sampleFlags = k === 0 ? firstFlags : defFlags;
          if (hasFlags) { sampleFlags = dv.getUint32(p); p += 4; }
          let cto = 0;
          if (hasCto) { cto = signedCto ? dv.getInt32(p) : dv.getUint32(p) | 0; p += 4; }
          if (next < 0 || next + size > fileSize) s.ended = true;
          if (!s.ended) {
            const i = s.count++;
            s.size[i] = size;
            s.offset[i] = next;
            s.duration[i] = duration;
            s.cto[i] = cto;
            s.sync[i] = (sampleFlags & NON_SYNC) === 0 ? 1 : 0;
            s.end += duration;
          }
          next += size;
        }
      }
      if (description !== 1 && s.count > before) s.otherDescriptions.add(description);
      dataEnd = next;
    }
  }
  return out;
}

/** A trun's sample count, once its box is seen to hold that many samples' fields. */
function trunCount(dv: DataView, trun: Box, moofAt: number): number {
  const tf = dv.getUint32(trun.start) & 0xffffff;
  const n = dv.getUint32(trun.start + 4);
  const head = 8 + (tf & 0x1 ? 4 : 0) + (tf & 0x4 ? 4 : 0);
  const per = ((tf & 0x100 ? 1 : 0) + (tf & 0x200 ? 1 : 0) + (tf & 0x400 ? 1 : 0) + (tf & 0x800 ? 1 : 0)) * 4;
  if (trun.start + head + n * per > trun.end) throw new MediaError('NOT_MP4', `moof at ${moofAt}: a trun too short for its ${n} samples`);
  return n;
}

/** How many samples the truns give each track, by track id (what the arrays are allocated for). */
function sampleCounts(moofs: Moof[]): Map<number, number> {
  const counts = new Map<number, number>();
  for (const moof of moofs) {
    const b = moof.payload;
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    for (const traf of children(b, 0, b.length)) {
      if (traf.type !== 'traf') continue;
      let id = -1;
      let n = 0;
      for (const x of children(b, traf.start, traf.end)) {
        if (x.type === 'tfhd' && x.end - x.start >= 8) id = dv.getUint32(x.start + 4);
        else if (x.type === 'trun' && x.end - x.start >= 8) n += trunCount(dv, x, moof.at);
      }
      const total = (counts.get(id) ?? 0) + n;
      if (total > MAX_SAMPLES) throw new MediaError('NOT_MP4', `track ${id}: more samples than a file holds`);
      counts.set(id, total);
    }
  }
  return counts;
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
  const count = n0 + f.count;
  const size = new Uint32Array(count);
  const offset = new Float64Array(count);
  const duration = new Uint32Array(count);
  const cto = new Int32Array(count);
  const isSync = new Uint8Array(count);
  if (n0 > 0) {
    size.set(t.size);
    offset.set(t.offset);
    const dts = t.dts;
    for (let i = 0; i < n0; i++) {
      duration[i] = (i + 1 < n0 ? dts[i + 1] : t.endDts) - dts[i];
      cto[i] = t.ctoAt(i);
    }
    if (t.sync) for (const i of t.sync) isSync[i] = 1;
    else isSync.fill(1, 0, n0);
    // the first fragment starting after the moov's samples end: the last of them lasts until then
    if (f.firstDecodeTime !== null && f.firstDecodeTime > t.endDts && duration[n0 - 1] + (f.firstDecodeTime - t.endDts) <= 0xffffffff) duration[n0 - 1] += f.firstDecodeTime - t.endDts;
  }
  size.set(f.size.subarray(0, f.count), n0);
  offset.set(f.offset.subarray(0, f.count), n0);
  duration.set(f.duration.subarray(0, f.count), n0);
  cto.set(f.cto.subarray(0, f.count), n0);
  isSync.set(f.sync.subarray(0, f.count), n0);

  // one pass counts the stts runs and sync samples and writes the ctts pairs (each at most one
  // entry per sample); a second writes the runs and the sync list (a cold process runs these
  // loops before the JIT has warmed them: two, not five)
  const ctts = new Uint32Array(2 * count);
  let pairs = 0;
  let anyCto = false;
  let runs = 0;
  let syncs = 0;
  for (let i = 0; i < count; i++) {
    if (i === 0 || duration[i] !== duration[i - 1]) runs++;
    syncs += isSync[i];
    const c = cto[i] >>> 0;
    if (c !== 0) anyCto = true;
    if (pairs > 0 && ctts[2 * pairs - 1] === c) ctts[2 * pairs - 2]++;
    else {
      ctts[2 * pairs] = 1;
      ctts[2 * pairs + 1] = c;
      pairs++;
    }
  }
  const stts: DecodeRuns = { count: new Uint32Array(runs), delta: new Uint32Array(runs), first: new Float64Array(runs), start: new Float64Array(runs), hint: 0 };
  const sync = syncs < count ? new Uint32Array(syncs) : null;
  let time = 0;
  for (let i = 0, k = -1, s = 0; i < count; i++) {
    if (i === 0 || duration[i] !== duration[i - 1]) {
      k++;
      stts.delta[k] = duration[i];
      stts.first[k] = i;
      stts.start[k] = time;
    }
    stts.count[k]++;
    time += duration[i];
    if (sync && isSync[i]) sync[s++] = i;
  }
  return new Mp4Track(
    {
      // decode times here start at 0, where the first fragment may start later (alignStarts)
      ...descriptionOf(t), count, stts, endDts: time, mediaTimeOffset: startOf(count > 0 ? cto[0] : 0), sync,
    },
    { fixedSize: 0, sizes: size, chunkOffsets: offset, stsc: Uint32Array.of(1, 1, 1), ctts: anyCto ? ctts.slice(0, 2 * pairs) : null },
    fileSize,
    null,
  );
}

/**
 * Decode times of a track made of fragments alone start at 0 here, where its first fragment may
 * start later (its tfdt): an audio track a priming delay after the video, or every track hours
 * in (a cut of a live recording). The tracks keep their starts relative to each other, the
 * earliest at 0, so a late track starts as much later and a live cut does not start with hours
 * of nothing.
 */
export function alignStarts(tracks: Mp4Track[], fragments: Map<number, FragmentSamples>): void {
  const alone = tracks.flatMap((t) => {
    const f = fragments.get(t.id);
    return f && f.count > 0 && f.count === t.count ? [{ t, start: f.firstDecodeTime ?? 0 }] : [];
  });
  if (alone.length === 0) return;
  const earliest = Math.min(...alone.map(({ t, start }) => start / t.timescale));
  for (const { t, start } of alone) t.mediaTimeOffset -= Math.round(start - earliest * t.timescale);
}

/**
 * Where the moofs are, as a finished recording's mfra says (its payload, after the box header):
 * every offset its tfra boxes name, once each, in file order; empty when it names none. ffmpeg
 * names each fragment of each track; a muxer may name only the fragments that start with a sync
 * sample, so these are where to read, not every moof (reader.ts walks the boxes between them).
 */
export function mfraMoofOffsets(mfra: Uint8Array): number[] {
  const dv = new DataView(mfra.buffer, mfra.byteOffset, mfra.byteLength);
  const offsets = new Set<number>();
  for (const tfra of children(mfra, 0, mfra.length)) {
    if (tfra.type !== 'tfra' || tfra.end - tfra.start < 16) continue;
    const wide = mfra[tfra.start] === 1;
    const lengths = dv.getUint32(tfra.start + 8);
    const entries = dv.getUint32(tfra.start + 12);
    // time and moof_offset, then traf_number, trun_number and sample_number of 1-4 bytes each
    const entryBytes = (wide ? 16 : 8) + ((lengths >> 4) & 3) + ((lengths >> 2) & 3) + (lengths & 3) + 3;
    if (tfra.start + 16 + entries * entryBytes > tfra.end) throw new MediaError('NOT_MP4', `tfra of track ${dv.getUint32(tfra.start + 4)}: ${entries} entries do not fit its box`);
    for (let k = 0, o = tfra.start + 16; k < entries; k++, o += entryBytes) {
      offsets.add(wide ? Number(dv.getBigUint64(o + 8)) : dv.getUint32(o + 4));
    }
  }
  return [...offsets].sort((a, b) => a - b);
}
