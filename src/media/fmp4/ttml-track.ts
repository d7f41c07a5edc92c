// TTML in fMP4 (ISO/IEC 14496-30, the `stpp` sample entry) for DASH players that read text tracks
// as segments: an init segment with one subtitle track ('subt' handler, sthd, stpp sample entry
// naming the TTML namespace) and a fragment holding one TTML document as its one sample. The
// document's times are media times from 0; the fragment starts at 0 and lasts the whole clip, so
// a player fetches it once.
import { box, fullBox, u16, u32, u64, zeros } from './boxes.js';
import { MATRIX, packedLanguage } from './track-boxes.js';

const TRACK_ID = 1;
const TIMESCALE = 1000;
const TTML_NAMESPACE = 'http://www.w3.org/ns/ttml';
const cString = (s: string): Buffer => Buffer.from(`${s}\0`, 'utf8');

/** The init segment of a TTML track; `language` is an ISO 639-2 code ("und" otherwise). */
export function ttmlInitSegment(language: string): Buffer {
  const ftyp = box('ftyp', Buffer.from('iso6', 'latin1'), u32(0), Buffer.from('iso6cmfcdashmp41', 'latin1'));
  const mvhd = fullBox('mvhd', 0, 0, u32(0), u32(0), u32(TIMESCALE), u32(0), u32(0x10000), u16(0x0100), zeros(10), MATRIX, zeros(24), u32(TRACK_ID + 1));
  // enabled, in movie and preview; no volume, no size
  const tkhd = fullBox('tkhd', 0, 3, u32(0), u32(0), u32(TRACK_ID), u32(0), u32(0), zeros(8), u16(0), u16(0), u16(0), u16(0), MATRIX, u32(0), u32(0));
  const mdhd = fullBox('mdhd', 0, 0, u32(0), u32(0), u32(TIMESCALE), u32(0), u16(packedLanguage(language)), u16(0));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from('subt', 'latin1'), zeros(12), cString('SubtitleHandler'));
  // XMLSubtitleSampleEntry: SampleEntry's 6 reserved bytes and data reference index, then the
  // namespace, schema location and auxiliary MIME types as C strings
  const stpp = box('stpp', zeros(6), u16(1), cString(TTML_NAMESPACE), cString(''), cString(''));
  const stbl = box('stbl', fullBox('stsd', 0, 0, u32(1), stpp), fullBox('stts', 0, 0, u32(0)), fullBox('stsc', 0, 0, u32(0)), fullBox('stsz', 0, 0, u32(0), u32(0)), fullBox('stco', 0, 0, u32(0)));
  const minf = box('minf', fullBox('sthd', 0, 0), box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1))), stbl);
  const trak = box('trak', tkhd, box('mdia', mdhd, hdlr, minf));
  const mvex = box('mvex', fullBox('trex', 0, 0, u32(TRACK_ID), u32(1), u32(0), u32(0), u32(0)));
  return Buffer.concat([ftyp, box('moov', mvhd, trak, mvex)]);
}

const TFHD_DEFAULT_BASE_IS_MOOF = 0x020000;
const TRUN_DATA_OFFSET = 0x000001;
const TRUN_SAMPLE_DURATION = 0x000100;
const TRUN_SAMPLE_SIZE = 0x000200;

/** One fragment: a TTML document as one sample from 0 lasting `durationMs`. */
export function ttmlFragment(document: string, durationMs: number, sequence: number): Buffer {
  const sample = Buffer.from(document, 'utf8');
  const moof = (dataOffset: number): Buffer => box('moof',
    fullBox('mfhd', 0, 0, u32(sequence)),
    box('traf',
      fullBox('tfhd', 0, TFHD_DEFAULT_BASE_IS_MOOF, u32(TRACK_ID)),
      fullBox('tfdt', 1, 0, u64(0)),
      fullBox('trun', 0, TRUN_DATA_OFFSET | TRUN_SAMPLE_DURATION | TRUN_SAMPLE_SIZE, u32(1), u32(dataOffset), u32(Math.max(1, Math.round(durationMs))), u32(sample.length))));
  const head = moof(0);
  return Buffer.concat([moof(head.length + 8), u32(8 + sample.length), Buffer.from('mdat', 'latin1'), sample]);
}
