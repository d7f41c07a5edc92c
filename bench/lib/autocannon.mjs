// autocannon (in the benchmark's own process; each server is a child process) with its report
// reduced to what the benchmarks print. Status codes are counted one by one, because playManifest
// answers mpegdash with a 302 and autocannon's non2xx would count those as failures.
import autocannon from 'autocannon';

/**
 * One run. `ok` lists the acceptable status codes; anything else, an error or a timeout makes
 * `bad` non-zero (the caller decides whether that aborts). `requests` (autocannon's form, with
 * setupRequest) makes every request different.
 */
export function cannon({ url, connections = 50, pipelining = 1, duration = 10, requests, method, body, headers, overallRate, ok = [200] }) {
  return new Promise((resolve, reject) => {
    const opts = { url, connections, pipelining, duration, ...(requests ? { requests } : {}), ...(method ? { method } : {}), ...(body ? { body } : {}), ...(headers ? { headers } : {}), ...(overallRate ? { overallRate } : {}) };
    autocannon(opts, (err, r) => {
      if (err) return reject(err);
      const codes = Object.fromEntries(Object.entries(r.statusCodeStats ?? {}).map(([k, v]) => [k, v.count]));
      const wrong = Object.entries(codes).filter(([k]) => !ok.includes(Number(k))).reduce((s, [, n]) => s + n, 0);
      resolve({
        rps: r.requests.average,
        total: r.requests.total,
        seconds: r.duration,
        p50: r.latency.p50,
        p90: r.latency.p90,
        p99: r.latency.p99,
        max: r.latency.max,
        bytesPerResponse: r.requests.total ? r.throughput.total / r.requests.total : NaN,
        codes,
        errors: r.errors,
        timeouts: r.timeouts,
        bad: wrong + r.errors + r.timeouts,
      });
    });
  });
}
