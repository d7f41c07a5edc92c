// Servers under test run as child processes of the benchmark (never in the load generator's
// process), on loopback ports, and are stopped by their own pid when the benchmark ends.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

const children = new Set();
const stopAll = () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
};
process.on('exit', stopAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { stopAll(); process.exit(130); });

/** Spawns `cmd args` and resolves once its output matches `ready` (a RegExp) or `probe()` resolves true. */
export function startProcess(name, cmd, args, { ready, probe, env = {}, timeoutMs = 60_000 } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let out = '';
    const timer = setTimeout(() => fail(new Error(`${name} not ready after ${timeoutMs} ms:\n${out.slice(-2000)}`)), timeoutMs);
    const fail = (err) => {
      clearTimeout(timer);
      if (child.exitCode === null) child.kill('SIGKILL');
      reject(err);
    };
    let done = false;
    const onData = (d) => {
      out += d;
      if (!done && ready && ready.test(out)) markReady();
    };
    if (probe) {
      const poll = async () => {
        if (done || child.exitCode !== null) return;
        if (await probe().catch(() => false)) markReady();
        else setTimeout(poll, 100);
      };
      setTimeout(poll, 100);
    }
    function markReady() {
      done = true;
      clearTimeout(timer);
      child.stdout.removeAllListeners('data');
      child.stderr.removeAllListeners('data');
      child.stdout.resume();
      child.stderr.resume();
      resolve({
        name,
        pid: child.pid,
        child,
        stop: () => new Promise((res) => {
          if (child.exitCode !== null) return res();
          child.once('exit', () => res());
          child.kill('SIGTERM');
          setTimeout(() => child.exitCode === null && child.kill('SIGKILL'), 5000).unref();
        }),
      });
    }
    child.stdout.setEncoding('utf8').on('data', onData);
    child.stderr.setEncoding('utf8').on('data', onData);
    child.on('exit', (code) => fail(new Error(`${name} exited (${code}) before it was ready:\n${out.slice(-2000)}`)));
  });
}
