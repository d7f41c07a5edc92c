// What a request asks the writers to encrypt with: plain data, built by the caller per request
// (where keys come from is not the media core's business). One description covers every output
// format; each writer reads the parts it needs.
import { createHash } from 'node:crypto';
import { MediaError } from '../errors.js';
import type { TrackIndex } from '../mp4/index-types.js';

/**
 * - `aes-128`: HLS whole-segment AES-128-CBC with PKCS7 (MPEG-TS and fMP4 segments).
 * - `sample-aes`: HLS sample encryption of MPEG-TS (H.264 NAL units, AAC ADTS frames).
 * - `cenc`: ISO/IEC 23001-7 AES-CTR (DASH, fMP4 HLS as SAMPLE-AES-CTR, Smooth Streaming).
 * - `cbcs`: ISO/IEC 23001-7 AES-CBC 1:9 pattern with a constant IV (DASH, fMP4 HLS as SAMPLE-AES).
 */
export type EncryptionScheme = 'aes-128' | 'sample-aes' | 'cenc' | 'cbcs';

export type DrmSystemName = 'clearkey' | 'widevine' | 'playready' | 'fairplay';

export interface DrmSystem {
  name: DrmSystemName;
  /**
   * The system's pssh data, opaque to kdeliver: Widevine's protobuf, PlayReady's PlayReady Object
   * (also written as the MPD's mspr:pro and the Smooth Streaming ProtectionHeader). ClearKey's pssh
   * is made from the key id; FairPlay has none.
   */
  psshData?: Uint8Array;
  /** Licence server URL, written where the format has a place for it (ClearKey's laurl in the MPD). */
  licenseUrl?: string;
  /**
   * The HLS EXT-X-KEY URI for this system (FairPlay's skd://…). Without it, Widevine and PlayReady
   * get a data: URI of their pssh data and ClearKey one of its key id.
   */
  keyUri?: string;
}

export interface Encryption {
  scheme: EncryptionScheme;
  /** The 16-byte content key. */
  key: Uint8Array;
  /** The 16-byte key id (cenc/cbcs: tenc, pssh, default_KID; optional for aes-128 and sample-aes). */
  keyId?: Uint8Array;
  /**
   * 16 bytes. HLS (aes-128, sample-aes): the explicit IV written as the EXT-X-KEY IV attribute;
   * without it each segment uses its media sequence number. cbcs: the constant IV (made from the key
   * id when absent). cenc: seeds the per-sample IVs.
   */
  iv?: Uint8Array;
  /** HLS aes-128 and sample-aes: the key URI of EXT-X-KEY (kdeliver's key route, given by the caller). */
  keyUri?: string;
  /** cenc/cbcs: the DRM systems to signal (pssh boxes, ContentProtection, EXT-X-KEY lines). */
  systems?: DrmSystem[];
}

export const SYSTEM_IDS: Record<DrmSystemName, string> = {
  clearkey: '1077efec-c0b2-4d02-ace3-3c1e52e2fb4b',
  widevine: 'edef8ba9-79d6-4ace-a3c8-27dcd51d21ed',
  playready: '9a04f079-9840-4286-ab92-e65be0885f95',
  fairplay: '94ce86fb-07ff-4f43-adb8-93d2fa968ca2',
};

const bad = (why: string): MediaError => new MediaError('BAD_ENCRYPTION', why);

const is16 = (b: Uint8Array | undefined): boolean => b instanceof Uint8Array && b.length === 16;

/**
 * Throws BAD_ENCRYPTION when the description cannot be used (wrong sizes, a missing key id).
 * The HLS key URI is checked where it is written (crypto/signalling.ts): segments do not need it.
 */
export function checkEncryption(e: Encryption): void {
  if (!['aes-128', 'sample-aes', 'cenc', 'cbcs'].includes(e.scheme)) throw bad(`unknown encryption scheme ${JSON.stringify(e.scheme)}`);
  if (!is16(e.key)) throw bad('the content key must be 16 bytes');
  if (e.iv !== undefined && !is16(e.iv)) throw bad('the IV must be 16 bytes');
  if (e.keyId !== undefined && !is16(e.keyId)) throw bad('the key id must be 16 bytes');
  if (isCommonEncryption(e)) {
    if (!e.keyId) throw bad(`${e.scheme} needs a key id`);
    for (const s of e.systems ?? []) {
      if (!(s.name in SYSTEM_IDS)) throw bad(`unknown DRM system ${JSON.stringify(s.name)}`);
      if (s.name === 'fairplay' && e.scheme !== 'cbcs') throw bad('FairPlay plays cbcs only');
    }
  }
}

/** cenc/cbcs: sample encryption inside fMP4, signalled by DRM systems. */
export const isCommonEncryption = (e: Encryption | undefined): boolean => !!e && (e.scheme === 'cenc' || e.scheme === 'cbcs');

/** The IV of an HLS segment: the explicit one, else the media sequence number as a 128-bit big-endian integer. */
export function hlsSegmentIv(e: Encryption, sequence: number): Buffer {
  if (e.iv) return Buffer.from(e.iv);
  const iv = Buffer.alloc(16);
  iv.writeUInt32BE(Math.floor(sequence / 4294967296), 8);
  iv.writeUInt32BE(sequence >>> 0, 12);
  return iv;
}

/** A key id as a UUID string (default_KID, cenc:default_KID). */
export const uuidOf = (b: Uint8Array): string => {
  const h = Buffer.from(b).toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
};

export const uuidBytes = (uuid: string): Buffer => Buffer.from(uuid.replace(/-/g, ''), 'hex');

/** cbcs: the constant IV of every sample (the description's, else one made from the key id). */
export function constantIv(e: Encryption): Buffer {
  if (e.iv) return Buffer.from(e.iv);
  return createHash('sha256').update('kdeliver cbcs constant iv').update(e.keyId ?? e.key).digest().subarray(0, 16);
}

const fingerprints = new WeakMap<TrackIndex, Buffer>();

/**
 * What tells one track from another for IV derivation: two flavors of an entry share a key, so
 * their per-sample IVs must differ. Hashes the sample entry and the sample sizes and file offsets
 * (memoized): constant-size audio in two flavors still sits at different offsets.
 */
function trackFingerprint(t: TrackIndex): Buffer {
  let f = fingerprints.get(t);
  if (!f) {
    const h = createHash('sha256').update(t.kind).update(String(t.id)).update(String(t.timescale)).update(String(t.count)).update(t.sampleEntry);
    h.update(new Uint8Array(t.size.buffer, t.size.byteOffset, t.size.byteLength));
    // offsets hashed as 64-bit floats whatever width the index keeps them in, so IVs do not
    // change with the index's representation (src/media/mp4/track.ts)
    const offsets = t.offset instanceof Float64Array ? t.offset : Float64Array.from(t.offset);
    h.update(new Uint8Array(offsets.buffer, offsets.byteOffset, offsets.byteLength));
    f = h.digest();
    fingerprints.set(t, f);
  }
  return f;
}

/**
 * cenc: the 8 high bytes of this track's per-sample IVs. They come from the key id, the
 * description's IV and the track, so no two tracks under one key share an IV (an AES-CTR
 * keystream used twice would leak both plaintexts), and the same sample always gets the same IV.
 */
const ivBases = new WeakMap<TrackIndex, Map<string, Buffer>>();

export function cencIvBase(e: Encryption, t: TrackIndex): Buffer {
  let m = ivBases.get(t);
  if (!m) ivBases.set(t, (m = new Map()));
  const k = `${Buffer.from(e.keyId ?? []).toString('hex')}/${Buffer.from(e.iv ?? []).toString('hex')}`;
  let base = m.get(k);
  if (!base) {
    base = createHash('sha256').update('kdeliver cenc iv').update(e.keyId ?? Buffer.alloc(0)).update(e.iv ?? Buffer.alloc(0)).update(trackFingerprint(t)).digest().subarray(0, 8);
    // a track is served under one key or a few: keep a handful
    if (m.size >= 8) m.delete(m.keys().next().value!);
    m.set(k, base);
  }
  return base;
}
