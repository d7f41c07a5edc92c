// The background transcoding queue. Jobs live in the catalog (ingest_jobs), so they survive a restart:
// a worker takes queued jobs, and running jobs whose lease ran out (their runner died, or stalled
// past its lease). Several processes (the server, a CLI run) may share a data directory; who holds
// a job is decided in the catalog alone, never by looking at process ids (src/ingest/lease.ts).
import { claimJob, nowOf, runJob, type IngestContext, type JobOutcome } from './pipeline.js';
import { sweepStaging } from './lease.js';
import type { IngestJob } from '../catalog/store.js';

export interface IngestWorker {
  /** Look for work now (after a job was queued). */
  nudge(): void;
  /** Abort running jobs (they go back to the queue) and stop. */
  stop(): Promise<void>;
  /** Resolves when no job is running or waiting (tests, CLI). */
  idle(): Promise<void>;
  /** Resolves with the outcome once the given job has run in this worker. */
  waitFor(jobId: number): Promise<JobOutcome>;
}

export interface WorkerOptions {
  pollMs?: number;
  /** Jobs run at once; each job runs up to ctx.concurrency ffmpeg processes. */
  maxJobs?: number;
  log?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void };
  /**
   * Why this process cannot reach the media store now, or null when it can; asked before each
   * scan. A node cut off from a shared store (S3) would claim jobs only to fail them with the
   * store's message, while a node that reaches the store could have finished them: it leaves
   * them queued instead, and takes them again once the store answers. Asked again (`fresh`)
   * when a running job fails: a job that failed because the store went away is queued again.
   */
  storeProblem?: (opts?: { fresh?: boolean }) => Promise<string | null>;
}

// Workers of this process, so that code which queues a job (api_v3 uploads) can wake them
const workers = new Set<IngestWorker>();
/** Wakes every worker of this process: a job was just queued. */
export function nudgeIngestWorkers(): void {
  for (const w of workers) w.nudge();
}

export function startIngestWorker(ctx: IngestContext, opts: WorkerOptions = {}): IngestWorker {
  const store = ctx.catalog.ingest;
  const now = () => nowOf(ctx);
  const active = new Map<number, { controller: AbortController; done: Promise<void> }>();
  const waiters = new Map<number, ((o: JobOutcome) => void)[]>();
  let idleWaiters: (() => void)[] = [];
  let stopped = false;
  let scanning = false;
  // the store problem last logged, so that a store that stays down is one line, not one per poll
  let storeDown: string | null = null;
  const maxJobs = opts.maxJobs ?? 1;

  // Staging folders that no live lease holds are leftovers of a crash, or of a runner that lost its job
  const sweep = async () => {
    try {
      const removed = await sweepStaging(store, ctx.dataDir, now());
      if (removed.length) opts.log?.info({ folders: removed }, 'ingest staging leftovers removed');
    } catch (e) {
      opts.log?.warn({ err: String(e) }, 'ingest staging leftovers could not be removed');
    }
  };
  void sweep();

  const settleIdle = async () => {
    // nothing to tell when no one waits (the poll would otherwise run its queries twice)
    if (active.size > 0 || idleWaiters.length === 0) return;
    let pending: number;
    try {
      // After stop() the database may already be closed: look at nothing
      pending = stopped ? 0 : (await store.claimableJobs(now())).length;
    } catch (e) {
      opts.log?.warn({ err: String(e) }, 'ingest queue could not be read');
      return;
    }
    // a job may have started while the catalog answered
    if (pending === 0 && active.size === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      w.forEach((f) => f());
    }
  };
  const later = () => setImmediate(() => { void scan(); void settleIdle(); });

  const take = async (j: IngestJob): Promise<string | null> => {
    const claim = await claimJob(ctx, j.id);
    if (claim && j.state === 'running') {
      // taken over: the lapsed attempt's folder is no one's any more
      opts.log?.warn({ jobId: j.id, entryId: j.entryId, attempt: j.attempts + 1 }, 'ingest job taken over: its runner did not renew its lease');
      await sweep();
    }
    return claim?.token ?? null;
  };

  /** Claims and runs one job in its slot (the slot is taken before the claim, so idle() never sees a gap). */
  const start = async (j: IngestJob, controller: AbortController): Promise<void> => {
    const token = await take(j);
    if (!token) return;
    opts.log?.info({ jobId: j.id, entryId: j.entryId }, 'ingest job started');
    let decile = -1;
    const onProgress = (f: number) => {
      // one log line per 10 %, as the CLI prints off a terminal
      const d = Math.floor(f * 10);
      if (d > decile && d < 10) {
        decile = d;
        opts.log?.info({ jobId: j.id, entryId: j.entryId, progress: d * 10 }, `ingest job ${d * 10}%`);
      }
    };
    // stopped while claiming: runJob hands it straight back to the queue
    if (stopped) controller.abort();
    const storeProblem = opts.storeProblem && (() => opts.storeProblem!({ fresh: true }));
    const outcome = await runJob(ctx, j.id, { signal: controller.signal, onProgress, token, storeProblem });
    if (outcome.ok) opts.log?.info({ jobId: j.id, entryId: j.entryId }, 'ingest job done: entry READY');
    else if (outcome.requeued) opts.log?.warn({ jobId: j.id, entryId: j.entryId, reason: outcome.error }, 'ingest job stopped and queued again');
    else if (outcome.lost) opts.log?.warn({ jobId: j.id, entryId: j.entryId, reason: outcome.error }, 'ingest job left to its new owner');
    else opts.log?.warn({ jobId: j.id, entryId: j.entryId, reason: outcome.error }, 'ingest job failed');
    waiters.get(j.id)?.forEach((f) => f(outcome));
    waiters.delete(j.id);
  };

  const scan = async () => {
    if (stopped || scanning) return;
    scanning = true;
    try {
      const problem = opts.storeProblem ? await opts.storeProblem() : null;
      if (problem !== storeDown) {
        if (problem) opts.log?.warn({ reason: problem }, 'ingest jobs left in the queue: the media store does not answer');
        else opts.log?.info({}, 'the media store answers again: ingest jobs are taken');
        storeDown = problem;
      }
      if (problem) return;
      for (const j of await store.claimableJobs(now())) {
        if (stopped || active.size >= maxJobs) break;
        if (active.has(j.id)) continue;
        const controller = new AbortController();
        const slot = { controller, done: Promise.resolve() };
        active.set(j.id, slot);
        slot.done = start(j, controller)
          .catch((e) => opts.log?.warn({ jobId: j.id, err: String(e) }, 'ingest job crashed'))
          .finally(() => {
            active.delete(j.id);
            later();
          });
      }
    } catch (e) {
      opts.log?.warn({ err: String(e) }, 'ingest queue could not be read');
    } finally {
      scanning = false;
    }
    await settleIdle();
  };

  const poll = setInterval(() => void scan(), opts.pollMs ?? 2000);
  poll.unref();
  setImmediate(() => void scan());

  const worker: IngestWorker = {
    nudge: () => setImmediate(() => void scan()),
    async stop() {
      stopped = true;
      workers.delete(worker);
      clearInterval(poll);
      for (const slot of active.values()) slot.controller.abort();
      await Promise.all([...active.values()].map((s) => s.done));
      await settleIdle();
    },
    idle: () => new Promise<void>((resolve) => {
      idleWaiters.push(resolve);
      later();
    }),
    waitFor: (jobId: number) => new Promise<JobOutcome>((resolve) => {
      const list = waiters.get(jobId) ?? [];
      list.push(resolve);
      waiters.set(jobId, list);
      setImmediate(() => void scan());
    }),
  };
  workers.add(worker);
  return worker;
}
