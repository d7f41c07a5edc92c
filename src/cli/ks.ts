// kdeliver ks --partner <id> --type admin|user [--user X] [--privileges 'sview:*'] [--expiry 3600] [--v1]
// Prints a KS signed with the partner's admin secret from the catalog (v2 unless --v1).
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { KsError, generateKs } from '../access/ks.js';

export interface CliIo {
  env?: Record<string, string | undefined>;
  out?: (s: string) => void;
  err?: (s: string) => void;
  now?: () => number;
}

const USAGE = "usage: kdeliver ks --partner <id> --type admin|user [--user <id>] [--privileges 'sview:*'] [--expiry <seconds, default 86400>] [--v1]\n";

export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((s: string) => void process.stdout.write(s));
  const err = io.err ?? ((s: string) => void process.stderr.write(s));
  let values: Record<string, string | boolean | undefined>;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        partner: { type: 'string' }, type: { type: 'string' }, user: { type: 'string' },
        privileges: { type: 'string' }, expiry: { type: 'string' }, v1: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
      },
      strict: true, allowPositionals: false,
    }));
  } catch (e) {
    err(`kdeliver ks: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) { out(USAGE); return 0; }
  const partnerId = Number(values.partner);
  if (!values.partner || !Number.isInteger(partnerId)) { err(`kdeliver ks: --partner <id> is required\n${USAGE}`); return 2; }
  if (values.type !== 'admin' && values.type !== 'user') { err(`kdeliver ks: --type must be admin or user\n${USAGE}`); return 2; }
  const expiry = values.expiry === undefined ? 86400 : Number(values.expiry);
  if (!Number.isInteger(expiry) || expiry <= 0) { err('kdeliver ks: --expiry must be a positive number of seconds\n'); return 2; }

  const catalog = await openConfiguredCatalog(loadConfig(io.env ?? process.env));
  try {
    const partner = await catalog.getPartner(partnerId);
    if (!partner) { err(`kdeliver ks: no partner ${partnerId} in the catalog\n`); return 1; }
    const ks = generateKs({
      partnerId, secret: partner.adminSecret, type: values.type === 'admin' ? 2 : 0, userId: (values.user as string | undefined) ?? '',
      expiry, privileges: (values.privileges as string | undefined) ?? '', version: values.v1 ? 1 : 2,
      now: io.now ? io.now() : Math.floor(Date.now() / 1000),
    });
    out(`${ks}\n`);
    return 0;
  } catch (e) {
    if (e instanceof KsError) { err(`kdeliver ks: ${e.message}\n`); return 2; }
    throw e;
  } finally {
    await catalog.close();
  }
}
