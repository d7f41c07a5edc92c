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
// --profile: afterwards, one more kdeliver under `node --cpu-prof` for one run of the KS target,
// and where its samples went (bench/.work/profiles/).
// Usage: node bench/api.mjs [--connections 50] [--duration 10] [--rounds 3] [--profile] [--no-build]
import { isDeepStrictEqual } from 'node:util';
import { startKdeliver } from './lib/kdeliver.mjs';
import { distModule } from './lib/build.mjs';
import { loadOptions } from './lib/rounds.mjs';
import { printMachine } from './lib/machine.mjs';
import { startReport } from './lib/results.mjs';
import { printRows, reportVsHello, runRounds, startHello } from './lib/versus-hello.mjs';
import { PLAYER_VERSION, capturePlayer, multirequestFromSource } from './lib/player.mjs';
import { cannon } from './lib/autocannon.mjs';
import { printProfile, profileKdeliver } from './lib/cpuprofile.mjs';

const opts = loadOptions({ connections: 50 }, { profile: { type: 'boolean', default: false } });
const { rounds, connections, duration, build } = opts;
const PARTNER = 309;
const SECRET = 'sample-admin-secret-309'; // the sample library's (a contract), used only to issue test KSs
const PUBLIC_ENTRIES = ['1_rcit0qgs', '1_alt0audi', '1_audio001', '1_flavlim0'];
const KS_ENTRY = '1_kssecure';
const ORIGIN = 'https://www.example.com';

const report = startReport('api', { rounds, connections, duration });
printMachine();
const kd = await startKdeliver({ build });
const { server: hello, target: helloTarget } = await startHello();
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
    helloTarget,
    { name: 'player multirequest, anonymous', server: kd, url: kd.url, requests: [{ method: 'POST', path, headers, setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length] }) }] },
    { name: 'the same with a user KS', server: kd, url: kd.url, requests: [{ method: 'POST', path, headers, setupRequest: (req) => ({ ...req, body: ksBody(userKs()) }) }] },
    { name: 'CORS preflight (OPTIONS)', server: kd, url: kd.url, requests: [{ method: 'OPTIONS', path, headers: { origin: ORIGIN, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type' } }], ok: [200, 204] },
  ];
  const rows = await runRounds(targets, { rounds, duration, connections });
  console.log(`\nautocannon -c ${connections} -d ${duration} in the benchmark process, each server one Node process, loopback; POST ${path}`);
  printRows(rows, 31);
  report.data.rows = rows;
  reportVsHello(report, rows, [['player multirequest, anonymous', 0.3], ['the same with a user KS', null], ['CORS preflight (OPTIONS)', null]]);

  // where a KS-bearing first call's time goes: the same requests against a server under the profiler
  if (opts.extra.profile) {
    const t = targets.find((x) => x.name === 'the same with a user KS');
    const p = await profileKdeliver(t.name, {}, async (pk) => {
      await cannon({ url: pk.url, connections, duration: 2, requests: t.requests });
      return cannon({ url: pk.url, connections, duration, requests: t.requests });
    });
    printProfile(p, p.missing ? '' : `Profile of kdeliver, ${t.name} (${Math.round(p.run.rps)} req/s under the profiler)`);
  }
} finally {
  await kd.stop();
  await hello.stop();
}
report.finish();
