// A partner's DRM profiles (Kaltura's KalturaDrmProfile per provider and partner): the Widevine,
// PlayReady and FairPlay licence servers the players of its encrypted entries use. kdeliver runs
// none of them; it writes their signalling into the manifests and init segments (keys.ts) and
// lists them in getPlaybackContext's `drm` array under Kaltura's scheme names, which the Kaltura
// web player maps to EME key systems:
//   DASH sources: drm.WIDEVINE_CENC, drm.PLAYREADY_CENC (Kaltura's CENC provider gives both)
//   HLS sources:  fairplay.FAIRPLAY, with `certificate` (base64, the only certificate field the
//                 player reads) and, when the profile has certificateUrl, `certificateURL`: a
//                 kdeliver addition (Kaltura's KalturaFairPlayPlaybackPluginData has no such
//                 field) for players configured to fetch it (Shaka's serverCertificateUri,
//                 hls.js's drmSystems serverCertificateUrl)
// kdeliver's own ClearKey licence (kdeliver.CLEAR_KEY) is always there as well.
import type { DrmProfile, DrmProvider, Entry, Partner } from '../catalog/types.js';
import { fillDrmUrl } from '../catalog/drm-profiles.js';
import { DeliveryError } from '../errors.js';

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
  return fillDrmUrl('licenseServerUrl', p.licenseServerUrl, {
    partnerId: String(entry.partnerId), entryId: encodeURIComponent(entry.id), ks: ks ? encodeURIComponent(ks) : '',
  });
}

/** FairPlay's EXT-X-KEY URI for an entry (the player takes the content id from it). */
export function fairPlayKeyUri(p: DrmProfile, entry: Entry, keyId: Uint8Array): string {
  return fillDrmUrl('keyUri', p.keyUri ?? 'skd://{keyId}', { entryId: entry.id, keyId: Buffer.from(keyId).toString('hex') });
}

export type PlaybackDrmData = { objectType: string; scheme: string; licenseURL: string; certificate?: string; certificateURL?: string };

/** KalturaDrmPlaybackPluginData (FairPlay: KalturaFairPlayPlaybackPluginData) of a source of this format. */
export function playbackDrmData(partner: Pick<Partner, 'drmProfiles'> | null, entry: Entry, format: 'applehttp' | 'mpegdash', ks: string | undefined): PlaybackDrmData[] {
  const wanted: DrmProvider[] = format === 'mpegdash' ? ['widevine', 'playready'] : ['fairplay'];
  const out: PlaybackDrmData[] = [];
  for (const provider of wanted) {
    const p = drmProfile(partner, provider);
    if (!p) continue;
    out.push(provider === 'fairplay'
      ? {
        objectType: 'KalturaFairPlayPlaybackPluginData', scheme: DRM_SCHEME_NAMES.fairplay, licenseURL: profileLicenseUrl(p, entry, ks),
        ...(p.publicCertificate ? { certificate: p.publicCertificate } : {}), ...(p.certificateUrl ? { certificateURL: p.certificateUrl } : {}),
      }
      : { objectType: 'KalturaDrmPlaybackPluginData', scheme: DRM_SCHEME_NAMES[provider], licenseURL: profileLicenseUrl(p, entry, ks) });
  }
  return out;
}

/**
 * Smooth Streaming signals PlayReady only (its manifest's Protection header): an encrypted entry
 * of a partner without a PlayReady profile has no MSS a player could decrypt, so it is refused
 * (error 3, as other deliveries of encrypted entries kdeliver cannot make), never served clear
 * and never served encrypted without a way to its key.
 */
export function checkSmoothStreaming(partner: Pick<Partner, 'drmProfiles'> | null | undefined, entry: Entry): void {
  if (drmProfile(partner, 'playready')) return;
  throw new DeliveryError('ACCESS_CONTROL_RESTRICTED', `, ${entry.id} is encrypted and Smooth Streaming signals PlayReady only: partner ${entry.partnerId} has no PlayReady DRM profile; play it as DASH or HLS`);
}

/**
 * The licence sources of an encrypted entry's format, for the decision trace: kdeliver's own key
 * or ClearKey licence, and each configured licence server by provider and host (never the KS).
 */
export function drmSystemsOf(partner: Pick<Partner, 'drmProfiles'> | null | undefined, format: string): string[] {
  const own = format === 'applehttp' ? ['kdeliver (HLS key URI; ClearKey for fMP4)'] : format === 'sl' ? [] : ['kdeliver (ClearKey)'];
  const providers: DrmProvider[] = format === 'applehttp' ? ['widevine', 'playready', 'fairplay'] : format === 'sl' ? ['playready'] : ['widevine', 'playready'];
  const others = providers.flatMap((p) => {
    const profile = drmProfile(partner, p);
    if (!profile) return [];
    let host = '';
    try { host = new URL(profile.licenseServerUrl.replace(/\{\w+\}/g, 'x')).host; } catch { /* validated when stored */ }
    return [`${p} (${host})`];
  });
  return [...own, ...others];
}
