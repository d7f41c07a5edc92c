// Issue 16 benchmark: encrypted vs clear segments per second, made in-process by the writers
// (compiled dist/, as the server runs them) from the 120 s 720p benchmark MP4, side by side:
// - HLS MPEG-TS 10 s segments: clear, AES-128 (whole segment), SAMPLE-AES (H.264 + AAC samples)
// - HLS fMP4 10 s segments: clear, AES-128
// - DASH 4 s video fragments: clear, cenc, cbcs (describeMediaSegment reads the samples first)
// - HLS fMP4 10 s muxed segments: clear, cenc
// Each segment is described and every byte produced through one open file handle (the server's
// handle cache), and the answer buffers go back to the pool as the server's recycleWhenSent does.
// Rounds alternate clear and encrypted runs of --duration seconds; the ratio printed is the
// median of the per-round ratios (aim >= 0.7 for AES-128 and CENC).
// Usage: node bench/encryption.mjs [--duration 2] [--rounds 5] [--no-build]
import { open } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { buildProject, distModule } from './lib/build.mjs';
import { loadAvg, printMachine } from './lib/machine.mjs';
import { benchMedia } from './lib/media.mjs';
import { median } from './lib/rounds.mjs';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '2' }, rounds: { type: 'string', default: '5' }, 'no-build': { type: 'boolean', default: false } } });
const duration = Number(values.duration);
const rounds = Number(values.rounds);
if (!values['no-build']) buildProject({ required: ['src/media/fmp4/writer.js', 'src/media/ts/writer.js', 'src/media/crypto/cenc.js'] });

const { readMediaIndex } = await import(distModule('src/media/mp4/reader.js'));
const { buildTimeline, flatPolicy, hlsPolicy } = await import(distModule('src/media/segment.js'));
const { tsSegment } = await import(distModule('src/media/ts/writer.js'));
const { describeMediaSegment } = await import(distModule('src/media/fmp4/writer.js'));
const { releaseOutput } = await import(distModule('src/media/body.js'));

printMachine();
const { segments: file } = benchMedia();
const index = await readMediaIndex(file, { maxMoovBytes: 64 << 20 });
const hls = buildTimeline(index, hlsPolicy(10000));
const dashVideo = buildTimeline(index, flatPolicy(4000), undefined, { video: true, audio: false });
const fh = await open(file, 'r');

const key = Buffer.from('2e12bc8bbc726374d07ee3626f50108f', 'hex');
const keyId = Buffer.from('b0eb8a17323924b6d8d36875aacb0b48', 'hex');
const iv = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
const systems = [{ name: 'clearkey' }];
const enc = {
  'aes-128': { scheme: 'aes-128', key, keyUri: 'https://example.com/key' },
  'sample-aes': { scheme: 'sample-aes', key, iv, keyUri: 'https://example.com/key' },
  cenc: { scheme: 'cenc', key, keyId, systems },
  cbcs: { scheme: 'cbcs', key, keyId, systems },
};

const describeTs = (tl, e) => (i) => tsSegment(tl, i, e ? { encryption: e, sequence: i + 1 } : undefined);
const describeFmp4 = (tl, e, dash) => (i) => describeMediaSegment(tl, tl.segments[i], { sequence: i + 1, dash, encryption: e }, fh);

/** Makes segments in turn for `seconds`; returns segments/s and MB/s. */
async function run(tl, describe, seconds) {
  const until = process.hrtime.bigint() + BigInt(Math.round(seconds * 1e9));
  let n = 0;
  let bytes = 0;
  const t0 = process.hrtime.bigint();
  for (let i = 0; process.hrtime.bigint() < until; i = (i + 1) % tl.segments.length) {
    const body = await describe(i);
    for await (const chunk of body.produce(fh, 0, body.length - 1)) {
      bytes += chunk.length;
      releaseOutput(chunk);
    }
    n++;
  }
  const s = Number(process.hrtime.bigint() - t0) / 1e9;
  return { perSec: n / s, mbPerSec: bytes / s / 1e6 };
}

const cases = [
  { name: 'HLS TS 10 s, AES-128', tl: hls, clear: describeTs(hls), encrypted: describeTs(hls, enc['aes-128']), aim: 0.7 },
  { name: 'HLS TS 10 s, SAMPLE-AES', tl: hls, clear: describeTs(hls), encrypted: describeTs(hls, enc['sample-aes']) },
  { name: 'HLS fMP4 10 s, AES-128', tl: hls, clear: describeFmp4(hls, undefined, false), encrypted: describeFmp4(hls, enc['aes-128'], false), aim: 0.7 },
  { name: 'HLS fMP4 10 s, cenc', tl: hls, clear: describeFmp4(hls, undefined, false), encrypted: describeFmp4(hls, enc.cenc, false), aim: 0.7 },
  { name: 'DASH video 4 s, cenc', tl: dashVideo, clear: describeFmp4(dashVideo, undefined, true), encrypted: describeFmp4(dashVideo, enc.cenc, true), aim: 0.7 },
  { name: 'DASH video 4 s, cbcs', tl: dashVideo, clear: describeFmp4(dashVideo, undefined, true), encrypted: describeFmp4(dashVideo, enc.cbcs, true), aim: 0.7 },
];

const rows = [];
try {
  for (const c of cases) {
    await run(c.tl, c.clear, 0.5); // warm-up: JIT, page cache, buffer pools
    await run(c.tl, c.encrypted, 0.5);
    const ratios = [];
    for (let r = 1; r <= rounds; r++) {
      const clear = await run(c.tl, c.clear, duration);
      const encrypted = await run(c.tl, c.encrypted, duration);
      ratios.push(encrypted.perSec / clear.perSec);
      rows.push({ name: c.name, round: r, clear, encrypted, load: loadAvg().split(' ')[0] });
    }
    c.ratio = median(ratios);
    c.ratios = ratios;
  }
} finally {
  await fh.close();
}

console.log(`\nSegments made in-process by the writers from a 120 s 720p MP4 (${hls.segments.length} HLS segments, ${dashVideo.segments.length} DASH video fragments), ${duration} s per run`);
console.log('case                          round   clear seg/s   MB/s   encrypted seg/s   MB/s   ratio  load');
for (const r of rows) {
  console.log(`${r.name.padEnd(30)}${String(r.round).padStart(4)}${r.clear.perSec.toFixed(1).padStart(14)}${r.clear.mbPerSec.toFixed(0).padStart(7)}${r.encrypted.perSec.toFixed(1).padStart(18)}${r.encrypted.mbPerSec.toFixed(0).padStart(7)}${(r.encrypted.perSec / r.clear.perSec).toFixed(2).padStart(8)}  ${r.load}`);
}
for (const c of cases) {
  console.log(`ratio ${c.name}: encrypted/clear = ${c.ratio.toFixed(2)} (median of ${c.ratios.length} rounds: ${c.ratios.map((x) => x.toFixed(2)).join(', ')}${c.aim ? `; aim >= ${c.aim}` : ''})`);
}
console.log(`load average at end: ${loadAvg()}`);
