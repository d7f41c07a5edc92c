// IP addresses and ranges for the IP condition: a single address, a CIDR block, an address with
// a netmask, or a first-last range, each IPv4 or IPv6 (the reference compares IPv4 only; IPv6 is
// this project's addition). IPv4-mapped IPv6 addresses (::ffff:a.b.c.d) count as IPv4.
import { isIPv4, isIPv6 } from 'node:net';

export interface Ip {
  v: 4 | 6;
  n: bigint;
}

export function parseIp(text: string): Ip | null {
  let s = text.trim();
  if (s.startsWith('[') && s.endsWith(']')) s = s.slice(1, -1);
  const zone = s.indexOf('%');
  if (zone >= 0) s = s.slice(0, zone);
  if (isIPv4(s)) return { v: 4, n: s.split('.').reduce((acc, p) => (acc << 8n) | BigInt(Number(p)), 0n) };
  if (!isIPv6(s)) return null;
  let head = s, tail = '';
  const dbl = s.indexOf('::');
  if (dbl >= 0) { head = s.slice(0, dbl); tail = s.slice(dbl + 2); }
  const groups = (part: string): number[] => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const [a, b, c, d] = g.split('.').map(Number);
        out.push((a << 8) | b, (c << 8) | d);
      } else out.push(parseInt(g, 16));
    }
    return out;
  };
  const h = groups(head), t = groups(tail);
  const all = [...h, ...new Array(8 - h.length - t.length).fill(0), ...t];
  const n = all.reduce((acc, g) => (acc << 16n) | BigInt(g), 0n);
  if (n >> 32n === 0xffffn) return { v: 4, n: n & 0xffffffffn };
  return { v: 6, n };
}

export interface IpRange {
  v: 4 | 6;
  lo: bigint;
  hi: bigint;
}

const bits = (v: 4 | 6): number => (v === 4 ? 32 : 128);
const maskOf = (v: 4 | 6, prefix: number): bigint => {
  const total = bits(v);
  return ((1n << BigInt(total)) - 1n) ^ ((1n << BigInt(total - prefix)) - 1n);
};

/** One range in any accepted form; null when it is none of them. */
/**
 * The ranges of an IP condition's value, which may list several separated by commas (as Kaltura's
 * kIpAddressCondition reads it); empty parts are skipped, one this server cannot read is null.
 * The API refuses a value with a null (src/api/rules.ts); the evaluation tests the others.
 */
export function parseIpRangeList(value: string): (IpRange | null)[] {
  return value.split(',').filter((part) => part.trim() !== '').map(parseIpRange);
}

export function parseIpRange(text: string): IpRange | null {
  const s = text.trim();
  const dash = s.indexOf('-');
  if (dash > 0) {
    const a = parseIp(s.slice(0, dash)), b = parseIp(s.slice(dash + 1));
    if (!a || !b || a.v !== b.v || b.n < a.n) return null;
    return { v: a.v, lo: a.n, hi: b.n };
  }
  const slash = s.indexOf('/');
  if (slash > 0) {
    const a = parseIp(s.slice(0, slash));
    const m = s.slice(slash + 1);
    if (!a) return null;
    let prefix: number;
    if (/^\d{1,3}$/.test(m)) prefix = Number(m);
    else {
      const mask = parseIp(m);
      if (!mask || mask.v !== 4 || a.v !== 4) return null;
      // a netmask must be contiguous ones then zeros
      const inv = ~mask.n & 0xffffffffn;
      if ((inv & (inv + 1n)) !== 0n) return null;
      prefix = 32 - inv.toString(2).replace(/^0+/, '').length;
    }
    if (prefix > bits(a.v)) return null;
    const mask = maskOf(a.v, prefix);
    const lo = a.n & mask;
    return { v: a.v, lo, hi: lo | (((1n << BigInt(bits(a.v))) - 1n) ^ mask) };
  }
  const a = parseIp(s);
  return a && { v: a.v, lo: a.n, hi: a.n };
}

export function ipInRange(ip: Ip, r: IpRange): boolean {
  return ip.v === r.v && ip.n >= r.lo && ip.n <= r.hi;
}

/** Ranges made searchable: per family, sorted and merged, so one address is a binary search. */
export interface IpRangeSet {
  v4: IpRange[];
  v6: IpRange[];
}

export function ipRangeSet(ranges: Iterable<IpRange>): IpRangeSet {
  const merge = (list: IpRange[]): IpRange[] => {
    list.sort((a, b) => (a.lo < b.lo ? -1 : a.lo > b.lo ? 1 : 0));
    const out: IpRange[] = [];
    for (const r of list) {
      const last = out[out.length - 1];
      if (last && r.lo <= last.hi + 1n) { if (r.hi > last.hi) out[out.length - 1] = { ...last, hi: r.hi }; }
      else out.push(r);
    }
    return out;
  };
  const all = [...ranges];
  return { v4: merge(all.filter((r) => r.v === 4)), v6: merge(all.filter((r) => r.v === 6)) };
}

export function ipInRangeSet(ip: Ip, set: IpRangeSet): boolean {
  const list = ip.v === 4 ? set.v4 : set.v6;
  let lo = 0, hi = list.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (list[mid].hi < ip.n) lo = mid + 1;
    else if (list[mid].lo > ip.n) hi = mid - 1;
    else return true;
  }
  return false;
}

const PRIVATE_V4 = ['10.0.0.0/8', '172.16.0.0/12', '192.168.0.0/16', '127.0.0.0/8', '169.254.0.0/16', '100.64.0.0/10', '0.0.0.0/8']
  .map((r) => parseIpRange(r)!);

export function isPrivateIpv4(ip: Ip): boolean {
  return ip.v === 4 && PRIVATE_V4.some((r) => ipInRange(ip, r));
}

/** At most this many items of a forwarded-for list are looked at. */
export const MAX_FORWARDED_ITEMS = 32;

/**
 * The first acceptable address of a forwarded-for style header: an IPv6 address, or a public
 * IPv4 address (private ones too when acceptInternal). Only the first items are read, so a huge
 * header costs no more than a short one.
 */
export function firstAcceptableIp(header: string, acceptInternal: boolean): string | null {
  let start = 0;
  for (let k = 0; k < MAX_FORWARDED_ITEMS && start <= header.length; k++) {
    let end = header.indexOf(',', start);
    if (end < 0) end = header.length;
    if (end - start <= 64) {
      const item = header.slice(start, end).trim();
      const ip = parseIp(item);
      if (ip && (ip.v === 6 || acceptInternal || !isPrivateIpv4(ip))) return item;
    }
    start = end + 1;
  }
  return null;
}
