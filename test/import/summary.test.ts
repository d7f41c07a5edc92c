// What `kdeliver import-kaltura` says at the end of a run and while it downloads, counted in the
// singular for one (it said "1 files, 16.0 kB downloaded", "retry the failed entries" for one
// entry, and "[####] 1 files" on the progress bar).
import t from 'tap';
import { summarize } from '../../src/cli/import-kaltura.js';
import { importProgress } from '../../src/import/progress.js';
import type { ImportReport } from '../../src/import/run.js';

const report = (files: number, failed: number): ImportReport => ({
  partnerId: 4242, createdPartner: null, partnerHere: true, keptDownloads: 0, files, bytes: 16_384,
  entries: [
    { id: '1_ok', result: 'imported', warnings: [] },
    ...Array.from({ length: failed }, (_, i) => ({ id: `1_bad${i}`, result: 'failed' as const, reason: 'the source answered HTTP 500', warnings: [] })),
  ],
});

const said = (r: ImportReport) => {
  const lines: string[] = [];
  const code = summarize(r, 'https://kaltura.example', 101, '/data/tmp/import', (s) => lines.push(s));
  return { code, lines };
};

t.test('the summary line and the retry hint', async (t) => {
  const one = said(report(1, 1));
  t.equal(one.code, 1);
  t.match(one.lines[0], /: 1 imported, 0 unchanged, 0 undeliverable, 0 not imported, 1 failed; 1 file, 16\.0 kB downloaded$/);
  t.equal(one.lines.at(-1), 'Run the same command again to retry the failed entry; finished files are not fetched again.');
  const more = said(report(5, 2));
  t.match(more.lines[0], /; 5 files, 16\.0 kB downloaded$/);
  t.equal(more.lines.at(-1), 'Run the same command again to retry the failed entries; finished files are not fetched again.');
  t.match(said(report(0, 0)).lines[0], /; 0 files, /);
});

t.test('the progress bar on a terminal', async (t) => {
  for (const [n, words] of [[1, '1 file'], [2, '2 files']] as const) {
    const tty: string[] = [];
    const bar = importProgress({ write: (s: string) => tty.push(s), isTTY: true, columns: 80 });
    for (let i = 0; i < n; i++) bar.file(`1_abc flavor 1_f${i}`).done(100);
    bar.close();
    t.match(tty.join(''), new RegExp(`\\] ${words}, ${n * 100} B`));
  }
});
