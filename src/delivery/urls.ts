// The media URLs playManifest emits, laid out as Kaltura's delivery profiles lay them out:
// serveFlavor paths for progressive delivery, per-flavor packager paths for HLS, and the
// packager's multi-URL (.urlset) for DASH, MSS, HDS and the HLS master; the HLS subtitle
// playlists and format/download's file name. routes/serve-flavor.ts and routes/packager.ts answer
// these URLs.
import type { Catalog } from '../catalog/store.js';
import { AssetStatus, type CaptionAsset, type DeliveryProfile, type Entry, type FlavorAsset, type StorageProfile } from '../catalog/types.js';
import { tsCarriesCodecName, tsCarriesCodecs } from '../media/codecs.js';
import { hasHost } from './profiles.js';

/** Kaltura's DeliveryProfileType values kdeliver knows how to render. */
export const ProfileType = {
  APPLE_HTTP: 1, HDS: 3, HTTP: 4, RTMP: 5, RTSP: 6, SILVER_LIGHT: 7, AKAMAI_HD: 12, AKAMAI_HTTP: 14,
  GENERIC_HTTP: 24, VOD_PACKAGER_HLS: 61, VOD_PACKAGER_HDS: 63, VOD_PACKAGER_MSS: 67, VOD_PACKAGER_DASH: 68,
  VOD_PACKAGER_HLS_MANIFEST: 69,
} as const;

export const PACKAGER_TYPES: ReadonlySet<number> = new Set([61, 63, 67, 68, 69]);

export interface UrlOptions {
  entry: Entry;
  protocol: string;
  /** scheme://host[:port] of this server, for profiles whose url is a path. */
  baseUrl: string;
  seekFrom: number;
  clipTo: number;
  playbackRate: number;
  tracks: string;
  /** format/download: the attachment file name. */
  downloadName: string | null;
  /** sequence/{ids}: entries played one after another, flavors matched by flavor params. */
  sequence: string[] | null;
  /**
   * The flavors of a sequence's other entries that play under the chosen flavors' params: what
   * they carry chooses HLS's container too (hlsFmp4Reason), as the main entry's flavors do.
   */
  sequenceFlavors: FlavorAsset[];
  /** disableCaptions: the packager's manifests (DASH, MSS, the HLS master it writes) leave the captions out. */
  disableCaptions: boolean;
  /** defaultAudioLang: the audio the packager's manifests mark as the default (a language code or name). */
  defaultAudioLang: string | null;
}

/** The profile's base URL with the request's protocol as scheme (VOD URLs never use the request scheme). */
export function profileBase(profile: DeliveryProfile, protocol: string, baseUrl: string): string {
  const key = `${protocol} ${baseUrl} ${profile.url}`;
  let base = bases.get(key);
  if (base === undefined) {
    base = withScheme(protocol, profile.url.startsWith('/') ? baseUrl + profile.url : profile.url);
    // every URL of every answer starts here; a handful of profiles and hosts give a handful of bases
    if (bases.size >= 1000) bases.clear();
    bases.set(key, base);
  }
  return base;
}
const bases = new Map<string, string>();

/** `url` with `protocol` as its scheme (whatever it had, if any) and no trailing slash. */
const withScheme = (protocol: string, url: string): string => `${protocol}://${url.replace(/^[a-z][a-z0-9+.-]*:\/\//i, '')}`.replace(/\/+$/, '');

export const subPartnerId = (entry: Entry) => entry.partnerId * 100;

/** The flavor's file extension; mp4 when the catalog has none, whatever the container. */
export const fileExt = (f: FlavorAsset): string => f.fileExt || 'mp4';

function clipParts(o: UrlOptions): string {
  return `${o.clipTo > 0 ? `/clipTo/${o.clipTo}` : ''}${o.seekFrom > 0 ? `/clipFrom/${o.seekFrom}` : ''}`;
}

/**
 * /p/{pid}/sp/{spid}/serveFlavor/entryId/{eid}[/clipTo/..][/clipFrom/..]/v/{v}/flavorId/{fid}, or for
 * a sequence /p/../entryId/{eid}/sequence/{ids}/v/{entry version}/flavorParamIds/{fpid}.
 */
export function serveFlavorPath(f: FlavorAsset, o: UrlOptions, paramsIds?: number[]): string {
  const e = o.entry;
  const head = `/p/${e.partnerId}/sp/${subPartnerId(e)}/serveFlavor/entryId/${e.id}${clipParts(o)}`;
  if (o.sequence) return `${head}/sequence/${o.sequence.join(',')}/v/${e.version}/flavorParamIds/${(paramsIds ?? [f.flavorParamsId]).join(',')}`;
  return `${head}/v/${f.version}/flavorId/${f.id}`;
}

/** Progressive delivery (AKAMAI_HTTP style): forceproxy unless clipped, name gives the extension. */
export function progressiveUrl(f: FlavorAsset, profile: DeliveryProfile, o: UrlOptions): string {
  const base = profileBase(profile, o.protocol, o.baseUrl);
  const clipped = o.clipTo > 0 || o.seekFrom > 0;
  const fileName = o.downloadName ? `/fileName/${encodeURIComponent(o.downloadName)}` : '';
  return `${base}${serveFlavorPath(f, o)}${fileName}${clipped ? '' : '/forceproxy/true'}/name/a.${fileExt(f)}`;
}

/** One flavor's HLS playlist on the packager (VOD_PACKAGER_HLS renders these into a master body). */
export function packagerHlsIndexUrl(f: FlavorAsset, profile: DeliveryProfile, o: UrlOptions, fmp4: boolean): string {
  const base = profileBase(profile, o.protocol, o.baseUrl);
  const tail = `${o.playbackRate ? `/speed/${o.playbackRate}` : ''}${o.tracks ? `/tracks/${o.tracks}` : ''}`;
  return `${base}${fmp4 ? '/container/fmp4' : ''}${serveFlavorPath(f, o)}/name/a.${fileExt(f)}${tail}/index.m3u8`;
}

/**
 * The packager's multi-URL: the character-level longest common prefix, each distinct middle
 * part, the common suffix, and ".urlset" (VodPackagerDeliveryUtils::generateMultiUrl). One
 * distinct URL is returned as it is.
 */
export function multiUrl(paths: string[]): string {
  const unique = [...new Set(paths)];
  if (unique.length === 1) return unique[0];
  let prefix = unique[0];
  for (const p of unique) while (!p.startsWith(prefix)) prefix = prefix.slice(0, -1);
  let suffix = unique[0].slice(prefix.length);
  for (const p of unique) while (!p.endsWith(suffix) || p.length - suffix.length < prefix.length) suffix = suffix.slice(1);
  const middles = unique.map((p) => p.slice(prefix.length, p.length - suffix.length));
  return `${prefix},${middles.join(',')},${suffix}.urlset`;
}

/** A defaultAudioLang fit for a path segment: a code, a name or a label (no "/", no control characters). */
const LANGUAGE_LIKE = /^[\p{L}\p{M}\p{N} ._()-]{1,60}$/u;

/** Manifest URL of a packager redirect profile (DASH, MSS, HDS, HLS manifest). */
export function packagerManifestUrl(flavors: FlavorAsset[], profile: DeliveryProfile, o: UrlOptions, fmp4 = false): string {
  const base = profileBase(profile, o.protocol, o.baseUrl);
  const tail = `${o.playbackRate ? `/speed/${o.playbackRate}` : ''}${o.tracks ? `/tracks/${o.tracks}` : ''}`;
  let file: string;
  let perFlavor: (f: FlavorAsset) => string;
  switch (profile.type) {
    case ProfileType.VOD_PACKAGER_DASH:
      file = 'manifest.mpd';
      perFlavor = (f) => `${serveFlavorPath(f, o)}/forceproxy/true/name/a.mp4`;
      break;
    case ProfileType.VOD_PACKAGER_MSS:
      file = 'manifest';
      perFlavor = (f) => `${serveFlavorPath(f, o)}/forceproxy/true/name/a.mp4`;
      break;
    case ProfileType.VOD_PACKAGER_HDS:
      file = 'manifest.f4m';
      perFlavor = (f) => `${serveFlavorPath(f, o)}/forceproxy/true/name/a.mp4`;
      break;
    default: // VOD_PACKAGER_HLS_MANIFEST
      file = 'master.m3u8';
      perFlavor = (f) => `${serveFlavorPath(f, o)}/name/a.${fileExt(f)}`;
  }
  // a sequence merges the params ids into one path instead of a .urlset
  const joined = o.sequence
    ? perFlavor({ ...flavors[0] }).replace(/flavorParamIds\/\d+/, `flavorParamIds/${flavors.map((f) => f.flavorParamsId).join(',')}`)
    : multiUrl(flavors.map(perFlavor));
  // what playManifest was asked that the packager's own manifests say: the entry's captions (which
  // it adds itself, where Kaltura adds them to the flavor list) and the default audio
  const audio = o.defaultAudioLang && LANGUAGE_LIKE.test(o.defaultAudioLang) ? `/defaultAudioLang/${encodeURIComponent(o.defaultAudioLang)}` : '';
  const captions = `${o.disableCaptions ? '/disableCaptions/1' : ''}${audio}`;
  return `${base}${fmp4 ? '/container/fmp4' : ''}${joined}${captions}${tail}/${file}`;
}

/**
 * URLs of flavors kept on an external storage: the storage's base URL (or the profile's, when it
 * has a host of its own) followed by each file's path on that storage, in the profile's layout.
 */
export function externalUrls(paths: string[], profile: DeliveryProfile, storage: StorageProfile, protocol: string): string[] {
  const base = withScheme(protocol, hasHost(profile) ? profile.url : storage.baseUrl);
  const rel = paths.map((p) => '/' + p.replace(/^\/+/, ''));
  switch (profile.type) {
    case ProfileType.VOD_PACKAGER_HLS:
    case ProfileType.APPLE_HTTP:
      return rel.map((p) => `${base}${p}/index.m3u8`);
    case ProfileType.VOD_PACKAGER_DASH:
      return [`${base}${multiUrl(rel)}/manifest.mpd`];
    case ProfileType.VOD_PACKAGER_MSS:
      return [`${base}${multiUrl(rel)}/manifest`];
    case ProfileType.VOD_PACKAGER_HDS:
      return [`${base}${multiUrl(rel)}/manifest.f4m`];
    case ProfileType.VOD_PACKAGER_HLS_MANIFEST:
      return [`${base}${multiUrl(rel)}/master.m3u8`];
    default:
      return rel.map((p) => `${base}${p}`);
  }
}

/**
 * Why a flavor's HLS goes as fMP4 (/container/fmp4/) rather than MPEG-TS, or null: when MPEG-TS cannot
 * carry one of its codecs (VP9, AV1, MPEG-4 Part 2 video; Opus, FLAC audio), by the media core's
 * own table of what its TS writer carries (src/media/codecs.ts), whose TS segments would be
 * refused with error 5; and HEVC, which TS carries but Apple's HLS players play from fMP4 only.
 * Its RFC 6381 codecs and its codec names both count (a library file may give `codecs` for the
 * video alone and name an Opus audio); a name or codec this does not know says nothing against TS.
 * And a turned picture (a phone's portrait video stored landscape): MPEG-TS has no place for the
 * turn, so players show it on its side, where fMP4's init segment keeps the track's matrix.
 */
export function whyFmp4(f: Pick<FlavorAsset, 'codecs' | 'videoCodec' | 'audioCodec' | 'rotation'>): string | null {
  if (f.rotation !== 0) return `its picture is turned ${f.rotation}° clockwise, which MPEG-TS cannot carry`;
  if (/^(h265|hevc)/i.test(f.videoCodec) || /(^|,)\s*(hvc1|hev1)/i.test(f.codecs)) return 'it is HEVC, which Apple plays from fMP4 only';
  if (!tsCarriesCodecs(f.codecs) || !tsCarriesCodecName(f.videoCodec) || !tsCarriesCodecName(f.audioCodec)) {
    return `MPEG-TS cannot carry its codecs (${[f.codecs, f.videoCodec, f.audioCodec].filter(Boolean).join(', ')})`;
  }
  return null;
}

/** The profiles whose HLS URLs name their container: MPEG-TS, or fMP4 with /container/fmp4/. */
const HLS_CONTAINER_TYPES: ReadonlySet<number> = new Set([ProfileType.VOD_PACKAGER_HLS, ProfileType.APPLE_HTTP, ProfileType.VOD_PACKAGER_HLS_MANIFEST]);

/**
 * Why an answer's HLS goes as fMP4: the first flavor it plays (a sequence's other entries'
 * included) that needs it, and the reason; null for MPEG-TS, and for profiles whose URLs name no
 * container.
 */
export function hlsFmp4Reason(flavors: readonly FlavorAsset[], profile: DeliveryProfile, o: Pick<UrlOptions, 'sequenceFlavors'>): { flavor: FlavorAsset; why: string } | null {
  if (!HLS_CONTAINER_TYPES.has(profile.type)) return null;
  for (const flavor of [...flavors, ...o.sequenceFlavors]) {
    const why = whyFmp4(flavor);
    if (why !== null) return { flavor, why };
  }
  return null;
}

/**
 * The media URLs of a playManifest answer, in the layout of the chosen profile: per-flavor HLS
 * playlists for HLS packager profiles, one manifest URL for the other packager profiles, one
 * progressive URL per flavor otherwise, or the files' copies on an external storage.
 */
export function flavorUrls(
  flavors: FlavorAsset[], profile: DeliveryProfile, o: UrlOptions,
  external: { storage: StorageProfile; paths: string[] } | null,
): string[] {
  if (external) return externalUrls(external.paths, profile, external.storage, o.protocol);
  const fmp4 = hlsFmp4Reason(flavors, profile, o) !== null;
  if (profile.type === ProfileType.VOD_PACKAGER_HLS || profile.type === ProfileType.APPLE_HTTP) {
    return flavors.map((f) => packagerHlsIndexUrl(f, profile, o, fmp4));
  }
  if (PACKAGER_TYPES.has(profile.type)) {
    return [packagerManifestUrl(flavors, profile, o, fmp4)];
  }
  return flavors.map((f) => progressiveUrl(f, profile, o));
}

/**
 * WebVTT subtitle playlists for the HLS master. On the built-in packager (and packagers with its
 * URL grammar) they sit beside the flavor's playlist as subtitles-{n}.m3u8, n counting the
 * entry's READY captions, and inherit its signature; elsewhere they are Kaltura's api_v3
 * serveWebVTT URLs.
 */
export async function subtitlePlaylists(env: { catalog: Pick<Catalog, 'listCaptions'> }, urls: string[], captions: CaptionAsset[], profile: DeliveryProfile, ks: string | null, durationSec: number | null): Promise<string[]> {
  if (!captions.length || !urls.length) return [];
  if (profile.type === ProfileType.VOD_PACKAGER_HLS && /\/index\.m3u8(\?|$)/.test(urls[0])) {
    const ready = (await env.catalog.listCaptions(captions[0].entryId)).filter((c) => c.status === AssetStatus.READY).map((c) => c.id);
    return captions.map((c) => urls[0].replace(/\/index\.m3u8(?=\?|$)/, `/subtitles-${ready.indexOf(c.id) + 1}.m3u8`));
  }
  const origin = new URL(urls[0]).origin;
  const seg = durationSec ? `/segmentDuration/${Math.ceil(durationSec)}` : '';
  return captions.map((c) => `${origin}/api_v3/index.php/service/caption_captionasset/action/serveWebVTT/captionAssetId/${c.id}${seg}${ks ? `/ks/${ks}` : ''}/version/${c.version}/a.m3u8`);
}

/** format/download file name: "{entry name} ({flavor params name}).{ext}", as Kaltura names it. */
export async function downloadFileName(entry: Entry, flavor: FlavorAsset, catalog: Pick<Catalog, 'getFlavorParams'>): Promise<string> {
  const params = await catalog.getFlavorParams(flavor.flavorParamsId);
  const base = params && flavor.flavorParamsId !== 0 ? `${entry.name} (${params.name})` : entry.name;
  return `${base.replace(/[\\/:*?"<>|\r\n]+/g, '_')}.${flavor.fileExt || 'mp4'}`;
}
