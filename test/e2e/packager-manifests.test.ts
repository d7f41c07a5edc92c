// Proof by parsers nobody here wrote: m3u8-parser reads every HLS playlist, mpd-parser every
// MPD, and mp4box (npm) the fMP4 init and media segments, all fetched from the running server
// over the packager's URL grammar. Checks are on what the players rely on: durations that add
// up to the media's, segment URLs that resolve, byte counts that match the boxes.
import t, { type Test } from 'tap';
import { Parser as M3u8Parser } from 'm3u8-parser';
import { parse as parseMpd } from 'mpd-parser';
import MP4Box from 'mp4box';
import { convert } from 'xmlbuilder2';
import { startServer, type TestServer } from '../helpers/server.js';
import { ALT, SAMPLE, dashManifest, hlsIndex, hlsMaster, mssManifest, playManifest, resolveUrl } from '../helpers/packager-urls.js';

const SOURCE_SECONDS = 12; // every sample clip, fixtures/sample-library.json durationMs 12000
const FRAME = 0.04; // 25 fps

(MP4Box as any).Log.setLogLevel((MP4Box as any).Log.error);

interface Fetched {
  status: number;
  body: Buffer;
  text: string;
  headers: Headers;
}
async function get(url: string): Promise<Fetched> {
  const res = await fetch(url);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, body, text: body.toString('utf8'), headers: res.headers };
}

function m3u8(text: string): any {
  const p = new M3u8Parser();
  p.push(text);
  p.end();
  return p.manifest;
}

interface Mp4Read {
  boxes: string[];
  codecs: string[];
  error: string | null;
  /** per traf: track id, sample count and the bytes its trun(s) describe */
  trafs: { trackId: number; samples: number; bytes: number; baseMediaDecodeTime: number | undefined }[];
  mdatPayload: number;
}

/** Reads init + segment as one stream with mp4box, as a player's demuxer would. */
function readMp4(...parts: Buffer[]): Mp4Read {
  const file = (MP4Box as any).createFile();
  let info: any = null;
  let error: string | null = null;
  file.onReady = (i: any) => (info = i);
  file.onError = (e: unknown) => (error = String(e));
  const buf = Buffer.concat(parts);
  const ab: any = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length);
  ab.fileStart = 0;
  file.appendBuffer(ab);
  file.flush();
  const boxes: any[] = file.boxes ?? [];
  const trafs: Mp4Read['trafs'] = [];
  for (const moof of boxes.filter((b) => b.type === 'moof')) {
    for (const traf of moof.trafs ?? []) {
      let samples = 0;
      let bytes = 0;
      for (const run of traf.truns ?? []) {
        samples += run.sample_count;
        bytes += run.sample_size?.length ? run.sample_size.reduce((a: number, b: number) => a + b, 0) : run.sample_count * (traf.tfhd.default_sample_size ?? 0);
      }
      trafs.push({ trackId: traf.tfhd.track_id, samples, bytes, baseMediaDecodeTime: traf.tfdt?.baseMediaDecodeTime });
    }
  }
  const mdatPayload = boxes.filter((b) => b.type === 'mdat').reduce((s, b) => s + b.size - (b.hdr_size ?? 8), 0);
  return { boxes: boxes.map((b) => b.type), codecs: info ? info.tracks.map((tr: any) => tr.codec) : [], error, trafs, mdatPayload };
}

function near(t: Test, got: number, want: number, tol: number, msg: string): void {
  t.ok(Math.abs(got - want) <= tol + 1e-6, `${msg}: ${got.toFixed(3)} ≈ ${want.toFixed(3)} (± ${tol})`);
}

/** Parses a media playlist, checks its shape and fetches its init and first/last segments. */
async function checkMediaPlaylist(t: Test, url: string, container: 'ts' | 'fmp4', expectSeconds: number): Promise<void> {
  const res = await get(url);
  t.equal(res.status, 200, `${container} playlist ${url} answers 200`);
  t.match(res.headers.get('content-type') ?? '', /mpegurl/i, 'playlist content type');
  const pl = m3u8(res.text);
  const segs: any[] = pl.segments ?? [];
  t.ok(segs.length > 0, `${container}: has segments`);
  t.ok(pl.endList, `${container}: VOD playlist ends with EXT-X-ENDLIST`);
  const total = segs.reduce((s, x) => s + x.duration, 0);
  near(t, total, expectSeconds, FRAME, `${container}: segment durations add up`);
  const longest = Math.max(...segs.map((s) => s.duration));
  t.ok(Math.round(longest) <= pl.targetDuration, `${container}: target duration ${pl.targetDuration} covers the longest segment ${longest}`);
  const ext = container === 'ts' ? '.ts' : '.m4s';
  // nginx-vod-module's file-name grammar: seg-{n}[-s{seq}][-f{flavor}][-v{n}][-a{n}][-l{lang}].ext
  const segName = /(^|\/)seg-\d+(-s\d+)?(-f\d+)?(-v\d+)?(-a\d+)?(-l\w+)?\.(ts|m4s)$/;
  t.ok(segs.every((s) => segName.test(s.uri) && s.uri.endsWith(ext)), `${container}: segment names follow seg-{n}[-f{n}]-v1-a1${ext}`, { first: segs[0]?.uri });
  const first = await get(resolveUrl(segs[0].uri, url));
  const last = await get(resolveUrl(segs[segs.length - 1].uri, url));
  for (const [which, seg] of [['first', first], ['last', last]] as const) {
    t.equal(seg.status, 200, `${container}: ${which} segment answers 200`);
    t.equal(Number(seg.headers.get('content-length')), seg.body.length, `${container}: ${which} segment Content-Length is exact`);
  }
  if (container === 'ts') {
    for (const seg of [first, last]) {
      t.equal(seg.body.length % 188, 0, 'TS segment is whole 188-byte packets');
      let sync = true;
      for (let i = 0; i < seg.body.length; i += 188) if (seg.body[i] !== 0x47) sync = false;
      t.ok(sync, 'every TS packet starts with the sync byte');
    }
  } else {
    t.ok(pl.segments[0].map?.uri, 'fMP4 playlist has EXT-X-MAP');
    const init = await get(resolveUrl(pl.segments[0].map.uri, url));
    t.equal(init.status, 200, 'init segment answers 200');
    for (const seg of [first, last]) {
      const r = readMp4(init.body, seg.body);
      t.equal(r.error, null, 'mp4box reads init + segment without error');
      t.ok(r.boxes.includes('ftyp') && r.boxes.includes('moov'), `init has ftyp and moov (${r.boxes.join(',')})`);
      t.ok(r.boxes.includes('moof') && r.boxes.includes('mdat'), 'segment has moof and mdat');
      t.ok(r.codecs.some((c) => c.startsWith('avc1') || c.startsWith('mp4a')), `codecs ${r.codecs.join(',')}`);
      t.ok(r.trafs.length > 0 && r.trafs.every((x) => x.samples > 0), 'every traf has samples');
      t.equal(r.trafs.reduce((s, x) => s + x.bytes, 0), r.mdatPayload, 'trun sample sizes add up to the mdat payload');
    }
  }
}

t.test('packager manifests and segments read by m3u8-parser, mpd-parser and mp4box', async (t) => {
  const server: TestServer = await startServer(t);
  const u = (p: string) => server.url + p;

  await t.test('HLS master from playManifest and every variant playlist (TS and fMP4)', async (t) => {
    const masterUrl = u(playManifest(SAMPLE.entryId, 'applehttp'));
    const res = await get(masterUrl);
    t.equal(res.status, 200, 'master answers 200');
    const master = m3u8(res.text);
    const variants: any[] = master.playlists ?? [];
    t.ok(variants.length >= 3, `${variants.length} variants`);
    for (const v of variants) {
      t.ok(v.attributes.BANDWIDTH > 0, 'variant has BANDWIDTH');
      t.ok(v.attributes.RESOLUTION?.width > 0, 'variant has RESOLUTION');
      t.match(v.attributes.CODECS ?? '', /avc1\.[0-9a-fA-F]{6}/, 'variant has CODECS');
      const ts = resolveUrl(v.uri, masterUrl);
      await checkMediaPlaylist(t, ts, 'ts', SOURCE_SECONDS);
      await checkMediaPlaylist(t, ts.replace('/hls/p/', '/hls/container/fmp4/p/'), 'fmp4', SOURCE_SECONDS);
    }
  });

  await t.test('HLS urlset master.m3u8 of the grammar', async (t) => {
    for (const container of ['ts', 'fmp4'] as const) {
      const url = u(hlsMaster({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240, SAMPLE.p360, SAMPLE.p720], container }));
      const res = await get(url);
      t.equal(res.status, 200, `${container} urlset master answers 200`);
      const master = m3u8(res.text);
      t.equal(master.playlists?.length, 3, `${container}: one variant per flavor of the urlset`);
      if (master.playlists?.[0]) await checkMediaPlaylist(t, resolveUrl(master.playlists[0].uri, url), container, SOURCE_SECONDS);
    }
  });

  await t.test('playManifest with the HLS-manifest profile (1006) redirects to a master.m3u8 that parses', async (t) => {
    const res = await fetch(u(playManifest(SAMPLE.entryId, 'applehttp', '/deliveryProfileId/1006')), { redirect: 'manual' });
    t.equal(res.status, 302, 'profile 1006 answers with a redirect');
    const loc = resolveUrl(res.headers.get('location') ?? '', server.url);
    t.match(loc, /\/hls\/p\/309\/.*\/master\.m3u8$/, 'to the packager master.m3u8');
    const master = await get(loc);
    t.equal(master.status, 200, 'master answers 200');
    const pl = m3u8(master.text);
    t.ok((pl.playlists ?? []).length >= 3, `${pl.playlists?.length} variants`);
    if (pl.playlists?.[0]) await checkMediaPlaylist(t, resolveUrl(pl.playlists[0].uri, loc), 'ts', SOURCE_SECONDS);
  });

  await t.test('playManifest sl leads to a Smooth Streaming manifest that parses', async (t) => {
    // the VOD packager MSS profile (1005) redirects, as its DASH sibling does; a Silverlight
    // renderer would instead name the manifest in <manifest url="...">: either leads on
    const res = await fetch(u(playManifest(SAMPLE.entryId, 'sl', '', 'a.xml')), { redirect: 'manual' });
    t.ok(res.status === 302 || res.status === 200, `sl answers ${res.status}`);
    const url = res.status === 302 ? res.headers.get('location') : (convert(await res.text(), { format: 'object' }) as any).manifest?.['@url'];
    t.match(url ?? '', /\/mss\/p\/309\/.*\/manifest$/, 'the manifest is the packager\'s');
    if (!url) return;
    const mss = await get(resolveUrl(url, server.url));
    t.equal(mss.status, 200, 'MSS manifest answers 200');
    t.ok((convert(mss.text, { format: 'object' }) as any).SmoothStreamingMedia, 'is a SmoothStreamingMedia document');
  });

  await t.test('HLS clipTo playlist durations reflect the clip', async (t) => {
    await checkMediaPlaylist(t, u(hlsIndex({ entryId: SAMPLE.entryId, flavorId: SAMPLE.p240, clipToMs: 7000 })), 'ts', 7);
    await checkMediaPlaylist(t, u(hlsIndex({ entryId: SAMPLE.entryId, flavorId: SAMPLE.p240, clipToMs: 7000, container: 'fmp4' })), 'fmp4', 7);
  });

  await t.test('HLS master of the alternate-audio entry: AUDIO and SUBTITLES groups that resolve', async (t) => {
    const masterUrl = u(playManifest(ALT.entryId, 'applehttp'));
    const res = await get(masterUrl);
    t.equal(res.status, 200, 'master answers 200');
    const master = m3u8(res.text);
    const audio = Object.values<any>(master.mediaGroups?.AUDIO ?? {}).flatMap((g) => Object.values<any>(g));
    const subs = Object.values<any>(master.mediaGroups?.SUBTITLES ?? {}).flatMap((g) => Object.values<any>(g));
    t.equal(audio.length, 2, 'two audio renditions');
    t.equal(audio.filter((a) => a.default).length, 1, 'one default audio rendition');
    t.equal(subs.length, 2, 'two subtitle renditions');
    t.ok((master.playlists ?? []).every((p: any) => p.attributes.AUDIO && p.attributes.SUBTITLES), 'every variant names its AUDIO and SUBTITLES groups');
    for (const a of audio) {
      const pl = await get(resolveUrl(a.uri, masterUrl));
      t.equal(pl.status, 200, `audio ${a.language} playlist answers 200`);
      const segs = m3u8(pl.text).segments ?? [];
      near(t, segs.reduce((s: number, x: any) => s + x.duration, 0), SOURCE_SECONDS, FRAME, `audio ${a.language} durations`);
    }
    for (const s of subs) {
      const plUrl = resolveUrl(s.uri, masterUrl);
      const pl = await get(plUrl);
      t.equal(pl.status, 200, `subtitles ${s.language} playlist answers 200`);
      const segs = m3u8(pl.text).segments ?? [];
      t.ok(segs.length > 0, 'subtitle playlist has segments');
      if (segs[0]) {
        const vtt = await get(resolveUrl(segs[0].uri, plUrl));
        t.equal(vtt.status, 200, 'WebVTT segment answers 200');
        t.match(vtt.text, /^(\uFEFF)?WEBVTT/, 'WebVTT segment starts with WEBVTT');
        t.match(vtt.text, /-->/, 'WebVTT segment has cues');
      }
    }
  });

  await t.test('DASH MPD (urlset and from playManifest) read by mpd-parser; init and fragments by mp4box', async (t) => {
    const direct = u(dashManifest({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240, SAMPLE.p360] }));
    const redirect = await fetch(u(playManifest(SAMPLE.entryId, 'mpegdash', '', 'a.mpd')), { redirect: 'manual' });
    t.equal(redirect.status, 302, 'playManifest mpegdash redirects');
    const fromPm = resolveUrl(redirect.headers.get('location') ?? '', server.url);
    for (const url of [direct, fromPm]) {
      const res = await get(url);
      t.equal(res.status, 200, `MPD ${url} answers 200`);
      t.match(res.headers.get('content-type') ?? '', /dash\+xml/, 'MPD content type');
      const mpd: any = parseMpd(res.text, { manifestUri: url });
      near(t, mpd.duration, SOURCE_SECONDS, FRAME, 'MPD duration');
      const videos: any[] = mpd.playlists ?? [];
      t.ok(videos.length >= 2, `${videos.length} video representations`);
      const audios = Object.values<any>(mpd.mediaGroups?.AUDIO ?? {}).flatMap((g) => Object.values<any>(g)).flatMap((r) => r.playlists ?? []);
      t.ok(audios.length >= 1, 'an audio adaptation set');
      for (const rep of [...videos, ...audios]) {
        const segs: any[] = rep.segments ?? [];
        t.ok(segs.length > 0, 'representation has segments');
        near(t, segs.reduce((s, x) => s + x.duration, 0), SOURCE_SECONDS, FRAME, 'representation segment durations');
        const initUri = segs[0]?.map?.resolvedUri;
        t.ok(initUri, 'representation has an initialization segment');
        if (!initUri) continue;
        t.match(segs[0].resolvedUri, /fragment-\d+-/, 'fragment names follow fragment-{n}-…m4s');
        const init = await get(initUri);
        const seg = await get(segs[segs.length - 1].resolvedUri);
        t.equal(init.status, 200, 'init answers 200');
        t.equal(seg.status, 200, 'fragment answers 200');
        const r = readMp4(init.body, seg.body);
        t.equal(r.error, null, 'mp4box reads init + fragment');
        t.ok(r.codecs.length === 1, `one track per representation (${r.codecs.join(',')})`);
        t.ok(r.boxes.includes('moof') && r.boxes.includes('mdat'), 'fragment has moof and mdat');
        t.equal(r.trafs.reduce((s, x) => s + x.bytes, 0), r.mdatPayload, 'trun sample sizes add up to the mdat payload');
      }
    }
  });

  await t.test('DASH MPD of the alternate-audio entry: audio languages and a text adaptation set', async (t) => {
    const redirect = await fetch(u(playManifest(ALT.entryId, 'mpegdash', '', 'a.mpd')), { redirect: 'manual' });
    t.equal(redirect.status, 302, 'playManifest mpegdash redirects');
    const url = resolveUrl(redirect.headers.get('location') ?? '', server.url);
    const res = await get(url);
    t.equal(res.status, 200, 'MPD answers 200');
    const mpd: any = parseMpd(res.text, { manifestUri: url });
    const audio = Object.values<any>(mpd.mediaGroups?.AUDIO ?? {}).flatMap((g) => Object.values<any>(g));
    const langs = new Set(audio.map((a) => a.language));
    t.ok(langs.size >= 2, `audio in ${[...langs].join(', ')}`);
    const subs = Object.values<any>(mpd.mediaGroups?.SUBTITLES ?? {}).flatMap((g) => Object.values<any>(g));
    t.ok(subs.length >= 2, `${subs.length} text tracks`);
    for (const s of subs) {
      const segUri = s.playlists?.[0]?.segments?.[0]?.resolvedUri ?? s.playlists?.[0]?.resolvedUri;
      t.ok(segUri, `text track ${s.language} has a URL`);
      if (!segUri) continue;
      const vtt = await get(segUri);
      t.equal(vtt.status, 200, `text track ${s.language} answers 200`);
      t.match(vtt.text, /^(\uFEFF)?WEBVTT/, 'text track is WebVTT');
    }
  });

  await t.test('MSS manifest parses as Smooth Streaming; fragments read by mp4box', async (t) => {
    const url = u(mssManifest({ entryId: SAMPLE.entryId, flavorIds: [SAMPLE.p240, SAMPLE.p360] }));
    const res = await get(url);
    t.equal(res.status, 200, 'MSS manifest answers 200');
    const doc: any = convert(res.text, { format: 'object' });
    const root = doc.SmoothStreamingMedia;
    t.ok(root, 'root element SmoothStreamingMedia');
    if (!root) return;
    const timescale = Number(root['@TimeScale'] ?? 10_000_000);
    near(t, Number(root['@Duration']) / timescale, SOURCE_SECONDS, FRAME, 'manifest Duration');
    const streams: any[] = [].concat(root.StreamIndex ?? []);
    const video = streams.find((s) => s['@Type'] === 'video');
    const audio = streams.find((s) => s['@Type'] === 'audio');
    t.ok(video && audio, 'video and audio StreamIndex');
    for (const s of [video, audio].filter(Boolean)) {
      const levels: any[] = [].concat(s.QualityLevel ?? []);
      const chunks: any[] = [].concat(s.c ?? []);
      t.ok(levels.length >= 1, `${s['@Type']}: ${levels.length} quality levels`);
      t.ok(chunks.length >= 1, `${s['@Type']}: ${chunks.length} chunks`);
      const total = chunks.reduce((sum, c) => sum + Number(c['@d'] ?? 0) * Number(c['@r'] ?? 1), 0);
      near(t, total / timescale, SOURCE_SECONDS, FRAME + 0.03, `${s['@Type']}: chunk durations add up`);
      const start = Number(chunks[0]?.['@t'] ?? 0);
      const fragUrl = resolveUrl(String(s['@Url']).replace(/\{bitrate\}|\{Bitrate\}/, levels[0]['@Bitrate']).replace(/\{start time\}|\{start_time\}/, String(start)), url);
      const frag = await get(fragUrl);
      t.equal(frag.status, 200, `${s['@Type']} fragment ${fragUrl} answers 200`);
      const r = readMp4(frag.body);
      t.equal(r.error, null, 'mp4box reads the fragment');
      t.ok(r.boxes.includes('moof') && r.boxes.includes('mdat'), `fragment has moof and mdat (${r.boxes.join(',')})`);
      t.equal(r.trafs.reduce((sum, x) => sum + x.bytes, 0), r.mdatPayload, 'trun sample sizes add up to the mdat payload');
    }
  });
});
