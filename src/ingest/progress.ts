// Progress for people: a redrawn bar on a terminal, and one plain line per 10 % everywhere else
// (logs, CI, pipes), so a log never fills with carriage returns.

export interface ProgressSink {
  update(fraction: number): void;
  done(message: string): void;
}

interface Out {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export function progressReporter(out: Out, label: string): ProgressSink {
  let lastDecile = -1;
  let lastDrawn = -1;
  return {
    update(fraction: number) {
      const f = Math.max(0, Math.min(1, fraction));
      const pct = Math.floor(f * 100);
      if (out.isTTY) {
        if (pct === lastDrawn) return;
        lastDrawn = pct;
        const width = Math.max(10, Math.min(40, (out.columns ?? 80) - label.length - 10));
        const full = Math.round(f * width);
        out.write(`\r${label} [${'#'.repeat(full)}${'-'.repeat(width - full)}] ${String(pct).padStart(3)}%`);
        return;
      }
      const decile = Math.floor(pct / 10);
      if (decile <= lastDecile) return;
      // Print every decile crossed, so a fast jump still shows each step once
      for (let d = lastDecile + 1; d <= decile; d++) out.write(`${label}: ${d * 10}%\n`);
      lastDecile = decile;
    },
    done(message: string) {
      if (out.isTTY && lastDrawn >= 0) out.write('\n');
      out.write(`${message}\n`);
    },
  };
}
