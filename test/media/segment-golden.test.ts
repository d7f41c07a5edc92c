// Issue 17 (segment CPU): the packager's segments stay byte-identical to what main's writers made
// before they were made cheaper (TS packets written straight from the source region, one read
// per fragment, the segment answer cache). The hashes in fixtures/segment-golden.json were
// computed by this file at commit d165245 (before those changes), the MPEG-TS ones (ts,
// ts-aes128, ts-sampleaes) again when every video PES gained an access unit delimiter
// (src/media/ts/writer.ts; test/media/writers.test.ts proves the per-sample and one-read paths
// still agree), and the audio-only MPEG-TS ones when their PES became short enough to carry a
// PCR every 100 ms (test/media/ts-pcr.test.ts); print them again with KDELIVER_PRINT_GOLDEN=1. Each case is hashed whole and over two ranges, with the segment
// answer cache off (every byte made) and on (made once, then answered from the cache), and the
// TS segments of the cached run are decoded by ffmpeg.
import t from 'tap';
import { createHash } from 'node:crypto';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, flatPolicy, hlsPolicy, type Timeline } from '../../src/media/segment.js';
import { describeMediaSegment, mediaSegment } from '../../src/media/fmp4/writer.js';
import { tsSegment } from '../../src/media/ts/writer.js';
import * as body from '../../src/media/body.js';
import { openFileSource } from '../../src/media/source.js';
import type { Encryption } from '../../src/media/crypto/encryption.js';
import { requireCommands } from '../helpers/system.js';
import { sample } from './helpers.js';
import { repoPath } from '../helpers/repo.js';

const GOLDEN = repoPath('test/media/fixtures/segment-golden.json');
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex').slice(0, 20);
const key = Buffer.from('2e12bc8bbc726374d07ee3626f50108f', 'hex');
const keyId = Buffer.from('b0eb8a17323924b6d8d36875aacb0b48', 'hex');
const iv = Buffer.from('0123456789abcdef0123456789abcdef', 'hex');
const ENC: Record<string, Encryption> = {
  aes128: { scheme: 'aes-128', key, keyUri: 'https://example.com/key' } as Encryption,
  sampleaes: { scheme: 'sample-aes', key, iv, keyUri: 'https://example.com/key' } as Encryption,
  cenc: { scheme: 'cenc', key, keyId, systems: [{ name: 'clearkey' }] } as unknown as Encryption,
  cbcs: { scheme: 'cbcs', key, keyId, systems: [{ name: 'clearkey' }] } as unknown as Encryption,
};
const setCache = (bytes: number): void => body.setSegmentCacheBytes(bytes);

async function collect(b: body.MediaBody, source: Awaited<ReturnType<typeof openFileSource>>['source'], start: number, end: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of b.produce(source, start, end)) chunks.push(Buffer.from(c));
  return Buffer.concat(chunks);
}

type Case = [name: string, make: () => Promise<body.MediaBody> | body.MediaBody];

function casesOf(name: string, idx: Awaited<ReturnType<typeof readMediaIndex>>, source: Awaited<ReturnType<typeof openFileSource>>['source']): Case[] {
  const out: Case[] = [];
  const uses = [['av', { video: true, audio: true }], ['v', { video: true, audio: false }], ['a', { video: false, audio: true }]] as const;
  for (const [u, use] of uses) {
    let hls: Timeline;
    try {
      hls = buildTimeline(idx, hlsPolicy(10000), undefined, use);
    } catch {
      continue;
    }
    if (!hls.video && !hls.audio) continue;
    for (let i = 0; i < hls.segments.length; i++) {
      out.push([`${name} ts ${u} ${i}`, () => tsSegment(hls, i)]);
      out.push([`${name} fmp4 ${u} ${i}`, () => mediaSegment(hls, hls.segments[i], { sequence: i + 1, dash: false })]);
      if (i < 2) {
        out.push([`${name} ts-aes128 ${u} ${i}`, () => tsSegment(hls, i, { encryption: ENC.aes128, sequence: i + 1 })]);
        if (!hls.video || hls.video.track.nalLengthSize === 4) out.push([`${name} ts-sampleaes ${u} ${i}`, () => tsSegment(hls, i, { encryption: ENC.sampleaes, sequence: i + 1 })]);
        out.push([`${name} fmp4-aes128 ${u} ${i}`, () => mediaSegment(hls, hls.segments[i], { sequence: i + 1, dash: false, encryption: ENC.aes128 })]);
        out.push([`${name} fmp4-cenc ${u} ${i}`, () => describeMediaSegment(hls, hls.segments[i], { sequence: i + 1, dash: false, encryption: ENC.cenc }, source)]);
      }
    }
    if (u === 'av') continue;
    const dash = buildTimeline(idx, flatPolicy(4000), undefined, use);
    for (let i = 0; i < dash.segments.length; i++) {
      out.push([`${name} dash ${u} ${i}`, () => mediaSegment(dash, dash.segments[i], { sequence: i + 1, dash: true })]);
      if (i < 2) for (const e of ['cenc', 'cbcs']) out.push([`${name} dash-${e} ${u} ${i}`, () => describeMediaSegment(dash, dash.segments[i], { sequence: i + 1, dash: true, encryption: ENC[e] }, source)]);
    }
  }
  return out;
}

const FILES = ['h264-720p.mp4', 'h264-240p.mp4', 'source-720p.mp4', 'audio-128k.mp4', 'alt-audio-spa.mp4'];

/** name → "length:whole:range1:range2"; the TS bodies of each file too, when asked for. */
async function hashes(onTs?: (file: string, name: string, bytes: Buffer) => void): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const file of FILES) {
    const path = sample(file);
    const idx = await readMediaIndex(path, { maxMoovBytes: 64 << 20 });
    const { source, close } = await openFileSource(path);
    try {
      for (const [name, make] of casesOf(file, idx, source)) {
        const b = await make();
        const n = b.length;
        const whole = await collect(b, source, 0, n - 1);
        const mid = await collect(await make(), source, Math.min(n - 1, 377), Math.min(n - 1, Math.floor(n / 2) + 1000));
        const tail = await collect(await make(), source, Math.max(0, n - 7001), n - 1);
        out[name] = `${n}:${sha(whole)}:${sha(mid)}:${sha(tail)}`;
        if (name.includes(' ts ')) onTs?.(file, name, whole);
      }
    } finally {
      await close();
    }
  }
  return out;
}

if (process.env.KDELIVER_PRINT_GOLDEN) {
  setCache(0);
  writeFileSync(GOLDEN, JSON.stringify(await hashes(), null, 1) + '\n');
  t.pass('golden written');
} else {
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as Record<string, string>;

  t.test('every segment is byte-identical to main\'s, whole and by range (no answer cache)', async (t) => {
    setCache(0);
    const got = await hashes();
    t.same(Object.keys(got).sort(), Object.keys(golden).sort(), 'the same cases');
    const differ = Object.keys(golden).filter((k) => got[k] !== golden[k]);
    t.same(differ, [], `${Object.keys(golden).length} cases identical`);
  });

  t.test('the same through the segment answer cache (made once, then answered from it); ffmpeg decodes the TS', async (t) => {
    requireCommands(t, ['ffmpeg'], 'ffmpeg');
    setCache(64 << 20);
    const ts = new Map<string, Buffer[]>();
    const first = await hashes((file, name, bytes) => {
      const k = `${file} ${name.split(' ')[2]}`;
      if (!ts.has(k)) ts.set(k, []);
      ts.get(k)!.push(bytes);
    });
    const again = await hashes();
    const differ = Object.keys(golden).filter((k) => first[k] !== golden[k] || again[k] !== golden[k]);
    t.same(differ, [], 'identical when made for the cache and when answered from it');
    const dir = mkdtempSync(join(tmpdir(), 'kdeliver-golden-'));
    try {
      for (const [k, segs] of ts) {
        const f = join(dir, 'all.ts');
        writeFileSync(f, Buffer.concat(segs));
        const dec = spawnSync('ffmpeg', ['-v', 'error', '-i', f, '-f', 'null', '-'], { encoding: 'utf8' });
        t.equal(dec.status, 0, `${k}: ffmpeg decodes the ${segs.length} TS segments`);
        t.equal(dec.stderr.trim(), '', `${k}: with no error`);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
      setCache(0);
    }
  });
}

t.test('the segment answer cache: bounded, counted, keyed by the parsed file, never keeps keyed answers', async (t) => {
  const { clearSegmentCache, segmentCacheStats, setSegmentCacheBytes } = body;
  t.teardown(() => setSegmentCacheBytes(0));
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-segcache-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'media.mp4');
  writeFileSync(path, readFileSync(sample('h264-720p.mp4')));
  setSegmentCacheBytes(64 << 20);
  clearSegmentCache();
  const idx = await readMediaIndex(path, { maxMoovBytes: 64 << 20 });
  const tl = buildTimeline(idx, hlsPolicy(10000));
  const { source, close } = await openFileSource(path);
  const made = await collect(tsSegment(tl, 0), source, 0, tsSegment(tl, 0).length - 1);
  await close();
  const s1 = segmentCacheStats();
  t.equal(s1.entries, 1, 'a whole answer is kept');
  t.equal(s1.bytes, made.length, 'its bytes are counted');

  // the file is replaced by other media: a new parse, a new timeline, never the old answer
  writeFileSync(path, readFileSync(sample('h264-240p.mp4')));
  const idx2 = await readMediaIndex(path, { maxMoovBytes: 64 << 20 });
  const tl2 = buildTimeline(idx2, hlsPolicy(10000));
  const src2 = await openFileSource(path);
  const b2 = tsSegment(tl2, 0);
  const fresh = await collect(b2, src2.source, 0, b2.length - 1);
  setSegmentCacheBytes(0);
  const b3 = tsSegment(tl2, 0);
  const uncached = await collect(b3, src2.source, 0, b3.length - 1);
  t.ok(fresh.equals(uncached) && !fresh.equals(made), 'the replaced file\'s segment is made from it, not taken from the cache');
  t.equal(segmentCacheStats().entries, 0, 'turning the cache off empties it');

  // keyed answers (SAMPLE-AES, cenc) are never kept; AES-128 keeps only the clear answer it wraps
  setSegmentCacheBytes(64 << 20);
  const sa = tsSegment(tl2, 1, { encryption: ENC.sampleaes, sequence: 2 });
  await collect(sa, src2.source, 0, sa.length - 1);
  const ce = await describeMediaSegment(tl2, tl2.segments[1], { sequence: 2, dash: false, encryption: ENC.cenc }, src2.source);
  await collect(ce, src2.source, 0, ce.length - 1);
  t.equal(segmentCacheStats().entries, 0, 'SAMPLE-AES and cenc answers are not kept');
  const aes = tsSegment(tl2, 1, { encryption: ENC.aes128, sequence: 2 });
  const aesBytes = await collect(aes, src2.source, 0, aes.length - 1);
  t.equal(segmentCacheStats().entries, 1, 'AES-128 keeps the clear answer under it');
  t.notOk(aesBytes.includes(made.subarray(400, 600)), 'and the encrypted answer is not it');

  // bounded: the least recently used answers go first; one answer may take at most an eighth
  clearSegmentCache();
  const bound = 1 << 20;
  setSegmentCacheBytes(bound);
  for (let i = 0; i < tl2.segments.length; i++) {
    const b = mediaSegment(tl2, tl2.segments[i], { sequence: i + 1, dash: false });
    await collect(b, src2.source, 0, b.length - 1);
  }
  const s2 = segmentCacheStats();
  t.ok(s2.bytes <= bound && s2.entries > 0, `kept ${s2.entries} answers in ${s2.bytes} bytes, at most ${bound}`);
  const before = segmentCacheStats().hits;
  const again = mediaSegment(tl2, tl2.segments[tl2.segments.length - 1], { sequence: tl2.segments.length, dash: false });
  await collect(again, src2.source, 0, again.length - 1);
  t.equal(segmentCacheStats().hits, before + 1, 'the last answer made is answered from the cache');
  setSegmentCacheBytes(8 << 10);
  const big = tsSegment(tl2, 0);
  await collect(big, src2.source, 0, big.length - 1);
  t.equal(segmentCacheStats().entries, 0, 'an answer over an eighth of the bound is not kept');

  // emptied while an answer is being made (the packager saw the catalog change): it is not put back
  setSegmentCacheBytes(64 << 20);
  const during = tsSegment(tl2, 2);
  clearSegmentCache();
  const duringBytes = await collect(during, src2.source, 0, during.length - 1);
  t.equal(segmentCacheStats().entries, 0, 'an answer described before a clear is not kept after it');
  const after = tsSegment(tl2, 2);
  t.ok((await collect(after, src2.source, 0, after.length - 1)).equals(duringBytes), 'made again, the same bytes');
  t.equal(segmentCacheStats().entries, 1, 'and kept');
  await src2.close();
});
