// Issue 17, target 5: a big catalog. scripts/make-big-library.mjs generates a library of
// --entries entries (default 1,000,000: ten partners, three flavors each, five access-control
// profiles in a 60/10/10/10/10 mix), `kdeliver import` (the command line, as a user runs it)
// imports it file by file after the sample library, and kdeliver then serves it:
// - import: wall time and entries/s per file, the importer's own output (its progress is
//   whatever it prints), peak RSS of each import process;
// - server start on the big catalog (time to listening) and its RSS;
// - playManifest p50/p99 at a steady rate, player-like URLs (lib/player.mjs) over random entries
//   of the big catalog (a KS where the entry's profile needs one, the referrer example.com)
//   against the same mix over the sample library on a server holding only it; direct (the
//   answer cache off, KDELIVER_MANIFEST_CACHE_ENTRIES=0) and as shipped;
// - baseEntry.list with a filter and a pager (admin KS of the partner): mediaTypeEqual with a
//   random page of 30, and nameLike with the first page of 30, one request at a time; the sample
//   library's lists answer fewer entries (12 and 3) than a page of 30, so each is also run on the
//   big catalog with a page of as many entries as the sample's answer holds ("same answer size"):
//   the catalog's size alone, not the answer's;
// - the server's CPU per answer in every run (its own, apart from the load generator's), and its
//   big / sample ratio for playManifest;
// - RSS of each server after the runs.
// The imported data directory is kept in bench/.work/big-data-<entries> (with a record of the
// import) and reused by the next run; --reimport imports again.
// Usage: node bench/catalog.mjs [--entries 1000000] [--partners 10] [--rate 200]
//          [--duration 10] [--rounds 3] [--reimport] [--no-build]
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { startKdeliver, SAMPLE_LIBRARY } from './lib/kdeliver.mjs';
import { distModule, buildProject } from './lib/build.mjs';
import { projectRoot, workDir } from './lib/paths.mjs';
import { loadOptions, median, percentile } from './lib/rounds.mjs';
import { printMachine, uptime } from './lib/machine.mjs';
import { cpuMeter, rssBytes } from './lib/cpu.mjs';
import { closedLoop, steadyLoad } from './lib/load.mjs';
import { fmt, fmtInt, startReport, table } from './lib/results.mjs';
import { kalturaParams, manifestPath, playSessionId, playbackSources } from './lib/player.mjs';
import { catalogShape } from '../scripts/make-big-library.mjs';

const opts = loadOptions({ connections: 10 }, {
  entries: { type: 'string', default: '1000000' },
  partners: { type: 'string', default: '10' },
  rate: { type: 'string', default: '200' },
  reimport: { type: 'boolean', default: false },
});
const { rounds, duration, build } = opts;
const ENTRIES = Number(opts.extra.entries);
const PARTNERS = Number(opts.extra.partners);
const RATE = Number(opts.extra.rate);
const shape = catalogShape(PARTNERS);
const libDir = join(workDir, `big-library-${ENTRIES}-${PARTNERS}`);
const dataDir = join(workDir, `big-data-${ENTRIES}-${PARTNERS}`);
const importRecord = join(dataDir, 'bench-import.json');
const mb = (b) => fmt(b / 1e6);

const report = startReport('catalog', { entries: ENTRIES, partners: PARTNERS, rate: RATE, rounds, duration });
printMachine();
if (build) buildProject();

/** Runs a command, following its peak RSS (VmHWM) from /proc; resolves { code, seconds, peakRss, out }. */
function runTracked(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let peak = 0;
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    const poll = setInterval(() => {
      try {
        const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
        if (m) peak = Math.max(peak, Number(m[1]) * 1024);
      } catch { /* exited */ }
    }, 100);
    child.on('close', (code) => {
      clearInterval(poll);
      resolve({ code, seconds: Number(process.hrtime.bigint() - t0) / 1e9, peakRss: peak, out: out.trim(), err: err.trim() });
    });
  });
}

// ---- 1. generate and import (or reuse the import of an earlier run)
let imported;
if (!opts.extra.reimport && existsSync(importRecord)) {
  imported = JSON.parse(readFileSync(importRecord, 'utf8'));
  console.log(`reusing the catalog imported ${imported.finishedAt} in ${dataDir} (--reimport to import again)`);
} else {
  if (!existsSync(join(libDir, 'manifest.json'))) {
    console.log(`generating ${ENTRIES.toLocaleString('en')} entries into ${libDir} ...`);
    const g = await runTracked(process.execPath, [join(projectRoot, 'scripts', 'make-big-library.mjs'), '--entries', String(ENTRIES), '--partners', String(PARTNERS), '--out', libDir]);
    if (g.code !== 0) throw new Error(`make-big-library failed: ${g.err}`);
    console.log(`  ${g.out.split('\n').pop()}`);
  }
  const manifest = JSON.parse(readFileSync(join(libDir, 'manifest.json'), 'utf8'));
  rmSync(dataDir, { recursive: true, force: true });
  const cli = join(projectRoot, 'dist', 'src', 'cli', 'kdeliver.js');
  const env = { KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent' };
  const steps = [];
  const t0 = Date.now();
  let done = 0;
  for (const file of [SAMPLE_LIBRARY, ...manifest.files]) {
    const r = await runTracked(process.execPath, [cli, 'import', file], env);
    if (r.code !== 0) throw new Error(`kdeliver import ${file} failed (${r.code}): ${(r.out + r.err).slice(-1000)}`);
    const n = Number(/: (\d+) entr/.exec(r.out)?.[1] ?? NaN);
    if (file !== SAMPLE_LIBRARY) done += n;
    const progress = r.err ? r.err.split('\n') : [];
    steps.push({ file, entries: n, seconds: r.seconds, peakRss: r.peakRss, output: r.out, progress, uptime: uptime() });
    const elapsed = (Date.now() - t0) / 1000;
    console.log(`  import ${file.split('/').pop()}: ${n.toLocaleString('en')} entries in ${fmt(r.seconds, 1)} s (${fmtInt(n / r.seconds)}/s), peak RSS ${mb(r.peakRss)} MB; `
      + `${done.toLocaleString('en')} / ${ENTRIES.toLocaleString('en')} after ${fmt(elapsed / 60, 1)} min; the importer printed ${progress.length} progress lines, the last "${progress.at(-1) ?? ''}", and "${r.out.split('\n').pop()}"; ${uptime().replace(/.*load/, 'load')}`);
  }
  imported = { entries: done, seconds: (Date.now() - t0) / 1000, steps, finishedAt: new Date().toISOString() };
  writeFileSync(importRecord, JSON.stringify(imported, null, 2));
}
const bigSteps = imported.steps.filter((s) => s.file !== SAMPLE_LIBRARY);
report.data.import = imported;

// ---- 2. servers: the big catalog and the sample library, each direct and as shipped
const { generateKs } = await import(distModule('src/access/ks.js'));
const now = () => Math.floor(Date.now() / 1000);
const servers = {};
const started = [];
try {
  for (const [key, dir, libs, env] of [
    ['big direct', dataDir, [], { KDELIVER_MANIFEST_CACHE_ENTRIES: '0' }],
    ['big as shipped', dataDir, [], {}],
    ['sample direct', undefined, [SAMPLE_LIBRARY], { KDELIVER_MANIFEST_CACHE_ENTRIES: '0' }],
    ['sample as shipped', undefined, [SAMPLE_LIBRARY], {}],
  ]) {
    const t0 = process.hrtime.bigint();
    const s = await startKdeliver({ build: false, dataDir: dir, libraries: libs, env, name: key });
    started.push(s);
    servers[key] = { ...s, startMs: Number(process.hrtime.bigint() - t0) / 1e6, rssStart: rssBytes(s.pid) };
    console.log(`${key}: listening after ${fmt(servers[key].startMs)} ms, RSS ${mb(servers[key].rssStart)} MB`);
  }

  // ---- requests. Big: entry n at random, with its partner's KS where its profile needs one.
  const userKs = new Map(shape.partnerIds.map((pid) => [pid, generateKs({ partnerId: pid, secret: shape.adminSecret(pid), type: 0, userId: 'viewer', expiry: 86400, privileges: 'sview:*', version: 2, now: now() })]));
  const adminKs = new Map(shape.partnerIds.map((pid) => [pid, generateKs({ partnerId: pid, secret: shape.adminSecret(pid), type: 2, userId: 'admin', expiry: 86400, privileges: '', version: 2, now: now() })]));
  const sampleUserKs = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId: 'viewer', expiry: 86400, privileges: 'sview:*', version: 2, now: now() });
  const sampleAdminKs = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, userId: 'admin', expiry: 86400, privileges: '', version: 2, now: now() });
  const page = () => `https://www.example.com/watch/${randomUUID()}.html`;
  const formats = ['applehttp', 'mpegdash'];
  let k = 0;
  const bigManifest = () => {
    const n = Math.floor(Math.random() * ENTRIES);
    const pid = shape.partnerOf(n);
    const format = formats[k++ % 2];
    return { path: manifestPath({ partnerId: pid, entryId: shape.entryId(n), format, flavorIds: shape.flavorIdsOf(n), ks: shape.needsKs(n) ? userKs.get(pid) : undefined }) + kalturaParams({ sessionId: playSessionId(), pageUrl: page() }), ok: [200, 302] };
  };
  // the sample library's counterparts of the big mix: 60 % open entries, 10 % each of KS,
  // site-restricted, open (no IP-restricted sample entry plays from 127.0.0.1) and limit-flavors
  const sampleMix = ['1_rcit0qgs', '1_alt0audi', '1_audio001', '1_rcit0qgs', '1_alt0audi', '1_audio001', '1_kssecure', '1_siteonly', '1_rcit0qgs', '1_flavlim0'];
  // (the site-restricted entry's context is refused without the page's referrer: its flavors are read with an admin KS)
  const sampleSources = {
    ...(await playbackSources(servers['sample direct'].url, 309, [...new Set(sampleMix)].filter((e) => e !== '1_siteonly'), sampleUserKs)),
    ...(await playbackSources(servers['sample direct'].url, 309, ['1_siteonly'], sampleAdminKs)),
  };
  const sampleManifest = () => {
    const e = sampleMix[Math.floor(Math.random() * sampleMix.length)];
    const format = formats[k++ % 2];
    return { path: manifestPath({ partnerId: 309, entryId: e, format, flavorIds: sampleSources[e][format], ks: e === '1_kssecure' ? sampleUserKs : undefined }) + kalturaParams({ sessionId: playSessionId(), pageUrl: page() }), ok: [200, 302] };
  };
  const WORDS = ['lecture', 'keynote', 'webinar', 'tutorial', 'interview', 'demo', 'review', 'trailer', 'recap', 'panel'];
  const listBody = (ks, filter, pageIndex, pageSize = 30) => JSON.stringify({ format: 1, ks, filter: { objectType: 'KalturaBaseEntryFilter', ...filter }, pager: { objectType: 'KalturaFilterPager', pageSize, pageIndex } });
  const listReq = (body) => ({ method: 'POST', path: '/api_v3/service/baseEntry/action/list', headers: { 'content-type': 'application/json' }, body, ok: [200] });
  const bigList = {
    'mediaTypeEqual, random page': () => { const pid = shape.partnerIds[Math.floor(Math.random() * PARTNERS)]; return listReq(listBody(adminKs.get(pid), { mediaTypeEqual: 1 }, 1 + Math.floor(Math.random() * 100))); },
    'nameLike, first page': () => { const pid = shape.partnerIds[Math.floor(Math.random() * PARTNERS)]; return listReq(listBody(adminKs.get(pid), { nameLike: WORDS[Math.floor(Math.random() * WORDS.length)] }, 1)); },
  };
  const sampleList = {
    'mediaTypeEqual, random page': () => listReq(listBody(sampleAdminKs, { mediaTypeEqual: 1 }, 1)),
    'nameLike, first page': () => listReq(listBody(sampleAdminKs, { nameLike: 'Sample' }, 1)),
  };

  // the same lists on the big catalog with pages as large as the sample library's answers (set below)
  const sampleAnswerSize = {};
  const sameSize = {
    'mediaTypeEqual, random page': () => { const pid = shape.partnerIds[Math.floor(Math.random() * PARTNERS)]; return listReq(listBody(adminKs.get(pid), { mediaTypeEqual: 1 }, 1 + Math.floor(Math.random() * 100), sampleAnswerSize['mediaTypeEqual, random page'])); },
    'nameLike, first page': () => { const pid = shape.partnerIds[Math.floor(Math.random() * PARTNERS)]; return listReq(listBody(adminKs.get(pid), { nameLike: WORDS[Math.floor(Math.random() * WORDS.length)] }, 1, sampleAnswerSize['nameLike, first page'])); },
  };

  // every kind of request answers as it should before anything is measured
  const { request } = await import('./lib/load.mjs');
  const agent = new (await import('node:http')).Agent({ keepAlive: true });
  for (let i = 0; i < 40; i++) {
    for (const [s, d] of [['big direct', bigManifest()], ['sample direct', sampleManifest()]]) {
      const r = await request(agent, servers[s].url, d);
      if (!d.ok.includes(r.status)) throw new Error(`${s}: ${d.path.slice(0, 160)} answered ${r.status}`);
    }
  }
  for (const [s, kinds] of [['big as shipped', bigList], ['sample as shipped', sampleList]]) {
    for (const [name, make] of Object.entries(kinds)) {
      const r = await request(agent, servers[s].url, { ...make(), keepBody: true });
      const j = JSON.parse(r.body.toString());
      if (r.status !== 200 || !Array.isArray(j.objects) || !(j.totalCount > 0)) throw new Error(`${s} baseEntry.list ${name}: ${r.status} ${r.body.toString().slice(0, 300)}`);
      if (kinds === sampleList) sampleAnswerSize[name] = j.objects.length;
    }
  }
  console.log(`the sample library's lists answer ${Object.entries(sampleAnswerSize).map(([n, c]) => `${c} entries (${n})`).join(' and ')}; the big catalog's, 30`);
  agent.destroy();

  // ---- 3. measure: interleaved rounds, steady rate
  // playManifest at a steady rate; baseEntry.list one request at a time (a list on the big
  // catalog takes longer than a steady rate allows, and a queue would measure only itself)
  const steady = (rate) => (url, next, seconds) => steadyLoad(url, { rate, seconds, next });
  const oneAtATime = (url, next, seconds) => closedLoop(url, { seconds, next });
  const runs = [
    ...['direct', 'as shipped'].flatMap((m) => [[`playManifest, big catalog, ${m}`, `big ${m}`, bigManifest, steady(RATE)], [`playManifest, sample library, ${m}`, `sample ${m}`, sampleManifest, steady(RATE)]]),
    ...Object.keys(bigList).flatMap((name) => [[`baseEntry.list ${name}, big catalog`, 'big as shipped', bigList[name], oneAtATime], [`baseEntry.list ${name}, sample library`, 'sample as shipped', sampleList[name], oneAtATime], [`baseEntry.list ${name}, big catalog, same answer size`, 'big as shipped', sameSize[name], oneAtATime]]),
  ];
  for (const [, s, next, load] of runs) await load(servers[s].url, next, 2); // warm-up
  const rows = [];
  for (let round = 1; round <= rounds; round++) {
    for (const [name, s, next, load] of runs) {
      const meter = cpuMeter(servers[s].pid);
      const r = await load(servers[s].url, next, duration);
      const cpu = meter(r.done);
      if (r.bad || r.dropped) console.log(`  ${name}: ${r.bad} bad answers, ${r.dropped} not sent (too many in flight): ${r.errors.join('; ')}`);
      const row = { name, round, achieved: r.done / r.seconds, p50: percentile(r.latencies, 50), p99: percentile(r.latencies, 99), cpuUs: cpu.cpuUsPerReq, bad: r.bad, dropped: r.dropped, uptime: uptime() };
      rows.push(row);
      console.log(`  round ${round} ${name}: ${fmt(row.achieved)} req/s, p50 ${fmt(row.p50, 2)} ms, p99 ${fmt(row.p99, 2)} ms, server CPU ${fmtInt(row.cpuUs)} µs per answer${r.bad ? `, ${r.bad} bad` : ''}; ${uptime().replace(/.*load/, 'load')}`);
    }
  }
  for (const s of Object.values(servers)) s.rssEnd = rssBytes(s.pid);

  // ---- report
  console.log(`\nImport of ${imported.entries.toLocaleString('en')} entries with \`kdeliver import\` (${bigSteps.length} files after the sample library): ${fmt(imported.seconds / 60, 1)} min, ${fmtInt(imported.entries / imported.seconds)} entries/s; peak RSS of an import process ${mb(Math.max(...bigSteps.map((s) => s.peakRss)))} MB; the importer printed ${bigSteps[0]?.progress?.length ?? 0} progress lines on stderr for the first file (a line every 5 s on a pipe), then "${bigSteps[0]?.output.split('\n').pop()}"`);
  table([['file', 18], ['entries', 8], ['seconds', 8], ['entries/s', 9], ['peak RSS MB', 11]],
    bigSteps.map((s) => [s.file.split('/').pop(), fmtInt(s.entries), fmt(s.seconds, 1), fmtInt(s.entries / s.seconds), mb(s.peakRss)]));
  console.log('\nServers');
  table([['server', 18], ['start ms', 8], ['RSS at start MB', 15], ['RSS at end MB', 13]], Object.entries(servers).map(([k2, s]) => [k2, fmt(s.startMs), mb(s.rssStart), mb(s.rssEnd)]));
  console.log(`\nRuns of ${duration} s (playManifest at a steady ${RATE}/s; baseEntry.list one request at a time), latencies in ms`);
  table([['run', 76], ['round', 5], ['req/s', 6], ['p50', 7], ['p99', 7], ['CPU µs', 7], ['bad', 4]], rows.map((r) => [r.name, r.round, fmt(r.achieved), fmt(r.p50, 2), fmt(r.p99, 2), fmtInt(r.cpuUs), r.bad + r.dropped]));
  report.data.rows = rows;
  report.data.servers = Object.fromEntries(Object.entries(servers).map(([k2, s]) => [k2, { startMs: s.startMs, rssStart: s.rssStart, rssEnd: s.rssEnd }]));
  const ratioOf = (a, b, key) => {
    const xs = rows.filter((r) => r.name === a).map((r) => r[key]);
    const ys = rows.filter((r) => r.name === b).map((r) => r[key]);
    return { value: median(xs.map((x, i) => x / ys[i])), rounds: xs.map((x, i) => fmt(x / ys[i], 2)).join(', '), a: median(xs), b: median(ys) };
  };
  for (const m of ['direct', 'as shipped']) {
    for (const key of ['p50', 'p99']) {
      const q = ratioOf(`playManifest, big catalog, ${m}`, `playManifest, sample library, ${m}`, key);
      report.ratio(`playManifest ${key} ${m}, big catalog / sample library`, q.value, `${fmt(q.a, 2)} ms / ${fmt(q.b, 2)} ms; rounds ${q.rounds}; aim <= 1.2`);
    }
    // the server's own CPU per answer: what the catalog's size costs, without the load
    // generator's share of the two cores in the latencies (a steady rate's p50 swings by 2x
    // between rounds on this VM; bench/README.md, target 5, session 8)
    const c = ratioOf(`playManifest, big catalog, ${m}`, `playManifest, sample library, ${m}`, 'cpuUs');
    report.ratio(`playManifest server CPU per answer ${m}, big catalog / sample library`, c.value, `${fmtInt(c.a)} µs / ${fmtInt(c.b)} µs; rounds ${c.rounds}`);
  }
  for (const name of Object.keys(bigList)) {
    for (const key of ['p50', 'p99']) {
      const q = ratioOf(`baseEntry.list ${name}, big catalog`, `baseEntry.list ${name}, sample library`, key);
      report.ratio(`baseEntry.list ${name} ${key}, big catalog / sample library`, q.value, `${fmt(q.a, 2)} ms / ${fmt(q.b, 2)} ms; rounds ${q.rounds}; aim <= 1.5`);
      const s = ratioOf(`baseEntry.list ${name}, big catalog, same answer size`, `baseEntry.list ${name}, sample library`, key);
      report.ratio(`baseEntry.list ${name} ${key}, big catalog / sample library, same answer size (${sampleAnswerSize[name]} entries)`, s.value, `${fmt(s.a, 2)} ms / ${fmt(s.b, 2)} ms; rounds ${s.rounds}; aim <= 1.5`);
    }
  }
  report.ratio('RSS of the big-catalog server / the sample-library server (as shipped, after the runs)', servers['big as shipped'].rssEnd / servers['sample as shipped'].rssEnd, `${mb(servers['big as shipped'].rssEnd)} MB / ${mb(servers['sample as shipped'].rssEnd)} MB`);
  report.note(`import of ${imported.entries.toLocaleString('en')} entries: ${fmt(imported.seconds / 60, 1)} min (${fmtInt(imported.entries / imported.seconds)} entries/s; aim: minutes, with a progress bar)`);
} finally {
  for (const s of started) await s.stop().catch(() => {});
}
report.finish();
