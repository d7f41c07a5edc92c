// The delivery stage of playManifest, as src/playback.ts calls it: which delivery profile serves
// the chosen flavors (profiles.ts), the URLs in that profile's layout (urls.ts), and the
// tokenizer that signs them (tokenizers/). Each function says what it decided through `note`, so
// the decision trace has it.
import type { RequestEnv } from '../env.js';
import { AssetStatus, EntryStatus, EntryType, type CaptionAsset, type DeliveryProfile, type Entry, type FlavorAsset, type Partner, type StorageProfile } from '../catalog/types.js';
import type { AccessDecision } from '../access/types.js';
import type { PlayRequest } from '../request/play-request.js';
import { fail } from '../errors.js';
import { resolveDeliveryProfile } from './profiles.js';
import { ProfileType, downloadFileName, flavorUrls, hlsFmp4Reason, profileBase, subtitlePlaylists, type UrlOptions } from './urls.js';
import { tokenizeUrls } from './tokenizers/index.js';
import { TokenizerError, bool } from './tokenizers/common.js';
import { signMediaUrl } from './tokenizers/kaltura.js';

export type DeliveryNote = (stage: 'delivery' | 'tokenizer' | 'selection', message: string) => void;

/** The formats playManifest knows (url and download are http by now); any other is error 25. */
const KNOWN_FORMATS = new Set([
  'http', 'applehttp', 'mpegdash', 'hdnetworkmanifest', 'hdnetwork', 'hdnetworksmil', 'sl', 'rtmp', 'rtsp',
  'hds', 'hls', 'auto', 'multicast_silverlight', 'applehttp_to_mc',
]);

/** The formats whose answer may play a sequence of entries. */
const SEQUENCE_FORMATS = new Set(['applehttp', 'mpegdash', 'hdnetworkmanifest']);

export interface ChosenProfile {
  profile: DeliveryProfile;
  /** The external storage the URLs are built on, or null for this server's own files. */
  storage: StorageProfile | null;
}

/** Whether the chosen profile's URLs come back to this server (its own paths, its own files). */
export const servedHere = (chosen: ChosenProfile): boolean => chosen.profile.url.startsWith('/') && !chosen.storage;

/**
 * The delivery profile for a (normalised) format: the requested ids, the partner's list or the
 * defaults, filtered by the access decision's limit. An unknown format, or no profile, is error
 * 25; hdnetwork needs none (Kaltura renders it without one).
 */
export async function chooseProfile(
  env: Pick<RequestEnv, 'catalog'>,
  input: { partner: Partner; entry: Entry; format: string; req: PlayRequest; flavors: FlavorAsset[]; access: AccessDecision | null; secured: boolean },
  note: DeliveryNote,
): Promise<ChosenProfile> {
  const { format, req } = input;
  if (!KNOWN_FORMATS.has(format)) {
    note('delivery', `unknown format ${format}`);
    fail('BAD_QUERY', ', This format is unsupported');
  }
  const resolved = await resolveDeliveryProfile({
    catalog: env.catalog, partner: input.partner, entry: input.entry, format: format === 'hdnetworksmil' ? 'hdnetwork' : format,
    protocol: req.protocol, requestedIds: req.deliveryProfileIds, flavors: input.flavors,
    limit: input.access?.limitDeliveryProfiles ?? null, secured: input.secured, storageId: req.storageId,
  });
  for (const line of resolved.trace) note('delivery', line);
  if (!resolved.profile && format !== 'hdnetwork') fail('BAD_QUERY', ', This format is unsupported');
  return { profile: resolved.profile ?? hdNetworkProfile(), storage: resolved.storage };
}

/**
 * The entries of a `sequence/{ids}` request that play (the partner's, READY media clips), in
 * order; none when the format plays no sequence or none of the ids does.
 */
export async function sequenceEntries(env: Pick<RequestEnv, 'catalog'>, entry: Entry, format: string, req: PlayRequest): Promise<Entry[]> {
  if (!req.sequence || !SEQUENCE_FORMATS.has(format)) return [];
  return (await Promise.all(req.sequence.map((id) => env.catalog.getEntry(id)))).filter((e): e is Entry =>
    !!e && e.partnerId === entry.partnerId && e.status === EntryStatus.READY && e.type === EntryType.MEDIA_CLIP);
}

/**
 * The media URLs of the answer in the chosen profile's layout (one per flavor, or one manifest
 * URL for packager redirect profiles; none for hdnetwork), and the duration a sequence of
 * entries (sequenceEntries) changes. `download`: the attachment's file name goes into the URL.
 */
export async function mediaUrls(
  env: Pick<RequestEnv, 'catalog' | 'baseUrl'>,
  input: { entry: Entry; format: string; download: boolean; req: PlayRequest; clipTo: number; flavors: FlavorAsset[]; chosen: ChosenProfile; durationSec: number | null; sequence: readonly Entry[] },
  note: DeliveryNote,
): Promise<{ urls: string[]; durationSec: number | null }> {
  const { catalog } = env;
  const { entry, req, flavors, chosen, sequence } = input;
  let durationSec = input.durationSec;
  const opts: UrlOptions = {
    entry, protocol: req.protocol, baseUrl: env.baseUrl, seekFrom: req.seekFrom, clipTo: input.clipTo, playbackRate: req.playbackRate,
    tracks: req.tracks, downloadName: input.download ? await downloadFileName(entry, flavors[0], catalog) : null,
    sequence: null, sequenceFlavors: [], disableCaptions: req.disableCaptions, defaultAudioLang: req.defaultAudioLang,
  };
  if (sequence.length) {
    opts.sequence = sequence.map((e) => e.id);
    const params = new Set(flavors.map((f) => f.flavorParamsId));
    const others = await Promise.all(sequence.filter((e) => e.id !== entry.id).map((e) => catalog.listFlavors(e.id)));
    opts.sequenceFlavors = others.flat().filter((f) => params.has(f.flavorParamsId));
    durationSec = sequence.reduce((sum, e) => sum + e.duration, 0);
    note('selection', `sequence of ${sequence.length} entr${sequence.length === 1 ? 'y' : 'ies'}: ${opts.sequence.join(', ')}; flavors matched by params ids`);
  }
  if (input.format === 'hdnetwork') return { urls: [], durationSec };
  const storage = chosen.storage;
  const external = storage
    ? { storage, paths: (await Promise.all(flavors.map((f) => catalog.listRemoteFiles(f.id)))).map((files) => files.find((r) => r.storageProfileId === storage.id)?.path ?? '') }
    : null;
  if (storage) note('delivery', `files served from external storage ${storage.id} (${storage.name})`);
  const fmp4 = external ? null : hlsFmp4Reason(flavors, chosen.profile, opts);
  if (fmp4) {
    const { flavor: f, why } = fmp4;
    note('delivery', `HLS as fMP4 (/container/fmp4/): flavor ${f.id}${f.entryId === entry.id ? '' : ` of entry ${f.entryId}`} plays, and ${why}`);
  }
  return { urls: flavorUrls(flavors, chosen.profile, opts, external), durationSec };
}

/**
 * Whether the chosen profile's URLs reach kdeliver's own media routes: its URL is a path on this
 * server or names this server's own host, or the profile says that a CDN in front of kdeliver
 * answers it (`extraParams.kdeliverOrigin: true`; the CDN passes the path on as it is). Only such
 * URLs carry kdeliver's media signature, and the caller's KS under it: another host never sees
 * either (a CDN's or a third party's logs keep URL paths).
 */
export function reachesKdeliver(chosen: ChosenProfile, baseUrl: string): boolean {
  if (chosen.storage) return false;
  if (chosen.profile.url.startsWith('/') || bool(chosen.profile.extraParams ?? {}, 'kdeliverOrigin')) return true;
  // the same host name (its port aside: kdeliver behind a proxy on another port is still kdeliver)
  const host = (u: string) => new URL(u).hostname.replace(/\.$/, '');
  try {
    return host(profileBase(chosen.profile, 'http', baseUrl)) === host(baseUrl);
  } catch {
    return false;
  }
}

/**
 * The tokenizers that rewrite the part of the path kdeliver's signature covers (the `kaltura`
 * tokenizer moves /fileName/ out of it and adds an /exp/…/sig/… of its own, which an edge would
 * read as kdeliver's; the `ks` tokenizer with usePath puts /ks/… before /name/): they cannot carry
 * a signed URL.
 */
const rewritesSignedPath = (t: NonNullable<DeliveryProfile['tokenizer']>): boolean => t.type === 'kaltura' || (t.type === 'ks' && bool(t, 'usePath'));

/**
 * The tokenizer stage. kdeliver's own signature goes on the media of an entry with access-control
 * rules (or held back by moderation or a schedule) when the URLs reach kdeliver (reachesKdeliver):
 * the media routes refuse such media unsigned (src/serve/media-access.ts). The HLS subtitle
 * playlists sit beside the first flavor's playlist under that signature. Then the profile's CDN
 * tokenizer signs every URL, the subtitle playlists each with their own token (a token is for its
 * URL alone).
 */
export async function signUrls(
  env: Pick<RequestEnv, 'catalog' | 'config' | 'now' | 'baseUrl'>,
  input: { entry: Entry; req: PlayRequest; chosen: ChosenProfile; urls: string[]; captions: CaptionAsset[]; durationSec: number | null; hasRules: boolean },
  note: DeliveryNote,
): Promise<{ urls: string[]; subtitleUrls: string[]; signed: boolean }> {
  const { entry, req, chosen } = input;
  const profile = chosen.profile;
  let urls = input.urls;
  let signed = false;
  // where the URLs lead matters only to an entry with rules (signed or not) or captions (their KS)
  const reaches = (input.hasRules || input.captions.length > 0) && reachesKdeliver(chosen, env.baseUrl);
  if (input.hasRules && !reaches && !chosen.storage) {
    note('tokenizer', `no kdeliver media signature: profile ${profile.id}'s host is not this server's (a CDN in front of kdeliver says so with extraParams.kdeliverOrigin); kdeliver refuses these URLs if they come back to it`);
  }
  if (input.hasRules && reaches) {
    if (profile.tokenizer && rewritesSignedPath(profile.tokenizer)) {
      note('tokenizer', `the ${profile.tokenizer.type} tokenizer rewrites the path kdeliver's signature covers`);
      throw new TokenizerError(`delivery profile ${profile.id}: its ${profile.tokenizer.type} tokenizer${profile.tokenizer.type === 'ks' ? ' with usePath' : ''} rewrites the path kdeliver's media signature covers, so entry ${entry.id}'s protected media cannot be served through it; use another tokenizer${profile.tokenizer.type === 'ks' ? ' or usePath false' : ''}`);
    }
    // the KS under the signature is also the one the packager writes into an encrypted entry's
    // key and licence URLs (src/packaging/packager.ts)
    urls = urls.map((u) => signMediaUrl(u, env.config.mediaUrlSecret, env.now, undefined, req.ks));
    note('tokenizer', 'kdeliver media signature applied (the entry has access-control rules)');
    signed = true;
  }
  // the KS goes into api_v3 subtitle URLs only where they reach kdeliver (another host's logs never see it)
  let subtitleUrls = await subtitlePlaylists(env, urls, input.captions, profile, reaches ? req.ks : null, input.durationSec);
  if (profile.tokenizer) {
    const ctx = {
      now: env.now, ks: req.ks, clientIp: req.clientIp, entryId: entry.id, partnerId: entry.partnerId,
      baseUrl: profileBase(profile, req.protocol, env.baseUrl),
    };
    urls = tokenizeUrls(profile.tokenizer, urls, ctx);
    subtitleUrls = tokenizeUrls(profile.tokenizer, subtitleUrls, ctx);
    note('tokenizer', `${profile.tokenizer.type} tokenizer applied`);
    signed = true;
  }
  return { urls, subtitleUrls, signed };
}

/** The captions a player is offered: READY, shown on the player, unless the request disables them. */
export async function playerCaptions(env: Pick<RequestEnv, 'catalog'>, entry: Entry, disabled: boolean): Promise<CaptionAsset[]> {
  return disabled ? [] : (await env.catalog.listCaptions(entry.id)).filter((c) => c.status === AssetStatus.READY && c.displayOnPlayer);
}

/** hdnetwork needs no delivery profile (the reference renders it without one). */
function hdNetworkProfile(): DeliveryProfile {
  return {
    id: 0, partnerId: 0, name: 'Akamai HD network (no profile)', type: ProfileType.AKAMAI_HD, streamerType: 'hdnetwork', url: '/',
    isDefault: false, priority: 0, active: true, mediaProtocols: [], tokenizer: null, enforceDeliveriesSupport: [], maxSize: null,
    extraParams: {},
  };
}
