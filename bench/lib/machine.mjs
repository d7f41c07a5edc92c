// The machine a figure was measured on, as bench/README.md records it: CPU model, nproc, memory,
// kernel, tool versions, and the load (`uptime`) at the moment a figure is taken. The machine is
// shared, so every figure is printed with the load it was measured under.
import { readFileSync } from 'node:fs';
import { availableParallelism, loadavg, totalmem, release } from 'node:os';
import { spawnSync } from 'node:child_process';

export function describeMachine() {
  const cpuinfo = readFileSync('/proc/cpuinfo', 'utf8');
  const model = /model name\s*:\s*(.*)/.exec(cpuinfo)?.[1] ?? 'unknown';
  const ver = (cmd, args) => {
    const r = spawnSync(cmd, args, { encoding: 'utf8' });
    // wrk -v exits 1 after printing its version
    const first = `${r.stdout ?? ''}${r.stderr ?? ''}`.split('\n')[0].trim();
    return r.error || !first ? 'not installed' : first;
  };
  return {
    nproc: availableParallelism(),
    cpu: model,
    memoryGiB: (totalmem() / 1024 ** 3).toFixed(1),
    kernel: release(),
    node: process.version,
    nginx: ver('nginx', ['-v']),
    wrk: ver('wrk', ['-v']),
    ffmpeg: ver('ffmpeg', ['-version']),
    uptime: uptime(),
  };
}

export function printMachine() {
  const m = describeMachine();
  console.log(`machine: nproc ${m.nproc}, CPU "${m.cpu}", ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}; ${m.nginx}; ${m.wrk}; ${m.ffmpeg.split(' Copyright')[0]}`);
  console.log(`uptime at start: ${m.uptime}`);
  console.log('(the machine is shared: other work skews absolute figures; ratios come from interleaved runs, each figure is printed with its load)');
  return m;
}

export const loadAvg = () => loadavg().map((x) => x.toFixed(2)).join(' ');

/** `uptime` as the command prints it (time, up, users, load average). */
export function uptime() {
  const r = spawnSync('uptime', [], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : `load average: ${loadAvg()}`;
}
