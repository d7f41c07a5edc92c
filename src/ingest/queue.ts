// The background transcoding queue. Jobs live in SQLite (ingest_jobs), so they survive a restart:
// a worker takes queued jobs, and running jobs whose owner has gone (its process is dead, or its
// lease ran out without a heartbeat). Several processes (the server, a CLI run) may share a data
// directory; claiming is one conditional UPDATE, so a job runs once.
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { LEASE_SECONDS, nowOf, runJob, stagingRoot, type IngestContext, type JobOutcome } from './pipeline.js';
import { ingestStore, type IngestJob } from './store.js';

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
}

// Workers of this process, so that code which queues a job (api_v3 uploads) can wake them
const workers = new Set<IngestWorker>();
/** Wakes every worker of this process: a job was just queued. */
export function nudgeIngestWorkers(): void {
  for (const w of workers) w.nudge();
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

export function startIngestWorker(ctx: IngestContext, opts: WorkerOptions = {}): IngestWorker {
  const store = ingestStore(ctx.catalog.db);
  const pid = process.pid;
  const now = () => nowOf(ctx);
  const active = new Map<number, { controller: AbortController; progress: number; done: Promise<void> }>();
  const waiters = new Map<number, ((o: JobOutcome) => void)[]>();
  let idleWaiters: (() => void)[] = [];
  let stopped = false;
  let scanning = false;
  const maxJobs = opts.maxJobs ?? 1;

  const orphaned = (j: IngestJob) => j.state === 'running' && j.ownerPid !== null && !active.has(j.id) &&
    (j.ownerPid === pid || !isAlive(j.ownerPid));

  // Staging folders of jobs nobody is running are leftovers of a crash
  try {
    const live = new Set(store.runningJobs().filter((j) => !orphaned(j)).map((j) => `job-${j.id}`));
    for (const name of readdirSync(stagingRoot(ctx.dataDir))) if (!live.has(name)) rmSync(join(stagingRoot(ctx.dataDir), name), { recursive: true, force: true });
  } catch { /* no staging folder yet */ }

  const settleIdle = () => {
    // nothing to tell when no one waits (the poll would otherwise run its queries twice)
    if (active.size > 0 || idleWaiters.length === 0) return;
    // After stop() the database may already be closed: look at nothing
    const pending = stopped ? 0 : store.claimableJobs(now()).length + store.runningJobs().filter(orphaned).length;
    if (pending === 0) {
      const w = idleWaiters;
      idleWaiters = [];
      w.forEach((f) => f());
    }
  };

  const take = (j: IngestJob): boolean => {
    const lease = now() + LEASE_SECONDS;
    if (j.state === 'running') return store.claimOrphan(j.id, j.ownerPid!, pid, lease, now()) || store.claimJob(j.id, pid, lease, now());
    return store.claimJob(j.id, pid, lease, now());
  };

  const scan = () => {
    if (stopped || scanning) return;
    scanning = true;
    try {
      const candidates = [...store.claimableJobs(now()), ...store.runningJobs().filter(orphaned)];
      const seen = new Set<number>();
      for (const j of candidates) {
        if (active.size >= maxJobs) break;
        if (seen.has(j.id) || active.has(j.id)) continue;
        seen.add(j.id);
        if (!take(j)) continue;
        const controller = new AbortController();
        const slot = { controller, progress: 0, done: Promise.resolve() };
        active.set(j.id, slot);
        opts.log?.info({ jobId: j.id, entryId: j.entryId }, 'ingest job started');
        let decile = -1;
        const onProgress = (f: number) => {
          slot.progress = f;
          // one log line per 10 %, as the CLI prints off a terminal
          const d = Math.floor(f * 10);
          if (d > decile && d < 10) {
            decile = d;
            opts.log?.info({ jobId: j.id, entryId: j.entryId, progress: d * 10 }, `ingest job ${d * 10}%`);
          }
        };
        slot.done = runJob(ctx, j.id, { signal: controller.signal, onProgress })
          .then((outcome) => {
            if (outcome.ok) opts.log?.info({ jobId: j.id, entryId: j.entryId }, 'ingest job done: entry READY');
            else opts.log?.warn({ jobId: j.id, entryId: j.entryId, reason: outcome.error }, 'ingest job failed');
            waiters.get(j.id)?.forEach((f) => f(outcome));
            waiters.delete(j.id);
          })
          .catch((e) => opts.log?.warn({ jobId: j.id, err: String(e) }, 'ingest job crashed'))
          .finally(() => {
            active.delete(j.id);
            setImmediate(() => { scan(); settleIdle(); });
          });
      }
    } finally {
      scanning = false;
    }
    settleIdle();
  };

  const heartbeat = setInterval(() => {
    for (const [id, slot] of active) store.heartbeat(id, pid, now() + LEASE_SECONDS, slot.progress, now());
  }, 5000);
  heartbeat.unref();
  const poll = setInterval(scan, opts.pollMs ?? 2000);
  poll.unref();
  setImmediate(scan);

  const worker: IngestWorker = {
    nudge: () => setImmediate(scan),
    async stop() {
      stopped = true;
      workers.delete(worker);
      clearInterval(poll);
      clearInterval(heartbeat);
      for (const slot of active.values()) slot.controller.abort();
      await Promise.all([...active.values()].map((s) => s.done));
      settleIdle();
    },
    idle: () => new Promise<void>((resolve) => {
      idleWaiters.push(resolve);
      setImmediate(() => { scan(); settleIdle(); });
    }),
    waitFor: (jobId: number) => new Promise<JobOutcome>((resolve) => {
      const list = waiters.get(jobId) ?? [];
      list.push(resolve);
      waiters.set(jobId, list);
      setImmediate(scan);
    }),
  };
  workers.add(worker);
  return worker;
}
