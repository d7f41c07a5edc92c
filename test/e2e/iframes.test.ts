// I-frame playlists, judged by clients nobody here wrote: m3u8-parser reads the master's
// EXT-X-I-FRAME-STREAM-INF lines and the EXT-X-I-FRAMES-ONLY playlists; every byte range, fetched
// with a Range request as a player would and put after its Media Initialization Section (the
// segment's PAT and PMT for MPEG-TS, the video init segment for fMP4), decodes in ffmpeg to
// exactly one key frame, at the time the playlist gives it and with the picture of the source's
// key frame at that time; hls.js loads a master that carries the lines and plays it, and reads an
// I-frame playlist as a level with the same byte ranges.
import t from 'tap';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser as M3u8Parser } from 'm3u8-parser';
import { startServer } from '../helpers/server.js';
import { requireCommands } from '../helpers/system.js';
import { decodeAll, keyFrameTimes, sampleFlavorFile, streamOf, type DecodeResult } from '../helpers/media-tools.js';
import { SAMPLE, hlsMaster, resolveUrl } from '../helpers/packager-urls.js';
import { launchBrowser, playUntil, startPlayerPageServer } from '../helpers/browser.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

function parseM3u8(text: string) {
  const p = new M3u8Parser();
  p.push(text);
  p.end();
  return p.manifest as any;
}

async function fetchText(url: string): Promise<string> {
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`${url}: HTTP ${res.status}`);
  return res.text();
}

async function fetchRange(url: string, offset: number, length: number): Promise<{ status: number; bytes: Buffer }> {
  const res = await fetch(url, { headers: { range: `bytes=${offset}-${offset + length - 1}` } });
  return { status: res.status, bytes: Buffer.from(await res.arrayBuffer()) };
}

const sources = new Map<string, Promise<DecodeResult>>();
const decodeSource = (file: string): Promise<DecodeResult> => {
  let p = sources.get(file);
  if (!p) sources.set(file, (p = decodeAll(file)));
  return p;
};

const FLAVORS = [SAMPLE.p240, SAMPLE.p360];
const TS_START = 1.4; // the MPEG-TS writer starts timestamps 1.4 s in, as ffmpeg's muxer does

t.test('I-frame playlists: m3u8-parser reads them, ffmpeg decodes each range as one key frame', async (t) => {
  const server = await startServer(t);
  const tmp = mkdtempSync(join(tmpdir(), 'kdeliver-iframes-'));
  t.teardown(() => rmSync(tmp, { recursive: true, force: true }));

  for (const container of ['ts', 'fmp4'] as const) {
    await t.test(`${container}: master, playlists and every range`, async (t) => {
      const masterUrl = server.url + hlsMaster({ entryId: SAMPLE.entryId, flavorIds: FLAVORS, container });
      const master = parseM3u8(await fetchText(masterUrl));
      t.equal(master.playlists.length, 2, 'two variants');
      t.equal(master.iFramePlaylists.length, 2, 'one I-frame stream per video variant');
      for (const [i, ifp] of master.iFramePlaylists.entries()) {
        const a = ifp.attributes;
        const variant = master.playlists[i].attributes;
        t.ok(a.BANDWIDTH > 0 && a.BANDWIDTH < variant.BANDWIDTH, `f${i + 1}: BANDWIDTH ${a.BANDWIDTH} below the variant's`);
        t.same(a.RESOLUTION, variant.RESOLUTION, `f${i + 1}: RESOLUTION of the variant`);
        t.equal(a.CODECS, variant.CODECS.split(',')[0], `f${i + 1}: CODECS is the video codec`);
        t.match(ifp.uri, container === 'ts' ? /^iframes-f\d-v1-a1\.m3u8$/ : /^iframes-f\d-v1\.m3u8$/, `f${i + 1}: URI ${ifp.uri}`);

        const playlistUrl = resolveUrl(ifp.uri, masterUrl);
        const pl = parseM3u8(await fetchText(playlistUrl));
        t.equal(pl.iFramesOnly, true, 'EXT-X-I-FRAMES-ONLY');
        t.equal(pl.endList, true, 'VOD with EXT-X-ENDLIST');
        const file = sampleFlavorFile(SAMPLE.entryId, FLAVORS[i]);
        const keys = await keyFrameTimes(file);
        t.equal(pl.segments.length, keys.length, `one entry per key frame of the source (${keys.length})`);
        const source = streamOf(await decodeSource(file), 'video')!;
        let at = 0;
        for (const [k, seg] of pl.segments.entries()) {
          const what = `f${i + 1} I-frame ${k + 1}`;
          t.ok(Math.abs(at - keys[k]) < 0.001, `${what}: starts at ${at.toFixed(3)} s, the source's key frame ${keys[k]}`);
          const next = k + 1 < keys.length ? keys[k + 1] : pl.segments.reduce((n: number, s: any) => n + s.duration, 0);
          t.ok(Math.abs(seg.duration - (next - keys[k])) < 0.0015, `${what}: lasts ${seg.duration} s, to the next key frame`);
          t.ok(seg.byterange && seg.byterange.length > 0, `${what}: has a byte range`);
          const segUrl = resolveUrl(seg.uri, playlistUrl);
          const range = await fetchRange(segUrl, seg.byterange.offset, seg.byterange.length);
          t.equal(range.status, 206, `${what}: the range is served (206)`);
          t.equal(range.bytes.length, seg.byterange.length, `${what}: ${seg.byterange.length} bytes`);
          let init: Buffer;
          if (container === 'ts') {
            // the segment file begins with its Media Initialization Section: a PAT and a PMT
            init = (await fetchRange(segUrl, 0, 376)).bytes;
            t.ok(init[0] === 0x47 && (((init[1] & 0x1f) << 8) | init[2]) === 0 && init[188] === 0x47, `${what}: the segment opens with PAT and PMT`);
            t.equal(range.bytes[0], 0x47, `${what}: the range starts on a TS packet`);
          } else {
            init = Buffer.from(await (await fetch(resolveUrl(seg.map.uri, playlistUrl))).arrayBuffer());
          }
          const probe = join(tmp, `${container}-${i}-${k}.${container === 'ts' ? 'ts' : 'mp4'}`);
          writeFileSync(probe, Buffer.concat([init, range.bytes]));
          const d = await decodeAll(probe, { map: ['0:v'] });
          t.equal(d.code, 0, `${what}: decodes`, { stderr: d.stderr });
          const v = streamOf(d, 'video');
          t.equal(v?.frames.length, 1, `${what}: exactly one picture`);
          const pts = (v?.frames[0].pts ?? NaN) - (container === 'ts' ? TS_START : 0);
          t.ok(Math.abs(pts - at) < 0.001, `${what}: the picture is at ${pts.toFixed(3)} s`);
          const src = source.frames.find((f) => Math.abs(f.pts - keys[k]) < 0.001);
          t.equal(v?.frames[0].hash, src?.hash, `${what}: the picture is the source's key frame at ${keys[k]} s`);
          at += seg.duration;
        }
      }
    });
  }

  await t.test('the I-frame lines follow KDELIVER_HLS_IFRAMES, and sequences get none', async (t) => {
    const off = await startServer(t, { env: { KDELIVER_HLS_IFRAMES: 'false' } });
    const master = await fetchText(off.url + hlsMaster({ entryId: SAMPLE.entryId, flavorIds: FLAVORS }));
    t.notMatch(master, /I-FRAME/, 'no I-frame lines when turned off');
    t.match(master, /#EXT-X-STREAM-INF/, 'variants as before');
    const seq = await fetch(`${server.url}/hls/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/sequence/${SAMPLE.entryId},1_alt0audi/v/1/flavorParamIds/301961/name/a.mp4/master.m3u8`);
    t.equal(seq.status, 200);
    t.notMatch(await seq.text(), /I-FRAME/, 'a sequence master lists no I-frame stream');
    const bad = await fetch(server.url + hlsMaster({ entryId: SAMPLE.entryId, flavorIds: FLAVORS }).replace('master.m3u8', 'iframes-5-f1-v1.m4s'));
    t.equal(bad.status, 404, 'MPEG-TS has no key-frame resources (its I-frames are segment ranges)');
  });
});

t.test('hls.js plays a master with I-frame lines and loads an I-frame playlist', async (t) => {
  const server = await startServer(t);
  const browser = await launchBrowser(t);
  const page = await startPlayerPageServer(t);
  const masterUrl = server.url + hlsMaster({ entryId: SAMPLE.entryId, flavorIds: FLAVORS });
  t.match(await fetchText(masterUrl), /#EXT-X-I-FRAME-STREAM-INF/, 'the MPEG-TS master carries I-frame lines');
  const played = await playUntil(browser, page.url, 'hls', masterUrl, { untilSec: 6 });
  t.same(played.errors, [], 'hls.js: no error event', { events: played.events, failed: played.failedRequests });
  t.ok(played.reached, `hls.js plays past 6 s (${played.currentTime.toFixed(2)})`);

  const iframesUrl = resolveUrl('iframes-f1-v1-a1.m3u8', masterUrl);
  const expected = parseM3u8(await fetchText(iframesUrl)).segments.map((s: any) => [s.uri, s.byterange.offset, s.byterange.offset + s.byterange.length]);
  const p = await browser.newPage();
  t.teardown(() => p.close());
  await p.goto(page.url);
  const seen = await p.evaluate((src) => new Promise<any>((resolve) => {
    const hls = new (window as any).Hls();
    const H = (window as any).Hls.Events;
    hls.on(H.ERROR, (_e: unknown, d: any) => resolve({ error: `${d.type} ${d.details}` }));
    hls.on(H.LEVEL_LOADED, (_e: unknown, d: any) => resolve({
      fragments: d.details.fragments.map((f: any) => [f.relurl, f.byteRangeStartOffset, f.byteRangeEndOffset]),
      totalduration: d.details.totalduration,
    }));
    hls.loadSource(src);
  }), iframesUrl);
  t.notOk(seen.error, 'hls.js reads the I-frame playlist without an error');
  t.same(seen.fragments, expected, 'hls.js sees the same key frames and byte ranges');
  t.ok(Math.abs(seen.totalduration - 12) < 0.05, `the key frames span the whole 12 s (${seen.totalduration})`);
});
