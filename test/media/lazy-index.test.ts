// The index decodes its per-sample tables on first use (src/media/mp4/track.ts): the values it
// gives must be mp4box.js's on real files (the sample files and the benchmark's 2-hour file),
// the stts-run lookups must agree with a search over the decoded table, a playlist must not
// decode anything, and the bytes an index (and the index cache) says it holds must be what a
// process really holds, measured after a forced GC in a child process.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseMoov, readMediaIndex } from '../../src/media/mp4/reader.js';
import { dtsAt, firstSampleFrom, isKeyFrame, type MediaIndex, type TrackIndex } from '../../src/media/mp4/index-types.js';
import { createIndexCache } from '../../src/media/index-cache.js';
import { buildTimeline, hlsPolicy, flatPolicy } from '../../src/media/segment.js';
import { MediaError } from '../../src/media/errors.js';
import { requireCommands } from '../helpers/system.js';
import { mp4box, sample } from './helpers.js';
import { repoPath, runnableArgs, runnableModule } from '../helpers/repo.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-lazy-index-'));

/** The benchmark's media (bench/lib/media.mjs makes it with ffmpeg when missing). */
async function benchFiles(t: Test): Promise<{ long: string; segments: string; base: string }> {
  requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
  const { benchMedia } = await import(pathToFileURL(repoPath('bench/lib/media.mjs')).href);
  return benchMedia();
}

/** Every sample's offset, size, dts, cts and sync flag against mp4box.js; reads tables in the order a segment does. */
function compareWithMp4box(t: Test, name: string, idx: MediaIndex, bytes: Uint8Array): void {
  const ref = mp4box(bytes);
  t.equal(idx.tracks.length, ref.info.tracks.length, `${name}: track count`);
  for (const [k, track] of idx.tracks.entries()) {
    const rs = ref.samples(ref.info.tracks[k].id);
    t.equal(track.count, rs.length, `${name}#${track.id}: sample count`);
    let bad = 0;
    let badRuns = 0;
    for (let i = 0; i < rs.length; i++) {
      if (dtsAt(track, i) !== rs[i].dts) badRuns++;
      if (track.offset[i] !== rs[i].offset || track.size[i] !== rs[i].size || track.dts[i] !== rs[i].dts
        || track.dts[i] + (track.cto ? track.cto[i] : 0) !== rs[i].cts || isKeyFrame(track, i) !== rs[i].is_sync) bad++;
    }
    t.equal(badRuns, 0, `${name}#${track.id}: dts from the stts runs agree`);
    t.equal(bad, 0, `${name}#${track.id}: decoded offsets, sizes, dts, cts and sync agree`);
    t.equal(dtsAt(track, track.count), rs[rs.length - 1].dts + rs[rs.length - 1].duration, `${name}#${track.id}: the track's end`);
  }
}

/** First sample i with !before(dts[i]), by a plain binary search over the decoded table. */
function searchDecoded(tr: TrackIndex, before: (d: number) => boolean): number {
  let lo = 0;
  let hi = tr.count;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (before(tr.dts[mid])) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function compareSearches(t: Test, name: string, idx: MediaIndex): void {
  for (const tr of idx.tracks) {
    let bad = 0;
    let n = 0;
    const step = Math.max(1, Math.floor(tr.count / 2000));
    for (let i = 0; i <= tr.count; i += step) {
      const d = dtsAt(tr, i);
      // on a sample's time, just before and after it, and half-way (the segmenter's epsilons)
      for (const x of [d, d - 1e-6, d + 1e-6, d + 0.5, d - 1, -1, tr.endDts + 1]) {
        n++;
        if (firstSampleFrom(tr, x) !== searchDecoded(tr, (v) => v < x)) bad++;
        if (firstSampleFrom(tr, x, tr.mediaTimeOffset) !== searchDecoded(tr, (v) => v - tr.mediaTimeOffset < x)) bad++;
      }
    }
    t.equal(bad, 0, `${name}#${tr.id}: ${n} run searches agree with a search of the decoded table`);
  }
}

t.test('sample files: lazily decoded tables are mp4box.js\'s, run lookups match the table', async (t) => {
  for (const name of ['h264-240p.mp4', 'h264-360p.mp4', 'h264-720p.mp4', 'source-720p.mp4', 'alt-audio-eng.mp4', 'alt-audio-spa.mp4', 'audio-128k.mp4', 'mobile-144p.3gp']) {
    const file = sample(name);
    const idx = await readMediaIndex(file, BIG);
    compareWithMp4box(t, name, idx, readFileSync(file));
    compareSearches(t, name, idx);
  }
});

t.test('benchmark files (2-hour, 120 s 720p): same values as mp4box.js, and a playlist decodes nothing', async (t) => {
  const media = await benchFiles(t);
  for (const file of [media.long, media.segments]) {
    const idx = await readMediaIndex(file, BIG);
    const before = idx.bytes;
    const hls = buildTimeline(idx, hlsPolicy(10000));
    buildTimeline(idx, flatPolicy(4000));
    t.equal(idx.bytes, before, `${file}: building the timelines decoded no per-sample table`);
    t.ok(hls.segments.length > 10, `${file}: ${hls.segments.length} segments`);
    // the timelines once every table is decoded are the same
    compareWithMp4box(t, file, idx, readFileSync(file));
    t.ok(idx.bytes > before, `${file}: decoding the tables is counted (${before} -> ${idx.bytes} bytes)`);
    t.same(buildTimeline(idx, hlsPolicy(10000)).segments, hls.segments, `${file}: same segments before and after decoding`);
    compareSearches(t, file, idx);
  }
});

const MEASURE = `
const { readMediaIndex } = await import(process.argv[2]);
const file = process.argv[3];
// after a turn of the event loop: the last read's moov buffer is still referenced until then
const mem = async () => { await new Promise((r) => setTimeout(r, 10)); gc(); gc(); const m = process.memoryUsage(); return m.heapUsed + m.arrayBuffers; };
const opts = { maxMoovBytes: 1 << 28 };
await readMediaIndex(file, opts);
const K = 4;
const base = await mem();
const held = [];
for (let i = 0; i < K; i++) held.push(await readMediaIndex(file, opts));
const parsed = (await mem() - base) / K;
const counted = held[0].bytes;
for (const idx of held) for (const tr of idx.tracks) { tr.size[0]; tr.offset[0]; tr.dts[0]; tr.cto?.[0]; }
const decoded = (await mem() - base) / K;
console.log(JSON.stringify({ parsed, counted, decoded, countedDecoded: held[0].bytes }));
`;

t.test('the bytes an index counts are what a process holds for it, parsed and decoded', async (t) => {
  const media = await benchFiles(t);
  const reader = pathToFileURL(runnableModule('src/media/mp4/reader.ts')).href;
  const script = join(dir, 'measure.mjs');
  writeFileSync(script, MEASURE);
  // a child that can force a GC
  for (const file of [media.long, media.segments]) {
    const r = spawnSync(process.execPath, [...runnableArgs, '--expose-gc', script, reader, file], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    const m = JSON.parse(r.stdout.trim().split('\n').pop()!);
    const near = (a: number, b: number): boolean => Math.abs(a - b) <= Math.max(0.05 * b, 64 * 1024);
    t.ok(near(m.counted, m.parsed), `${file}: parsed, counted ${m.counted} bytes, measured ${Math.round(m.parsed)}`);
    t.ok(near(m.countedDecoded, m.decoded), `${file}: decoded, counted ${m.countedDecoded} bytes, measured ${Math.round(m.decoded)}`);
    if (file === media.long) {
      t.ok(m.parsed <= 8e6, `2-hour file: ${Math.round(m.parsed)} bytes per cached index after a playlist (aim <= 8 MB)`);
      t.ok(m.decoded <= 8e6, `2-hour file: ${Math.round(m.decoded)} bytes per cached index with every table decoded (aim <= 8 MB)`);
    }
  }
});

t.test('the index cache recounts an index whose tables are decoded, and evicts to its bound', async (t) => {
  // room for everything: every decode step is recounted
  const roomy = createIndexCache({ maxBytes: 64 << 20, maxMoovBytes: BIG.maxMoovBytes });
  const a = await roomy.get(sample('h264-240p.mp4'));
  const b = await roomy.get(sample('h264-360p.mp4'));
  t.equal(roomy.stats().bytes, a.bytes + b.bytes, 'counted as parsed');
  const steps: Array<[string, () => unknown]> = [
    ['video offsets', () => b.tracks[0].offset],
    ['audio offsets (the moov is let go)', () => b.tracks[1].offset],
    ['decode times', () => b.tracks.map((tr) => tr.dts)],
    ['composition offsets', () => a.tracks.map((tr) => tr.cto)],
    ['fixed sizes and all of a', () => a.tracks.map((tr) => [tr.size, tr.offset, tr.dts])],
  ];
  for (const [what, step] of steps) {
    const before = roomy.stats().bytes;
    step();
    t.equal(roomy.stats().bytes, a.bytes + b.bytes, `recounted after ${what} (${before} -> ${roomy.stats().bytes})`);
  }
  // room for the two parsed indexes only: the newer one growing evicts the older
  const a2 = await readMediaIndex(sample('h264-240p.mp4'), BIG);
  const b2 = await readMediaIndex(sample('h264-360p.mp4'), BIG);
  const tight = createIndexCache({ maxBytes: a2.bytes + b2.bytes + 100, maxMoovBytes: BIG.maxMoovBytes });
  await tight.get(sample('h264-240p.mp4'));
  const newer = await tight.get(sample('h264-360p.mp4'));
  t.equal(tight.stats().entries, 2);
  for (const tr of newer.tracks) void tr.dts;
  t.equal(tight.stats().entries, 1, 'the least recently used index was evicted when the other grew');
  t.equal(tight.stats().bytes, newer.bytes, 'the count is what the remaining entry holds');
  t.ok(tight.stats().bytes <= a2.bytes + b2.bytes + 100, 'within the bound');
});

t.test('a file cut inside its last chunk: the playlist is built, a segment is refused as TRUNCATED', async (t) => {
  const whole = readFileSync(sample('h264-240p.mp4'));
  const idx = await readMediaIndex(sample('h264-240p.mp4'), BIG);
  let lastStart = 0;
  for (const tr of idx.tracks) for (let i = 0; i < tr.count; i++) lastStart = Math.max(lastStart, tr.offset[i]);
  const cut = join(dir, 'cut-last-chunk.mp4');
  writeFileSync(cut, whole.subarray(0, lastStart + 1));
  const short = await readMediaIndex(cut, BIG);
  t.ok(buildTimeline(short, hlsPolicy(10000)).segments.length > 0, 'the timeline needs no offsets');
  const refused = short.tracks.map((tr) => {
    try {
      void tr.offset;
      return 'ok';
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
      return e.kind;
    }
  });
  t.ok(refused.includes('TRUNCATED'), `the track whose samples run past the end is refused: ${refused.join(', ')}`);
});

t.test('parseMoov leaves a moov it was lent as it was; one given to it (own) is converted in place', async (t) => {
  const whole = readFileSync(sample('source-720p.mp4'));
  const at = whole.indexOf('moov') - 4;
  const moov = whole.subarray(at + 8, at + whole.readUInt32BE(at));
  const copy = Buffer.from(moov);
  const lent = parseMoov(moov, whole.length);
  t.ok(moov.equals(copy), 'the lent moov is unchanged');
  const given = parseMoov(Buffer.from(moov), whole.length, { own: true });
  for (const [k, tr] of given.tracks.entries()) {
    const ref = lent.tracks[k];
    t.same([Array.from(tr.size), Array.from(tr.offset), Array.from(tr.dts), tr.cto && Array.from(tr.cto)], [Array.from(ref.size), Array.from(ref.offset), Array.from(ref.dts), ref.cto && Array.from(ref.cto)], `track ${tr.id}: same tables either way`);
  }
});

t.test('a moov given to parseMoov (own): a playlist leaves stsz, stco, stsc and ctts as they lie; ctoAt reads them there', async (t) => {
  for (const name of ['source-720p.mp4', 'h264-240p.mp4']) {
    const whole = readFileSync(sample(name));
    const at = whole.indexOf('moov') - 4;
    const moov = whole.subarray(at + 8, at + whole.readUInt32BE(at));
    const lent = parseMoov(moov, whole.length);
    const given = Buffer.from(moov);
    const idx = parseMoov(given, whole.length, { own: true });
    buildTimeline(idx, hlsPolicy(10000));
    // only the stts boxes (converted at parse: the playlist reads them) may differ from the file's bytes
    const stts: Array<[number, number]> = [];
    for (let o = moov.indexOf('stts'); o >= 4; o = moov.indexOf('stts', o + 4)) stts.push([o - 4, o - 4 + moov.readUInt32BE(o - 4)]);
    let changed = 0;
    for (let i = 0; i < moov.length; i++) if (given[i] !== moov[i] && !stts.some(([s, e]) => i >= s && i < e)) changed++;
    t.equal(changed, 0, `${name}: no byte outside stts changed by parsing and a playlist`);
    for (const [k, tr] of idx.tracks.entries()) {
      const ref = lent.tracks[k];
      let bad = 0;
      for (let i = 0; i < tr.count; i++) if (tr.ctoAt(i) !== ref.ctoAt(i)) bad++;
      t.equal(bad, 0, `${name}#${tr.id}: ctoAt on the tables as they lie is the converted tables' ctoAt`);
      t.same([Array.from(tr.size), Array.from(tr.offset), tr.cto && Array.from(tr.cto)], [Array.from(ref.size), Array.from(ref.offset), ref.cto && Array.from(ref.cto)], `${name}#${tr.id}: then decoded, the same tables`);
    }
    t.ok(idx.tracks.some((tr) => tr.cto), `${name}: has a ctts`);
  }
});
