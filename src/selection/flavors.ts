// Flavor selection for playManifest: which of an entry's
// flavors a format offers. Every flavor dropped on the way is recorded with the reason.
import { AssetStatus, type FlavorAsset } from '../catalog/types.js';
import type { AccessDecision } from '../access/types.js';
import { isFlavorAllowed } from '../access/evaluate.js';

export interface SelectionInput {
  /** All flavors of the entry, ascending bitrate (the catalog's order). */
  flavors: readonly FlavorAsset[];
  /** The format as asked (url, download, applehttp, ...). */
  format: string;
  flavorIds: string[] | null;
  flavorParamIds: number[] | null;
  tags: string[][] | null;
  minBitrate: number | null;
  maxBitrate: number | null;
  /** `type/media`: HLS media-playlist mode; no alt audio. */
  mediaPlaylist: boolean;
  limitFlavors: AccessDecision['limitFlavors'];
  /** Asset ids a KS `downloadasset:{id}` privilege lets through LIMIT_FLAVORS. */
  downloadAssetIds: string[];
}

export interface Dropped {
  id: string;
  reason: string;
}

export interface Selection {
  flavors: FlavorAsset[];
  dropped: Dropped[];
  /** How the set was chosen: "flavorIds", "flavorParamIds", "tags [applembr]", ... */
  chosenBy: string;
}

/** The formats kdeliver's packager makes from a flavor's file: HLS, DASH and Smooth Streaming. */
export const PACKAGED_FORMATS = new Set(['applehttp', 'mpegdash', 'sl']);

/** Formats that deliver one progressive file (oneOnly in the reference). */
export const ONE_FLAVOR_FORMATS = new Set(['http', 'rtsp', 'url', 'download']);

/** The reference's default tag groups per format (getDefaultTagsByFormat). */
export function defaultTagGroups(format: string, flavors: readonly FlavorAsset[]): string[][] {
  switch (format) {
    case 'sl':
      return flavors.some((f) => f.tags.includes('ism')) ? [['ism']] : [['ipadnew', 'iphonenew']];
    case 'mpegdash':
      return [['dash'], ['ipadnew', 'iphonenew'], ['ipad', 'iphone']];
    case 'applehttp':
    case 'hds':
      return [['applembr'], ['ipadnew', 'iphonenew'], ['ipad', 'iphone']];
    default:
      return [['mbr'], ['web']];
  }
}

const isAudioOnly = (f: FlavorAsset) => f.tags.includes('audio_only') || f.tags.includes('alt_audio');

export function selectFlavors(input: SelectionInput): Selection {
  const dropped: Dropped[] = [];
  const drop = (list: readonly FlavorAsset[], keep: (f: FlavorAsset) => boolean, reason: string | ((f: FlavorAsset) => string)) =>
    list.filter((f) => {
      if (keep(f)) return true;
      dropped.push({ id: f.id, reason: typeof reason === 'string' ? reason : reason(f) });
      return false;
    });

  // 1. READY flavors, ascending bitrate
  let candidates = drop(input.flavors, (f) => f.status === AssetStatus.READY, 'not READY');

  // a file the packager refuses (a recording cut short, no MP4; found at import) is no rendition:
  // listed, it is one a player may pick and fail on. It is still delivered as a file.
  if (PACKAGED_FORMATS.has(input.format)) {
    candidates = drop(candidates, (f) => f.packagingRefusal === '', (f) => `the packager refuses its file: ${f.packagingRefusal}`);
  }

  // 2. access control LIMIT_FLAVORS; a downloadasset privilege lets its asset through
  const limit = input.limitFlavors;
  if (limit) {
    candidates = drop(
      candidates,
      (f) => input.downloadAssetIds.includes(f.id) || isFlavorAllowed(limit, f, null),
      `access control limits flavors (${limit.isBlockedList ? 'blocked' : 'allowed'}: ${limit.flavorParamsIds.join(',')})`,
    );
  }
  const ready = candidates;

  // 3. explicit asset ids, else params ids; nothing matching falls back to tags silently
  let selected: FlavorAsset[] = [];
  let chosenBy = '';
  if (input.flavorIds?.length) {
    selected = ready.filter((f) => input.flavorIds!.includes(f.id));
    chosenBy = 'flavorIds';
  } else if (input.flavorParamIds?.length) {
    selected = ready.filter((f) => input.flavorParamIds!.includes(f.flavorParamsId));
    chosenBy = 'flavorParamIds';
  }
  if (chosenBy && selected.length === 0) chosenBy += ' matched nothing; fell back to tags';

  // 4. tag groups: the first group any flavor carries wins
  if (selected.length === 0) {
    const groups = input.tags ?? defaultTagGroups(input.format, ready);
    const group = groups.find((g) => ready.some((f) => f.tags.some((t) => g.includes(t))));
    selected = group ? ready.filter((f) => f.tags.some((t) => group.includes(t))) : [];
    chosenBy = chosenBy ? `${chosenBy} [${group?.join(',') ?? 'none'}]` : `tags [${group?.join(',') ?? 'none matched: ' + groups.map((g) => g.join(',')).join(' | ')}]`;
  }
  for (const f of ready) if (!selected.includes(f)) dropped.push({ id: f.id, reason: `not chosen (${chosenBy})` });

  // 5. alternate audio joins adaptive formats
  if (PACKAGED_FORMATS.has(input.format) && !input.mediaPlaylist) {
    for (const f of ready) {
      if (f.tags.includes('alt_audio') && !selected.includes(f)) {
        selected.push(f);
        const i = dropped.findIndex((d) => d.id === f.id);
        if (i >= 0) dropped.splice(i, 1);
      }
    }
  }

  // 6. bitrate range; audio is never dropped; a filter that would leave nothing is not applied
  if (input.minBitrate !== null || input.maxBitrate !== null) {
    const inRange = (f: FlavorAsset) =>
      isAudioOnly(f) || ((input.minBitrate === null || f.bitrate >= input.minBitrate) && (input.maxBitrate === null || f.bitrate <= input.maxBitrate));
    const filtered = selected.filter(inRange);
    if (filtered.length > 0) {
      for (const f of selected) if (!inRange(f)) dropped.push({ id: f.id, reason: `bitrate ${f.bitrate} outside ${input.minBitrate ?? 0}-${input.maxBitrate ?? '∞'} kbit/s` });
      selected = filtered;
    }
  }
  return { flavors: selected, dropped, chosenBy };
}

/**
 * The flavors whose file the packager does not refuse first, each part in its order: where one
 * flavor is picked for the entry (progressive play, download, a clip), a file cut short or no MP4
 * at all is picked only when the entry has no other. Its unknown bitrate (0) would otherwise make
 * it the lowest, the one picked.
 */
export const playableFirst = <T extends Pick<FlavorAsset, 'packagingRefusal'>>(flavors: readonly T[]): T[] =>
  [...flavors.filter((f) => f.packagingRefusal === ''), ...flavors.filter((f) => f.packagingRefusal !== '')];

/** One-flavor formats keep the first (lowest-bitrate) flavor, a playable one first (playableFirst). */
export function keepFirst(sel: Selection): Selection {
  if (sel.flavors.length <= 1) return sel;
  const [first, ...rest] = playableFirst(sel.flavors);
  return { ...sel, flavors: [first], dropped: [...sel.dropped, ...rest.map((f) => ({ id: f.id, reason: 'format delivers one flavor' }))] };
}

/**
 * Drops redundant flavors (the reference's optimizeFlavors): sorted by frame size, bitrate and
 * id, a flavor is dropped when a later one has at least its frame size and bitrate and their
 * bitrates differ by at most 5 % of the later one's. Audio and watermark flavors stay.
 */
export function dropRedundant(sel: Selection, disabled = false): Selection {
  if (disabled || sel.flavors.length < 2) return sel;
  const area = (f: FlavorAsset) => f.width * f.height;
  const sorted = [...sel.flavors].sort((a, b) => area(a) - area(b) || a.bitrate - b.bitrate);
  const redundant = new Set<FlavorAsset>();
  for (let i = 0; i < sorted.length; i++) {
    const f = sorted[i];
    if (area(f) === 0 || f.tags.some((t) => t.includes('watermark'))) continue;
    const later = sorted.slice(i + 1).find((g) => area(g) >= area(f) && g.bitrate >= f.bitrate && g.bitrate - f.bitrate <= g.bitrate * 0.05);
    if (later) redundant.add(f);
  }
  if (redundant.size === 0) return sel;
  return {
    ...sel,
    flavors: sel.flavors.filter((f) => !redundant.has(f)),
    dropped: [...sel.dropped, ...[...redundant].map((f) => ({ id: f.id, reason: 'redundant: a larger flavor is within 5 % of its bitrate' }))],
  };
}
