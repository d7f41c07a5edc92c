// Issue 17, target 2: the Kaltura web player's first call, its media-load multirequest to api_v3
// (session.startWidgetSession + baseEntry.list + baseEntry.getPlaybackContext +
// metadata_metadata.list), exactly as the player sends it, against a Fastify hello-world, side
// by side in interleaved rounds, autocannon -c 50.
//
// The request is captured from the real player (the version in package.json) in headless
// Chromium (lib/player.mjs) and replayed: body, content type and Origin as it sent them, rotated
// over the public entries of the sample library (only the entry id differs between them). When
// Chromium is not there, the body is built from the player's source (the same function the
// capture is checked against). Also measured:
// - the same call with a user KS on 1_kssecure (the player then leaves the session request out
//   and puts the KS in every sub-request), a fresh KS per request: every request a first call;
// - the CORS preflight (OPTIONS) the browser sends before it, as the page is on another origin.
// Usage: node bench/api.mjs [--connections 50] [--duration 10] [--rounds 3] [--no-build]
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { startKdeliver } from './lib/kdeliver.mjs';
import { freePort, startProcess } from './lib/procs.mjs';
import { benchDir } from './lib/paths.mjs';
import { distModule } from './lib/build.mjs';
import { loadOptions, median } from './lib/rounds.mjs';
import { loadAvg, printMachine } from './lib/machine.mjs';
import { cannon } from './lib/autocannon.mjs';
import { cpuMeter } from './lib/cpu.mjs';
import { fmt, startReport, table } from './lib/results.mjs';
import { PLAYER_VERSION, capturePlayer, multirequestFromSource } from './lib/player.mjs';

const { rounds, connections, duration, build } = loadOptions({ connections: 50 });
const PARTNER = 309;
const SECRET = 'sample-admin-secret-309'; // the sample library's (a contract), used only to issue test KSs
const PUBLIC_ENTRIES = ['1_rcit0qgs', '1_alt0audi', '1_audio001', '1_flavlim0'];
const KS_ENTRY = '1_kssecure';
const ORIGIN = 'https://www.example.com';

const report = startReport('api', { rounds, connections, duration });
printMachine();
const kd = await startKdeliver({ build });
const helloPort = await freePort();
const hello = await startProcess('hello-world', process.execPath, [join(benchDir, 'lib', 'hello-server.mjs'), String(helloPort)], { ready: /listening on http:\/\// });
const { generateKs } = await import(distModule('src/access/ks.js'));
let n = 0;
const userKs = () => generateKs({ partnerId: PARTNER, secret: SECRET, type: 0, userId: `viewer-${++n}`, expiry: 86400, privileges: `sview:${KS_ENTRY}`, version: 2, now: Math.floor(Date.now() / 1000) });

try {
  // the player's request: captured, or from its source
  let anonTemplate = multirequestFromSource({ partnerId: PARTNER, entryId: '1_rcit0qgs' });
  let ksTemplate = null;
  let contentType = 'application/json';
  let path = '/api_v3/service/multirequest';
  const cap = await capturePlayer(kd.url, [{ entryId: '1_rcit0qgs' }, { entryId: KS_ENTRY, ks: userKs() }]);
  if (cap.skip) {
    console.log(`request: built from the player's source (the real player was not run: ${cap.skip})`);
    report.note(`player request built from its source, not captured: ${cap.skip}`);
  } else {
    const multi = (load) => load.api.find((a) => a.url.startsWith('/api_v3/service/multirequest'));
    const anon = multi(cap.loads[0]);
    const withKs = multi(cap.loads[1]);
    const same = isDeepStrictEqual(anon.body, anonTemplate);
    console.log(`request captured from the real player ${PLAYER_VERSION} in Chromium: POST ${anon.url}, content-type ${anon.headers['content-type']}; `
      + `the same as built from its source: ${same ? 'yes' : 'NO'}`);
    console.log(`  with a KS it sent: ${cap.loads[1].api.map((a) => `${a.method} ${a.url.replace(/\?.*/, '')} (${Object.keys(a.body ?? {}).filter((k) => /^\d+$/.test(k)).map((k) => `${a.body[k].service}.${a.body[k].action}`).join(' + ') || Object.keys(a.body ?? {}).join(',')})`).join(', then ')}`);
    if (!same) console.log(`  captured: ${JSON.stringify(anon.body)}`);
    anonTemplate = anon.body;
    ksTemplate = withKs.body;
    contentType = anon.headers['content-type'];
    path = anon.url;
  }
  const ksSample = ksTemplate ? JSON.stringify(ksTemplate).match(/"ks":"([^"]+)"/)[1] : null;
  const bodyFor = (entryId) => JSON.stringify(anonTemplate).replaceAll('"1_rcit0qgs"', JSON.stringify(entryId));
  const ksBody = (ks) => (ksTemplate ? JSON.stringify(ksTemplate).replaceAll(ksSample, ks) : JSON.stringify(multirequestFromSource({ partnerId: PARTNER, entryId: KS_ENTRY, ks })));
  const headers = { 'content-type': contentType, origin: ORIGIN };

  // every answer must be what the player needs: one item per sub-request, no exception
  const check = async (label, body) => {
    const r = await fetch(kd.url + path, { method: 'POST', headers, body });
    const items = await r.json();
    const bad = !Array.isArray(items) || items.some((x) => !x || x.objectType === 'KalturaAPIException');
    if (r.status !== 200 || bad || !items.some((x) => x.objectType === 'KalturaPlaybackContext' && x.sources?.length)) throw new Error(`${label}: HTTP ${r.status} ${JSON.stringify(items).slice(0, 400)}`);
    return Buffer.byteLength(JSON.stringify(items));
  };
  for (const e of PUBLIC_ENTRIES) await check(e, bodyFor(e));
  await check(`${KS_ENTRY} with a KS`, ksBody(userKs()));

  let i = 0;
  const bodies = PUBLIC_ENTRIES.map(bodyFor);
  const targets = [
    { name: 'Fastify hello-world', server: hello, url: `http://127.0.0.1:${helloPort}/` },
    { name: 'player multirequest, anonymous', server: kd, url: kd.url, requests: [{ method: 'POST', path, headers, setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }] },
    { name: 'the same with a user KS', server: kd, url: kd.url, requests: [{ method: 'POST', path, headers, setupRequest: (req) => ({ ...req, body: ksBody(userKs()) }) }] },
    { name: 'CORS preflight (OPTIONS)', server: kd, url: kd.url, requests: [{ method: 'OPTIONS', path, headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } }], ok: [200, 204] },
  ];
  for (const t of targets) await cannon({ url: t.url, connections, duration: 3, requests: t.requests, ok: t.ok ?? [200] }); // warm-up
  const rows = [];
  for (let round = 1; round <= rounds; round++) {
    for (const t of targets) {
      const meter = cpuMeter(t.server.pid);
      const r = await cannon({ url: t.url, connections, duration, requests: t.requests, ok: t.ok ?? [200] });
      const cpu = meter(r.total);
      if (r.bad > 0) throw new Error(`${t.name}: ${JSON.stringify(r.codes)}, ${r.errors} errors, ${r.timeouts} timeouts`);
      rows.push({ name: t.name, round, ...r, ...cpu, load: loadAvg().split(' ')[0] });
      console.log(`  round ${round} ${t.name}: ${fmt(r.rps)} req/s, p99 ${r.p99} ms, server CPU ${fmt(cpu.cpuPct)} % (${fmt(cpu.cpuUsPerReq)} us/answer), other ${fmt(cpu.otherPct)} %`);
    }
  }
  console.log(`\nautocannon -c ${connections} -d ${duration} in the benchmark process, each server one Node process, loopback; POST ${path}`);
  table([['target', 31], ['round', 5], ['req/s', 7], ['p50 ms', 6], ['p99 ms', 6], ['bytes', 6], ['CPU %', 5], ['us/answer', 9], ['other %', 7], ['load', 5]],
    rows.map((r) => [r.name, r.round, fmt(r.rps), r.p50, r.p99, fmt(r.bytesPerResponse), fmt(r.cpuPct), fmt(r.cpuUsPerReq), fmt(r.otherPct), r.load]));
  report.data.rows = rows;
  const per = (name) => rows.filter((r) => r.name === name).map((r) => r.rps);
  const helloRps = per('Fastify hello-world');
  const cpuPer = (name) => rows.filter((r) => r.name === name).map((r) => r.cpuUsPerReq);
  const list = (xs) => xs.map((x) => fmt(x, 2)).join(', ');
  for (const [name, aim] of [['player multirequest, anonymous', 0.3], ['the same with a user KS', null], ['CORS preflight (OPTIONS)', null]]) {
    const rs = per(name).map((x, k) => x / helloRps[k]);
    // under contention a server gets only part of a core, and req/s follow the other work; the
    // CPU each answer costs does not, so its ratio is printed too (the throughput ratio of two
    // CPU-bound servers on a quiet core)
    const cpu = cpuPer(name).map((x, k) => cpuPer('Fastify hello-world')[k] / x);
    report.ratio(`${name} / hello-world`, median(rs), `rounds ${list(rs)}; CPU per answer hello-world / this ${fmt(median(cpu), 2)} (rounds ${list(cpu)})${aim ? `; aim >= ${aim}` : ''}`);
  }
} finally {
  await kd.stop();
  await hello.stop();
}
report.finish();
