// The machine a figure was measured on, as bench/README.md records it.
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
  };
}

export function printMachine() {
  const m = describeMachine();
  console.log(`machine: ${m.nproc} CPUs (${m.cpu}), ${m.memoryGiB} GiB RAM, Linux ${m.kernel}, Node ${m.node}; ${m.nginx}; ${m.wrk}`);
  console.log(`load average at start: ${loadAvg()} (other work on the machine skews absolute figures; the ratios come from interleaved runs)`);
  return m;
}

export const loadAvg = () => loadavg().map((x) => x.toFixed(2)).join(' ');
