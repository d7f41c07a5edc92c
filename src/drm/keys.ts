// The keys an encrypted entry is packaged with: the catalog's (src/catalog/keys.ts), or the
// external key service's when KDELIVER_DRM_KEY_SERVICE_URL is set (key-service.ts), and the
// Encryption description the media core's writers take for each packaging. No HTTP here.
import { createHash } from 'node:crypto';
import type { Catalog } from '../catalog/store.js';
import type { DrmProvider, Entry, Partner } from '../catalog/types.js';
import type { Config } from '../config.js';
import { SYSTEM_IDS, type DrmSystem, type Encryption } from '../media/crypto/encryption.js';
import { serviceKeys, type ServiceKeys } from './key-service.js';
import { drmProfile, fairPlayKeyUri, profileLicenseUrl } from './profiles.js';
import { playReadyObject, widevinePsshData } from '../media/crypto/pssh-data.js';
import { ksForPath } from '../access/ks.js';

/** An entry's key, key id, and from a key service its IV and pssh data (none from the catalog). */
export type ContentKeys = ServiceKeys;

export interface KeyDeps {
  catalog: Catalog;
  config: Pick<Config, 'drmKeyServiceUrl'>;
}

/** The entry's content key and key id. Throws KeyServiceError (502) when the key service fails. */
export async function contentKeys(deps: KeyDeps, entry: Entry): Promise<ContentKeys> {
  if (deps.config.drmKeyServiceUrl) return serviceKeys(deps.config.drmKeyServiceUrl, entry);
  const k = await deps.catalog.getEntryKeys(entry.id);
  return { key: Buffer.from(k.key, 'hex'), keyId: Buffer.from(k.keyId, 'hex'), pssh: [] };
}

/** The ways an entry's media is packaged, each with its own encryption. */
export type Packaging = 'hls-ts' | 'hls-fmp4' | 'dash' | 'mss';

export interface SchemeChoice {
  /** MPEG-TS HLS: whole-segment AES-128 (the default) or SAMPLE-AES. */
  ts: 'aes-128' | 'sample-aes';
  /** fMP4 (DASH, HLS fMP4): cenc (AES-CTR, the default) or cbcs. Smooth Streaming is always cenc. */
  common: 'cenc' | 'cbcs';
}

export const DEFAULT_SCHEMES: SchemeChoice = { ts: 'aes-128', common: 'cenc' };

const systemOf = (uuid: string): DrmSystem['name'] | undefined =>
  (Object.keys(SYSTEM_IDS) as DrmSystem['name'][]).find((n) => SYSTEM_IDS[n] === uuid);

/** Who the encryption is for: the partner's DRM profiles (profiles.ts) are signalled with their licence URLs. */
export interface DrmAudience {
  partner: Pick<Partner, 'drmProfiles'> | null;
  entry: Entry;
  /** The request's KS, for licence URLs that carry it ({ks}). */
  ks: string | undefined;
}

/**
 * The writers' description for one packaging. `keyUri`: the HLS key URI of aes-128 and
 * sample-aes; `licenseUrl`: the ClearKey licence endpoint written into MPDs and fMP4 playlists.
 * Each DRM profile of the partner adds its system: Widevine and PlayReady to every cenc/cbcs
 * packaging (pssh data from the key service when it gives some, else made from the key id),
 * FairPlay to the packagings it can play (cbcs fMP4 HLS, SAMPLE-AES MPEG-TS). Smooth Streaming
 * signals PlayReady only (the packager refuses it without: src/packaging/packager.ts).
 */
export function encryptionOf(k: ContentKeys, packaging: Packaging, choice: SchemeChoice, urls: { keyUri: string; licenseUrl: string }, audience?: DrmAudience): Encryption {
  const profile = (p: DrmProvider) => (audience ? drmProfile(audience.partner, p) : undefined);
  const fairplay = (): DrmSystem[] => {
    const fp = profile('fairplay');
    return fp && audience ? [{ name: 'fairplay', licenseUrl: profileLicenseUrl(fp, audience.entry, audience.ks), keyUri: fairPlayKeyUri(fp, audience.entry, k.keyId) }] : [];
  };
  if (packaging === 'hls-ts') {
    if (choice.ts === 'aes-128') return { scheme: 'aes-128', key: k.key, keyId: k.keyId, keyUri: urls.keyUri, ...(k.iv ? { iv: k.iv } : {}) };
    // SAMPLE-AES restarts its CBC chain at every sample anyway; an explicit IV (from the key id,
    // never the key) lets FFmpeg decrypt the last frame of each segment too (src/media/crypto)
    const iv = k.iv ?? createHash('sha256').update('kdeliver sample-aes iv').update(k.keyId).digest().subarray(0, 16);
    return { scheme: 'sample-aes', key: k.key, keyId: k.keyId, keyUri: urls.keyUri, iv, systems: fairplay() };
  }
  const scheme = packaging === 'mss' ? 'cenc' : choice.common;
  const given = (name: DrmSystem['name']) => k.pssh.find((p) => systemOf(p.uuid) === name)?.data;
  const systems: DrmSystem[] = [{ name: 'clearkey', licenseUrl: urls.licenseUrl }];
  const wv = profile('widevine');
  if (wv && audience) {
    systems.push({ name: 'widevine', licenseUrl: profileLicenseUrl(wv, audience.entry, audience.ks), psshData: given('widevine') ?? widevinePsshData(k.keyId, audience.entry.id, scheme) });
  } else if (given('widevine')) systems.push({ name: 'widevine', psshData: given('widevine') });
  const pr = profile('playready');
  if (pr && audience) {
    const laUrl = profileLicenseUrl(pr, audience.entry, audience.ks);
    // Smooth Streaming clients read the licence URL from the header; elsewhere it is in the
    // manifest (dashif:laurl) and the pssh stays the same for every session
    systems.push({ name: 'playready', licenseUrl: laUrl, psshData: given('playready') ?? playReadyObject(k.keyId, scheme, packaging === 'mss' ? laUrl : undefined) });
  } else if (given('playready')) systems.push({ name: 'playready', psshData: given('playready') });
  if (packaging === 'hls-fmp4' && scheme === 'cbcs') systems.push(...fairplay());
  return { scheme, key: k.key, keyId: k.keyId, ...(k.iv ? { iv: k.iv } : {}), systems };
}

/** The ClearKey licence endpoint of an entry (routes/drm.ts), with the session that may use it. */
export function licenseUrl(baseUrl: string, entry: Entry, ks: string | undefined): string {
  return `${baseUrl}/p/${entry.partnerId}/sp/${entry.partnerId * 100}/clearKeyLicense/entryId/${entry.id}${ks ? `/ks/${ksForPath(ks)}` : ''}/license`;
}
