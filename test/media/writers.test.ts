// The writers, read back by parsers nobody here wrote: mp4box.js for fMP4 and the clipped MP4,
// ffprobe/ffmpeg for MPEG-TS, m3u8-parser for HLS playlists, mpd-parser for the MPD.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createDecipheriv } from 'node:crypto';
import { Parser as M3u8Parser } from 'm3u8-parser';
import { parse as parseMpd } from 'mpd-parser';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, flatPolicy, hlsPolicy } from '../../src/media/segment.js';
import { initSegment, mediaSegment } from '../../src/media/fmp4/writer.js';
import { tsSegment } from '../../src/media/ts/writer.js';
import { readBody } from '../../src/media/body.js';
import type { Encryption } from '../../src/media/crypto/encryption.js';
import { masterPlaylist, mediaPlaylist, subtitlePlaylist } from '../../src/media/hls/playlists.js';
import { buildMpd } from '../../src/media/dash/mpd.js';
import { mssManifest } from '../../src/media/mss/manifest.js';
import { openClippedMp4 } from '../../src/media/progressive.js';
import { createIndexCache } from '../../src/media/index-cache.js';
import { captionToWebVtt, parseCues, toWebVtt } from '../../src/media/captions.js';
import type { Presentation, Rendition } from '../../src/media/presentation.js';
import { requireCommands } from '../helpers/system.js';
import { mp4box, sample } from './helpers.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-writers-'));
// it holds the made sources (a 12 MB PCM .mov among them) and the outputs ffmpeg decodes
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const SRC = sample('h264-240p.mp4');
const srcBytes = readFileSync(SRC);

const rendition = (f: number, clips: Rendition['clips'], extra: Partial<Rendition> = {}): Rendition => ({
  f, clips, hasVideo: !!clips[0].video, hasAudio: !!clips[0].audio, width: 426, height: 240, frameRate: 25, language: '', label: '', isDefault: false, ...extra,
});

const parseM3u8 = (text: string): any => {
  const p = new M3u8Parser();
  p.push(text);
  p.end();
  return p.manifest;
};

t.test('fMP4: init + every segment read back by mp4box.js with the source samples', async (t) => {
  const idx = await readMediaIndex(SRC, BIG);
  const tl = buildTimeline(idx, hlsPolicy(10000));
  const init = initSegment([tl.video!.track, tl.audio!.track]);
  const segs: Buffer[] = [];
  for (const [i, s] of tl.segments.entries()) {
    const body = mediaSegment(tl, s, { sequence: i + 1, dash: false });
    const bytes = await readBody(SRC, body);
    t.equal(bytes.length, body.length, `segment ${i + 1}: length known before reading`);
    segs.push(bytes);
  }
  const all = Buffer.concat([init, ...segs]);
  writeFileSync(join(dir, 'all.mp4'), all);
  const view = mp4box(all);
  t.ok(view.info.isFragmented, 'fragmented');
  t.same(view.info.tracks.map((x: any) => x.codec), ['avc1.640015', 'mp4a.40.2']);
  const v = view.samples(1);
  const a = view.samples(2);
  t.equal(v.length, 300, 'all video samples');
  t.equal(a.length, 563, 'audio samples from presentation time 0 (priming frame dropped)');
  let mismatched = 0;
  const vt = idx.tracks[0];
  for (let i = 0; i < v.length; i++) {
    if (Buffer.compare(all.subarray(v[i].offset, v[i].offset + v[i].size), srcBytes.subarray(vt.offset[i], vt.offset[i] + vt.size[i])) !== 0) mismatched++;
    if (v[i].is_sync !== (i % 50 === 0)) mismatched++;
  }
  t.equal(mismatched, 0, 'video payloads and sync flags equal the source');
  t.equal(v[0].cts, 0, 'first frame presents at 0');
  t.equal(v[50].dts, 25600, 'decode times continue across segments');

  const dashTl = buildTimeline(idx, flatPolicy(4000), undefined, { video: true, audio: false });
  const frag = await readBody(SRC, mediaSegment(dashTl, dashTl.segments[1], { sequence: 2, dash: true }));
  const dashView = mp4box(Buffer.concat([initSegment([dashTl.video!.track]), frag]));
  t.same(dashView.boxes.slice(2), ['styp', 'sidx', 'moof', 'mdat'], 'DASH fragment is styp + sidx + moof + mdat');
  t.equal(dashView.samples(1).length, 100);
  t.equal(dashView.samples(1)[0].dts, 51200, 'tfdt of fragment 2 is 4 s');
});

t.test('MPEG-TS: 188-byte packets, continuous counters across segments, decoded by ffmpeg', async (t) => {
  requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
  const idx = await readMediaIndex(SRC, BIG);
  const tl = buildTimeline(idx, hlsPolicy(10000));
  const segs: Buffer[] = [];
  for (let i = 0; i < tl.segments.length; i++) {
    const body = tsSegment(tl, i);
    const bytes = await readBody(SRC, body);
    t.equal(bytes.length, body.length, `segment ${i + 1}: planned length is exact`);
    segs.push(bytes);
  }
  // a later segment alone, as a player fetches it, must continue the counters
  const alone = await readBody(SRC, tsSegment(tl, 3));
  t.same(alone, segs[3], 'a segment built alone equals the same segment built in sequence');
  // ranges build only the packets they touch, and equal the same slice of the whole
  for (const [a, b] of [[0, 187], [100, 500], [188, 188 * 3], [5000, 90000], [segs[3].length - 1000, segs[3].length - 1]]) {
    t.same(await readBody(SRC, tsSegment(tl, 3), a, b), segs[3].subarray(a, b + 1), `range ${a}-${b}`);
  }
  const ts = Buffer.concat(segs);
  t.equal(ts.length % 188, 0);
  const cc = new Map<number, number>();
  let syncErrors = 0;
  let ccErrors = 0;
  for (let o = 0; o < ts.length; o += 188) {
    if (ts[o] !== 0x47) syncErrors++;
    const pid = ((ts[o + 1] & 0x1f) << 8) | ts[o + 2];
    const c = ts[o + 3] & 15;
    if (pid === 0x100 || pid === 0x101) {
      if (cc.has(pid) && ((cc.get(pid)! + 1) & 15) !== c) ccErrors++;
      cc.set(pid, c);
    }
  }
  t.equal(syncErrors, 0, 'every packet starts with 0x47');
  t.equal(ccErrors, 0, 'continuity counters never jump');
  const file = join(dir, 'all.ts');
  writeFileSync(file, ts);
  const dec = spawnSync('ffmpeg', ['-v', 'warning', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
  t.equal(dec.status, 0);
  t.equal(dec.stderr.trim(), '', 'ffmpeg decodes with no warning');
  const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', file], { encoding: 'utf8' });
  const streams = JSON.parse(probe.stdout).streams;
  t.same(streams.map((s: any) => [s.codec_name, Number(s.nb_read_frames)]), [['h264', 300], ['aac', 563]]);
});

/** The elementary-stream bytes of each PES on `pid` (PES header skipped), in order. */
function pesPayloads(ts: Buffer, pid: number): Buffer[] {
  const pes: Buffer[][] = [];
  for (let o = 0; o + 188 <= ts.length; o += 188) {
    if ((((ts[o + 1] & 0x1f) << 8) | ts[o + 2]) !== pid) continue;
    const afc = (ts[o + 3] >> 4) & 3;
    const from = afc === 3 ? o + 5 + ts[o + 4] : o + 4;
    if (ts[o + 1] & 0x40) pes.push([]);
    pes[pes.length - 1].push(ts.subarray(from, o + 188));
  }
  return pes.map((parts) => {
    const b = Buffer.concat(parts);
    return b.subarray(9 + b[8]);
  });
}

/** The TS segments' encryptions the AUD tests go through: none, AES-128 (whole segment), SAMPLE-AES. */
const TS_KEY = Buffer.from('2e12bc8bbc726374d07ee3626f50108f', 'hex');
const TS_IV = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
const TS_CASES: [string, Encryption | undefined][] = [
  ['clear', undefined],
  ['AES-128', { scheme: 'aes-128', key: TS_KEY, iv: TS_IV, keyUri: 'key.bin' } as Encryption],
  ['SAMPLE-AES', { scheme: 'sample-aes', key: TS_KEY, iv: TS_IV, keyUri: 'key.bin' } as Encryption],
];

/** Every TS segment of `tl` made from `file` with `enc` (AES-128 decrypted again), and their video PES payloads. */
async function tsVideoOf(file: string, tl: ReturnType<typeof buildTimeline>, enc: Encryption | undefined): Promise<{ segments: Buffer[]; video: Buffer[] }> {
  const segments: Buffer[] = [];
  const video: Buffer[] = [];
  for (let i = 0; i < tl.segments.length; i++) {
    let bytes = await readBody(file, tsSegment(tl, i, enc ? { encryption: enc, sequence: i + 1 } : undefined));
    if (enc?.scheme === 'aes-128') {
      const d = createDecipheriv('aes-128-cbc', TS_KEY, TS_IV);
      bytes = Buffer.concat([d.update(bytes), d.final()]);
    }
    segments.push(bytes);
    video.push(...pesPayloads(bytes, 0x100));
  }
  return { segments, video };
}

t.test('MPEG-TS: every video PES starts with an access unit delimiter (clear, AES-128, SAMPLE-AES, HEVC)', async (t) => {
  // Chromium's native HLS (its MPEG-2 TS demuxer) finds access units by their delimiters
  // (test/e2e/native-hls-ts.test.ts plays the segments in its <video>)
  const tl = buildTimeline(await readMediaIndex(SRC, BIG), hlsPolicy(10000));
  for (const [what, enc] of TS_CASES) {
    const { video } = await tsVideoOf(SRC, tl, enc);
    t.equal(video.length, 300, `${what}: one video PES per frame`);
    t.equal(video.filter((es) => !es.subarray(0, 6).equals(Buffer.from([0, 0, 0, 1, 0x09, 0xf0]))).length, 0, `${what}: each starts 00 00 00 01 09 f0 (H.264 AUD, any slice type)`);
  }
  // a Range answer builds the same bytes
  const whole = await readBody(SRC, tsSegment(tl, 1));
  t.same(await readBody(SRC, tsSegment(tl, 1), 376, 20000), whole.subarray(376, 20001), 'a range equals the same slice of the whole');
  t.ok(pesPayloads(whole, 0x100).every((es) => es[4] === 0x09), 'segment 2 too');
});

/** The NAL unit types of an Annex-B access unit, in order (H.264's 5-bit type, or HEVC's 6-bit one). */
function nalTypes(es: Buffer, hevc = false): number[] {
  const types: number[] = [];
  for (let i = 0; i + 3 < es.length; i++) {
    if (es[i] === 0 && es[i + 1] === 0 && es[i + 2] === 1) {
      types.push(hevc ? (es[i + 3] >> 1) & 0x3f : es[i + 3] & 0x1f);
      i += 2;
    }
  }
  return types;
}

/** How many of a track's samples hold an AUD NAL unit of their own (4-byte NAL lengths), and how many open with one. */
function ownAuds(file: string, track: { offset: ArrayLike<number>; size: ArrayLike<number> }, hevc = false): { holding: number; opening: number; samples: number } {
  const bytes = readFileSync(file);
  let holding = 0;
  let opening = 0;
  for (let i = 0; i < track.size.length; i++) {
    const types: number[] = [];
    for (let q = track.offset[i], stop = q + track.size[i]; q + 4 < stop; q += 4 + bytes.readUInt32BE(q)) types.push(hevc ? (bytes[q + 4] >> 1) & 0x3f : bytes[q + 4] & 0x1f);
    if (types.includes(hevc ? 35 : 9)) holding++;
    if (types[0] === (hevc ? 35 : 9)) opening++;
  }
  return { holding, opening, samples: track.size.length };
}

t.test('MPEG-TS: a source whose samples carry their own AUD (an MP4 remuxed from TS) gets one AUD per access unit, in every path', async (t) => {
  requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
  const run = (args: string[]) => spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  // H.264: the sample library's file with an AUD put at the head of every sample, as a TS remux keeps it
  const avc = join(dir, 'own-aud.mp4');
  t.equal(run(['-i', SRC, '-c', 'copy', '-bsf:v', 'h264_metadata=aud=insert', avc]).status, 0);
  const idx = await readMediaIndex(avc, BIG);
  const v = idx.tracks.find((x) => x.kind === 'video')!;
  t.same(ownAuds(avc, v), { holding: 300, opening: 300, samples: 300 }, 'the premise: every sample opens with its own AUD');
  const tl = buildTimeline(idx, hlsPolicy(10000));
  const plain = buildTimeline(await readMediaIndex(SRC, BIG), hlsPolicy(10000));
  let clear: Buffer[] = [];
  for (const [what, enc] of TS_CASES) {
    const { segments, video } = await tsVideoOf(avc, tl, enc);
    if (!enc) clear = segments;
    t.equal(video.length, 300, `${what}: one video PES per frame`);
    t.equal(video.filter((es) => nalTypes(es)[0] !== 9 || nalTypes(es).filter((x) => x === 9).length !== 1).length, 0, `${what}: each access unit opens with one AUD and has no second one`);
  }
  // the same pictures as the file without AUDs gives
  const framesOf = (segments: Buffer[], name: string) => {
    const file = join(dir, name);
    writeFileSync(file, Buffer.concat(segments));
    const r = spawnSync('ffmpeg', ['-v', 'error', '-i', file, '-map', '0:v', '-f', 'framemd5', '-'], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    return r.stdout.split('\n').filter((l) => /^\s*0,/.test(l)).map((l) => l.split(',').pop()!.trim());
  };
  const plainTs = (await tsVideoOf(SRC, plain, undefined)).segments;
  const decoded = framesOf(clear, 'own-aud.ts');
  t.equal(decoded.length, 300, 'every frame decodes');
  t.same(decoded, framesOf(plainTs, 'no-aud.ts'), 'the same 300 pictures as from the file without AUDs');

  // samples read one by one (video between 8-channel PCM chunks) and in one region: the same bytes
  const sparse = join(dir, 'own-aud-sparse.mov');
  const dense = join(dir, 'own-aud-dense.mp4');
  t.equal(run(['-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=96000', '-t', '4', '-ac', '8',
    '-c:v', 'libx264', '-x264-params', 'aud=1', '-g', '25', '-c:a', 'pcm_s32le', '-f', 'mov', sparse]).status, 0);
  t.equal(run(['-i', sparse, '-map', '0:v', '-c', 'copy', dense]).status, 0);
  const videoOnly = { video: true, audio: false };
  const a = buildTimeline(await readMediaIndex(sparse, BIG), hlsPolicy(2000), undefined, videoOnly);
  const b = buildTimeline(await readMediaIndex(dense, BIG), hlsPolicy(2000), undefined, videoOnly);
  const x264 = ownAuds(dense, b.video!.track);
  t.ok(x264.holding === x264.samples && x264.opening === x264.samples - 1, `the premise: x264 put an AUD in each of ${x264.samples} samples, after the SEI in the first (${JSON.stringify(x264)})`);
  for (let i = 0; i < a.segments.length; i++) {
    const one = await readBody(sparse, tsSegment(a, i));
    t.same(one, await readBody(dense, tsSegment(b, i)), `segment ${i + 1}: sample by sample and in one region, identical`);
    const heads = pesPayloads(one, 0x100);
    t.ok(heads.length > 0 && heads.every((es) => nalTypes(es).filter((x) => x === 9).length === 1 && nalTypes(es)[0] === 9), `segment ${i + 1}: ${heads.length} PES, one AUD each`);
  }

  // HEVC: x265's own AUDs (type 35)
  const hevc = join(dir, 'own-aud-hevc.mp4');
  t.equal(run(['-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-t', '2', '-c:v', 'libx265', '-x265-params', 'aud=1:keyint=25:min-keyint=25:scenecut=0:log-level=error',
    '-tag:v', 'hvc1', hevc]).status, 0);
  const h = buildTimeline(await readMediaIndex(hevc, BIG), hlsPolicy(1000), undefined, videoOnly);
  const x265 = ownAuds(hevc, h.video!.track, true);
  t.ok(x265.holding >= x265.samples - 1, `the premise: x265 put an AUD in (nearly) every sample (${JSON.stringify(x265)})`);
  const hts: Buffer[] = [];
  for (let i = 0; i < h.segments.length; i++) hts.push(await readBody(hevc, tsSegment(h, i)));
  const hheads = hts.flatMap((x) => pesPayloads(x, 0x100));
  t.equal(hheads.length, 50);
  t.ok(hheads.every((es) => nalTypes(es, true)[0] === 35 && nalTypes(es, true).filter((x) => x === 35).length === 1), 'HEVC: one AUD per access unit');
  const hfile = join(dir, 'own-aud-hevc.ts');
  writeFileSync(hfile, Buffer.concat(hts));
  const dec = spawnSync('ffmpeg', ['-v', 'warning', '-i', hfile, '-f', 'null', '-'], { encoding: 'utf8' });
  t.equal(dec.status, 0);
  t.equal(dec.stderr.trim(), '', 'HEVC: decodes with no warning');
});

t.test('MPEG-TS: samples read one by one (video far apart in the file) make the same bytes, delimiters included', async (t) => {
  // Video samples between 8-channel 96 kHz PCM chunks are too sparse for one read of the region
  // (body.ts worthOneRead), so the writer reads each sample on its own (writeAnnexB); the same
  // video copied alone into a dense MP4 takes the one-read path. Both must give the same TS.
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const sparse = join(dir, 'sparse.mov');
  const dense = join(dir, 'dense.mp4');
  const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=96000',
    '-t', '4', '-ac', '8', '-c:v', 'libx264', '-g', '25', '-c:a', 'pcm_s32le', '-f', 'mov', sparse], { encoding: 'utf8' });
  t.equal(made.status, 0, made.stderr);
  const copied = spawnSync('ffmpeg', ['-v', 'error', '-y', '-i', sparse, '-map', '0:v', '-c', 'copy', dense], { encoding: 'utf8' });
  t.equal(copied.status, 0, copied.stderr);
  const videoOnly = { video: true, audio: false };
  const a = buildTimeline(await readMediaIndex(sparse, BIG), hlsPolicy(2000), undefined, videoOnly);
  const b = buildTimeline(await readMediaIndex(dense, BIG), hlsPolicy(2000), undefined, videoOnly);
  t.equal(a.segments.length, b.segments.length, 'the same segments');
  for (let i = 0; i < a.segments.length; i++) {
    const one = await readBody(sparse, tsSegment(a, i));
    t.same(one, await readBody(dense, tsSegment(b, i)), `segment ${i + 1}: identical`);
    const heads = pesPayloads(one, 0x100);
    t.ok(heads.length > 0 && heads.every((es) => es.subarray(0, 6).equals(Buffer.from([0, 0, 0, 1, 0x09, 0xf0]))), `segment ${i + 1}: ${heads.length} PES, each opened by an AUD`);
  }
});

t.test('HLS playlists parse with m3u8-parser; DASH MPD with mpd-parser', async (t) => {
  const v240 = await readMediaIndex(SRC, BIG);
  const v360 = await readMediaIndex(sample('h264-360p.mp4'), BIG);
  const eng = await readMediaIndex(sample('alt-audio-eng.mp4'), BIG);
  const spa = await readMediaIndex(sample('alt-audio-spa.mp4'), BIG);
  const hls = hlsPolicy(10000);
  const p: Presentation = {
    container: 'ts',
    captions: [{ n: 1, languageCode: 'en', label: 'English', isDefault: true }],
    renditions: [
      rendition(1, [buildTimeline(v240, hls, undefined, { video: true, audio: false })]),
      rendition(2, [buildTimeline(v360, hls, undefined, { video: true, audio: false })], { width: 640, height: 360 }),
      rendition(3, [buildTimeline(eng, hls)], { language: 'en', label: 'English', isDefault: true }),
      rendition(4, [buildTimeline(spa, hls)], { language: 'es', label: 'Español' }),
    ],
  };
  const master = parseM3u8(masterPlaylist(p));
  t.equal(master.playlists.length, 2, 'two video variants');
  t.same(master.playlists.map((x: any) => x.uri), ['index-f1-v1.m3u8', 'index-f2-v1.m3u8']);
  t.same(Object.keys(master.mediaGroups.AUDIO.audio).sort(), ['English', 'Español']);
  t.equal(master.mediaGroups.AUDIO.audio.English.uri, 'index-f3-a1.m3u8');
  t.equal(master.mediaGroups.SUBTITLES.subs.English.uri, 'subtitles-1.m3u8');
  t.equal(master.playlists[1].attributes.RESOLUTION.width, 640);

  const media = parseM3u8(mediaPlaylist(p.renditions[0], { container: 'fmp4', video: true, audio: false, f: 1 }));
  t.same(media.segments.map((s: any) => s.duration), [2, 2, 2, 4, 2]);
  t.equal(media.segments[0].uri, 'seg-1-f1-v1.m4s');
  t.equal(media.segments[0].map.uri, 'init-f1-v1.mp4');
  t.equal(media.endList, true);
  const seq = parseM3u8(mediaPlaylist(rendition(1, [buildTimeline(v240, hls), buildTimeline(v360, hls)]), { container: 'ts', video: true, audio: true, f: null }));
  t.equal(seq.segments.length, 10);
  t.equal(seq.segments[5].discontinuity, true, 'sequence clips are joined with a discontinuity');
  t.equal(seq.segments[5].uri, 'seg-6-v1-a1.ts');
  const subs = parseM3u8(subtitlePlaylist([12000], 1));
  t.equal(subs.segments[0].uri, 'subtitles-1.vtt');

  const dash = flatPolicy(4000);
  const dp: Presentation = {
    container: 'fmp4',
    captions: [{ n: 1, languageCode: 'en', label: 'English', isDefault: true }],
    renditions: [
      rendition(1, [buildTimeline(v240, dash)]),
      rendition(2, [buildTimeline(v360, dash)], { width: 640, height: 360 }),
      rendition(3, [buildTimeline(eng, dash)], { language: 'en', label: 'English', isDefault: true }),
      rendition(4, [buildTimeline(spa, dash)], { language: 'es', label: 'Español' }),
    ],
  };
  const mpd = parseMpd(buildMpd(dp), { manifestUri: 'http://h/x/manifest.mpd' });
  t.equal(mpd.playlists.length, 2, 'two video representations');
  t.same(mpd.playlists[0].segments.map((s: any) => s.uri), ['fragment-1-f1-v1.m4s', 'fragment-2-f1-v1.m4s', 'fragment-3-f1-v1.m4s']);
  t.same(mpd.playlists[0].segments.map((s: any) => s.duration), [4, 4, 4]);
  t.equal(mpd.playlists[0].segments[0].map?.uri, 'init-f1-v1.mp4');
  const audio = mpd.mediaGroups.AUDIO.audio;
  t.same(Object.keys(audio).sort(), ['English', 'Español'], 'one audio adaptation set per language');
  t.same([audio.English.language, audio['Español'].language], ['en', 'es']);
  t.equal(mpd.mediaGroups.SUBTITLES.subs.English.playlists[0].resolvedUri, 'http://h/x/subtitles-1.vtt', 'WebVTT text adaptation set');
  t.equal(mpd.duration, 12);
  // with a base (the packager's: public base URL and the MPD's directory) every URL is absolute,
  // resolved the same wherever the MPD was fetched from
  const abs = 'https://cdn.example.com/dash/p/1/ks/abc/name/a.mp4.urlset/';
  const absMpd = parseMpd(buildMpd(dp, undefined, abs), { manifestUri: 'http://elsewhere.example/playManifest/a.mpd' });
  t.same(absMpd.playlists[0].segments.map((s: any) => s.resolvedUri), [1, 2, 3].map((n) => `${abs}fragment-${n}-f1-v1.m4s`));
  t.equal(absMpd.playlists[0].segments[0].map?.resolvedUri, `${abs}init-f1-v1.mp4`);
  t.equal(absMpd.mediaGroups.SUBTITLES.subs.English.playlists[0].resolvedUri, `${abs}subtitles-1.vtt`);
  // a "$" of the base is written "$$" in SegmentTemplate attributes (templates), as is in a BaseURL
  const dollar = buildMpd(dp, undefined, 'https://h/a$b/');
  t.match(dollar, 'initialization="https://h/a$$b/init-f1-v1.mp4" media="https://h/a$$b/fragment-$Number$-f1-v1.m4s"');
  t.match(dollar, '<BaseURL>https://h/a$b/subtitles-1.vtt</BaseURL>');
  const mss = mssManifest(dp);
  t.match(mss, /<StreamIndex Type="video"[^>]*Chunks="3" QualityLevels="2"/);
  t.match(mss, /FourCC="AACL"/);
});

t.test('clipped progressive MP4: a real, smaller file read back by mp4box.js and ffprobe', async (t) => {
  requireCommands(t, ['ffprobe'], 'ffmpeg');
  const cache = createIndexCache({ maxBytes: 1 << 26, maxMoovBytes: BIG.maxMoovBytes });
  const clip = await openClippedMp4(SRC, 3000, 7000, cache);
  t.equal(clip.startMs, 2000, 'starts on the key frame at or before 3 s');
  t.equal(clip.durationMs, 5000);
  const chunks: Buffer[] = [];
  for await (const c of clip.read()) chunks.push(c as Buffer);
  const bytes = Buffer.concat(chunks);
  t.equal(bytes.length, clip.size);
  t.ok(bytes.length < srcBytes.length / 2, `${bytes.length} bytes, under half of the ${srcBytes.length}-byte source`);
  const view = mp4box(bytes);
  t.equal(view.info.isFragmented, false);
  t.equal(view.samples(1).length, 125, '5 s of 25 fps video');
  t.equal(view.samples(1)[0].is_sync, true);
  const file = join(dir, 'clip.mp4');
  writeFileSync(file, bytes);
  const probe = spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'format=duration:stream=codec_name,start_time', '-of', 'json', file], { encoding: 'utf8' });
  const j = JSON.parse(probe.stdout);
  t.ok(Math.abs(Number(j.format.duration) - 5) < 0.05, `duration ${j.format.duration}`);
  t.equal(Number(j.streams[0].start_time), 0, 'video starts at 0');
  // a byte range equals the same slice of the whole
  const part: Buffer[] = [];
  for await (const c of clip.read(1000, 60000)) part.push(c as Buffer);
  t.same(Buffer.concat(part), bytes.subarray(1000, 60001));
});

t.test('captions: SRT to WebVTT, shifted and cut for clips, with the HLS timestamp map', async (t) => {
  const srt = readFileSync(sample('captions-spa.srt'), 'utf8');
  const vtt = captionToWebVtt(srt);
  t.match(vtt, /^WEBVTT\n/);
  t.match(vtt, /00:00:00\.500 --> 00:00:03\.000\nHola/);
  const cues = parseCues(readFileSync(sample('captions-eng.vtt'), 'utf8'));
  t.equal(cues.length, 3);
  const clipped = toWebVtt(cues, { originMs: 2000, durationMs: 4000, mpegTs90k: 126000 });
  t.match(clipped, /X-TIMESTAMP-MAP=MPEGTS:126000,LOCAL:00:00:00.000/);
  t.match(clipped, /00:00:00\.000 --> 00:00:01\.000\nHello/, 'a cue across the start is cut');
  t.match(clipped, /00:00:01\.500 --> 00:00:04\.000\nA test/, 'a cue across the end is cut');
  t.notMatch(clipped, /Served/, 'cues after the clip are dropped');
});

t.test('HEVC sources: fMP4 (and MPEG-TS) output decodes, codec string as mp4box.js reads it', async (t) => {
  requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
  const src = join(dir, 'hevc.mp4');
  const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '6', '-c:v', 'libx265', '-x265-params', 'keyint=50:min-keyint=50:scenecut=0:log-level=error', '-tag:v', 'hvc1', '-c:a', 'aac', '-shortest', '-movflags', '+faststart', src], { encoding: 'utf8' });
  t.equal(made.status, 0, made.stderr);
  const idx = await readMediaIndex(src, BIG);
  const ref = mp4box(readFileSync(src));
  t.equal(idx.tracks[0].codecString, ref.info.tracks[0].codec, 'hvc1 codec string');
  t.same(idx.tracks[0].parameterSets.map((ps) => (ps[0] >> 1) & 0x3f).filter((n) => n >= 32 && n <= 34), [32, 33, 34], 'VPS, SPS and PPS from hvcC');
  const tl = buildTimeline(idx, flatPolicy(4000));
  const parts = [initSegment([tl.video!.track, tl.audio!.track])];
  const ts: Buffer[] = [];
  for (const [i, s] of tl.segments.entries()) {
    parts.push(await readBody(src, mediaSegment(tl, s, { sequence: i + 1, dash: false })));
    ts.push(await readBody(src, tsSegment(tl, i)));
  }
  for (const [name, bytes] of [['hevc-out.mp4', Buffer.concat(parts)], ['hevc-out.ts', Buffer.concat(ts)]] as const) {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    const dec = spawnSync('ffmpeg', ['-v', 'warning', '-i', file, '-f', 'null', '-'], { encoding: 'utf8' });
    t.equal(dec.status, 0);
    t.equal(dec.stderr.trim(), '', `${name}: decodes with no warning`);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-count_frames', '-select_streams', 'v', '-show_entries', 'stream=codec_name,nb_read_frames', '-of', 'json', file], { encoding: 'utf8' });
    t.same(JSON.parse(probe.stdout).streams.map((s: any) => [s.codec_name, Number(s.nb_read_frames)]), [['hevc', 150]], `${name}: all 150 frames`);
  }
  const heads = ts.flatMap((b) => pesPayloads(b, 0x100));
  t.equal(heads.length, 150, 'MPEG-TS: one video PES per HEVC frame');
  t.ok(heads.every((es) => es.subarray(0, 7).equals(Buffer.from([0, 0, 0, 1, 0x46, 0x01, 0x50]))), 'each starts with an HEVC access unit delimiter (type 35, any slice type)');
});
