// What the evaluation of a profile's rules decides. The rules themselves are catalog records
// (src/catalog/types.ts: AccessRule, Condition, RuleAction, AccessContext).
import type { RuleAction } from '../catalog/types.js';

/** What the rules of one profile decided for one request. */
export interface AccessDecision {
  /** Indexes of the rules that were fulfilled, in order. */
  firedRules: number[];
  messages: string[];
  /** Coded messages, e.g. { code: 'SESSION_RESTRICTED', message: '...' }. */
  codedMessages: { code: string; message: string }[];
  blocked: boolean;
  /** Minimum PREVIEW limit, seconds; null when no preview action applies. */
  previewSeconds: number | null;
  limitFlavors: { flavorParamsIds: number[]; isBlockedList: boolean } | null;
  limitDeliveryProfiles: { deliveryProfileIds: number[]; isBlockedList: boolean } | null;
  requestHostRegex: { pattern: string; replacement: string; checkAliveTimeoutMs?: number } | null;
  /** Every fulfilled action, in order, for clients (playback context) and traces. */
  actions: RuleAction[];
}
