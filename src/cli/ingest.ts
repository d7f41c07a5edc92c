// `kdeliver ingest <file> --partner <id> [--entry-id <id>] [--name <name>] [--conversion-profile <id>] [--queue-only]`
// Registers a media file as an entry's source and transcodes its ladder in the foreground, with
// progress; the entry is READY at the end, or in ERROR with the reason (exit status 1).
// `kdeliver ingest --retry <entry id>` transcodes an entry in ERROR again from its source.
import { openUrl, loadConfig, ConfigError } from '../config.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { addSource, claimJob, defaultConcurrency, IngestError, leaseOf, nowOf, runJob, type IngestContext, type JobOutcome, type RunJobOptions } from '../ingest/pipeline.js';
import { newAttemptToken } from '../ingest/lease.js';
import { openMediaWriter } from '../storage/media-writer.js';
import { EntryStatus } from '../catalog/types.js';
import { progressReporter } from '../ingest/progress.js';
import { commandLine, MAX_PARTNER_ID, partnerIdArg, wholeNumberArg } from './usage.js';

const USAGE = 'usage: kdeliver ingest <file> --partner <id> [--entry-id <id>] [--name <name>] [--conversion-profile <id>] [--jobs <n>] [--queue-only]\n       kdeliver ingest --retry <entry id> [--jobs <n>]';

export async function main(args: string[]): Promise<number> {
  const cli = commandLine('ingest', USAGE);
  const parsed = cli.parse(args, {
    partner: { type: 'string' }, 'entry-id': { type: 'string' }, name: { type: 'string' },
    'conversion-profile': { type: 'string' }, jobs: { type: 'string' }, 'queue-only': { type: 'boolean' }, retry: { type: 'string' },
  }, { optional: ['<file>'] });
  if (typeof parsed === 'number') return parsed;
  const { positionals } = parsed;
  const values = parsed.values as Record<string, string | undefined> & { 'queue-only'?: boolean };
  let partnerId = 0;
  let profile: number | undefined;
  if (values.retry !== undefined) {
    // a retry transcodes the entry as it was added: what would add one is refused, not ignored
    const extra = positionals[0] !== undefined ? JSON.stringify(positionals[0])
      : (['partner', 'entry-id', 'name', 'conversion-profile', 'queue-only'] as const).find((k) => values[k] !== undefined);
    if (extra) return cli.error(`--retry takes only --jobs besides the entry id (not ${extra.startsWith('"') ? extra : `--${extra}`})`);
  } else {
    if (positionals.length === 0) return cli.error('the media file is required');
    if (values.partner === undefined) return cli.error('--partner is required');
    const given = partnerIdArg('--partner', values.partner);
    if (typeof given !== 'number') return cli.error(given.problem);
    partnerId = given;
    if (values['conversion-profile'] !== undefined) {
      const p = wholeNumberArg('--conversion-profile', values['conversion-profile'], 1, MAX_PARTNER_ID, 'a conversion profile id');
      if (typeof p !== 'number') return cli.error(p.problem);
      profile = p;
    }
  }
  const jobs = values.jobs !== undefined ? wholeNumberArg('--jobs', values.jobs, 1, 16, '1 to 16 parallel ffmpeg processes') : defaultConcurrency();
  if (typeof jobs !== 'number') return cli.error(jobs.problem);

  let config;
  try {
    config = loadConfig(process.env);
  } catch (e) {
    if (e instanceof ConfigError) {
      // as ./main.ts says every configuration error
      process.stderr.write(`kdeliver: ${e.message}\n`);
      return 2;
    }
    throw e;
  }
  const catalog = await openConfiguredCatalog(config);
  // main.ts refused a store that takes no writes before this command started
  const ctx: IngestContext = { catalog, dataDir: config.dataDir, mediaRoot: config.mediaRoot, media: openMediaWriter(config), concurrency: jobs, leaseSeconds: config.ingestLeaseSeconds };
  try {
    let entryId: string;
    let jobId: number;
    let token: string | undefined;
    if (values.retry) {
      const entry = await catalog.getEntry(values.retry);
      if (!entry || entry.status === EntryStatus.DELETED) throw new IngestError(`no entry ${values.retry}`);
      const store = catalog.ingest;
      const failed = entry.status === EntryStatus.ERROR_CONVERTING || entry.status === EntryStatus.ERROR_IMPORTING;
      // An entry whose transcoding no process holds: its runner was killed, or stopped where its
      // failure could not be recorded (its data directory's disk full). It is no failed entry, and
      // it was refused here, so without a server on the data directory nothing ever finished it.
      // Its own job is run, as a server's worker would take it over.
      const job = failed ? undefined : await store.latestJob(entry.id);
      const unheld = job && job.state !== 'done' && job.state !== 'failed' && (await store.claimableJobs(nowOf(ctx))).some((j) => j.id === job.id);
      if (!failed && !unheld) {
        const running = job && job.state === 'running' ? ` (its job ${job.id} is held by a runner until ${new Date(job.leaseUntil! * 1000).toISOString()}; a runner that is gone lets go of it then)` : '';
        throw new IngestError(`entry ${entry.id} is not in ERROR (status ${entry.status}); only a failed entry is retried${running}`);
      }
      if (!(await catalog.listFlavors(entry.id)).some((f) => f.isOriginal)) {
        throw new IngestError(`entry ${entry.id} has no source file to transcode: ingest the file again`);
      }
      entryId = entry.id;
      if (unheld) {
        // claimed by runJob itself (runToEnd), as any runner claims a job no one holds
        jobId = job.id;
        process.stdout.write(`entry ${entryId}: its transcoding (job ${job.id}) was left unfinished; running it\n`);
      } else {
        const now = nowOf(ctx);
        token = newAttemptToken();
        const owner = { token, pid: process.pid, leaseUntil: now + leaseOf(ctx) };
        // one transaction: the entry back to PRECONVERT, and a job claimed by this process with its last job's profile
        jobId = await store.retryEntry(entry.id, entry.partnerId, EntryStatus.PRECONVERT, owner, now);
        process.stdout.write(`entry ${entryId}: transcoding again from its source\n`);
      }
    } else {
      const added = await addSource(ctx, {
        partnerId, file: positionals[0], entryId: values['entry-id'], name: values.name, conversionProfileId: profile,
        claim: !values['queue-only'],
      });
      const p = added.probe;
      const what = p.video ? `${p.video.codec} ${p.video.width}x${p.video.height}${p.audio ? ` + ${p.audio.codec}` : ''}` : `${p.audio?.codec} audio`;
      process.stdout.write(`entry ${added.entryId}: source ${added.sourceFlavorId} registered (${what}, ${p.durationSec.toFixed(1)} s)\n`);
      if (values['queue-only']) {
        process.stdout.write(`transcoding queued as job ${added.jobId}; a running \`kdeliver serve\` on this data directory will do it\n`);
        return 0;
      }
      entryId = added.entryId;
      jobId = added.jobId;
      token = added.claim?.token;
    }
    const pid = (await catalog.getEntry(entryId))!.partnerId;
    const progress = progressReporter(process.stderr, `transcoding ${entryId}`);
    const controller = new AbortController();
    const onSignal = () => controller.abort();
    process.once('SIGINT', onSignal);
    process.once('SIGTERM', onSignal);
    const outcome = await runToEnd(ctx, jobId, { onProgress: (f) => progress.update(f), signal: controller.signal, token },
      (note) => process.stderr.write(`${note}\n`));
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const s of outcome.skipped) process.stdout.write(`  skipped flavor params ${s.paramsId}: ${s.reason}\n`);
    if (controller.signal.aborted) {
      progress.done(`interrupted: job ${jobId} stays queued; \`kdeliver serve\` on this data directory finishes it`);
      return 130;
    }
    if (!outcome.ok) {
      progress.done(`entry ${entryId} failed: ${outcome.error}\n  (once fixed: kdeliver ingest --retry ${entryId})`);
      return 1;
    }
    progress.done(`entry ${entryId} READY with ${(await catalog.listFlavors(entryId)).length} flavors`);
    const base = config.publicUrl ?? openUrl(config.host, config.port);
    process.stdout.write(`  ${base}/p/${pid}/sp/${pid}00/playManifest/entryId/${entryId}/format/applehttp/protocol/http/a.m3u8\n`);
    process.stdout.write(`  ${base}/p/${pid}/sp/${pid}00/playManifest/entryId/${entryId}/format/url/protocol/http/a.mp4\n`);
    process.stdout.write(`  ${base}/p/${pid}/sp/${pid}00/thumbnail/entry_id/${entryId}/width/640\n`);
    return 0;
  } catch (e) {
    if (e instanceof IngestError) {
      process.stderr.write(`kdeliver ingest: ingest failed: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    await catalog.close();
  }
}

/**
 * Runs the claimed job to its end, as the person waits for it. Should this process lose the job
 * (it stalled past its lease, say a suspended laptop, and a server on the same data directory took
 * it over), it follows the job to the end another process gives it, running it again itself
 * whenever no one holds it.
 */
async function runToEnd(ctx: IngestContext, jobId: number, opts: RunJobOptions, note: (s: string) => void): Promise<JobOutcome> {
  const store = ctx.catalog.ingest;
  let outcome = await runJob(ctx, jobId, opts);
  const pollMs = Math.min(2000, (leaseOf(ctx) * 1000) / 3);
  let told = false;
  while (outcome.lost && !opts.signal?.aborted) {
    const job = await store.getJob(jobId);
    if (!job || job.state === 'failed') return { ...outcome, lost: false, error: job?.error ?? outcome.error };
    if (job.state === 'done') return { ...outcome, ok: true, lost: false, error: null };
    const claim = await claimJob(ctx, jobId);
    if (claim) {
      // Say so: a stall long enough to lose the lease is worth knowing about (a suspended
      // machine, a starved process); the job starts again from its source under a new attempt
      note(`${outcome.error}; no other process took it: running it again`);
      outcome = await runJob(ctx, jobId, { ...opts, token: claim.token });
      continue;
    }
    if (!told) note(`${outcome.error}; another process is running job ${jobId} now: waiting for its end`);
    told = true;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return outcome;
}
