// ISO BMFF boxes as both the moov reader (reader.ts) and the fragment reader (fragments.ts) walk
// them: a box is its type and where its payload lies in the buffer being read.
import { MediaError } from '../errors.js';

export interface Box {
  type: string;
  /** Start of the box payload (after the header), relative to the buffer. */
  start: number;
  end: number;
}

/** 100 million samples: a week of 120 fps video; beyond it a table is corrupt, not long. */
export const MAX_SAMPLES = 100_000_000;

export const fourcc = (b: Uint8Array, o: number): string => String.fromCharCode(b[o], b[o + 1], b[o + 2], b[o + 3]);

/** A box's header: its type, its whole size (-1: the source ends inside its 64-bit size) and its header's length. */
export interface BoxHeader {
  type: string;
  size: number;
  header: number;
}

/**
 * The header of the box at `b[at]`, from the bytes `b` holds there (16 for a 64-bit size); null
 * when it holds fewer than 8. `toEnd`: the bytes from the box to the end of the source, or of the
 * parent box (a size of 0 says "to the end"); none past it are read.
 */
export function boxHeaderAt(b: Uint8Array, at: number, toEnd: number): BoxHeader | null {
  const have = Math.min(b.length - at, toEnd);
  if (have < 8) return null;
  // read by hand: a DataView per box made listing a long fragmented file's moof children 2.5 times slower
  const type = fourcc(b, at + 4);
  const size = uint32(b, at);
  if (size === 1) return { type, size: have < 16 ? -1 : uint32(b, at + 8) * 2 ** 32 + uint32(b, at + 12), header: 16 };
  return { type, size: size === 0 ? toEnd : size, header: 8 };
}

const uint32 = (b: Uint8Array, o: number): number => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;

/** Lists the child boxes of b[start, end). Throws on a structure that does not fit. */
export function children(b: Uint8Array, start: number, end: number): Box[] {
  const out: Box[] = [];
  for (let o = start; o + 8 <= end; ) {
    const h = boxHeaderAt(b, o, end - o)!;
    if (h.size === -1) throw new MediaError('NOT_MP4', `box ${h.type}: truncated 64-bit size`);
    if (h.size < h.header || o + h.size > end) throw new MediaError('NOT_MP4', `box ${JSON.stringify(h.type)} at ${o}: size ${h.size} does not fit its parent`);
    out.push({ type: h.type, start: o + h.header, end: o + h.size });
    o += h.size;
  }
  return out;
}

export const child = (boxes: Box[], type: string): Box | undefined => boxes.find((x) => x.type === type);
