// The moov reader against mp4box.js on the sample files, on an ffmpeg-made moov-at-end file with
// co64 offsets, and on broken files; the index cache's byte bound; the segmenter's durations.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMoov, readMediaIndex, readSourceIndex } from '../../src/media/mp4/reader.js';
import type { ByteSource } from '../../src/media/source.js';
import { isKeyFrame, ptsOf } from '../../src/media/mp4/index-types.js';
import { createIndexCache } from '../../src/media/index-cache.js';
import { buildTimeline, flatPolicy, hlsPolicy } from '../../src/media/segment.js';
import { MediaError } from '../../src/media/errors.js';
import { mediaSegment } from '../../src/media/fmp4/writer.js';
import { tsSegment } from '../../src/media/ts/writer.js';
import { requireCommands } from '../helpers/system.js';
import { mp4boxFile, sample, stcoToCo64 } from './helpers.js';
import { errorWith } from '../helpers/errors.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-media-'));

t.test('reader matches mp4box.js sample by sample on every sample file', async (t) => {
  for (const name of ['h264-240p.mp4', 'h264-360p.mp4', 'source-720p.mp4', 'alt-audio-eng.mp4', 'audio-128k.mp4', 'mobile-144p.3gp']) {
    const idx = await readMediaIndex(sample(name), BIG);
    const ref = mp4boxFile(sample(name));
    t.equal(idx.tracks.length, ref.info.tracks.length, `${name}: track count`);
    t.ok(Math.abs(idx.durationMs - 12000) < 50, `${name}: duration ${idx.durationMs}`);
    for (const [k, track] of idx.tracks.entries()) {
      const rt = ref.info.tracks[k];
      const rs = ref.samples(rt.id);
      t.equal(track.codecString, rt.codec, `${name}#${track.id}: codec string`);
      t.equal(track.count, rs.length, `${name}#${track.id}: sample count`);
      let bad = 0;
      for (let i = 0; i < rs.length; i++) {
        if (track.offset[i] !== rs[i].offset || track.size[i] !== rs[i].size || track.dts[i] !== rs[i].dts
          || track.dts[i] + (track.cto ? track.cto[i] : 0) !== rs[i].cts || isKeyFrame(track, i) !== rs[i].is_sync) bad++;
      }
      t.equal(bad, 0, `${name}#${track.id}: offsets, sizes, dts, cts and sync agree`);
    }
  }
});

t.test('the sample video: 25 fps, key frame every 2 s, B-frames, edit lists applied', async (t) => {
  const idx = await readMediaIndex(sample('h264-240p.mp4'), BIG);
  const v = idx.tracks.find((x) => x.kind === 'video')!;
  t.equal(v.count, 300);
  t.same(Array.from(v.sync!), [0, 50, 100, 150, 200, 250]);
  t.ok(v.cto, 'has ctts');
  t.equal(ptsOf(v, 0), 0, 'the first frame presents at 0 once the edit list is applied');
  t.equal(v.nalLengthSize, 4);
  t.equal(v.parameterSets.length, 2, 'SPS and PPS from avcC');
  const a = idx.tracks.find((x) => x.kind === 'audio')!;
  t.equal(a.sampleRate, 48000);
  t.equal(a.channels, 2);
  t.equal(a.aacObjectType, 2);
});

t.test('moov at the end of the file, with co64 chunk offsets', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const tail = join(dir, 'moov-last.mp4');
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', sample('h264-240p.mp4'), '-c', 'copy', tail]);
  t.equal(r.status, 0, String(r.stderr));
  const co64 = join(dir, 'co64.mp4');
  writeFileSync(co64, stcoToCo64(readFileSync(tail)));
  const bytes = readFileSync(co64);
  t.ok(bytes.indexOf('moov') > bytes.indexOf('mdat'), 'moov follows mdat');
  t.ok(bytes.indexOf('co64') > 0 && bytes.indexOf('stco') < 0, 'chunk offsets are 64-bit');
  const fast = await readMediaIndex(sample('h264-240p.mp4'), BIG);
  for (const file of [tail, co64]) {
    const idx = await readMediaIndex(file, BIG);
    const src = readFileSync(file);
    const orig = readFileSync(sample('h264-240p.mp4'));
    for (const [k, tr] of idx.tracks.entries()) {
      const ft = fast.tracks[k];
      t.same([tr.count, Array.from(tr.size), Array.from(tr.dts)], [ft.count, Array.from(ft.size), Array.from(ft.dts)], `${file}#${tr.id}: same tables`);
      let diff = 0;
      for (let i = 0; i < tr.count; i++) if (Buffer.compare(src.subarray(tr.offset[i], tr.offset[i] + tr.size[i]), orig.subarray(ft.offset[i], ft.offset[i] + ft.size[i])) !== 0) diff++;
      t.equal(diff, 0, `${file}#${tr.id}: every sample's bytes found at its offset`);
    }
  }
});

/** The bytes as a source that records each read (offset, length). */
function countingSource(bytes: Buffer): ByteSource & { reads: Array<[number, number]> } {
  const reads: Array<[number, number]> = [];
  return {
    size: bytes.length,
    reads,
    async read(offset, length, into) {
      reads.push([offset, length]);
      const part = bytes.subarray(offset, Math.min(bytes.length, offset + length));
      const out = into ?? Buffer.alloc(length);
      out.set(part);
      return part.length === out.length ? out : out.subarray(0, part.length);
    },
  };
}

t.test('a faststart file is read in two reads (head, then the rest of the moov); moov last in three; same index', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const tail = join(dir, 'moov-last-reads.mp4');
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', sample('h264-240p.mp4'), '-c', 'copy', tail]);
  t.equal(r.status, 0, String(r.stderr));
  for (const [file, reads] of [[sample('h264-240p.mp4'), 2], [sample('source-720p.mp4'), 2], [tail, 3]] as const) {
    const bytes = readFileSync(file);
    const src = countingSource(bytes);
    const idx = await readSourceIndex(src, BIG);
    t.equal(src.reads.length, reads, `${file}: ${reads} reads (${JSON.stringify(src.reads)})`);
    const at = bytes.indexOf('moov') - 4;
    const ref = parseMoov(bytes.subarray(at + 8, at + bytes.readUInt32BE(at)), bytes.length);
    for (const [k, tr] of idx.tracks.entries()) {
      const rt = ref.tracks[k];
      t.same([tr.count, Array.from(tr.size), Array.from(tr.offset), Array.from(tr.dts), tr.cto && Array.from(tr.cto)], [rt.count, Array.from(rt.size), Array.from(rt.offset), Array.from(rt.dts), rt.cto && Array.from(rt.cto)], `${file}#${tr.id}: the tables of the moov read in place`);
    }
  }
});

t.test('broken and foreign files are refused with a reason', async (t) => {
  const kinds = async (file: string, opts = BIG): Promise<string> => {
    try {
      await readMediaIndex(file, opts);
      return 'ok';
    } catch (e) {
      if (!(e instanceof MediaError)) throw e;
      return e.kind;
    }
  };
  const whole = readFileSync(sample('h264-240p.mp4'));
  const cut = join(dir, 'cut.mp4');
  writeFileSync(cut, whole.subarray(0, 20000));
  t.equal(await kinds(cut), 'TRUNCATED', 'moov intact but samples past the end');
  const cutMoov = join(dir, 'cut-moov.mp4');
  writeFileSync(cutMoov, whole.subarray(0, 2000));
  t.equal(await kinds(cutMoov), 'TRUNCATED', 'file ends inside the moov');
  const pdf = join(dir, 'doc.mp4');
  copyFileSync(sample('document.pdf'), pdf);
  t.equal(await kinds(pdf), 'NOT_MP4');
  t.equal(await kinds(sample('image-320x240.png')), 'NOT_MP4');
  const empty = join(dir, 'empty.mp4');
  writeFileSync(empty, '');
  t.equal(await kinds(empty), 'NOT_MP4');
  t.equal(await kinds(sample('h264-240p.mp4'), { maxMoovBytes: 4096 }), 'MOOV_TOO_LARGE');
  const garbage = Buffer.from(whole);
  garbage.writeUInt32BE(0xffffff, 32 + 8 + 108 + 8); // a trak child with an impossible size
  const bad = join(dir, 'bad-box.mp4');
  writeFileSync(bad, garbage);
  t.equal(await kinds(bad), 'NOT_MP4');
});

t.test('the index cache is bounded in bytes and shares one parse', async (t) => {
  const one = await readMediaIndex(sample('h264-240p.mp4'), BIG);
  const cache = createIndexCache({ maxBytes: Math.floor(one.bytes * 1.5), maxMoovBytes: BIG.maxMoovBytes });
  const [a, b] = await Promise.all([cache.get(sample('h264-240p.mp4')), cache.get(sample('h264-240p.mp4'))]);
  t.equal(a, b, 'concurrent cold requests share one parse');
  t.equal(cache.stats().misses, 1);
  await cache.get(sample('h264-360p.mp4'));
  t.ok(cache.stats().bytes <= one.bytes * 1.5, `held ${cache.stats().bytes} bytes within the bound`);
  t.equal(cache.stats().entries, 1, 'the older index was evicted');
  await cache.get(sample('h264-360p.mp4'));
  t.equal(cache.stats().hits, 1);
});

t.test('segmenter: Kaltura HLS bootstrap, DASH 4 s, key-frame starts, audio in step', async (t) => {
  const idx = await readMediaIndex(sample('h264-240p.mp4'), BIG);
  const hls = buildTimeline(idx, hlsPolicy(10000));
  t.same(hls.segments.map((s) => s.durationMs), [2000, 2000, 2000, 4000, 2000]);
  const dash = buildTimeline(idx, flatPolicy(4000));
  t.same(dash.segments.map((s) => s.durationMs), [4000, 4000, 4000]);
  const v = idx.tracks[0];
  const a = idx.tracks[1];
  for (const tl of [hls, dash]) {
    let aNext = tl.segments[0].audio!.first;
    let vNext = 0;
    for (const s of tl.segments) {
      t.ok(isKeyFrame(v, s.video!.first), `segment at ${s.startMs} starts on a key frame`);
      t.equal(s.video!.first, vNext, 'video ranges are contiguous');
      t.equal(s.audio!.first, aNext, 'audio ranges are contiguous');
      vNext = s.video!.end;
      aNext = s.audio!.end;
      const aStart = ((a.dts[s.audio!.first] - a.mediaTimeOffset) * 1000) / a.timescale;
      t.ok(Math.abs(aStart - s.startMs) < 1000 * 1024 / 48000, `audio starts within one AAC frame of ${s.startMs}`);
    }
    t.equal(vNext, v.count);
  }
  const clip = buildTimeline(idx, hlsPolicy(10000), { fromMs: 3000, toMs: 9000 });
  t.equal(clip.originMs, 2000, 'starts on the key frame at or before clipFrom');
  t.equal(clip.durationMs, 7000, 'ends at clipTo');
  t.same(clip.segments.map((s) => s.durationMs), [2000, 2000, 2000, 1000]);
  const tooLate = (): unknown => buildTimeline(idx, hlsPolicy(10000), { fromMs: 13000, toMs: Infinity });
  t.throws(tooLate, errorWith({ kind: 'BAD_CLIP' }));
  t.throws(() => buildTimeline(idx, hlsPolicy(10000), { fromMs: 5000, toMs: 4000 }), errorWith({ kind: 'BAD_CLIP' }));
  const audioOnly = buildTimeline(await readMediaIndex(sample('alt-audio-eng.mp4'), BIG), flatPolicy(4000));
  t.equal(audioOnly.segments.length, 3);
  t.ok(Math.abs(audioOnly.durationMs - 12000) < 30);
});

t.test('corrupted moov bytes give a MediaError or a usable index, never another exception', async (t) => {
  const { parseMoov } = await import('../../src/media/mp4/reader.js');
  const whole = readFileSync(sample('h264-240p.mp4'));
  const at = whole.indexOf('moov') - 4;
  const moov = whole.subarray(at + 8, at + whole.readUInt32BE(at));
  let seed = 12345;
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed % n;
  };
  let refused = 0;
  let parsed = 0;
  let other = 0;
  for (let k = 0; k < 400; k++) {
    const m = Buffer.from(moov);
    // header-ish bytes matter most: hit box headers and table counts often
    for (let j = 0; j < 1 + rand(4); j++) m[rand(k % 2 ? 600 : m.length)] = rand(256);
    try {
      const idx = parseMoov(m, whole.length);
      const tl = buildTimeline(idx, hlsPolicy(10000));
      // everything a request could ask of the index: descriptions of every segment, both kinds
      tl.segments.forEach((seg, i) => {
        mediaSegment(tl, seg, { sequence: i + 1, dash: true });
        tsSegment(tl, i);
      });
      parsed++;
    } catch (e) {
      if (e instanceof MediaError) refused++;
      else {
        other++;
        t.comment(String(e));
      }
    }
  }
  t.equal(other, 0, `${refused} refused, ${parsed} parsed, none crashed`);
});
