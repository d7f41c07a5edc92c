// HLS SAMPLE-AES for MPEG-TS, as Apple's "MPEG-2 Stream Encryption Format for HTTP Live
// Streaming" lays it out:
// - H.264: only slice NAL units (types 1 and 5) longer than 48 bytes. The first 32 bytes stay
//   clear, then one 16-byte block in ten is encrypted (a block only when more than 16 bytes
//   remain), CBC from the IV at every NAL unit. Emulation prevention is then applied to the whole
//   unit: a client removes one level of it before decrypting, so the unit's own emulation
//   prevention bytes are escaped once more and come back intact (ffmpeg, hls.js and Android
//   decrypt this way; nginx-vod-module encrypts this way). The unit grows by its own emulation
//   prevention bytes plus any the ciphertext calls for, which the index cannot tell: the writer
//   plans slack for them (sampleAesSlack).
// - AAC in ADTS: the 7-byte header and the next 16 bytes stay clear, then every whole 16-byte
//   block is encrypted, CBC from the IV at every frame; the last partial block stays clear.
// - The PMT names the encrypted streams (stream types 0xdb and 0xcf) with private data indicator
//   descriptors, and for audio an 'apad' registration descriptor carrying the audio setup.
import type { TrackIndex } from '../mp4/index-types.js';
import type { CbcRestarts } from './cipher.js';

export const STREAM_TYPE_AVC_SAMPLE_AES = 0xdb;
export const STREAM_TYPE_AAC_SAMPLE_AES = 0xcf;

/**
 * Bytes a video PES of esBytes is planned larger than its clear payload, for the emulation
 * prevention bytes encryption adds: the slices' own (escaped once more), about 1 in 10,000 bytes
 * of real H.264 and never seen above 1 in 250, plus the ciphertext's (00 00 0x with x <= 3, about
 * once in 4 MB of ciphertext). The planned packets end in stuffing where they are not needed; a
 * unit that would need more makes the writer refuse the segment rather than emit a wrong one.
 */
export const sampleAesSlack = (esBytes: number): number => 64 + Math.ceil(esBytes / 256);

const CLEAR_LEAD = 32;
const PATTERN_SKIP = 144;
const ZERO_PAIR = Buffer.from([0, 0]);

/**
 * Writes src[0, length) to dst at `at` with emulation prevention (03 after every 00 00 followed
 * by a byte <= 03); returns the end. The zero pairs are found by Buffer#indexOf (native): they are
 * rare in coded video, so the bytes between them move by plain copies.
 */
export function escapeNal(src: Buffer, length: number, dst: Buffer, at: number): number {
  const view = length === src.length ? src : src.subarray(0, length);
  let from = 0;
  let pos = 0;
  for (;;) {
    const z = view.indexOf(ZERO_PAIR, pos);
    if (z < 0 || z + 2 >= length) break;
    if (view[z + 2] <= 3) {
      at += view.copy(dst, at, from, z + 2);
      dst[at++] = 3;
      from = z + 2;
      pos = z + 2;
    } else pos = z + 3;
  }
  at += view.copy(dst, at, from, length);
  // a unit cannot end in 00: a trailing cabac_zero_word is followed by 03
  if (length > 0 && view[length - 1] === 0) dst[at++] = 3;
  return at;
}

/** Offsets of the encrypted 16-byte blocks of a NAL unit of n bytes. */
function* blocksOf(n: number): Generator<number> {
  let pos = CLEAR_LEAD;
  let rem = n - CLEAR_LEAD;
  while (rem > 0) {
    if (rem > 16) {
      yield pos;
      pos += 16;
      rem -= 16;
    }
    const skip = Math.min(PATTERN_SKIP, rem);
    pos += skip;
    rem -= skip;
  }
}

/**
 * Writes one H.264 NAL unit (as stored in the MP4, without its length) SAMPLE-AES-encrypted to dst
 * at `at`, without a start code; returns the end. The unit's bytes are changed in place (pass
 * bytes read for this answer only).
 */
export function writeSampleAesNal(nal: Buffer, chain: CbcRestarts, dst: Buffer, at: number): number {
  const type = nal[0] & 0x1f;
  if ((type !== 1 && type !== 5) || nal.length <= 48) return at + nal.copy(dst, at);
  let count = 0;
  for (const _ of blocksOf(nal.length)) count++;
  // 16-byte moves in a loop: Buffer#copy costs more per call than it saves on so few bytes
  const gathered = Buffer.allocUnsafe(count * 16);
  let g = 0;
  for (const p of blocksOf(nal.length)) for (let k = 0; k < 16; k++) gathered[g++] = nal[p + k];
  const enc = chain.chain(gathered);
  g = 0;
  for (const p of blocksOf(nal.length)) for (let k = 0; k < 16; k++) nal[p + k] = enc[g++];
  return escapeNal(nal, nal.length, dst, at);
}

/** Encrypts an ADTS frame in place: `frame` starts after its 7-byte header and runs to the frame's end. */
export function encryptAdtsPayload(frame: Buffer, chain: CbcRestarts): void {
  const blocks = Math.floor((frame.length - 16) / 16);
  if (blocks <= 0) return;
  const region = frame.subarray(16, 16 + blocks * 16);
  region.set(chain.chain(region));
}

/** PMT elementary-stream descriptors of a SAMPLE-AES stream. */
export function sampleAesDescriptors(t: TrackIndex): number[] {
  const fourcc = (s: string): number[] => [...Buffer.from(s, 'latin1')];
  if (t.kind === 'video') return [0x0f, 4, ...fourcc('zavc')];
  // audio setup information: audio type, priming (unknown: 0), version 1, the AudioSpecificConfig
  const type = t.aacObjectType === 5 ? 'zach' : t.aacObjectType === 29 ? 'zacp' : 'zaac';
  const setup = [...fourcc(type), 0, 0, 1, t.codecConfig.length, ...t.codecConfig];
  return [0x0f, 4, ...fourcc('aacd'), 0x05, 4 + setup.length, ...fourcc('apad'), ...setup];
}
