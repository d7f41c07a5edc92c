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

/** Lists the child boxes of buf[start, end). Throws on a structure that does not fit. */
export function children(dv: DataView, b: Uint8Array, start: number, end: number): Box[] {
  const out: Box[] = [];
  let o = start;
  while (o + 8 <= end) {
    let size = dv.getUint32(o);
    const type = fourcc(b, o + 4);
    let header = 8;
    if (size === 1) {
      if (o + 16 > end) throw new MediaError('NOT_MP4', `box ${type}: truncated 64-bit size`);
      size = Number(dv.getBigUint64(o + 8));
      header = 16;
    } else if (size === 0) size = end - o;
    if (size < header || o + size > end) throw new MediaError('NOT_MP4', `box ${JSON.stringify(type)} at ${o}: size ${size} does not fit its parent`);
    out.push({ type, start: o + header, end: o + size });
    o += size;
  }
  return out;
}

export const child = (boxes: Box[], type: string): Box | undefined => boxes.find((x) => x.type === type);
