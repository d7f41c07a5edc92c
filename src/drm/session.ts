// Who may have an encrypted entry's key (the HLS key URI, the ClearKey licence): a valid KS of
// the entry's partner that may play it, meaning an admin KS or one with sview:{entryId} or sview:*.
// Anything else is refused with playManifest's codes: no KS 3, unreadable or forged 7, expired
// 31, another partner 32, an IP restriction 34.
import type { Catalog } from '../catalog/store.js';
import type { Entry } from '../catalog/types.js';
import { partnerOf, readSession } from '../access/entry-check.js';
import { ksHasPrivilege, type Ks } from '../access/ks.js';
import { asDeliveryError, DeliveryError } from '../errors.js';
import type { TraceStep } from '../types/playback.js';
import { isEncryptedEntry } from './policy.js';

/** Records a step of a key decision (the console's trace, src/console/key-trace.ts); never given a key or a KS. */
export type KeyNote = (stage: TraceStep['stage'], message: string, data?: unknown) => void;
const silent: KeyNote = () => {};

export interface KeySessionEnv {
  catalog: Catalog;
  now: number;
  http: { clientIp: string; rawUrl: string };
}

/**
 * The checked session, or throws a DeliveryError (403). `note` records each step for the decision
 * trace. `signed`: the KS came in a URL under kdeliver's media signature (the HLS key URI), made by
 * playManifest after it checked the KS's urirestrict, which is not applied to that URL again.
 */
export async function keySession(env: KeySessionEnv, entry: Entry, ks: string | undefined, { note = silent, signed = false }: { note?: KeyNote; signed?: boolean } = {}): Promise<Ks> {
  if (!ks) {
    note('session', 'no KS');
    throw new DeliveryError('ACCESS_CONTROL_RESTRICTED', ', the key of an encrypted entry needs a KS of its partner that may play it');
  }
  const partner = await partnerOf(env.catalog, entry, true);
  note('entry', `partner ${partner.id} (active)`);
  let session: Ks;
  try {
    session = (await readSession({ catalog: env.catalog, now: env.now }, { ks, clientIp: env.http.clientIp, rawUri: signed ? null : env.http.rawUrl }, entry, partner, true, note))!;
  } catch (e) {
    const err = asDeliveryError(e);
    // INVALID_KS (unreadable, forged), EXPIRED_KS, INVALID_PARTNER (another partner's), a revoked or IP-bound KS
    if (err) note('session', `KS refused: ${err.errorName}`);
    throw e;
  }
  // ksHasPrivilege grants sview:* for every entry
  const grant = session.isAdmin ? 'admin KS' : ksHasPrivilege(session, 'sview', entry.id)
    ? (session.privileges.get('sview')?.includes(entry.id) ? `sview:${entry.id}` : 'sview:*') : null;
  if (!grant) {
    note('access', `the KS has no sview:${entry.id}, sview:* nor admin`);
    throw new DeliveryError('ACCESS_CONTROL_RESTRICTED', `, the KS may not play ${entry.id} (it needs sview:${entry.id}, sview:* or an admin KS)`);
  }
  note('access', `may have the key: ${grant}`);
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
