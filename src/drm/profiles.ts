// A partner's DRM profiles (Kaltura's KalturaDrmProfile per provider and partner): the Widevine,
// PlayReady and FairPlay licence servers the players of its encrypted entries use. kdeliver runs
// none of them; it writes their signalling into the manifests and init segments (keys.ts) and
// lists them in getPlaybackContext's `drm` array under Kaltura's scheme names, which the Kaltura
// web player maps to EME key systems:
//   DASH sources: drm.WIDEVINE_CENC, drm.PLAYREADY_CENC (Kaltura's CENC provider gives both)
//   HLS sources:  fairplay.FAIRPLAY, with `certificate`
// kdeliver's own ClearKey licence (kdeliver.CLEAR_KEY) is always there as well.
import type { DrmProfile, DrmProvider, Entry, Partner } from '../catalog/types.js';

/** Kaltura's KalturaDrmSchemeName of each provider, as its playback context lists them. */
export const DRM_SCHEME_NAMES: Record<DrmProvider, string> = {
  widevine: 'drm.WIDEVINE_CENC',
  playready: 'drm.PLAYREADY_CENC',
  fairplay: 'fairplay.FAIRPLAY',
};

/** The partner's profile of one provider, if it has one. */
export const drmProfile = (partner: Pick<Partner, 'drmProfiles'> | null | undefined, provider: DrmProvider): DrmProfile | undefined =>
  partner?.drmProfiles?.find((p) => p.provider === provider);

/** The licence URL of a profile for one entry and caller. */
export function profileLicenseUrl(p: DrmProfile, entry: Entry, ks: string | undefined): string {
  return p.licenseServerUrl
    .replace(/\{partnerId\}/g, String(entry.partnerId))
    .replace(/\{entryId\}/g, encodeURIComponent(entry.id))
    .replace(/\{ks\}/g, ks ? encodeURIComponent(ks) : '');
}

/** FairPlay's EXT-X-KEY URI for an entry (the player takes the content id from it). */
export function fairPlayKeyUri(p: DrmProfile, entry: Entry, keyId: Uint8Array): string {
  return (p.keyUri ?? 'skd://{keyId}').replace(/\{entryId\}/g, entry.id).replace(/\{keyId\}/g, Buffer.from(keyId).toString('hex'));
}

/** KalturaDrmPlaybackPluginData (FairPlay: KalturaFairPlayPlaybackPluginData) of a source of this format. */
export function playbackDrmData(partner: Pick<Partner, 'drmProfiles'> | null, entry: Entry, format: 'applehttp' | 'mpegdash', ks: string | undefined): Array<Record<string, string>> {
  const wanted: DrmProvider[] = format === 'mpegdash' ? ['widevine', 'playready'] : ['fairplay'];
  const out: Array<Record<string, string>> = [];
  for (const provider of wanted) {
    const p = drmProfile(partner, provider);
    if (!p) continue;
    out.push(provider === 'fairplay'
      ? { objectType: 'KalturaFairPlayPlaybackPluginData', scheme: DRM_SCHEME_NAMES.fairplay, licenseURL: profileLicenseUrl(p, entry, ks), certificate: p.publicCertificate ?? '' }
      : { objectType: 'KalturaDrmPlaybackPluginData', scheme: DRM_SCHEME_NAMES[provider], licenseURL: profileLicenseUrl(p, entry, ks) });
  }
  return out;
}
