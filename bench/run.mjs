// `npm run bench`: every benchmark in one go (or the ones named), one after another, each in its
// own process; then every ratio they printed, together, last, with the machine and its load.
// The whole output is also kept in bench/.work/runs/<time>.log; each benchmark records its
// figures in bench/.work/results/.
// Usage: node bench/run.mjs [index] [cold] [playmanifest] [api] [segments] [catalog] [soak]
//          [encryption] [remote-media] [origin-latency] [pg-catalog] [nodes] [--with-nvm] [--rounds N] [--duration S] [--soak-minutes M] [--catalog-entries N] [--profile]
// --with-nvm builds nginx-vod-module with the peer kit's build.sh when it is missing (root);
// without it, the NVM parts run when the binary is already there and are skipped otherwise.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { benchDir, workDir } from './lib/paths.mjs';
import { benchArgs, usageError, wholeNumber, positiveNumber } from './lib/args.mjs';
import { buildProject } from './lib/build.mjs';
import { printMachine, uptime } from './lib/machine.mjs';

const all = {
  index: 'index-parse.mjs',
  cold: 'cold.mjs',
  playmanifest: 'playmanifest.mjs',
  api: 'api.mjs',
  segments: 'segments.mjs',
  catalog: 'catalog.mjs',
  soak: 'soak.mjs',
  encryption: 'encryption.mjs',
  'remote-media': 'remote-media.mjs',
  'origin-latency': 'origin-latency.mjs',
  'pg-catalog': 'pg-catalog.mjs',
  nodes: 'nodes.mjs',
};
const usage = `usage: node bench/run.mjs [${Object.keys(all).join('] [')}] [--with-nvm] [--rounds N] [--duration S] [--soak-minutes M] [--catalog-entries N] [--profile]`;
const { values, positionals } = benchArgs({
  allowPositionals: true,
  options: {
    'with-nvm': { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    'soak-minutes': { type: 'string' },
    'catalog-entries': { type: 'string' },
    profile: { type: 'boolean', default: false },
  },
}, usage);
const names = positionals.length ? positionals : Object.keys(all);
for (const n of names) if (!all[n]) usageError(`unknown benchmark ${JSON.stringify(n)} (known: ${Object.keys(all).join(', ')})`, usage);
// checked here, not by each benchmark an hour into the run
if (values.rounds !== undefined) wholeNumber('rounds', values.rounds, usage);
if (values.duration !== undefined) wholeNumber('duration', values.duration, usage);
if (values['soak-minutes'] !== undefined) positiveNumber('soak-minutes', values['soak-minutes'], usage);
if (values['catalog-entries'] !== undefined) wholeNumber('catalog-entries', values['catalog-entries'], usage);

function argsFor(name) {
  const a = ['--no-build'];
  if (name === 'index') return a;
  if (values['with-nvm']) a.push('--with-nvm');
  if (values.rounds && name !== 'soak') a.push('--rounds', values.rounds);
  if (values.duration && ['playmanifest', 'api', 'segments', 'catalog', 'encryption', 'pg-catalog', 'nodes'].includes(name)) a.push('--duration', values.duration);
  if (name === 'soak' && values['soak-minutes']) a.push('--minutes', values['soak-minutes']);
  if (name === 'catalog' && values['catalog-entries']) a.push('--entries', values['catalog-entries']);
  if (['segments', 'playmanifest'].includes(name) && values.profile) a.push('--profile');
  return a;
}

mkdirSync(join(workDir, 'runs'), { recursive: true });
const logFile = join(workDir, 'runs', `${new Date().toISOString().replace(/[:.]/g, '-')}.log`);
const log = createWriteStream(logFile);
const out = (s) => { process.stdout.write(s); log.write(s); };
const origLog = console.log;
console.log = (...xs) => out(`${xs.join(' ')}\n`);

const machine = printMachine();
buildProject();
const collected = [];
const failed = [];
for (const n of names) {
  out(`\n=== ${n} (bench/${all[n]} ${argsFor(n).join(' ')}) — ${uptime()} ===\n`);
  const code = await new Promise((resolve) => {
    const child = spawn(process.execPath, [join(benchDir, all[n]), ...argsFor(n)], { stdio: ['ignore', 'pipe', 'pipe'] });
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d) => {
      out(d);
      partial += d;
      const lines = partial.split('\n');
      partial = lines.pop();
      for (const l of lines) if (/^(ratio|note) /.test(l)) collected.push(l);
    });
    child.stderr.setEncoding('utf8').on('data', (d) => { process.stderr.write(d); log.write(d); });
    child.on('close', resolve);
  });
  if (code !== 0) {
    failed.push(n);
    collected.push(`FAILED ${n}: exit ${code} (see above)`);
  }
}

out(`\n=== all ratios (machine: nproc ${machine.nproc}, CPU "${machine.cpu}", Linux ${machine.kernel}, Node ${machine.node}; uptime at the start: ${machine.uptime}; now: ${uptime()}) ===\n`);
for (const l of collected) out(`${l}\n`);
out(`(the whole output: ${logFile})\n`);
console.log = origLog;
log.end();
process.exitCode = failed.length ? 1 : 0;
