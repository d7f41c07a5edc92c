// Issue 14, benchmark 3: one kdeliver node against two behind nginx, on this machine. Both nodes
// share a PostgreSQL catalog (a throwaway cluster, lib/postgres.mjs) and the media folder (local
// disk); nginx runs docker/nginx.scale.conf with the cache files it includes, as the
// deployment test does (only upstream addresses, listen port and cache directory changed), one
// worker. Targets, side by side in interleaved rounds, autocannon -c 50 from this process:
// - one node, direct;
// - one node behind nginx (both upstream lines naming it: what nginx itself costs);
// - two nodes behind nginx (round robin).
// The requests are playManifest as the web player makes them (anonymous, half HLS, half DASH, a
// fresh playSessionId each) with the answer cache off (KDELIVER_MANIFEST_CACHE_ENTRIES=0), so
// every request is work for a node; nginx does not keep playManifest answers (Kaltura's
// Cache-Control: private), so it passes all of them on. Segments are left out on purpose: after
// the first request nginx answers them from its cache and no node is involved.
// Usage: node bench/nodes.mjs [--connections 50] [--duration 10] [--rounds 3] [--no-build]
import { copyFileSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startKdeliver } from './lib/kdeliver.mjs';
import { loadOptions, median } from './lib/rounds.mjs';
import { printMachine } from './lib/machine.mjs';
import { projectRoot } from './lib/paths.mjs';
import { startPostgres } from './lib/postgres.mjs';
import { startNginxWith } from './lib/nginx.mjs';
import { fmt, startReport } from './lib/results.mjs';
import { printRows, runRounds } from './lib/versus-hello.mjs';
import { kalturaParams, manifestPath, playSessionId, playbackSources } from './lib/player.mjs';

const opts = loadOptions({ connections: 50, duration: 10, rounds: 3 });
const { rounds, connections, duration, build } = opts;
const PARTNER = 309;
const PUBLIC_ENTRIES = ['1_rcit0qgs', '1_alt0audi', '1_audio001', '1_flavlim0'];
const FORMATS = ['applehttp', 'mpegdash'];

/** nginx with docker/nginx.scale.conf, its upstream lines naming `a` and `b` (host:port). */
async function startScaleNginx(a, b) {
  const docker = join(projectRoot, 'docker');
  const swap = (text, from, to) => {
    if (!text.includes(from)) throw new Error(`docker/ nginx files no longer contain ${from}`);
    return text.replace(from, to);
  };
  const nginx = await startNginxWith((port, prefix) => {
    for (const d of ['cache', 'kdeliver']) mkdirSync(join(prefix, d));
    writeFileSync(join(prefix, 'kdeliver', 'nginx-cache-zone.conf'), swap(readFileSync(join(docker, 'nginx-cache-zone.conf'), 'utf8'), '/var/cache/nginx/kdeliver', join(prefix, 'cache')));
    copyFileSync(join(docker, 'nginx-cache-rules.conf'), join(prefix, 'kdeliver', 'nginx-cache-rules.conf'));
    const site = readFileSync(join(docker, 'nginx.scale.conf'), 'utf8');
    // autocannon writes its next request the moment an answer ends, Connection: close or not; at
    // nginx's default keepalive_requests (1000) a client connection is closed every thousand
    // answers, and a request that reaches the closed socket is reset (ECONNRESET): 1-12 errors a
    // run, which failed the benchmark (50 instead of 1000 made 52; a million, none). Browsers
    // and players reconnect; the load generator's connections are kept instead.
    return 'keepalive_requests 1000000;\n' + swap(swap(swap(site, 'listen 80;', `listen 127.0.0.1:${port};`), 'server node-a:8080', `server ${a}`), 'server node-b:8080', `server ${b}`);
  });
  return { ...nginx, stop: async () => { await nginx.stop(); rmSync(nginx.prefix, { recursive: true, force: true }); } };
}

const report = startReport('nodes', { rounds, connections, duration });
printMachine();
const pg = await startPostgres();
const stops = [async () => pg.stop()];
try {
  const env = { KDELIVER_MANIFEST_CACHE_ENTRIES: '0', KDELIVER_DATABASE_URL: pg.createDatabase('bench'), KDELIVER_TRUST_PROXY: 'true' };
  const a = await startKdeliver({ build, name: 'kdeliver-node-a', env });
  stops.push(a.stop);
  // node-b: the same catalog, and the same media folder (node-a's data directory, not removed by b)
  const b = await startKdeliver({ build: false, name: 'kdeliver-node-b', env, dataDir: a.dataDir, libraries: [] });
  stops.push(b.stop);
  const host = (s) => new URL(s.url).host;
  const lbOne = await startScaleNginx(host(a), host(a));
  stops.push(lbOne.stop);
  const lbTwo = await startScaleNginx(host(a), host(b));
  stops.push(lbTwo.stop);

  const sources = await playbackSources(a.url, PARTNER, PUBLIC_ENTRIES);
  const pairs = PUBLIC_ENTRIES.flatMap((e) => FORMATS.map((f) => [e, f]));
  let i = 0;
  const path = () => {
    const [entryId, format] = pairs[i++ % pairs.length];
    return manifestPath({ partnerId: PARTNER, entryId, format, flavorIds: sources[entryId][format] })
      + kalturaParams({ sessionId: playSessionId(), pageUrl: `https://www.example.com/watch/${randomUUID()}.html` });
  };
  const requests = [{ method: 'GET', setupRequest: (req) => ({ ...req, path: path() }) }];
  // through nginx: answered by a node (never the cache), and by both nodes in the two-node setup
  const count = async (s) => [...(await (await fetch(`${s.url}/metrics`)).text()).matchAll(/^kdeliver_http_requests_total\{family="playManifest"[^}]*\} (\d+)/gm)]
    .reduce((n, m) => n + Number(m[1]), 0);
  const before = [await count(a), await count(b)];
  for (let k = 0; k < 8; k++) {
    const r = await fetch(lbTwo.url + path(), { redirect: 'manual' });
    await r.arrayBuffer();
    if (![200, 302].includes(r.status) || r.headers.get('x-cache-status') !== 'MISS') throw new Error(`through nginx: ${r.status} ${r.headers.get('x-cache-status')}`);
  }
  const after = [await count(a), await count(b)];
  console.log(`8 playManifest requests through nginx to two nodes: node-a answered ${after[0] - before[0]}, node-b ${after[1] - before[1]}`);
  if (after[0] === before[0] || after[1] === before[1]) throw new Error('nginx did not send requests to both nodes');

  const targets = [
    { name: 'one node, direct', server: a, url: a.url, requests, ok: [200, 302] },
    { name: 'one node behind nginx', server: lbOne, url: lbOne.url, requests, ok: [200, 302] },
    { name: 'two nodes behind nginx', server: lbTwo, url: lbTwo.url, requests, ok: [200, 302] },
  ];
  const rows = await runRounds(targets, { rounds, duration, connections });
  console.log(`\nautocannon -c ${connections} -d ${duration} in the benchmark process; answer cache off; PostgreSQL catalog; nginx 1 worker (CPU % of the nginx rows is nginx's own, not the nodes')`);
  printRows(rows, 24);
  report.data.rows = rows;
  const of = (name) => rows.filter((r) => r.name === name).map((r) => r.rps);
  const ratio = (x, y, label, detail) => {
    const rs = of(x).map((v, j) => v / of(y)[j]);
    report.ratio(label, median(rs), `rounds ${rs.map((v) => fmt(v, 2)).join(', ')}${detail ? `; ${detail}` : ''}`);
  };
  ratio('two nodes behind nginx', 'one node, direct', 'two nodes behind nginx / one node direct', 'the load generator, nginx, PostgreSQL and the nodes share this machine\'s cores');
  ratio('two nodes behind nginx', 'one node behind nginx', 'two nodes / one node, both behind nginx');
  ratio('one node behind nginx', 'one node, direct', 'one node behind nginx / direct (what the proxy hop costs)');
} finally {
  for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => {});
}
report.finish();
