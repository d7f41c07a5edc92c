// How many bytes of an H.264 slice NAL unit its header takes (ITU-T H.264 7.3.3), so that common
// encryption can leave the header in the clear as ISO/IEC 23001-7 asks (a decoder or a secure
// pipeline reads it before decrypting). The SPS and PPS fields the header's layout depends on come
// from the track's avcC. Anything not understood gives null, and the caller keeps a generous
// clear leader instead.

/** Reads bits of a NAL unit's payload, skipping emulation prevention bytes. */
class Bits {
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

interface Sps {
  chromaArrayType: number;
  log2MaxFrameNum: number;
  pocType: number;
  log2MaxPocLsb: number;
  deltaPicOrderAlwaysZero: boolean;
  frameMbsOnly: boolean;
  separateColourPlane: boolean;
}

interface Pps {
  sps: Sps;
  cabac: boolean;
  bottomFieldPicOrderInFramePresent: boolean;
  numRefIdxL0Default: number;
  numRefIdxL1Default: number;
  weightedPred: boolean;
  weightedBipredIdc: number;
  deblockingFilterControlPresent: boolean;
  redundantPicCntPresent: boolean;
}

export interface AvcParams {
  pps: Map<number, Pps>;
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

function parseSps(nal: Uint8Array): [number, Sps] {
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
  return [id, { chromaArrayType: separate ? 0 : chromaFormat, log2MaxFrameNum, pocType, log2MaxPocLsb, deltaPicOrderAlwaysZero, frameMbsOnly, separateColourPlane: separate }];
}

function parsePps(nal: Uint8Array, spsById: Map<number, Sps>): [number, Pps] | null {
  const r = new Bits(nal, 1);
  const id = r.ue();
  const sps = spsById.get(r.ue());
  if (!sps) return null;
  const cabac = r.u1() === 1;
  const bottomFieldPicOrderInFramePresent = r.u1() === 1;
  if (r.ue() !== 0) return null; // slice groups (FMO): slice_group_change_cycle is not worth reading
  const numRefIdxL0Default = r.ue() + 1;
  const numRefIdxL1Default = r.ue() + 1;
  const weightedPred = r.u1() === 1;
  const weightedBipredIdc = r.u(2);
  r.se(); // pic_init_qp
  r.se(); // pic_init_qs
  r.se(); // chroma_qp_index_offset
  const deblockingFilterControlPresent = r.u1() === 1;
  r.u1(); // constrained_intra_pred
  const redundantPicCntPresent = r.u1() === 1;
  return [id, { sps, cabac, bottomFieldPicOrderInFramePresent, numRefIdxL0Default, numRefIdxL1Default, weightedPred, weightedBipredIdc, deblockingFilterControlPresent, redundantPicCntPresent }];
}

/** The parameter sets of an avcC (SPS and PPS NAL units), or null when they cannot be read. */
export function avcParams(parameterSets: Uint8Array[]): AvcParams | null {
  const sps = new Map<number, Sps>();
  const pps = new Map<number, Pps>();
  try {
    for (const ps of parameterSets) if ((ps[0] & 0x1f) === 7) { const [id, s] = parseSps(ps); sps.set(id, s); }
    for (const ps of parameterSets) {
      if ((ps[0] & 0x1f) !== 8) continue;
      const got = parsePps(ps, sps);
      if (got) pps.set(got[0], got[1]);
    }
  } catch {
    return null;
  }
  return pps.size ? { pps } : null;
}

const P = 0;
const B = 1;
const I = 2;
const SP = 3;
const SI = 4;

function skipRefPicListModification(r: Bits): void {
  if (!r.u1()) return;
  for (let idc = r.ue(); idc !== 3; idc = r.ue()) {
    if (idc > 5) throw new RangeError('bad modification_of_pic_nums_idc');
    r.ue();
  }
}

function skipPredWeightTable(r: Bits, chroma: boolean, l0: number, l1: number, bSlice: boolean): void {
  r.ue(); // luma_log2_weight_denom
  if (chroma) r.ue();
  for (const n of bSlice ? [l0, l1] : [l0]) {
    for (let i = 0; i < n; i++) {
      if (r.u1()) { r.se(); r.se(); }
      if (chroma && r.u1()) { r.se(); r.se(); r.se(); r.se(); }
    }
  }
}

/**
 * Bytes from the start of a slice NAL unit (its header byte included, emulation prevention bytes
 * counted as stored) up to and including the last byte holding slice-header bits; null when the
 * unit cannot be read with these parameter sets.
 */
export function avcSliceHeaderBytes(nal: Uint8Array, params: AvcParams): number | null {
  const nalRefIdc = (nal[0] >> 5) & 3;
  const idr = (nal[0] & 0x1f) === 5;
  try {
    const r = new Bits(nal, 1);
    r.ue(); // first_mb_in_slice
    const sliceType = r.ue() % 5;
    const pps = params.pps.get(r.ue());
    if (!pps) return null;
    const sps = pps.sps;
    if (sps.separateColourPlane) r.u(2);
    r.u(sps.log2MaxFrameNum);
    let field = false;
    if (!sps.frameMbsOnly) {
      field = r.u1() === 1;
      if (field) r.u1();
    }
    if (idr) r.ue();
    if (sps.pocType === 0) {
      r.u(sps.log2MaxPocLsb);
      if (pps.bottomFieldPicOrderInFramePresent && !field) r.se();
    } else if (sps.pocType === 1 && !sps.deltaPicOrderAlwaysZero) {
      r.se();
      if (pps.bottomFieldPicOrderInFramePresent && !field) r.se();
    }
    if (pps.redundantPicCntPresent) r.ue();
    if (sliceType === B) r.u1();
    let l0 = pps.numRefIdxL0Default;
    let l1 = pps.numRefIdxL1Default;
    if (sliceType === P || sliceType === SP || sliceType === B) {
      if (r.u1()) {
        l0 = r.ue() + 1;
        if (sliceType === B) l1 = r.ue() + 1;
      }
    }
    if (sliceType !== I && sliceType !== SI) {
      skipRefPicListModification(r);
      if (sliceType === B) skipRefPicListModification(r);
    }
    if ((pps.weightedPred && (sliceType === P || sliceType === SP)) || (pps.weightedBipredIdc === 1 && sliceType === B)) {
      skipPredWeightTable(r, sps.chromaArrayType !== 0, l0, l1, sliceType === B);
    }
    if (nalRefIdc !== 0) {
      if (idr) r.u(2);
      else if (r.u1()) {
        for (let op = r.ue(); op !== 0; op = r.ue()) {
          if (op > 6) throw new RangeError('bad memory_management_control_operation');
          if (op === 1 || op === 3) r.ue();
          if (op === 2) r.ue();
          if (op === 3 || op === 6) r.ue();
          if (op === 4) r.ue();
        }
      }
    }
    if (pps.cabac && sliceType !== I && sliceType !== SI) r.ue();
    r.se(); // slice_qp_delta
    if (sliceType === SP || sliceType === SI) {
      if (sliceType === SP) r.u1();
      r.se();
    }
    if (pps.deblockingFilterControlPresent) {
      if (r.ue() !== 1) { r.se(); r.se(); }
    }
    return r.consumed;
  } catch {
    return null;
  }
}
