// Delivery errors: Kaltura's numeric KExternalErrors codes, made in one place and rendered in one
// place (render/error.ts). The HTTP status follows the product documentation: 403 when access is
// refused, 404 when the entry or a usable flavor does not exist, 400 for a malformed parameter.
// The media core's own refusals (media/errors.ts) are mapped to these here, at the edge, as
// nginx-vod-module's HTTP glue maps vod/'s error codes.
import { isMediaError, isSourceError, type MediaError, type SourceError } from './media/errors.js';


export interface ErrorKind {
  code: number;
  name: string;
  /** The reference's description text. */
  description: string;
  httpStatus: 400 | 403 | 404 | 405 | 416 | 502 | 503 | 504;
}

const kinds = {
  ENTRY_NOT_FOUND: { code: 1, description: 'requested entry not found', httpStatus: 404 },
  NOT_SCHEDULED_NOW: { code: 2, description: 'entry restricted due to scheduling', httpStatus: 403 },
  ACCESS_CONTROL_RESTRICTED: { code: 3, description: 'entry restricted due to access-control', httpStatus: 403 },
  INVALID_KS_SRT: { code: 4, description: 'ks is an invalid string', httpStatus: 403 },
  FILE_NOT_FOUND: { code: 5, description: 'required file was not found', httpStatus: 404 },
  FLAVOR_NOT_FOUND: { code: 6, description: 'requested flavor was not found', httpStatus: 404 },
  INVALID_KS: { code: 7, description: 'ks is not valid', httpStatus: 403 },
  // /thumbnail's (and the storyboard's) answer for a deleted entry of the partner; the other
  // routes answer 1 naming it
  ENTRY_DELETED_MODERATED: { code: 9, description: 'requested entry is deleted or rejected', httpStatus: 404 },
  INVALID_ENTRY_TYPE: { code: 12, description: 'requested entry type is invalid for the requested format', httpStatus: 404 },
  ENTRY_MODERATION_ERROR: { code: 13, description: 'entry is restricted due to invalid moderation status', httpStatus: 403 },
  PARTNER_NOT_FOUND: { code: 14, description: 'partner not found', httpStatus: 404 },
  PARTNER_NOT_ACTIVE: { code: 15, description: 'partner not active', httpStatus: 403 },
  IP_COUNTRY_BLOCKED: { code: 16, description: '', httpStatus: 403 },
  INVALID_MAX_BITRATE: { code: 19, description: 'max bitrate is not valid', httpStatus: 400 },
  MISSING_PARAMETER: { code: 20, description: 'Request parameter [%s] is missing', httpStatus: 400 },
  BAD_QUERY: { code: 25, description: 'wrong query attributes', httpStatus: 400 },
  INVALID_TOKEN: { code: 27, description: 'invalid token', httpStatus: 403 },
  EXPIRED_TOKEN: { code: 28, description: 'expired token', httpStatus: 403 },
  KS_EXPIRED: { code: 31, description: 'The given KS has expired', httpStatus: 403 },
  INVALID_PARTNER: { code: 32, description: 'invalid partner', httpStatus: 403 },
  EXCEEDED_RESTRICTED_IP: { code: 34, description: 'exceeded restricted IP', httpStatus: 403 },
  INVALID_MIN_BITRATE: { code: 49, description: 'min bitrate is not valid', httpStatus: 400 },
  // the media store (src/storage/) failed: the reference has no code of its own for it and answers
  // its "file not found" code, which clients know; the name, status and text say what happened
  MEDIA_ORIGIN_FAILED: { code: 5, description: 'media origin failed', httpStatus: 502 },
  MEDIA_ORIGIN_TIMEOUT: { code: 5, description: 'media origin timed out', httpStatus: 504 },
} satisfies Record<string, Omit<ErrorKind, 'name'>>;

export type ErrorName = keyof typeof kinds;

export class DeliveryError extends Error {
  readonly code: number;
  readonly errorName: ErrorName;
  readonly description: string;
  readonly httpStatus: number;
  /** Extra text the reference appends after the description (", This format is unsupported"). */
  readonly extra: string;
  /** Extra X-Kaltura header values, e.g. "access-control: <rule message>". */
  readonly headers: string[];
  /** An access-control refusal's rule messages, each with its rule's code (the playback context's messages). */
  readonly ruleMessages: { code: string; message: string }[];
  /**
   * The X-Kaltura-ACP value (src/access/evaluate.ts acpHeader) when the refusal came after the
   * entry's access-control profile was evaluated, as Kaltura's header is set then and stays on
   * whatever answer follows; given by withAcp, on a copy.
   */
  readonly acp: string | null = null;

  constructor(name: ErrorName, extra = '', opts: { httpStatus?: number; headers?: string[]; ruleMessages?: { code: string; message: string }[] } = {}) {
    const k = kinds[name];
    // a description with a placeholder ("Request parameter [%s] is missing") takes the name the
    // extra text gives (", entry_id"), as the reference formats it
    const named = k.description.includes('%s') ? /^, (.+)$/s.exec(extra) : null;
    const description = named ? k.description.replace('%s', named[1]) : k.description;
    if (named) extra = '';
    super(`${description}${extra}`);
    this.code = k.code;
    this.errorName = name;
    this.description = description;
    this.extra = extra;
    this.httpStatus = opts.httpStatus ?? k.httpStatus;
    this.headers = opts.headers ?? [];
    this.ruleMessages = opts.ruleMessages ?? [];
  }
}

/**
 * A refusal made after an access-control evaluation, with that evaluation's X-Kaltura-ACP value
 * (`acp`; null: none was made, `e` as it is). A copy: one refusal may be thrown to several
 * requests (a shared in-flight promise), and each has its own evaluation. A refusal already
 * marked keeps its own (the evaluation nearest to it); anything else is returned as it is.
 */
export function withAcp<E>(e: E, acp: string | null): E {
  if (acp === null || !(e instanceof DeliveryError) || e.acp !== null) return e;
  const copy = Object.create(Object.getPrototypeOf(e), Object.getOwnPropertyDescriptors(e)) as E;
  Object.defineProperty(copy, 'acp', { value: acp, enumerable: true, writable: false, configurable: false });
  return copy;
}

/** Throws the named error: for stages that refuse in the middle of an expression. */
export function fail(name: ErrorName, extra = ''): never {
  throw new DeliveryError(name, extra);
}

/** Maps media-core refusals to delivery errors (4xx, with the reason). */
export function mediaErrorToDelivery(e: MediaError): DeliveryError {
  switch (e.kind) {
    case 'BAD_CLIP':
      return new DeliveryError('BAD_QUERY', `, ${e.message}`);
    case 'OUT_OF_RANGE':
      return new DeliveryError('FILE_NOT_FOUND', `, ${e.message}`);
    case 'MOOV_TOO_LARGE':
      return new DeliveryError('FILE_NOT_FOUND', `, media file cannot be packaged: ${e.message}`, { httpStatus: 413 });
    case 'BAD_ENCRYPTION':
      // keys the writers cannot use come from the server's configuration (a key service), not the request
      return new DeliveryError('FILE_NOT_FOUND', `, the entry's encryption cannot be applied: ${e.message}`, { httpStatus: 503 });
    default:
      return new DeliveryError('FILE_NOT_FOUND', `, media file cannot be packaged: ${e.message}`);
  }
}

/** A byte source failure (media/errors.ts SourceError, thrown by src/storage/'s stores): 404 for a missing object, else 502, or 504 for a timeout. */
export function sourceErrorToDelivery(e: SourceError): DeliveryError {
  switch (e.failure) {
    case 'missing':
      return new DeliveryError('FILE_NOT_FOUND', `, ${e.message}`);
    case 'timeout':
      return new DeliveryError('MEDIA_ORIGIN_TIMEOUT', `, ${e.message}`);
    default:
      return new DeliveryError('MEDIA_ORIGIN_FAILED', `, ${e.message}`);
  }
}

/** Any refusal of the media routes as a delivery error, or null for an unexpected failure. */
export function asDeliveryError(e: unknown): DeliveryError | null {
  if (isMediaError(e)) return mediaErrorToDelivery(e);
  if (isSourceError(e)) return sourceErrorToDelivery(e);
  return e instanceof DeliveryError ? e : null;
}
