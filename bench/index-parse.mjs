// Cold index parse time and memory per cached index, for a 2-hour MP4 (lib/media.mjs says how
// it is made), using the packager's own moov reader (src/media/mp4/reader.ts, compiled), with
// mp4box.js on the same moov for comparison; then the same file fragmented (its moofs read by
// src/media/mp4/fragments.ts), for which no aim is set. Method of the reference (§6): time with
// process.hrtime.bigint(), memory as heapUsed + arrayBuffers after a forced GC.
// Usage: node bench/index-parse.mjs   (re-runs itself with --expose-gc)
import { spawnSync } from 'node:child_process';
import { openSync, readSync, closeSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { buildProject, distModule } from './lib/build.mjs';
import { benchMedia } from './lib/media.mjs';
import { median } from './lib/rounds.mjs';
import { printMachine } from './lib/machine.mjs';
import { startReport } from './lib/results.mjs';
import { benchArgs } from './lib/args.mjs';

// --no-build is its only option; anything else is a usage error before anything is made
const { values } = benchArgs({ options: { 'no-build': { type: 'boolean', default: false } } });
if (typeof globalThis.gc !== 'function') {
  benchMedia();
  if (!values['no-build']) buildProject({ required: ['src/media/mp4/reader.js'] });
  const r = spawnSync(process.execPath, ['--expose-gc', fileURLToPath(import.meta.url), ...process.argv.slice(2)], { stdio: 'inherit' });
  process.exit(r.status ?? 1);
}

const report = startReport('index');
printMachine();
const { readMediaIndex, parseMoov } = await import(distModule('src/media/mp4/reader.js'));
const { long, longFragmented } = benchMedia();
const MAX_MOOV = 256 * 1024 * 1024;
const ms = (ns) => Number(ns) / 1e6;
// after a turn of the event loop: until then the last read's moov buffer is still referenced,
// and a measurement taken before it would charge (or credit) one moov to the indexes
const mem = async () => {
  await new Promise((r) => setTimeout(r, 10));
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
};

// The moov of a faststart file follows ftyp: read just ftyp + moov, as the server does
function readMoov(path) {
  const fd = openSync(path, 'r');
  try {
    const head = Buffer.alloc(16);
    let pos = 0;
    for (;;) {
      readSync(fd, head, 0, 16, pos);
      let size = head.readUInt32BE(0);
      const type = head.toString('latin1', 4, 8);
      let hdr = 8;
      if (size === 1) { size = Number(head.readBigUInt64BE(8)); hdr = 16; }
      if (type === 'moov') {
        // ftyp and everything up to the end of moov: what mp4box needs to reach onReady
        const head = Buffer.allocUnsafe(pos + size);
        readSync(fd, head, 0, pos + size, 0);
        return { head, moovSize: size, payload: head.subarray(pos + hdr) };
      }
      pos += size;
    }
  } finally {
    closeSync(fd);
  }
}

const fileSize = statSync(long).size;
const { head, moovSize, payload } = readMoov(long);

// 1. cold: first parse in a fresh process (no JIT warm-up), through the server's entry point,
// with the file's pages dropped from the page cache first (GNU dd's nocache flag), so the moov
// comes from the disk as it does for an asset nobody asked for since boot
const dropped = spawnSync('dd', [`if=${long}`, 'iflag=nocache', 'count=0', 'status=none']).status === 0;
let t0 = process.hrtime.bigint();
let index = await readMediaIndex(long, { maxMoovBytes: MAX_MOOV });
const firstMs = ms(process.hrtime.bigint() - t0);
const video = index.tracks.find((t) => t.kind === 'video');
const audio = index.tracks.find((t) => t.kind === 'audio');

// 2. repeated: read + parse, and parse alone (moov already in memory)
const readParse = [];
const parseOnly = [];
const decodeAll = [];
for (let i = 0; i < 7; i++) {
  t0 = process.hrtime.bigint();
  await readMediaIndex(long, { maxMoovBytes: MAX_MOOV });
  readParse.push(ms(process.hrtime.bigint() - t0));
  // a moov of its own, as the server's read gives the parser (its tables are converted in place)
  const own = Buffer.from(payload);
  t0 = process.hrtime.bigint();
  const parsed = parseMoov(own, fileSize, { own: true });
  parseOnly.push(ms(process.hrtime.bigint() - t0));
  // what the first segment adds: every per-sample table decoded (src/media/mp4/track.ts)
  t0 = process.hrtime.bigint();
  for (const t of parsed.tracks) { t.size[0]; t.offset[0]; t.dts[0]; t.cto?.[0]; }
  decodeAll.push(ms(process.hrtime.bigint() - t0));
}

// 3. memory per cached index: hold several parsed indexes, divide the growth
index = null;
const K = 5;
const before = await mem();
const held = [];
// through readMediaIndex, as the server's cache fills: whatever the index keeps alive counts
for (let i = 0; i < K; i++) held.push(await readMediaIndex(long, { maxMoovBytes: MAX_MOOV }));
const perIndex = (await mem() - before) / K;
const selfReported = held[0].bytes;
// then as segments are cut: every per-sample table decoded (src/media/mp4/track.ts)
for (const idx of held) for (const t of idx.tracks) { t.size[0]; t.offset[0]; t.dts[0]; t.cto?.[0]; }
const perIndexDecoded = (await mem() - before) / K;
const selfReportedDecoded = held[0].bytes;
// Views (Buffer.slice) into the moov read keep all of it alive with the index
const keepsMoov = held[0].tracks.some((t) => [t.sampleEntry, t.codecConfig, ...t.parameterSets].some((a) => a.buffer.byteLength >= held[0].moovSize - 16));
held.length = 0;

// 4. mp4box.js on the same ftyp+moov bytes, for comparison with the reference's figures
const { default: MP4Box } = await import('mp4box');
MP4Box.Log.setLogLevel(MP4Box.Log.error);
const mp4boxParse = () => {
  const f = MP4Box.createFile();
  let ready = false;
  f.onReady = () => (ready = true);
  const ab = head.buffer.slice(head.byteOffset, head.byteOffset + head.length);
  ab.fileStart = 0;
  f.appendBuffer(ab);
  f.flush();
  if (!ready) throw new Error('mp4box did not reach onReady');
  return f;
};
const boxBefore = await mem();
t0 = process.hrtime.bigint();
let boxFile = mp4boxParse();
const boxFirst = ms(process.hrtime.bigint() - t0);
const boxHeap = (await mem()) - boxBefore;
boxFile = null;
t0 = process.hrtime.bigint();
mp4boxParse();
const boxSecond = ms(process.hrtime.bigint() - t0);

// 5. the same samples, fragmented: the moov and 3,600 moofs, cold in a fresh process and warm here
const fragmentedCold = () => {
  const code = `const { readMediaIndex } = await import(${JSON.stringify(distModule('src/media/mp4/reader.js'))});
    const t0 = process.hrtime.bigint(); await readMediaIndex(${JSON.stringify(longFragmented)}, { maxMoovBytes: ${MAX_MOOV} });
    console.log(Number(process.hrtime.bigint() - t0) / 1e6);`;
  spawnSync('dd', [`if=${longFragmented}`, 'iflag=nocache', 'count=0', 'status=none']);
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', code], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`fragmented cold parse: ${r.stderr}`);
  return Number(r.stdout.trim());
};
const fragCold = [fragmentedCold(), fragmentedCold(), fragmentedCold()];
const fragWarm = [];
for (let i = 0; i < 5; i++) {
  t0 = process.hrtime.bigint();
  await readMediaIndex(longFragmented, { maxMoovBytes: MAX_MOOV });
  fragWarm.push(ms(process.hrtime.bigint() - t0));
}
const fragBefore = await mem();
const fragHeld = [];
for (let i = 0; i < K; i++) fragHeld.push(await readMediaIndex(longFragmented, { maxMoovBytes: MAX_MOOV }));
const fragPerIndex = (await mem() - fragBefore) / K;
const fragSelf = fragHeld[0].bytes;
fragHeld.length = 0;

const mb = (b) => (b / 1e6).toFixed(1);
console.log(`2-hour file: ${long}`);
console.log(`  ${mb(fileSize)} MB, moov ${moovSize.toLocaleString('en')} bytes, ${video.count.toLocaleString('en')} video samples (${video.sync ? video.sync.length.toLocaleString('en') : 'all'} sync), ${audio.count.toLocaleString('en')} audio samples`);
console.log(`kdeliver index (src/media/mp4/reader.ts):`);
console.log(`  cold parse, first in a fresh process (read moov + parse${dropped ? ', file dropped from the page cache' : ''}): ${firstMs.toFixed(1)} ms`);
console.log(`  read + parse, median of 7 warm runs:                   ${median(readParse).toFixed(1)} ms (min ${Math.min(...readParse).toFixed(1)})`);
console.log(`  parse only (moov in memory), median of 7:               ${median(parseOnly).toFixed(1)} ms (min ${Math.min(...parseOnly).toFixed(1)})`);
console.log(`  decode every per-sample table (the first segment), median of 7: ${median(decodeAll).toFixed(1)} ms (min ${Math.min(...decodeAll).toFixed(1)})`);
console.log(`  memory per cached index (heap + array buffers, ${K} held): ${mb(perIndex)} MB; index.bytes (what the LRU counts) says ${mb(selfReported)} MB`);
console.log(`  ... once segments decoded every per-sample table:       ${mb(perIndexDecoded)} MB; index.bytes says ${mb(selfReportedDecoded)} MB`);
if (keepsMoov) console.log(`  note: each cached index keeps its whole ${mb(moovSize)} MB moov buffer alive (sampleEntry/codecConfig are views into it)`);
console.log(`mp4box.js ${JSON.parse((await import('node:fs')).readFileSync(new URL('../node_modules/mp4box/package.json', import.meta.url), 'utf8')).version} on the same moov:`);
console.log(`  first ${boxFirst.toFixed(0)} ms, second ${boxSecond.toFixed(0)} ms, +${mb(boxHeap)} MB retained`);
console.log(`the same samples fragmented (${longFragmented}, ${mb(statSync(longFragmented).size)} MB):`);
console.log(`  cold parse, a fresh process each (moov + every moof + parse), median of 3: ${median(fragCold).toFixed(1)} ms (${fragCold.map((x) => x.toFixed(1)).join(', ')})`);
console.log(`  read + parse, median of 5 warm runs:                   ${median(fragWarm).toFixed(1)} ms (min ${Math.min(...fragWarm).toFixed(1)})`);
console.log(`  memory per cached index (${K} held): ${mb(fragPerIndex)} MB; index.bytes says ${mb(fragSelf)} MB`);
report.data.fragmented = { coldMs: fragCold, warmMs: fragWarm, perIndexBytes: fragPerIndex, selfReportedBytes: fragSelf };
report.note(`the 2-hour file fragmented: cold parse ${median(fragCold).toFixed(1)} ms (median of 3 fresh processes), warm ${median(fragWarm).toFixed(1)} ms, ${mb(fragPerIndex)} MB per cached index; no aim`);
Object.assign(report.data, { fileSize, moovSize, coldMs: firstMs, dropped, readParseMs: readParse, parseOnlyMs: parseOnly, decodeAllMs: decodeAll, perIndexBytes: perIndex, selfReportedBytes: selfReported, perIndexDecodedBytes: perIndexDecoded, selfReportedDecodedBytes: selfReportedDecoded, keepsMoov, mp4box: { firstMs: boxFirst, secondMs: boxSecond, retainedBytes: boxHeap } });
if (!dropped) report.note('the file could not be dropped from the page cache (dd iflag=nocache failed): the cold parse read it from memory');
report.ratio('cold index parse of the 2-hour file, ms / 50 ms (the aim)', firstMs / 50, `${firstMs.toFixed(1)} ms; aim < 1.0`);
report.ratio('memory per cached index, MB / 8 MB (the aim)', Math.max(perIndex, perIndexDecoded) / 8e6, `${mb(perIndex)} MB measured after a playlist (${mb(selfReported)} MB counted by the LRU), ${mb(perIndexDecoded)} MB with every table decoded (${mb(selfReportedDecoded)} MB counted); aim <= 1.0`);
report.ratio('cold parse mp4box.js / kdeliver', boxFirst / firstMs, `kdeliver ${(boxFirst / firstMs).toFixed(1)}x faster, ${(boxHeap / perIndex).toFixed(1)}x less memory`);
report.finish();
