// A steady-rate load generator with microsecond latencies, for the benchmarks that compare
// latency percentiles (big catalog) or watch them over time (soak), where autocannon's whole
// milliseconds and closed loop are not enough. Requests start on a fixed schedule (open loop)
// whatever the answers take, up to `maxInFlight` at once (beyond that a start is counted as
// `dropped`, so an overloaded server shows up instead of slowing the schedule down); each
// answer is read whole; redirects are not followed.
import http from 'node:http';

/**
 * One request and its timing: { status, ms, bytes, body? } (body only with `keepBody`).
 * `agent` is a keep-alive http.Agent shared by a run.
 */
export function request(agent, base, { method = 'GET', path, headers = {}, body, keepBody = false }) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const url = new URL(path, base);
    const req = http.request({ agent, host: url.hostname, port: url.port, method, path: url.pathname + url.search, headers: body ? { ...headers, 'content-length': Buffer.byteLength(body) } : headers }, (res) => {
      const chunks = [];
      let bytes = 0;
      res.on('data', (c) => { bytes += c.length; if (keepBody) chunks.push(c); });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes, body: keepBody ? Buffer.concat(chunks) : undefined }));
      res.on('error', (err) => resolve({ status: 0, error: err.message, ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes }));
    });
    req.setTimeout(30_000, () => req.destroy(new Error('timeout after 30 s')));
    req.on('error', (err) => resolve({ status: 0, error: err.message, ms: Number(process.hrtime.bigint() - t0) / 1e6, bytes: 0 }));
    if (body) req.write(body);
    req.end();
  });
}

/** Counts answers: latencies of the accepted ones, status codes, the first few failures. */
function tally() {
  const t = { latencies: [], codes: {}, errors: [], done: 0, bad: 0 };
  t.add = (d, r) => {
    t.done++;
    t.codes[r.status] = (t.codes[r.status] ?? 0) + 1;
    if ((d.ok ?? [200]).includes(r.status)) return t.latencies.push(r.ms);
    t.bad++;
    if (t.errors.length < 5) t.errors.push(`${d.method ?? 'GET'} ${d.path.slice(0, 120)}: ${r.error ?? `HTTP ${r.status}`}`);
  };
  return t;
}

/**
 * Runs `next()` (which returns a request description with `ok`: the accepted status codes) at
 * `rate` per second for `seconds`. Returns { latencies (ms), sent, done, bad, dropped, errors,
 * codes, seconds }.
 */
export async function steadyLoad(base, { rate, seconds, maxInFlight = 64, next }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: maxInFlight });
  const t = tally();
  let sent = 0, dropped = 0, inFlight = 0;
  const t0 = process.hrtime.bigint();
  const total = Math.round(rate * seconds);
  const pending = new Set();
  await new Promise((resolveAll) => {
    const tick = () => {
      const elapsed = Number(process.hrtime.bigint() - t0) / 1e9;
      const due = Math.min(total, Math.floor(elapsed * rate) + 1);
      while (sent < due) {
        sent++;
        if (inFlight >= maxInFlight) { dropped++; continue; }
        const d = next();
        inFlight++;
        const p = request(agent, base, d).then((r) => {
          inFlight--;
          t.add(d, r);
        });
        pending.add(p);
        p.then(() => pending.delete(p));
      }
      if (sent >= total) return resolveAll();
      setTimeout(tick, Math.max(1, Math.min(10, 1000 / rate)));
    };
    tick();
  });
  await Promise.all(pending);
  agent.destroy();
  return { latencies: t.latencies, sent, done: t.done, bad: t.bad, dropped, errors: t.errors, codes: t.codes, seconds: Number(process.hrtime.bigint() - t0) / 1e9 };
}

/**
 * `concurrency` requests at a time, each started when the previous one of its slot ends, for
 * `seconds` (at least `minRequests` in all): latencies are service times, never a queue's.
 */
export async function closedLoop(base, { seconds, concurrency = 1, minRequests = 10, next }) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency });
  const t = tally();
  const t0 = process.hrtime.bigint();
  const elapsed = () => Number(process.hrtime.bigint() - t0) / 1e9;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (elapsed() < seconds || t.done < minRequests) {
      const d = next();
      t.add(d, await request(agent, base, d));
    }
  }));
  agent.destroy();
  return { latencies: t.latencies, sent: t.done, done: t.done, bad: t.bad, dropped: 0, errors: t.errors, codes: t.codes, seconds: elapsed() };
}
