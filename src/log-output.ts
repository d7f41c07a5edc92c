// Where the server's log lines go: standard output, written in order and asynchronously, as pino's
// own destination writes it, but without its two ways of taking the server down with the log.
// An operator's `kdeliver serve >> /var/log/kdeliver.log` on a disk that fills (ENOSPC), a quota
// (EDQUOT), a file-size limit (EFBIG) or a failing disk (EIO): pino's destination answered the
// first failed write with an 'error' event no one could listen to, the process began to exit, and
// its exit hook (a synchronous flush) retried the same write every 100 ms for ever. The server
// then answered nothing, held its port and ignored SIGTERM; only SIGKILL ended it.
// Here a failed write keeps its lines (up to a bound, then newer lines are counted and dropped;
// the same bound holds memory when a pipe's reader falls behind),
// is tried again with the next line and once a second, and when the output takes lines again a
// line says how many were dropped and why. A line is never torn: what a short write left is
// written before anything else. Serving never waits for the log.
import { write as fsWrite, writeSync } from 'node:fs';

/** What pino (through Fastify's `logger.stream`) needs of a destination. */
export interface LogDestination {
  write(line: string): void;
}

export interface LogOutputOptions {
  /** Bytes kept while the output fails or falls behind; lines past it are dropped and counted. */
  maxPendingBytes?: number;
  /** How long a failed output waits before it is tried again with no new line to write. */
  retryMs?: number;
  /** The clock of the note about dropped lines (tests). */
  now?: () => number;
}

export class LogOutput implements LogDestination {
  /** Lines not yet handed to the kernel, oldest first (the head may be the rest of a short write). */
  private queue: Buffer[] = [];
  private queued = 0;
  /** A write is in the kernel's hands (one at a time, so lines stay in order). */
  private writing = false;
  /** Why the last write failed, while the output fails. */
  private failure: string | null = null;
  private retry: NodeJS.Timeout | null = null;
  /** The reader of a pipe has gone (EPIPE): nothing can be written any more. */
  private closed = false;
  /** Lines dropped since the output last took one, and in all. */
  private droppedNow = 0;
  dropped = 0;
  private readonly maxPending: number;
  private readonly retryMs: number;
  private readonly now: () => number;

  constructor(private readonly fd: number, opts: LogOutputOptions = {}) {
    this.maxPending = opts.maxPendingBytes ?? 4 * 1024 * 1024;
    this.retryMs = opts.retryMs ?? 1000;
    this.now = opts.now ?? Date.now;
  }

  write(line: string): void {
    if (this.closed) return;
    const bytes = Buffer.from(line);
    // Past the bound (the output fails, or is slower than the lines come) a line is dropped, and
    // so is every line after it until the output takes lines again: the note then stands where
    // the gap is
    if (this.droppedNow > 0 || this.queued + bytes.length > this.maxPending) {
      this.droppedNow++;
      this.dropped++;
    } else {
      this.queue.push(bytes);
      this.queued += bytes.length;
    }
    this.pump();
  }

  /** Why the output fails (its last write's error), or null while it takes lines. */
  get failing(): string | null {
    return this.failure;
  }

  /** Lines not yet written (bytes). */
  get pending(): number {
    return this.queued;
  }

  /**
   * At exit: what is queued, written synchronously, one attempt (a failing output is left as it
   * is: an exit must not wait for a disk to get room). A write still in the kernel's hands is left
   * to finish; writing after it could put lines out of order.
   */
  flushSync(): void {
    if (this.writing || this.closed || this.queued === 0) return;
    try {
      let buf = Buffer.concat(this.queue);
      while (buf.length > 0) buf = buf.subarray(writeSync(this.fd, buf));
      this.queue = [];
      this.queued = 0;
    } catch {
      // the output fails: what was not written is lost with the process
    }
  }

  private pump(): void {
    if (this.writing || this.closed || this.queued === 0) return;
    if (this.retry) {
      clearTimeout(this.retry);
      this.retry = null;
    }
    const buf = this.queue.length === 1 ? this.queue[0] : Buffer.concat(this.queue);
    this.queue = [buf];
    this.writing = true;
    fsWrite(this.fd, buf, 0, buf.length, null, (err, n) => {
      this.writing = false;
      if (err) return this.failed(err);
      this.queued -= n;
      const rest = buf.subarray(n);
      this.queue.shift();
      if (rest.length > 0) this.queue.unshift(rest);
      if (rest.length === 0) this.recovered();
      this.pump();
    });
  }

  private failed(err: NodeJS.ErrnoException): void {
    if (err.code === 'EPIPE') {
      // the reader is gone (`kdeliver serve | head`): no later line can reach it
      this.closed = true;
      this.queue = [];
      this.queued = 0;
      return;
    }
    // EAGAIN: a non-blocking pipe whose reader is behind, tried again soon; anything else: the
    // output cannot take lines now. Either way lines are kept only up to the bound meanwhile.
    this.failure ??= `${err.code ?? 'error'}: ${err.message}`;
    this.retry ??= setTimeout(() => {
      this.retry = null;
      this.pump();
    }, err.code === 'EAGAIN' ? 10 : this.retryMs);
    this.retry.unref();
  }

  /** The output took a whole write: say what was lost before it, as a log line of its own. */
  private recovered(): void {
    const why = this.failure;
    this.failure = null;
    if (this.droppedNow === 0) return;
    const note = JSON.stringify({
      level: 40, time: this.now(), pid: process.pid,
      msg: `${this.droppedNow} log lines were dropped: ${why ? `the log output could not be written (${why})` : 'the log output did not take them as fast as they came'}`,
    });
    this.droppedNow = 0;
    const bytes = Buffer.from(`${note}\n`);
    this.queue.push(bytes);
    this.queued += bytes.length;
  }
}

let stdout: LogOutput | null = null;

/**
 * The process's log output on standard output, written out at exit as far as it can be: one per
 * process, shared by every server it builds, so their lines stay whole and in order.
 */
export function stdoutLogOutput(): LogOutput {
  if (!stdout) {
    const out = new LogOutput(1);
    process.on('exit', () => out.flushSync());
    stdout = out;
  }
  return stdout;
}
