// `kdeliver partner add [--id <id>] [--name <name>] [--json]` and `kdeliver partner list [--json]`:
// a partner that can ingest and play at once (the catalog's system defaults give it the default
// ladder and delivery profiles), with random secrets shown once; the list never shows secrets.
import { loadConfig } from '../config.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { PartnerExistsError } from '../catalog/store.js';
import { PartnerStatus } from '../catalog/types.js';
import { asksForHelp, commandLine, partnerIdArg } from './usage.js';

const USAGE = 'usage: kdeliver partner add [--id <id>] [--name <name>] [--json]\n       kdeliver partner list [--json]\n';

export async function main(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  const top = commandLine('partner', USAGE);
  if (sub === 'help' || asksForHelp(args)) return top.help();
  if (sub !== 'add' && sub !== 'list') return top.error(sub ? `unknown command ${JSON.stringify(sub)}: expected add or list` : 'expected add or list');
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
        rows.push({ id: p.id, name: p.name, status: p.status, enforceEncryption: p.enforceEncryption, entries: await catalog.countEntries(p.id) });
      }
      if (values.json) {
        process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
        return 0;
      }
      process.stdout.write(`${'PARTNER'.padEnd(10)} ${'STATUS'.padEnd(8)} ${'ENTRIES'.padStart(7)} NAME\n`);
      for (const r of rows) {
        const status = r.status === PartnerStatus.ACTIVE ? 'active' : String(r.status);
        process.stdout.write(`${String(r.id).padEnd(10)} ${status.padEnd(8)} ${String(r.entries).padStart(7)} ${r.name}${r.enforceEncryption ? ' (HTTPS only)' : ''}\n`);
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
        'The secrets are shown only now: keep them (kdeliver partner list does not show them).\n' +
        `Next: kdeliver ingest movie.mp4 --partner ${partner.id}\n`,
    );
    return 0;
  } finally {
    await catalog.close();
  }
}
