// Download progress of the importer, for people: on a terminal one bar redrawn in place (files
// done of files known, bytes, the files under way); anywhere else (logs, CI, pipes) one plain line
// per finished or failed file, so a log never fills with carriage returns. Lines name entries and
// assets, never a URL: the source's media URLs of protected entries carry the admin session.

interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface FileProgress {
  update(received: number, total: number | null): void;
  done(bytes: number, note?: string): void;
  failed(reason: string): void;
  /** Gone without a line (its caller reports it its own way). */
  dropped(): void;
}

export interface ImportProgress {
  file(label: string): FileProgress;
  /** A line of its own (a notice about an entry), kept clear of the bar. */
  line(text: string): void;
  /** Ends the bar. */
  close(): void;
}

export const formatBytes = (n: number): string =>
  n >= 1024 ** 3 ? `${(n / 1024 ** 3).toFixed(2)} GB` : n >= 1024 ** 2 ? `${(n / 1024 ** 2).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`;

export function importProgress(out: Out): ImportProgress {
  const active = new Map<number, { label: string; received: number; total: number | null }>();
  let next = 0;
  let finished = 0;
  let failed = 0;
  let bytes = 0;
  let drawn = false;
  let lastDraw = 0;

  const draw = (force = false) => {
    if (!out.isTTY) return;
    const now = Date.now();
    if (!force && now - lastDraw < 100) return;
    lastDraw = now;
    let rec = 0;
    let tot = 0;
    for (const a of active.values()) {
      rec += a.received;
      tot += a.total ?? a.received;
    }
    // the share of the bytes of the files seen so far (finished ones count whole)
    const width = 24;
    const f = bytes + tot > 0 ? (bytes + rec) / (bytes + tot) : 0;
    const full = Math.round(f * width);
    const current = [...active.values()].map((a) => a.label).join(', ');
    const text = `[${'#'.repeat(full)}${'-'.repeat(width - full)}] ${finished} file${finished === 1 ? '' : 's'}, ${formatBytes(bytes + rec)}${failed ? `, ${failed} failed` : ''}${current ? `  ${current}` : ''}`;
    const cols = Math.max(40, (out.columns ?? 100) - 1);
    out.write(`\r${text.slice(0, cols).padEnd(cols)}`);
    drawn = true;
  };
  const clear = () => {
    if (out.isTTY && drawn) out.write(`\r${' '.repeat(Math.max(40, (out.columns ?? 100) - 1))}\r`);
  };

  return {
    file(label) {
      const id = next++;
      active.set(id, { label, received: 0, total: null });
      draw();
      return {
        update(received, total) {
          const a = active.get(id);
          if (!a) return;
          a.received = received;
          a.total = total;
          draw();
        },
        done(n, note) {
          active.delete(id);
          finished++;
          bytes += n;
          if (out.isTTY) draw(true);
          else out.write(`${label}: ${formatBytes(n)}${note ? ` (${note})` : ''}\n`);
        },
        dropped() {
          active.delete(id);
          draw(true);
        },
        failed(reason) {
          active.delete(id);
          failed++;
          clear();
          out.write(`${label}: failed: ${reason}\n`);
          draw(true);
        },
      };
    },
    line(text) {
      clear();
      out.write(`${text}\n`);
      draw(true);
    },
    close() {
      clear();
      drawn = false;
    },
  };
}
