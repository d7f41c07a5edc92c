// Who may change what, as Kaltura decides it: most library writes take an admin KS; an entry's
// own fields may also be changed by its owner or by a session with the `edit` privilege on it
// (Kaltura's checkIfUserAllowedToUpdateEntry); some fields take an admin KS whoever asks.
import { ksHasPrivilege } from '../access/ks.js';
import type { Entry } from '../catalog/types.js';
import { ApiError } from './errors.js';
import type { ApiContext } from './types.js';

export const isAdminSession = (ctx: ApiContext): boolean => !!ctx.ks && ctx.ks.type >= 2;

/**
 * Writing to the library (uploads, new entries, rules, assets, deletion) takes an admin KS: a user
 * KS, and the anonymous widget session any player can get, may only read.
 */
export function requireAdminKs(ctx: ApiContext): void {
  if (!isAdminSession(ctx)) throw new ApiError('SERVICE_FORBIDDEN', { SERVICE: `${ctx.service}.${ctx.action} (an admin KS is required)` });
}

/** The anonymous session of a widget (session.startWidgetSession: `widget:1`), which any player can get. */
export const isWidgetSession = (ctx: ApiContext): boolean => !!ctx.ks?.privileges.has('widget');

/**
 * Uploading and adding entries from uploads: an admin KS, or a user KS where the caller speaks
 * API v2, whose upload and addentry take one (Canvas' media comments use a user KS). The widget
 * session never may.
 */
export function requireIngestSession(ctx: ApiContext): void {
  if (isAdminSession(ctx) || (ctx.userMayIngest && ctx.ks && !isWidgetSession(ctx))) return;
  requireAdminKs(ctx);
}

/** The session may edit this entry: an admin KS, `edit:*` or `edit:{entryId}`, or the entry's owner (never a widget session). */
export function requireEntryEditor(ctx: ApiContext, entry: Entry): void {
  if (isAdminSession(ctx)) return;
  const ks = ctx.ks;
  if (ks && !isWidgetSession(ctx)) {
    if (ksHasPrivilege(ks, 'edit', entry.id)) return;
    if (entry.userId !== '' && ks.userId !== '' && entry.userId === ks.userId) return;
  }
  // Kaltura's answer: INVALID_KS with an empty KS and its INVALID_TYPE code
  throw new ApiError('INVALID_KS', { KSID: '', ERR_CODE: -4, ERR_DESC: 'INVALID_TYPE' });
}
