// How a benchmark reports: its figures go to bench/.work/results/<name>-<time>.json together with
// the machine and the load (so a figure is never recorded without them), and its ratios are
// printed last, one per line starting with "ratio", which `npm run bench` collects and prints
// again at the very end of a full run.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { workDir } from './paths.mjs';
import { describeMachine, uptime } from './machine.mjs';

export const resultsDir = join(workDir, 'results');

export function startReport(name, options = {}) {
  const startedAt = new Date().toISOString();
  const machine = describeMachine();
  const ratios = [];
  const notes = [];
  const data = {};
  return {
    data,
    /** A ratio line: `name`, the value, and what it is made of (rounds, aim). */
    ratio(label, value, detail = '') {
      ratios.push({ label, value, detail, uptime: uptime() });
    },
    /** A line printed with the ratios (a skipped part and why, a figure without a peer). */
    note(text) {
      notes.push(text);
    },
    /** Prints the ratios (last) and writes the JSON record; returns its path. */
    finish() {
      const finishedAt = new Date().toISOString();
      const end = uptime();
      console.log(`\n--- ${name}: ratios (finished ${finishedAt}; uptime: ${end}) ---`);
      for (const n of notes) console.log(`note ${name}: ${n}`);
      for (const r of ratios) {
        const v = Number.isFinite(r.value) ? r.value.toFixed(2) : 'n/a';
        console.log(`ratio ${name}: ${r.label} = ${v}${r.detail ? ` (${r.detail})` : ''}`);
      }
      mkdirSync(resultsDir, { recursive: true });
      const file = join(resultsDir, `${name}-${startedAt.replace(/[:.]/g, '-')}.json`);
      writeFileSync(file, JSON.stringify({ name, startedAt, finishedAt, options, machine, uptimeAtEnd: end, ratios, notes, data }, null, 2));
      console.log(`(recorded in ${file})`);
      return file;
    },
  };
}

export const fmt = (x, d = 0) => (Number.isFinite(x) ? x.toFixed(d) : 'n/a');
export const fmtInt = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en') : 'n/a');

/** Prints a table: `cols` are [header, width] pairs; text columns (first `left`) pad right. */
export function table(cols, rows, left = 1) {
  const line = (cells) => cells.map((c, i) => String(c)[i < left ? 'padEnd' : 'padStart'](cols[i][1])).join('  ');
  console.log(line(cols.map((c) => c[0])));
  for (const r of rows) console.log(line(r));
}
