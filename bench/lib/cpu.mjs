// CPU time of a server under test, read from /proc (never by looking a process up by name): the
// process with all its threads (Node's main thread, V8's and libuv's helpers) plus its direct
// children (an nginx master's workers). User and system time are kept apart, because a media
// server's kernel time (socket copies, pread, sendfile) is most of its cost and a V8 profile
// does not show it. Also the busy time of the whole machine, to say how much other work ran.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';

const HZ = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout?.trim()) || 100;

function statOf(pid) {
  try {
    // fields after "(comm) ": state is [0], so utime (field 14) is [11], stime [12], majflt [9]
    const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return { user: Number(f[11]), system: Number(f[12]), majflt: Number(f[9]) };
  } catch {
    return { user: 0, system: 0, majflt: 0 };
  }
}

function childrenOf(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return [];
  }
}

/** CPU seconds (user, system) and major faults of `pid` and its children, now. */
export function processCpu(pid) {
  const all = [pid, ...childrenOf(pid)].map(statOf);
  const sum = (k) => all.reduce((s, x) => s + x[k], 0);
  return { user: sum('user') / HZ, system: sum('system') / HZ, majflt: sum('majflt') };
}

/** Busy CPU seconds of the whole machine (user, nice, system, irq, softirq, steal). */
export function machineBusy() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  return (f[0] + f[1] + f[2] + f[5] + f[6] + f[7]) / HZ;
}

/** CPU seconds of this process and its reaped children (wrk, curl). */
export function selfCpu() {
  const f = readFileSync('/proc/self/stat', 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / HZ;
}

/** Resident set size of a process in bytes (VmRSS), or NaN when it is gone. */
export function rssBytes(pid) {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : NaN;
  } catch {
    return NaN;
  }
}

/**
 * Starts measuring a server: `done(requests, seconds)` returns its CPU over the interval, per
 * request, as a share of one CPU, and what the rest of the machine used (other %: everything but
 * the server, this process and its reaped children, in % of one CPU).
 */
export function cpuMeter(pid) {
  const c0 = processCpu(pid), b0 = machineBusy(), s0 = selfCpu(), t0 = process.hrtime.bigint();
  return (requests) => {
    const c1 = processCpu(pid), b1 = machineBusy(), s1 = selfCpu();
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const user = c1.user - c0.user, system = c1.system - c0.system;
    const cpu = user + system;
    const other = b1 - b0 - (s1 - s0) - cpu;
    return {
      cpuPct: (100 * cpu) / seconds,
      userPct: (100 * user) / seconds,
      systemPct: (100 * system) / seconds,
      cpuUsPerReq: requests > 0 ? (cpu * 1e6) / requests : NaN,
      userUsPerReq: requests > 0 ? (user * 1e6) / requests : NaN,
      systemUsPerReq: requests > 0 ? (system * 1e6) / requests : NaN,
      otherPct: (100 * Math.max(0, other)) / seconds,
      majflt: c1.majflt - c0.majflt,
    };
  };
}
