// `kdeliver partner add [--id <id>] [--name <name>] [--json]` and `kdeliver partner list [--json]`:
// a partner that can ingest and play at once (the catalog's system defaults give it the default
// ladder and delivery profiles), with random secrets shown once; the list never shows secrets.
import { parseArgs } from 'node:util';
import { loadConfig } from '../config.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { PartnerExistsError } from '../catalog/store.js';
import { PartnerStatus } from '../catalog/types.js';

const USAGE = 'usage: kdeliver partner add [--id <id>] [--name <name>] [--json]\n       kdeliver partner list [--json]\n';
const MAX_ID = 2 ** 31 - 1;

export async function main(args: string[]): Promise<number> {
  const [sub, ...rest] = args;
  let parsed;
  try {
    parsed = parseArgs({
      args: rest, allowPositionals: false, strict: true,
      options: { id: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
    });
  } catch (e) {
    process.stderr.write(`kdeliver partner: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values } = parsed;
  if (sub === 'help' || sub === '--help' || sub === '-h' || values.help) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (sub !== 'add' && sub !== 'list') {
    process.stderr.write(sub ? `kdeliver partner: unknown command ${JSON.stringify(sub)}\n${USAGE}` : USAGE);
    return 2;
  }
  if (sub === 'list' && (values.id !== undefined || values.name !== undefined)) {
    process.stderr.write(`kdeliver partner list: takes only --json\n${USAGE}`);
    return 2;
  }
  let id: number | undefined;
  if (values.id !== undefined) {
    id = Number(values.id);
    if (!/^\d+$/.test(values.id) || id < 1 || id > MAX_ID) {
      process.stderr.write(`kdeliver partner add: --id ${values.id}: expected a partner id, a whole number from 1 to ${MAX_ID}\n`);
      return 2;
    }
  }
  const name = values.name?.trim();
  if (name !== undefined && (name.length === 0 || name.length > 256 || /[\u0000-\u001f\u007f]/.test(name))) {
    process.stderr.write('kdeliver partner add: --name: expected 1 to 256 printable characters\n');
    return 2;
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
