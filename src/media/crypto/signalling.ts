// What the manifests say about encryption: HLS EXT-X-KEY lines, the MPD's ContentProtection
// elements, the Smooth Streaming Protection header. Text only; the bytes are in cipher.ts,
// sample-aes.ts and cenc.ts.
import { MediaError } from '../errors.js';
import { psshBox } from './cenc.js';
import { checkEncryption, SYSTEM_IDS, uuidOf, type DrmSystem, type Encryption } from './encryption.js';

const q = (s: string): string => `"${s.replace(/["\r\n]/g, '')}"`;
const hex = (b: Uint8Array): string => `0x${Buffer.from(b).toString('hex')}`;
const b64 = (b: Uint8Array): string => Buffer.from(b).toString('base64');
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

const systemsOf = (e: Encryption): DrmSystem[] => e.systems ?? [];

/** DASH-IF's ClearKey system id (IOP 4.1, 7.6.2.4), signalled in MPDs next to the W3C common one. */
const DASH_IF_CLEARKEY = 'e2719d58-a985-b3c9-781a-b030af78d30e';

/** The pssh box of a system as the manifests quote it (ClearKey: the W3C common pssh with the key id). */
const psshOf = (e: Encryption, s: DrmSystem): Buffer => psshBox(SYSTEM_IDS[s.name], e.keyId!, s.name === 'clearkey' ? undefined : s.psshData);

/** One EXT-X-KEY line per configured system for fMP4 sample encryption (SAMPLE-AES for cbcs, SAMPLE-AES-CTR for cenc). */
function commonEncryptionKeyLines(e: Encryption): string[] {
  const method = e.scheme === 'cbcs' ? 'SAMPLE-AES' : 'SAMPLE-AES-CTR';
  const lines: string[] = [];
  for (const s of systemsOf(e)) {
    switch (s.name) {
      case 'fairplay':
        lines.push(`#EXT-X-KEY:METHOD=${method},URI=${q(s.keyUri ?? `skd://${Buffer.from(e.keyId!).toString('hex')}`)},KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"`);
        break;
      case 'widevine':
        lines.push(`#EXT-X-KEY:METHOD=${method},URI=${q(s.keyUri ?? `data:text/plain;base64,${b64(psshOf(e, s))}`)},KEYID=${hex(e.keyId!)},KEYFORMAT="urn:uuid:${SYSTEM_IDS.widevine}",KEYFORMATVERSIONS="1"`);
        break;
      case 'playready':
        // the PlayReady Object itself, as Apple's and Microsoft's examples quote it
        if (s.keyUri || s.psshData) lines.push(`#EXT-X-KEY:METHOD=${method},URI=${q(s.keyUri ?? `data:text/plain;charset=UTF-16;base64,${b64(s.psshData!)}`)},KEYFORMAT="com.microsoft.playready",KEYFORMATVERSIONS="1"`);
        break;
      case 'clearkey':
        lines.push(`#EXT-X-KEY:METHOD=${method},URI=${q(s.keyUri ?? s.licenseUrl ?? `data:text/plain;base64,${b64(psshOf(e, s))}`)},KEYID=${hex(e.keyId!)},KEYFORMAT="org.w3.clearkey",KEYFORMATVERSIONS="1"`);
        break;
    }
  }
  return lines;
}

/**
 * The EXT-X-KEY lines of a media playlist, and where they go: `beforeMap` (sample encryption:
 * the init segment is not encrypted, and players want the keys before it) or after EXT-X-MAP
 * (AES-128 of fMP4 segments: after the map, so the init segment stays clear).
 */
export function hlsKeyLines(e: Encryption, container: 'ts' | 'fmp4'): { lines: string[]; beforeMap: boolean; version: number } {
  checkEncryption(e);
  if ((e.scheme === 'aes-128' || e.scheme === 'sample-aes') && !e.keyUri) throw new MediaError('BAD_ENCRYPTION', `HLS ${e.scheme} needs a key URI`);
  const iv = e.iv ? `,IV=${hex(e.iv)}` : '';
  switch (e.scheme) {
    case 'aes-128':
      return { lines: [`#EXT-X-KEY:METHOD=AES-128,URI=${q(e.keyUri!)}${iv}`], beforeMap: false, version: 0 };
    case 'sample-aes': {
      if (container !== 'ts') throw new MediaError('BAD_ENCRYPTION', 'SAMPLE-AES of MPEG-TS samples applies to MPEG-TS; fMP4 uses cbcs');
      const lines = [`#EXT-X-KEY:METHOD=SAMPLE-AES,URI=${q(e.keyUri!)}${iv}`];
      const fp = systemsOf(e).find((s) => s.name === 'fairplay');
      if (fp) lines.push(`#EXT-X-KEY:METHOD=SAMPLE-AES,URI=${q(fp.keyUri ?? `skd://${Buffer.from(e.keyId ?? e.key).toString('hex')}`)}${iv},KEYFORMAT="com.apple.streamingkeydelivery",KEYFORMATVERSIONS="1"`);
      return { lines, beforeMap: true, version: 5 };
    }
    default:
      if (container !== 'fmp4') throw new MediaError('BAD_ENCRYPTION', `${e.scheme} encrypts fMP4 samples, not MPEG-TS`);
      return { lines: commonEncryptionKeyLines(e), beforeMap: true, version: 5 };
  }
}

/** The namespace declarations the MPD root needs for mpdContentProtection's elements. */
export function mpdNamespaces(e: Encryption): string {
  checkEncryption(e);
  const ns = [' xmlns:cenc="urn:mpeg:cenc:2013"'];
  if (systemsOf(e).some((s) => s.name === 'playready')) ns.push(' xmlns:mspr="urn:microsoft:playready"');
  if (systemsOf(e).some((s) => s.licenseUrl && s.name !== 'fairplay')) ns.push(' xmlns:dashif="https://dashif.org/CPS"');
  if (systemsOf(e).some((s) => s.name === 'clearkey' && s.licenseUrl)) ns.push(' xmlns:clearkey="http://dashif.org/guidelines/clearKey"');
  return ns.join('');
}

/**
 * ContentProtection elements of an AdaptationSet: the scheme with cenc:default_KID, then one per
 * system with its pssh (and PlayReady's PRO, and a licence URL where one is given: dash.js and
 * Shaka read dashif:laurl, older dash.js clearkey:Laurl).
 */
export function mpdContentProtection(e: Encryption): string[] {
  const out = [`<ContentProtection schemeIdUri="urn:mpeg:dash:mp4protection:2011" value="${e.scheme}" cenc:default_KID="${uuidOf(e.keyId!)}"/>`];
  for (const s of systemsOf(e)) {
    if (s.name === 'fairplay') continue;
    const laurl = s.licenseUrl ? `<dashif:laurl>${esc(s.licenseUrl)}</dashif:laurl>` : '';
    const pssh = `<cenc:pssh>${b64(psshOf(e, s))}</cenc:pssh>`;
    if (s.name === 'clearkey') {
      const ck = s.licenseUrl ? `<clearkey:Laurl Lic_type="EME-1.0">${esc(s.licenseUrl)}</clearkey:Laurl>` : '';
      // DASH-IF's ClearKey id first, without a pssh: dash.js (5.2) asks the CDM with "keyids" init
      // data for ClearKey, which it builds from cenc:default_KID only for this id (a pssh given to
      // it as "keyids" fails in generateRequest); then the W3C common system id with its pssh,
      // the one mpd-parser knows ClearKey by (Shaka takes either)
      out.push(`<ContentProtection schemeIdUri="urn:uuid:${DASH_IF_CLEARKEY}" value="ClearKey1.0">${laurl}${ck}</ContentProtection>`);
      out.push(`<ContentProtection schemeIdUri="urn:uuid:${SYSTEM_IDS.clearkey}" value="ClearKey1.0">${laurl}${ck}${pssh}</ContentProtection>`);
    } else if (s.name === 'widevine') {
      out.push(`<ContentProtection schemeIdUri="urn:uuid:${SYSTEM_IDS.widevine}" value="Widevine">${laurl}${pssh}</ContentProtection>`);
    } else {
      const pro = s.psshData ? `<mspr:pro>${b64(s.psshData)}</mspr:pro>` : '';
      out.push(`<ContentProtection schemeIdUri="urn:uuid:${SYSTEM_IDS.playready}" value="MSPR 2.0">${laurl}${pro}${pssh}</ContentProtection>`);
    }
  }
  return out;
}

/** Smooth Streaming's Protection element, when a PlayReady header (its PRO) is given; else "". */
export function mssProtection(e: Encryption): string {
  checkEncryption(e);
  const pr = systemsOf(e).find((s) => s.name === 'playready' && s.psshData);
  if (!pr) return '';
  return `<Protection><ProtectionHeader SystemID="${SYSTEM_IDS.playready.toUpperCase()}">${b64(pr.psshData!)}</ProtectionHeader></Protection>`;
}
