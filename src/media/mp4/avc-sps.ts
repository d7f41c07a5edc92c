// H.264 sequence parameter sets (ITU-T H.264 7.3.2.1.1): read bit by bit, emulation prevention
// bytes skipped, as far as the packager needs them: the fields a slice header's layout depends on
// (crypto/avc-slice.ts, which leaves slice headers clear under common encryption) and the sample
// aspect ratio of the VUI (E.1.1), which the MPD states (dash/mpd.ts).

/** Reads bits of a NAL unit's payload, skipping emulation prevention bytes. */
export class Bits {
  private byte = 0;
  private bit = 0;
  private zeros = 0;
  /** Escaped bytes consumed so far (emulation prevention bytes included). */
  consumed = 0;

  constructor(private readonly b: Uint8Array, start: number) {
    this.byte = start;
    this.consumed = start;
  }

  private next(): number {
    if (this.byte >= this.b.length) throw new RangeError('past the end');
    let v = this.b[this.byte];
    if (this.zeros >= 2 && v === 3) {
      this.byte++;
      this.zeros = 0;
      if (this.byte >= this.b.length) throw new RangeError('past the end');
      v = this.b[this.byte];
    }
    this.zeros = v === 0 ? this.zeros + 1 : 0;
    return v;
  }

  u1(): number {
    const v = (this.peekByte() >> (7 - this.bit)) & 1;
    if (++this.bit === 8) {
      this.bit = 0;
      this.byte++;
      this.current = -1;
    }
    this.consumed = this.byte + (this.bit > 0 ? 1 : 0);
    return v;
  }

  private current = -1;
  private peekByte(): number {
    if (this.current < 0) this.current = this.next();
    return this.current;
  }

  u(n: number): number {
    let v = 0;
    for (let i = 0; i < n; i++) v = v * 2 + this.u1();
    return v;
  }

  ue(): number {
    let lead = 0;
    while (this.u1() === 0) if (++lead > 31) throw new RangeError('exp-Golomb code too long');
    return lead === 0 ? 0 : 2 ** lead - 1 + this.u(lead);
  }

  se(): number {
    const k = this.ue();
    return k & 1 ? (k + 1) / 2 : -k / 2;
  }
}

export interface Sps {
  chromaArrayType: number;
  log2MaxFrameNum: number;
  pocType: number;
  log2MaxPocLsb: number;
  deltaPicOrderAlwaysZero: boolean;
  frameMbsOnly: boolean;
  separateColourPlane: boolean;
  /** Sample (pixel) aspect ratio from the VUI, or null when the SPS gives none. */
  sar: [number, number] | null;
}

const HIGH_PROFILES = new Set([100, 110, 122, 244, 44, 83, 86, 118, 128, 138, 139, 134, 135]);

function skipScalingList(r: Bits, size: number): void {
  let last = 8;
  let next = 8;
  for (let j = 0; j < size; j++) {
    if (next !== 0) next = (last + r.se() + 256) % 256;
    last = next === 0 ? last : next;
  }
}

/** An SPS NAL unit (header byte first): its id and what the packager reads of it. */
export function readSps(nal: Uint8Array): [number, Sps] {
  const r = new Bits(nal, 1);
  const profile = r.u(8);
  r.u(16); // constraint flags, level
  const id = r.ue();
  let chromaFormat = 1;
  let separate = false;
  if (HIGH_PROFILES.has(profile)) {
    chromaFormat = r.ue();
    if (chromaFormat === 3) separate = r.u1() === 1;
    r.ue(); // bit depth luma
    r.ue(); // bit depth chroma
    r.u1(); // qpprime_y_zero_transform_bypass
    if (r.u1()) for (let i = 0; i < (chromaFormat !== 3 ? 8 : 12); i++) if (r.u1()) skipScalingList(r, i < 6 ? 16 : 64);
  }
  const log2MaxFrameNum = r.ue() + 4;
  const pocType = r.ue();
  let log2MaxPocLsb = 0;
  let deltaPicOrderAlwaysZero = false;
  if (pocType === 0) log2MaxPocLsb = r.ue() + 4;
  else if (pocType === 1) {
    deltaPicOrderAlwaysZero = r.u1() === 1;
    r.se();
    r.se();
    const n = r.ue();
    for (let i = 0; i < n; i++) r.se();
  }
  r.ue(); // max_num_ref_frames
  r.u1(); // gaps
  r.ue(); // width
  r.ue(); // height
  const frameMbsOnly = r.u1() === 1;
  return [id, { chromaArrayType: separate ? 0 : chromaFormat, log2MaxFrameNum, pocType, log2MaxPocLsb, deltaPicOrderAlwaysZero, frameMbsOnly, separateColourPlane: separate, sar: vuiAspectRatio(r, frameMbsOnly) }];
}

/** Table E-1: sample aspect ratios by aspect_ratio_idc (1-16); 255 is given explicitly. */
const SAR_TABLE: ReadonlyArray<[number, number]> = [
  [0, 0], [1, 1], [12, 11], [10, 11], [16, 11], [40, 33], [24, 11], [20, 11], [32, 11],
  [80, 33], [18, 11], [15, 11], [64, 33], [160, 99], [4, 3], [3, 2], [2, 1],
];

/** The rest of an SPS up to the VUI's aspect ratio; null without one, or past a truncated unit. */
function vuiAspectRatio(r: Bits, frameMbsOnly: boolean): [number, number] | null {
  try {
    if (!frameMbsOnly) r.u1(); // mb_adaptive_frame_field
    r.u1(); // direct_8x8_inference
    if (r.u1()) for (let i = 0; i < 4; i++) r.ue(); // frame cropping offsets
    if (!r.u1() || !r.u1()) return null; // vui_parameters_present, aspect_ratio_info_present
    const idc = r.u(8);
    const sar: [number, number] | undefined = idc === 255 ? [r.u(16), r.u(16)] : SAR_TABLE[idc];
    return sar && sar[0] > 0 && sar[1] > 0 ? sar : null;
  } catch {
    return null;
  }
}

