// KS (Kaltura Session) v1 and v2: parse, verify, generate, in Kaltura's two formats (below).
// Parsing only reads the envelope (version, partner id); nothing a KS says is trusted until
// verifyKs has checked it against the partner's admin secret(s). The user secret never verifies.
import { createCipheriv, createDecipheriv, createHash, randomBytes, timingSafeEqual, type Decipher } from 'node:crypto';
import type { Partner } from '../catalog/types.js';
import { DeliveryError } from '../errors.js';
import { OrderedMap } from '../ordered-map.js';

export type KsErrorReason = 'MALFORMED' | 'BAD_SIGNATURE' | 'EXPIRED' | 'IP' | 'URI' | 'REVOKED' | 'WRONG_PARTNER' | 'ACTIONS_LIMIT';

export class KsError extends Error {
  readonly reason: KsErrorReason;
  constructor(reason: KsErrorReason, message: string) {
    super(message);
    this.reason = reason;
  }
}

export const KsType = { USER: 0, ADMIN: 2 } as const;

/** The unverified envelope of a KS. */
export interface ParsedKs {
  version: 1 | 2;
  partnerId: number;
  /** The KS string as received. */
  raw: string;
  /** Base64-decoded bytes. */
  bytes: Buffer;
}

export interface Ks {
  version: 1 | 2;
  partnerId: number;
  userId: string;
  /** 0 USER, 2 ADMIN (1 counts as admin too, as in the reference). */
  type: number;
  /** valid_until, unix seconds. */
  expiry: number;
  /** name → values (a value list is split on "/"; a bare name has []); the whole string "*" is { "*": ["*"] }. */
  privileges: Map<string, string[]>;
  /** The privilege string as the KS carries it (v2: rebuilt as name:value,...). */
  privilegesString: string;
  raw: string;
  /**
   * Revocation key: the reference's session hash (v1: the hex signature; v2: the hex of the
   * embedded SHA1). Unlike a hash of the KS text it is the same for the url-safe and the standard
   * base64 spelling of one KS, so a revoked KS cannot come back re-spelled.
   */
  hash: string;
  sessionId?: string;
  masterPartnerId: string | null;
  additionalData: string | null;
  isAdmin: boolean;
}

const MAX_KS_LENGTH = 16 * 1024;
const RESERVED_V2 = new Set(['_e', '_t', '_u', '_m', '_d']);

const sha1 = (data: Buffer | string): Buffer => createHash('sha1').update(data).digest();
const sha1Hex = (data: Buffer | string): string => createHash('sha1').update(data).digest('hex');

/**
 * A KS as it rides in a URL path pair: the URL-safe alphabet, a space (a "+" a query string
 * decoded) as "-". decodeBase64 below reads it back to the same KS.
 */
export const ksForPath = (ks: string): string => ks.replace(/[+ ]/g, '-').replace(/\//g, '_');

/** A KS's characters: base64 in either alphabet (a space is a "+" a query string decoded), then up to two "=". */
const BASE64_FORM = /^[A-Za-z0-9+/_ -]*={0,2}$/;

/** The value of a base64 digit of either alphabet (a space counts as "+"). */
function digitValue(c: number): number {
  if (c >= 65 && c <= 90) return c - 65; // A-Z
  if (c >= 97 && c <= 122) return c - 71; // a-z
  if (c >= 48 && c <= 57) return c + 4; // 0-9
  return c === 47 || c === 95 ? 63 : 62; // "/" "_" | "+" "-" " "
}

/**
 * Strict base64 in either alphabet, with or without padding; non-canonical trailing bits refused.
 * Checked in place rather than rewritten to one alphabet first: every request with a KS reads
 * its envelope (Node's decoder reads both alphabets).
 */
function decodeBase64(ks: string): Buffer | null {
  if (!BASE64_FORM.test(ks)) return null;
  const eq = ks.indexOf('=');
  const digits = eq < 0 ? ks.length : eq;
  const rem = digits % 4;
  if (rem === 1) return null;
  if (eq >= 0 && ks.length % 4 !== 0) return null;
  // A changed character in the unused low bits would decode to the same bytes: refuse it, so
  // that each accepted KS has exactly one spelling per alphabet.
  if (rem !== 0 && (digitValue(ks.charCodeAt(digits - 1)) & (rem === 2 ? 0x0f : 0x03)) !== 0) return null;
  // A space is a "+" that went through a query string unencoded ("+" means space there).
  return Buffer.from(ks.includes(' ') ? ks.replace(/ /g, '+') : ks, 'base64');
}

/** Reads the envelope. Throws KsError('MALFORMED'). */
export function parseKs(ks: string): ParsedKs {
  if (typeof ks !== 'string' || ks.length === 0) throw new KsError('MALFORMED', 'empty KS');
  if (ks.length > MAX_KS_LENGTH) throw new KsError('MALFORMED', 'KS too long');
  const bytes = decodeBase64(ks);
  if (!bytes || bytes.length === 0) throw new KsError('MALFORMED', 'KS is not base64');
  if (bytes.subarray(0, 3).toString('latin1') === 'v2|') {
    const bar = bytes.indexOf(0x7c, 3);
    const pid = bar > 3 ? bytes.subarray(3, bar).toString('latin1') : '';
    if (!/^-?\d{1,10}$/.test(pid)) throw new KsError('MALFORMED', 'KS v2 without a partner id');
    const cipherLen = bytes.length - bar - 1;
    if (cipherLen <= 0 || cipherLen % 16 !== 0) throw new KsError('MALFORMED', 'KS v2 ciphertext is not whole AES blocks');
    return { version: 2, partnerId: Number(pid), raw: ks, bytes };
  }
  const bar = bytes.indexOf(0x7c);
  if (bar < 0) throw new KsError('MALFORMED', 'KS v1 without a signature');
  const fields = bytes.subarray(bar + 1).toString('utf8').split(';');
  if (fields.length < 3) throw new KsError('MALFORMED', 'KS v1 with fewer than 3 fields');
  if (!/^-?\d{1,10}$/.test(fields[0])) throw new KsError('MALFORMED', 'KS v1 without a partner id');
  return { version: 1, partnerId: Number(fields[0]), raw: ks, bytes };
}

/** "a:b/c,d" → Map { a → [b, c], d → [] }; repeated names merge (v1). */
export function parsePrivileges(s: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (s.trim() === '*') {
    out.set('*', ['*']);
    return out;
  }
  for (const item of s.split(',')) {
    if (item === '') continue;
    const colon = item.indexOf(':');
    const name = (colon < 0 ? item : item.slice(0, colon)).trim();
    if (!name) continue;
    const values = colon < 0 ? [] : item.slice(colon + 1).split('/');
    out.set(name, [...(out.get(name) ?? []), ...values]);
  }
  return out;
}

/** PHP urldecode: "+" is a space, valid %XX decoded, anything else left as it is. */
function phpUrlDecode(s: string): string {
  // most names and values of a KS carry neither: they decode to themselves
  if (!s.includes('%') && !s.includes('+')) return s;
  const bytes: number[] = [];
  const src = Buffer.from(s.replace(/\+/g, ' '), 'utf8');
  for (let i = 0; i < src.length; i++) {
    const c = src[i];
    if (c === 0x25 && i + 2 < src.length + 0 && /^[0-9a-fA-F]{2}$/.test(src.subarray(i + 1, i + 3).toString('latin1'))) {
      bytes.push(parseInt(src.subarray(i + 1, i + 3).toString('latin1'), 16));
      i += 2;
    } else bytes.push(c);
  }
  return Buffer.from(bytes).toString('utf8');
}

/**
 * PHP parse_str, as far as a KS needs it: "&"-separated pairs, urldecoded, later keys win (in
 * the position of the first), "." and " " in names become "_", "a[x]" names keep their base.
 */
export function phpParseStr(q: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of q.split('&')) {
    if (part === '') continue;
    const eq = part.indexOf('=');
    let key = phpUrlDecode(eq < 0 ? part : part.slice(0, eq)).replace(/^ +/, '');
    const value = eq < 0 ? '' : phpUrlDecode(part.slice(eq + 1));
    const br = key.indexOf('[');
    if (br > 0) key = key.slice(0, br);
    key = key.replace(/[. ]/g, '_');
    if (key === '' || key.includes('\0')) continue;
    out.set(key, value);
  }
  return out;
}

/** PHP urlencode (http_build_query's encoding): space → "+", [A-Za-z0-9._-] kept, the rest %XX. */
export function phpUrlEncode(s: string): string {
  return encodeURIComponent(s)
    .replace(/[!'()*~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase())
    .replace(/%20/g, '+');
}

/**
 * The AES decryption of a secret's key, kept: every new KS of a partner is opened with the same
 * few secrets (a player asks for a fresh KS per session). Bounded; emptied when full.
 *
 * KS v2 is AES-128-CBC with a zero IV. CBC decryption is each block's own (ECB) decryption XORed
 * with the ciphertext block before it (the IV, zero, for the first), so one ECB decipher per key
 * serves every KS: it holds no state between calls when given whole blocks without padding
 * (parseKs refuses anything else), where a new CBC decipher per KS cost three times as much
 * (bench/README.md, session 10).
 */
const blockDeciphers = new Map<string, Decipher>();
function blockDecipher(secret: string): Decipher {
  let d = blockDeciphers.get(secret);
  if (d === undefined) {
    if (blockDeciphers.size >= 1000) blockDeciphers.clear();
    d = createDecipheriv('aes-128-ecb', aesKey(secret), null);
    d.setAutoPadding(false);
    blockDeciphers.set(secret, d);
  }
  return d;
}
const aesKey = (secret: string): Buffer => sha1(secret).subarray(0, 16);

function zeroPad(b: Buffer): Buffer {
  const rem = b.length % 16;
  return rem === 0 ? b : Buffer.concat([b, Buffer.alloc(16 - rem)]);
}

/** `cipher`: whole 16-byte blocks. */
function decryptV2(cipher: Buffer, secret: string): Buffer {
  const plain = blockDecipher(secret).update(cipher);
  for (let i = plain.length - 1; i >= 16; i--) plain[i] ^= cipher[i - 16];
  let end = plain.length;
  while (end > 0 && plain[end - 1] === 0) end--;
  return plain.subarray(0, end);
}

const hexEq = (a: string, b: string): boolean =>
  a.length === b.length && timingSafeEqual(Buffer.from(a, 'latin1'), Buffer.from(b, 'latin1'));

interface Fields {
  userId: string; type: number; expiry: number; privilegesString: string;
  masterPartnerId: string | null; additionalData: string | null; hash: string;
}

function openV1(p: ParsedKs, secrets: string[]): Fields {
  const bar = p.bytes.indexOf(0x7c);
  const sig = p.bytes.subarray(0, bar).toString('latin1');
  const info = p.bytes.subarray(bar + 1);
  const ok = secrets.some((s) => hexEq(sig, sha1Hex(Buffer.concat([Buffer.from(s, 'utf8'), info]))));
  if (!ok) throw new KsError('BAD_SIGNATURE', 'KS signature does not match');
  const f = info.toString('utf8').split(';');
  return {
    expiry: Number(f[2]),
    type: f[3] === undefined || f[3] === '' ? 0 : Number(f[3]),
    userId: f[5] ?? '',
    privilegesString: f[6] ?? '',
    masterPartnerId: f[7] || null,
    additionalData: f[8] || null,
    hash: sig,
  };
}

function openV2(p: ParsedKs, secrets: string[]): Fields {
  const bar = p.bytes.indexOf(0x7c, 3);
  const cipher = p.bytes.subarray(bar + 1);
  for (const secret of secrets) {
    const plain = decryptV2(cipher, secret);
    if (plain.length < 36) continue;
    const digest = plain.subarray(0, 20);
    if (!timingSafeEqual(digest, sha1(plain.subarray(20)))) continue;
    const q = phpParseStr(plain.subarray(36).toString('utf8'));
    const privs: string[] = [];
    for (const [k, v] of q) {
      if (RESERVED_V2.has(k)) continue;
      privs.push(k === 'all' && v === '*' ? '*' : v === '' ? k : `${k}:${v}`);
    }
    return {
      expiry: Number(q.get('_e') ?? NaN),
      type: q.has('_t') && q.get('_t') !== '' ? Number(q.get('_t')) : 0,
      userId: q.get('_u') ?? '',
      privilegesString: privs.join(','),
      masterPartnerId: q.get('_m') || null,
      additionalData: q.get('_d') || null,
      hash: digest.toString('hex'),
    };
  }
  throw new KsError('BAD_SIGNATURE', 'KS does not decrypt with the partner secret');
}

/**
 * What a KS's signature vouches for is a pure function of its text and the partner's secrets, so
 * the decryption and parsing are done once per KS (a player sends its KS with every request, a
 * multirequest in every sub-request). Only KSs that verified are kept, under their text, with the
 * secrets they verified with: a changed secret opens them again. Expiry, IP and URI restrictions
 * and revocation are checked on every use (verifyKs, refuseRevoked). Bounded; the oldest goes.
 */
const OPENED_MAX = 10_000;
// an OrderedMap: a fresh KS per player session means a new key, and the oldest going, on every
// new session (src/ordered-map.ts says why not a plain Map)
const opened = new OrderedMap<{ secrets: string; f: Fields; privileges: Map<string, string[]> }>();
let openedHits = 0;
let openedMisses = 0;

/** The kept verified KSs: how many, and how often a KS was (not) found kept since start (/metrics). */
export function verifiedKsStats(): { entries: number; hits: number; misses: number } {
  return { entries: opened.size, hits: openedHits, misses: openedMisses };
}

function openKs(parsed: ParsedKs, secrets: string[]): { f: Fields; privileges: Map<string, string[]> } {
  const key = `${parsed.partnerId} ${parsed.raw}`;
  const joined = secrets.join('\n');
  const kept = opened.get(key);
  if (kept && kept.secrets === joined) {
    openedHits++;
    return kept;
  }
  openedMisses++;
  const f = parsed.version === 2 ? openV2(parsed, secrets) : openV1(parsed, secrets);
  if (!Number.isFinite(f.expiry) || !Number.isFinite(f.type)) throw new KsError('MALFORMED', 'KS fields are not numbers');
  const entry = { secrets: joined, f, privileges: parsePrivileges(f.privilegesString) };
  opened.setWithin(key, entry, OPENED_MAX);
  return entry;
}

/** Every revocation key of a KS: its hash, and the hash of its session id when it has one. */
export function ksRevocationKeys(ks: Pick<Ks, 'hash' | 'partnerId' | 'sessionId'>): string[] {
  return ks.sessionId ? [ks.hash, sha1Hex(`${ks.partnerId}_${ks.sessionId}`)] : [ks.hash];
}

export interface VerifyOptions {
  /** Unix seconds. */
  now: number;
  /** When given, `iprestrict` is enforced against it; a KS with iprestrict and no IP fails. */
  clientIp?: string;
  /**
   * Path and query as requested; `urirestrict` is enforced against it (fails when absent). null:
   * the KS rides in a URL kdeliver signed after checking it where it was presented (a media URL
   * playManifest made), so urirestrict, which names where a KS may be presented, is not applied again.
   */
  uri?: string | null;
  isRevoked?(key: string): boolean;
}

/**
 * Whose secrets verify a KS: the partner's admin secret, then its additional ones (a rotation's
 * old or new secret, `kdeliver partner secret`), as Kaltura tries every enabled admin secret.
 */
export type KsSigner = Pick<Partner, 'id' | 'adminSecret'> & { additionalAdminSecrets?: readonly string[] };

const secretDigest = (s: string): Buffer => createHash('sha256').update(s).digest();
/** Equal secrets, compared in a time that does not tell how much of a guess was right. */
export const sameSecret = (a: string, b: string): boolean => a !== '' && b !== '' && timingSafeEqual(secretDigest(a), secretDigest(b));

/**
 * The secret that signs a session started with `given` (session.start, API v2's startsession
 * through it, the console's login), or null when `given` may not start a session of `type`. Any
 * admin secret starts any session, the user secret only USER ones. As in Kaltura, an ADMIN session
 * started with an additional admin secret is signed with that secret (so removing the secret ends
 * the sessions it started); every other session with the admin secret.
 */
export function sessionSigningSecret(partner: KsSigner & Pick<Partner, 'userSecret'>, given: string, type: number): string | null {
  if (sameSecret(given, partner.adminSecret)) return partner.adminSecret;
  const additional = (partner.additionalAdminSecrets ?? []).find((s) => sameSecret(given, s));
  if (additional !== undefined) return type === KsType.ADMIN ? additional : partner.adminSecret;
  return type === KsType.USER && sameSecret(given, partner.userSecret) ? partner.adminSecret : null;
}

/**
 * Checks, in the reference's order: partner, signature, expiry (valid_until <= now is expired),
 * iprestrict, urirestrict, revocation. Throws KsError; returns the trusted session.
 */
export function verifyKs(parsed: ParsedKs, partner: KsSigner, opts: VerifyOptions): Ks {
  if (parsed.partnerId !== partner.id) throw new KsError('WRONG_PARTNER', `KS of partner ${parsed.partnerId}`);
  // the secrets tried are part of the kept KS's key (openKs): a secret removed stops the KSs it
  // signed at their next use, not when they drop out of the memo
  const secrets = [partner.adminSecret, ...(partner.additionalAdminSecrets ?? [])].filter((s) => s !== '');
  if (secrets.length === 0) throw new KsError('BAD_SIGNATURE', 'partner has no admin secret');
  const { f, privileges } = openKs(parsed, secrets);
  const ks: Ks = {
    version: parsed.version, partnerId: parsed.partnerId, userId: f.userId, type: f.type, expiry: f.expiry,
    privileges, privilegesString: f.privilegesString, raw: parsed.raw, hash: f.hash,
    masterPartnerId: f.masterPartnerId, additionalData: f.additionalData, isAdmin: f.type >= 1,
  };
  const sid = privileges.get('sessionid');
  if (sid && sid.length) ks.sessionId = sid.join('/');
  if (ks.expiry <= opts.now) throw new KsError('EXPIRED', 'KS expired');
  const ips = privileges.get('iprestrict');
  if (ips && (opts.clientIp === undefined || !ips.includes(opts.clientIp))) throw new KsError('IP', 'KS restricted to another IP');
  const uris = privileges.get('urirestrict');
  if (uris && opts.uri !== null && !uriAllowed(uris.join('/'), opts.uri)) throw new KsError('URI', 'KS restricted to other URIs');
  if (ks.partnerId !== -1 && opts.isRevoked && ksRevocationKeys(ks).some((k) => opts.isRevoked!(k))) {
    throw new KsError('REVOKED', 'KS revoked');
  }
  return ks;
}

/**
 * Revocation against the catalog, which answers asynchronously: verifyKs checks it last, so a
 * caller that verifies without `isRevoked` and then calls this keeps the reference's order.
 * Throws REVOKED when any revocation key of the KS is revoked (never for partner -1).
 */
export async function refuseRevoked(ks: Ks, isRevoked: (key: string) => Promise<boolean>): Promise<void> {
  if (ks.partnerId === -1) return;
  for (const k of ksRevocationKeys(ks)) if (await isRevoked(k)) throw new KsError('REVOKED', 'KS revoked');
}

/** A KS whose `actionslimit` privilege is not a positive whole number (Kaltura's INVALID_ACTIONS_LIMIT). */
export class InvalidActionsLimitError extends Error {}

/**
 * How many API actions a KS may make in all: its first `actionslimit` privilege (Kaltura's
 * ks::isSetLimitAction reads the first pair of that name), or null when it has none. A value
 * that is not a positive whole number throws InvalidActionsLimitError.
 */
export function ksActionsLimit(ks: Pick<Ks, 'privileges' | 'privilegesString'>): number | null {
  if (!ks.privileges.has('actionslimit')) return null;
  for (const item of ks.privilegesString.split(',')) {
    const [name, value] = item.split(':');
    if (name !== 'actionslimit') continue;
    const n = /^[0-9]{1,9}$/.test(value ?? '') ? Number(value) : 0;
    if (n <= 0) throw new InvalidActionsLimitError(`actionslimit ${String(value).slice(0, 16)}`);
    return n;
  }
  return null;
}

/**
 * Counts one API action of a KS that sets `actionslimit:N` (Kaltura's invalid_session row): the
 * first N actions under it pass, the next throws KsError ACTIONS_LIMIT. `take` is the catalog's
 * shared counter (Catalog.takeKsAction), so every process and node counts against one number.
 * Batch sessions (partner -1) are not counted, as they are not checked for revocation either.
 */
export async function countKsAction(ks: Ks, take: (key: string, limit: number, expiresAt: number) => Promise<boolean>): Promise<void> {
  const limit = ksActionsLimit(ks);
  if (limit === null || ks.partnerId === -1) return;
  if (!(await take(ks.hash, limit, ks.expiry))) throw new KsError('ACTIONS_LIMIT', 'KS made all the actions it may');
}

function uriAllowed(patterns: string, uri: string | undefined): boolean {
  if (uri === undefined) return false;
  return patterns.split('|').some((p) => (p.endsWith('*') ? uri.startsWith(p.slice(0, -1)) : uri === p));
}

/**
 * Privilege check, stricter than Kaltura's substring test (where `sview:1_ab` grants 1_abc): names
 * and values compare whole, so `sview:1_ab` does not grant `1_abc`. A KS whose privileges are
 * "*" grants everything; a value "*" grants every value of that name.
 */
export function ksHasPrivilege(ks: Pick<Ks, 'privileges'>, name: string, value?: string): boolean {
  if (ks.privileges.has('*')) return true;
  const values = ks.privileges.get(name);
  if (!values) return false;
  if (value === undefined) return true;
  return values.includes('*') || values.includes(value);
}

export interface GenerateKsOptions {
  partnerId: number;
  /** The admin secret (only an admin secret validates). */
  secret: string;
  type: 0 | 2;
  userId?: string;
  /** Seconds from now. */
  expiry: number;
  privileges?: string;
  version?: 1 | 2;
  /** Unix seconds. */
  now: number;
  masterPartnerId?: number | null;
  additionalData?: string | null;
  /** v2: the 16 random bytes (tests); v1: the rand field. */
  rand?: Buffer | string;
}

/** How far a `downloadasset` KS's expiry is rounded up (below). */
export const DOWNLOAD_ASSET_KS_STEP = 300;

/**
 * A KS carrying `downloadasset` (a download URL's session, handed to a browser or a CDN) is made
 * the same for everyone who asks within one 5-minute window, so the URL it rides in can be cached:
 * as Kaltura's generateSession does, the expiry is rounded up to the next multiple of 5 minutes
 * and the random part is derived from it (v1: the rand field is the expiry; v2: the 16 bytes are
 * the low bytes of the first 16 outputs of MT19937 seeded with it, which is what PHP's
 * srand(expiry) then rand(0, 255) give). The name is looked for anywhere in the privileges, as
 * Kaltura's strpos does.
 */
const isDownloadAssetKs = (privileges: string): boolean => privileges.includes('downloadasset');

/** The first `n` outputs of MT19937 seeded with `seed` (init_genrand), each masked to a byte. */
export function mt19937Bytes(seed: number, n: number): Buffer {
  const mt = new Uint32Array(624);
  mt[0] = seed >>> 0;
  for (let i = 1; i < 624; i++) {
    mt[i] = Math.imul(1812433253, mt[i - 1] ^ (mt[i - 1] >>> 30)) + i;
  }
  for (let i = 0; i < 624; i++) {
    const y = (mt[i] & 0x80000000) | (mt[(i + 1) % 624] & 0x7fffffff);
    mt[i] = mt[(i + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
  }
  const out = Buffer.alloc(n);
  for (let i = 0; i < n; i++) {
    let y = mt[i];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    out[i] = y & 0xff;
  }
  return out;
}

/** Issues a KS the way the reference server does (v1: all 9 fields, standard base64; v2: url-safe). */
export function generateKs(o: GenerateKsOptions): string {
  const userId = o.userId ?? '';
  if (/[;,|\r\n\0]/.test(userId)) throw new KsError('MALFORMED', 'a KS user id may not contain ";", ",", "|" or control characters');
  const privileges = o.privileges ?? '';
  if (/[\r\n\0]/.test(privileges) || (o.version !== 2 && privileges.includes(';'))) {
    throw new KsError('MALFORMED', 'KS privileges may not contain control characters, nor ";" in a v1 KS');
  }
  if (!Number.isInteger(o.partnerId)) throw new KsError('MALFORMED', 'partner id must be an integer');
  if (!Number.isFinite(o.expiry) || !Number.isFinite(o.now)) throw new KsError('MALFORMED', 'expiry must be a number');
  let validUntil = Math.floor(o.now + o.expiry);
  const downloadAsset = isDownloadAssetKs(privileges);
  if (downloadAsset) validUntil = Math.ceil(validUntil / DOWNLOAD_ASSET_KS_STEP) * DOWNLOAD_ASSET_KS_STEP;
  if (o.version === 2) {
    const rand = Buffer.isBuffer(o.rand) ? o.rand : downloadAsset ? mt19937Bytes(validUntil, 16) : randomBytes(16);
    return generateV2(o, userId, privileges, validUntil, rand);
  }
  const rand = typeof o.rand === 'string' ? o.rand
    : downloadAsset ? String(validUntil) : `${Math.floor(o.now)}.${randomBytes(2).readUInt16BE(0) % 10000}`;
  const info = [o.partnerId, o.partnerId, validUntil, o.type, rand, userId, privileges,
    o.masterPartnerId ?? '', o.additionalData ?? ''].join(';');
  return Buffer.from(`${sha1Hex(o.secret + info)}|${info}`, 'utf8').toString('base64');
}

function generateV2(o: GenerateKsOptions, userId: string, privileges: string, validUntil: number, r: Buffer): string {
  // A keyed array in the reference: a repeated name keeps its first position and its last value.
  const fields = new Map<string, string>();
  if (privileges.trim() === '*') fields.set('all', '*');
  else {
    for (const item of privileges.split(',')) {
      if (item === '') continue;
      const c = item.indexOf(':');
      fields.set(c < 0 ? item : item.slice(0, c), c < 0 ? '' : item.slice(c + 1));
    }
  }
  fields.set('_e', String(validUntil));
  fields.set('_t', String(o.type));
  fields.set('_u', userId);
  if (o.masterPartnerId !== undefined && o.masterPartnerId !== null) fields.set('_m', String(o.masterPartnerId));
  if (o.additionalData !== undefined && o.additionalData !== null) fields.set('_d', o.additionalData);
  const f = [...fields].map(([k, v]) => `${phpUrlEncode(k)}=${phpUrlEncode(v)}`).join('&');
  const body = Buffer.concat([r, Buffer.from(f, 'utf8')]);
  const plain = zeroPad(Buffer.concat([sha1(body), body]));
  const c = createCipheriv('aes-128-cbc', aesKey(o.secret), Buffer.alloc(16));
  c.setAutoPadding(false);
  const cipher = Buffer.concat([c.update(plain), c.final()]);
  const all = Buffer.concat([Buffer.from(`v2|${o.partnerId}|`, 'latin1'), cipher]);
  return all.toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/**
 * How playManifest answers a KS that failed: expired 31, IP 34, another
 * partner 32 only when the entry has access-control rules (otherwise the KS is ignored: null),
 * anything else 7. (4, INVALID_KS_SRT, is never produced: the KS is parsed before the access check.)
 */
export function playManifestKsError(e: KsError, entryHasRules: boolean): DeliveryError | null {
  switch (e.reason) {
    case 'EXPIRED': return new DeliveryError('KS_EXPIRED', ', This URL is expired');
    case 'IP': return new DeliveryError('EXCEEDED_RESTRICTED_IP');
    case 'WRONG_PARTNER': return entryHasRules ? new DeliveryError('INVALID_PARTNER') : null;
    default: return new DeliveryError('INVALID_KS', INVALID_KS_WHY[e.reason]);
  }
}

/** Why a KS answered with error 7 was refused, said after Kaltura's own "ks is not valid". */
export const INVALID_KS_WHY: Record<KsErrorReason, string> = {
  MALFORMED: ', the KS cannot be read',
  BAD_SIGNATURE: ', the KS is not signed by its partner',
  URI: ', the KS may be used only at other URLs (its urirestrict privilege)',
  REVOKED: ', the KS was ended (session.end) or revoked',
  ACTIONS_LIMIT: ', the KS made all the actions its actionslimit allows',
  EXPIRED: '', IP: '', WRONG_PARTNER: '',
};
