// The encrypted formats read back by parsers nobody here wrote: mp4box.js for the protection boxes
// (encv/enca, sinf, tenc, pssh, saiz, saio, senc), mpd-parser and m3u8-parser for the manifests,
// ffmpeg's trace_headers for the slice headers the clear leaders must cover, ffprobe for the
// SAMPLE-AES transport stream. Also: ranges equal slices of the whole, IVs never repeat, refusals.
import t, { type Test } from 'tap';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Parser as M3u8Parser } from 'm3u8-parser';
import { parse as parseMpd } from 'mpd-parser';
import { XMLParser } from 'fast-xml-parser';
import { readBody, type MediaBody } from '../../src/media/body.js';
import { avcParams, avcSliceHeaderBytes } from '../../src/media/crypto/avc-slice.js';
import { checkEncryption, SYSTEM_IDS, type Encryption } from '../../src/media/crypto/encryption.js';
import { buildMpd } from '../../src/media/dash/mpd.js';
import { isMediaError } from '../../src/media/errors.js';
import { describeMediaSegment, initSegment, mediaSegment } from '../../src/media/fmp4/writer.js';
import { openFileSource } from '../../src/media/source.js';
import { masterPlaylist, mediaPlaylist } from '../../src/media/hls/playlists.js';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { mssManifest } from '../../src/media/mss/manifest.js';
import type { Presentation, Rendition } from '../../src/media/presentation.js';
import { buildTimeline, flatPolicy, hlsPolicy, type Timeline } from '../../src/media/segment.js';
import { tsSegment } from '../../src/media/ts/writer.js';
import { requireCommands } from '../helpers/system.js';
import { BIG, KEY, KEY_ID, packageHls } from './encrypted-media.js';
import { mp4boxParse, sample } from './helpers.js';
import { errorWith } from '../helpers/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'kdeliver-crypto-format-'));
const SRC = sample('h264-240p.mp4');
const IV = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
const WIDEVINE_DATA = Buffer.from('080112' + '10' + KEY_ID.toString('hex'), 'hex');
const PLAYREADY_PRO = Buffer.from('a0000000010001009600', 'hex');
const systems = [{ name: 'clearkey' as const, licenseUrl: 'https://keys.example.com/licence?a=1&b=2' }, { name: 'widevine' as const, psshData: WIDEVINE_DATA }, { name: 'playready' as const, psshData: PLAYREADY_PRO }];

const parseMp4 = (bytes: Uint8Array): any => mp4boxParse(bytes).file;

const rendition = (f: number, tl: Timeline, extra: Partial<Rendition> = {}): Rendition => ({ f, clips: [tl], hasVideo: !!tl.video, hasAudio: !!tl.audio, width: 426, height: 240, frameRate: 25, language: '', label: '', isDefault: false, ...extra });

async function wholeAndRanges(t: Test, path: string, body: MediaBody, what: string): Promise<Buffer> {
  const whole = await readBody(path, body);
  t.equal(whole.length, body.length, `${what}: the described length is exact`);
  const n = body.length;
  for (const [a, b] of [[0, 0], [0, 187], [17, 4000], [1000, n - 1], [n - 17, n - 1], [Math.floor(n / 2), Math.floor(n / 2) + 33]]) {
    t.same(await readBody(path, body, a, b), whole.subarray(a, b + 1), `${what}: range ${a}-${b} equals the slice of the whole`);
  }
  return whole;
}

t.test('init segments: protected sample entries and pssh boxes as mp4box reads them', async (t) => {
  const idx = await readMediaIndex(SRC, BIG);
  const v = idx.tracks.find((x) => x.kind === 'video')!;
  const a = idx.tracks.find((x) => x.kind === 'audio')!;
  for (const scheme of ['cenc', 'cbcs'] as const) {
    const enc: Encryption = { scheme, key: KEY, keyId: KEY_ID, iv: scheme === 'cbcs' ? IV : undefined, systems: [...systems, ...(scheme === 'cbcs' ? [{ name: 'fairplay' as const, keyUri: 'skd://key' }] : [])] };
    const f = parseMp4(initSegment([v, a], enc));
    const entries = f.moov.traks.map((tr: any) => tr.mdia.minf.stbl.stsd.entries[0]);
    t.same(entries.map((e: any) => e.type), ['encv', 'enca'], `${scheme}: encv and enca sample entries`);
    t.ok(entries[0].avcC, `${scheme}: the codec configuration is kept`);
    for (const [k, e] of entries.entries()) {
      const sinf = e.sinfs[0];
      t.equal(sinf.frma.data_format, k === 0 ? 'avc1' : 'mp4a', `${scheme}: frma names the original format`);
      t.equal(sinf.schm.scheme_type, scheme);
      t.equal(sinf.schm.scheme_version, 0x10000);
      const tenc = sinf.schi.tenc;
      t.equal(tenc.default_isProtected, 1);
      t.equal(tenc.default_KID, KEY_ID.toString('hex'), `${scheme}: default_KID`);
      if (scheme === 'cenc') {
        t.equal(tenc.version, 0);
        t.equal(tenc.default_Per_Sample_IV_Size, 16, 'cenc: 16-byte per-sample IVs');
      } else {
        t.equal(tenc.version, 1);
        t.equal(tenc.default_Per_Sample_IV_Size, 0, 'cbcs: a constant IV');
        t.same(Buffer.from(Object.values(tenc.default_constant_IV) as number[]), IV, 'cbcs: the constant IV is the description\'s');
        t.same([tenc.default_crypt_byte_block, tenc.default_skip_byte_block], k === 0 ? [1, 9] : [0, 0], 'cbcs: 1:9 pattern on video, none on audio');
      }
    }
    const pssh = f.moov.psshs.map((p: any) => [p.system_id, p.version, p.kid ?? null]);
    t.same(pssh, [
      [SYSTEM_IDS.clearkey.replace(/-/g, ''), 1, [KEY_ID.toString('hex')]],
      [SYSTEM_IDS.widevine.replace(/-/g, ''), 0, null],
      [SYSTEM_IDS.playready.replace(/-/g, ''), 0, null],
    ], `${scheme}: pssh of ClearKey (key id), Widevine and PlayReady; none for FairPlay`);
    t.same(Buffer.from(f.moov.psshs[1].data), WIDEVINE_DATA, 'Widevine pssh data as given');
    t.same(Buffer.from(f.moov.psshs[2].data), PLAYREADY_PRO, 'PlayReady pssh data as given');
  }
  t.same(initSegment([v, a], { scheme: 'aes-128', key: KEY, keyUri: 'k' }), initSegment([v, a]), 'HLS AES-128 leaves the init segment clear');
});

interface SencSample {
  iv: Buffer;
  subs: Array<[number, number]> | null;
}

/** Reads a traf's senc entries (mp4box does not: it needs the IV size from the tenc). */
function sencEntries(bytes: Buffer, senc: any, ivSize: number): SencSample[] {
  const start = senc.start;
  const flags = bytes.readUInt32BE(start + 8) & 0xffffff;
  const count = bytes.readUInt32BE(start + 12);
  const out: SencSample[] = [];
  let o = start + 16;
  for (let i = 0; i < count; i++) {
    const iv = bytes.subarray(o, o + ivSize);
    o += ivSize;
    let subs: Array<[number, number]> | null = null;
    if (flags & 2) {
      subs = [];
      const c = bytes.readUInt16BE(o);
      o += 2;
      for (let k = 0; k < c; k++, o += 6) subs.push([bytes.readUInt16BE(o), bytes.readUInt32BE(o + 2)]);
    }
    out.push({ iv, subs });
  }
  t.equal(o, start + senc.size, 'senc entries fill the box exactly');
  return out;
}

t.test('fragments: saiz, saio and senc agree with the samples; subsamples keep NAL and slice headers clear', async (t) => {
  const idx = await readMediaIndex(SRC, BIG);
  const vt = idx.tracks.find((x) => x.kind === 'video')!;
  const params = avcParams(vt.parameterSets)!;
  const fh = await openFileSource(SRC);
  try {
    for (const scheme of ['cenc', 'cbcs'] as const) {
      const enc: Encryption = { scheme, key: KEY, keyId: KEY_ID, systems };
      for (const [what, policy, use, dash] of [
        ['DASH video', flatPolicy(4000), { video: true, audio: false }, true],
        ['DASH audio', flatPolicy(4000), { video: false, audio: true }, true],
        ['HLS muxed', hlsPolicy(10000), { video: true, audio: true }, false],
      ] as const) {
        const tl = buildTimeline(idx, policy, undefined, use);
        const tracks = [tl.video?.track, tl.audio?.track].filter((x) => x !== undefined);
        const seg = tl.segments[1];
        const body = await describeMediaSegment(tl, seg, { sequence: 2, dash, encryption: enc }, fh.source);
        const frag = await wholeAndRanges(t, SRC, body, `${scheme} ${what}`);
        t.same(await readBody(SRC, await describeMediaSegment(tl, seg, { sequence: 2, dash, encryption: enc }, fh.source)), frag, `${scheme} ${what}: described again from the remembered layouts, the same bytes`);
        const clear = await readBody(SRC, mediaSegment(tl, seg, { sequence: 2, dash }));
        const all = Buffer.concat([initSegment(tracks, enc), frag]);
        const f = parseMp4(all);
        t.same(f.boxes.slice(2).map((b: any) => b.type), dash ? ['styp', 'sidx', 'moof', 'mdat'] : ['moof', 'mdat'], `${scheme} ${what}: box order`);
        const moof = f.moofs[0];
        const clearF = parseMp4(Buffer.concat([initSegment(tracks), clear]));
        for (const [k, traf] of moof.trafs.entries()) {
          const trun = traf.truns[0];
          const isVideo = traf.tfhd.track_id === 1;
          const ivSize = scheme === 'cenc' ? 16 : 0;
          const name = `${scheme} ${what} ${isVideo ? 'video' : 'audio'}`;
          if (scheme === 'cbcs' && !isVideo) {
            t.notOk(traf.senc || traf.saiz || traf.saio, `${name}: constant IV and no subsamples need no sample auxiliary information`);
            continue;
          }
          t.ok(traf.senc && traf.saiz && traf.saio, `${name}: saiz, saio and senc present`);
          t.equal(traf.saiz.sample_count, trun.sample_count, `${name}: saiz counts every sample`);
          t.same(traf.saio.offset, [traf.senc.start - moof.start + 16], `${name}: saio points at the first sample's information in senc`);
          const entries = sencEntries(all, traf.senc, ivSize);
          t.equal(entries.length, trun.sample_count);
          const sizes = entries.map((e) => ivSize + (e.subs ? 2 + 6 * e.subs.length : 0));
          t.same(traf.saiz.default_sample_info_size ? entries.map(() => traf.saiz.default_sample_info_size) : traf.saiz.sample_info_size, sizes, `${name}: saiz sizes match the senc entries`);
          const clearTrun = clearF.moofs[0].trafs[k].truns[0];
          let covered = 0;
          let headersClear = 0;
          let aligned = 0;
          let slices = 0;
          // the sample data, clear, to see where the NAL units are
          let at = clearF.moofs[0].start + clearTrun.data_offset;
          entries.forEach((e, i) => {
            const size = trun.sample_size[i];
            t.equal(size, clearTrun.sample_size[i]);
            const sampleBytes = Buffer.concat([initSegment(tracks), clear]).subarray(at, at + size);
            at += size;
            if (!isVideo) {
              if (e.subs === null) covered++;
              return;
            }
            const sum = e.subs!.reduce((n, [c, p]) => n + c + p, 0);
            if (sum === size) covered++;
            // every protected range lies inside one slice NAL unit, after its header
            const nals: Array<{ start: number; end: number; header: number }> = [];
            for (let o = 0; o + 4 <= sampleBytes.length;) {
              const len = sampleBytes.readUInt32BE(o);
              const nal = sampleBytes.subarray(o + 4, o + 4 + len);
              const type = nal[0] & 0x1f;
              if (type === 1 || type === 5) nals.push({ start: o + 4, end: o + 4 + len, header: avcSliceHeaderBytes(nal, params)! });
              o += 4 + len;
            }
            let o = 0;
            for (const [c, p] of e.subs!) {
              o += c;
              if (p > 0) {
                slices++;
                const nal = nals.find((x) => x.start <= o && o + p <= x.end);
                if (nal && o >= nal.start + nal.header) headersClear++;
                if (p % 16 === 0 && nal && o + p === nal.end) aligned++;
              }
              o += p;
            }
          });
          t.equal(covered, entries.length, `${name}: subsamples cover every sample exactly (audio: whole-sample)`);
          if (isVideo) {
            t.ok(slices >= entries.length, `${name}: every sample has an encrypted slice`);
            t.equal(headersClear, slices, `${name}: protected bytes start after the slice header, inside the slice`);
            t.equal(aligned, slices, `${name}: protected bytes are whole blocks ending at the slice's end`);
          }
        }
      }
    }
  } finally {
    await fh.close();
  }
});

t.test('slice header sizes agree with ffmpeg trace_headers (sample media and x264 variants)', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const files = [sample('h264-240p.mp4'), sample('h264-720p.mp4'), sample('mobile-144p.3gp')];
  for (const [k, x264] of ['slices=4:weightp=2:bframes=3:b-pyramid=normal:ref=4', 'interlaced=1:bframes=2', 'cabac=0:weightp=1:ref=3', 'bframes=3:weightb=1:ref=5'].entries()) {
    const out = join(dir, `x264-${k}.mp4`);
    const r = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=320x240:rate=25', '-t', '2', '-c:v', 'libx264', '-x264-params', x264, '-pix_fmt', 'yuv420p', out]);
    t.equal(r.status, 0, `x264 ${x264}`);
    files.push(out);
  }
  for (const file of files) {
    const trace = spawnSync('ffmpeg', ['-nostdin', '-loglevel', 'debug', '-i', file, '-map', '0:v', '-c', 'copy', '-bsf:v', 'trace_headers', '-f', 'null', '-'], { encoding: 'utf8', maxBuffer: 1 << 30 }).stderr;
    const ends: number[] = [];
    let cur: number | null = null;
    for (const line of trace.split('\n')) {
      if (line.includes('] Slice Header')) {
        if (cur !== null) ends.push(cur);
        cur = 0;
        continue;
      }
      if (line.includes('nal_unit_type:') || line.includes('Access Unit')) {
        if (cur !== null) ends.push(cur);
        cur = null;
        continue;
      }
      const m = /\] (\d+)\s+(\S+)\s+([01]+) = /.exec(line);
      if (m && cur !== null && m[2] !== 'cabac_alignment_one_bit') cur = Math.max(cur, Number(m[1]) + m[3].length);
    }
    if (cur !== null) ends.push(cur);
    const idx = await readMediaIndex(file, BIG);
    const v = idx.tracks.find((x) => x.kind === 'video')!;
    const params = avcParams(v.parameterSets)!;
    const bytes = readFileSync(file);
    const mine: Array<number | null> = [];
    for (let i = 0; i < v.count; i++) {
      const s = bytes.subarray(v.offset[i], v.offset[i] + v.size[i]);
      for (let o = 0; o + 4 <= s.length;) {
        const len = s.readUInt32BE(o);
        const nal = s.subarray(o + 4, o + 4 + len);
        if ((nal[0] & 0x1f) === 1 || (nal[0] & 0x1f) === 5) mine.push(avcSliceHeaderBytes(nal, params));
        o += 4 + len;
      }
    }
    t.equal(mine.length, ends.length, `${file}: as many slices as ffmpeg traces`);
    t.same(mine, ends.map((e) => Math.ceil(e / 8)), `${file}: every slice header ends where ffmpeg says`);
  }
});

t.test('cenc IVs: a counter block is never used twice across flavors, tracks and segmentations', async (t) => {
  const enc: Encryption = { scheme: 'cenc', key: KEY, keyId: KEY_ID };
  const used: Array<{ from: bigint; to: bigint; who: string; bytes: string }> = [];
  for (const name of ['h264-240p.mp4', 'h264-360p.mp4']) {
    const path = sample(name);
    const idx = await readMediaIndex(path, BIG);
    const fh = await openFileSource(path);
    try {
      for (const [policy, use] of [[hlsPolicy(10000), { video: true, audio: true }], [flatPolicy(4000), { video: true, audio: false }], [flatPolicy(4000), { video: false, audio: true }]] as const) {
        const tl = buildTimeline(idx, policy, undefined, use);
        const tracks = [tl.video?.track, tl.audio?.track].filter((x) => x !== undefined);
        for (const [i, seg] of tl.segments.entries()) {
          const frag = await readBody(path, await describeMediaSegment(tl, seg, { sequence: i + 1, dash: false, encryption: enc }, fh.source));
          const all = Buffer.concat([initSegment(tracks, enc), frag]);
          const f = parseMp4(all);
          for (const traf of f.moofs[0].trafs) {
            const trun = traf.truns[0];
            const track = traf.tfhd.track_id === 1 ? 'video' : 'audio';
            const entries = sencEntries(all, traf.senc, 16);
            let first = 0;
            const range = seg[track];
            if (range) first = range.first;
            entries.forEach((e, k) => {
              const prot = e.subs ? e.subs.reduce((n, [, p]) => n + p, 0) : trun.sample_size[k];
              const blocks = BigInt(Math.ceil(prot / 16));
              if (!blocks) return;
              const from = BigInt('0x' + e.iv.toString('hex'));
              used.push({ from, to: from + blocks, who: `${name} ${track} sample ${first + k}`, bytes: '' });
            });
          }
        }
      }
    } finally {
      await fh.close();
    }
  }
  used.sort((a, b) => (a.from < b.from ? -1 : a.from > b.from ? 1 : 0));
  let clashes = 0;
  for (let i = 1; i < used.length; i++) {
    // the same sample encrypted in two segmentations may reuse its own counters: same bytes, same ciphertext
    if (used[i].from < used[i - 1].to && used[i].who !== used[i - 1].who) {
      clashes++;
      if (clashes < 3) t.comment(`${used[i - 1].who} and ${used[i].who} share counter blocks`);
    }
  }
  t.ok(used.length > 2000, `${used.length} sample encryptions checked`);
  t.equal(clashes, 0, 'no two different samples share a counter block');
});

t.test('SAMPLE-AES MPEG-TS: PMT stream types and descriptors, continuous counters, ranges', async (t) => {
  requireCommands(t, ['ffprobe'], 'ffmpeg');
  const idx = await readMediaIndex(SRC, BIG);
  const tl = buildTimeline(idx, hlsPolicy(10000));
  const enc: Encryption = { scheme: 'sample-aes', key: KEY, keyUri: 'key.bin', iv: IV };
  const segs: Buffer[] = [];
  for (let i = 0; i < tl.segments.length; i++) segs.push(await wholeAndRanges(t, SRC, tsSegment(tl, i, { encryption: enc, sequence: i + 1 }), `segment ${i + 1}`));
  t.same(await readBody(SRC, tsSegment(tl, 3, { encryption: enc, sequence: 4 })), segs[3], 'a segment made alone is the same');
  const ts = Buffer.concat(segs);
  // the PMT: section after the pointer field in the second packet
  const pmt = ts.subarray(188 + 5);
  const sectionEnd = 3 + (((pmt[1] & 0x0f) << 8) | pmt[2]) - 4;
  let o = 12 + (((pmt[10] & 0x0f) << 8) | pmt[11]);
  const streams: Array<{ type: number; descriptors: string }> = [];
  while (o < sectionEnd) {
    const len = ((pmt[o + 3] & 0x0f) << 8) | pmt[o + 4];
    streams.push({ type: pmt[o], descriptors: pmt.subarray(o + 5, o + 5 + len).toString('latin1') });
    o += 5 + len;
  }
  t.same(streams.map((s) => s.type), [0xdb, 0xcf], 'stream types 0xdb (H.264) and 0xcf (AAC)');
  t.equal(streams[0].descriptors, '\x0f\x04zavc', 'video: private data indicator zavc');
  const asc = Buffer.from(idx.tracks.find((x) => x.kind === 'audio')!.codecConfig).toString('latin1');
  t.equal(streams[1].descriptors, `\x0f\x04aacd\x05${String.fromCharCode(12 + asc.length)}apadzaac\x00\x00\x01${String.fromCharCode(asc.length)}${asc}`, 'audio: aacd, and an apad registration with the audio setup (zaac, priming 0, version 1, the AudioSpecificConfig)');
  const cc = new Map<number, number>();
  let jumps = 0;
  for (let p = 0; p < ts.length; p += 188) {
    const pid = ((ts[p + 1] & 0x1f) << 8) | ts[p + 2];
    if (pid !== 0x100 && pid !== 0x101) continue;
    if (cc.has(pid) && ((cc.get(pid)! + 1) & 15) !== (ts[p + 3] & 15)) jumps++;
    cc.set(pid, ts[p + 3] & 15);
  }
  t.equal(jumps, 0, 'continuity counters run on across segments');
  const file = join(dir, 'sample-aes.ts');
  writeFileSync(file, ts);
  const probe = JSON.parse(spawnSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_name', '-of', 'json', file], { encoding: 'utf8' }).stdout);
  t.same(probe.streams.map((s: any) => s.codec_name), ['h264', 'aac'], 'ffprobe reads H.264 and AAC streams');
});

t.test('HLS AES-128 and cenc bodies: ranges equal slices of the whole; lengths are PKCS7-padded', async (t) => {
  const idx = await readMediaIndex(SRC, BIG);
  const tl = buildTimeline(idx, hlsPolicy(10000));
  const aes: Encryption = { scheme: 'aes-128', key: KEY, keyUri: 'key.bin' };
  const clearTs = tsSegment(tl, 1);
  const ts = tsSegment(tl, 1, { encryption: aes, sequence: 2 });
  t.equal(ts.length, (Math.floor(clearTs.length / 16) + 1) * 16, 'TS: PKCS7 length from the clear length');
  await wholeAndRanges(t, SRC, ts, 'AES-128 TS');
  const clearF = mediaSegment(tl, tl.segments[1], { sequence: 2, dash: false });
  const f = mediaSegment(tl, tl.segments[1], { sequence: 2, dash: false, encryption: aes });
  t.equal(f.length, (Math.floor(clearF.length / 16) + 1) * 16, 'fMP4: PKCS7 length from the clear length');
  await wholeAndRanges(t, SRC, f, 'AES-128 fMP4');
});

t.test('manifests: EXT-X-KEY, ContentProtection and the Smooth Streaming ProtectionHeader, read by their parsers', async (t) => {
  const idx = await readMediaIndex(SRC, BIG);
  const spa = await readMediaIndex(sample('alt-audio-spa.mp4'), BIG);
  const m3u8 = (text: string): any => {
    const p = new M3u8Parser();
    p.push(text);
    p.end();
    return p.manifest;
  };
  // HLS MPEG-TS
  const hls = buildTimeline(idx, hlsPolicy(10000));
  const r = rendition(1, hls);
  const clearText = mediaPlaylist(r, { container: 'ts', video: true, audio: true, f: 1 });
  for (const [scheme, method] of [['aes-128', 'AES-128'], ['sample-aes', 'SAMPLE-AES']] as const) {
    const text = mediaPlaylist(r, { container: 'ts', video: true, audio: true, f: 1, encryption: { scheme, key: KEY, keyUri: 'https://k.example.com/key?e=1_x', iv: IV } });
    const m = m3u8(text);
    t.equal(m.segments.length, hls.segments.length);
    t.ok(m.segments.every((s: any) => s.key?.method === method && s.key.uri === 'https://k.example.com/key?e=1_x'), `${scheme}: every segment carries the key`);
    t.same([...m.segments[0].key.iv].map((x: number) => x >>> 0), [0x01234567, 0x89abcdef, 0x01234567, 0x89abcdef], `${scheme}: the IV`);
    t.equal(text.replace(/#EXT-X-KEY[^\n]*\n/, '').replace('#EXT-X-VERSION:5', '#EXT-X-VERSION:3'), clearText, `${scheme}: the clear playlist plus the key line`);
  }
  // HLS fMP4 with common encryption: one key line per system
  for (const scheme of ['cenc', 'cbcs'] as const) {
    const enc: Encryption = { scheme, key: KEY, keyId: KEY_ID, systems: [...systems, ...(scheme === 'cbcs' ? [{ name: 'fairplay' as const, keyUri: 'skd://1_cenc0001' }] : [])] };
    const text = mediaPlaylist(r, { container: 'fmp4', video: true, audio: true, f: 1, encryption: enc });
    const method = scheme === 'cbcs' ? 'SAMPLE-AES' : 'SAMPLE-AES-CTR';
    const keyLines = text.split('\n').filter((l) => l.startsWith('#EXT-X-KEY'));
    t.equal(keyLines.length, scheme === 'cbcs' ? 4 : 3, `${scheme}: a key line per system`);
    t.ok(keyLines.every((l) => l.startsWith(`#EXT-X-KEY:METHOD=${method},`)), `${scheme}: METHOD=${method}`);
    t.ok(text.indexOf('#EXT-X-KEY') < text.indexOf('#EXT-X-MAP'), 'keys come before the init segment');
    const m = m3u8(text);
    t.same(Object.keys(m.contentProtection ?? {}).sort(), (scheme === 'cbcs' ? ['com.apple.fps.1_0', 'com.microsoft.playready', 'com.widevine.alpha'] : ['com.microsoft.playready', 'com.widevine.alpha']).sort(), `${scheme}: m3u8-parser finds the DRM systems`);
    t.equal(Buffer.from(m.contentProtection['com.widevine.alpha'].pssh).subarray(-WIDEVINE_DATA.length).toString('hex'), WIDEVINE_DATA.toString('hex'), `${scheme}: Widevine's pssh is the given data`);
    t.match(text, `KEYID=0x${KEY_ID.toString('hex')},KEYFORMAT="org.w3.clearkey"`);
  }
  t.throws(() => mediaPlaylist(r, { container: 'fmp4', video: true, audio: true, f: 1, encryption: { scheme: 'sample-aes', key: KEY, keyUri: 'k' } }), errorWith({ kind: 'BAD_ENCRYPTION' }), 'SAMPLE-AES of TS samples is not for fMP4');
  t.throws(() => mediaPlaylist(r, { container: 'ts', video: true, audio: true, f: 1, encryption: { scheme: 'cenc', key: KEY, keyId: KEY_ID } }), errorWith({ kind: 'BAD_ENCRYPTION' }), 'cenc is not for MPEG-TS');
  t.throws(() => mediaPlaylist(r, { container: 'ts', video: true, audio: true, f: 1, encryption: { scheme: 'aes-128', key: KEY } }), errorWith({ kind: 'BAD_ENCRYPTION' }), 'HLS AES-128 without a key URI');
  t.throws(() => mediaPlaylist(r, { container: 'ts', video: true, audio: true, f: 1, encryption: { scheme: 'aes-128', key: KEY.subarray(0, 4), keyUri: 'k' } }), errorWith({ kind: 'BAD_ENCRYPTION' }), 'a short key in a playlist');
  // AES-128 of fMP4 in a sequence: the init of each clip stays clear
  const seq = { ...r, clips: [hls, hls] };
  const seqText = mediaPlaylist(seq, { container: 'fmp4', video: true, audio: true, f: 1, encryption: { scheme: 'aes-128', key: KEY, keyUri: 'k' } });
  t.match(seqText, /#EXT-X-MAP:URI="init-f1-v1-a1.mp4"\n#EXT-X-KEY:METHOD=AES-128,URI="k"\n[\s\S]*#EXT-X-DISCONTINUITY\n#EXT-X-KEY:METHOD=NONE\n#EXT-X-MAP:URI="init-2-f1-v1-a1.mp4"\n#EXT-X-KEY:METHOD=AES-128,URI="k"\n/, 'each map is followed by the key, after a METHOD=NONE');
  const p: Presentation = { container: 'ts', captions: [], renditions: [rendition(1, hls)] };
  t.equal(masterPlaylist(p), masterPlaylist(p), 'the master playlist does not change');

  // DASH
  const video = buildTimeline(idx, flatPolicy(4000), undefined, { video: true, audio: false });
  const audio = buildTimeline(spa, flatPolicy(4000), undefined, { video: false, audio: true });
  const dashP: Presentation = { container: 'fmp4', captions: [], renditions: [rendition(1, video), rendition(2, audio, { language: 'es', label: 'Español' })] };
  t.equal(buildMpd(dashP).includes('ContentProtection'), false, 'clear MPD has no ContentProtection');
  for (const scheme of ['cenc', 'cbcs'] as const) {
    const xml = buildMpd(dashP, { scheme, key: KEY, keyId: KEY_ID, systems });
    const mpd = parseMpd(xml, { manifestUri: 'https://cdn.example.com/a/manifest.mpd' });
    const vcp = mpd.playlists[0].contentProtection;
    t.ok(vcp, `${scheme}: video representation has contentProtection`);
    if (!vcp) continue;
    t.same(Object.keys(vcp).sort(), ['com.microsoft.playready', 'com.widevine.alpha', 'mp4protection', 'org.w3.clearkey'].sort(), `${scheme}: mpd-parser reads the scheme and three systems`);
    t.equal(vcp.mp4protection.attributes.value, scheme);
    t.equal(vcp.mp4protection.attributes['cenc:default_KID'], 'b0eb8a17-3239-24b6-d8d3-6875aacb0b48');
    t.ok((vcp['com.widevine.alpha'].pssh?.length ?? 0) > 32, `${scheme}: Widevine pssh`);
    t.ok((vcp['org.w3.clearkey'].pssh?.length ?? 0) > 32, `${scheme}: ClearKey pssh`);
    const audioGroup: any = Object.values(mpd.mediaGroups.AUDIO.audio)[0];
    t.ok(audioGroup.playlists[0].contentProtection.mp4protection, `${scheme}: audio has contentProtection too`);
    t.match(xml, '<dashif:laurl>https://keys.example.com/licence?a=1&amp;b=2</dashif:laurl><clearkey:Laurl Lic_type="EME-1.0">https://keys.example.com/licence?a=1&amp;b=2</clearkey:Laurl>', 'ClearKey licence URL, escaped');
    t.match(xml, `<mspr:pro>${PLAYREADY_PRO.toString('base64')}</mspr:pro>`, 'PlayReady PRO');
    const doc = new XMLParser({ ignoreAttributes: false }).parse(xml);
    t.ok(doc.MPD['@_xmlns:cenc'] && doc.MPD['@_xmlns:dashif'] && doc.MPD['@_xmlns:mspr'] && doc.MPD['@_xmlns:clearkey'], `${scheme}: namespaces declared`);
  }
  t.throws(() => buildMpd(dashP, { scheme: 'aes-128', key: KEY, keyUri: 'k' }), errorWith({ kind: 'BAD_ENCRYPTION' }));

  // Smooth Streaming
  const mssP: Presentation = { container: 'fmp4', captions: [], renditions: [rendition(1, buildTimeline(idx, flatPolicy(2000)))] };
  const clearMss = mssManifest(mssP);
  const mss = mssManifest(mssP, { scheme: 'cenc', key: KEY, keyId: KEY_ID, systems });
  const doc = new XMLParser({ ignoreAttributes: false }).parse(mss);
  t.equal(doc.SmoothStreamingMedia.Protection.ProtectionHeader['@_SystemID'], '9A04F079-9840-4286-AB92-E65BE0885F95');
  t.equal(doc.SmoothStreamingMedia.Protection.ProtectionHeader['#text'], PLAYREADY_PRO.toString('base64'), 'the PlayReady header as given');
  t.equal(mss.replace(/<Protection>.*<\/Protection>\n/, ''), clearMss, 'otherwise the clear manifest');
  t.equal(mssManifest(mssP, { scheme: 'cenc', key: KEY, keyId: KEY_ID }), clearMss, 'no PlayReady header, no Protection element');
  t.throws(() => mssManifest(mssP, { scheme: 'cbcs', key: KEY, keyId: KEY_ID }), errorWith({ kind: 'BAD_ENCRYPTION' }));
});

t.test('refusals: descriptions the writers cannot use, codecs a format cannot carry', async (t) => {
  const bad = (e: unknown, why: string): void => {
    let err: unknown = null;
    try {
      checkEncryption(e as Encryption);
    } catch (x) {
      err = x;
    }
    t.ok(isMediaError(err) && err.kind === 'BAD_ENCRYPTION', why);
  };
  bad({ scheme: 'aes-256', key: KEY, keyUri: 'k' }, 'unknown scheme');
  bad({ scheme: 'aes-128', key: KEY.subarray(0, 8), keyUri: 'k' }, 'short key');
  bad({ scheme: 'aes-128', key: KEY, keyUri: 'k', iv: Buffer.alloc(8) }, 'short IV');
  bad({ scheme: 'cenc', key: KEY }, 'cenc without a key id');
  bad({ scheme: 'cenc', key: KEY, keyId: KEY_ID, systems: [{ name: 'fairplay' }] }, 'FairPlay with cenc');
  bad({ scheme: 'cenc', key: KEY, keyId: KEY_ID, systems: [{ name: 'marlin' }] }, 'unknown system');
  const idx = await readMediaIndex(SRC, BIG);
  const tl = buildTimeline(idx, hlsPolicy(10000));
  t.throws(() => tsSegment(tl, 0, { encryption: { scheme: 'cenc', key: KEY, keyId: KEY_ID }, sequence: 1 }), errorWith({ kind: 'BAD_ENCRYPTION' }), 'cenc of MPEG-TS');
  t.throws(() => tsSegment(tl, 0, { encryption: { scheme: 'aes-128', key: Buffer.alloc(15) }, sequence: 1 }), errorWith({ kind: 'BAD_ENCRYPTION' }), 'a short key in a segment');
  t.throws(() => mediaSegment(tl, tl.segments[0], { sequence: 1, dash: false, encryption: { scheme: 'cenc', key: KEY, keyId: KEY_ID } }), errorWith({ kind: 'BAD_ENCRYPTION' }), 'cenc needs describeMediaSegment');
  const fh = await openFileSource(SRC);
  try {
    await t.rejects(describeMediaSegment(tl, tl.segments[0], { sequence: 1, dash: false, piff: true, encryption: { scheme: 'cbcs', key: KEY, keyId: KEY_ID } }, fh.source), errorWith({ kind: 'BAD_ENCRYPTION' }), 'Smooth Streaming with cbcs');
  } finally {
    await fh.close();
  }
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const hevc = join(dir, 'hevc.mp4');
  const made = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x120:rate=25', '-t', '1', '-c:v', 'libx265', '-tag:v', 'hvc1', hevc]);
  t.equal(made.status, 0, 'an HEVC file made with ffmpeg');
  const htl = buildTimeline(await readMediaIndex(hevc, BIG), hlsPolicy(10000));
  t.throws(() => tsSegment(htl, 0, { encryption: { scheme: 'sample-aes', key: KEY, keyUri: 'k' }, sequence: 1 }), errorWith({ kind: 'UNSUPPORTED' }), 'SAMPLE-AES MPEG-TS carries H.264 only');
  // HEVC in fMP4 with cbcs works (fixed clear leaders)
  const hfh = await openFileSource(hevc);
  try {
    const body = await describeMediaSegment(htl, htl.segments[0], { sequence: 1, dash: false, encryption: { scheme: 'cbcs', key: KEY, keyId: KEY_ID } }, hfh.source);
    const bytes = await readBody(hevc, body);
    t.equal(bytes.length, body.length, 'HEVC cbcs fragment');
  } finally {
    await hfh.close();
  }
});

t.test('the test helper packages HLS into files a player reads', async (t) => {
  const pkg = await packageHls(SRC, join(dir, 'pkg'), { container: 'ts', encryption: { scheme: 'aes-128', key: KEY, keyUri: 'key.bin' } });
  t.same(readFileSync(join(pkg.dir, 'key.bin')), KEY);
  t.equal(pkg.segments.length, 5);
});
