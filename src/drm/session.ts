// Who may have an encrypted entry's key (the HLS key URI, the ClearKey licence): a valid KS of
// the entry's partner that may play it, meaning an admin KS or one with sview:{entryId} or sview:*.
// Anything else is refused with playManifest's codes: no KS 3, unreadable or forged 7, expired
// 31, another partner 32, an IP restriction 34.
import type { Catalog } from '../catalog/store.js';
import type { Entry } from '../catalog/types.js';
import { partnerOf, readSession } from '../access/entry-check.js';
import { ksHasPrivilege, type Ks } from '../access/ks.js';
import { DeliveryError } from '../errors.js';

export interface KeySessionEnv {
  catalog: Catalog;
  now: number;
  http: { clientIp: string; rawUrl: string };
}

/** The checked session, or throws a DeliveryError (403). */
export async function keySession(env: KeySessionEnv, entry: Entry, ks: string | undefined): Promise<Ks> {
  if (!ks) throw new DeliveryError('ACCESS_CONTROL_RESTRICTED', ', the key of an encrypted entry needs a KS of its partner that may play it');
  const partner = await partnerOf(env.catalog, entry, true);
  const facts = { ks, clientIp: env.http.clientIp, rawUri: env.http.rawUrl } as Parameters<typeof readSession>[1];
  const session = (await readSession({ catalog: env.catalog, now: env.now }, facts, entry, partner, true))!;
  if (!session.isAdmin && !ksHasPrivilege(session, 'sview', entry.id) && !ksHasPrivilege(session, 'sview', '*')) {
    throw new DeliveryError('ACCESS_CONTROL_RESTRICTED', `, the KS may not play ${entry.id} (it needs sview:${entry.id}, sview:* or an admin KS)`);
  }
  return session;
}

/** An admin KS of the entry's partner, or null (progressive access to an encrypted entry). */
export async function adminSession(env: KeySessionEnv, entry: Entry, ks: string | undefined): Promise<Ks | null> {
  if (!ks) return null;
  try {
    const s = await keySession(env, entry, ks);
    return s.isAdmin ? s : null;
  } catch {
    return null;
  }
}

/** Progressive, raw or download access to an encrypted entry without an admin KS: error 3, as Kaltura's BLOCK. */
export const encryptedRefusal = (entry: Entry): DeliveryError =>
  new DeliveryError('ACCESS_CONTROL_RESTRICTED', `, ${entry.id} is encrypted: its files are served to an admin KS only; play it as HLS or DASH`);
