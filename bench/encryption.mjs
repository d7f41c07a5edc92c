// Issue 16 benchmark: encrypted vs clear segments per second through the writers (compiled dist/,
// as the server runs them), from the 120 s 720p benchmark MP4, side by side:
// - HLS MPEG-TS 10 s segments: clear, AES-128 (whole segment), SAMPLE-AES (H.264 + AAC samples)
// - HLS fMP4 10 s segments: clear, AES-128, cenc (muxed: video subsamples, whole audio samples)
// - DASH 4 s video fragments: clear, cenc, cbcs (describeMediaSegment reads the samples first)
// In-process (the default): each segment is described and every byte produced through one open
// file handle, and answer buffers go back to the pool as the server's recycleWhenSent does.
// Rates are per second of wall time and per second of this process's CPU time (all its threads,
// process.cpuUsage): on a machine shared with other work the second is what the writers cost, the
// first what they happened to get. The ratio is taken on CPU time.
// With --http, the same cases are also served by a child process (lib/writer-server.mjs: plain
// node:http, bodyStream, handle cache) and loaded with wrk -t1 -c20 over every segment in turn,
// as bench/segments.mjs loads kdeliver: the ratio a served segment sees, HTTP costs included.
// Rounds alternate clear and encrypted runs; ratios are medians of the per-round ratios
// (aim >= 0.7 for AES-128 and CENC).
// Usage: node bench/encryption.mjs [--duration 2] [--rounds 5] [--http] [--http-duration 5] [--no-build]
import { join } from 'node:path';
import { buildProject, distModule } from './lib/build.mjs';
import { benchCases } from './lib/encryption-cases.mjs';
import { loadAvg, printMachine } from './lib/machine.mjs';
import { benchMedia } from './lib/media.mjs';
import { benchDir } from './lib/paths.mjs';
import { freePort, startProcess } from './lib/procs.mjs';
import { median } from './lib/rounds.mjs';
import { benchArgs, positiveNumber, usageOf, wholeNumber } from './lib/args.mjs';
import { requireCommands } from './lib/system.mjs';
import { wrk } from './lib/wrk.mjs';

const options = {
  duration: { type: 'string', default: '2' },
  rounds: { type: 'string', default: '5' },
  http: { type: 'boolean', default: false },
  'http-duration': { type: 'string', default: '5' },
  'no-build': { type: 'boolean', default: false },
};
const usage = usageOf(options);
const { values } = benchArgs({ options }, usage);
const duration = positiveNumber('duration', values.duration, usage);
const rounds = wholeNumber('rounds', values.rounds, usage);
positiveNumber('http-duration', values['http-duration'], usage);
if (!values['no-build']) buildProject({ required: ['src/media/fmp4/writer.js', 'src/media/ts/writer.js', 'src/media/crypto/cenc.js'] });
if (values.http) requireCommands(['wrk'], 'wrk');

const { readMediaIndex } = await import(distModule('src/media/mp4/reader.js'));
const { buildTimeline, flatPolicy, hlsPolicy } = await import(distModule('src/media/segment.js'));
const { tsSegment } = await import(distModule('src/media/ts/writer.js'));
const { describeMediaSegment } = await import(distModule('src/media/fmp4/writer.js'));
const { openFileSource } = await import(distModule('src/media/source.js'));
const { releaseOutput, setSegmentCacheBytes } = await import(distModule('src/media/body.js'));
// the writers compared as they make a segment: with the segment answer cache on, a clear segment
// is a kept copy after its first run (encrypted ones are never kept), and the ratio meaningless
setSegmentCacheBytes(0);

printMachine();
const { segments: file } = benchMedia();
const index = await readMediaIndex(file, { maxMoovBytes: 64 << 20 });
const { source: fh, close: closeSource } = await openFileSource(file);
const cases = [...benchCases({ index, buildTimeline, flatPolicy, hlsPolicy, tsSegment, describeMediaSegment, fh }).values()];

/** Makes segments in turn for `seconds`. */
async function run(c, describe, seconds) {
  const until = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  let n = 0;
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  for (let i = 0; process.hrtime.bigint() < until; i = (i + 1) % c.tl.segments.length) {
    const body = await describe(i);
    for await (const chunk of body.produce(fh, 0, body.length - 1)) {
      bytes += chunk.length;
      releaseOutput(chunk);
    }
    n++;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  const cpu = process.cpuUsage(cpu0);
  const cpuS = (cpu.user + cpu.system) / 1e6;
  return { perSec: n / s, mbPerSec: bytes / s / 1e6, perCpuSec: n / cpuS, cpuShare: cpuS / s };
}

const rows = [];
try {
  for (const c of cases) {
    await run(c, c.clear, 0.5); // warm-up: JIT, page cache, buffer pools
    await run(c, c.encrypted, 0.5);
    c.ratios = [];
    for (let r = 1; r <= rounds; r++) {
      const clear = await run(c, c.clear, duration);
      const encrypted = await run(c, c.encrypted, duration);
      c.ratios.push(encrypted.perCpuSec / clear.perCpuSec);
      rows.push({ name: c.label, round: r, clear, encrypted, load: loadAvg().split(' ')[0] });
    }
  }
} finally {
  await closeSource();
}

const f = (x, w) => x.toFixed(0).padStart(w);
console.log(`\nIn-process: segments made by the writers from a 120 s 720p MP4 (${cases[0].tl.segments.length} HLS segments, ${cases.at(-1).tl.segments.length} DASH video fragments), ${duration} s per run`);
console.log('seg/s per second of wall time (per second of CPU time); cpu: share of a core the process got');
console.log('case                          round   clear seg/s (cpu)     MB/s  cpu   encrypted seg/s (cpu)     MB/s  cpu   ratio(cpu)  load');
for (const r of rows) {
  console.log(`${r.name.padEnd(30)}${String(r.round).padStart(4)}${f(r.clear.perSec, 13)} (${f(r.clear.perCpuSec, 5)})${f(r.clear.mbPerSec, 9)}${r.clear.cpuShare.toFixed(2).padStart(5)}${f(r.encrypted.perSec, 17)} (${f(r.encrypted.perCpuSec, 5)})${f(r.encrypted.mbPerSec, 9)}${r.encrypted.cpuShare.toFixed(2).padStart(5)}${(r.encrypted.perCpuSec / r.clear.perCpuSec).toFixed(2).padStart(12)}  ${r.load}`);
}
for (const c of cases) {
  console.log(`ratio in-process ${c.label}: encrypted/clear per CPU second = ${median(c.ratios).toFixed(2)} (median of ${c.ratios.length} rounds: ${c.ratios.map((x) => x.toFixed(2)).join(', ')}${c.aim ? `; aim >= ${c.aim}` : ''})`);
}

if (values.http) {
  const httpDuration = Number(values['http-duration']);
  const port = await freePort();
  const server = await startProcess('writer server', process.execPath, [join(benchDir, 'lib', 'writer-server.mjs'), file, String(port)], { ready: /listening on http:\/\// });
  const base = `http://127.0.0.1:${port}`;
  const httpRows = [];
  try {
    for (const c of cases) {
      const paths = (kind) => c.tl.segments.map((_, i) => `/${c.name}/${kind}/${i}`);
      for (const kind of ['clear', 'enc']) {
        const r = await fetch(base + paths(kind)[1]);
        const bytes = (await r.arrayBuffer()).byteLength;
        if (r.status !== 200 || bytes < 100_000) throw new Error(`${c.name} ${kind}: HTTP ${r.status}, ${bytes} bytes`);
        await wrk(base, paths(kind), { connections: 20, duration: 1 }); // warm-up
      }
      c.httpRatios = [];
      for (let round = 1; round <= Math.min(rounds, 3); round++) {
        const clear = await wrk(base, paths('clear'), { connections: 20, duration: httpDuration });
        const enc = await wrk(base, paths('enc'), { connections: 20, duration: httpDuration });
        if (clear.non2xx || enc.non2xx) throw new Error(`${c.name}: non-2xx answers`);
        c.httpRatios.push(enc.reqPerSec / clear.reqPerSec);
        httpRows.push({ name: c.label, round, clear, enc, load: loadAvg().split(' ')[0] });
      }
    }
  } finally {
    await server.stop();
  }
  console.log(`\nHTTP: the same segments served by one node:http process (lib/writer-server.mjs), wrk -t1 -c20, ${httpDuration} s per run`);
  console.log('case                          round   clear req/s    MB/s   p50 ms   encrypted req/s    MB/s   p50 ms   ratio  load');
  for (const r of httpRows) {
    console.log(`${r.name.padEnd(30)}${String(r.round).padStart(4)}${f(r.clear.reqPerSec, 13)}${f(r.clear.mbPerSec, 8)}${r.clear.p50ms.toFixed(1).padStart(9)}${f(r.enc.reqPerSec, 17)}${f(r.enc.mbPerSec, 8)}${r.enc.p50ms.toFixed(1).padStart(9)}${(r.enc.reqPerSec / r.clear.reqPerSec).toFixed(2).padStart(8)}  ${r.load}`);
  }
  for (const c of cases) {
    console.log(`ratio HTTP ${c.label}: encrypted/clear req/s = ${median(c.httpRatios).toFixed(2)} (median of ${c.httpRatios.length} rounds: ${c.httpRatios.map((x) => x.toFixed(2)).join(', ')}${c.aim ? `; aim >= ${c.aim}` : ''})`);
  }
}
console.log(`load average at end: ${loadAvg()}`);
