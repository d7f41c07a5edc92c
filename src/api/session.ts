// The session of an api_v3 call: the `ks` parameter parsed and verified against its partner's
// admin secret, revocation included, and the call counted when the KS may make only so many
// (`actionslimit`). Failures are Kaltura's INVALID_KS with its numeric KS codes.
import type { Catalog } from '../catalog/store.js';
import { countKsAction, InvalidActionsLimitError, KsError, parseKs, refuseRevoked, verifyKs, type Ks, type KsErrorReason } from '../access/ks.js';
import { ApiError } from './errors.js';

/** KsError reason → Kaltura's ks::getErrorStr name and code. */
const KS_ERRORS: Record<KsErrorReason, { name: string; code: number }> = {
  MALFORMED: { name: 'INVALID_STR', code: -1 },
  BAD_SIGNATURE: { name: 'INVALID_STR', code: -1 },
  WRONG_PARTNER: { name: 'INVALID_PARTNER', code: -2 },
  EXPIRED: { name: 'EXPIRED', code: -5 },
  REVOKED: { name: 'LOGOUT', code: -6 },
  IP: { name: 'EXCEEDED_RESTRICTED_IP', code: -9 },
  URI: { name: 'EXCEEDED_RESTRICTED_URI', code: -11 },
  ACTIONS_LIMIT: { name: 'EXCEEDED_ACTIONS_LIMIT', code: -8 },
};

export function invalidKs(reason: KsErrorReason): ApiError {
  const k = KS_ERRORS[reason];
  // KS names the failure rather than echoing the session string back
  return new ApiError('INVALID_KS', { KSID: k.name, ERR_CODE: k.code, ERR_DESC: k.name });
}

export interface SessionFacts {
  now: number;
  clientIp: string;
  rawUrl: string;
}

/**
 * A KS string → the trusted session, or INVALID_KS. A call made under it is one of its
 * `actionslimit` (as Kaltura counts each action, a multirequest's sub-requests each); session.get
 * reading another KS makes no action under that one (`action: false`).
 */
export async function readApiSession(catalog: Catalog, ks: string, facts: SessionFacts, action = true): Promise<Ks> {
  try {
    const parsed = parseKs(ks);
    const partner = await catalog.getPartner(parsed.partnerId);
    if (!partner) throw new KsError('WRONG_PARTNER', 'unknown partner');
    const session = verifyKs(parsed, partner, { now: facts.now, clientIp: facts.clientIp, uri: facts.rawUrl });
    await refuseRevoked(session, (key) => catalog.isRevoked(key, facts.now));
    if (action) await countKsAction(session, catalog.takeKsAction);
    return session;
  } catch (e) {
    if (e instanceof KsError) throw invalidKs(e.reason);
    if (e instanceof InvalidActionsLimitError) throw new ApiError('INVALID_ACTIONS_LIMIT');
    throw e;
  }
}

