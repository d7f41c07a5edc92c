// The system-specific data of Widevine and PlayReady pssh boxes, made from the key id, for when no
// key service gives them: what a licence server needs to know which key a player asks for.
// - Widevine: the WidevinePsshData protobuf with key_ids (field 2), content_id (4) and, for cbcs,
//   protection_scheme (9, the scheme's four characters as a big-endian number).
// - PlayReady: a PlayReady Object with one Rights Management Header record, WRMHEADER 4.0 for
//   AES-CTR (cenc) and 4.3 for AES-CBC (cbcs); its KID is the key id as a little-endian GUID. The
//   licence URL (LA_URL) is written only where given: players get it from the manifest or the app.
import type { EncryptionScheme } from './encryption.js';

function varint(n: number): number[] {
  const out: number[] = [];
  let v = n >>> 0;
  while (v >= 0x80) {
    out.push((v & 0x7f) | 0x80);
    v >>>= 7;
  }
  out.push(v);
  return out;
}

const field = (tag: number, bytes: Uint8Array): Buffer => Buffer.concat([Buffer.from([tag, ...varint(bytes.length)]), Buffer.from(bytes)]);

/** WidevinePsshData for one key id; `contentId` names the content to the licence server (kdeliver: the entry id). */
export function widevinePsshData(keyId: Uint8Array, contentId: string, scheme: 'cenc' | 'cbcs'): Buffer {
  const parts = [field(0x12, keyId)];
  if (contentId) parts.push(field(0x22, Buffer.from(contentId, 'utf8')));
  if (scheme === 'cbcs') parts.push(Buffer.from([0x48, ...varint(Buffer.from('cbcs').readUInt32BE(0))]));
  return Buffer.concat(parts);
}

/** A key id as PlayReady's KID: the GUID's first three fields little-endian, base64. */
export function playReadyKid(keyId: Uint8Array): string {
  const b = Buffer.from(keyId);
  const le = Buffer.concat([Buffer.from(b.subarray(0, 4)).reverse(), Buffer.from(b.subarray(4, 6)).reverse(), Buffer.from(b.subarray(6, 8)).reverse(), b.subarray(8)]);
  return le.toString('base64');
}

const xml = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** The PlayReady Object (PRO) for one key id and scheme; with `laUrl`, its LA_URL. */
export function playReadyObject(keyId: Uint8Array, scheme: Extract<EncryptionScheme, 'cenc' | 'cbcs'>, laUrl?: string): Buffer {
  const kid = playReadyKid(keyId);
  const la = laUrl ? `<LA_URL>${xml(laUrl)}</LA_URL>` : '';
  const header = scheme === 'cbcs'
    ? `<WRMHEADER xmlns="http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader" version="4.3.0.0"><DATA><PROTECTINFO><KIDS><KID ALGID="AESCBC" VALUE="${kid}"></KID></KIDS></PROTECTINFO>${la}</DATA></WRMHEADER>`
    : `<WRMHEADER xmlns="http://schemas.microsoft.com/DRM/2007/03/PlayReadyHeader" version="4.0.0.0"><DATA><PROTECTINFO><KEYLEN>16</KEYLEN><ALGID>AESCTR</ALGID></PROTECTINFO><KID>${kid}</KID>${la}</DATA></WRMHEADER>`;
  const record = Buffer.from(header, 'utf16le');
  const out = Buffer.alloc(10 + record.length);
  out.writeUInt32LE(out.length, 0);
  out.writeUInt16LE(1, 4); // one record
  out.writeUInt16LE(1, 6); // type 1: Rights Management Header
  out.writeUInt16LE(record.length, 8);
  record.copy(out, 10);
  return out;
}

/** Reads a PlayReady Object's WRMHEADER (tests, diagnostics); null when it is not one. */
export function readPlayReadyHeader(pro: Uint8Array): string | null {
  const b = Buffer.from(pro);
  if (b.length < 10 || b.readUInt32LE(0) !== b.length) return null;
  let at = 6;
  for (let n = b.readUInt16LE(4); n > 0 && at + 4 <= b.length; n--) {
    const type = b.readUInt16LE(at);
    const len = b.readUInt16LE(at + 2);
    if (type === 1 && at + 4 + len <= b.length) return b.subarray(at + 4, at + 4 + len).toString('utf16le');
    at += 4 + len;
  }
  return null;
}
