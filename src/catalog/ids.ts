// Ids of new records, in Kaltura's shape: "0_" and eight base-36 characters.
import { randomBytes } from 'node:crypto';

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyz';

export function kalturaId(): string {
  const bytes = randomBytes(8);
  let s = '0_';
  for (const b of bytes) s += ALPHABET[b % 36];
  return s;
}
