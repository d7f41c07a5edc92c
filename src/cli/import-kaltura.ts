// `kdeliver import-kaltura --service-url URL --partner-id N --admin-secret SECRET
//                          [--entry-ids ID,ID… | --all] [--as-partner M] [--no-media] [--jobs N]`
// Brings a Kaltura partner's library (kaltura.com, Kaltura CE, or another kdeliver) into this data
// directory through api_v3 (src/import). Exit status: 0 when every entry was imported or is
// unchanged (entries the source cannot deliver are listed, with the reason), 1 when anything
// failed or the source refused the session, 2 for a usage error. Problems are one line each;
// the admin secret and the session are never printed.
import { join } from 'node:path';
import { loadConfig } from '../config.js';
import { importKaltura, type ImportReport } from '../import/run.js';
import type { Partner } from '../catalog/types.js';
import { openCatalog } from '../catalog/open.js';
import { importProgress, formatBytes } from '../import/progress.js';
import { openSource, SourceError } from '../import/source.js';
import { isSafeId } from '../catalog/ids.js';
import { openMediaWriter } from '../storage/media-writer.js';
import { commandLine, firstLine, partnerIdArg, wholeNumberArg } from './usage.js';

const USAGE = `usage: kdeliver import-kaltura --service-url URL --partner-id N --admin-secret SECRET
                               (--entry-ids ID,ID… | --all) [--as-partner M] [--no-media] [--jobs N]
  --admin-secret -   reads the secret from the first line of standard input
`;

const cli = commandLine('import-kaltura', USAGE);
const usage = cli.error;

export async function main(args: string[]): Promise<number> {
  const parsed = cli.parse(args, {
    'service-url': { type: 'string' }, 'partner-id': { type: 'string' }, 'admin-secret': { type: 'string' },
    'entry-ids': { type: 'string' }, all: { type: 'boolean' }, 'as-partner': { type: 'string' },
    'no-media': { type: 'boolean' }, jobs: { type: 'string' },
  });
  if (typeof parsed === 'number') return parsed;
  const values = parsed.values as Record<string, string | undefined> & { all?: boolean; 'no-media'?: boolean };
  if (!values['service-url']) return usage('--service-url is required');
  if (!values['partner-id']) return usage('--partner-id is required');
  if (!values['admin-secret']) return usage('--admin-secret is required');
  const partnerId = partnerIdArg('--partner-id', values['partner-id']);
  if (typeof partnerId !== 'number') return usage(partnerId.problem);
  const asPartner = values['as-partner'] === undefined ? null : partnerIdArg('--as-partner', values['as-partner']);
  if (asPartner !== null && typeof asPartner !== 'number') return usage(asPartner.problem);
  if (!values.all === (values['entry-ids'] === undefined)) return usage('give either --entry-ids ID,ID… or --all');
  let entryIds: string[] | null = null;
  if (values['entry-ids'] !== undefined) {
    entryIds = [...new Set(values['entry-ids'].split(',').map((s) => s.trim()).filter(Boolean))];
    const bad = entryIds.find((x) => !isSafeId(x));
    if (entryIds.length === 0 || bad !== undefined) return usage(`--entry-ids: ${bad === undefined ? 'no entry id given' : `${JSON.stringify(bad)} is not an entry id`}`);
  }
  const jobs = values.jobs === undefined ? 4 : wholeNumberArg('--jobs', values.jobs, 1, 32, '1 to 32 parallel downloads');
  if (typeof jobs !== 'number') return usage(jobs.problem);

  // `-`: the first line of standard input, so that the secret is not in the process list
  const adminSecret = values['admin-secret'] === '-' ? await firstLine(process.stdin) : values['admin-secret'];
  if (!adminSecret) return usage('--admin-secret -: standard input held no secret');
  const config = loadConfig(process.env);
  let source;
  try {
    source = await openSource({ serviceUrl: values['service-url'], partnerId, adminSecret });
  } catch (e) {
    if (e instanceof SourceError) {
      process.stderr.write(`kdeliver import-kaltura: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  // without the sample library: an import starts from what the data directory holds
  // it uses no server secret: no sample-library verdict to ask of the catalog
  const catalog = await openCatalog({ ...config, sampleLibrary: false, sampleSecrets: false });
  const store = catalog.kalturaImport;
  // the media folder, or the S3 store of KDELIVER_MEDIA_URL (main.ts refused a read-only origin)
  const media = openMediaWriter(config)!;
  const progress = importProgress(process.stderr);
  let report: ImportReport;
  try {
    // the new partner's secrets go out at once (before any download, so before any bar is drawn):
    // a run stopped before its end has shown them
    report = await importKaltura(source, config, catalog, store, media, { entryIds, asPartner, noMedia: !!values['no-media'], jobs, onPartnerCreated: showSecrets }, progress);
  } catch (e) {
    progress.close();
    if (e instanceof SourceError) {
      process.stderr.write(`kdeliver import-kaltura: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await catalog.close();
  }
  progress.close();
  return summarize(report, source.serviceUrl, partnerId, join(config.dataDir, 'tmp', 'import'));
}

/** The run's summary on stdout (`w`); returns the exit status. */
export function summarize(r: ImportReport, serviceUrl: string, sourcePartner: number, tmpDir: string, w: (s: string) => void = (s) => void process.stdout.write(`${s}\n`)): number {
  const by = (k: string) => r.entries.filter((e) => e.result === k);
  const imported = by('imported');
  const failed = by('failed');
  w(`import from ${serviceUrl} partner ${sourcePartner} into partner ${r.partnerId}: ` +
    `${imported.length} imported, ${by('unchanged').length} unchanged, ${by('undeliverable').length} undeliverable, ` +
    `${by('not imported').length} not imported, ${failed.length} failed; ${r.files} file${r.files === 1 ? '' : 's'}, ${formatBytes(r.bytes)} downloaded`);
  for (const kind of ['undeliverable', 'not imported', 'failed'] as const) {
    const list = by(kind);
    if (list.length === 0) continue;
    w(`${kind}:`);
    for (const e of list) w(`  ${e.id}: ${e.reason}`);
  }
  if (r.createdPartner) w(`partner ${r.createdPartner.id} was created here by this run; its new secrets are printed above, once.`);
  // the partner is made with the first entry written: a run that wrote none made nothing
  if (!r.partnerHere) w(`No entry was written, so partner ${r.partnerId} was not created here (nor anything under it).`);
  if (r.keptDownloads) w(`${r.keptDownloads} download${r.keptDownloads === 1 ? ' is' : 's are'} kept in ${tmpDir} for the next run, which resumes ${r.keptDownloads === 1 ? 'it' : 'them'}.`);
  if (failed.length) w(`Run the same command again to retry the failed ${failed.length === 1 ? 'entry' : 'entries'}; finished files are not fetched again.`);
  return failed.length ? 1 : 0;
}

/** The secrets of the partner this run made: printed once, on stdout, the moment it is made. */
function showSecrets(p: Partner): void {
  const w = (s: string) => process.stdout.write(`${s}\n`);
  w(`partner ${p.id} created here: ${p.name}`);
  w(`  admin secret: ${p.adminSecret}`);
  w(`  user secret:  ${p.userSecret}`);
  w('The secrets are new (not the source\'s) and shown only now: keep them.');
}
