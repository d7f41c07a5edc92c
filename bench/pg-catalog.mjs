// Issue 14, benchmark 2: playManifest on a PostgreSQL catalog against the SQLite one, with the
// answer cache off (KDELIVER_MANIFEST_CACHE_ENTRIES=0) so that every request runs the pipeline
// over the catalog. Two servers over the same library (the sample library and the benchmark
// entries, local media), one with KDELIVER_DATABASE_URL on a throwaway PostgreSQL cluster
// (lib/postgres.mjs, on this machine, loopback), side by side in interleaved rounds, autocannon
// -c 50, requests as the Kaltura web player makes them (lib/player.mjs): anonymous (half HLS,
// half DASH, a new playSessionId each) and with a fresh user KS each (the KS-revocation lookup
// on top). Aim: PostgreSQL >= 0.7 of SQLite.
// Both catalogs keep repeated reads in memory until a change (SQLite: data_version; PostgreSQL:
// LISTEN/NOTIFY), so this measures the catalog as delivery uses it, not a query per request.
// Usage: node bench/pg-catalog.mjs [--connections 50] [--duration 10] [--rounds 3] [--no-build]
import { randomUUID } from 'node:crypto';
import { startKdeliver } from './lib/kdeliver.mjs';
import { distModule } from './lib/build.mjs';
import { loadOptions, median } from './lib/rounds.mjs';
import { printMachine } from './lib/machine.mjs';
import { startPostgres } from './lib/postgres.mjs';
import { fmt, startReport } from './lib/results.mjs';
import { printRows, runRounds } from './lib/versus-hello.mjs';
import { kalturaParams, manifestPath, playSessionId, playbackSources } from './lib/player.mjs';

const opts = loadOptions({ connections: 50, duration: 10, rounds: 3 });
const { rounds, connections, duration, build } = opts;
const PARTNER = 309;
const SECRET = 'sample-admin-secret-309'; // the sample library's (a contract), used only to issue test KSs
const PUBLIC_ENTRIES = ['1_rcit0qgs', '1_alt0audi', '1_audio001', '1_flavlim0'];
const KS_ENTRY = '1_kssecure';
const FORMATS = ['applehttp', 'mpegdash'];

const report = startReport('pg-catalog', { rounds, connections, duration });
printMachine();
const pg = await startPostgres();
const stops = [async () => pg.stop()];
try {
  const noCache = { KDELIVER_MANIFEST_CACHE_ENTRIES: '0' };
  const lite = await startKdeliver({ build, name: 'kdeliver-sqlite', env: noCache });
  stops.push(lite.stop);
  const onPg = await startKdeliver({ build: false, name: 'kdeliver-pg', env: { ...noCache, KDELIVER_DATABASE_URL: pg.createDatabase('bench') } });
  stops.push(onPg.stop);
  const { generateKs } = await import(distModule('src/access/ks.js'));
  let n = 0;
  const userKs = () => generateKs({ partnerId: PARTNER, secret: SECRET, type: 0, userId: `viewer-${++n}`, expiry: 86400, privileges: `sview:${KS_ENTRY}`, version: 2, now: Math.floor(Date.now() / 1000) });

  const sources = await playbackSources(lite.url, PARTNER, PUBLIC_ENTRIES);
  Object.assign(sources, await playbackSources(lite.url, PARTNER, [KS_ENTRY], userKs()));
  const pageUrl = () => `https://www.example.com/watch/${randomUUID()}.html`;
  const pairs = PUBLIC_ENTRIES.flatMap((e) => FORMATS.map((f) => [e, f]));
  let i = 0;
  const anonymousPath = () => {
    const [entryId, format] = pairs[i++ % pairs.length];
    return manifestPath({ partnerId: PARTNER, entryId, format, flavorIds: sources[entryId][format] }) + kalturaParams({ sessionId: playSessionId(), pageUrl: pageUrl() });
  };
  let k = 0;
  const ksPath = () => {
    const format = FORMATS[k++ % 2];
    return manifestPath({ partnerId: PARTNER, entryId: KS_ENTRY, format, flavorIds: sources[KS_ENTRY][format], ks: userKs() }) + kalturaParams({ sessionId: playSessionId(), pageUrl: pageUrl() });
  };
  const anonymous = [{ method: 'GET', setupRequest: (req) => ({ ...req, path: anonymousPath() }) }];
  const withKs = [{ method: 'GET', setupRequest: (req) => ({ ...req, path: ksPath() }) }];

  // both servers answer the same bytes before anything is measured
  for (const path of [anonymousPath(), anonymousPath(), ksPath(), ksPath()]) {
    const [a, b] = await Promise.all([lite, onPg].map(async (s) => {
      const r = await fetch(s.url + path, { redirect: 'manual' });
      return `${r.status} ${r.headers.get('location') ?? ''} ${await r.text()}`.replaceAll(s.url, 'HOST').replace(/playSessionId=[^&"\s]*/g, '');
    }));
    if (a !== b || !/^(200|302) /.test(a)) throw new Error(`SQLite and PostgreSQL answer differently for ${path}:\n${a.slice(0, 300)}\n${b.slice(0, 300)}`);
  }

  const targets = [
    { name: 'SQLite, anonymous', server: lite, url: lite.url, requests: anonymous, ok: [200, 302] },
    { name: 'PostgreSQL, anonymous', server: onPg, url: onPg.url, requests: anonymous, ok: [200, 302] },
    { name: 'SQLite, fresh KS', server: lite, url: lite.url, requests: withKs, ok: [200, 302] },
    { name: 'PostgreSQL, fresh KS', server: onPg, url: onPg.url, requests: withKs, ok: [200, 302] },
  ];
  const rows = await runRounds(targets, { rounds, duration, connections });
  console.log(`\nautocannon -c ${connections} -d ${duration}, answer cache off (KDELIVER_MANIFEST_CACHE_ENTRIES=0), each server one Node process, PostgreSQL on loopback`);
  printRows(rows, 24);
  report.data.rows = rows;
  const of = (name, key) => rows.filter((r) => r.name === name).map((r) => r[key]);
  for (const kind of ['anonymous', 'fresh KS']) {
    const rps = of(`PostgreSQL, ${kind}`, 'rps').map((x, j) => x / of(`SQLite, ${kind}`, 'rps')[j]);
    const cpu = of(`SQLite, ${kind}`, 'cpuUsPerReq').map((x, j) => x / of(`PostgreSQL, ${kind}`, 'cpuUsPerReq')[j]);
    report.ratio(`PostgreSQL / SQLite, ${kind}`, median(rps), `rounds ${rps.map((x) => fmt(x, 2)).join(', ')}; node CPU per answer SQLite / PostgreSQL ${fmt(median(cpu), 2)} (the database's own CPU not counted); aim >= 0.7`);
  }
} finally {
  for (const s of stops.reverse()) await Promise.resolve(s()).catch(() => {});
}
report.finish();
