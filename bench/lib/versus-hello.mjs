// What playmanifest.mjs and api.mjs share: a Fastify hello-world as the floor, interleaved rounds
// of autocannon runs over a list of targets (each with its server's CPU measured), the table of
// them, and each target's ratio to the hello-world of the same round.
import { join } from 'node:path';
import { cannon } from './autocannon.mjs';
import { cpuMeter } from './cpu.mjs';
import { loadAvg } from './machine.mjs';
import { benchDir } from './paths.mjs';
import { freePort, startProcess } from './procs.mjs';
import { median } from './rounds.mjs';
import { fmt, table } from './results.mjs';

export const HELLO = 'Fastify hello-world';

/** The hello-world server (bench/lib/hello-server.mjs) and its target. */
export async function startHello() {
  const port = await freePort();
  const server = await startProcess('hello-world', process.execPath, [join(benchDir, 'lib', 'hello-server.mjs'), String(port)], { ready: /listening on http:\/\// });
  return { server, target: { name: HELLO, server, url: `http://127.0.0.1:${port}/` } };
}

/**
 * A 3 s warm-up of every target, then `rounds` rounds of each in turn. A target is { name,
 * server (with pid), url, requests?, ok? (status codes, default [200]) }; any other status, an
 * error or a timeout stops the benchmark.
 */
export async function runRounds(targets, { rounds, duration, connections, pipelining = 1 }) {
  for (const t of targets) await cannon({ url: t.url, connections, pipelining, duration: 3, requests: t.requests, ok: t.ok ?? [200] });
  const rows = [];
  for (let round = 1; round <= rounds; round++) {
    for (const t of targets) {
      const meter = cpuMeter(t.server.pid);
      const r = await cannon({ url: t.url, connections, pipelining, duration, requests: t.requests, ok: t.ok ?? [200] });
      const cpu = meter(r.total);
      if (r.bad > 0) throw new Error(`${t.name}: ${JSON.stringify(r.codes)}, ${r.errors} errors, ${r.timeouts} timeouts`);
      rows.push({ name: t.name, round, ...r, ...cpu, load: loadAvg().split(' ')[0] });
      console.log(`  round ${round} ${t.name}: ${fmt(r.rps)} req/s, p99 ${r.p99} ms, server CPU ${fmt(cpu.cpuPct)} % (${fmt(cpu.cpuUsPerReq)} us/answer), other ${fmt(cpu.otherPct)} %, load ${loadAvg().split(' ')[0]}`);
    }
  }
  return rows;
}

export function printRows(rows, nameWidth) {
  table([['target', nameWidth], ['round', 5], ['req/s', 7], ['p50 ms', 6], ['p99 ms', 6], ['bytes', 6], ['status', 18], ['CPU %', 5], ['us/answer', 9], ['other %', 7], ['load', 5]],
    rows.map((r) => [r.name, r.round, fmt(r.rps), r.p50, r.p99, fmt(r.bytesPerResponse), Object.entries(r.codes).map(([k, v]) => `${k}:${v}`).join(' '), fmt(r.cpuPct), fmt(r.cpuUsPerReq), fmt(r.otherPct), r.load]));
}

/**
 * Each named target's req/s over the hello-world's, round by round, into the report. Under
 * contention a server gets only part of a core and its req/s follow the other work; the CPU each
 * answer costs does not, so the ratio of CPU per answer is given too (the throughput ratio of
 * two CPU-bound servers on a quiet core). `aims`: [name, aim or null].
 */
export function reportVsHello(report, rows, aims) {
  const of = (name, k) => rows.filter((r) => r.name === name).map((r) => r[k]);
  const list = (xs) => xs.map((x) => fmt(x, 2)).join(', ');
  const helloRps = of(HELLO, 'rps');
  const helloCpu = of(HELLO, 'cpuUsPerReq');
  for (const [name, aim] of aims) {
    const rs = of(name, 'rps').map((x, k) => x / helloRps[k]);
    const cpu = of(name, 'cpuUsPerReq').map((x, k) => helloCpu[k] / x);
    report.ratio(`${name} / hello-world`, median(rs), `rounds ${list(rs)}; CPU per answer hello-world / this ${fmt(median(cpu), 2)} (rounds ${list(cpu)})${aim ? `; aim >= ${aim}` : ''}`);
  }
}
