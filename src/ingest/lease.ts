// Who runs an ingest job, and whose staging folder is whose. Several processes share a data
// directory (the server's worker, `kdeliver ingest`, later several nodes on one catalog), so the
// catalog alone decides who holds a job, never a process table:
// - a runner claims a job under a fresh random attempt token with a lease (an end time) in the
//   same row; claiming is one conditional UPDATE (queued, or running with a lapsed lease), so
//   at most one attempt holds a job at a time;
// - the runner renews its lease every third of the lease period for as long as it works; a
//   renewal needs the token and a lease that has not run out, so a runner that stalled past its
//   lease has lost the job even if no one took it yet, and stops;
// - the job's staging folder is named by the attempt (job-<id>-<token>): an attempt that takes
//   over never shares, empties or reuses the folder of the attempt it replaced;
// - a staging folder is removed by its own runner when it ends, or by the sweep when no live
//   lease holds it (a crashed or stalled runner's leftovers);
// - every write that ends a job (READY, ERROR, back to the queue) checks the token in the same
//   transaction, so a runner that lost the job never overwrites its new owner's work.
// Times are Unix seconds of the caller's clock; on a shared catalog they would come from the
// database (now()) so that nodes' clocks do not matter.
import { randomBytes } from 'node:crypto';
import { readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { IngestStore } from '../catalog/store.js';

/** KDELIVER_INGEST_LEASE_SECONDS's default (src/config.ts). */
export const DEFAULT_LEASE_SECONDS = 30;

/** A running job as one attempt holds it. */
export interface JobClaim {
  jobId: number;
  token: string;
}

/** A new attempt token: 16 characters of [A-Za-z0-9_-], fit for a folder name. */
export function newAttemptToken(): string {
  return randomBytes(12).toString('base64url');
}

export function stagingRoot(dataDir: string): string {
  return join(dataDir, 'tmp', 'ingest');
}

/** The attempt's own staging folder. */
export function stagingFolder(dataDir: string, claim: JobClaim): string {
  return join(stagingRoot(dataDir), `job-${claim.jobId}-${claim.token}`);
}

/**
 * Removes the staging folders that no live lease holds; returns their names. The folder list is
 * read before the leases, so a folder made by an attempt that claimed in between is seen as live.
 */
export async function sweepStaging(store: IngestStore, dataDir: string, now: number): Promise<string[]> {
  let names: string[];
  try {
    names = readdirSync(stagingRoot(dataDir));
  } catch {
    return [];
  }
  const live = new Set<string>();
  for (const a of await store.liveAttempts(now)) {
    if (a.token) live.add(`job-${a.jobId}-${a.token}`);
    // job-<id>: a folder of a kdeliver from before attempt tokens, kept while its job is live
    live.add(`job-${a.jobId}`);
  }
  const removed = names.filter((n) => !live.has(n));
  for (const name of removed) rmSync(join(stagingRoot(dataDir), name), { recursive: true, force: true });
  return removed;
}

export interface HeldLease {
  /** Aborted once this attempt no longer holds the job. */
  readonly lost: AbortSignal;
  /** Progress written with each renewal. */
  progress: number;
  stop(): void;
}

/** Keeps renewing the claim's lease until stopped; `lost` fires when a renewal finds the job gone. */
export function holdLease(store: IngestStore, claim: JobClaim, leaseSeconds: number, now: () => number): HeldLease {
  const lost = new AbortController();
  // one renewal at a time; none counts once stopped
  let renewing = false;
  let stopped = false;
  const renew = async () => {
    if (renewing || stopped) return;
    renewing = true;
    try {
      if (await store.renewLease(claim.jobId, claim.token, now() + leaseSeconds, held.progress, now())) return;
    } catch {
      // the database was busy past its timeout: the lease outlasts a missed renewal, try again
      return;
    } finally {
      renewing = false;
    }
    if (stopped) return;
    clearInterval(timer);
    lost.abort();
  };
  const timer = setInterval(() => void renew(), Math.max(100, (leaseSeconds * 1000) / 3));
  timer.unref();
  const held: HeldLease = {
    lost: lost.signal, progress: 0, stop: () => {
      stopped = true;
      clearInterval(timer);
    },
  };
  return held;
}
