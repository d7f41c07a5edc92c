// The benchmarks' command lines (bench/lib/args.mjs), run as a person runs them: an unknown flag,
// a flag without its value, a count that is not one, an unknown benchmark name, is one line naming
// it, then the script's usage, exit 2, before anything is built, started or measured (an unknown
// flag used to end in node's stack trace, and bench/index-parse.mjs ran the benchmark all the
// same). Every bench/*.mjs is tried, so a new one is held to it too. No benchmark is run: each
// invocation here is refused at once (a 20 s limit and SIGKILL stand guard over a script that is not).
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../helpers/repo.js';

const benchDir = join(projectRoot, 'bench');
const bench = (script: string, args: string[]) =>
  spawnSync(process.execPath, [join(benchDir, script), ...args], { cwd: projectRoot, encoding: 'utf8', timeout: 20_000, killSignal: 'SIGKILL' });

/** One line naming the problem, then the usage of the script. */
function refused(t: Test, script: string, args: string[], problem: string | RegExp) {
  const r = bench(script, args);
  const what = `${script} ${args.join(' ')}`;
  t.equal(r.status, 2, `${what}: exit 2 (${r.signal ?? 'no signal'})`);
  t.equal(r.stdout, '', `${what}: nothing on stdout`);
  const lines = r.stderr.trimEnd().split('\n');
  t.equal(lines.length, 2, `${what}: two lines, the problem and the usage:\n${r.stderr}`);
  if (typeof problem === 'string') t.equal(lines[0], `bench/${script}: ${problem}`, `${what}: the problem`);
  else t.match(lines[0], problem, `${what}: the problem`);
  t.match(lines[1] ?? '', new RegExp(`^usage: node bench/${script.replace('.', '\\.')} `), `${what}: the usage`);
  t.notMatch(r.stderr, /\n\s+at /, `${what}: no stack trace`);
}

t.test('every benchmark refuses an unknown flag in one line, with its usage', async (t) => {
  const scripts = readdirSync(benchDir).filter((f) => f.endsWith('.mjs')).sort();
  t.ok(scripts.length >= 14, `the benchmarks are found (${scripts.join(', ')})`);
  for (const script of scripts) refused(t, script, ['--bad-flag'], "Unknown option '--bad-flag'");
});

t.test('values and names that are not right are refused the same way', async (t) => {
  refused(t, 'api.mjs', ['--rounds'], "Option '--rounds <value>' argument missing");
  refused(t, 'api.mjs', ['--rounds', '0'], '--rounds "0": expected a whole number from 1');
  refused(t, 'playmanifest.mjs', ['--connections', 'many'], '--connections "many": expected a whole number from 1');
  refused(t, 'cold.mjs', ['extra'], /^bench\/cold\.mjs: Unexpected argument 'extra'/);
  refused(t, 'encryption.mjs', ['--duration=0'], '--duration "0": expected a number above 0');
  refused(t, 'segment-cpu.mjs', ['--kinds', 'ts,foo'], '--kinds: unknown kind "foo" (known: ts, fmp4, dash-video, dash-audio)');
  refused(t, 'run.mjs', ['nosuch'], /^bench\/run\.mjs: unknown benchmark "nosuch" \(known: index, cold, /);
  refused(t, 'run.mjs', ['--rounds', 'x'], '--rounds "x": expected a whole number from 1');
  refused(t, 'index-parse.mjs', ['--no-build=1'], "Option '--no-build' does not take an argument");
  refused(t, 'list-page.mjs', [], 'the catalog file is missing');
  refused(t, 'list-page.mjs', [join(projectRoot, 'no-such-catalog.sqlite')], `${join(projectRoot, 'no-such-catalog.sqlite')}: no such file`);
});

t.test('every benchmark answers --help and -h with its usage on stdout, exit 0, nothing run', async (t) => {
  for (const script of readdirSync(benchDir).filter((f) => f.endsWith('.mjs'))) {
    for (const flag of ['--help', '-h']) {
      const r = bench(script, [flag]);
      t.equal(r.status, 0, `${script} ${flag}: exit 0 (${r.signal ?? 'no signal'}; ${r.stderr.slice(0, 200)})`);
      t.match(r.stdout, new RegExp(`^usage: node bench/${script.replace('.', '\\.')} `), `${script} ${flag}: the usage`);
      t.equal(r.stderr, '', `${script} ${flag}: nothing on stderr`);
    }
  }
});
