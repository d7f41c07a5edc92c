// The moov parts a clipped progressive MP4 (../progressive.ts) and an fMP4 init segment
// (writer.ts) write alike. They differ only in the durations, track ids and sample tables
// they pass: an init segment has no samples, so its durations are 0 and its tables empty.
import { box, fullBox, u16, u32, u64, zeros } from './boxes.js';
import type { TrackIndex } from '../mp4/index-types.js';

export const MATRIX = Buffer.concat([u32(0x10000), u32(0), u32(0), u32(0), u32(0x10000), u32(0), u32(0), u32(0), u32(0x40000000)]);

/** A track's language as mdhd packs it (three 5-bit letters); anything but an ISO 639-2 code is "und". */
export const packedLanguage = (language: string): number => {
  const l = /^[a-z]{3}$/.test(language) ? language : 'und';
  return ((l.charCodeAt(0) - 0x60) << 10) | ((l.charCodeAt(1) - 0x60) << 5) | (l.charCodeAt(2) - 0x60);
};

/** Movie header in milliseconds. */
export const mvhdBox = (durationMs: number, nextTrackId: number): Buffer =>
  fullBox('mvhd', 0, 0, u32(0), u32(0), u32(1000), u32(durationMs), u32(0x10000), u16(0x0100), zeros(10), MATRIX, zeros(24), u32(nextTrackId));

/**
 * Track header (enabled, in movie and preview), duration in the movie's milliseconds. A video
 * keeps the source's matrix, so a phone's portrait video still plays upright (browsers turn an
 * fMP4 or MP4 picture by it; MPEG-TS has no place for it).
 */
export function tkhdBox(t: TrackIndex, id: number, durationMs: number): Buffer {
  const video = t.kind === 'video';
  const matrix = video && t.matrix.length === 36 ? t.matrix : MATRIX;
  return fullBox('tkhd', 0, 3, u32(0), u32(0), u32(id), u32(0), u32(durationMs), zeros(8), u16(0), u16(0), u16(video ? 0 : 0x0100), u16(0), matrix,
    u32(video ? t.width << 16 : 0), u32(video ? t.height << 16 : 0));
}

/** The media box around a sample table: header, handler, media information, the stbl children given. */
export function mdiaBox(t: TrackIndex, mediaDuration: number, ...stbl: Buffer[]): Buffer {
  const video = t.kind === 'video';
  const mdhd = fullBox('mdhd', 0, 0, u32(0), u32(0), u32(t.timescale), u32(mediaDuration), u16(packedLanguage(t.language)), u16(0));
  const hdlr = fullBox('hdlr', 0, 0, u32(0), Buffer.from(video ? 'vide' : 'soun', 'latin1'), zeros(12), Buffer.from(video ? 'VideoHandler\0' : 'SoundHandler\0', 'latin1'));
  const mhd = video ? fullBox('vmhd', 0, 1, zeros(8)) : fullBox('smhd', 0, 0, zeros(4));
  const dinf = box('dinf', fullBox('dref', 0, 0, u32(1), fullBox('url ', 0, 1)));
  return box('mdia', mdhd, hdlr, box('minf', mhd, dinf, box('stbl', ...stbl)));
}

/**
 * The sample description: the source's own sample entry, copied as it is, or the entry given in
 * its place (an encrypted track's encv/enca entry, ../crypto/cenc.ts).
 */
export const stsdBox = (t: TrackIndex, entry: Uint8Array = t.sampleEntry): Buffer => fullBox('stsd', 0, 0, u32(1), entry);

/** An mdat header for dataBytes of samples; `wide` uses the 64-bit size (files past 4 GB). */
export const mdatHeader = (dataBytes: number, wide = false): Buffer =>
  wide
    ? Buffer.concat([u32(1), Buffer.from('mdat', 'latin1'), u64(16 + dataBytes)])
    : Buffer.concat([u32(8 + dataBytes), Buffer.from('mdat', 'latin1')]);
