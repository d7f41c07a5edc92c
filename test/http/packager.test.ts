// The packager over HTTP against the sample library: every file type of /hls, /dash and /mss
// (manifests parsed by m3u8-parser and mpd-parser, media by mp4box.js), URL sets, tracks,
// sequences, clipping, HEAD and Range, flvclipper, and bad input — clear 4xx answers and no
// leaked file descriptors after 1,000 bad requests.
import t from 'tap';
import { request as httpRequest } from 'node:http';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Parser as M3u8Parser } from 'm3u8-parser';
import { parse as parseMpd } from 'mpd-parser';
import { startServer } from '../helpers/server.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';
import { mp4box } from '../media/helpers.js';
import { clearSegmentCache } from '../../src/media/body.js';

const srv = await startServer(t, { env: { KDELIVER_MAX_MOOV_MB: '1' } });
const P = '/p/309/sp/30900/serveFlavor';
const RCIT = `${P}/entryId/1_rcit0qgs/v/1/flavorId`;
const ALT = `${P}/entryId/1_alt0audi/v/1/flavorId`;

interface Res {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

function get(path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(`${srv.url}${path}`, { method, headers: { connection: 'close', ...headers }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end();
  });
}

const m3u8 = (text: string): any => {
  const p = new M3u8Parser();
  p.push(text);
  p.end();
  return p.manifest;
};

/** Resolves a manifest reference against the manifest's path. */
const rel = (base: string, ref: string): string => new URL(ref, `http://x${base}`).pathname;

t.test('HLS MPEG-TS: urlset master → index → every segment', async (t) => {
  const master = `/hls${RCIT}/1_f,1rcit00,2rcit00,3rcit00,/name/a.mp4.urlset/master.m3u8`;
  const r = await get(master);
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /mpegurl/i);
  t.equal(r.headers['access-control-allow-origin'], '*');
  const m = m3u8(r.body.toString());
  t.equal(m.playlists.length, 3, 'one variant per flavor of the set');
  t.same(m.playlists.map((p: any) => p.attributes.RESOLUTION.height), [240, 360, 720]);
  const indexPath = rel(master, m.playlists[1].uri);
  const idx = m3u8((await get(indexPath)).body.toString());
  t.same(idx.segments.map((s: any) => s.duration), [2, 2, 2, 4, 2], 'Kaltura HLS bootstrap 2,2,2,4 then 10 s');
  let total = 0;
  for (const s of idx.segments) {
    const seg = await get(rel(indexPath, s.uri));
    t.equal(seg.status, 200, s.uri);
    t.equal(seg.headers['content-type'], 'video/MP2T');
    t.equal(Number(seg.headers['content-length']), seg.body.length);
    t.match(seg.headers['cache-control'], /immutable/);
    t.equal(seg.body.length % 188, 0);
    t.equal(seg.body[0], 0x47);
    total += seg.body.length;
  }
  t.ok(total > 800_000, `segments carry the 360p media (${total} bytes)`);
});

t.test('HLS fMP4 (/container/fmp4/): init and segments read by mp4box.js', async (t) => {
  const index = `/hls/container/fmp4${RCIT}/1_f1rcit00/name/a.mp4/index.m3u8`;
  const m = m3u8((await get(index)).body.toString());
  t.equal(m.segments.length, 5);
  const init = await get(rel(index, m.segments[0].map.uri));
  t.equal(init.status, 200);
  const segs = await Promise.all(m.segments.map((s: any) => get(rel(index, s.uri))));
  t.ok(segs.every((s) => s.status === 200));
  const view = mp4box(Buffer.concat([init.body, ...segs.map((s) => s.body)]));
  t.same(view.info.tracks.map((x: any) => x.codec), ['avc1.640015', 'mp4a.40.2']);
  t.equal(view.samples(1).length, 300);
});

t.test('tracks/v1-a1 path parameter and single-track files', async (t) => {
  const base = `/hls/container/fmp4${RCIT}/1_f1rcit00/tracks/a1/name/a.mp4`;
  const m = m3u8((await get(`${base}/index.m3u8`)).body.toString());
  t.equal(m.segments[0].uri, 'seg-1-a1.m4s', 'only the audio track is listed');
  const init = await get(`${base}/init-a1.mp4`);
  const view = mp4box(init.body);
  t.same(view.info.tracks.map((x: any) => x.codec), ['mp4a.40.2']);
});

t.test('alternate audio and captions: HLS AUDIO/SUBTITLES groups, DASH audio and text sets', async (t) => {
  const set = `${ALT}/1_,f1alt000,f2alt000,a1alt000,a2alt000,/name/a.mp4.urlset`;
  const master = m3u8((await get(`/hls${set}/master.m3u8`)).body.toString());
  t.same(Object.keys(master.mediaGroups.AUDIO.audio).sort(), ['English', 'Español']);
  t.equal(master.mediaGroups.AUDIO.audio.English.default, true);
  t.same(Object.keys(master.mediaGroups.SUBTITLES.subs).sort(), ['English', 'Español']);
  const audioIdx = m3u8((await get(`/hls${set}/${master.mediaGroups.AUDIO.audio['Español'].uri}`)).body.toString());
  const aseg = await get(`/hls${set}/${audioIdx.segments[0].uri}`);
  t.equal(aseg.status, 200);
  const subsIdx = m3u8((await get(`/hls${set}/${master.mediaGroups.SUBTITLES.subs['Español'].uri}`)).body.toString());
  const vtt = await get(`/hls${set}/${subsIdx.segments[0].uri}`);
  t.match(vtt.headers['content-type'], /text\/vtt/);
  t.match(vtt.body.toString(), /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:126000/);
  t.match(vtt.body.toString(), /00:00:00\.500 --> 00:00:03\.000\nHola/, 'SRT caption converted to WebVTT');

  const spaFirst = m3u8((await get(`/hls${set.replace('/name/', '/defaultAudioLang/spa/name/')}/master.m3u8`)).body.toString());
  t.equal(spaFirst.mediaGroups.AUDIO.audio['Español'].default, true, 'defaultAudioLang picks the default audio');
  t.equal(spaFirst.mediaGroups.AUDIO.audio.English.default, false);

  const mpdPath = `/dash${set.replace('/name/', '/forceproxy/true/name/')}/manifest.mpd`;
  const r = await get(mpdPath);
  t.equal(r.status, 200);
  t.match(r.headers['content-type'], /dash\+xml/);
  const mpd = parseMpd(r.body.toString(), { manifestUri: `http://x${mpdPath}` });
  t.equal(mpd.playlists.length, 2);
  t.same(Object.keys(mpd.mediaGroups.AUDIO.audio).sort(), ['English', 'Español']);
  t.same(Object.keys(mpd.mediaGroups.SUBTITLES.subs).sort(), ['English', 'Español']);
  const text = await get(new URL(mpd.mediaGroups.SUBTITLES.subs.English.playlists[0].resolvedUri).pathname);
  t.match(text.body.toString(), /^WEBVTT\n\n00:00:00\.500/);
  const es = mpd.mediaGroups.AUDIO.audio['Español'].playlists[0];
  const init = await get(new URL(es.segments[0].map!.resolvedUri).pathname);
  const frags = await Promise.all(es.segments.map((s: any) => get(new URL(s.resolvedUri).pathname)));
  const view = mp4box(Buffer.concat([init.body, ...frags.map((f) => f.body)]));
  t.equal(view.info.tracks[0].codec, 'mp4a.40.2');
  t.equal(view.info.tracks[0].language, 'spa');
});

t.test('DASH urlset from playManifest\'s form; MSS manifest and fragments', async (t) => {
  const mpdPath = `/dash${RCIT}/1_f,1rcit00,2rcit00,/forceproxy/true/name/a.mp4.urlset/manifest.mpd`;
  const mpd = parseMpd((await get(mpdPath)).body.toString(), { manifestUri: `http://x${mpdPath}` });
  t.equal(mpd.playlists.length, 2);
  const v = mpd.playlists[1];
  t.same(v.segments.map((s: any) => s.duration), [4, 4, 4], 'DASH 4 s segments');
  const frag = await get(new URL(v.segments[2].resolvedUri).pathname);
  t.equal(frag.status, 200);
  t.equal(frag.body.toString('latin1', 4, 8), 'styp');
  const audio = mpd.mediaGroups.AUDIO.audio;
  t.equal(Object.keys(audio).length, 1, 'the muxed audio as one adaptation set');

  const mssBase = `/mss${RCIT}/1_f,1rcit00,2rcit00,/forceproxy/true/name/a.mp4.urlset`;
  const man = await get(`${mssBase}/manifest`);
  t.equal(man.status, 200);
  const xml = man.body.toString();
  const bitrate = /<StreamIndex Type="video"[\s\S]*?Bitrate="(\d+)"/.exec(xml)![1];
  const vf = await get(`${mssBase}/QualityLevels(${bitrate})/Fragments(video=40000000)`);
  t.equal(vf.status, 200);
  t.equal(vf.body.toString('latin1', 4, 8), 'moof');
  const abit = /<StreamIndex Type="audio"[\s\S]*?Bitrate="(\d+)"/.exec(xml)![1];
  t.equal((await get(`${mssBase}/QualityLevels(${abit})/Fragments(audio=0)`)).status, 200);
  t.equal((await get(`${mssBase}/QualityLevels(${bitrate})/Fragments(video=123)`)).status, 404, 'a time that starts no fragment');
});

t.test('clipping: durations follow clipFrom/clipTo; key-frame start', async (t) => {
  const idx = m3u8((await get(`/hls${P}/entryId/1_rcit0qgs/clipTo/9000/clipFrom/3000/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8`)).body.toString());
  t.same(idx.segments.map((s: any) => s.duration), [2, 2, 2, 1], 'starts at the 2 s key frame, ends at 9 s');
  const mpdPath = `/dash${P}/entryId/1_rcit0qgs/clipTo/5000/v/1/flavorId/1_f1rcit00/forceproxy/true/name/a.mp4/manifest.mpd`;
  const mpd = parseMpd((await get(mpdPath)).body.toString(), { manifestUri: `http://x${mpdPath}` });
  t.equal(mpd.duration, 5);
});

t.test('sequence: HLS discontinuities and DASH periods, flavors matched by params id', async (t) => {
  const seq = `${P}/entryId/1_rcit0qgs/sequence/1_rcit0qgs,1_alt0audi/v/1/flavorParamIds/301961`;
  const idx = m3u8((await get(`/hls${seq}/name/a.mp4/index.m3u8`)).body.toString());
  t.equal(idx.segments.length, 10);
  t.equal(idx.segments[5].discontinuity, true);
  const last = await get(`/hls${seq}/name/a.mp4/${idx.segments[9].uri}`);
  t.equal(last.status, 200);
  const mpd = (await get(`/dash${seq}/forceproxy/true/name/a.mp4/manifest.mpd`)).body.toString();
  t.equal((mpd.match(/<Period /g) ?? []).length, 2, 'one period per sequence entry');
  t.match(mpd, /mediaPresentationDuration="PT24.000S"/);
});

t.test('a sequence URL without flavorParamIds says which parameter is missing', async (t) => {
  for (const proto of ['hls', 'dash']) {
    const r = await get(`/${proto}${P}/entryId/1_rcit0qgs/sequence/1_rcit0qgs/v/1/name/a.mp4/${proto === 'hls' ? 'index.m3u8' : 'manifest.mpd'}`);
    t.equal(r.status, 400, `${proto}: 400`);
    t.match(r.body.toString(), /^error 20 MISSING_PARAMETER: .*flavorParamIds/, `${proto}: error 20, naming flavorParamIds`);
  }
});

t.test('a sequence of several entries with clipFrom/clipTo is refused, not played whole', async (t) => {
  for (const clip of ['clipTo/5000', 'clipFrom/3000']) {
    for (const [proto, file] of [['hls', 'index.m3u8'], ['hls', 'seg-1-v1-a1.ts'], ['dash', 'manifest.mpd']]) {
      const r = await get(`/${proto}${P}/entryId/1_rcit0qgs/${clip}/sequence/1_rcit0qgs,1_alt0audi/v/1/flavorParamIds/301961/name/a.mp4/${file}`);
      t.equal(r.status, 400, `${clip} ${proto} ${file}: 400`);
      t.match(r.body.toString(), /^error 25 BAD_QUERY: .*sequence of several entries cannot be clipped/);
    }
  }
  const one = m3u8((await get(`/hls${P}/entryId/1_rcit0qgs/clipTo/5000/sequence/1_rcit0qgs/v/1/flavorParamIds/301961/name/a.mp4/index.m3u8`)).body.toString());
  t.equal(one.segments.reduce((s: number, x: any) => s + x.duration, 0), 5, 'a sequence of one entry is clipped');
});

t.test('a sequence has no key-frame fragments, and says so rather than that it has no video', async (t) => {
  const kf = await get(`/hls/container/fmp4${P}/entryId/1_rcit0qgs/sequence/1_rcit0qgs,1_alt0audi/v/1/flavorParamIds/301961/name/a.mp4/iframes-1-f1-v1.m4s`);
  t.equal(kf.status, 404);
  t.match(kf.body.toString(), /^error 5 FILE_NOT_FOUND: .*not sequences/);
});

t.test('HEAD and Range: exact lengths without a body', async (t) => {
  for (const path of [
    `/hls${RCIT}/1_f1rcit00/name/a.mp4/seg-2-v1-a1.ts`,
    `/hls/container/fmp4${RCIT}/1_f1rcit00/name/a.mp4/seg-2-v1-a1.m4s`,
    `/dash${RCIT}/1_f1rcit00/forceproxy/true/name/a.mp4/fragment-2-v1.m4s`,
  ]) {
    const full = await get(path);
    const head = await get(path, {}, 'HEAD');
    t.equal(head.status, 200);
    t.equal(Number(head.headers['content-length']), full.body.length, `${path}: HEAD length`);
    t.equal(head.body.length, 0);
    const part = await get(path, { range: 'bytes=100-4099' });
    t.equal(part.status, 206);
    t.equal(part.headers['content-range'], `bytes 100-4099/${full.body.length}`);
    t.same(part.body, full.body.subarray(100, 4100));
    const tail = await get(path, { range: 'bytes=-500' });
    t.same(tail.body, full.body.subarray(full.body.length - 500));
    t.equal((await get(path, { range: `bytes=${full.body.length}-` })).status, 416);
  }
});

t.test('flvclipper: a real clipped MP4 with ranges', async (t) => {
  const path = '/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/flavor/1_f1rcit00/clip_from/3000/clip_to/7000/a.mp4';
  const r = await get(path);
  t.equal(r.status, 200);
  t.equal(r.headers['content-type'], 'video/mp4');
  t.equal(Number(r.headers['content-length']), r.body.length);
  const view = mp4box(r.body);
  t.equal(view.samples(1).length, 125, '5 s of video from the 2 s key frame');
  t.ok(r.body.length < readFileSync(join(srv.config.mediaRoot, '309/1_rcit0qgs/h264-240p.mp4')).length / 2);
  const head = await get(path, {}, 'HEAD');
  t.equal(head.headers['content-length'], String(r.body.length));
  const part = await get(path, { range: 'bytes=0-99' });
  t.same(part.body, r.body.subarray(0, 100));
  const whole = await get('/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs');
  t.equal(whole.status, 200, 'default flavor, whole length');
  t.equal((await get('/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/clip_from/5000/clip_to/4000')).status, 400);
  t.equal((await get('/p/309/sp/30900/flvclipper/entry_id/1_nosuch00')).status, 404);
});

t.test('flvclipper reads Kaltura\'s flavor_param_id, flavor/1 and clip_to/0', async (t) => {
  const F = '/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs';
  const byParams = await get(`${F}/flavor_param_id/301951/clip_to/2000`);
  t.equal(byParams.status, 200);
  t.ok(byParams.body.equals((await get(`${F}/flavor/1_f2rcit00/clip_to/2000`)).body), 'flavor_param_id: that params\' flavor (360p), not the default');
  t.equal((await get(`${F}/flavor_param_id/301982`)).status, 404, 'params the entry has no flavor of: error 6');
  const whole = await get(F);
  const one = await get(`${F}/flavor/1`);
  t.equal(one.status, 200, 'flavor/1 is the reference\'s "the default flavor"');
  t.ok(one.body.equals(whole.body), 'the same answer as without flavor');
  const to0 = await get(`${F}/clip_to/0`);
  t.equal(to0.status, 200, 'clip_to/0 is no end, as the reference reads it');
  t.ok(to0.body.equals(whole.body), 'the whole entry');
});

t.test('flvclipper, clipped serveFlavor and packager segments read a source through one handle cache', async (t) => {
  const handles = srv.app.handleCache;
  // the segment was answered before: made again here, not sent from the segment answer cache
  clearSegmentCache();
  const before = handles.stats();
  const answers = await Promise.all([
    get('/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/flavor/1_f2rcit00/clip_from/3000/clip_to/7000/a.mp4'),
    get(`${RCIT}/1_f2rcit00/clipTo/7000/clipFrom/3000/name/a.mp4`),
    get(`/hls${RCIT}/1_f2rcit00/name/a.mp4/seg-2-v1-a1.ts`),
  ]);
  t.same(answers.map((a) => a.status), [200, 200, 200]);
  const after = handles.stats();
  t.ok(after.opens - before.opens <= 1, `the file opened at most once (${after.opens - before.opens})`);
  t.equal(after.opens + after.hits - (before.opens + before.hits), 3, 'each of the three answers leased its source from the cache');
  const kept = await get(`/hls${RCIT}/1_f2rcit00/name/a.mp4/seg-2-v1-a1.ts`);
  t.ok(kept.body.equals(answers[2].body), 'the segment again, from the segment answer cache');
  const last = handles.stats();
  t.equal(last.opens + last.hits, after.opens + after.hits, 'a kept answer leases no source');
});

t.test('protected entries need the signature playManifest adds', async (t) => {
  const r = await get(`/hls${P}/entryId/1_kssecure/v/1/flavorId/1_f1kssecu/name/a.mp4/index.m3u8`);
  t.ok(r.status === 403 || r.status === 404, `refused with ${r.status}`);
  t.match(String(r.headers['x-kaltura']), /error-/);
});

t.test('a protected set: a segment is refused unsigned, served signed, refused tampered', async (t) => {
  const set = `${P}/entryId/1_kssecure/v/1/flavorId/1_f,1kssec0,2kssec0,3kssec0,/name/a.mp4.urlset`;
  for (const file of ['seg-1-f2-v1-a1.ts', 'master.m3u8']) {
    const unsigned = await get(`/hls${set}/${file}`);
    t.equal(unsigned.status, 403, `${file} unsigned`);
    t.match(String(unsigned.headers['x-kaltura']), /error-27/);
    const signed = signMediaUrl(`/hls${set}/${file}`, srv.config.mediaUrlSecret, Math.floor(Date.now() / 1000));
    t.equal((await get(signed)).status, 200, `${file} signed`);
    const tampered = await get(signed.replace('/1_f,1kssec0,', '/1_f,0kssec0,'));
    t.equal(tampered.status, 403, `${file} with another flavor list under the same signature`);
    t.match(String(tampered.headers['x-kaltura']), /error-27/);
  }
});

// files made broken on disk: the sample media are hard links into fixtures, so unlink first. The
// entry's schedule ended: its media URLs are signed, as playManifest gives them to an admin
const sched = await srv.app.catalog.listFlavors('1_sched000');
const brokenFile = (i: number, bytes: Buffer): string => {
  const f = sched[i];
  const file = join(srv.config.mediaRoot, f.filePath);
  rmSync(file);
  writeFileSync(file, bytes);
  return signMediaUrl(`/hls${P}/entryId/1_sched000/v/1/flavorId/${f.id}/name/a.mp4/index.m3u8`, srv.config.mediaUrlSecret, Math.floor(Date.now() / 1000));
};
const orig = readFileSync(join(srv.config.mediaRoot, sched[1].filePath));
const moovAt = orig.indexOf('moov') - 4;
const moovSize = orig.readUInt32BE(moovAt);
const hugeMoov = Buffer.concat([
  orig.subarray(0, moovAt),
  (() => { const h = Buffer.alloc(8); h.writeUInt32BE(moovSize + 1_200_000, 0); h.write('moov', 4); return h; })(),
  orig.subarray(moovAt + 8, moovAt + moovSize),
  (() => { const b = Buffer.alloc(1_200_000); b.writeUInt32BE(1_200_000, 0); b.write('free', 4); return b; })(),
  orig.subarray(moovAt + moovSize),
]);
const BAD: Array<[string, number]> = [
  [brokenFile(0, orig.subarray(0, 30000)), 404],
  [brokenFile(1, Buffer.from('%PDF-1.4 this is not a movie\n')), 404],
  [brokenFile(2, hugeMoov), 413],
  [`/hls${RCIT}/1_f1rcit00/name/a.mp4/seg-99-v1-a1.ts`, 404],
  [`/hls${RCIT}/1_f1rcit00/name/a.mp4/seg-0-v1-a1.ts`, 404],
  [`/hls${RCIT}/1_f1rcit00/name/a.mp4/nonsense.txt`, 404],
  [`/hls${RCIT}/1_f1rcit00/name/a.mp4/seg-1-f7-v1-a1.ts`, 404],
  [`/hls${RCIT}/1_f1rcit00/name/a.mp4/init-v1-a1.mp4`, 404],
  [`/dash${RCIT}/1_f1rcit00/name/a.mp4/fragment-4-v1.m4s`, 404],
  [`/hls${P}/entryId/1_rcit0qgs/clipFrom/60000/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8`, 400],
  [`/hls${P}/entryId/1_rcit0qgs/clipTo/2000/clipFrom/4000/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8`, 400],
  [`/hls${P}/entryId/1_rcit0qgs/clipFrom/abc/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8`, 400],
  [`/hls${P}/entryId/1_rcit0qgs/v/1/flavorId/1_f1alt000/name/a.mp4/index.m3u8`, 404],
  [`/hls${P}/entryId/1_nosuch00/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8`, 404],
  [`/hls/p/310/sp/31000/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8`, 404],
  [`/hls${RCIT}/1_f,1rcit00/name/a.mp4.urlset/master.m3u8`, 400],
  [`/hls${RCIT}/1_f1rcit00/tracks/zz/name/a.mp4/index.m3u8`, 400],
  [`/hls${RCIT}/1_f1rcit00/name/a.mp4/seg-1-v1-a1.m4s`, 404],
  // the video track of an audio-only flavor: refused, as DASH refuses it, not a playlist of empty segments
  [`/hls${P}/entryId/1_audio001/v/1/flavorId/1_f1audio0/name/a.mp4/index-v1.m3u8`, 404],
  [`/hls${P}/entryId/1_audio001/v/1/flavorId/1_f1audio0/name/a.mp4/seg-1-v1.ts`, 404],
  [`/hls/container/fmp4${P}/entryId/1_audio001/v/1/flavorId/1_f1audio0/name/a.mp4/index-v1.m3u8`, 404],
  [`/hls/container/fmp4${P}/entryId/1_audio001/v/1/flavorId/1_f1audio0/name/a.mp4/seg-1-v1.m4s`, 404],
  [`/hls${P}/entryId/1_audio001/v/1/flavorId/1_f1audio0/tracks/v1/name/a.mp4/master.m3u8`, 404],
  [`/dash${P}/entryId/1_audio001/v/1/flavorId/1_f1audio0/tracks/v1/name/a.mp4/manifest.mpd`, 404],
  // track 2 of a flavor: not packaged, so refused rather than answered with track 1
  [`/hls${RCIT}/1_f1rcit00/name/a.mp4/seg-1-v2-a1.ts`, 404],
  [`/dash${RCIT}/1_f1rcit00/name/a.mp4/fragment-1-v2.m4s`, 404],
  [`/hls${RCIT}/1_f1rcit00/tracks/a2/name/a.mp4/index.m3u8`, 404],
  // a caption clip past the presentation's clips: not clip 1's cues again
  [`/hls${ALT}/1_f1alt000/name/a.mp4/subtitles-1-9.vtt`, 404],
  [`/dash${ALT}/1_f1alt000/name/a.mp4/subtitles-2-2.vtt`, 404],
  // the HDS manifest an hdnetworkmanifest F4M names: not made here, said with Kaltura's code
  [`/hds${RCIT}/1_,f1,f2,rcit00/forceproxy/true/name/a.mp4.urlset/manifest.f4m`, 404],
  [`/hls/nothing`, 404],
];

t.test('bad input: clear 4xx answers', async (t) => {
  for (const [path, status] of BAD) {
    const r = await get(path);
    t.equal(r.status, status, `${path} → ${status}`);
    t.match(r.body.toString(), /^error \d+ /, 'says what went wrong');
    t.notMatch(r.body.toString(), /at .*\.ts:\d+/, 'no stack trace');
  }
});

t.test('1,000 bad requests and 100 hang-ups leave no file descriptor open', async (t) => {
  const fds = (): number => readdirSync('/proc/self/fd').length;
  // warm up: parse caches, lazy modules
  for (const [path] of BAD) await get(path);
  const before = fds();
  for (let i = 0; i < 1000; i += 20) {
    await Promise.all(Array.from({ length: 20 }, (_, k) => get(BAD[(i + k) % BAD.length][0])));
  }
  // and clients that hang up in the middle of a segment
  const abortAfterFirstChunk = (path: string): Promise<void> => new Promise((resolve) => {
    const req = httpRequest(`${srv.url}${path}`, { headers: { connection: 'close' }, agent: false }, (res) => {
      res.once('data', () => { req.destroy(); resolve(); });
      res.on('error', () => resolve());
      res.on('end', () => resolve());
    });
    req.on('error', () => resolve());
    req.end();
  });
  for (let i = 0; i < 50; i++) {
    await Promise.all([
      abortAfterFirstChunk(`/hls${RCIT}/1_f3rcit00/name/a.mp4/seg-4-v1-a1.ts`),
      abortAfterFirstChunk(`/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/flavor/1_f3rcit00`),
    ]);
  }
  let after = fds();
  for (let tries = 0; tries < 40 && after > before; tries++) {
    await new Promise((r) => setTimeout(r, 50));
    after = fds();
  }
  t.ok(after <= before, `open descriptors: ${before} before, ${after} after`);
});
