// The keys an encrypted entry is packaged with: the catalog's (src/catalog/keys.ts), or the
// external key service's when KDELIVER_DRM_KEY_SERVICE_URL is set (key-service.ts), and the
// Encryption description the media core's writers take for each packaging. No HTTP here.
import { createHash } from 'node:crypto';
import type { Catalog } from '../catalog/store.js';
import type { Entry } from '../catalog/types.js';
import type { Config } from '../config.js';
import { SYSTEM_IDS, type DrmSystem, type Encryption } from '../media/crypto/encryption.js';
import { serviceKeys, type ServiceKeys } from './key-service.js';
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

/**
 * The writers' description for one packaging. `keyUri`: the HLS key URI of aes-128 and
 * sample-aes; `licenseUrl`: the ClearKey licence endpoint written into MPDs and fMP4 playlists.
 */
export function encryptionOf(k: ContentKeys, packaging: Packaging, choice: SchemeChoice, urls: { keyUri: string; licenseUrl: string }): Encryption {
  if (packaging === 'hls-ts') {
    if (choice.ts === 'aes-128') return { scheme: 'aes-128', key: k.key, keyId: k.keyId, keyUri: urls.keyUri, ...(k.iv ? { iv: k.iv } : {}) };
    // SAMPLE-AES restarts its CBC chain at every sample anyway; an explicit IV (from the key id,
    // never the key) lets FFmpeg decrypt the last frame of each segment too (src/media/crypto)
    const iv = k.iv ?? createHash('sha256').update('kdeliver sample-aes iv').update(k.keyId).digest().subarray(0, 16);
    return { scheme: 'sample-aes', key: k.key, keyId: k.keyId, keyUri: urls.keyUri, iv };
  }
  const systems: DrmSystem[] = [{ name: 'clearkey', licenseUrl: urls.licenseUrl }];
  for (const p of k.pssh) {
    const name = systemOf(p.uuid);
    if (name === 'widevine' || name === 'playready') systems.push({ name, psshData: p.data });
  }
  const scheme = packaging === 'mss' ? 'cenc' : choice.common;
  return { scheme, key: k.key, keyId: k.keyId, ...(k.iv ? { iv: k.iv } : {}), systems };
}

/** The ClearKey licence endpoint of an entry (routes/drm.ts), with the session that may use it. */
export function licenseUrl(baseUrl: string, entry: Entry, ks: string | undefined): string {
  return `${baseUrl}/p/${entry.partnerId}/sp/${entry.partnerId * 100}/clearKeyLicense/entryId/${entry.id}${ks ? `/ks/${ksForPath(ks)}` : ''}/license`;
}
