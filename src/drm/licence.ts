// The ClearKey licence decision, one function for the route (routes/drm.ts) and the console's
// decision trace (src/console/key-trace.ts), so the trace cannot drift from what the route answers:
// the entry of the URL's partner, encrypted, a KS that may have its key (session.ts), the licence
// for the key ids asked. No HTTP here.
import { liveEntry } from '../access/entry-check.js';
import type { Entry } from '../catalog/types.js';
import { DeliveryError } from '../errors.js';
import { clearKeyLicence, licenceRequestKids } from './clearkey.js';
import { contentKeys, type KeyDeps } from './keys.js';
import { isEncryptedEntry } from './policy.js';
import { keySession, type KeyNote, type KeySessionEnv } from './session.js';

export interface LicenceRequest {
  partnerId: number;
  entryId: string | undefined;
  /** X-Kaltura-Ks, else the URL's ks. */
  ks: string | undefined;
  /** The CDM's request body; `undefined` (the trace only) asks for the entry's own key ids. */
  body: unknown;
}

export type Licence = ReturnType<typeof clearKeyLicence>;

/** The licence, or throws the DeliveryError the route answers. `note` records the steps (never a key or a KS). */
export async function licenceDecision(env: KeySessionEnv & KeyDeps, req: LicenceRequest, note: KeyNote = () => {}): Promise<{ entry: Entry; licence: Licence }> {
  const entry = await liveEntry(env.catalog, req.entryId, req.partnerId);
  note('entry', `entry ${entry.id} of partner ${entry.partnerId}`);
  const encrypted = await isEncryptedEntry(env.catalog, entry);
  note('key', encrypted ? 'the entry is encrypted' : 'the entry is in the clear');
  if (!encrypted) throw new DeliveryError('FILE_NOT_FOUND', `, ${entry.id} is not encrypted: it has no licence`);
  await keySession(env, entry, req.ks, { note });
  const kids = req.body === undefined ? null : licenceRequestKids(req.body);
  note('key', `key source: ${env.config.drmKeyServiceUrl ? 'the key service' : 'the catalog'}`);
  const keys = await contentKeys(env, entry);
  const licence = clearKeyLicence(keys, kids ?? [keys.keyId.toString('base64url')]);
  note('key', `key ids given: ${licence.keys.map((k) => Buffer.from(k.kid, 'base64url').toString('hex')).join(', ')}${kids ? '' : ' (no kids given: the entry\'s own)'}`);
  return { entry, licence };
}
