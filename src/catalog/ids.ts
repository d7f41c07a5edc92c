// Ids of new records, in Kaltura's shape: "0_" and eight base-36 characters.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

export function kalturaId(): string {
  const bytes = randomBytes(8);
  let s = '0_';
  for (const b of bytes) s += ALPHABET[b % 36];
  return s;
}

/**
 * Whether an id (entry, flavor, caption asset) is one kdeliver stores and names files after:
 * 1-64 characters of A-Z a-z 0-9 _ - (Kaltura's own ids are "0_" and eight base-36 characters).
 */
export const isSafeId = (id: string): boolean => /^[A-Za-z0-9_-]{1,64}$/.test(id);
