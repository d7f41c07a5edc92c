// ISO/IEC 23001-7 common encryption of fMP4 tracks, 'cenc' (AES-CTR) and 'cbcs' (AES-CBC, 1:9
// pattern on video, constant IV): the init segment's protected sample entries and pssh boxes,
// each fragment's sample auxiliary information (senc, saiz, saio), and the sample encryption.
//
// Video is subsample-encrypted: NAL length fields, NAL headers and slice headers stay clear, the
// rest of each slice NAL unit is encrypted in whole 16-byte blocks ending at the unit's end (the
// odd bytes join the clear part); other NAL units (SPS, PPS, SEI) stay clear. Audio is encrypted
// whole (cbcs: every whole block, the trailing partial block clear).
//
// cenc IVs are 16 bytes: the high 8 come from the key id and the track (crypto/encryption.ts), the
// low 8 count 16-byte blocks, so the samples of a fragment are consecutive stretches of one CTR
// keystream and one OpenSSL context encrypts the whole fragment in one call. A fragment starting
// at sample f begins its count at f * 2^36, so fragments of different segmentations (HLS, DASH,
// a clip) never reuse a counter block for different bytes. Smooth Streaming clients assume 8-byte
// IVs (PIFF): there each sample's IV is the track's 8 bytes plus its sample number.
import { createCipheriv } from 'node:crypto';
import { box, fullBox, u32 } from '../fmp4/boxes.js';
import type { TrackIndex } from '../mp4/index-types.js';
import { avcParams, avcSliceHeaderBytes, type AvcParams } from './avc-slice.js';
import { CbcRestarts, PIECE } from './cipher.js';
import { cencIvBase, constantIv, SYSTEM_IDS, uuidBytes, type Encryption } from './encryption.js';

export interface Subsample {
  clear: number;
  protected: number;
}

/** How one track's samples are encrypted. */
export interface TrackProtection {
  scheme: 'cenc' | 'cbcs';
  key: Uint8Array;
  keyId: Uint8Array;
  video: boolean;
  /** Per-sample IV bytes in senc: 16 (cenc), 8 (cenc in PIFF for Smooth Streaming), 0 (cbcs: constant IV). */
  ivSize: 0 | 8 | 16;
  /** cbcs: the IV of every chain. */
  constantIv: Buffer;
  /** cenc: the high 8 bytes of the track's IVs. */
  ivBase: Buffer;
  /** NAL units (subsample encryption), or null for whole-sample encryption. */
  nal: { lengthSize: number; avc: AvcParams | null; hevc: boolean } | null;
}

const avcMemo = new WeakMap<TrackIndex, AvcParams | null>();

export function trackProtection(e: Encryption, t: TrackIndex, piff = false): TrackProtection {
  const scheme = e.scheme as 'cenc' | 'cbcs';
  const video = t.kind === 'video';
  let nal: TrackProtection['nal'] = null;
  if (video && t.nalLengthSize > 0) {
    const hevc = t.format === 'hvc1' || t.format === 'hev1';
    let avc = avcMemo.get(t);
    if (avc === undefined) avcMemo.set(t, (avc = hevc ? null : avcParams(t.parameterSets)));
    nal = { lengthSize: t.nalLengthSize, avc, hevc };
  }
  return {
    scheme,
    key: e.key,
    keyId: e.keyId!,
    video,
    ivSize: scheme === 'cbcs' ? 0 : piff ? 8 : 16,
    constantIv: scheme === 'cbcs' ? constantIv(e) : Buffer.alloc(0),
    ivBase: scheme === 'cenc' ? cencIvBase(e, t) : Buffer.alloc(0),
    nal,
  };
}

// ---- init segment ----

/** cbcs video: 1 block encrypted in 10; everything else unpatterned. */
const pattern = (p: TrackProtection): number => (p.scheme === 'cbcs' && p.video ? 0x19 : 0);

export function tencBox(p: TrackProtection): Buffer {
  if (p.scheme === 'cenc') return fullBox('tenc', 0, 0, Buffer.from([0, 0, 1, p.ivSize]), Buffer.from(p.keyId));
  return fullBox('tenc', 1, 0, Buffer.from([0, pattern(p), 1, 0]), Buffer.from(p.keyId), Buffer.from([16]), p.constantIv);
}

/** The source's sample entry renamed encv/enca, with a sinf (frma, schm, schi/tenc) appended. */
export function protectedSampleEntry(t: TrackIndex, p: TrackProtection): Buffer {
  const entry = Buffer.from(t.sampleEntry);
  const original = entry.subarray(4, 8).toString('latin1');
  const sinf = box('sinf',
    box('frma', Buffer.from(original, 'latin1')),
    fullBox('schm', 0, 0, Buffer.from(p.scheme, 'latin1'), u32(0x10000)),
    box('schi', tencBox(p)));
  const out = Buffer.concat([entry, sinf]);
  out.writeUInt32BE(out.length, 0);
  out.write(p.video ? 'encv' : 'enca', 4, 'latin1');
  return out;
}

/** A pssh box: version 1 with the key id (ClearKey, or a system without data), else version 0 with the system's data. */
export function psshBox(systemId: string, keyId: Uint8Array, data?: Uint8Array): Buffer {
  if (!data) return fullBox('pssh', 1, 0, uuidBytes(systemId), u32(1), Buffer.from(keyId), u32(0));
  return fullBox('pssh', 0, 0, uuidBytes(systemId), u32(data.length), Buffer.from(data));
}

/** The pssh boxes of the configured systems (FairPlay has none). */
export function psshBoxes(e: Encryption): Buffer[] {
  return (e.systems ?? []).filter((s) => s.name !== 'fairplay').map((s) => psshBox(SYSTEM_IDS[s.name], e.keyId!, s.name === 'clearkey' ? undefined : s.psshData));
}

// ---- subsample layout ----

/** Clear bytes kept at the start of a slice whose header could not be read (larger than any real one). */
const FALLBACK_SLICE_HEADER = 64;
/** HEVC slice headers are not parsed: this many bytes after the NAL header stay clear. */
const HEVC_CLEAR_LEAD = 96;

/** Bytes at the start of a NAL unit to keep clear, or -1 for a unit that is not encrypted at all. */
function clearLead(nal: Uint8Array, p: TrackProtection): number {
  const n = p.nal!;
  if (n.hevc) {
    const type = (nal[0] >> 1) & 0x3f;
    return type < 32 ? Math.min(nal.length, 2 + HEVC_CLEAR_LEAD) : -1;
  }
  const type = nal[0] & 0x1f;
  if (type !== 1 && type !== 5) return -1;
  return (n.avc && avcSliceHeaderBytes(nal, n.avc)) || Math.min(nal.length, FALLBACK_SLICE_HEADER);
}

/**
 * The subsamples of one video sample (length-prefixed NAL units), covering it exactly; null for
 * whole-sample encryption (audio, video without NAL units).
 */
export function subsamplesOf(sample: Uint8Array, p: TrackProtection): Subsample[] | null {
  if (!p.nal) return null;
  const L = p.nal.lengthSize;
  const out: Subsample[] = [];
  const push = (clear: number, prot: number): void => {
    for (; clear > 0xffff; clear -= 0xffff) out.push({ clear: 0xffff, protected: 0 });
    out.push({ clear, protected: prot });
  };
  let clear = 0;
  let o = 0;
  while (o < sample.length) {
    let n = 0;
    for (let k = 0; k < L && o + k < sample.length; k++) n = n * 256 + sample[o + k];
    const total = L + n;
    if (o + total > sample.length || n === 0) {
      // a malformed tail stays clear
      clear += sample.length - o;
      break;
    }
    const lead = clearLead(sample.subarray(o + L, o + total), p);
    const prot = lead < 0 ? 0 : Math.floor((n - lead) / 16) * 16;
    if (prot > 0) {
      push(clear + total - prot, prot);
      clear = 0;
    } else clear += total;
    o += total;
  }
  if (clear > 0 || out.length === 0) push(clear, 0);
  return out;
}

/**
 * Subsample layouts already worked out, per track (they depend on the sample's bytes only, not on
 * the key or the scheme): a popular segment's next request needs no read to be described. Most
 * samples have one subsample, kept in two typed arrays (8 bytes a sample); others in a map. The
 * memo lives as long as the track's cached index.
 */
interface LayoutMemo {
  /** Clear bytes of a one-subsample sample; -1 unknown, -2 in `multi`. */
  clear: Int32Array;
  protected: Uint32Array;
  multi: Map<number, Subsample[]>;
}
const layouts = new WeakMap<TrackIndex, LayoutMemo>();

export function rememberedSubsamples(t: TrackIndex, i: number): Subsample[] | null {
  const m = layouts.get(t);
  if (!m) return null;
  const c = m.clear[i];
  if (c === -1) return null;
  return c === -2 ? m.multi.get(i)! : [{ clear: c, protected: m.protected[i] }];
}

export function rememberSubsamples(t: TrackIndex, i: number, subs: Subsample[]): void {
  let m = layouts.get(t);
  if (!m) {
    m = { clear: new Int32Array(t.count).fill(-1), protected: new Uint32Array(t.count), multi: new Map() };
    layouts.set(t, m);
  }
  if (subs.length === 1) {
    m.clear[i] = subs[0].clear;
    m.protected[i] = subs[0].protected;
  } else {
    m.clear[i] = -2;
    m.multi.set(i, subs);
  }
}

// ---- fragment boxes ----

/** A traf's sample encryption: the samples' IVs and subsamples, and the boxes that carry them. */
export interface TrafEncryption {
  p: TrackProtection;
  /** Per sample; null entries for whole-sample encryption. */
  subsamples: Array<Subsample[] | null>;
  /** Per-sample IVs (empty buffers for cbcs). */
  ivs: Buffer[];
  /** Sample auxiliary information bytes of each sample (IV + subsamples). */
  infoSizes: number[];
  /** Bytes of saiz and saio, which come before the senc box in the traf. */
  saizSaioBytes: number;
  /** Bytes of the senc box (PIFF's uuid box for Smooth Streaming); 0 with saizSaioBytes 0 when none is needed. */
  sencBytes: number;
  /** Offset of the first sample's information inside the senc box. */
  sencDataAt: number;
  piff: boolean;
}

const PIFF_SAMPLE_ENCRYPTION = Buffer.from('a2394f525a9b4f14a2446c427c648df4', 'hex');

/** Blocks of the CTR keystream a sample uses (cenc). */
function ctrBlocks(size: number, subs: Subsample[] | null): number {
  if (!subs) return Math.ceil(size / 16);
  let prot = 0;
  for (const s of subs) prot += s.protected;
  return Math.ceil(prot / 16);
}

/** The IVs and box sizes of a traf of samples [first, end) with the given subsamples. */
export function planTrafEncryption(p: TrackProtection, t: TrackIndex, first: number, end: number, subsamples: Array<Subsample[] | null>, piff: boolean): TrafEncryption {
  const ivs: Buffer[] = [];
  const all = Buffer.allocUnsafe((end - first) * p.ivSize);
  if (p.ivSize === 16) {
    // low 8 bytes: first * 2^36 + blocks used so far, as two 32-bit halves (first < 2^28)
    let blocks = 0;
    for (let i = first, o = 0; i < end; i++, o += 16) {
      p.ivBase.copy(all, o);
      all.writeUInt32BE(first * 16 + Math.floor(blocks / 4294967296), o + 8);
      all.writeUInt32BE(blocks % 4294967296, o + 12);
      ivs.push(all.subarray(o, o + 16));
      blocks += ctrBlocks(t.size[i], subsamples[i - first]);
    }
  } else if (p.ivSize === 8) {
    const base = p.ivBase.readBigUInt64BE(0);
    for (let i = first, o = 0; i < end; i++, o += 8) {
      all.writeBigUInt64BE((base + BigInt(i)) & 0xffffffffffffffffn, o);
      ivs.push(all.subarray(o, o + 8));
    }
  } else for (let i = first; i < end; i++) ivs.push(all);
  const infoSizes = subsamples.map((s) => p.ivSize + (s ? 2 + 6 * s.length : 0));
  const infoBytes = infoSizes.reduce((a, b) => a + b, 0);
  const uniform = infoSizes.every((x) => x === infoSizes[0]);
  const sencDataAt = piff ? 8 + 16 + 4 + 4 : 8 + 4 + 4;
  // constant IV and no subsamples (cbcs audio): the tenc says it all
  const none = infoBytes === 0 && !piff;
  return {
    p,
    subsamples,
    ivs,
    infoSizes,
    saizSaioBytes: none ? 0 : 17 + (uniform ? 0 : infoSizes.length) + 20,
    sencBytes: none ? 0 : sencDataAt + infoBytes,
    sencDataAt,
    piff,
  };
}

/** The saiz, saio and senc boxes of a traf; `sencAt` is where the senc box starts, counted from the start of the moof. */
export function trafEncryptionBoxes(te: TrafEncryption, sencAt: number): Buffer[] {
  if (te.sencBytes === 0) return [];
  const { subsamples, ivs, infoSizes } = te;
  const count = subsamples.length;
  const uniform = infoSizes.every((x) => x === infoSizes[0]);
  const saiz = fullBox('saiz', 0, 0, Buffer.from([uniform ? (infoSizes[0] ?? 0) : 0]), u32(count), ...(uniform ? [] : [Buffer.from(infoSizes)]));
  const saio = fullBox('saio', 0, 0, u32(1), u32(sencAt + te.sencDataAt));
  const info = Buffer.alloc(te.sencBytes - te.sencDataAt);
  let o = 0;
  subsamples.forEach((subs, k) => {
    o += ivs[k].copy(info, o);
    if (!subs) return;
    o = info.writeUInt16BE(subs.length, o);
    for (const s of subs) {
      o = info.writeUInt16BE(s.clear, o);
      o = info.writeUInt32BE(s.protected, o);
    }
  });
  const flags = subsamples.some((s) => s !== null) ? 2 : 0;
  const senc = te.piff ? box('uuid', PIFF_SAMPLE_ENCRYPTION, u32(flags), u32(count), info) : fullBox('senc', 0, flags, u32(count), info);
  return [saiz, saio, senc];
}

// ---- sample encryption ----

/** Where a sample's bytes sit in the output buffer. */
export interface SampleSpan {
  at: number;
  size: number;
}

// the protected bytes of a traf gathered for one CTR call; kept between calls (encryptTraf is synchronous)
let gather = Buffer.alloc(0);

/**
 * Writes a traf's samples (`sources`, clear) into `out` at their spans, encrypted as te says (the
 * layout its boxes describe).
 */
export function encryptTraf(te: TrafEncryption, out: Buffer, spans: SampleSpan[], sources: Buffer[]): void {
  const { p } = te;
  /** Protected ranges of sample k, as [offset in the sample, length]. */
  const ranges = (k: number): Array<[number, number]> => {
    const subs = te.subsamples[k];
    const { size } = spans[k];
    if (!subs) return p.scheme === 'cbcs' ? [[0, Math.floor(size / 16) * 16]] : [[0, size]];
    const r: Array<[number, number]> = [];
    let o = 0;
    for (const s of subs) {
      o += s.clear;
      if (s.protected) r.push([o, s.protected]);
      o += s.protected;
    }
    return r;
  };
  if (p.scheme !== 'cenc' || p.ivSize !== 16) spans.forEach((s, k) => sources[k].copy(out, s.at));
  if (p.scheme === 'cbcs') {
    const chain = new CbcRestarts(p.key, p.constantIv);
    spans.forEach((s, k) => {
      for (const [o, len] of ranges(k)) {
        const at = s.at + o;
        if (len < 16) continue;
        if (!p.video || !te.subsamples[k]) {
          const region = out.subarray(at, at + len);
          region.set(chain.chain(region));
          continue;
        }
        // the 1:9 pattern: the first block of every ten, one chain per subsample
        const blocks = Math.floor((len + 144) / 160);
        const g = Buffer.allocUnsafe(blocks * 16);
        // 16-byte moves in a loop: Buffer#copy costs more per call than it saves on so few bytes
        for (let b = 0, w = 0; b < blocks; b++) for (let i = at + b * 160, e = i + 16; i < e; i++) g[w++] = out[i];
        const enc = chain.chain(g);
        for (let b = 0, r = 0; b < blocks; b++) for (let i = at + b * 160, e = i + 16; i < e; i++) out[i] = enc[r++];
      }
    });
    return;
  }
  if (p.ivSize === 8) {
    spans.forEach((s, k) => {
      const cipher = createCipheriv('aes-128-ctr', p.key, Buffer.concat([te.ivs[k], Buffer.alloc(8)]));
      for (const [o, len] of ranges(k)) out.set(cipher.update(out.subarray(s.at + o, s.at + o + len)), s.at + o);
    });
    return;
  }
  // cenc, 16-byte IVs: the samples' protected bytes, each sample padded to a block boundary, are
  // one run of the keystream starting at the first sample's IV. Clear bytes go straight from the
  // source to their place.
  const all = spans.map((_, k) => ranges(k));
  const firstIv = te.ivs.find((_, k) => all[k].length > 0);
  if (!firstIv) {
    spans.forEach((s, k) => sources[k].copy(out, s.at));
    return;
  }
  const cipher = createCipheriv('aes-128-ctr', p.key, firstIv);
  spans.forEach((s, k) => {
    let o = 0;
    for (const [from, len] of all[k]) {
      if (from > o) sources[k].copy(out, s.at + o, o, from);
      o = from + len;
    }
    if (o < s.size) sources[k].copy(out, s.at + o, o, s.size);
  });
  // gathered (each sample padded to a block boundary), encrypted a piece at a time (OpenSSL's
  // output buffers stay small: one the size of a segment costs more in page faults than the
  // cipher work), and scattered from the encrypted pieces: measured cheaper than one OpenSSL
  // call per range, whose small output buffers cost more than the two copies
  let total = 0;
  for (const rs of all) {
    let n = 0;
    for (const [, len] of rs) n += len;
    total += Math.ceil(n / 16) * 16;
  }
  if (gather.length < total) gather = Buffer.allocUnsafe(Math.max(total, Math.min(gather.length * 2, 16 << 20)));
  const g = gather.subarray(0, total);
  let w = 0;
  all.forEach((rs, k) => {
    const s = w;
    for (const [from, len] of rs) w += sources[k].copy(g, w, from, from + len);
    w = s + Math.ceil((w - s) / 16) * 16;
  });
  const pieces: Buffer[] = [];
  for (let o = 0; o < total; o += PIECE) pieces.push(cipher.update(g.subarray(o, Math.min(total, o + PIECE))));
  let piece = 0;
  let at = 0;
  /** Moves the next len encrypted bytes to out at dst (null: skips them). */
  const take = (dst: number | null, len: number): void => {
    while (len > 0) {
      const n = Math.min(len, pieces[piece].length - at);
      if (dst !== null) pieces[piece].copy(out, dst, at, at + n);
      if (dst !== null) dst += n;
      len -= n;
      at += n;
      if (at === pieces[piece].length) {
        piece++;
        at = 0;
      }
    }
  };
  all.forEach((rs, k) => {
    let n = 0;
    for (const [from, len] of rs) {
      take(spans[k].at + from, len);
      n += len;
    }
    // the padding's keystream is skipped
    if (n % 16) take(null, 16 - (n % 16));
  });
}
