// What resolving a playManifest request decides (Playback, with its decision trace): made by
// src/playback.ts, read by the renderers (src/render/), the answer cache, api_v3's playback
// context and the console. Declared apart from all of them, so that none imports another for it.
import type { AccessDecision } from '../access/types.js';
import type { Ks } from '../access/ks.js';
import type { CaptionAsset, DeliveryProfile, Entry, FlavorAsset, Partner } from '../catalog/types.js';
import type { PlayRequest } from '../request/play-request.js';

/**
 * The stages of the decision trace, in the order they run; `request` is the parse, `render` the
 * renderer's choice, `key` an encrypted entry's key decision (the key URI, the licence).
 */
export const STAGES = ['request', 'entry', 'session', 'access', 'key', 'selection', 'delivery', 'tokenizer', 'render'] as const;

export interface TraceStep {
  stage: typeof STAGES[number];
  message: string;
  data?: unknown;
}

/** What a KS of a later request is verified against before a kept session answer is given to it. */
export interface KeptSession {
  entry: Entry;
  partner: Partner;
  /** As the decision store passes it to the session check: the media are signed. */
  hasRules: boolean;
  /** The session facts the decision read (src/playback.ts facetOf). */
  facet: string;
}

export interface Playback {
  request: PlayRequest;
  /** scheme://host[:port] of this server, as in the context. */
  baseUrl: string;
  entry: Entry;
  partner: Partner;
  /** Normalised: url and download become http. */
  format: string;
  /** What the client asked for (url, download, applehttp ...). */
  requestedFormat: string;
  flavors: FlavorAsset[];
  captions: CaptionAsset[];
  profile: DeliveryProfile;
  access: AccessDecision | null;
  ks: Ks | null;
  clipTo: number;
  seekFrom: number;
  durationSec: number | null;
  /** One media URL per flavor (packager redirect profiles: one manifest URL), tokenized. */
  urls: string[];
  /** Seconds the answer may be cached (0: not at all). */
  cacheAge: number;
  /**
   * With cacheAge 0: the answer is still the same for every request of its URL within its second
   * (src/playback.ts finish says when), so the answer cache may give it again in that second.
   */
  sameWithinSecond: boolean;
  /**
   * Set when the answer is the same for every KS of the same session facts (partner, type,
   * privileges) asking the same URL, but for the KS's own text, the second and the signatures
   * made of them (src/playback.ts finish says when): the facts, and what a later request's KS is
   * checked against (src/cache/session-answers.ts keeps such answers).
   */
  keptSession?: KeptSession | null;
  /** HLS subtitle playlist of each caption, in the order of `captions`. */
  subtitleUrls: string[];
  /** Extra X-Kaltura header values, e.g. access-control messages. */
  kalturaHeaders: string[];
  /** X-Kaltura-ACP: the entry's profile and the rules fulfilled (src/access/evaluate.ts acpHeader); absent or null: none. */
  acp?: string | null;
  trace: TraceStep[];
}
