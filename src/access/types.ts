// The access-control vocabulary: how rules are stored (the library file and the catalog use this
// very shape) and what their evaluation decides. Modelled on Kaltura's kRule / kCondition /
// kRuleAction objects, with readable names instead of numeric enums; src/api maps both ways.

/** Kaltura ContextType: where a request is evaluated. */
export type AccessContext = 'PLAY' | 'DOWNLOAD' | 'THUMBNAIL' | 'METADATA' | 'EXPORT' | 'SERVE';

export type Condition =
  | { type: 'authenticated'; not?: boolean; privileges?: string[] }
  | { type: 'ip'; not?: boolean; values: string[]; httpHeader?: string; acceptInternalIps?: boolean }
  | { type: 'country'; not?: boolean; values: string[] }
  | { type: 'site'; not?: boolean; values: string[] }
  | { type: 'userAgent'; not?: boolean; values: string[] }
  | { type: 'httpHeader'; not?: boolean; headerName: string; values: string[] }
  | { type: 'sessionType'; not?: boolean; sessionType: number }
  | { type: 'fieldCompare'; not?: boolean; field: 'time'; offset?: number; value: number; comparison: number }
  | { type: 'entryScheduled'; not?: boolean }
  | { type: 'assetProperties'; not?: boolean; properties: Record<string, string | number> }
  | { type: 'hash'; not?: boolean; hashName: string; hashSecret: string }
  | { type: 'or'; not?: boolean; conditions: Condition[] };

export type RuleAction =
  | { type: 'block' }
  | { type: 'preview'; limit: number }
  | { type: 'limitFlavors'; flavorParamsIds: number[]; isBlockedList: boolean }
  | { type: 'limitDeliveryProfiles'; deliveryProfileIds: number[]; isBlockedList: boolean }
  | { type: 'requestHostRegex'; pattern: string; replacement: string };

export interface AccessRule {
  description?: string;
  message?: string;
  code?: string;
  /** Empty or absent: every context. */
  contexts?: AccessContext[];
  conditions?: Condition[];
  actions: RuleAction[];
  stopProcessing?: boolean;
  forceAdminValidation?: boolean;
}

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
  requestHostRegex: { pattern: string; replacement: string } | null;
  /** Every fulfilled action, in order, for clients (playback context) and traces. */
  actions: RuleAction[];
}
