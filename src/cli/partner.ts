// `kdeliver partner add [--id <id>] [--name <name>] [--json]` and `kdeliver partner list [--json]`:
// a partner that can ingest and play at once (the catalog's system defaults give it the default
// ladder and delivery profiles), with random secrets shown once; the list never shows secrets.
// `kdeliver partner secret add|remove`: a partner's admin secrets besides the primary one, to
// rotate a secret without a moment in which the clients holding the old or the new one fail.
import { loadConfig } from '../config.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { AdminSecretError } from '../catalog/admin-secrets.js';
import { PartnerExistsError } from '../catalog/store.js';
import { PartnerStatus } from '../catalog/types.js';
import { asksForHelp, commandLine, firstLine, partnerIdArg, typedCommand } from './usage.js';

const USAGE = 'usage: kdeliver partner add [--id <id>] [--name <name>] [--json]\n       kdeliver partner list [--json]\n' +
  '       kdeliver partner secret add --partner <id> [--primary] [--secret <secret> | --secret -] [--json]\n' +
  '       kdeliver partner secret remove --partner <id> --secret <secret> | --secret -\n';

export async function main(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const top = commandLine('partner', USAGE);
  if (sub === 'help' || asksForHelp(args)) return top.help();
  if (sub === 'secret') return secret(rest);
  if (sub !== 'add' && sub !== 'list') return top.error(sub ? `unknown command ${JSON.stringify(sub)}: expected add, list or secret` : 'expected add, list or secret');
  const cli = commandLine(`partner ${sub}`, USAGE);
  // each subcommand takes only its own options
  const parsed = cli.parse(rest, sub === 'add'
    ? { id: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } }
    : { json: { type: 'boolean' } });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { id?: string; name?: string; json?: boolean };
  let id: number | undefined;
  if (values.id !== undefined) {
    const given = partnerIdArg('--id', values.id);
    if (typeof given !== 'number') return cli.error(given.problem);
    id = given;
  }
  const name = values.name?.trim();
  if (name !== undefined && (name.length === 0 || name.length > 256 || /[\u0000-\u001f\u007f]/.test(name))) {
    return cli.error('--name: expected 1 to 256 printable characters');
  }

  const catalog = await openConfiguredCatalog(loadConfig(process.env));
  try {
    if (sub === 'list') {
      const rows = [];
      for (const p of await catalog.listPartners()) {
        // how many admin secrets, never which: a rotation whose old secret is still there shows 2
        rows.push({
          id: p.id, name: p.name, status: p.status, enforceEncryption: p.enforceEncryption, entries: await catalog.countEntries(p.id),
          adminSecrets: 1 + p.additionalAdminSecrets.length,
        });
      }
      if (values.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return 0;
      }
      process.stdout.write(`${'PARTNER'.padEnd(10)} ${'STATUS'.padEnd(8)} ${'ENTRIES'.padStart(7)} ${'ADMIN SECRETS'.padStart(13)} NAME\n`);
      for (const r of rows) {
        const status = r.status === PartnerStatus.ACTIVE ? 'active' : String(r.status);
        process.stdout.write(`${String(r.id).padEnd(10)} ${status.padEnd(8)} ${String(r.entries).padStart(7)} ${String(r.adminSecrets).padStart(13)} ${r.name}${r.enforceEncryption ? ' (HTTPS only)' : ''}\n`);
      }
      return 0;
    }
    let partner;
    try {
      partner = await catalog.addPartner({ id, name });
    } catch (e) {
      if (e instanceof PartnerExistsError) {
        process.stderr.write(`kdeliver partner add: ${e.message}; choose another --id, or leave it out for the next free one\n`);
        return 1;
      }
      throw e;
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ id: partner.id, name: partner.name, adminSecret: partner.adminSecret, userSecret: partner.userSecret }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(
      `partner ${partner.id} created: ${partner.name}\n` +
        `  admin secret: ${partner.adminSecret}\n` +
        `  user secret:  ${partner.userSecret}\n` +
        `The secrets are shown only now: keep them (${typedCommand()} partner list does not show them).\n` +
        `Next: ${typedCommand()} ingest movie.mp4 --partner ${partner.id}\n`,
    );
    return 0;
  } finally {
    await catalog.close();
  }
}

/**
 * `partner secret add`: another admin secret (random unless given), printed once; with --primary it
 * becomes the one every KS is signed with, the old primary staying valid as an additional one.
 * `partner secret remove`: an additional admin secret goes; the KSs it signed fail at once.
 * `--secret -` reads the secret from standard input's first line, out of the process list.
 */
async function secret(args: string[]): Promise<number> {
  const [action, ...rest] = args;
  const top = commandLine('partner secret', USAGE);
  if (action !== 'add' && action !== 'remove') {
    return top.error(action ? `unknown command ${JSON.stringify(action)}: expected add or remove` : 'expected add or remove');
  }
  const cli = commandLine(`partner secret ${action}`, USAGE);
  const parsed = cli.parse(rest, action === 'add'
    ? { partner: { type: 'string' }, primary: { type: 'boolean' }, secret: { type: 'string' }, json: { type: 'boolean' } }
    : { partner: { type: 'string' }, secret: { type: 'string' } });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as { partner?: string; primary?: boolean; secret?: string; json?: boolean };
  if (values.partner === undefined) return cli.error('--partner is required');
  const partnerId = partnerIdArg('--partner', values.partner);
  if (typeof partnerId !== 'number') return cli.error(partnerId.problem);
  if (action === 'remove' && values.secret === undefined) return cli.error('--secret is required: the admin secret to remove, or - to read it from standard input');
  const given = values.secret === '-' ? await firstLine(process.stdin) : values.secret;
  if (given === '') return cli.error(values.secret === '-' ? '--secret -: standard input held no secret' : '--secret: empty');

  const catalog = await openConfiguredCatalog(loadConfig(process.env));
  const refused = (e: unknown): number => {
    if (!(e instanceof AdminSecretError)) throw e;
    process.stderr.write(`kdeliver partner secret ${action}: ${e.message}\n`);
    return 1;
  };
  try {
    if (action === 'remove') {
      try {
        await catalog.removeAdminSecret(partnerId, given!);
      } catch (e) {
        return refused(e);
      }
      process.stdout.write(`partner ${partnerId}: admin secret removed; sessions it started and KSs signed with it are refused from now on\n`);
      return 0;
    }
    let added: string;
    try {
      added = await catalog.addAdminSecret(partnerId, { secret: given, primary: !!values.primary });
    } catch (e) {
      return refused(e);
    }
    if (values.json) {
      process.stdout.write(`${JSON.stringify({ partnerId, adminSecret: added, primary: !!values.primary }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(values.primary
      ? `partner ${partnerId}: new primary admin secret: ${added}\n` +
        '  New KSs are signed with it; the old primary secret is an additional one and still works until\n' +
        `  you remove it: kdeliver partner secret remove --partner ${partnerId} --secret -  (then the old secret on stdin)\n`
      : `partner ${partnerId}: additional admin secret: ${added}\n` +
        '  It starts admin sessions (signed with it) and verifies KSs, as the primary one does.\n');
    if (given === undefined) process.stdout.write('The secret is shown only now: keep it.\n');
    return 0;
  } finally {
    await catalog.close();
  }
}
