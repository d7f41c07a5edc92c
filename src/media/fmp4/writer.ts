// fMP4 (CMAF-style) output: an init segment (moov with mvex) and media segments
// (moof/traf/tfhd/tfdt/trun + mdat, preceded by styp and sidx for DASH). Headers come from the
// index alone; the mdat payload is a list of source byte spans.
// Encrypted: HLS AES-128 wraps a whole segment (crypto/cipher.ts). Common encryption (cenc, cbcs)
// changes the init segment's sample entries and adds pssh boxes, and adds saiz/saio/senc to each
// traf; a video traf's subsamples follow its NAL units, so describeMediaSegment reads the
// segment's samples before it can give the moof's size (crypto/cenc.ts).
import { answerKey, cachedBody, giveScratch, partsBody, readRegion, readSpan, takeOutput, worthOneRead, type MediaBody, type Part } from '../body.js';
import type { ByteSource } from '../source.js';
import { encryptTraf, planTrafEncryption, protectedSampleEntry, psshBoxes, rememberedSubsamples, rememberSubsamples, subsamplesOf, trackProtection, trafEncryptionBoxes, type SampleSpan, type Subsample, type TrafEncryption } from '../crypto/cenc.js';
import { aes128Body } from '../crypto/cipher.js';
import { checkEncryption, hlsSegmentIv, isCommonEncryption, type Encryption } from '../crypto/encryption.js';
import { MediaError } from '../errors.js';
import { dtsAt, isKeyFrame, syncSamplesIn, type TrackIndex } from '../mp4/index-types.js';
import type { Segment, Timeline, TrackTiming } from '../segment.js';
import { mdatHeader, mdiaBox, mvhdBox, stsdBox, tkhdBox } from './track-boxes.js';
import { box, fullBox, u16, u32, u64 } from './boxes.js';

/** Output track ids: fixed per kind, so separate video and audio inits never collide. */
const outputTrackId = (t: TrackIndex): number => (t.kind === 'video' ? 1 : 2);

// an init segment's tracks have no samples: durations 0, empty sample tables
const trak = (t: TrackIndex, enc?: Encryption): Buffer =>
  box('trak', tkhdBox(t, outputTrackId(t), 0), mdiaBox(t, 0,
    stsdBox(t, enc ? protectedSampleEntry(t, trackProtection(enc, t)) : t.sampleEntry), fullBox('stts', 0, 0, u32(0)), fullBox('stsc', 0, 0, u32(0)), fullBox('stsz', 0, 0, u32(0), u32(0)), fullBox('stco', 0, 0, u32(0))));

/**
 * Init segment for the given tracks (one video and/or one audio). With cenc/cbcs the sample
 * entries are protected (encv/enca + sinf) and the moov carries the systems' pssh boxes; HLS
 * AES-128 leaves the init segment in the clear (the playlist's EXT-X-KEY follows EXT-X-MAP).
 */
export function initSegment(tracks: TrackIndex[], enc?: Encryption): Buffer {
  const ftyp = box('ftyp', Buffer.from('iso6', 'latin1'), u32(0), Buffer.from('iso6cmfcdashmp41', 'latin1'));
  const trex = tracks.map((t) => fullBox('trex', 0, 0, u32(outputTrackId(t)), u32(1), u32(0), u32(0), u32(0)));
  if (enc) checkEncryption(enc);
  const common = enc && isCommonEncryption(enc) ? enc : undefined;
  return Buffer.concat([ftyp, box('moov', mvhdBox(0, 3), ...tracks.map((t) => trak(t, common)), box('mvex', ...trex), ...(common ? psshBoxes(common) : []))]);
}

interface TrafPlan {
  timing: TrackTiming;
  first: number;
  end: number;
  dataBytes: number;
}

const KEY_FLAGS = 0x02000000;
const NON_KEY_FLAGS = 0x01010000;

function trafBox(p: TrafPlan, dataOffset: number, keySet: (i: number) => boolean, outScale: number | undefined, extra: Buffer[] = []): Buffer {
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
    fullBox('trun', video ? 1 : 0, flags, trunPayload), ...extra);
}

const trafSize = (p: TrafPlan): number => 8 + 16 + 20 + 20 + (p.end - p.first) * (p.timing.track.kind === 'video' ? 16 : 8);

export interface FragmentOptions {
  /** 1-based fragment sequence number (mfhd). */
  sequence: number;
  /** DASH: styp + sidx before the moof. */
  dash: boolean;
  /** Write times in this timescale instead of the track's (MSS: 10,000,000). */
  timescale?: number;
  /**
   * HLS AES-128 (the segment's IV is its sequence number unless the description has one), or
   * cenc/cbcs, which only describeMediaSegment can describe.
   */
  encryption?: Encryption;
  /** Smooth Streaming: sample encryption in PIFF's uuid box with 8-byte IVs, as its clients expect. */
  piff?: boolean;
}

/** Describes one media segment of a timeline for the chosen tracks (already chosen in the timeline). */
export function mediaSegment(tl: Timeline, seg: Segment, opts: FragmentOptions): MediaBody {
  const enc = opts.encryption;
  if (enc) {
    checkEncryption(enc);
    if (enc.scheme === 'aes-128') return aes128Body(mediaSegment(tl, seg, { ...opts, encryption: undefined }), enc.key, hlsSegmentIv(enc, opts.sequence));
    throw new MediaError('BAD_ENCRYPTION', `${enc.scheme} segments are described by describeMediaSegment, which reads their samples`);
  }
  const make = (): MediaBody => partsBody(fragmentParts(tl, seg, opts), tl.video && seg.video ? 'video/mp4' : 'audio/mp4');
  // a segment of the timeline (not a one-frame fragment of keyFrameFragments) may be kept
  const n = tl.segments.indexOf(seg);
  return n < 0 ? make() : cachedBody(answerKey(tl, 'fmp4', n, opts.sequence, opts.dash, opts.timescale, !!opts.piff), make);
}

/**
 * The video key frames of segment `segIndex`, each as a fragment of its own (moof + mdat of one
 * sample), one after the other in one body: an fMP4 I-frame playlist names each by byte range,
 * and each decodes after the video init segment. Ranges are by sample number. Always clear: an
 * encrypted rendition must not offer I-frame playlists made of these.
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

/**
 * Bytes of a clear HLS fMP4 segment (moof and mdat), from the index alone: what HLS bit rates
 * weigh. The sizes fragmentParts plans (trafSize, the mdat header), without making its boxes or
 * spans: an HLS master weighs every segment of a file.
 */
export function fragmentLength(tl: Timeline, seg: Segment): number {
  let moof = 8 + 16;
  let data = 0;
  for (const [timing, range] of [[tl.video, seg.video], [tl.audio, seg.audio]] as const) {
    if (!timing || !range || range.end <= range.first) continue;
    let bytes = 0;
    for (let i = range.first; i < range.end; i++) bytes += timing.track.size[i];
    moof += trafSize({ timing, first: range.first, end: range.end, dataBytes: bytes });
    data += bytes;
  }
  return moof + mdatHeader(data).length + data;
}

/** A clear fragment as parts: made boxes, then the samples' spans in the source. */
function fragmentParts(tl: Timeline, seg: Segment, opts: FragmentOptions): Part[] {
  const { plans, spans, keySets } = planTrafs(tl, seg);
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
  return [...segmentHead(plans, opts, moof.length + 8 + mdatBytes), moof, mdatHeader(mdatBytes), ...spans];
}

/** DASH: styp and sidx (one reference: the whole segment of referencedBytes after the sidx). */
function segmentHead(plans: TrafPlan[], opts: FragmentOptions, referencedBytes: number): Buffer[] {
  const head: Buffer[] = [];
  if (opts.dash) {
    head.push(box('styp', Buffer.from('msdh', 'latin1'), u32(0), Buffer.from('msdhmsix', 'latin1')));
    const ref = plans[0];
    if (ref) {
      const t = ref.timing.track;
      const ept = Math.max(0, t.dts[ref.first] - ref.timing.dtsBase + (t.cto ? t.cto[ref.first] - ref.timing.ctoBase : 0));
      const dur = dtsAt(t, ref.end) - t.dts[ref.first];
      head.push(fullBox('sidx', 1, 0, u32(outputTrackId(t)), u32(t.timescale), u64(ept), u64(0), u16(0), u16(1),
        u32(referencedBytes & 0x7fffffff), u32(dur), u32(0x90000000)));
    }
  }
  return head;
}

function planTrafs(tl: Timeline, seg: Segment): { plans: TrafPlan[]; spans: Part[]; keySets: Map<TrackIndex, (i: number) => boolean> } {
  const plans: TrafPlan[] = [];
  const spans: Part[] = [];
  const keySets = new Map<TrackIndex, (i: number) => boolean>();
  for (const [timing, range] of [[tl.video, seg.video], [tl.audio, seg.audio]] as const) {
    if (!timing || !range || range.end <= range.first) continue;
    const t = timing.track;
    let bytes = 0;
    // consecutive samples of a chunk are one span (partsBody would merge them anyway): a few
    // dozen objects per fragment instead of one per sample
    let last: { offset: number; length: number } | null = null;
    for (let i = range.first; i < range.end; i++) {
      const size = t.size[i];
      const offset = t.offset[i];
      bytes += size;
      if (last && last.offset + last.length === offset) last.length += size;
      else if (size > 0) spans.push((last = { offset, length: size }));
    }
    plans.push({ timing, first: range.first, end: range.end, dataBytes: bytes });
    const s = syncSamplesIn(t, range.first, range.end);
    keySets.set(t, s ? (i) => s.has(i) : () => true);
  }
  return { plans, spans, keySets };
}


/** Reads the given samples' bytes: one pread when they sit together (an interleaved file), else one each. */
async function readSamples(source: ByteSource, list: Array<{ offset: number; size: number }>): Promise<{ bytes: (k: number) => Buffer; done: () => void }> {
  let lo = Infinity;
  let hi = 0;
  let want = 0;
  for (const s of list) {
    lo = Math.min(lo, s.offset);
    hi = Math.max(hi, s.offset + s.size);
    want += s.size;
  }
  if (list.length && worthOneRead(hi - lo, want, list.length)) {
    const region = await readRegion(source, lo, hi);
    return { bytes: (k) => region.subarray(list[k].offset - lo, list[k].offset - lo + list[k].size), done: () => giveScratch(region) };
  }
  const each: Buffer[] = [];
  for (const s of list) {
    each.push(await readSpan(source, s.offset, s.size));
  }
  return { bytes: (k) => each[k], done: () => {} };
}

const samplesOf = (p: TrafPlan): Array<{ offset: number; size: number }> => {
  const t = p.timing.track;
  const out = [];
  for (let i = p.first; i < p.end; i++) out.push({ offset: t.offset[i], size: t.size[i] });
  return out;
};

/**
 * Describes a media segment whatever its encryption. cenc/cbcs read the segment's video samples
 * through the source first: their NAL units decide the subsamples, hence the size of the moof. The other
 * kinds are described from the index alone (the source is not read).
 */
export async function describeMediaSegment(tl: Timeline, seg: Segment, opts: FragmentOptions, source: ByteSource): Promise<MediaBody> {
  const enc = opts.encryption;
  if (!enc || !isCommonEncryption(enc)) return mediaSegment(tl, seg, opts);
  checkEncryption(enc);
  const piff = !!opts.piff;
  if (piff && enc.scheme !== 'cenc') throw new MediaError('BAD_ENCRYPTION', 'Smooth Streaming is encrypted with cenc only');
  const { plans, keySets } = planTrafs(tl, seg);
  const all = plans.flatMap(samplesOf);
  const protections = plans.map((p) => trackProtection(enc, p.timing.track, piff));
  // layouts worked out before are remembered; otherwise the samples are read (and kept for the
  // first produce: a GET follows at once)
  const known = plans.map((p, n) => {
    if (!protections[n].nal) return [];
    const subs: Array<Subsample[] | null> = [];
    for (let i = p.first; i < p.end; i++) subs.push(rememberedSubsamples(p.timing.track, i));
    return subs;
  });
  let kept = known.some((subs) => subs.includes(null)) ? await readSamples(source, all) : null;
  const tes: TrafEncryption[] = [];
  let k = 0;
  try {
    plans.forEach((p, n) => {
      const tp = protections[n];
      const t = p.timing.track;
      const subs: Array<Subsample[] | null> = [];
      for (let i = p.first; i < p.end; i++, k++) {
        if (!tp.nal) {
          subs.push(null);
          continue;
        }
        let s = known[n][i - p.first];
        if (!s) rememberSubsamples(t, i, (s = subsamplesOf(kept!.bytes(k), tp)!));
        subs.push(s);
      }
      tes.push(planTrafEncryption(tp, t, p.first, p.end, subs, piff));
    });
  } catch (err) {
    kept?.done();
    throw err;
  }
  const moofSize = 8 + 16 + plans.reduce((n, p, k) => n + trafSize(p) + tes[k].saizSaioBytes + tes[k].sencBytes, 0);
  let dataOffset = moofSize + 8;
  let trafAt = 8 + 16;
  const trafs = plans.map((p, k) => {
    const te = tes[k];
    const b = trafBox(p, dataOffset, keySets.get(p.timing.track)!, opts.timescale, trafEncryptionBoxes(te, trafAt + trafSize(p) + te.saizSaioBytes));
    trafAt += b.length;
    dataOffset += p.dataBytes;
    return b;
  });
  const moof = box('moof', fullBox('mfhd', 0, 0, u32(opts.sequence)), ...trafs);
  if (moof.length !== moofSize) throw new Error(`moof size ${moof.length} != planned ${moofSize}`);
  const mdatBytes = plans.reduce((n, p) => n + p.dataBytes, 0);
  const head = Buffer.concat([...segmentHead(plans, opts, moof.length + 8 + mdatBytes), moof, mdatHeader(mdatBytes)]);
  const length = head.length + mdatBytes;
  return {
    length,
    contentType: tl.video && seg.video ? 'video/mp4' : 'audio/mp4',
    async *produce(source, start, endInclusive) {
      if (endInclusive < head.length) {
        yield head.subarray(start, endInclusive + 1);
        return;
      }
      // samples are encrypted whole (CTR runs and CBC chains span them): the answer is made whole
      const out = takeOutput(length);
      head.copy(out, 0);
      const read = kept ?? (await readSamples(source, all));
      kept = null;
      try {
        let at = head.length;
        let k = 0;
        plans.forEach((p, n) => {
          const spans: SampleSpan[] = [];
          const sources: Buffer[] = [];
          for (let i = p.first; i < p.end; i++, k++) {
            const b = read.bytes(k);
            sources.push(b);
            spans.push({ at, size: b.length });
            at += b.length;
          }
          encryptTraf(tes[n], out, spans, sources);
        });
      } finally {
        read.done();
      }
      yield out.subarray(start, endInclusive + 1);
    },
  };
}
