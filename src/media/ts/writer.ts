// MPEG-TS output for HLS: PAT/PMT, one PES per video access unit (Annex-B, an access unit
// delimiter first, SPS/PPS before key frames, PCR on each video PES), AAC as ADTS frames grouped a few per PES. The byte length is
// computed from the index before any sample is read (it depends only on sample sizes when NAL
// lengths are 4 bytes, the usual case), and continuity counters carry across segments so a
// player that concatenates segments sees one continuous stream.
// Encrypted: HLS AES-128 wraps the whole segment (crypto/cipher.ts); SAMPLE-AES encrypts inside the
// PES payloads as they are assembled (crypto/sample-aes.ts), with a few bytes of stuffing planned
// per video PES for the emulation prevention bytes encryption may add.
import { answerKey, cachedBody, giveScratch, readRegion, readSpan, releaseOutput, shortSource, takeOutput, worthOneRead, type MediaBody } from '../body.js';
import type { ByteSource } from '../source.js';
import { aes128Body, CbcRestarts } from '../crypto/cipher.js';
import { checkEncryption, hlsSegmentIv, type Encryption } from '../crypto/encryption.js';
import { encryptAdtsPayload, sampleAesDescriptors, STREAM_TYPE_AAC_SAMPLE_AES, STREAM_TYPE_AVC_SAMPLE_AES, sampleAesSlack, writeSampleAesNal } from '../crypto/sample-aes.js';
import { TS_VIDEO_ENTRIES, tsCarriesCodec } from '../codecs.js';
import { MediaError } from '../errors.js';
import { dtsAt, syncSamplesIn, type TrackIndex } from '../mp4/index-types.js';
import type { Segment, Timeline, TrackTiming } from '../segment.js';

const PKT = 188;
const PID_PMT = 0x1000;
const PID_VIDEO = 0x100;
const PID_AUDIO = 0x101;
/** Timestamps start 1.4 s in, as ffmpeg's muxer does, leaving room for B-frame reordering. */
export const TS_TIMESTAMP_OFFSET_90K = 126000;
const AUDIO_FRAMES_PER_PES = 8;
/**
 * Where the audio PES carry the PCR (a segment without video), each spans at most this long:
 * ISO/IEC 13818-1 (2.7.2) wants a PCR at least every 100 ms, and eight 48 kHz AAC frames are 171.
 * A PES holds at least one frame, so a frame longer than this (AAC at 8 or 11.025 kHz: 128 or
 * 93-116 ms) still leaves that long between two PCRs; not mended (it would take PCR-only packets).
 */
const PCR_INTERVAL_S = 0.1;

interface PesPlan {
  pid: number;
  /** PES stream_id: 0xE0 video, the audio's own (audioCarriage). */
  sid: number;
  /** Sample range (audio: several frames). */
  first: number;
  end: number;
  pts: number;
  dts: number;
  /** PES payload size (after the PES header). */
  esBytes: number;
  pcr: boolean;
  /** Room planned beyond esBytes (SAMPLE-AES video: emulation prevention added by encryption). */
  slack: number;
}

const isHevc = (t: TrackIndex): boolean => t.format === 'hvc1' || t.format === 'hev1';

// Access unit delimiters, written (start code included) at the head of every video PES.
// Chromium's MPEG-2 TS demuxer (the one its <video> uses for native HLS) finds where an access
// unit ends by the next AUD: without them the element fails with DEMUXER_ERROR_COULD_NOT_PARSE
// (test/e2e/native-hls-ts.test.ts). H.264: NAL type 9, primary_pic_type 7 (any slice type) and
// the stop bit; HEVC: NAL type 35, layer 0, temporal id 1, pic_type 2 (any) and the stop bit.
// MP4 samples normally carry no AUD, but some keep their own: an MP4 remuxed from TS (an HLS
// recording, `ffmpeg -c copy`) at the head of each sample, x264's `aud=1` after the first frame's
// SEI. A second AUD would open a second, empty access unit, so a sample's own AUDs become zero
// bytes right after kdeliver's (trailing zeros of that NAL unit, which H.264 and HEVC byte
// streams allow): one AUD per access unit, and the segment's size still follows from the index
// alone (SAMPLE-AES, whose sizes are made as it writes, leaves them out instead).
const AVC_AUD = Buffer.from([0, 0, 0, 1, 0x09, 0xf0]);
const HEVC_AUD = Buffer.from([0, 0, 0, 1, 0x46, 0x01, 0x50]);
const NO_AUD = Buffer.alloc(0);
function audOf(t: TrackIndex): Buffer {
  if (isHevc(t)) return HEVC_AUD;
  return t.format === 'avc1' || t.format === 'avc3' ? AVC_AUD : NO_AUD;
}

/** Whether a NAL unit whose header starts with byte `h` is an AUD (H.264 type 9, HEVC 35). */
const isAud = (t: TrackIndex, h: number): boolean => (isHevc(t) ? ((h >> 1) & 0x3f) === 35 : (h & 0x1f) === 9);

/**
 * Moves the AUDs of a video sample at b[at, stop) (4-byte NAL lengths, this answer's own copy) out
 * of it: the other NAL units keep their order and end at `stop`, and the bytes freed are zeros at
 * its head. Returns how many (0 for a sample without AUDs, or a track kdeliver adds none to).
 */
function gatherOwnAuds(b: Buffer, at: number, stop: number, t: TrackIndex): number {
  if (audOf(t).length === 0) return 0;
  let zeros = 0;
  for (let q = at; q + 4 < stop;) {
    const next = q + 4 + b.readUInt32BE(q);
    if (next > stop) break;
    if (next > q + 4 && isAud(t, b[q + 4])) {
      b.copyWithin(at + zeros + (next - q), at + zeros, q);
      zeros += next - q;
      b.fill(0, at, at + zeros);
    }
    q = next;
  }
  return zeros;
}

const to90k = (v: number, ts: number): number => Math.round((v * 90000) / ts);

function videoEsSize(t: TrackIndex, i: number, key: boolean): number {
  let n = audOf(t).length + t.size[i];
  if (key) for (const ps of t.parameterSets) n += 4 + ps.length;
  return n;
}

/**
 * How an audio track travels in MPEG-TS: its PMT stream type and descriptors, its PES stream_id,
 * and the header each frame gains. AAC as ADTS frames (ISO/IEC 13818-7); MPEG-1/2 audio (MP3)
 * and AC-3 / E-AC-3 as their own self-synchronising frames, AC-3 family in private stream 1
 * with stream types 0x81 / 0x87 and the registration descriptor ATSC A/52 gives them, as HLS
 * asks. Anything else has no carriage here: fMP4 carries it.
 */
interface AudioCarriage {
  streamType: number;
  streamId: number;
  descriptors: number[];
  /** Bytes written before each frame (ADTS: 7). */
  header: number;
}

const AAC_CARRIAGE: AudioCarriage = { streamType: 0x0f, streamId: 0xc0, descriptors: [], header: 7 };
const registration = (id: string): number[] => [0x05, 4, ...Buffer.from(id, 'latin1')];

const AC3_CARRIAGE: AudioCarriage = { streamType: 0x81, streamId: 0xbd, descriptors: registration('AC-3'), header: 0 };
const EAC3_CARRIAGE: AudioCarriage = { streamType: 0x87, streamId: 0xbd, descriptors: registration('EAC3'), header: 0 };
const MPEG1_AUDIO_CARRIAGE: AudioCarriage = { streamType: 0x03, streamId: 0xc0, descriptors: [], header: 0 };
const MPEG2_AUDIO_CARRIAGE: AudioCarriage = { streamType: 0x04, streamId: 0xc0, descriptors: [], header: 0 };

/**
 * Asked for every frame written: constants, not made anew, and AAC found first. Its cases are
 * ../codecs.ts's TS_AUDIO_ENTRIES (test/media/codecs-ts-carriage.test.ts holds them together).
 */
function audioCarriage(t: TrackIndex): AudioCarriage {
  switch (t.format) {
    case 'ac-3': return AC3_CARRIAGE;
    case 'ec-3': return EAC3_CARRIAGE;
    case '.mp3': return MPEG1_AUDIO_CARRIAGE;
    case 'mp4a':
      // the esds object type: 0x6b MPEG-1 audio, 0x69 MPEG-2 audio (MP3 at the half rates), AAC;
      // another (AC-3 as 0xa5, DTS, ...) is refused, never sent as AAC (../codecs.ts)
      if (t.codecString.startsWith('mp4a.40.')) return AAC_CARRIAGE;
      if (t.codecString === 'mp4a.6b') return MPEG1_AUDIO_CARRIAGE;
      if (t.codecString === 'mp4a.69') return MPEG2_AUDIO_CARRIAGE;
      if (!tsCarriesCodec(t.codecString || 'mp4a')) throw noAudioCarriage(t);
      return AAC_CARRIAGE;
    default:
      throw noAudioCarriage(t);
  }
}

const noAudioCarriage = (t: TrackIndex): MediaError =>
  new MediaError('UNSUPPORTED', `MPEG-TS carries AAC, MP3, AC-3 and E-AC-3 audio, not ${t.codecString || t.format}; fMP4 (/container/fmp4/) carries it`);

/**
 * Whether MPEG-TS can carry the timeline's tracks (H.264 or HEVC video with 4-byte NAL lengths; AAC, MP3, AC-3
 * or E-AC-3 audio). An HLS master still lists a rendition it cannot (weighed by its samples), as
 * it did before it weighed TS segments; that rendition's own playlist and segments refuse it.
 */
export function tsCarries(tl: Timeline): boolean {
  try {
    if (tl.video) checkVideoCarriage(tl.video.track);
    if (tl.audio) audioCarriage(tl.audio.track);
    return true;
  } catch (e) {
    if (e instanceof MediaError) return false;
    throw e;
  }
}

function pesHeaderSize(p: PesPlan): number {
  return pesHeaderBytes(p.dts !== p.pts);
}
/** A PES header with a PTS, and a DTS too when they differ. */
const pesHeaderBytes = (withDts: boolean): number => 9 + (withDts ? 10 : 5);

/** TS packets needed for one PES of payloadBytes (PES header included). */
function packetsFor(payloadBytes: number, pcr: boolean): number {
  const first = 184 - (pcr ? 8 : 0);
  return payloadBytes <= first ? 1 : 1 + Math.ceil((payloadBytes - first) / 184);
}

function isKey(t: TrackIndex, keys: Set<number> | null, i: number): boolean {
  return !keys || keys.has(i);
}

/**
 * MPEG-TS carries H.264 (stream type 0x1b) and HEVC (0x24) video here, as HLS asks; any other
 * sample entry (VP9, AV1, MPEG-4 Part 2) would go out under H.264's stream type and decode as
 * garbage, so it is refused and fMP4 carries it (the sample entries are ../codecs.ts's, which the
 * delivery stage reads to choose fMP4 URLs). H.264 and HEVC need 4-byte NAL lengths.
 */
function checkVideoCarriage(t: TrackIndex): void {
  if (t.kind !== 'video') return;
  if (!TS_VIDEO_ENTRIES.has(t.format)) {
    throw new MediaError('UNSUPPORTED', `MPEG-TS carries H.264 and HEVC video, not ${t.codecString || t.format}; fMP4 (/container/fmp4/) carries it`);
  }
  if (t.nalLengthSize !== 4 && t.nalLengthSize !== 0) {
    // sizes would depend on NAL counts; not worth a second code path for a rare layout
    throw new MediaError('UNSUPPORTED', `MPEG-TS output needs 4-byte NAL lengths (this file uses ${t.nalLengthSize})`);
  }
}

function planSegment(tl: Timeline, seg: Segment, sampleAes = false): PesPlan[] {
  const out: PesPlan[] = [];
  const v = tl.video;
  const a = tl.audio;
  if (v && seg.video) {
    const t = v.track;
    checkVideoCarriage(t);
    const keys = syncSamplesIn(t, seg.video.first, seg.video.end);
    for (let i = seg.video.first; i < seg.video.end; i++) {
      const pes = videoPes(v, i, isKey(t, keys, i));
      if (sampleAes) pes.slack = sampleAesSlack(pes.esBytes);
      out.push(pes);
    }
  }
  if (a && seg.audio) {
    const t = a.track;
    const audio: PesPlan[] = [];
    const sid = audioCarriage(t).streamId;
    const pcr = !v || !seg.video;
    forEachAudioPes(tl, seg, (first, end, esBytes) => {
      const pts = TS_TIMESTAMP_OFFSET_90K + to90k(Math.max(0, t.dts[first] - a.dtsBase), t.timescale);
      audio.push({ pid: PID_AUDIO, sid, first, end, pts, dts: pts, esBytes, pcr, slack: 0 });
    });
    // interleave by decode time so a demuxer never waits long on one stream
    const merged: PesPlan[] = [];
    let vi = 0;
    let ai = 0;
    while (vi < out.length || ai < audio.length) {
      if (ai >= audio.length || (vi < out.length && out[vi].dts <= audio[ai].dts)) merged.push(out[vi++]);
      else merged.push(audio[ai++]);
    }
    return merged;
  }
  return out;
}

/**
 * The audio PES of a segment, in order: `frames` frames from `first` to `end` each, at most
 * AUDIO_FRAMES_PER_PES, and when audio carries the PCR (no video) at most PCR_INTERVAL_S of it,
 * since the next PES (and PCR) starts where one's last frame ends. `esBytes`: the frames with the
 * header the carriage gives each.
 */
function forEachAudioPes(tl: Timeline, seg: Segment, pes: (first: number, end: number, esBytes: number) => void): void {
  const t = tl.audio!.track;
  const header = audioCarriage(t).header;
  const span = !tl.video || !seg.video ? PCR_INTERVAL_S * t.timescale : Infinity;
  for (let i = seg.audio!.first; i < seg.audio!.end;) {
    let end = i + 1;
    while (end < seg.audio!.end && end - i < AUDIO_FRAMES_PER_PES && dtsAt(t, end + 1) - t.dts[i] <= span) end++;
    let bytes = 0;
    for (let k = i; k < end; k++) bytes += header + t.size[k];
    pes(i, end, bytes);
    i = end;
  }
}

/** Video sample i's PES timestamps, 90 kHz: its presentation and its decode time. */
function videoPts(v: NonNullable<Timeline['video']>, i: number): number {
  const t = v.track;
  return TS_TIMESTAMP_OFFSET_90K + to90k(t.dts[i] - v.dtsBase + (t.cto ? t.cto[i] : 0) - v.ctoBase, t.timescale);
}
function videoDts(v: NonNullable<Timeline['video']>, i: number): number {
  const t = v.track;
  return TS_TIMESTAMP_OFFSET_90K + to90k(t.dts[i] - v.dtsBase - v.ctoBase, t.timescale);
}

/** The PES of video sample i (one frame per PES; a key frame carries the parameter sets before it). */
function videoPes(v: NonNullable<Timeline['video']>, i: number, key: boolean): PesPlan {
  return { pid: PID_VIDEO, sid: 0xe0, first: i, end: i + 1, pts: videoPts(v, i), dts: videoDts(v, i), esBytes: videoEsSize(v.track, i, key), pcr: true, slack: 0 };
}

/**
 * Bytes of the packets that carry key frame i in a clear segment: its own PES, which is never
 * interleaved, so the count does not depend on what comes before it in the segment (the length
 * tsKeyFrameRanges gives, without laying the segment out).
 */
export function tsKeyFrameLength(tl: Timeline, i: number): number {
  const p = videoPes(tl.video!, i, true);
  return packetsFor(pesHeaderSize(p) + p.esBytes + p.slack, p.pcr) * PKT;
}

function segmentPacketCounts(plans: PesPlan[]): { video: number; audio: number } {
  let video = 0;
  let audio = 0;
  for (const p of plans) {
    const n = packetsFor(pesHeaderSize(p) + p.esBytes + p.slack, p.pcr);
    if (p.pid === PID_VIDEO) video += n;
    else audio += n;
  }
  return { video, audio };
}

// ---- PSI ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 24;
    for (let k = 0; k < 8; k++) c = c & 0x80000000 ? (c << 1) ^ 0x04c11db7 : c << 1;
    t[i] = c >>> 0;
  }
  return t;
})();

function crc32(b: Uint8Array, start: number, end: number): number {
  let crc = 0xffffffff;
  for (let i = start; i < end; i++) crc = ((crc << 8) ^ CRC_TABLE[((crc >>> 24) ^ b[i]) & 0xff]) >>> 0;
  return crc >>> 0;
}

function psiPacket(out: Buffer, at: number, pid: number, cc: number, section: number[]): void {
  out.fill(0xff, at, at + PKT);
  out[at] = 0x47;
  out[at + 1] = 0x40 | (pid >> 8);
  out[at + 2] = pid & 0xff;
  out[at + 3] = 0x10 | (cc & 15);
  out[at + 4] = 0; // pointer field
  const s = Buffer.from(section);
  s.copy(out, at + 5);
  const crc = crc32(out, at + 5, at + 5 + s.length);
  out.writeUInt32BE(crc, at + 5 + s.length);
}

function patSection(): number[] {
  // table 0, section length 13, tsid 1, version 0 current, program 1 -> PMT
  return [0x00, 0xb0, 0x0d, 0x00, 0x01, 0xc1, 0x00, 0x00, 0x00, 0x01, 0xe0 | (PID_PMT >> 8), PID_PMT & 0xff];
}

function pmtSection(video: TrackIndex | null, audio: TrackIndex | null, sampleAes = false): number[] {
  const streams: number[] = [];
  const es = (type: number, pid: number, descriptors: number[]): void => {
    streams.push(type, 0xe0 | (pid >> 8), pid & 0xff, 0xf0 | (descriptors.length >> 8), descriptors.length & 0xff, ...descriptors);
  };
  if (video) es(sampleAes ? STREAM_TYPE_AVC_SAMPLE_AES : isHevc(video) ? 0x24 : 0x1b, PID_VIDEO, sampleAes ? sampleAesDescriptors(video) : []);
  if (audio) {
    const c = sampleAes ? null : audioCarriage(audio);
    es(c ? c.streamType : STREAM_TYPE_AAC_SAMPLE_AES, PID_AUDIO, c ? c.descriptors : sampleAesDescriptors(audio));
  }
  const pcrPid = video ? PID_VIDEO : PID_AUDIO;
  const len = 9 + streams.length + 4;
  return [0x02, 0xb0 | (len >> 8), len & 0xff, 0x00, 0x01, 0xc1, 0x00, 0x00, 0xe0 | (pcrPid >> 8), pcrPid & 0xff, 0xf0, 0x00, ...streams];
}

// ---- PES writing ----

function writeTimestamp(out: Buffer, at: number, marker: number, ts: number): void {
  const v = ts % 8589934592;
  const hi = Math.floor(v / 1073741824) & 7; // bits 32..30
  const mid = Math.floor(v / 32768) & 0x7fff; // bits 29..15
  const lo = v & 0x7fff;
  out[at] = (marker << 4) | (hi << 1) | 1;
  out[at + 1] = mid >> 7;
  out[at + 2] = ((mid & 0x7f) << 1) | 1;
  out[at + 3] = lo >> 7;
  out[at + 4] = ((lo & 0x7f) << 1) | 1;
}

function pesHeader(p: PesPlan): Buffer {
  const h = Buffer.alloc(pesHeaderSize(p));
  writePesHeader(h, p);
  return h;
}

/** Writes p's PES header at the start of h (every byte of it); returns its length. */
function writePesHeader(h: Buffer, p: PesPlan): number {
  const both = p.dts !== p.pts;
  const n = pesHeaderSize(p);
  h[0] = 0;
  h[1] = 0;
  h[2] = 1;
  h[3] = p.sid;
  const len = p.pid === PID_VIDEO ? 0 : n - 6 + p.esBytes;
  h.writeUInt16BE(len > 0xffff ? 0 : len, 4);
  h[6] = 0x80;
  h[7] = both ? 0xc0 : 0x80;
  h[8] = both ? 10 : 5;
  writeTimestamp(h, 9, both ? 3 : 2, p.pts);
  if (both) writeTimestamp(h, 14, 1, p.dts);
  return n;
}

/**
 * A packet's 4-byte header and adaptation field (the PCR when `pcr`, then `stuff` bytes of
 * stuffing) at `at`, for the packets that are not the common header-plus-184-bytes kind: a PES's
 * first packet and its short last one. Returns where the packet's payload starts.
 */
function writePacketHead(out: Buffer, at: number, pidHi: number, pidLo: number, first: boolean, pcr: boolean, stuff: number, cc: number, pcrBase: number): number {
  const adaptLen = (pcr ? 8 : 0) + stuff; // adaptation field bytes, its length byte included
  out[at] = 0x47;
  out[at + 1] = (first ? 0x40 : 0) | pidHi;
  out[at + 2] = pidLo;
  out[at + 3] = (adaptLen > 0 ? 0x30 : 0x10) | cc;
  const o = at + 4;
  if (adaptLen > 0) {
    out[o] = adaptLen - 1;
    if (adaptLen > 1) {
      out[o + 1] = pcr ? 0x10 : 0;
      let f = o + 2;
      if (pcr) {
        const base = pcrBase % 8589934592;
        out.writeUInt32BE(Math.floor(base / 2), f);
        out[f + 4] = ((base & 1) << 7) | 0x7e;
        out[f + 5] = 0;
        f += 6;
      }
      out.fill(0xff, f, o + adaptLen);
    }
  }
  return o + adaptLen;
}

/**
 * Packetizes one PES (header + es) into out at `at`; returns the new position. With `packets`, the
 * payload fills exactly that many packets (shorter than planned: more stuffing in the last ones).
 */
function writePes(out: Buffer, at: number, p: PesPlan, payloadAt: number, payloadLength: number, cc: number, pcrBase: number, packets?: number): { at: number; cc: number } {
  // The payload was written into `out` at the end of this PES's packets; each packet's share
  // moves forward into place (copyWithin: no view per packet). A packet's header and payload
  // land before bytes not yet moved, since the payload starts at least a header's length ahead.
  const pidHi = p.pid >> 8;
  const pidLo = p.pid & 0xff;
  let pos = 0;
  let first = true;
  // packets still to write after the current one, each owed at least one payload byte
  let after = packets === undefined ? 0 : packets - 1;
  while (pos < payloadLength) {
    const left = payloadLength - pos;
    if (!first && left - after >= 184) {
      // the common packet: 4 header bytes and 184 payload bytes, no adaptation field
      out[at] = 0x47;
      out[at + 1] = pidHi;
      out[at + 2] = pidLo;
      out[at + 3] = 0x10 | cc;
      out.copyWithin(at + 4, payloadAt + pos, payloadAt + pos + 184);
      pos += 184;
      at += PKT;
      cc = (cc + 1) & 15;
      if (after > 0) after--;
      continue;
    }
    const pcr = first && p.pcr;
    const room = 184 - (pcr ? 8 : 0);
    const take = Math.min(room, left - after);
    const o = writePacketHead(out, at, pidHi, pidLo, first, pcr, room - take, cc, pcrBase);
    out.copyWithin(o, payloadAt + pos, payloadAt + pos + take);
    pos += take;
    at += PKT;
    cc = (cc + 1) & 15;
    first = false;
    if (after > 0) after--;
  }
  return { at, cc };
}

/**
 * Writes the packets of one PES whose payload is streamed in afterwards: every header, adaptation
 * field and stuffing byte exactly as writePes lays them out (PCR in the first packet, stuffing in
 * the last), recording in `slots` where each packet's payload starts (it always runs to the
 * packet's end). Returns the number of packets.
 */
function writePesHeaders(out: Buffer, at: number, p: PesPlan, payloadLength: number, cc: number, pcrBase: number, slots: Int32Array): number {
  const pidHi = p.pid >> 8;
  const pidLo = p.pid & 0xff;
  let pos = 0;
  let j = 0;
  while (pos < payloadLength) {
    const left = payloadLength - pos;
    if (j > 0 && left >= 184) {
      out[at] = 0x47;
      out[at + 1] = pidHi;
      out[at + 2] = pidLo;
      out[at + 3] = 0x10 | cc;
      slots[j] = at + 4;
      pos += 184;
    } else {
      const pcr = j === 0 && p.pcr;
      const room = 184 - (pcr ? 8 : 0);
      const take = Math.min(room, left);
      slots[j] = writePacketHead(out, at, pidHi, pidLo, j === 0, pcr, room - take, cc, pcrBase);
      pos += take;
    }
    at += PKT;
    cc = (cc + 1) & 15;
    j++;
  }
  return j;
}

let slotList = new Int32Array(4096);
const pesHeaderScratch = Buffer.alloc(32);

/**
 * The clear TS fast path: writes the chosen PES of a segment into `out`, whose source region
 * (the chosen samples' bytes) sits in the same buffer, source offset x at out[x + regionShift].
 * Video samples' 4-byte NAL lengths become start codes in the region itself (it is this answer's
 * own copy), then every packet's payload is copied from the region into place with copyWithin.
 */
function writePesFromRegion(out: Buffer, regionShift: number, plans: PesPlan[], chosen: number[], pktStart: number[], pkts: number, base: number, ccStart: number[], video: TrackIndex | null, audio: TrackIndex | null, vKeys: Set<number> | null): void {
  let slot = 0;
  let pos = 0;
  let end = 0;
  let pesAt = 0;
  let put = 0;
  const next = (): void => {
    slot++;
    pos = slotList[slot];
    end = pesAt + (slot + 1) * PKT;
  };
  const putBytes = (b: Uint8Array, from: number, to: number): void => {
    for (let i = from; i < to; i++) {
      if (pos === end) next();
      out[pos++] = b[i];
    }
    put += to - from;
  };
  const putRegion = (from: number, len: number): void => {
    put += len;
    while (len > 0) {
      if (pos === end) next();
      const n = Math.min(len, end - pos);
      out.copyWithin(pos, from, from + n);
      pos += n;
      from += n;
      len -= n;
    }
  };
  const startCode = Buffer.from([0, 0, 0, 1]);
  const adts = Buffer.alloc(7);
  for (const k of chosen) {
    const p = plans[k];
    const endPkt = k + 1 < plans.length ? pktStart[k + 1] : pkts;
    const hlen = writePesHeader(pesHeaderScratch, p);
    const total = hlen + p.esBytes;
    if (slotList.length < endPkt - pktStart[k]) slotList = new Int32Array((endPkt - pktStart[k]) * 2);
    pesAt = pktStart[k] * PKT - base;
    const n = writePesHeaders(out, pesAt, p, total, ccStart[k], Math.max(0, p.dts - 900), slotList);
    if (n !== endPkt - pktStart[k]) throw new Error(`PES of ${n} packets, planned ${endPkt - pktStart[k]}`);
    slot = 0;
    pos = slotList[0];
    end = pesAt + PKT;
    put = 0;
    putBytes(pesHeaderScratch, 0, hlen);
    if (p.pid === PID_VIDEO) {
      const t = video!;
      const aud = audOf(t);
      putBytes(aud, 0, aud.length);
      const at = t.offset[p.first] + regionShift;
      const stop = at + t.size[p.first];
      // the sample's own AUDs, as zeros after kdeliver's (see AVC_AUD above)
      const own = gatherOwnAuds(out, at, stop, t);
      putRegion(at, own);
      if (isKey(t, vKeys, p.first)) {
        for (const ps of t.parameterSets) {
          putBytes(startCode, 0, 4);
          putBytes(ps, 0, ps.length);
        }
      }
      for (let q = at + own; q + 4 <= stop;) {
        const len = out.readUInt32BE(q);
        out.writeUInt32BE(1, q);
        q += 4 + len;
      }
      putRegion(at + own, t.size[p.first] - own);
    } else {
      const t = audio!;
      const withAdts = audioCarriage(t).header > 0;
      for (let i = p.first; i < p.end; i++) {
        const size = t.size[i];
        if (withAdts) putBytes(adts, 0, writeAdtsHeader(adts, 0, t, size));
        putRegion(t.offset[i] + regionShift, size);
      }
    }
    if (put !== total || pos !== end || slot !== n - 1) throw new Error(`PES of ${put} bytes, planned ${total}`);
  }
}

/** Writes a video access unit as Annex-B at `at` (its delimiter, then parameter sets on key frames); returns the end. */
function writeAnnexB(dst: Buffer, at: number, t: TrackIndex, sample: Buffer, key: boolean): number {
  const aud = audOf(t);
  dst.set(aud, at);
  at += aud.length;
  // the sample goes after the parameter sets' room; its own AUDs, gathered there as zeros, then
  // go right after kdeliver's (see AVC_AUD above), and the parameter sets after them
  let psBytes = 0;
  if (key) for (const ps of t.parameterSets) psBytes += 4 + ps.length;
  dst.set(sample, at + psBytes);
  const own = gatherOwnAuds(dst, at + psBytes, at + psBytes + sample.length, t);
  dst.fill(0, at, at + own);
  at += own;
  if (key) {
    for (const ps of t.parameterSets) {
      dst.writeUInt32BE(1, at);
      dst.set(ps, at + 4);
      at += 4 + ps.length;
    }
  }
  // NAL lengths are 4 bytes (checked when planning): each becomes a start code in place
  const start = at;
  const end = at + sample.length - own;
  while (at + 4 <= end) {
    const len = dst.readUInt32BE(at);
    dst.writeUInt32BE(1, at);
    at += 4 + len;
  }
  return Math.max(end, start);
}

/**
 * The ADTS header's profile (object type - 1, two bits). HE-AAC (SBR, 5) and HE-AAC v2 (PS, 29)
 * signalled explicitly in the AudioSpecificConfig are an AAC-LC core whose extension ADTS cannot
 * name: the header says LC, at the core's sampling rate (the config's first index, which the
 * reader keeps), and decoders find the SBR data in the frames. 5 - 1 made it 3, AAC-LTP.
 */
function adtsProfile(t: TrackIndex): number {
  const core = t.aacObjectType === 5 || t.aacObjectType === 29 ? 2 : t.aacObjectType || 2;
  return Math.max(0, Math.min(3, core - 1));
}

/** The 7-byte ADTS header of an AAC frame of `frameBytes`, at `at` of `dst`; returns its length. */
function writeAdtsHeader(dst: Buffer, at: number, t: TrackIndex, frameBytes: number): number {
  const len = frameBytes + 7;
  dst[at] = 0xff;
  dst[at + 1] = 0xf1;
  dst[at + 2] = (adtsProfile(t) << 6) | ((t.aacFreqIndex & 15) << 2) | ((t.aacChannelConfig >> 2) & 1);
  dst[at + 3] = ((t.aacChannelConfig & 3) << 6) | ((len >> 11) & 3);
  dst[at + 4] = (len >> 3) & 0xff;
  dst[at + 5] = ((len & 7) << 5) | 0x1f;
  dst[at + 6] = 0xfc;
  return 7;
}

/** Writes one audio frame at `at` as MPEG-TS carries it (AAC behind its ADTS header); returns the end. */
function writeAudioFrame(dst: Buffer, at: number, t: TrackIndex, frame: Buffer): number {
  const header = audioCarriage(t).header > 0 ? writeAdtsHeader(dst, at, t, frame.length) : 0;
  dst.set(frame, at + header);
  return at + header + frame.length;
}

/**
 * Continuity counters at the start of segment `segIndex`: the packets every earlier segment
 * put on each PID, modulo 16. Computed from the index, so any segment can be served alone.
 */
const counterMemo = new WeakMap<Timeline, Array<{ video: number; audio: number }>>();
const sampleAesCounterMemo = new WeakMap<Timeline, Array<{ video: number; audio: number }>>();

function startCounters(tl: Timeline, segIndex: number, sampleAes: boolean): { video: number; audio: number } {
  // computed once per timeline for every segment (timelines are cached with their index)
  const memo = sampleAes ? sampleAesCounterMemo : counterMemo;
  let starts = memo.get(tl);
  if (!starts) {
    starts = [];
    let video = 0;
    let audio = 0;
    for (let s = 0; s < tl.segments.length; s++) {
      starts.push({ video: video & 15, audio: audio & 15 });
      const c = segmentPacketCounts(planSegment(tl, tl.segments[s], sampleAes));
      video += c.video;
      audio += c.audio;
    }
    memo.set(tl, starts);
  }
  return starts[segIndex];
}

/** Where each PES of a segment starts (in packets, after the PAT and PMT) and the packet total. */
function packetLayout(plans: PesPlan[]): { pktStart: number[]; pkts: number } {
  const pktStart: number[] = [];
  let pkts = 2;
  for (const p of plans) {
    pktStart.push(pkts);
    pkts += packetsFor(pesHeaderSize(p) + p.esBytes + p.slack, p.pcr);
  }
  return { pktStart, pkts };
}

/**
 * Bytes of a clear segment (PAT, PMT and its PES packets), from the index alone: what HLS bit
 * rates weigh. The packets planSegment's PES need, counted without making its plan (an HLS master
 * weighs every segment of a file: 550,000 plans for a 2-hour one); the order of the PES does not
 * change how many packets each needs.
 */
export function tsSegmentLength(tl: Timeline, seg: Segment): number {
  let pkts = 2; // PAT, PMT
  const v = tl.video;
  if (v && seg.video) {
    const t = v.track;
    checkVideoCarriage(t);
    const keys = syncSamplesIn(t, seg.video.first, seg.video.end);
    for (let i = seg.video.first; i < seg.video.end; i++) {
      pkts += packetsFor(pesHeaderBytes(videoPts(v, i) !== videoDts(v, i)) + videoEsSize(t, i, isKey(t, keys, i)), true);
    }
  }
  if (tl.audio && seg.audio) {
    const pcr = !v || !seg.video;
    forEachAudioPes(tl, seg, (_first, _end, esBytes) => {
      pkts += packetsFor(pesHeaderBytes(false) + esBytes, pcr);
    });
  }
  return pkts * PKT;
}

/** Bytes of the PAT and PMT that open every segment: a segment's Media Initialization Section. */
export const TS_INIT_BYTES = 2 * PKT;

/**
 * The byte range of each video key frame's PES in segment `segIndex`, by sample number: what an
 * I-frame playlist names. Its packets are contiguous (one PES is never interleaved), and the
 * parameter sets are written before every key frame, so the range decodes alone after the
 * segment's PAT and PMT. Ranges of the clear segment: an encrypted rendition must not offer
 * I-frame playlists made of these.
 */
export function tsKeyFrameRanges(tl: Timeline, segIndex: number): Map<number, { offset: number; length: number }> {
  const seg = tl.segments[segIndex];
  const out = new Map<number, { offset: number; length: number }>();
  const v = tl.video;
  if (!v || !seg?.video) return out;
  const plans = planSegment(tl, seg);
  const { pktStart, pkts } = packetLayout(plans);
  const keys = syncSamplesIn(v.track, seg.video.first, seg.video.end);
  plans.forEach((p, k) => {
    if (p.pid !== PID_VIDEO || !isKey(v.track, keys, p.first)) return;
    const end = k + 1 < plans.length ? pktStart[k + 1] : pkts;
    out.set(p.first, { offset: pktStart[k] * PKT, length: (end - pktStart[k]) * PKT });
  });
  return out;
}

export interface TsEncryption {
  encryption: Encryption;
  /** The segment's media sequence number in its playlist: its IV when the description has none. */
  sequence: number;
}

/**
 * Describes segment `segIndex` of the timeline as an MPEG-TS body, encrypted when asked: HLS
 * AES-128 (the whole segment) or SAMPLE-AES (H.264 and AAC samples).
 */
export function tsSegment(tl: Timeline, segIndex: number, enc?: TsEncryption): MediaBody {
  if (!enc) return cachedBody(answerKey(tl, 'ts', segIndex), () => tsSegmentBody(tl, segIndex));
  return tsSegmentBody(tl, segIndex, enc);
}

function tsSegmentBody(tl: Timeline, segIndex: number, enc?: TsEncryption): MediaBody {
  if (enc) checkEncryption(enc.encryption);
  if (enc?.encryption.scheme === 'aes-128') return aes128Body(tsSegment(tl, segIndex), enc.encryption.key, hlsSegmentIv(enc.encryption, enc.sequence));
  if (enc && enc.encryption.scheme !== 'sample-aes') throw new MediaError('BAD_ENCRYPTION', `${enc.encryption.scheme} applies to fMP4, not MPEG-TS`);
  const sampleAes = enc ? { key: enc.encryption.key, iv: hlsSegmentIv(enc.encryption, enc.sequence) } : null;
  if (sampleAes) {
    for (const t of [tl.video?.track, tl.audio?.track]) {
      if (t && t.kind === 'video' && (isHevc(t) || t.nalLengthSize === 0)) throw new MediaError('UNSUPPORTED', `SAMPLE-AES MPEG-TS carries H.264 only (this video is ${t.format}); use fMP4 with cbcs`);
      if (t && t.kind === 'audio' && audioCarriage(t) !== AAC_CARRIAGE) throw new MediaError('UNSUPPORTED', `SAMPLE-AES MPEG-TS carries AAC only (this audio is ${t.codecString || t.format})`);
    }
  }
  const seg = tl.segments[segIndex];
  const plans = planSegment(tl, seg, !!sampleAes);
  const vTiming: TrackTiming | null = tl.video;
  const aTiming: TrackTiming | null = tl.audio;
  // packet layout from the index alone: where each PES starts and its first continuity counter
  const cc0 = startCounters(tl, segIndex, !!sampleAes);
  const { pktStart, pkts } = packetLayout(plans);
  const ccStart: number[] = [];
  let vc = cc0.video;
  let ac = cc0.audio;
  plans.forEach((p, k) => {
    const n = (k + 1 < plans.length ? pktStart[k + 1] : pkts) - pktStart[k];
    ccStart.push(p.pid === PID_VIDEO ? vc : ac);
    if (p.pid === PID_VIDEO) vc = (vc + n) & 15;
    else ac = (ac + n) & 15;
  });
  const length = pkts * PKT;
  const vKeys = vTiming && seg.video ? syncSamplesIn(vTiming.track, seg.video.first, seg.video.end) : null;

  return {
    length,
    contentType: 'video/MP2T',
    // only the PES packets a range touches are built (a Range request does not pay for the rest)
    async *produce(source: ByteSource, start: number, endInclusive: number) {
      const firstPkt = Math.floor(start / PKT);
      const lastPkt = Math.floor(endInclusive / PKT);
      const chosen: number[] = [];
      for (let k = 0; k < plans.length; k++) {
        const n = (k + 1 < plans.length ? pktStart[k + 1] : pkts) - pktStart[k];
        if (pktStart[k] + n > firstPkt && pktStart[k] <= lastPkt) chosen.push(k);
      }
      let fromPkt = Math.min(firstPkt, chosen.length ? pktStart[chosen[0]] : firstPkt);
      if (fromPkt < 2) fromPkt = 0;
      const toPkt = Math.max(fromPkt === 0 ? 2 : 0, lastPkt + 1, chosen.length ? (chosen[chosen.length - 1] + 1 < plans.length ? pktStart[chosen[chosen.length - 1] + 1] : pkts) : lastPkt + 1);
      // one read covering the chosen samples when they sit together, as in any interleaved
      // file; otherwise per-sample reads
      let lo = Infinity;
      let hi = 0;
      let want = 0;
      let samples = 0;
      for (const k of chosen) {
        const p = plans[k];
        const t = (p.pid === PID_VIDEO ? vTiming : aTiming)!.track;
        for (let i = p.first; i < p.end; i++) {
          lo = Math.min(lo, t.offset[i]);
          hi = Math.max(hi, t.offset[i] + t.size[i]);
          want += t.size[i];
          samples++;
        }
      }
      const oneRead = want > 0 && worthOneRead(hi - lo, want, samples);
      const outBytes = (toPkt - fromPkt) * PKT;
      const base = fromPkt * PKT;
      const writePsi = (out: Buffer): void => {
        if (fromPkt !== 0) return;
        psiPacket(out, 0, 0, segIndex, patSection());
        psiPacket(out, PKT, PID_PMT, segIndex, pmtSection(vTiming?.track ?? null, aTiming?.track ?? null, !!sampleAes));
      };
      if (oneRead && !sampleAes) {
        // The source region is read into the same buffer, behind the answer, and each packet's
        // payload is copied from it straight into place: one copy per byte, no scratch buffer.
        const whole = takeOutput(outBytes + hi - lo);
        try {
          const got = await source.read(lo, hi - lo, whole.subarray(outBytes, outBytes + hi - lo));
          if (got.length < hi - lo) throw shortSource();
          writePsi(whole);
          writePesFromRegion(whole, outBytes - lo, plans, chosen, pktStart, pkts, base, ccStart, vTiming?.track ?? null, aTiming?.track ?? null, vKeys);
        } catch (err) {
          releaseOutput(whole);
          throw err;
        }
        yield whole.subarray(start - base, endInclusive + 1 - base);
        return;
      }
      // every byte of every packet is written below (PSI fills, stuffing, payload)
      const out = takeOutput(outBytes);
      writePsi(out);
      const region = oneRead ? await readRegion(source, lo, hi) : null;
      const inRegion = (t: TrackIndex, i: number): Buffer | null => (region ? region.subarray(t.offset[i] - lo, t.offset[i] - lo + t.size[i]) : null);
      const readSample = (t: TrackIndex, i: number): Promise<Buffer> => readSpan(source, t.offset[i], t.size[i]);
      // SAMPLE-AES: a PES's encrypted length is known once it is made, so it is assembled in a
      // scratch buffer, then put at the end of its planned packets (the rest becomes stuffing)
      const writeSampleAesPes = async (keyIv: { key: Uint8Array; iv: Buffer }): Promise<void> => {
        const chain = new CbcRestarts(keyIv.key, keyIv.iv);
        let scratch = Buffer.alloc(0);
        for (const k of chosen) {
          const p = plans[k];
          const hdr = pesHeader(p);
          const end = k + 1 < plans.length ? pktStart[k + 1] : pkts;
          const packets = end - pktStart[k];
          const capacity = packets * 184 - (p.pcr ? 8 : 0);
          let total: number;
          if (p.pid === PID_VIDEO) {
            const t = vTiming!.track;
            const sample = inRegion(t, p.first) ?? (await readSample(t, p.first));
            if (scratch.length < hdr.length + p.esBytes + p.slack) scratch = Buffer.allocUnsafe(hdr.length + p.esBytes + p.slack + 65536);
            hdr.copy(scratch, 0);
            // the delimiter stays clear, as the parameter sets do: SAMPLE-AES encrypts slice NAL
            // units only, each on its own (crypto/sample-aes.ts), so it shifts no pattern
            const aud = audOf(t);
            scratch.set(aud, hdr.length);
            let w = hdr.length + aud.length;
            if (isKey(t, vKeys, p.first)) {
              for (const ps of t.parameterSets) {
                scratch.writeUInt32BE(1, w);
                scratch.set(ps, w + 4);
                w += 4 + ps.length;
              }
            }
            for (let o = 0; o + 4 <= sample.length;) {
              const len = sample.readUInt32BE(o);
              if (o + 4 + len > sample.length) throw new MediaError('UNSUPPORTED', `sample ${p.first} has a NAL unit longer than the sample`);
              // the sample's own AUDs are left out: this PES's size is made as it is written
              if (len > 0 && aud.length > 0 && isAud(t, sample[o + 4])) {
                o += 4 + len;
                continue;
              }
              scratch.writeUInt32BE(1, w);
              w = writeSampleAesNal(sample.subarray(o + 4, o + 4 + len), chain, scratch, w + 4);
              if (w > hdr.length + p.esBytes + p.slack) throw new MediaError('UNSUPPORTED', `sample ${p.first}: encryption added more emulation prevention bytes than planned`);
              o += 4 + len;
            }
            total = w;
            if (total > capacity) throw new MediaError('UNSUPPORTED', `sample ${p.first}: encrypted PES of ${total} bytes does not fit its ${packets} packets`);
            scratch.copy(out, end * PKT - base - total, 0, total);
          } else {
            const t = aTiming!.track;
            total = hdr.length + p.esBytes;
            const payloadAt = end * PKT - base - total;
            out.set(hdr, payloadAt);
            let w = payloadAt + hdr.length;
            for (let i = p.first; i < p.end; i++) {
              const frameAt = w;
              w = writeAudioFrame(out, w, t, inRegion(t, i) ?? (await readSample(t, i)));
              encryptAdtsPayload(out.subarray(frameAt + 7, w), chain);
            }
          }
          const r = writePes(out, pktStart[k] * PKT - base, p, end * PKT - base - total, total, ccStart[k], Math.max(0, p.dts - 900), packets);
          if (r.at !== end * PKT - base) throw new Error(`PES wrote to ${r.at + base}, planned ${end * PKT}`);
        }
      };
      // each PES is assembled in place: written at the end of its own packets in `out`, then
      // moved forward packet by packet (no scratch buffer, no copy of the whole segment)
      try {
        if (sampleAes) {
          await writeSampleAesPes(sampleAes);
          yield out.subarray(start - base, endInclusive + 1 - base);
          return;
        }
        for (const k of chosen) {
          const p = plans[k];
          const hdr = pesHeader(p);
          const total = hdr.length + p.esBytes;
          const end = k + 1 < plans.length ? pktStart[k + 1] : pkts;
          const payloadAt = end * PKT - base - total;
          out.set(hdr, payloadAt);
          let w = payloadAt + hdr.length;
          if (p.pid === PID_VIDEO) {
            const t = vTiming!.track;
            w = writeAnnexB(out, w, t, inRegion(t, p.first) ?? (await readSample(t, p.first)), isKey(t, vKeys, p.first));
          } else {
            const t = aTiming!.track;
            for (let i = p.first; i < p.end; i++) w = writeAudioFrame(out, w, t, inRegion(t, i) ?? (await readSample(t, i)));
          }
          if (w !== payloadAt + total) throw new Error(`PES of ${w - payloadAt} bytes, planned ${total}`);
          const r = writePes(out, pktStart[k] * PKT - base, p, payloadAt, total, ccStart[k], Math.max(0, p.dts - 900));
          if (r.at !== end * PKT - base) throw new Error(`PES wrote to ${r.at + base}, planned ${end * PKT}`);
        }
      } finally {
        if (region) giveScratch(region);
      }
      yield out.subarray(start - base, endInclusive + 1 - base);
    },
  };
}
