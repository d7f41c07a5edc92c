// A partner's admin secrets: the one every issued KS is signed with (adminSecret) and the
// additional ones that verify KSs and start admin sessions too (migration 16). What adding and
// removing one does, decided here once for the SQLite and the PostgreSQL catalog, each of which
// runs it inside its own transaction on the row it read.
import { randomBytes } from 'node:crypto';
import type { Partner } from './types.js';

/** addAdminSecret, removeAdminSecret: why it was not done, in a sentence an operator can act on. */
export class AdminSecretError extends Error {}

type Secrets = Pick<Partner, 'id' | 'adminSecret' | 'additionalAdminSecrets' | 'userSecret'>;

/** A secret as short as this would be guessed; Kaltura's and kdeliver's own are 32 characters. */
export const MIN_ADMIN_SECRET_LENGTH = 8;

/** 32 random hex characters, as Kaltura makes secrets and as addPartner does. */
export const newSecret = (): string => randomBytes(16).toString('hex');

/**
 * `secret` added: as an additional secret, or with `primary` as the admin secret, the old admin
 * secret then kept as an additional one (first), so KSs it signed and clients that use it go on
 * working until it is removed. With `primary`, an additional secret already there is promoted.
 */
export function adminSecretsAdding(p: Secrets, secret: string, primary: boolean): { adminSecret: string; additional: string[] } {
  if (secret.length < MIN_ADMIN_SECRET_LENGTH || /[\u0000-\u0020\u007f]/.test(secret)) {
    throw new AdminSecretError(`an admin secret is at least ${MIN_ADMIN_SECRET_LENGTH} characters, without spaces or control characters`);
  }
  if (secret === p.userSecret) throw new AdminSecretError(`that is partner ${p.id}'s user secret`);
  if (secret === p.adminSecret) throw new AdminSecretError(`that is partner ${p.id}'s admin secret already`);
  const known = p.additionalAdminSecrets.includes(secret);
  if (!primary) {
    if (known) throw new AdminSecretError(`partner ${p.id} has that admin secret already`);
    return { adminSecret: p.adminSecret, additional: [...p.additionalAdminSecrets, secret] };
  }
  return { adminSecret: secret, additional: [p.adminSecret, ...p.additionalAdminSecrets.filter((s) => s !== secret)] };
}

/** `secret` removed from the additional secrets; the admin secret itself is never removed. */
export function adminSecretsRemoving(p: Secrets, secret: string): string[] {
  if (secret === p.adminSecret) {
    throw new AdminSecretError(`that is partner ${p.id}'s primary admin secret, which every KS is signed with: make another one primary first (kdeliver partner secret add --partner ${p.id} --primary)`);
  }
  if (!p.additionalAdminSecrets.includes(secret)) throw new AdminSecretError(`partner ${p.id} has no such admin secret`);
  return p.additionalAdminSecrets.filter((s) => s !== secret);
}
