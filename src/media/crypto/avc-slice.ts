// How many bytes of an H.264 slice NAL unit its header takes (ITU-T H.264 7.3.3), so that common
// encryption can leave the header in the clear as ISO/IEC 23001-7 asks (a decoder or a secure
// pipeline reads it before decrypting). The SPS and PPS fields the header's layout depends on come
// from the track's avcC. Anything not understood gives null, and the caller keeps a generous
// clear leader instead.

import { Bits, readSps, type Sps } from '../mp4/avc-sps.js';

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
    for (const ps of parameterSets) if ((ps[0] & 0x1f) === 7) { const [id, s] = readSps(ps); sps.set(id, s); }
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
