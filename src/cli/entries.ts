// `kdeliver entries list [--partner <id>] [--json]` and `kdeliver entries delete <id>`: what the
// library holds (with the reason of entries in ERROR), and removing an entry with its files.
import { loadConfig } from '../config.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { deleteEntry } from '../ingest/delete.js';
import { openMediaWriter } from '../storage/media-writer.js';
import { AssetStatus, EntryStatus, entryStatusName, type Entry } from '../catalog/types.js';
import { asksForHelp, commandLine, partnerIdArg } from './usage.js';

const USAGE = 'usage: kdeliver entries list [--partner <id>] [--json]   the entries (every partner\'s without --partner)\n' +
  '       kdeliver entries delete <entry id>          delete an entry, then its files\n';

export async function main(args: string[]): Promise<number> {
  // `kdeliver entries list | head` closes the pipe early: that is not an error
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
  });
  const [sub, ...rest] = args;
  const top = commandLine('entries', USAGE);
  if (sub === 'help' || asksForHelp(args)) return top.help();
  if (sub !== 'list' && sub !== 'delete') return top.error(sub ? `unknown command ${JSON.stringify(sub)}: expected list or delete` : 'expected list or delete');
  const cli = commandLine(`entries ${sub}`, USAGE);
  // each subcommand takes only its own options: `entries delete --partner 3 x` is refused, not
  // taken for a delete of x whatever partner owns it
  const parsed = sub === 'list'
    ? cli.parse(rest, { partner: { type: 'string' }, json: { type: 'boolean' } })
    : cli.parse(rest, {}, { required: ['<entry id>'] });
  if (typeof parsed === 'number') return parsed;
  let partner: number | undefined;
  if (typeof parsed.values.partner === 'string') {
    const id = partnerIdArg('--partner', parsed.values.partner);
    if (typeof id !== 'number') return cli.error(id.problem);
    partner = id;
  }
  const config = loadConfig(process.env);
  const catalog = await openConfiguredCatalog(config);
  try {
    if (sub === 'delete') {
      const id = parsed.positionals[0];
      const entry = await catalog.getEntry(id);
      if (!entry || entry.status === EntryStatus.DELETED) {
        process.stderr.write(`kdeliver entries delete: no entry ${id}${entry ? ' (already deleted)' : ''}\n`);
        return 1;
      }
      const { removed, failed, leftReadOnly } = await deleteEntry({ catalog, dataDir: config.dataDir, mediaRoot: config.mediaRoot, media: openMediaWriter(config), now: Math.floor(Date.now() / 1000) }, id);
      const files = (n: number) => `${n} file${n === 1 ? '' : 's'}`;
      const done = `deleted entry ${id} (partner ${entry.partnerId})`;
      if (leftReadOnly.length > 0 && config.media.kind === 'http') {
        // the catalog no longer names them; the origin is not this server's to write
        process.stdout.write(`${done}; no file removed: KDELIVER_MEDIA_URL=${config.media.url} is a read-only HTTP origin; ${files(leftReadOnly.length)} left there (remove ${leftReadOnly.length === 1 ? 'it' : 'them'} on the origin):\n`);
        for (const f of leftReadOnly) process.stdout.write(`  ${f}\n`);
        return 0;
      }
      process.stdout.write(`${done}; ${files(removed.length)} removed\n`);
      if (failed.length > 0) {
        process.stderr.write(`kdeliver entries delete: ${files(failed.length)} could not be removed (unused now; remove ${failed.length === 1 ? 'it' : 'them'} by hand):\n`);
        for (const f of failed) process.stderr.write(`  ${f.file}: ${f.reason}\n`);
      }
      return 0;
    }
    // a partner that is not here is said, as `kdeliver ingest --partner` says it, not listed as an empty table
    if (partner !== undefined && !(await catalog.getPartner(partner))) {
      process.stderr.write(`kdeliver entries ${sub}: partner ${partner} does not exist (kdeliver partner list shows the partners)\n`);
      return 1;
    }
    const store = catalog.ingest;
    const partners = partner !== undefined ? [partner] : (await catalog.listPartners()).map((p) => p.id);
    const entries: Entry[] = [];
    for (const pid of partners) {
      for (let page = 1; ; page++) {
        const { objects, totalCount } = await catalog.listEntries({ partnerId: pid, includeDeleted: true }, 500, page);
        entries.push(...objects);
        if (page * 500 >= totalCount) break;
      }
    }
    const rows = [];
    for (const e of entries) {
      const flavors = await catalog.listFlavors(e.id);
      const job = await store.latestJob(e.id);
      rows.push({
        id: e.id, partnerId: e.partnerId, status: e.status, statusName: entryStatusName(e.status),
        mediaType: e.mediaType, duration: e.duration, flavors: flavors.filter((f) => f.status === AssetStatus.READY).length, name: e.name,
        ...(job && job.state !== 'done' ? { job: job.state, progress: job.progress, reason: job.error } : {}),
      });
    }
    if (parsed.values.json) {
      process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`${'ENTRY'.padEnd(14)} ${'PARTNER'.padEnd(8)} ${'STATUS'.padEnd(18)} ${'SECONDS'.padStart(8)} FLAVORS NAME\n`);
    for (const r of rows) {
      process.stdout.write(`${r.id.padEnd(14)} ${String(r.partnerId).padEnd(8)} ${`${r.status} ${r.statusName}`.padEnd(18)} ${r.duration.toFixed(1).padStart(8)} ${String(r.flavors).padStart(7)} ${r.name}\n`);
      if ('reason' in r && r.reason) process.stdout.write(`${''.padEnd(14)} reason: ${r.reason}\n`);
      else if ('job' in r && r.job) process.stdout.write(`${''.padEnd(14)} transcoding: ${r.job}, ${Math.round((r.progress ?? 0) * 100)}%\n`);
    }
    return 0;
  } finally {
    await catalog.close();
  }
}
