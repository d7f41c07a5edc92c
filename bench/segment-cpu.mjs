// Issue 17 target 3: the packager's CPU per segment, in-process (no HTTP, no socket), so the
// figure is what the writers cost whatever else the machine runs. Each build named by --dist
// (default: this tree's dist/) makes every segment of the 120 s 720p benchmark MP4 in turn:
// HLS MPEG-TS 10 s, HLS fMP4 10 s, DASH 10 s video and audio fragments. Builds alternate within
// each round; CPU is this process's user + system time (process.cpuUsage: all threads, the
// preads of libuv's pool included) divided by the segments made. Answer buffers go back to the
// pool as the server's recycleWhenSent does. The segment answer cache, when a build has one, is
// off for the "made" figures (every answer is produced) and on for the "cached" row.
// Usage: node bench/segment-cpu.mjs [--dist DIR]... [--rounds 5] [--seconds 2] [--kinds ts,fmp4,dash-video,dash-audio] [--skip-cached]
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadAvg } from './lib/machine.mjs';
import { benchMedia } from './lib/media.mjs';
import { projectRoot } from './lib/paths.mjs';
import { median } from './lib/rounds.mjs';
import { benchArgs, positiveNumber, usageError, wholeNumber } from './lib/args.mjs';

const usage = 'usage: node bench/segment-cpu.mjs [--dist DIR]... [--rounds 5] [--seconds 2] [--kinds ts,fmp4,dash-video,dash-audio] [--skip-cached]';
const { values } = benchArgs({
  options: {
    dist: { type: 'string', multiple: true },
    rounds: { type: 'string', default: '5' },
    seconds: { type: 'string', default: '2' },
    kinds: { type: 'string', default: 'ts,fmp4,dash-video,dash-audio' },
    'skip-cached': { type: 'boolean', default: false },
  },
}, usage);
const dists = (values.dist ?? [join(projectRoot, 'dist')]).map((d) => resolve(d));
const rounds = wholeNumber('rounds', values.rounds, usage);
const seconds = positiveNumber('seconds', values.seconds, usage);
const kinds = values.kinds.split(',');
const knownKinds = ['ts', 'fmp4', 'dash-video', 'dash-audio'];
for (const k of kinds) if (!knownKinds.includes(k)) usageError(`--kinds: unknown kind ${JSON.stringify(k)} (known: ${knownKinds.join(', ')})`, usage);

const { segments: file } = benchMedia();

async function load(dist) {
  const m = (p) => import(pathToFileURL(join(dist, p)).href);
  const { readMediaIndex } = await m('src/media/mp4/reader.js');
  const { buildTimeline, flatPolicy, hlsPolicy } = await m('src/media/segment.js');
  const { tsSegment } = await m('src/media/ts/writer.js');
  const { mediaSegment } = await m('src/media/fmp4/writer.js');
  const { openFileSource } = await m('src/media/source.js');
  const body = await m('src/media/body.js');
  const index = await readMediaIndex(file, { maxMoovBytes: 64 << 20 });
  const hls = buildTimeline(index, hlsPolicy(10000));
  const dv = buildTimeline(index, flatPolicy(10000), undefined, { video: true, audio: false });
  const da = buildTimeline(index, flatPolicy(10000), undefined, { video: false, audio: true });
  const { source } = await openFileSource(file);
  const cases = {
    ts: { tl: hls, make: (i) => tsSegment(hls, i) },
    fmp4: { tl: hls, make: (i) => mediaSegment(hls, hls.segments[i], { sequence: i + 1, dash: false }) },
    'dash-video': { tl: dv, make: (i) => mediaSegment(dv, dv.segments[i], { sequence: i + 1, dash: true }) },
    'dash-audio': { tl: da, make: (i) => mediaSegment(da, da.segments[i], { sequence: i + 1, dash: true }) },
  };
  return { dist, source, cases, body };
}

async function run(build, kind, secs, cached) {
  build.body.setSegmentCacheBytes?.(cached ? 256 << 20 : 0);
  const c = build.cases[kind];
  const until = process.hrtime.bigint() + BigInt(Math.round(secs * 1e9));
  let n = 0;
  const cpu0 = process.cpuUsage();
  for (let i = 0; process.hrtime.bigint() < until; i = (i + 1) % c.tl.segments.length) {
    const body = c.make(i);
    for await (const chunk of body.produce(build.source, 0, body.length - 1)) build.body.releaseOutput(chunk);
    n++;
  }
  const cpu = process.cpuUsage(cpu0);
  return { ms: (cpu.user + cpu.system) / 1000 / n, userMs: cpu.user / 1000 / n, n };
}

const builds = [];
for (const d of dists) builds.push(await load(d));
const results = new Map();
console.log(`uptime: ${loadAvg()}; ${file}; ${seconds} s per run, ${rounds} rounds`);
for (const b of builds) for (const k of kinds) await run(b, k, 0.5, false); // JIT, page cache, pools
for (let r = 1; r <= rounds; r++) {
  const line = [];
  for (const k of kinds) {
    for (const b of r % 2 ? builds : [...builds].reverse()) {
      const x = await run(b, k, seconds, false);
      const key = `${b.dist}\0${k}`;
      if (!results.has(key)) results.set(key, []);
      results.get(key).push(x.ms);
      line.push(`${k}@${builds.indexOf(b)} ${x.ms.toFixed(3)}`);
    }
  }
  console.log(`round ${r} (load ${loadAvg().split(' ')[0]}): ${line.join('  ')}`);
}
console.log('\nCPU ms per segment made (median of rounds; user+sys, process.cpuUsage)');
for (const k of kinds) {
  const base = results.get(`${builds[0].dist}\0${k}`);
  // each build against the first, round by round (the rounds ran side by side), then the median
  const ratio = (b) => median(results.get(`${b.dist}\0${k}`).map((x, r) => x / base[r])).toFixed(2);
  console.log(`${k.padEnd(11)} ${builds.map((b, i) => `[${i}] ${median(results.get(`${b.dist}\0${k}`)).toFixed(3)}${i ? ` (x${ratio(b)} of [0])` : ''}`).join('   ')}`);
}
for (const b of builds) {
  if (!b.body.setSegmentCacheBytes || values['skip-cached']) continue;
  const row = [];
  for (const k of kinds) {
    await run(b, k, 0.3, true);
    row.push(`${k} ${(await run(b, k, seconds, true)).ms.toFixed(3)}`);
  }
  console.log(`[${builds.indexOf(b)}] answers from the segment cache: ${row.join('  ')}`);
}
builds.forEach((b, i) => console.log(`[${i}] = ${b.dist}`));
console.log(`uptime: ${loadAvg()}`);
