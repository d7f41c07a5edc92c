// Proof by a client nobody here wrote: Debian's ffmpeg reads every HLS variant (MPEG-TS and
// fMP4) and the DASH manifest straight from the running server, decodes every stream to the
// end without an error, and finds the duration of the source (or of the clip) to within one
// frame. A clipFrom request must start on the picture of the key frame at or before clipFrom,
// checked frame hash against frame hash with the source file decoded the same way.
import t, { type Test } from 'tap';
import { Parser as M3u8Parser } from 'm3u8-parser';
import { startServer, type TestServer } from '../helpers/server.js';
import { requireCommands } from '../helpers/system.js';
import { decodeAll, keyFrameTimes, sampleFlavorFile, streamOf, type DecodeResult } from '../helpers/media-tools.js';
import { ALT, SAMPLE, dashManifest, hlsIndex, playManifest, resolveUrl } from '../helpers/packager-urls.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

// Decoded sources, by file, so every comparison is against the same decoder's view of the source
const sourceCache = new Map<string, Promise<DecodeResult>>();
function decodeSource(entryId: string, flavorId: string): Promise<DecodeResult> {
  const file = sampleFlavorFile(entryId, flavorId);
  let p = sourceCache.get(file);
  if (!p) sourceCache.set(file, (p = decodeAll(file)));
  return p;
}

const flavorIdOf = (url: string): string => {
  const m = /\/flavorId\/([^/]+)\//.exec(url);
  if (!m) throw new Error(`no flavorId in ${url}`);
  return m[1];
};

async function fetchText(url: string): Promise<{ status: number; text: string; type: string | null }> {
  const res = await fetch(url);
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') };
}

function parseM3u8(text: string) {
  const p = new M3u8Parser();
  p.push(text);
  p.end();
  return p.manifest as any;
}

/** Asserts a decode went to the end cleanly. */
function assertClean(t: Test, what: string, d: DecodeResult): void {
  t.equal(d.code, 0, `${what}: ffmpeg exits 0`, { stderr: d.stderr });
  t.equal(d.stderr, '', `${what}: no decoder error`);
}

/**
 * Asserts the decoded video and audio durations are within one video frame of the expected ones.
 * Audio is allowed one audio frame more: AAC can only be cut on its 1024-sample frames.
 */
function assertDurations(t: Test, what: string, got: DecodeResult, expect: { video?: number; audio?: number }, frame: number): void {
  const v = streamOf(got, 'video');
  const a = streamOf(got, 'audio');
  if (expect.video !== undefined) {
    t.ok(v, `${what}: has a video stream`);
    if (v) t.ok(Math.abs(v.duration - expect.video) <= frame + 1e-6, `${what}: video lasts ${v.duration.toFixed(3)} s, expected ${expect.video.toFixed(3)} s ± ${frame} s`);
  }
  if (expect.audio !== undefined) {
    t.ok(a, `${what}: has an audio stream`);
    const aacFrame = a?.frames[0]?.duration ?? 0;
    if (a) t.ok(Math.abs(a.duration - expect.audio) <= frame + aacFrame + 1e-6, `${what}: audio lasts ${a.duration.toFixed(3)} s, expected ${expect.audio.toFixed(3)} s ± ${(frame + aacFrame).toFixed(4)} s`);
  }
}

const frameOf = (d: DecodeResult): number => streamOf(d, 'video')?.frames[0]?.duration ?? 0.04;

// One server for the file; its teardown runs when this parent test's subtests are done
t.test('packager output read by ffmpeg', async (t) => {
const server: TestServer = await startServer(t);

t.test('HLS variants from playManifest applehttp decode to the end, MPEG-TS and fMP4', async (t) => {
  const masterUrl = server.url + playManifest(SAMPLE.entryId, 'applehttp');
  const master = await fetchText(masterUrl);
  t.equal(master.status, 200, 'playManifest applehttp answers 200', { body: master.text.slice(0, 300) });
  const variants: string[] = (parseM3u8(master.text).playlists ?? []).map((p: any) => resolveUrl(p.uri, masterUrl));
  t.ok(variants.length >= 3, `master lists the H.264 variants (${variants.length})`);
  for (const tsUrl of variants) {
    t.match(tsUrl, /\/hls\/p\/309\/sp\/\d+\/serveFlavor\/entryId\/1_rcit0qgs\/.*\/flavorId\/[^/]+\/name\/a\.mp4\/index\.m3u8/, 'variant is a packager index URL');
    const fid = flavorIdOf(tsUrl);
    const src = await decodeSource(SAMPLE.entryId, fid);
    const expected = { video: streamOf(src, 'video')!.duration, audio: streamOf(src, 'audio')!.duration };
    const fmp4Url = tsUrl.replace('/hls/p/', '/hls/container/fmp4/p/');
    for (const [container, url] of [['MPEG-TS', tsUrl], ['fMP4', fmp4Url]] as const) {
      const d = await decodeAll(url);
      assertClean(t, `${container} ${fid}`, d);
      assertDurations(t, `${container} ${fid}`, d, expected, frameOf(src));
    }
  }
});

t.test('HLS per-flavor index of the grammar, TS and fMP4, gives the source pictures', async (t) => {
  // every decoded picture of the packaged stream is the source's picture, in order
  const src = await decodeSource(SAMPLE.entryId, SAMPLE.p240);
  const want = streamOf(src, 'video')!.frames.map((f) => f.hash);
  for (const container of ['ts', 'fmp4'] as const) {
    const url = server.url + hlsIndex({ entryId: SAMPLE.entryId, flavorId: SAMPLE.p240, container });
    const d = await decodeAll(url);
    assertClean(t, `${container} index`, d);
    const got = streamOf(d, 'video')?.frames.map((f) => f.hash) ?? [];
    t.equal(got.length, want.length, `${container}: ${want.length} pictures`);
    t.ok(got.length === want.length && got.every((m, i) => m === want[i]), `${container}: every picture equals the source's`);
  }
});

t.test('DASH manifest decodes to the end, every representation', async (t) => {
  const ids = [SAMPLE.p240, SAMPLE.p360];
  const url = server.url + dashManifest({ entryId: SAMPLE.entryId, flavorIds: ids });
  // ffmpeg's DASH demuxer opens every representation as its own stream
  const d = await decodeAll(url);
  assertClean(t, 'DASH urlset', d);
  const src = await decodeSource(SAMPLE.entryId, SAMPLE.p240);
  const videos = d.streams.filter((s) => s.mediaType === 'video');
  t.equal(videos.length, ids.length, 'one video stream per flavor');
  for (const v of d.streams) {
    const ref = streamOf(src, v.mediaType as 'video' | 'audio');
    if (!ref) continue;
    const tol = frameOf(src) + (v.mediaType === 'audio' ? v.frames[0]?.duration ?? 0 : 0) + 1e-6;
    t.ok(Math.abs(v.duration - ref.duration) <= tol, `DASH ${v.mediaType} stream ${v.index} lasts ${v.duration.toFixed(3)} s, source ${ref.duration.toFixed(3)} s`);
  }
});

t.test('playManifest mpegdash redirects to an MPD that decodes', async (t) => {
  const res = await fetch(server.url + playManifest(SAMPLE.entryId, 'mpegdash', '', 'a.mpd'), { redirect: 'manual' });
  t.equal(res.status, 302, 'mpegdash is a redirect');
  const loc = res.headers.get('location') ?? '';
  t.match(loc, /\/dash\/p\/309\/.*\/manifest\.mpd$/, 'to the packager MPD');
  const d = await decodeAll(resolveUrl(loc, server.url));
  assertClean(t, 'DASH from playManifest', d);
  const src = await decodeSource(SAMPLE.entryId, SAMPLE.p240);
  assertDurations(t, 'DASH from playManifest', d, { video: streamOf(src, 'video')!.duration, audio: streamOf(src, 'audio')!.duration }, frameOf(src));
});

t.test('clipTo ends the HLS and DASH output at clipTo', async (t) => {
  const src = await decodeSource(SAMPLE.entryId, SAMPLE.p240);
  const clipToMs = 6000;
  const urls = [
    ['HLS TS', hlsIndex({ entryId: SAMPLE.entryId, flavorId: SAMPLE.p240, clipToMs })],
    ['HLS fMP4', hlsIndex({ entryId: SAMPLE.entryId, flavorId: SAMPLE.p240, clipToMs, container: 'fmp4' })],
    ['DASH', dashManifest({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240], clipToMs })],
  ] as const;
  for (const [what, path] of urls) {
    const d = await decodeAll(server.url + path);
    assertClean(t, `${what} clipTo`, d);
    assertDurations(t, `${what} clipTo ${clipToMs}`, d, { video: clipToMs / 1000, audio: clipToMs / 1000 }, frameOf(src));
  }
});

t.test('clipFrom starts on the key frame at or before clipFrom, picture for picture', async (t) => {
  const file = sampleFlavorFile(SAMPLE.entryId, SAMPLE.p240);
  const src = await decodeSource(SAMPLE.entryId, SAMPLE.p240);
  const srcVideo = streamOf(src, 'video')!;
  const keys = await keyFrameTimes(file);
  for (const [clipFromMs, clipToMs] of [[4500, undefined], [5000, 9000]] as const) {
    const key = Math.max(...keys.filter((k) => k <= clipFromMs / 1000 + 1e-6));
    const keyFrame = srcVideo.frames.find((f) => Math.abs(f.pts - key) < 1e-3);
    t.ok(keyFrame, `source has a picture at the key frame ${key}s`);
    const end = clipToMs !== undefined ? clipToMs / 1000 : srcVideo.start + srcVideo.duration;
    const urls = [
      ['HLS TS', hlsIndex({ entryId: SAMPLE.entryId, flavorId: SAMPLE.p240, clipFromMs, clipToMs })],
      ['HLS fMP4', hlsIndex({ entryId: SAMPLE.entryId, flavorId: SAMPLE.p240, clipFromMs, clipToMs, container: 'fmp4' })],
      ['DASH', dashManifest({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240], clipFromMs, clipToMs })],
    ] as const;
    for (const [what, path] of urls) {
      const label = `${what} clipFrom ${clipFromMs}${clipToMs ? ` clipTo ${clipToMs}` : ''}`;
      const d = await decodeAll(server.url + path);
      assertClean(t, label, d);
      const first = streamOf(d, 'video')?.frames[0];
      t.ok(first, `${label}: has a first picture`);
      t.equal(first?.hash, keyFrame?.hash, `${label}: first decoded picture is the source's picture at ${key}s`);
      assertDurations(t, label, d, { video: end - key, audio: end - key }, frameOf(src));
    }
  }
});

t.test('playManifest seekFrom/clipTo reach the packager and clip the variants', async (t) => {
  const src = await decodeSource(SAMPLE.entryId, SAMPLE.p240);
  const keys = await keyFrameTimes(sampleFlavorFile(SAMPLE.entryId, SAMPLE.p240));
  const masterUrl = server.url + playManifest(SAMPLE.entryId, 'applehttp', `/flavorId/${SAMPLE.p240}/seekFrom/2500/clipTo/8000`);
  const master = await fetchText(masterUrl);
  t.equal(master.status, 200, 'applehttp with seekFrom/clipTo answers 200', { body: master.text.slice(0, 300) });
  const variants: string[] = (parseM3u8(master.text).playlists ?? []).map((p: any) => resolveUrl(p.uri, masterUrl));
  t.equal(variants.length, 1, 'one variant');
  const url = variants[0] ?? '';
  t.match(url, /\/clipTo\/8000\//, 'variant URL carries clipTo');
  t.match(url, /\/clipFrom\/2500\//, 'variant URL carries clipFrom');
  const key = Math.max(...keys.filter((k) => k <= 2.5));
  const d = await decodeAll(url);
  assertClean(t, 'clipped variant', d);
  assertDurations(t, 'clipped variant', d, { video: 8 - key, audio: 8 - key }, frameOf(src));
});

t.test('alternate audio renditions of the HLS master decode to the end', async (t) => {
  const masterUrl = server.url + playManifest(ALT.entryId, 'applehttp');
  const master = await fetchText(masterUrl);
  t.equal(master.status, 200, 'alt-audio master answers 200');
  const m = parseM3u8(master.text);
  const audioGroups = m.mediaGroups?.AUDIO ?? {};
  const renditions: { name: string; uri: string }[] = [];
  for (const group of Object.values<any>(audioGroups)) {
    for (const [name, r] of Object.entries<any>(group)) if (r.uri) renditions.push({ name, uri: resolveUrl(r.uri, masterUrl) });
  }
  t.equal(renditions.length, 2, 'two audio renditions');
  for (const r of renditions) {
    const fid = flavorIdOf(r.uri);
    const src = await decodeSource(ALT.entryId, fid);
    const d = await decodeAll(r.uri);
    assertClean(t, `audio ${r.name}`, d);
    t.notOk(streamOf(d, 'video'), `audio ${r.name}: audio only`);
    const a = streamOf(d, 'audio');
    const ref = streamOf(src, 'audio')!;
    t.ok(a && Math.abs(a.duration - ref.duration) <= 0.04 + (a.frames[0]?.duration ?? 0), `audio ${r.name} lasts ${a?.duration.toFixed(3)} s, source ${ref.duration.toFixed(3)} s`);
  }
});
});
