// scripts/make-big-library.mjs, the README's way to make a big catalog ("A big catalog"), run as a
// person runs it: a count that is not a whole number from 1 is one line and exit 2 before anything
// is written (--per-file 0 used to loop for ever writing empty library files, and --entries 1e6x
// wrote nothing and reported "0 library files"); on a pipe its progress is one line per file,
// not a run-on line of carriage returns.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../helpers/repo.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-make-big-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const script = join(projectRoot, 'scripts', 'make-big-library.mjs');
// at most 5 s: before the fix, --per-file 0 filled the disk with library files for as long as it ran
const make = (args: string[]) => spawnSync(process.execPath, [script, ...args], { encoding: 'utf8', timeout: 5_000, killSignal: 'SIGKILL' });

t.test('a bad count is refused in one line, before anything is written', async (t) => {
  for (const [name, value] of [['per-file', '0'], ['entries', '1e6x'], ['partners', 'two'], ['entries', '0']]) {
    const out = join(work, `bad-${name}-${value}`);
    const r = make(name === 'entries' ? ['--entries', value, '--out', out] : [`--${name}`, value, '--entries', '10', '--out', out]);
    t.equal(r.status, 2, `--${name} ${value}: exit 2 (${r.signal ?? 'no signal'})`);
    t.equal(r.stderr.trim(), `make-big-library: --${name} ${JSON.stringify(value)}: expected a whole number from 1`, `--${name} ${value}: one line`);
    t.notOk(existsSync(out), 'nothing written');
  }
});

t.test('progress on a pipe: a line per library file written', async (t) => {
  const out = join(work, 'small');
  const r = make(['--entries', '12', '--per-file', '5', '--partners', '2', '--out', out]);
  t.equal(r.status, 0, r.stderr);
  t.notMatch(r.stderr, /\r/, 'no carriage returns');
  t.same(r.stderr.trim().split('\n'), ['5 / 12 entries written', '10 / 12 entries written', '12 / 12 entries written']);
  t.same(readdirSync(out).filter((f) => f.startsWith('library-')).sort(), ['library-000.json', 'library-001.json', 'library-002.json']);
});

t.test('one file, one entry: said in the singular (it was "1 library files of up to 1 entries")', async (t) => {
  const out = join(work, 'one');
  const r = make(['--entries', '1', '--per-file', '1', '--partners', '1', '--out', out]);
  t.equal(r.status, 0, r.stderr);
  t.equal(r.stderr.trim(), '1 / 1 entry written');
  t.match(r.stdout, /^1 library file of up to 1 entry in .*one \(\d+\.\d s\)\n$/);
  const two = make(['--entries', '3', '--per-file', '2', '--partners', '1', '--out', join(work, 'two')]);
  t.equal(two.status, 0, two.stderr);
  t.match(two.stdout, /^2 library files of up to 2 entries in /, 'and the plural for more');
});

t.test('--help says the usage (exit 0); an unknown option says it and the usage (exit 2), no stack', async (t) => {
  const help = make(['--help']);
  t.equal(help.status, 0, help.stderr);
  t.match(help.stdout, /^usage: node scripts\/make-big-library\.mjs \[--entries 1000000\]/);
  t.equal(help.stderr, '');
  const bad = make(['--bogus']);
  t.equal(bad.status, 2);
  t.match(bad.stderr, /^make-big-library: unknown option --bogus\nusage: /);
  t.notMatch(bad.stderr, /ERR_PARSE_ARGS|\n\s+at /);
});
