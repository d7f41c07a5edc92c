// `kdeliver import` of a generated library (scripts/make-big-library.mjs) says how far it is while
// it runs: plain lines on a pipe (each phase's start and end, a line every few seconds between),
// a bar redrawn in place on a terminal; it ends with the count on stdout, and the catalog holds
// every entry. An import of 100,000 entries used to print nothing for minutes.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { linkBin, run } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';
import { importProgress } from '../../src/cli/progress.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-progress-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const ENTRIES = 600;
const libDir = join(work, 'library');
const gen = spawnSync(process.execPath, [join(projectRoot, 'scripts', 'make-big-library.mjs'), '--entries', String(ENTRIES), '--partners', '3', '--out', libDir], { encoding: 'utf8' });
if (gen.status !== 0) throw new Error(`make-big-library failed: ${gen.stderr}`);
const file = join(libDir, 'library-000.json');
const kdeliver = linkBin(join(work, 'bin'));
const dataDir = join(work, 'data');
const env = { KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent' };

const entriesIn = (dir: string) => {
  const db = new Database(join(dir, 'catalog.sqlite'), { readonly: true });
  try {
    return (db.prepare('SELECT COUNT(*) AS n FROM entries WHERE partner_id BETWEEN 5001 AND 5003').get() as { n: number }).n;
  } finally {
    db.close();
  }
};

t.test('on a pipe: a line when reading the file starts and ends and when each phase does, the count at the end', async (t) => {
  const r = await run(kdeliver, ['import', file], { env });
  t.equal(r.code, 0, r.stderr);
  t.equal(r.stdout, `imported ${file}: ${ENTRIES} entries\n`, 'stdout: only the result');
  const lines = r.stderr.trimEnd().split('\n');
  const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
  const steps = [
    /^import library-000\.json: reading and checking the library file \(\d+\.\d MB\)$/,
    /^import library-000\.json: library file read and checked in \d+\.\d s$/,
    /^import library-000\.json: placing media, 600 entries$/,
    /^import library-000\.json: placing media: 600 \/ 600 entries in \d+:\d\d( \([\d,]+ entries\/s\))?$/,
    /^import library-000\.json: writing the catalog, 600 entries$/,
    /^import library-000\.json: writing the catalog: 600 \/ 600 entries in \d+:\d\d( \([\d,]+ entries\/s\))?$/,
  ];
  const found = steps.map(at);
  t.ok(found.every((i) => i >= 0), `every phase reported:\n${r.stderr}`);
  t.same(found, [...found].sort((a, b) => a - b), 'in order');
  t.equal(found[5], lines.length - 1, 'the last line is the catalog written, with its count');
  t.notMatch(r.stderr, /\r|\x1b\[/, 'no terminal codes on a pipe');
  t.equal(entriesIn(dataDir), ENTRIES, 'every entry is in the catalog');
});

t.test('on a terminal: a bar redrawn in place, ending on the count (and an import again replaces the media)', async (t) => {
  // util-linux's script(1) runs the command on a pseudo-terminal, as a person's shell does
  const cmd = `${kdeliver} import ${file}`;
  const r = await run('script', ['-qefc', cmd, '/dev/null'], { env: { ...env, TERM: 'xterm', COLUMNS: '100' } });
  t.equal(r.code, 0, r.stdout);
  t.match(r.stdout, /\r\x1b\[2K\[[#.]+\] placing media 600 \/ 600 entries in/, 'a bar for the media');
  t.match(r.stdout, /\r\x1b\[2K\[#+\] writing the catalog 600 \/ 600 entries in [^\n]*\r?\n/, 'a full bar for the catalog, then a new line');
  t.match(r.stdout, new RegExp(`imported ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: 600 entries`), 'the count at the end');
  t.equal(entriesIn(dataDir), ENTRIES, 'the same entries, not twice');
  const entryDir = join(dataDir, 'media', '5001', '0_00000000');
  t.same(readdirSync(entryDir).sort(), ['h264-240p-0.mp4', 'h264-360p-0.mp4', 'h264-720p-0.mp4'], 'an entry folder holds its flavors');
  t.ok(statSync(join(entryDir, 'h264-240p-0.mp4')).nlink > 1, 'hard links, not copies');
});

/** importProgress writing its lines into `out`, on a clock the test moves with `tick`. */
function recorded(): { out: string[]; progress: ReturnType<typeof importProgress>; tick: (ms: number) => void } {
  const out: string[] = [];
  let clock = 1_000_000;
  return { out, progress: importProgress('import x.json', { write: (s: string) => out.push(s) }, () => clock), tick: (ms) => { clock += ms; } };
}

t.test('plain lines between: entries done / total, rate and time left, every 5 s', async (t) => {
  const { out, progress, tick } = recorded();
  progress({ phase: 'catalog', done: 0, total: 10_000 });
  tick(1000);
  progress({ phase: 'catalog', done: 1000, total: 10_000 });
  t.equal(out.length, 1, 'nothing new within 5 s');
  tick(4000);
  progress({ phase: 'catalog', done: 2500, total: 10_000 });
  t.same(out, [
    'import x.json: writing the catalog, 10,000 entries\n',
    'import x.json: writing the catalog: 2,500 / 10,000 entries (25 %), 500 entries/s, about 0:15 left\n',
  ]);
  tick(15_000);
  progress({ phase: 'catalog', done: 10_000, total: 10_000 });
  progress({ phase: 'catalog', done: 10_000, total: 10_000 });
  t.equal(out.at(-1), 'import x.json: writing the catalog: 10,000 / 10,000 entries in 0:20 (500 entries/s)\n');
  t.equal(out.length, 3, 'the end once');
});

t.test('one entry is "1 entry"', async (t) => {
  const { out, progress, tick } = recorded();
  progress({ phase: 'media', done: 0, total: 1 });
  tick(1000);
  progress({ phase: 'media', done: 1, total: 1 });
  t.same(out, ['import x.json: placing media, 1 entry\n', 'import x.json: placing media: 1 / 1 entry in 0:01 (1 entries/s)\n']);
});
