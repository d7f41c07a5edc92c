// Runs wrk (C, one thread, so it takes one core and leaves the other to the server under test)
// over a list of paths requested round-robin, and parses its report.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const UNITS = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3, TB: 1024 ** 4 };
const TIME = { us: 1e-3, ms: 1, s: 1000, m: 60000 };

function parse(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : NaN;
  };
  const summary = /(\d+) requests in ([\d.]+)(us|ms|s|m), ([\d.]+)(B|KB|MB|GB|TB) read/.exec(out);
  const requests = summary ? Number(summary[1]) : NaN;
  const seconds = summary ? (Number(summary[2]) * TIME[summary[3]]) / 1000 : NaN;
  const bytes = summary ? Number(summary[4]) * UNITS[summary[5]] : NaN;
  const pct = (p) => {
    const m = new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)`).exec(out);
    return m ? Number(m[1]) * TIME[m[2]] : NaN;
  };
  return {
    requests,
    seconds,
    reqPerSec: num(/Requests\/sec:\s+([\d.]+)/),
    mbPerSec: bytes / seconds / 1e6,
    p50ms: pct(50),
    p99ms: pct(99),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/) || 0,
    socketErrors: /Socket errors: (.*)/.exec(out)?.[1] ?? 'none',
    raw: out,
  };
}

export function wrk(baseUrl, paths, { connections = 20, duration = 10, threads = 1 } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-wrk-'));
  const script = join(dir, 'paths.lua');
  writeFileSync(script, [
    `local paths = { ${paths.map((p) => JSON.stringify(p)).join(', ')} }`,
    'local i = 0',
    'request = function()',
    '  i = i % #paths + 1',
    '  return wrk.format("GET", paths[i])',
    'end',
    '',
  ].join('\n'));
  return new Promise((resolve, reject) => {
    const child = spawn('wrk', [`-t${threads}`, `-c${connections}`, `-d${duration}s`, '--latency', '-s', script, baseUrl], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d) => (out += d));
    child.on('error', reject);
    child.on('close', (code) => {
      rmSync(dir, { recursive: true, force: true });
      if (code !== 0) return reject(new Error(`wrk exited ${code}: ${out}`));
      resolve(parse(out));
    });
  });
}
