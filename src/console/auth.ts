// Who may use the test console: a partner's admin, proven by an admin KS (X-Kaltura-Ks) or, at
// login, by one of the partner's admin secrets, which is exchanged for a short-lived admin KS so
// the page never keeps the secret. Plain functions over the catalog; no Fastify.
import type { Catalog } from '../catalog/store.js';
import type { Partner } from '../catalog/types.js';
import { KsError, KsType, generateKs, parseKs, refuseRevoked, sessionSigningSecret, verifyKs } from '../access/ks.js';

export type ConsoleAuth =
  | { ok: true; partner: Partner; userId: string; expiry: number }
  | { ok: false; status: 401 | 403; message: string };

/** KS lifetime issued by a console login. */
export const CONSOLE_KS_SECONDS = 8 * 3600;

/** Checks an admin KS sent by the console page. */
export async function authenticateKs(catalog: Catalog, ks: string | undefined, now: number, clientIp: string): Promise<ConsoleAuth> {
  if (!ks) return { ok: false, status: 401, message: 'log in: an admin KS (X-Kaltura-Ks header) is required' };
  try {
    const parsed = parseKs(ks);
    const partner = await catalog.getPartner(parsed.partnerId);
    if (!partner) return { ok: false, status: 401, message: 'the KS names an unknown partner' };
    const verified = verifyKs(parsed, partner, { now, clientIp });
    await refuseRevoked(verified, (k) => catalog.isRevoked(k, now));
    if (verified.type < KsType.ADMIN) return { ok: false, status: 403, message: 'the console needs an admin KS (type 2); this one is a user KS' };
    return { ok: true, partner, userId: verified.userId, expiry: verified.expiry };
  } catch (e) {
    if (e instanceof KsError) return { ok: false, status: 401, message: `KS refused: ${e.reason}` };
    throw e;
  }
}

/** Exchanges a partner id and admin secret for an admin KS. */
export async function login(catalog: Catalog, partnerId: unknown, secret: unknown, now: number): Promise<{ ks: string; partnerId: number; expiry: number } | { status: 400 | 401; message: string }> {
  const pid = typeof partnerId === 'number' ? partnerId : typeof partnerId === 'string' && /^\d{1,10}$/.test(partnerId) ? Number(partnerId) : NaN;
  if (!Number.isInteger(pid) || typeof secret !== 'string' || secret === '' || secret.length > 256) {
    return { status: 400, message: 'expected JSON {"partnerId": number, "secret": "the partner admin secret"}' };
  }
  const partner = await catalog.getPartner(pid);
  // same answer for an unknown partner and a wrong secret; any of its admin secrets logs in, and
  // signs the console's KS as session.start would
  const signer = partner && sessionSigningSecret(partner, secret, KsType.ADMIN);
  if (!partner || !signer) return { status: 401, message: 'wrong partner id or admin secret' };
  const ks = generateKs({
    partnerId: partner.id, secret: signer, type: KsType.ADMIN, userId: 'kdeliver-console',
    expiry: CONSOLE_KS_SECONDS, privileges: 'disableentitlement', version: 2, now,
  });
  return { ks, partnerId: partner.id, expiry: now + CONSOLE_KS_SECONDS };
}
