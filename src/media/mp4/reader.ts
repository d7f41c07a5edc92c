// Reads the moov of an MP4 into typed sample tables. The top-level boxes of the source are walked
// by their headers only (faststart or not), and just the moov is read; of a fragmented MP4, the
// moov and every moof (fragments.ts), before or after it.
import { MediaError } from '../errors.js';
import { openFileSource, type ByteSource } from '../source.js';
import type { DecodeRuns, MediaIndex, TrackIndex, TrackKind } from './index-types.js';
import { Mp4Track, mediaIndex, type PendingTables, type RawTables } from './track.js';
import { alignStarts, appendFragments, fragmentSamples, mfraMoofOffsets, trackDefaults, type FragmentSamples, type Moof } from './fragments.js';
import { MAX_SAMPLES, boxHeaderAt, child, children, fourcc, type Box, type BoxHeader } from './boxes.js';
import { moovMemory } from '../spare-memory.js';
import { readSps } from './avc-sps.js';

/**
 * A big-endian u32 table as a native-endian Uint32Array, converted by Buffer#swap32 (native code):
 * a cold process parses a 2-hour moov before the JIT has warmed its loops. In a moov the reader
 * owns (`own`), the table is converted in place and the result is a view of it, saving a copy of
 * ~6 MB for a 2-hour file; a table that does not start on a 4-byte boundary is first moved back
 * by up to 3 bytes, over the end of its own box's entry count, which has been read by then.
 */
function u32Table(b: Uint8Array, start: number, count: number, own = false): Uint32Array {
  if (own && count > 0) {
    const at = start - ((b.byteOffset + start) & 3);
    if (at !== start) b.copyWithin(at, start, start + count * 4);
    if (LITTLE_ENDIAN) Buffer.from(b.buffer, b.byteOffset + at, count * 4).swap32();
    return new Uint32Array(b.buffer, b.byteOffset + at, count);
  }
  const out = new Uint32Array(count);
  const bytes = Buffer.from(out.buffer, 0, count * 4);
  bytes.set(b.subarray(start, start + count * 4));
  if (LITTLE_ENDIAN && count > 0) bytes.swap32();
  return out;
}
const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** A copy (Buffer#slice would be a view that keeps the whole moov alive in the cache). */
const copyBytes = (b: Uint8Array, start: number, end: number): Uint8Array => Uint8Array.prototype.slice.call(b, start, end);

const isPrintable = (s: string): boolean => /^[\x20-\x7e]{4}$/.test(s) || s === '\xa9too';

/** A big-endian u32 table of the moov: where it starts and how many u32s it has. */
interface TableAt {
  at: number;
  count: number;
}

export interface ReadOptions {
  /** The most bytes of moov (and, in a fragmented MP4, of its moofs) read. */
  maxMoovBytes: number;
}

/** Finds and reads the moov of the local file at path, then parses it. */
export async function readMediaIndex(path: string, opts: ReadOptions): Promise<MediaIndex> {
  const { source, close } = await openFileSource(path);
  try {
    return await readSourceIndex(source, opts);
  } finally {
    await close();
  }
}

/**
 * Bytes read at each top-level box the walk has no bytes for: enough for ftyp, the moov's header
 * and the start of the moov, so that a faststart file is walked with this one read and its moov
 * read with one more (two reads, as a C packager makes, rather than three).
 */
const HEAD_READ = 4096;

/**
 * The source's top-level boxes read through one buffer: a read covers the headers of the boxes in
 * it (and the payloads it holds), so a box is read again only where the buffer does not reach.
 */
function boxWindow(source: ByteSource, capacity: number) {
  const buf = Buffer.alloc(capacity);
  // buf[0, len) holds the source's bytes from `from`
  let from = 0;
  let len = 0;
  return {
    /** The header of the box at `pos`, reading `readLen` bytes from there unless the buffer holds it; null when the source ends inside it. */
    async header(pos: number, readLen: number): Promise<BoxHeader | null> {
      const fileSize = source.size;
      if (pos < from || pos + Math.min(16, fileSize - pos) > from + len) {
        len = (await source.read(pos, Math.min(readLen, capacity, fileSize - pos), buf)).length;
        from = pos;
      }
      return boxHeaderAt(buf.subarray(0, len), pos - from, fileSize - pos);
    },
    /** The payload of the box at `pos` (the last header asked) into `into`: what the buffer holds of it, then the rest read; false when the source ends first. */
    async payload(pos: number, header: number, into: Uint8Array): Promise<boolean> {
      const at = pos - from + header;
      const have = Math.max(0, Math.min(into.length, len - at));
      into.set(buf.subarray(at, at + have));
      return have === into.length || (await source.read(pos + header + have, into.length - have, into.subarray(have))).length === into.length - have;
    },
  };
}

/** Finds and reads the moov of a source, then parses it. */
export async function readSourceIndex(source: ByteSource, opts: ReadOptions): Promise<MediaIndex> {
  const fileSize = source.size;
  const boxes = boxWindow(source, HEAD_READ);
  let pos = 0;
  let first = true;
  let firstMoof: number | null = null;
  while (pos + 8 <= fileSize) {
    const box = await boxes.header(pos, HEAD_READ);
    if (!box) throw new MediaError('TRUNCATED', `file ends inside a box header at ${pos}`);
    const { type, size, header } = box;
    if (!isPrintable(type)) throw new MediaError('NOT_MP4', first ? 'not an MP4 file (no box structure)' : `unreadable box at ${pos}`);
    if (first && !['ftyp', 'moov', 'mdat', 'free', 'skip', 'wide', 'pdin', 'styp'].includes(type)) {
      throw new MediaError('NOT_MP4', `not an MP4 file (bytes 4-7 read ${JSON.stringify(type)} where an MP4 names its first box, ftyp in most)`);
    }
    first = false;
    if (size < 0) throw new MediaError('TRUNCATED', `file ends inside a box header at ${pos}`);
    if (size < header) throw new MediaError('NOT_MP4', `box ${type} at ${pos} has an impossible size ${size}`);
    // fragments before the moov (a moov written at the end): read from here if the moov says so
    if (type === 'moof' && firstMoof === null) firstMoof = pos;
    if (type === 'moov') {
      if (size > opts.maxMoovBytes) throw new MediaError('MOOV_TOO_LARGE', `moov of ${size} bytes is over the ${opts.maxMoovBytes}-byte limit`);
      if (pos + size > fileSize) throw new MediaError('TRUNCATED', `moov runs past the end of the file (${pos + size} > ${fileSize})`);
      // memory already in place when a server keeps a spare (src/media/spare-memory.ts); the
      // moov's first bytes are in the window already: only the rest is read
      const moov = moovMemory(size - header);
      if (!(await boxes.payload(pos, header, moov))) throw new MediaError('TRUNCATED', 'file shorter than its moov');
      // a moov without mvex describes every sample itself, moofs or not (a recording whose
      // fragments were finalised into a moov at the end)
      if (!hasMvex(moov)) return parseMoov(moov, fileSize, { own: true });
      const moofs = await readFragments(source, firstMoof ?? pos + size, opts.maxMoovBytes, size);
      return parseMoov(moov, fileSize, { own: true, moofs });
    }
    if (pos + size > fileSize) throw new MediaError('TRUNCATED', `box ${type} runs past the end of the file`);
    pos += size;
  }
  // a file too short for one box header is empty only when it has no byte at all
  throw new MediaError(first ? 'NOT_MP4' : 'NO_MOOV', !first ? 'no moov box in the file' : fileSize === 0 ? 'empty file' : `not an MP4 file (${fileSize} bytes, too short for a box)`);
}

/** Does the moov (its payload) have an mvex, saying samples follow in moofs? */
function hasMvex(moov: Uint8Array): boolean {
  return child(children(moov, 0, moov.length), 'mvex') !== undefined;
}

/**
 * Bytes read at a time while walking a fragmented MP4's boxes for its moofs: a fragment of a
 * low-rate file is a few kB (moof and mdat together), so one read covers many. Past an mdat
 * longer than this, the next read is only as long as the last moof and the next box's header:
 * a high-rate file's media is not read to find its moofs.
 */
const FRAGMENT_WALK_READ = 256 * 1024;

/** The moov's and the moofs' bytes held so far, against the limit (`KDELIVER_MAX_MOOV_MB`). */
interface MoofBudget {
  held: number;
  readonly limit: number;
}

function hold(budget: MoofBudget, size: number): void {
  budget.held += size;
  if (budget.held > budget.limit) throw new MediaError('MOOV_TOO_LARGE', `the moov and moof boxes of this fragmented MP4 are over the ${budget.limit}-byte limit`);
}

/**
 * Every moof of a fragmented MP4 from `start` (the first moof, or the end of the moov) to the end
 * of the source. A finished recording ends with an mfra naming its moofs (fragments.ts
 * mfraMoofOffsets): they are read a few at a time, each with little more than its own bytes (a
 * low-rate file's, a few kB apart, several in one read), where walking the file box by box reads
 * one after another and, on S3 or an HTTP origin (whose reads are whole blocks,
 * src/storage/block-cache.ts), fetches all of its media. What they give is what the walk would
 * give: the boxes between them are walked, and an mfra that does not match the file's boxes is
 * set aside for the walk.
 */
async function readFragments(source: ByteSource, start: number, limit: number, moovBytes: number): Promise<Moof[]> {
  const mfra = await readMfra(source, start, limit);
  if (mfra && mfra.offsets.length > 0) {
    const moofs = await readListedMoofs(source, start, mfra, { held: moovBytes, limit });
    if (moofs) return moofs;
  }
  return (await walkMoofs(source, start, source.size, { held: moovBytes, limit })).moofs;
}

/**
 * A read of a span the reader will not come back to (ByteSource.readSpan: a remote source fetches
 * a short one alone, not its block); from a source without one, its own read, into `into` when given.
 */
const readSpan = (source: ByteSource, offset: number, length: number, into?: Uint8Array): Promise<Uint8Array> =>
  source.readSpan ? source.readSpan(offset, length) : source.read(offset, length, into);

/** What a finished recording's mfra says: where it starts, and the moof offsets from `start` on it names. */
interface Mfra {
  at: number;
  offsets: number[];
}

/** The mfra at the end of the source, when there is one that parses. */
async function readMfra(source: ByteSource, start: number, limit: number): Promise<Mfra | null> {
  const fileSize = source.size;
  if (fileSize < 16) return null;
  // the mfra's last box, mfro, says how long the mfra is
  const mfro = await readSpan(source, fileSize - 16, 16);
  const tail = new DataView(mfro.buffer, mfro.byteOffset, mfro.byteLength);
  if (mfro.length < 16 || tail.getUint32(0) !== 16 || fourcc(mfro, 4) !== 'mfro') return null;
  const mfraSize = tail.getUint32(12);
  if (mfraSize < 24 || mfraSize > fileSize - start || mfraSize > limit) return null;
  const at = fileSize - mfraSize;
  const mfra = await readSpan(source, at, mfraSize);
  if (mfra.length < mfraSize || new DataView(mfra.buffer, mfra.byteOffset).getUint32(0) !== mfraSize || fourcc(mfra, 4) !== 'mfra') return null;
  try {
    return { at, offsets: mfraMoofOffsets(mfra.subarray(8)).filter((o) => o >= start && o + 8 <= at) };
  } catch (e) {
    // an mfra that does not parse is no guide: the walk reads the moofs themselves
    if (e instanceof MediaError) return null;
    throw e;
  }
}

/** Reads of listed moofs under way at once. */
const READS_AT_ONCE = 16;

/** A moof read where the mfra said, and where the box after its mdat starts (just after the moof when no mdat follows it). */
interface ListedMoof {
  moof: Moof;
  /** The moof box's whole size. */
  size: number;
  next: number;
}

/**
 * The moofs at `listed` and those the walk finds between them, in file order; null when the file
 * does not agree with the list (an offset that is no moof, a walk that does not land on the next
 * one), for the caller to walk the file instead.
 */
async function readListedMoofs(source: ByteSource, start: number, mfra: Mfra, budget: MoofBudget): Promise<Moof[] | null> {
  const listed = mfra.offsets;
  const found: (ListedMoof | null)[] = new Array(listed.length);
  // the list is read before it is checked against the file: past the limit it is set aside, and
  // the walk counts the moofs really there (a moof is at least its header and an mfhd, 24 bytes)
  let held = budget.held + listed.length * 24;
  const take = (k: number, f: ListedMoof | null) => {
    if (f) held += f.size - 24;
    found[k] = f;
  };
  // the first moof's size tells how much to read for each of the others (one read for most)
  take(0, await readListedMoof(source, listed[0], await readSpan(source, listed[0], Math.min(HEAD_READ * 4, source.size - listed[0])), listed[0]));
  if (!found[0]) return null;
  const guess = Math.min(FRAGMENT_WALK_READ, 2 * found[0].moof.payload.length + HEAD_READ);
  // moofs close together (a low-rate file's) are read together, as the walk's window reads them
  const groups: number[][] = [];
  for (let k = 1; k < listed.length; k++) {
    const last = groups[groups.length - 1];
    if (last && listed[k] + guess - listed[last[0]] <= FRAGMENT_WALK_READ) last.push(k);
    else groups.push([k]);
  }
  let nextGroup = 0;
  const reader = async () => {
    // a group spans at most FRAGMENT_WALK_READ; its moofs are copied out of it
    const into = new Uint8Array(FRAGMENT_WALK_READ);
    while (nextGroup < groups.length && held <= budget.limit) {
      const group = groups[nextGroup++];
      const from = listed[group[0]];
      const bytes = await readSpan(source, from, Math.min(listed[group[group.length - 1]] + guess, source.size) - from, into);
      for (const k of group) take(k, await readListedMoof(source, listed[k], bytes, from));
    }
  };
  await Promise.all(Array.from({ length: Math.min(READS_AT_ONCE, groups.length) }, reader));
  if (held > budget.limit) return null;
  const moofs: Moof[] = [];
  let pos = start;
  for (const f of found) {
    if (!f || f.moof.at < pos) return null;
    if (f.moof.at > pos) {
      // boxes the mfra does not name (a moof of a fragment without a sync sample, a free box)
      const between = await walkMoofs(source, pos, f.moof.at, budget, guess);
      if (between.pos !== f.moof.at) return null;
      for (const m of between.moofs) moofs.push(m);
    }
    hold(budget, f.size);
    moofs.push(f.moof);
    pos = f.next;
  }
  // the boxes after the last one named, up to the mfra (which the walk would pass over too)
  const after = await walkMoofs(source, pos, mfra.at, budget, guess);
  if (after.pos !== mfra.at) return null;
  for (const m of after.moofs) moofs.push(m);
  return moofs;
}

/**
 * The moof at `at`, from `span` (the source's bytes from `spanFrom`; the rest read when the moof
 * is longer), and the end of the mdat after it; null when no moof is there.
 */
async function readListedMoof(source: ByteSource, at: number, span: Uint8Array, spanFrom: number): Promise<ListedMoof | null> {
  const fileSize = source.size;
  let bytes = span.subarray(at - spanFrom);
  const box = boxHeaderAt(bytes, 0, fileSize - at);
  if (!box || box.type !== 'moof' || box.size < box.header + 8 || at + box.size > fileSize) return null;
  const { size, header } = box;
  // the moof and the next box's header (16 bytes, for a 64-bit size)
  const want = Math.min(size + 16, fileSize - at);
  if (bytes.length < want) {
    const rest = await readSpan(source, at + bytes.length, want - bytes.length);
    if (rest.length < want - bytes.length) return null;
    const whole = new Uint8Array(want);
    whole.set(bytes);
    whole.set(rest, bytes.length);
    bytes = whole;
  }
  // a copy: the read's buffer is larger than the moof
  const moof = { at, payload: copyBytes(bytes, header, size) };
  let next = at + size;
  const mdat = boxHeaderAt(bytes, size, fileSize - next);
  if (mdat && mdat.type === 'mdat' && mdat.size >= mdat.header && next + mdat.size <= fileSize) next += mdat.size;
  return { moof, size, next };
}

/**
 * The moofs among the boxes from `pos` to `end` (the mdat boxes between them, and the moov, are
 * skipped by their headers), and where the walk stopped: at or past `end`, or before it at a box
 * cut short or unreadable, which ends the walk: a recording stopped mid-write keeps the fragments
 * it wrote whole (fragments.ts drops samples past the end). A 2-hour file of 2-second fragments
 * has about 3,600 moofs, a few hundred bytes each.
 */
async function walkMoofs(source: ByteSource, pos: number, end: number, budget: MoofBudget, firstRead = FRAGMENT_WALK_READ): Promise<{ moofs: Moof[]; pos: number }> {
  const fileSize = source.size;
  const moofs: Moof[] = [];
  // through the source's own reads: a remote source's blocks hold the moofs of a few fragments
  // each, fetched one after another (a walk cannot know where the next moof is until it gets there)
  const boxes = boxWindow(source, FRAGMENT_WALK_READ);
  let want = firstRead;
  while (pos < end && pos + 8 <= fileSize) {
    const box = await boxes.header(pos, want);
    if (!box || !isPrintable(box.type) || box.size < box.header || pos + box.size > fileSize) break;
    const { type, size, header } = box;
    if (type === 'moof') {
      hold(budget, size);
      const payload = new Uint8Array(size - header);
      if (!(await boxes.payload(pos, header, payload))) break;
      moofs.push({ at: pos, payload });
      // enough for the next moof, if it is as long, and the box after it
      want = Math.min(FRAGMENT_WALK_READ, Math.max(HEAD_READ, size + 64));
    } else if (size <= FRAGMENT_WALK_READ) want = FRAGMENT_WALK_READ;
    pos += size;
  }
  return { moofs, pos };
}

/**
 * Parses a moov payload (without its 8-byte header) into an index. The stts runs, sync samples
 * and sample entries are read now; the per-sample tables a segment needs are kept and decoded on
 * first use (track.ts). With `own`, the buffer is given to the index: its tables are converted in
 * place (the big per-sample ones only when a segment first needs them) and kept as views (the
 * moov is held until the first segment decodes them); otherwise
 * they are copied and `moov` is left as it was.
 */
export function parseMoov(moov: Uint8Array, fileSize: number, opts: { own?: boolean; moofs?: Moof[] } = {}): MediaIndex {
  const own = opts.own === true;
  const dv = new DataView(moov.buffer, moov.byteOffset, moov.byteLength);
  const top = children(moov, 0, moov.length);
  // A fragmented MP4 keeps its samples in moof boxes (readFragments reads them): its moov alone
  // would read as an empty file, or as its first fragment only
  const mvex = child(top, 'mvex');
  if (mvex && !opts.moofs) throw new MediaError('UNSUPPORTED', 'a fragmented MP4 whose moof boxes were not read');
  const fragments = mvex && opts.moofs ? fragmentSamples(opts.moofs, trackDefaults(dv, moov, mvex.start, mvex.end), fileSize) : null;
  const mvhd = child(top, 'mvhd');
  const movieTimescale = mvhd ? dv.getUint32(mvhd.start + (moov[mvhd.start] === 1 ? 20 : 12)) || 1000 : 1000;
  const tracks: Mp4Track[] = [];
  for (const trak of top.filter((x) => x.type === 'trak')) {
    const t = parseTrak(dv, moov, trak, fileSize, movieTimescale, own, fragments);
    if (t) tracks.push(t);
  }
  if (!tracks.some((t) => t.kind === 'video' || t.kind === 'audio')) throw new MediaError('UNSUPPORTED', 'no audio or video track');
  if (fragments) alignStarts(tracks, fragments);
  let durationMs = 0;
  for (const t of tracks) durationMs = Math.max(durationMs, ((t.endDts - t.mediaTimeOffset) * 1000) / t.timescale);
  return mediaIndex(fileSize, moov.length + 8, durationMs, tracks, own ? moov.buffer : null);
}

/** One trak: its header, media header and handler, then the sample table box by box. */
function parseTrak(dv: DataView, b: Uint8Array, trak: Box, fileSize: number, movieTimescale: number, own: boolean, fragments: Map<number, FragmentSamples> | null): Mp4Track | null {
  const tk = children(b, trak.start, trak.end);
  const tkhd = child(tk, 'tkhd');
  const mdia = child(tk, 'mdia');
  if (!tkhd || !mdia) throw new MediaError('NOT_MP4', 'trak without tkhd or mdia');
  const id = parseTkhd(dv, b, tkhd);
  const matrix = copyBytes(b, tkhd.start + (b[tkhd.start] === 1 ? 52 : 40), tkhd.start + (b[tkhd.start] === 1 ? 88 : 76));
  const md = children(b, mdia.start, mdia.end);
  const mdhd = child(md, 'mdhd');
  const hdlr = child(md, 'hdlr');
  const minf = child(md, 'minf');
  if (!mdhd || !hdlr || !minf) throw new MediaError('NOT_MP4', `track ${id}: mdia without mdhd, hdlr or minf`);
  const { timescale, language } = parseMdhd(dv, b, mdhd);
  const kind = parseHdlr(b, hdlr);
  if (kind !== 'video' && kind !== 'audio') return null;
  if (!timescale) throw new MediaError('NOT_MP4', `track ${id}: timescale 0`);
  const stblBox = child(children(b, minf.start, minf.end), 'stbl');
  if (!stblBox) throw new MediaError('NOT_MP4', `track ${id}: no stbl`);
  const st = children(b, stblBox.start, stblBox.end);
  const need = (type: string): Box => {
    const x = child(st, type);
    if (!x) throw new MediaError('NOT_MP4', `track ${id}: no ${type}`);
    return x;
  };

  const stsd = need('stsd');
  const description = parseStsd(dv, b, stsd, kind, id);
  const stsz = child(st, 'stsz');
  const stz2 = child(st, 'stz2');
  let sizes: { count: number; fixedSize: number; sizesAt: TableAt | null; sizes: Uint32Array | null };
  if (stsz) sizes = { ...parseStsz(dv, stsz, id), sizes: null };
  else if (stz2) sizes = { ...parseStz2(dv, b, stz2, id), sizesAt: null };
  else throw new MediaError('NOT_MP4', `track ${id}: no stsz`);
  const { count } = sizes;
  const { stts, endDts } = parseStts(dv, b, need('stts'), count, id, own);
  const cttsBox = child(st, 'ctts');
  const cttsAt = cttsBox ? parseCtts(dv, cttsBox, id) : null;
  const stss = child(st, 'stss');
  const sync = stss ? parseStss(dv, b, stss, id) : null;
  const stco = child(st, 'stco');
  const co64 = child(st, 'co64');
  let stcoAt: TableAt | null = null;
  let co64Offsets: Float64Array | null = null;
  if (stco) stcoAt = parseStco(dv, stco, id);
  else if (co64) co64Offsets = parseCo64(dv, b, co64, id);
  else throw new MediaError('NOT_MP4', `track ${id}: no stco or co64`);
  // a truncated file loses its last chunk: found now, without a walk over every chunk (a cold
  // process runs such loops in the interpreter); any sample past the end is found when the
  // offsets are decoded (track.ts)
  const chunks = stcoAt ? stcoAt.count : co64Offsets!.length;
  const lastChunk = chunks === 0 ? 0 : stcoAt ? dv.getUint32(stcoAt.at + 4 * (chunks - 1)) : co64Offsets![chunks - 1];
  if (count > 0 && lastChunk >= fileSize) throw new MediaError('TRUNCATED', `track ${id}: its last chunk starts at byte ${lastChunk} of a ${fileSize}-byte file`);
  const stscAt = parseStsc(dv, need('stsc'), id);
  const more = fragments?.get(id);
  refuseOtherDescriptions(dv, b, stsd, stscAt, more?.otherDescriptions, id);

  // without an edit list, the first sample's composition offset is the start (read big-endian
  // where it lies: the table itself is converted only when a segment needs it)
  let mediaTimeOffset = 0;
  for (let e = 0; cttsAt && count && e + 1 < cttsAt.count; e += 2) {
    if (dv.getUint32(cttsAt.at + 4 * e) === 0) continue;
    mediaTimeOffset = dv.getInt32(cttsAt.at + 4 * e + 4);
    break;
  }
  const edts = child(tk, 'edts');
  const elst = edts ? child(children(b, edts.start, edts.end), 'elst') : undefined;
  if (elst) mediaTimeOffset = parseElst(dv, b, elst, mediaTimeOffset, timescale, movieTimescale);

  // the big tables in native byte order: copies now, or (in a moov the reader owns) converted in
  // place when a segment first needs them, so that a playlist does not touch their pages
  const convert = (t: TableAt): Uint32Array => u32Table(b, t.at, t.count, own);
  const rawTables = (): RawTables => ({
    fixedSize: sizes.fixedSize,
    sizes: sizes.sizesAt ? convert(sizes.sizesAt) : sizes.sizes,
    chunkOffsets: stcoAt ? convert(stcoAt) : co64Offsets!,
    stsc: convert(stscAt),
    ctts: cttsAt ? convert(cttsAt) : null,
  });
  let raw: RawTables | PendingTables;
  if (own) {
    let done: RawTables | null = null;
    raw = {
      convert: () => (done ??= rawTables()),
      cttsAt: cttsAt ? (k: number) => dv.getUint32(cttsAt.at + 4 * k) : null,
      cttsLength: cttsAt ? cttsAt.count : 0,
    };
  } else raw = rawTables();
  const track = new Mp4Track(
    { id, kind, timescale, language, matrix, ...description, count, stts, sync, endDts, mediaTimeOffset },
    raw,
    fileSize,
    own ? b.buffer : null,
  );
  if (!more || more.count === 0) return track;
  // the start, as above: the first sample's composition offset, or the edit list's
  return appendFragments(track, more, fileSize, (firstCto) => (elst ? parseElst(dv, b, elst, firstCto, timescale, movieTimescale) : firstCto));
}

/** tkhd: the track id. */
const parseTkhd = (dv: DataView, b: Uint8Array, tkhd: Box): number => dv.getUint32(tkhd.start + (b[tkhd.start] === 1 ? 20 : 12));

/** mdhd: the media timescale and the language (three packed letters; none is "und"). */
function parseMdhd(dv: DataView, b: Uint8Array, mdhd: Box): { timescale: number; language: string } {
  const mdVersion = b[mdhd.start];
  const timescale = dv.getUint32(mdhd.start + (mdVersion === 1 ? 20 : 12));
  const langBits = dv.getUint16(mdhd.start + (mdVersion === 1 ? 32 : 20));
  const language = langBits === 0 ? 'und' : String.fromCharCode(((langBits >> 10) & 31) + 0x60, ((langBits >> 5) & 31) + 0x60, (langBits & 31) + 0x60);
  return { timescale, language };
}

/** hdlr: what kind of track this is. */
function parseHdlr(b: Uint8Array, hdlr: Box): TrackKind {
  const handler = fourcc(b, hdlr.start + 8);
  return handler === 'vide' ? 'video' : handler === 'soun' ? 'audio' : handler === 'text' || handler === 'sbtl' || handler === 'subt' ? 'text' : 'other';
}

/** Sample entries whose samples carry their own parameter sets. */
const IN_BAND_PARAMETER_SETS = new Set(['avc3', 'avc4', 'hev1', 'dvhe']);

/**
 * Every sample is written with the track's first sample description (its codec configuration:
 * parameter sets, the AAC config, the picture size), so a track whose samples name another one
 * that differs (a recorder's setting changed mid-file) is refused rather than sent under the
 * wrong configuration, which a player decodes as a broken picture. Copies of the first entry, as
 * some muxers write, are the same description. `fragmentsName`: what the moofs name (fragments.ts).
 */
function refuseOtherDescriptions(dv: DataView, b: Uint8Array, stsd: Box, stsc: TableAt, fragmentsName: Set<number> | undefined, id: number): void {
  const entries = children(b, stsd.start + 8, stsd.end);
  // avc3 and hev1 samples carry their own parameter sets, which decoders follow
  if (entries.length < 2 || entries.every((e) => IN_BAND_PARAMETER_SETS.has(e.type))) return;
  const bytes = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  const first = bytes.subarray(entries[0].start, entries[0].end);
  const differs = (index: number): boolean => {
    const e = entries[index - 1];
    return e !== undefined && (e.type !== entries[0].type || !first.equals(bytes.subarray(e.start, e.end)));
  };
  const named = new Set(fragmentsName);
  for (let k = 2; k < stsc.count; k += 3) named.add(dv.getUint32(stsc.at + 4 * k));
  for (const index of named) {
    if (index !== 1 && differs(index)) {
      throw new MediaError('UNSUPPORTED', `track ${id}: its samples change sample description (entry ${index} of ${entries.length}: the codec configuration changes within the file); kdeliver packages a track of one: re-encode it, or cut it where it changes`);
    }
  }
}

type SampleDescription = Pick<TrackIndex,
  'sampleEntry' | 'format' | 'width' | 'height' | 'sar' | 'channels' | 'sampleRate' | 'codecConfig' | 'nalLengthSize' | 'parameterSets' | 'codecString' | 'aacObjectType' | 'aacFreqIndex' | 'aacChannelConfig'>;

/** stsd: the first sample entry, kept whole, and what the writers need from it. */
function parseStsd(dv: DataView, b: Uint8Array, stsd: Box, kind: 'video' | 'audio', id: number): SampleDescription {
  const entries = children(b, stsd.start + 8, stsd.end);
  if (!entries.length) throw new MediaError('NOT_MP4', `track ${id}: empty stsd`);
  const entry = entries[0];
  const entryHeaderStart = entry.start - 8;
  const d: SampleDescription = {
    sampleEntry: copyBytes(b, entryHeaderStart, entry.end), format: entry.type, width: 0, height: 0, sar: [1, 1], channels: 0, sampleRate: 0,
    codecConfig: new Uint8Array(0), nalLengthSize: 0, parameterSets: [], codecString: '', aacObjectType: 0, aacFreqIndex: 0, aacChannelConfig: 0,
  };
  if (kind === 'video') {
    d.width = dv.getUint16(entry.start + 24);
    d.height = dv.getUint16(entry.start + 26);
    const kids = entry.start + 78 <= entry.end ? children(b, entry.start + 78, entry.end) : [];
    const avcC = child(kids, 'avcC');
    const hvcC = child(kids, 'hvcC');
    const vpcC = child(kids, 'vpcC');
    const av1C = child(kids, 'av1C');
    const esds = child(kids, 'esds');
    if (avcC && avcC.end - avcC.start >= 7) parseAvcC(b, avcC, d);
    else if (hvcC && hvcC.end - hvcC.start >= 23) parseHvcC(b, hvcC, d);
    else if (vpcC && vpcC.end - vpcC.start >= 12) d.codecString = vp9CodecString(b, vpcC);
    else if (av1C && av1C.end - av1C.start >= 4) d.codecString = av1CodecString(b, av1C);
    else if (esds && d.format === 'mp4v') d.codecString = mp4vCodecString(b, esds);
    else d.codecString = d.format;
    // the container's word first (pasp), else the H.264 stream's own (its first SPS's VUI)
    const pasp = child(kids, 'pasp');
    const sps = avcC ? d.parameterSets.find((ps) => (ps[0] & 0x1f) === 7) : undefined;
    let sar: [number, number] | null = null;
    if (pasp && pasp.end - pasp.start >= 8) sar = [dv.getUint32(pasp.start), dv.getUint32(pasp.start + 4)];
    else if (sps) {
      try {
        sar = readSps(sps)[1].sar;
      } catch {
        // an SPS this reader cannot follow says nothing of its pixels
      }
    }
    if (sar && sar[0] > 0 && sar[1] > 0) d.sar = sar;
  } else {
    const soundVersion = dv.getUint16(entry.start + 8);
    d.channels = dv.getUint16(entry.start + 16);
    d.sampleRate = dv.getUint32(entry.start + 24) >>> 16;
    const kidsStart = entry.start + 28 + (soundVersion === 1 ? 16 : soundVersion === 2 ? 36 : 0);
    const kids = kidsStart <= entry.end ? children(b, kidsStart, entry.end) : [];
    let esds = child(kids, 'esds');
    const wave = child(kids, 'wave');
    if (!esds && wave) esds = child(children(b, wave.start, wave.end), 'esds');
    if (esds) parseEsds(b, esds, d);
    // Opus in ISOBMFF is named "opus" in CODECS (its sample entry is "Opus"); MSE refuses "Opus"
    else d.codecString = d.format === 'Opus' ? 'opus' : d.format;
    // AC-3 and E-AC-3 say their channels in dac3 / dec3, as AAC does in its config
    const dolby = child(kids, 'dac3') ?? child(kids, 'dec3');
    const channels = dolby ? dolbyChannels(b, dolby) : 0;
    if (channels) d.channels = channels;
  }
  return d;
}

/** Channels of an audio coding mode (acmod, ETSI TS 102 366 Table 4.3), before the LFE. */
const ACMOD_CHANNELS = [2, 1, 2, 3, 3, 4, 4, 5];
/**
 * Channels of a dac3 (fscod, bsid, bsmod, acmod, lfeon, ...) or dec3 box (data_rate, num_ind_sub,
 * then per independent substream fscod, bsid, asvc, bsmod, acmod, lfeon, ...), ETSI TS 102 366
 * annex F: the (first independent) stream's acmod channels and its LFE. The channels an E-AC-3
 * dependent substream adds (7.1) are not counted. 0 when the box is too short.
 */
function dolbyChannels(b: Uint8Array, box: Box): number {
  const bits = (from: number, n: number): number => {
    let v = 0;
    for (let i = 0; i < n; i++) {
      const at = box.start * 8 + from + i;
      v = v * 2 + ((b[at >> 3] >> (7 - (at & 7))) & 1);
    }
    return v;
  };
  const len = box.end - box.start;
  if (box.type === 'dac3') return len >= 3 ? ACMOD_CHANNELS[bits(10, 3)] + bits(13, 1) : 0;
  return len >= 4 ? ACMOD_CHANNELS[bits(28, 3)] + bits(31, 1) : 0;
}

/** avcC: H.264's configuration, NAL length size, codec string and SPS/PPS. */
function parseAvcC(b: Uint8Array, avcC: Box, d: SampleDescription): void {
  const c = (d.codecConfig = copyBytes(b, avcC.start, avcC.end));
  d.nalLengthSize = (c[4] & 3) + 1;
  d.codecString = `${d.format}.${hex2(c[1])}${hex2(c[2])}${hex2(c[3])}`;
  let o = 5;
  const nSps = c[o++] & 31;
  for (let i = 0; i < nSps && o + 2 <= c.length; i++) {
    const len = (c[o] << 8) | c[o + 1];
    d.parameterSets.push(copyBytes(c, o + 2, o + 2 + len));
    o += 2 + len;
  }
  const nPps = o < c.length ? c[o++] : 0;
  for (let i = 0; i < nPps && o + 2 <= c.length; i++) {
    const len = (c[o] << 8) | c[o + 1];
    d.parameterSets.push(copyBytes(c, o + 2, o + 2 + len));
    o += 2 + len;
  }
}

/** hvcC: H.265's configuration, NAL length size, codec string and parameter sets (VPS/SPS/PPS/SEI arrays). */
function parseHvcC(b: Uint8Array, hvcC: Box, d: SampleDescription): void {
  const c = (d.codecConfig = copyBytes(b, hvcC.start, hvcC.end));
  d.nalLengthSize = (c[21] & 3) + 1;
  d.codecString = hevcCodecString(d.format, c);
  let o = 23;
  const nArrays = c[22];
  for (let a = 0; a < nArrays && o + 3 <= c.length; a++) {
    const n = (c[o + 1] << 8) | c[o + 2];
    o += 3;
    for (let i = 0; i < n && o + 2 <= c.length; i++) {
      const len = (c[o] << 8) | c[o + 1];
      d.parameterSets.push(copyBytes(c, o + 2, o + 2 + len));
      o += 2 + len;
    }
  }
}

/** esds: the audio decoder configuration; for AAC its object type, frequency index and channels. */
function parseEsds(b: Uint8Array, esds: Box, d: SampleDescription): void {
  const dec = readEsds(b, esds.start + 4, esds.end);
  if (!dec) return;
  d.codecConfig = dec.asc;
  if (dec.oti === 0x40 || dec.oti === 0x66 || dec.oti === 0x67) {
    let aacObjectType = 0;
    if (dec.asc.length >= 2) {
      aacObjectType = dec.asc[0] >> 3;
      d.aacFreqIndex = ((dec.asc[0] & 7) << 1) | (dec.asc[1] >> 7);
      d.aacChannelConfig = (dec.asc[1] >> 3) & 15;
      if (aacObjectType === 31 && dec.asc.length >= 3) aacObjectType = 32 + (((dec.asc[0] & 7) << 3) | (dec.asc[1] >> 5));
      d.aacObjectType = aacObjectType;
      // The AudioSpecificConfig says how many channels the decoder gives; the sample entry's
      // channelcount does not (ffmpeg writes 2 for mono and 5.1 AAC alike). Configuration 7 is
      // 7.1 (8 channels); parametric stereo (object type 29) makes stereo of a mono core.
      const cfg = d.aacChannelConfig;
      if (cfg >= 1 && cfg <= 7) d.channels = cfg === 7 ? 8 : cfg === 1 && aacObjectType === 29 ? 2 : cfg;
    }
    d.codecString = `mp4a.40.${aacObjectType || 2}`;
  } else d.codecString = `mp4a.${hex2(dec.oti)}`;
}

/** stsz: the sample count and sizes (one size for all, or a table). */
function parseStsz(dv: DataView, stsz: Box, id: number): { count: number; fixedSize: number; sizesAt: TableAt | null } {
  const fixed = dv.getUint32(stsz.start + 4);
  const count = dv.getUint32(stsz.start + 8);
  if (fixed === 0 && stsz.start + 12 + count * 4 > stsz.end) throw new MediaError('NOT_MP4', `track ${id}: stsz too short`);
  // a constant-size table is not bounded by its box: bound it by what stts could describe
  if (count > MAX_SAMPLES) throw new MediaError('NOT_MP4', `track ${id}: implausible sample count ${count}`);
  return { count, fixedSize: fixed, sizesAt: fixed ? null : { at: stsz.start + 12, count } };
}

/** stz2: compact sample sizes of 4, 8 or 16 bits. */
function parseStz2(dv: DataView, b: Uint8Array, stz2: Box, id: number): { count: number; fixedSize: number; sizes: Uint32Array } {
  const field = b[stz2.start + 7];
  const count = dv.getUint32(stz2.start + 8);
  if (count > MAX_SAMPLES) throw new MediaError('NOT_MP4', `track ${id}: implausible sample count ${count}`);
  const size = new Uint32Array(count);
  let o = stz2.start + 12;
  if (o + Math.ceil((count * field) / 8) > stz2.end) throw new MediaError('NOT_MP4', `track ${id}: stz2 too short`);
  for (let i = 0; i < count; i++) {
    if (field === 16) { size[i] = dv.getUint16(o); o += 2; }
    else if (field === 8) { size[i] = b[o]; o += 1; }
    else { size[i] = i % 2 === 0 ? b[o] >> 4 : b[o++] & 15; }
  }
  return { count, fixedSize: 0, sizes: size };
}

/** stts: the runs of equal sample durations covering the track's samples, and the time after the last one. */
function parseStts(dv: DataView, b: Uint8Array, stts: Box, count: number, id: number, own: boolean): { stts: DecodeRuns; endDts: number } {
  const n = dv.getUint32(stts.start + 4);
  if (stts.start + 8 + n * 8 > stts.end) throw new MediaError('NOT_MP4', `track ${id}: stts too short`);
  const table = u32Table(b, stts.start + 8, n * 2, own);
  let runs = 0;
  let covered = 0;
  for (let e = 0; e < n && covered < count; e++) {
    if (table[2 * e] === 0) continue;
    covered += table[2 * e];
    runs++;
  }
  if (covered < count) throw new MediaError('NOT_MP4', `track ${id}: stts covers ${covered} of ${count} samples`);
  const r: DecodeRuns = { count: new Uint32Array(runs), delta: new Uint32Array(runs), first: new Float64Array(runs), start: new Float64Array(runs), hint: 0 };
  let t = 0;
  let i = 0;
  for (let e = 0, k = 0; k < runs; e++) {
    const c = Math.min(table[2 * e], count - i);
    if (c === 0) continue;
    const d = table[2 * e + 1];
    r.count[k] = c;
    r.delta[k] = d;
    r.first[k] = i;
    r.start[k] = t;
    i += c;
    t += c * d;
    k++;
  }
  return { stts: r, endDts: t };
}

/** ctts: the composition offsets as (count, offset) pairs, expanded on first use (track.ts). */
function parseCtts(dv: DataView, ctts: Box, id: number): TableAt {
  const n = dv.getUint32(ctts.start + 4);
  if (ctts.start + 8 + n * 8 > ctts.end) throw new MediaError('NOT_MP4', `track ${id}: ctts too short`);
  return { at: ctts.start + 8, count: n * 2 };
}

/** stss: the sync samples, numbered from 0. */
function parseStss(dv: DataView, b: Uint8Array, stss: Box, id: number): Uint32Array {
  const n = dv.getUint32(stss.start + 4);
  if (stss.start + 8 + n * 4 > stss.end) throw new MediaError('NOT_MP4', `track ${id}: stss too short`);
  const sync = u32Table(b, stss.start + 8, n);
  for (let e = 0; e < n; e++) sync[e] -= 1;
  return sync;
}

/** stco: 32-bit chunk offsets. */
function parseStco(dv: DataView, stco: Box, id: number): TableAt {
  const n = dv.getUint32(stco.start + 4);
  if (stco.start + 8 + n * 4 > stco.end) throw new MediaError('NOT_MP4', `track ${id}: stco too short`);
  return { at: stco.start + 8, count: n };
}

/** co64: 64-bit chunk offsets. */
function parseCo64(dv: DataView, b: Uint8Array, co64: Box, id: number): Float64Array {
  const n = dv.getUint32(co64.start + 4);
  if (co64.start + 8 + n * 8 > co64.end) throw new MediaError('NOT_MP4', `track ${id}: co64 too short`);
  const chunkOffsets = new Float64Array(n);
  const table = u32Table(b, co64.start + 8, n * 2);
  for (let e = 0; e < n; e++) chunkOffsets[e] = table[2 * e] * 4294967296 + table[2 * e + 1];
  return chunkOffsets;
}

/** stsc: samples to chunks, as triples; walked when the offsets are decoded (track.ts). */
function parseStsc(dv: DataView, stsc: Box, id: number): TableAt {
  const n = dv.getUint32(stsc.start + 4);
  if (stsc.start + 8 + n * 12 > stsc.end) throw new MediaError('NOT_MP4', `track ${id}: stsc too short`);
  return { at: stsc.start + 8, count: n * 3 };
}

/**
 * elst: where the track starts in its media time. An initial empty edit delays the track; the
 * first real edit's media_time starts it. Without a real edit the start stays `start`.
 */
function parseElst(dv: DataView, b: Uint8Array, elst: Box, start: number, timescale: number, movieTimescale: number): number {
  let mediaTimeOffset = start;
  const v = b[elst.start];
  const n = dv.getUint32(elst.start + 4);
  let mvTimescaleDelay = 0;
  for (let e = 0, o = elst.start + 8; e < n && o < elst.end; e++, o += v === 1 ? 20 : 12) {
    const segDur = v === 1 ? Number(dv.getBigUint64(o)) : dv.getUint32(o);
    const mediaTime = v === 1 ? Number(dv.getBigInt64(o + 8)) : dv.getInt32(o + 4);
    if (mediaTime === -1) { mvTimescaleDelay += segDur; continue; }
    mediaTimeOffset = mediaTime;
    break;
  }
  // empty edits (in the movie timescale) delay the track's start
  return mediaTimeOffset - Math.round((mvTimescaleDelay * timescale) / movieTimescale);
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
const dec2 = (n: number): string => String(n).padStart(2, '0');

/**
 * vpcC (VP Codec ISO Media File Format Binding, a full box): the full codec string
 * vp09.PP.LL.DD.CC.cp.tc.mc.FF. A bare "vp09" is refused by MSE's isTypeSupported, so players
 * (hls.js, dash.js) would drop the rendition.
 */
function vp9CodecString(b: Uint8Array, vpcC: Box): string {
  const o = vpcC.start + 4;
  const profile = b[o];
  const level = b[o + 1];
  const bitDepth = b[o + 2] >> 4;
  const chroma = (b[o + 2] >> 1) & 7;
  const fullRange = b[o + 2] & 1;
  return `vp09.${[profile, level, bitDepth, chroma, b[o + 3], b[o + 4], b[o + 5], fullRange].map(dec2).join('.')}`;
}

/** av1C (AV1 Codec ISO Media File Format Binding): av01.P.LLT.DD, as MSE and HLS name AV1. */
function av1CodecString(b: Uint8Array, av1C: Box): string {
  const o = av1C.start;
  const profile = b[o + 1] >> 5;
  const level = b[o + 1] & 31;
  const tier = b[o + 2] & 0x80 ? 'H' : 'M';
  const highBitDepth = (b[o + 2] >> 6) & 1;
  const twelveBit = (b[o + 2] >> 5) & 1;
  const bitDepth = highBitDepth ? (twelveBit ? 12 : 10) : 8;
  return `av01.${profile}.${dec2(level)}${tier}.${dec2(bitDepth)}`;
}

/**
 * MPEG-4 Part 2 video: mp4v.{object type, hex}.{profile_and_level_indication, decimal} (RFC 6381),
 * the level from the visual object sequence header (00 00 01 B0) of the decoder config.
 */
function mp4vCodecString(b: Uint8Array, esds: Box): string {
  const dec = readEsds(b, esds.start + 4, esds.end);
  if (!dec) return 'mp4v';
  const c = dec.asc;
  const vos = c.length >= 5 && c[0] === 0 && c[1] === 0 && c[2] === 1 && c[3] === 0xb0;
  return `mp4v.${hex2(dec.oti)}${vos ? `.${c[4]}` : ''}`;
}

function readEsds(b: Uint8Array, start: number, end: number): { oti: number; asc: Uint8Array } | null {
  let o = start;
  const readLen = (): number => {
    let len = 0;
    for (let i = 0; i < 4 && o < end; i++) {
      const x = b[o++];
      len = (len << 7) | (x & 0x7f);
      if (!(x & 0x80)) break;
    }
    return len;
  };
  if (b[o++] !== 3) return null;
  readLen();
  o += 2; // ES_ID
  const flags = b[o++];
  if (flags & 0x80) o += 2;
  if (flags & 0x40) o += 1 + b[o];
  if (flags & 0x20) o += 2;
  if (b[o++] !== 4) return null;
  readLen();
  const oti = b[o];
  o += 13;
  if (o >= end || b[o++] !== 5) return { oti, asc: new Uint8Array(0) };
  const len = readLen();
  return { oti, asc: copyBytes(b, o, Math.min(end, o + len)) };
}

function hevcCodecString(format: string, c: Uint8Array): string {
  const profileSpace = ['', 'A', 'B', 'C'][c[1] >> 6];
  const tier = (c[1] >> 5) & 1 ? 'H' : 'L';
  const profileIdc = c[1] & 31;
  let compat = ((c[2] << 24) | (c[3] << 16) | (c[4] << 8) | c[5]) >>> 0;
  let rev = 0;
  for (let i = 0; i < 32; i++) { rev = (rev << 1) | (compat & 1); compat >>>= 1; }
  const constraints: string[] = [];
  for (let i = 6; i < 12; i++) constraints.push(c[i].toString(16).toUpperCase());
  while (constraints.length && constraints[constraints.length - 1] === '0') constraints.pop();
  return `${format}.${profileSpace}${profileIdc}.${(rev >>> 0).toString(16).toUpperCase()}.${tier}${c[12]}${constraints.length ? '.' + constraints.join('.') : ''}`;
}
