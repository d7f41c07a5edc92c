// Country of an IP address from a MaxMind-format (.mmdb) database the operator configures
// (KDELIVER_GEOIP_FILE: GeoLite2-Country, GeoIP2-Country/City, DB-IP's country lite, ...).
// The file is read once into memory; lookups are a tree walk.
import { readFileSync } from 'node:fs';
import { Reader } from 'mmdb-lib';
import { parseIp } from './ip.js';

export class GeoError extends Error {
  override name = 'GeoError';
}

/**
 * A client's country asked where no country database is configured (KDELIVER_GEOIP_FILE). Kaltura
 * always has its geocoder; without one a country condition cannot be decided, and answering
 * "unknown" would let everyone past a block list. So the question throws, and the rule that asked
 * it applies (src/access/evaluate.ts evaluateAccessRules).
 */
export class NoCountryDatabaseError extends Error {
  override name = 'NoCountryDatabaseError';
  constructor() {
    super('a country condition, and no country database is configured (KDELIVER_GEOIP_FILE)');
  }
}

/** The country lookup of a server without a country database (Env.countryOf). */
export const noCountryDatabase = (): never => {
  throw new NoCountryDatabaseError();
};

export interface CountryLookup {
  /** ISO 3166-1 alpha-2 code in upper case, or null when unknown. */
  countryOf(ip: string): string | null;
}

interface CountryRecord {
  country?: { iso_code?: string };
  registered_country?: { iso_code?: string };
  country_code?: string;
}

export function countryLookupFromBuffer(db: Buffer): CountryLookup {
  // mmdb-lib's Response union does not name country-only records; the shape is checked on read
  let reader: Reader<any>;
  try {
    reader = new Reader<any>(db);
  } catch (e) {
    throw new GeoError(`not a MaxMind database: ${(e as Error).message}`);
  }
  return {
    countryOf(ip: string): string | null {
      const parsed = parseIp(ip);
      if (!parsed) return null;
      // mmdb-lib wants a plain dotted quad for IPv4 (also for ::ffff:a.b.c.d)
      const text = parsed.v === 4
        ? [24n, 16n, 8n, 0n].map((s) => Number((parsed.n >> s) & 255n)).join('.')
        : ip.trim().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
      let rec: CountryRecord | null;
      try {
        rec = reader.get(text) as CountryRecord | null;
      } catch {
        return null; // an IPv6 address in an IPv4-only database
      }
      const code = rec?.country?.iso_code ?? rec?.registered_country?.iso_code ?? rec?.country_code;
      return typeof code === 'string' && /^[A-Za-z]{2}$/.test(code) ? code.toUpperCase() : null;
    },
  };
}

export function openCountryLookup(file: string): CountryLookup {
  let db: Buffer;
  try {
    db = readFileSync(file);
  } catch (e) {
    throw new GeoError(`KDELIVER_GEOIP_FILE=${file}: cannot read it (${(e as Error).message})`);
  }
  try {
    return countryLookupFromBuffer(db);
  } catch (e) {
    throw new GeoError(`KDELIVER_GEOIP_FILE=${file}: ${(e as Error).message}`);
  }
}
