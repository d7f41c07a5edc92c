// Memory for a long file's moov whose pages are already in place. Reading a moov into memory the
// process has never touched costs a page fault per 4 KiB page on the request's path: on the
// virtual machines kdeliver is measured on, about 16 µs each, so the 6.2 MB moov of the 2-hour
// benchmark file spent 25 ms of its 30 ms cold parse in faults and under 2 ms reading
// (bench/README.md, target 4). So a server keeps one spare buffer, written through once in the
// background, for the next moov big enough to be worth it; taking it starts the next spare a
// moment later (the request that took it is still parsing and answering, and the next spare's
// 30 ms of faults beside it delayed that very answer: bench/README.md, session 28), in small
// steps so no step holds the event loop for long.
// The index that takes the spare owns all of it (src/media/mp4/track.ts counts its whole buffer),
// so it is taken only by a moov at least half its size. Module-level, as the segment cache is:
// several servers in one process (the tests) share the spare; it is kept while any of them holds
// it (holdSpareMemory).

/**
 * The spare's size: room for a 2-hour file's moov (6.2 MB), and an index holding all of it stays
 * under the per-index memory aim of 8 MB (7.9 MB with the index's own arrays).
 */
export const SPARE_BYTES = 7.5 * 1024 * 1024;
/** The smallest moov that takes the spare (smaller ones fault little, and would waste most of it). */
const MIN_TAKE_BYTES = SPARE_BYTES / 2;
/** Bytes written per turn of the event loop while a spare is made (about a millisecond here). */
const STEP_BYTES = 256 * 1024;
/**
 * How long after a spare is taken the next one is started: longer than a 2-hour file's first
 * playlist takes once its moov is read (tens of milliseconds on a fresh server).
 */
const NEXT_SPARE_AFTER_MS = 500;

interface SpareOptions {
  /** For tests: a smaller spare, taken by smaller moovs, and made again sooner. */
  bytes?: number;
  minTakeBytes?: number;
  nextAfterMs?: number;
}

let holders = 0;
let size = SPARE_BYTES;
let minTake = MIN_TAKE_BYTES;
let nextAfter = NEXT_SPARE_AFTER_MS;
let ready: Buffer | null = null;
let next: NodeJS.Timeout | null = null;
let making: { buffer: Buffer; at: number; step: NodeJS.Immediate | null } | null = null;
let taken = 0;
let waiters: (() => void)[] = [];

/**
 * Keeps a spare ready from now until the returned release is called (by every holder). The
 * first spare is made at once (a server holds it before it listens: about 30 ms on the machine
 * above, well under one on most), the next ones in the background. The first holder's options
 * count.
 */
export function holdSpareMemory(opts: SpareOptions = {}): () => void {
  if (holders++ === 0) {
    size = opts.bytes ?? SPARE_BYTES;
    minTake = opts.minTakeBytes ?? MIN_TAKE_BYTES;
    nextAfter = opts.nextAfterMs ?? NEXT_SPARE_AFTER_MS;
    ready = Buffer.allocUnsafeSlow(size).fill(0);
  }
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (--holders === 0) dropSpare();
  };
}

/**
 * `length` bytes to read a moov into: the spare's first `length` bytes when it is ready and the
 * moov is big enough (the next spare is then started a moment later), else new memory.
 */
export function moovMemory(length: number): Buffer {
  if (ready && length >= minTake && length <= ready.length) {
    const spare = ready;
    ready = null;
    taken++;
    // (kept only while a holder holds the spare: the last one letting go, a server closing,
    // clears this timer: src/server.ts)
    next = setTimeout(makeSpare, nextAfter);
    return spare.subarray(0, length);
  }
  return Buffer.allocUnsafe(length);
}

/** Whether a spare is ready, and how many were taken since start (for tests). */
export function spareMemoryStats(): { ready: boolean; taken: number } {
  return { ready: ready !== null, taken };
}

/** Resolves when a spare is ready (or at once when nobody holds one). For tests. */
export function spareMemoryReady(): Promise<void> {
  if (ready || holders === 0) return Promise.resolve();
  return new Promise((resolve) => waiters.push(resolve));
}

function makeSpare(): void {
  next = null;
  if (holders === 0 || ready || making) return;
  // allocUnsafeSlow: a buffer of its own, never a slice of Node's shared pool
  making = { buffer: Buffer.allocUnsafeSlow(size), at: 0, step: null };
  writeStep();
}

function writeStep(): void {
  const m = making;
  if (!m) return;
  const end = Math.min(m.buffer.length, m.at + STEP_BYTES);
  // writing a page is what puts it in place; the value does not matter
  m.buffer.fill(0, m.at, end);
  m.at = end;
  if (end < m.buffer.length) {
    m.step = setImmediate(writeStep);
    // a server closing does not wait for its spare
    m.step.unref();
    return;
  }
  making = null;
  ready = m.buffer;
  const w = waiters;
  waiters = [];
  for (const resolve of w) resolve();
}

function dropSpare(): void {
  if (next) clearTimeout(next);
  next = null;
  if (making?.step) clearImmediate(making.step);
  making = null;
  ready = null;
  const w = waiters;
  waiters = [];
  for (const resolve of w) resolve();
}
