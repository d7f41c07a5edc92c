// One parsed track whose per-sample tables are decoded on first use. The reader (reader.ts) keeps
// the moov tables a segment needs (stsz, stco/co64, stsc, ctts, in native byte order: views of
// the moov buffer the reader read, or copies) and the stts runs; a playlist reads only the runs
// and the sync samples, so a cold playlist never walks every sample. The first segment decodes
// dts, cto and offsets; then the raw stsc and chunk offsets are dropped and the sizes copied out,
// so the moov buffer is let go. `bytes` always says what is held.
// In a moov the reader owns, the big tables (stsz, stco, stsc, ctts: nearly all of a long file's
// moov) are left big-endian where they lie until a segment needs them (PendingTables): a playlist
// then touches only the pages of stts, stss and the boxes' headers. The first touch of a page the
// moov read just filled costs a page fault, and for a 2-hour moov those faults were most of a cold
// playlist's parse (bench/README.md, target 4).
import { MediaError } from '../errors.js';
import type { DecodeRuns, MediaIndex, TrackIndex, TrackKind } from './index-types.js';

/** The moov tables a track keeps until its sample tables are decoded. */
export interface RawTables {
  /** stsz's one size for every sample, or 0 with a table in `sizes`. */
  fixedSize: number;
  sizes: Uint32Array | null;
  /** stco (32-bit) or co64 chunk offsets. */
  chunkOffsets: Uint32Array | Float64Array;
  /** stsc entries as (first_chunk, samples_per_chunk, sample_description_index) triples. */
  stsc: Uint32Array;
  /** ctts entries as (sample_count, sample_offset) pairs, or null without ctts. */
  ctts: Uint32Array | null;
}

/**
 * The raw tables of a moov the reader owns, not yet converted to native byte order: `convert`
 * converts them in place (once) and gives them; until then ctoAt reads ctts entry k through
 * `cttsAt` (null without ctts), `cttsLength` being the ctts table's length in u32s.
 */
export interface PendingTables {
  convert(): RawTables;
  cttsAt: ((k: number) => number) | null;
  cttsLength: number;
}

export type TrackDescription = Omit<TrackIndex, 'dts' | 'cto' | 'ctoAt' | 'size' | 'offset'>;

const MAX_U32 = 0xffffffff;

const byteLength = (a: ArrayBufferView | null): number => (a ? a.byteLength : 0);

export class Mp4Track implements TrackIndex {
  id!: number;
  kind!: TrackKind;
  format!: string;
  timescale!: number;
  language!: string;
  width!: number;
  height!: number;
  matrix!: Uint8Array;
  sar!: [number, number];
  channels!: number;
  sampleRate!: number;
  sampleEntry!: Uint8Array;
  codecConfig!: Uint8Array;
  nalLengthSize!: number;
  parameterSets!: Uint8Array[];
  codecString!: string;
  aacObjectType!: number;
  aacFreqIndex!: number;
  aacChannelConfig!: number;
  count!: number;
  stts!: DecodeRuns;
  sync!: Uint32Array | null;
  endDts!: number;
  mediaTimeOffset!: number;

  private raw: RawTables | null;
  /** The tables still where the reader left them (converted on first use); null once `raw` holds them. */
  private pending: PendingTables | null;
  private readonly fileSize: number;
  private decodedDts: Float64Array | Uint32Array | null = null;
  private decodedCto: Int32Array | null = null;
  private decodedSize: Uint32Array | null = null;
  private decodedOffset: Float64Array | Uint32Array | null = null;
  /** Set by the index that owns the track: told after a table is decoded. */
  resized: (() => void) | null = null;

  /** The moov buffer the raw tables may be views of (null when they are copies); weak, so that it goes once no view is left. */
  private readonly moovRef: WeakRef<ArrayBufferLike> | null;

  constructor(d: TrackDescription, raw: RawTables | PendingTables, fileSize: number, moov: ArrayBufferLike | null) {
    Object.assign(this, d);
    this.fileSize = fileSize;
    this.moovRef = moov ? new WeakRef(moov) : null;
    if ('convert' in raw) {
      this.raw = null;
      this.pending = raw;
    } else {
      this.raw = raw;
      this.pending = null;
      this.decodedSize = raw.sizes;
    }
  }

  /** The raw tables, converted now if they were still pending; null once every table is decoded. */
  private tables(): RawTables | null {
    if (this.pending) {
      const raw = this.pending.convert();
      this.pending = null;
      this.raw = raw;
      if (!this.decodedSize) this.decodedSize = raw.sizes;
    }
    return this.raw;
  }

  get dts(): Float64Array | Uint32Array {
    if (!this.decodedDts) {
      const r = this.stts;
      const out = this.endDts <= MAX_U32 ? new Uint32Array(this.count) : new Float64Array(this.count);
      for (let run = 0; run < r.first.length; run++) {
        const n = r.count[run];
        const d = r.delta[run];
        let i = r.first[run];
        let t = r.start[run];
        for (let k = 0; k < n; k++, t += d) out[i++] = t;
      }
      this.decodedDts = out;
      this.resized?.();
    }
    return this.decodedDts;
  }

  get cto(): Int32Array | null {
    const ctts = this.decodedCto ? null : this.tables()?.ctts ?? null;
    if (ctts) {
      const out = new Int32Array(this.count);
      let i = 0;
      for (let e = 0; e + 1 < ctts.length && i < this.count; e += 2) {
        const c = ctts[e];
        const v = ctts[e + 1] | 0;
        for (let k = 0; k < c && i < this.count; k++) out[i++] = v;
      }
      this.decodedCto = out;
      this.raw!.ctts = null;
      this.resized?.();
    }
    return this.decodedCto;
  }

  /** Where ctoAt last stopped: the ctts entry (pair index) and its first sample; reads going forward resume there. */
  private ctsEntry = 0;
  private ctsFirst = 0;

  ctoAt(i: number): number {
    if (this.decodedCto) return this.decodedCto[i];
    // pending: read where it lies (a playlist asks one or two samples; converting ctts would touch all of it)
    const pending = this.pending;
    const ctts = pending ? null : this.raw ? this.raw.ctts : null;
    const at = pending ? pending.cttsAt : null;
    if (!ctts && !at) return 0;
    const length = ctts ? ctts.length : pending!.cttsLength;
    if (i < this.ctsFirst) {
      this.ctsEntry = 0;
      this.ctsFirst = 0;
    }
    let e = this.ctsEntry;
    let first = this.ctsFirst;
    while (e + 1 < length) {
      const n = ctts ? ctts[e] : at!(e);
      if (i < first + n) break;
      first += n;
      e += 2;
    }
    this.ctsEntry = e;
    this.ctsFirst = first;
    return e + 1 < length ? (ctts ? ctts[e + 1] : at!(e + 1)) | 0 : 0;
  }

  get size(): Uint32Array {
    if (!this.decodedSize) this.tables();
    if (!this.decodedSize) {
      this.decodedSize = new Uint32Array(this.count).fill(this.raw!.fixedSize);
      this.resized?.();
    }
    return this.decodedSize;
  }

  /** stsc and the chunk offsets give each sample's offset; every sample must lie inside the file. */
  get offset(): Float64Array | Uint32Array {
    if (!this.decodedOffset) {
      const raw = this.tables()!;
      const size = this.size;
      const chunks = raw.chunkOffsets;
      const stsc = raw.stsc;
      const count = this.count;
      const offset = this.fileSize <= MAX_U32 ? new Uint32Array(count) : new Float64Array(count);
      const n = stsc.length / 3;
      let i = 0;
      let maxEnd = 0;
      for (let e = 0; e < n && i < count; e++) {
        const firstChunk = stsc[3 * e] - 1;
        const perChunk = stsc[3 * e + 1];
        const lastChunk = e + 1 < n ? stsc[3 * e + 3] - 1 : chunks.length;
        for (let c = firstChunk; c < lastChunk && i < count; c++) {
          if (c >= chunks.length) throw new MediaError('NOT_MP4', `track ${this.id}: stsc names chunk ${c + 1} of ${chunks.length}`);
          let off = chunks[c];
          for (let k = 0; k < perChunk && i < count; k++) {
            offset[i] = off;
            off += size[i];
            i++;
          }
          if (off > maxEnd) maxEnd = off;
        }
      }
      if (i < count) throw new MediaError('NOT_MP4', `track ${this.id}: chunks hold ${i} of ${count} samples`);
      if (maxEnd > this.fileSize) throw new MediaError('TRUNCATED', `track ${this.id}: samples run to byte ${maxEnd} of a ${this.fileSize}-byte file`);
      this.decodedOffset = offset;
      // the offsets replace stsc and the chunk offsets; the sizes and ctts get their own copies,
      // so that nothing of this track holds the moov buffer any more
      raw.stsc = new Uint32Array(0);
      raw.chunkOffsets = new Uint32Array(0);
      const moov = this.moovRef?.deref();
      if (this.decodedSize && this.decodedSize.buffer === moov) this.decodedSize = this.decodedSize.slice();
      raw.sizes = null;
      if (raw.ctts && raw.ctts.buffer === moov) raw.ctts = raw.ctts.slice();
      this.resized?.();
    }
    return this.decodedOffset;
  }

  /** Does any table of this track still view the moov buffer? */
  holdsMoov(): boolean {
    const m = this.moovRef?.deref();
    if (!m) return false;
    if (this.pending) return true;
    const raw = this.raw;
    return this.decodedSize?.buffer === m || (raw !== null && (raw.sizes?.buffer === m || raw.chunkOffsets.buffer === m || raw.stsc.buffer === m || raw.ctts?.buffer === m));
  }

  /** Bytes of typed arrays and copied boxes this track holds now, not counting views of the moov. */
  heldBytes(): number {
    const raw = this.raw;
    const r = this.stts;
    const moov = this.moovRef?.deref();
    const own = (a: ArrayBufferView | null): number => (a && a.buffer !== moov ? a.byteLength : 0);
    let n = byteLength(this.decodedDts) + byteLength(this.decodedCto) + own(this.decodedSize) + byteLength(this.decodedOffset) + byteLength(this.sync);
    n += r.count.byteLength + r.delta.byteLength + r.first.byteLength + r.start.byteLength;
    n += this.sampleEntry.byteLength + this.codecConfig.byteLength;
    for (const p of this.parameterSets) n += p.byteLength;
    if (raw) n += own(raw.chunkOffsets) + own(raw.stsc) + own(raw.ctts);
    return n;
  }
}

/** What an index costs beyond its tracks' arrays: the objects themselves (a few hundred bytes). */
const OBJECT_ALLOWANCE = 512;

/** An index of tracks whose tables may view `moov` (counted whole while any of them does). */
export function mediaIndex(fileSize: number, moovSize: number, durationMs: number, tracks: Mp4Track[], moov: ArrayBufferLike | null): MediaIndex {
  // the size only: the index must not keep the buffer alive itself
  const moovBytes = moov ? moov.byteLength : 0;
  const index: MediaIndex = {
    fileSize,
    moovSize,
    durationMs,
    tracks,
    get bytes() {
      let n = OBJECT_ALLOWANCE;
      for (const t of tracks) n += t.heldBytes();
      if (moovBytes && tracks.some((t) => t.holdsMoov())) n += moovBytes;
      return n;
    },
    onResize: null,
  };
  for (const t of tracks) t.resized = () => index.onResize?.(index);
  return index;
}
