// Issue 2 benchmark: autocannon against playManifest applehttp (the HLS master of the sample
// entry) and against a Fastify hello-world on the same machine, side by side, printing the ratio.
// kdeliver runs twice: as `npm start` runs it (its answer cache keeps this URL-pure answer) and
// with the answer cache off (KDELIVER_MANIFEST_CACHE_ENTRIES=0: the whole pipeline per request).
// Each server is its own child process; the load generator (autocannon) runs in this process.
// Usage: node bench/playmanifest.mjs [--connections 50] [--pipelining 1] [--duration 10] [--rounds 3] [--no-build]
// Each round runs each server in turn; the ratios reported are medians of the per-round ratios.
import { join } from 'node:path';
import autocannon from 'autocannon';
import { startKdeliver } from './lib/kdeliver.mjs';
import { freePort, startProcess } from './lib/procs.mjs';
import { benchDir } from './lib/paths.mjs';
import { loadOptions, median } from './lib/rounds.mjs';
import { loadAvg, printMachine } from './lib/machine.mjs';

const { rounds, connections, pipelining, duration, build } = loadOptions({ connections: 50, pipelining: 1 });
const PATH = '/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8';

const load = (url, seconds) => new Promise((resolve, reject) => {
  autocannon({ url, connections, pipelining, duration: seconds }, (err, res) => (err ? reject(err) : resolve(res)));
});

printMachine();
const kd = await startKdeliver({ build });
const kdPipeline = await startKdeliver({ build: false, env: { KDELIVER_MANIFEST_CACHE_ENTRIES: '0' } });
const helloPort = await freePort();
const hello = await startProcess('hello-world', process.execPath, [join(benchDir, 'lib', 'hello-server.mjs'), String(helloPort)], { ready: /listening on http:\/\// });
try {
  // the answer must be the real master, not an error page
  for (const server of [kd, kdPipeline]) {
    const check = await fetch(server.url + PATH);
    const body = await check.text();
    if (check.status !== 200 || !body.startsWith('#EXTM3U') || !body.includes('#EXT-X-STREAM-INF')) {
      throw new Error(`playManifest answered ${check.status}: ${body.slice(0, 300)}`);
    }
  }
  const targets = [
    ['playManifest applehttp', kd.url + PATH],
    ['  answer cache off', kdPipeline.url + PATH],
    ['Fastify hello-world', `http://127.0.0.1:${helloPort}/`],
  ];
  for (const [, url] of targets) await load(url, 3); // warm-up
  const rows = [];
  const ratios = [];
  const pipelineRatios = [];
  for (let round = 1; round <= rounds; round++) {
    const got = [];
    for (const [name, url] of targets) {
      const r = await load(url, duration);
      const bad = r.non2xx + r.errors + r.timeouts;
      if (bad > 0) throw new Error(`${name}: ${r.non2xx} non-2xx, ${r.errors} errors, ${r.timeouts} timeouts`);
      const row = { name, round, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, size: r.throughput.total / r.requests.total, load: loadAvg().split(' ')[0] };
      rows.push(row);
      got.push(row);
    }
    ratios.push(got[0].rps / got[2].rps);
    pipelineRatios.push(got[1].rps / got[2].rps);
  }
  console.log(`\nautocannon -c ${connections} -p ${pipelining} -d ${duration}, each server one Node process, autocannon in the benchmark process, loopback`);
  console.log('server                   round   req/s    p50 ms  p99 ms  bytes/response  load');
  for (const r of rows) console.log(`${r.name.padEnd(24)} ${String(r.round).padStart(4)} ${r.rps.toFixed(0).padStart(7)} ${String(r.p50).padStart(8)} ${String(r.p99).padStart(7)}  ${String(Math.round(r.size)).padStart(14)}  ${r.load}`);
  const list = (xs) => xs.map((x) => x.toFixed(2)).join(', ');
  console.log(`ratio: playManifest applehttp / hello-world = ${median(ratios).toFixed(2)} (median of ${ratios.length} rounds: ${list(ratios)}; aim >= 0.6)`);
  console.log(`ratio with the answer cache off (the whole pipeline per request) = ${median(pipelineRatios).toFixed(2)} (rounds: ${list(pipelineRatios)})`);
} finally {
  await kd.stop();
  await kdPipeline.stop();
  await hello.stop();
}
