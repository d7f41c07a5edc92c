// Who may have an encrypted entry's key (the HLS key URI, the ClearKey licence): a valid KS of
// the entry's partner that may play it, meaning an admin KS or one with sview:{entryId} or sview:*.
// Anything else is refused with playManifest's codes: no KS 3, unreadable or forged 7, expired
// 31, another partner 32, an IP restriction 34.
import type { Catalog } from '../catalog/store.js';
import type { Entry } from '../catalog/types.js';
import { partnerOf, readSession } from '../access/entry-check.js';
import { ksHasPrivilege, type Ks } from '../access/ks.js';
import { asDeliveryError, DeliveryError } from '../errors.js';
import { isEncryptedEntry } from './policy.js';

export interface KeySessionEnv {
  catalog: Catalog;
  now: number;
  http: { clientIp: string; rawUrl: string };
}

/** The checked session, or throws a DeliveryError (403). */
export async function keySession(env: KeySessionEnv, entry: Entry, ks: string | undefined): Promise<Ks> {
  if (!ks) throw new DeliveryError('ACCESS_CONTROL_RESTRICTED', ', the key of an encrypted entry needs a KS of its partner that may play it');
  const partner = await partnerOf(env.catalog, entry, true);
  const session = (await readSession({ catalog: env.catalog, now: env.now }, { ks, clientIp: env.http.clientIp, rawUri: env.http.rawUrl }, entry, partner, true))!;
  // ksHasPrivilege grants sview:* for every entry
  if (!session.isAdmin && !ksHasPrivilege(session, 'sview', entry.id)) {
    throw new DeliveryError('ACCESS_CONTROL_RESTRICTED', `, the KS may not play ${entry.id} (it needs sview:${entry.id}, sview:* or an admin KS)`);
  }
  return session;
}

/** Whether `ks` is a valid admin KS of the entry's partner; a KS that cannot be used is not one. */
async function isAdminKs(env: KeySessionEnv, entry: Entry, ks: string | undefined): Promise<boolean> {
  if (!ks) return false;
  try {
    return (await keySession(env, entry, ks)).isAdmin;
  } catch (e) {
    if (!asDeliveryError(e)) throw e;
    return false;
  }
}

/**
 * An encrypted entry's files (serveFlavor, flvclipper, raw, download) are its clear media: an
 * admin KS's only, else error 3 as Kaltura's BLOCK. `ks`: the request's KS, or the session an
 * access check already read from it.
 */
export async function checkClearMedia(env: KeySessionEnv, entry: Entry, ks: string | Ks | null | undefined): Promise<void> {
  if (!(await isEncryptedEntry(env.catalog, entry))) return;
  if (typeof ks === 'string' || ks === undefined ? await isAdminKs(env, entry, ks) : ks?.isAdmin) return;
  throw new DeliveryError('ACCESS_CONTROL_RESTRICTED', `, ${entry.id} is encrypted: its files are served to an admin KS only; play it as HLS or DASH`);
}
