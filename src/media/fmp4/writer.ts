// fMP4 (CMAF-style) output: an init segment (moov with mvex) and media segments
// (moof/traf/tfhd/tfdt/trun + mdat, preceded by styp and sidx for DASH). Headers come from the
// index alone; the mdat payload is a list of source byte spans.
import { partsBody, type MediaBody, type Part } from '../body.js';
import { dtsAt, isKeyFrame, type TrackIndex } from '../mp4/index-types.js';
import type { Segment, Timeline, TrackTiming } from '../segment.js';
import { mdatHeader, mdiaBox, mvhdBox, stsdBox, tkhdBox } from '../track-boxes.js';
import { box, fullBox, u16, u32, u64 } from './boxes.js';

/** Output track ids: fixed per kind, so separate video and audio inits never collide. */
const outputTrackId = (t: TrackIndex): number => (t.kind === 'video' ? 1 : 2);

// an init segment's tracks have no samples: durations 0, empty sample tables
const trak = (t: TrackIndex): Buffer =>
  box('trak', tkhdBox(t, outputTrackId(t), 0), mdiaBox(t, 0,
    stsdBox(t), fullBox('stts', 0, 0, u32(0)), fullBox('stsc', 0, 0, u32(0)), fullBox('stsz', 0, 0, u32(0), u32(0)), fullBox('stco', 0, 0, u32(0))));

/** Init segment for the given tracks (one video and/or one audio). */
export function initSegment(tracks: TrackIndex[]): Buffer {
  const ftyp = box('ftyp', Buffer.from('iso6', 'latin1'), u32(0), Buffer.from('iso6cmfcdashmp41', 'latin1'));
  const trex = tracks.map((t) => fullBox('trex', 0, 0, u32(outputTrackId(t)), u32(1), u32(0), u32(0), u32(0)));
  return Buffer.concat([ftyp, box('moov', mvhdBox(0, 3), ...tracks.map(trak), box('mvex', ...trex))]);
}

interface TrafPlan {
  timing: TrackTiming;
  first: number;
  end: number;
  dataBytes: number;
}

const KEY_FLAGS = 0x02000000;
const NON_KEY_FLAGS = 0x01010000;

function trafBox(p: TrafPlan, dataOffset: number, keySet: (i: number) => boolean, outScale: number | undefined): Buffer {
  const t = p.timing.track;
  // MSS clients build their own init with the manifest's 10 MHz clock: rescale (cumulatively, so
  // rounding never drifts)
  const k = outScale ? outScale / t.timescale : 1;
  const at = (v: number): number => (k === 1 ? v : Math.round(v * k));
  const video = t.kind === 'video';
  const n = p.end - p.first;
  const entry = video ? 16 : 8;
  const trunPayload = Buffer.alloc(8 + n * entry);
  trunPayload.writeUInt32BE(n, 0);
  trunPayload.writeInt32BE(dataOffset, 4);
  let o = 8;
  for (let i = p.first; i < p.end; i++) {
    trunPayload.writeUInt32BE(at(dtsAt(t, i + 1) - p.timing.dtsBase) - at(t.dts[i] - p.timing.dtsBase), o);
    trunPayload.writeUInt32BE(t.size[i], o + 4);
    if (video) {
      trunPayload.writeUInt32BE(keySet(i) ? KEY_FLAGS : NON_KEY_FLAGS, o + 8);
      trunPayload.writeInt32BE(at((t.cto ? t.cto[i] : 0) - p.timing.ctoBase), o + 12);
    }
    o += entry;
  }
  const flags = video ? 0x000f01 : 0x000301;
  return box('traf',
    fullBox('tfhd', 0, 0x020000, u32(outputTrackId(t))),
    fullBox('tfdt', 1, 0, u64(Math.max(0, at(t.dts[p.first] - p.timing.dtsBase)))),
    fullBox('trun', video ? 1 : 0, flags, trunPayload));
}

const trafSize = (p: TrafPlan): number => 8 + 16 + 20 + 20 + (p.end - p.first) * (p.timing.track.kind === 'video' ? 16 : 8);

export interface FragmentOptions {
  /** 1-based fragment sequence number (mfhd). */
  sequence: number;
  /** DASH: styp + sidx before the moof. */
  dash: boolean;
  /** Write times in this timescale instead of the track's (MSS: 10,000,000). */
  timescale?: number;
}

/** Describes one media segment of a timeline for the chosen tracks (already chosen in the timeline). */
export function mediaSegment(tl: Timeline, seg: Segment, opts: FragmentOptions): MediaBody {
  return partsBody(fragmentParts(tl, seg, opts), tl.video && seg.video ? 'video/mp4' : 'audio/mp4');
}

/**
 * The video key frames of segment `segIndex`, each as a fragment of its own (moof + mdat of one
 * sample), one after the other in one body: an fMP4 I-frame playlist names each by byte range,
 * and each decodes after the video init segment. Ranges are by sample number.
 */
export function keyFrameFragments(tl: Timeline, segIndex: number): { body: MediaBody; ranges: Map<number, { offset: number; length: number }> } {
  const seg = tl.segments[segIndex];
  const ranges = new Map<number, { offset: number; length: number }>();
  const parts: Part[] = [];
  const v = tl.video;
  if (v && seg?.video) {
    const t = v.track;
    let offset = 0;
    for (let i = seg.video.first; i < seg.video.end; i++) {
      if (t.sync && !isKeyFrame(t, i)) continue;
      const one = fragmentParts(tl, { startMs: seg.startMs, durationMs: seg.durationMs, video: { first: i, end: i + 1 }, audio: null }, { sequence: i + 1, dash: false });
      const length = one.reduce((n, p) => n + p.length, 0);
      ranges.set(i, { offset, length });
      parts.push(...one);
      offset += length;
    }
  }
  return { body: partsBody(parts, 'video/mp4'), ranges };
}

function fragmentParts(tl: Timeline, seg: Segment, opts: FragmentOptions): Part[] {
  const plans: TrafPlan[] = [];
  const spans: Part[] = [];
  const keySets = new Map<TrackIndex, (i: number) => boolean>();
  for (const [timing, range] of [[tl.video, seg.video], [tl.audio, seg.audio]] as const) {
    if (!timing || !range || range.end <= range.first) continue;
    const t = timing.track;
    let bytes = 0;
    for (let i = range.first; i < range.end; i++) {
      bytes += t.size[i];
      spans.push({ offset: t.offset[i], length: t.size[i] });
    }
    plans.push({ timing, first: range.first, end: range.end, dataBytes: bytes });
    if (t.sync) {
      const s = new Set<number>();
      for (const k of t.sync) if (k >= range.first && k < range.end) s.add(k);
      keySets.set(t, (i) => s.has(i));
    } else keySets.set(t, () => true);
  }
  const moofSize = 8 + 16 + plans.reduce((n, p) => n + trafSize(p), 0);
  let dataOffset = moofSize + 8;
  const trafs = plans.map((p) => {
    const b = trafBox(p, dataOffset, keySets.get(p.timing.track)!, opts.timescale);
    dataOffset += p.dataBytes;
    return b;
  });
  const mfhd = fullBox('mfhd', 0, 0, u32(opts.sequence));
  const moof = box('moof', mfhd, ...trafs);
  if (moof.length !== moofSize) throw new Error(`moof size ${moof.length} != planned ${moofSize}`);
  const mdatBytes = plans.reduce((n, p) => n + p.dataBytes, 0);
  const mdatHead = mdatHeader(mdatBytes);
  const head: Buffer[] = [];
  if (opts.dash) {
    head.push(box('styp', Buffer.from('msdh', 'latin1'), u32(0), Buffer.from('msdhmsix', 'latin1')));
    const ref = plans[0];
    if (ref) {
      const t = ref.timing.track;
      const ept = Math.max(0, t.dts[ref.first] - ref.timing.dtsBase + (t.cto ? t.cto[ref.first] - ref.timing.ctoBase : 0));
      const dur = dtsAt(t, ref.end) - t.dts[ref.first];
      head.push(fullBox('sidx', 1, 0, u32(outputTrackId(t)), u32(t.timescale), u64(ept), u64(0), u16(0), u16(1),
        u32((moof.length + 8 + mdatBytes) & 0x7fffffff), u32(dur), u32(0x90000000)));
    }
  }
  return [...head, moof, mdatHead, ...spans];
}

