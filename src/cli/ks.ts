// kdeliver ks --partner <id> --type admin|user [--user X] [--privileges 'sview:*'] [--expiry 3600] [--v1]
// Prints a KS signed with the partner's admin secret from the catalog (v2 unless --v1).
import { loadConfig } from '../config.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { KsError, generateKs } from '../access/ks.js';
import { commandLine, partnerIdArg, wholeNumberArg } from './usage.js';

export interface CliIo {
  env?: Record<string, string | undefined>;
  out?: (s: string) => void;
  err?: (s: string) => void;
  now?: () => number;
}

/** The largest --expiry taken: a signed 32-bit number of seconds, as Kaltura's session.start takes. */
const MAX_EXPIRY = 2 ** 31 - 1;

const USAGE = "usage: kdeliver ks --partner <id> --type admin|user [--user <id>] [--privileges 'sview:*'] [--expiry <seconds, default 86400>] [--v1]\n";

export async function main(argv: string[], io: CliIo = {}): Promise<number> {
  const out = io.out ?? ((s: string) => void process.stdout.write(s));
  const err = io.err ?? ((s: string) => void process.stderr.write(s));
  const cli = commandLine('ks', USAGE, { out, err });
  const parsed = cli.parse(argv, {
    partner: { type: 'string' }, type: { type: 'string' }, user: { type: 'string' },
    privileges: { type: 'string' }, expiry: { type: 'string' }, v1: { type: 'boolean' },
  });
  if (typeof parsed === 'number') return parsed;
  const { values } = parsed;
  if (typeof values.partner !== 'string') return cli.error('--partner <id> is required');
  const partnerId = partnerIdArg('--partner', values.partner);
  if (typeof partnerId !== 'number') return cli.error(partnerId.problem);
  if (values.type !== 'admin' && values.type !== 'user') return cli.error(values.type === undefined ? '--type admin|user is required' : `--type ${values.type}: expected admin or user`);
  const expiry = values.expiry === undefined ? 86400 : wholeNumberArg('--expiry', String(values.expiry), 1, MAX_EXPIRY, `a number of seconds from 1 to ${MAX_EXPIRY}`);
  if (typeof expiry !== 'number') return cli.error(expiry.problem);

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
