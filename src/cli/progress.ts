// The progress display of long commands (`kdeliver import`): on a terminal, one line redrawn in
// place with a bar; otherwise (a pipe, a log file, CI) a plain line now and then, so a log shows
// that the command is alive and how far it is. Both say entries done / total, the rate and the
// time left, and a phase's last line is always printed.
import type { ImportProgress } from '../catalog/library.js';

export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** How often a line is printed when the stream is not a terminal, and redrawn when it is. */
const PLAIN_EVERY_MS = 5000;
const TTY_EVERY_MS = 100;

const PHASES: Record<ImportProgress['phase'], string> = { media: 'placing media', catalog: 'writing the catalog' };

const int = (n: number) => Math.round(n).toLocaleString('en');
/** "1 entry", "2 entries": the count of a phase's `total`. */
const entries = (n: number) => `${int(n)} entr${Math.round(n) === 1 ? 'y' : 'ies'}`;

/** "1:05" / "1:02:03" */
function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${String(m).padStart(2, '0')}:${ss}` : `${m}:${ss}`;
}

/** A progress callback for importLibrary that writes to `out` (process.stderr: stdout stays the result). */
export function importProgress(label: string, out: ProgressStream, now: () => number = Date.now): (p: ImportProgress) => void {
  const tty = !!out.isTTY;
  let phase: ImportProgress['phase'] | null = null;
  let startedAt = 0;
  let shownAt = 0;
  let finished = false;
  return (p) => {
    const t = now();
    if (p.phase !== phase) {
      phase = p.phase;
      startedAt = t;
      shownAt = t;
      finished = false;
      if (!tty) out.write(`${label}: ${PHASES[p.phase]}, ${entries(p.total)}\n`);
    }
    const last = p.done >= p.total;
    if (last ? finished : t - shownAt < (tty ? TTY_EVERY_MS : PLAIN_EVERY_MS)) return;
    finished = last;
    shownAt = t;
    const seconds = (t - startedAt) / 1000;
    const rate = seconds > 0 ? p.done / seconds : 0;
    const pct = p.total ? Math.floor((p.done * 100) / p.total) : 100;
    const tail = last
      ? `${int(p.done)} / ${entries(p.total)} in ${clock(seconds)}${rate ? ` (${int(rate)} entries/s)` : ''}`
      : `${int(p.done)} / ${entries(p.total)} (${pct} %), ${int(rate)} entries/s, ${rate ? `about ${clock((p.total - p.done) / rate)} left` : 'time left unknown'}`;
    if (!tty) {
      out.write(`${label}: ${PHASES[p.phase]}: ${tail}\n`);
      return;
    }
    const text = `${PHASES[p.phase]} ${tail}`;
    const width = Math.max(10, Math.min(30, (out.columns ?? 80) - text.length - 4));
    const filled = Math.round((width * pct) / 100);
    // \r and erase-line: the line is redrawn in place; the phase's last one stays
    out.write(`\r\x1b[2K[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}${last ? '\n' : ''}`);
  };
}
