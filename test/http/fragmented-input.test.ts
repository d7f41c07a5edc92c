// A fragmented MP4 (ffmpeg's -movflags frag_keyframe, OBS's fragmented recordings, CMAF files)
// keeps its samples in moof boxes after the moov. The reader once read the moov alone: first as
// an empty file (every HLS and DASH URL answered error 25, as if the URL were wrong), then by
// refusing it (error 5, "remux it first"), while the master still listed it with BANDWIDTH=0.
// The reader now reads every moof (src/media/mp4/fragments.ts), and such a file is packaged as a
// progressive one is: the same samples, byte for byte, at the same times as ffmpeg's own remux of
// it, and every frame of it, in order, in what kdeliver serves.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, truncateSync, copyFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { importLibrary } from '../../src/catalog/library.js';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { MediaError } from '../../src/media/errors.js';
import type { MediaIndex } from '../../src/media/mp4/index-types.js';
import { requireCommands } from '../helpers/system.js';
import { launchBrowser, playUntil, startPlayerPageServer, type PlayerKind } from '../helpers/browser.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-fragmented-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function ffmpeg(args: string[]): Buffer {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** An 8-second H.264 (with B-frames) and AAC recording, fragmented as `movflags` says. */
function make(name: string, movflags: string[]): string {
  const out = join(dir, name);
  ffmpeg(['-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '8', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '50', '-bf', '2', '-c:a', 'aac', ...movflags, out]);
  return out;
}

const files = {
  // the moov describes no sample; every sample is in a moof
  'empty-moov.mp4': make('empty-moov.mp4', ['-movflags', 'frag_keyframe+empty_moov']),
  // without empty_moov, the moov holds the first fragment's samples and the rest follow in moofs
  'first-in-moov.mp4': make('first-in-moov.mp4', ['-movflags', 'frag_keyframe']),
  // each traf's data counted from its own moof (as OBS and CMAF write them)
  'base-moof.mp4': make('base-moof.mp4', ['-movflags', 'frag_keyframe+empty_moov+default_base_moof']),
  // one moof per track, a fragment every half second: keyframes only at some fragments' starts
  'separate-moof.mp4': make('separate-moof.mp4', ['-movflags', 'empty_moov+separate_moof', '-frag_duration', '500000']),
};

/** ffmpeg's own remux of a file into a progressive, faststart MP4: the same samples, a moov with every table. */
function remux(file: string): string {
  const out = `${file}.faststart.mp4`;
  ffmpeg(['-i', file, '-c', 'copy', '-movflags', '+faststart', out]);
  return out;
}

const read = (file: string, maxMoovBytes = 64 << 20) => readMediaIndex(file, { maxMoovBytes });

/** Each track's samples: their bytes' digest, decode times, composition offsets and sync samples. */
function samplesOf(index: MediaIndex, file: string) {
  const bytes = readFileSync(file);
  return index.tracks.map((tr) => ({
    kind: tr.kind,
    count: tr.count,
    data: Array.from({ length: tr.count }, (_, i) => `${tr.size[i]}:${bytes.subarray(tr.offset[i], tr.offset[i] + tr.size[i]).toString('hex').slice(0, 64)}`),
    dts: Array.from(tr.dts),
    cto: Array.from({ length: tr.count }, (_, i) => tr.ctoAt(i)),
    sync: tr.sync ? Array.from(tr.sync) : null,
  }));
}

t.test('the reader reads every fragment: the samples of ffmpeg\'s progressive remux, byte for byte and at the same times', async (t) => {
  for (const [name, file] of Object.entries(files)) {
    const index = await read(file);
    const progressive = remux(file);
    const want = samplesOf(await read(progressive), progressive);
    const got = samplesOf(index, file);
    t.equal(got.length, 2, `${name}: two tracks`);
    for (const [k, tr] of got.entries()) {
      t.ok(tr.count > (tr.kind === 'video' ? 190 : 370), `${name} ${tr.kind}: ${tr.count} samples`);
      t.same(tr, want[k], `${name} ${tr.kind}: every sample's bytes, decode time, composition offset and sync flag`);
    }
    // every byte of every sample, not only the first 32 compared above
    const a = readFileSync(file);
    const b = readFileSync(progressive);
    const pi = await read(progressive);
    let same = true;
    for (const [k, tr] of index.tracks.entries()) {
      for (let i = 0; i < tr.count && same; i++) same = a.subarray(tr.offset[i], tr.offset[i] + tr.size[i]).equals(b.subarray(pi.tracks[k].offset[i], pi.tracks[k].offset[i] + pi.tracks[k].size[i]));
    }
    t.ok(same, `${name}: every sample's bytes`);
    t.ok(Math.abs(index.durationMs - 8000) < 100, `${name}: duration ${index.durationMs} ms`);
  }
});

t.test('a moov after the fragments (written at the end) is read with every moof before it', async (t) => {
  // base-moof.mp4's boxes reordered: ftyp, the moofs and mdats, then the moov; each traf's data is
  // counted from its own moof, so moving the boxes moves nothing they point at
  const bytes = readFileSync(files['base-moof.mp4']);
  const boxes: { type: string; data: Buffer }[] = [];
  for (let o = 0; o + 8 <= bytes.length;) {
    const size = bytes.readUInt32BE(o);
    boxes.push({ type: bytes.toString('latin1', o + 4, o + 8), data: bytes.subarray(o, o + size) });
    o += size;
  }
  const of = (type: string) => boxes.filter((b) => b.type === type).map((b) => b.data);
  const fragments = boxes.filter((b) => b.type === 'moof' || b.type === 'mdat').map((b) => b.data);
  const file = join(dir, 'moov-at-end.mp4');
  writeFileSync(file, Buffer.concat([...of('ftyp'), ...fragments, ...of('moov')]));
  const got = samplesOf(await read(file), file);
  const want = samplesOf(await read(files['base-moof.mp4']), files['base-moof.mp4']);
  t.same(got, want, 'the same samples, bytes, times and sync flags as the file with its moov first');
});

t.test('a fragmented recording cut short keeps the samples it wrote whole', async (t) => {
  const cut = join(dir, 'cut.mp4');
  copyFileSync(files['empty-moov.mp4'], cut);
  const whole = await read(files['empty-moov.mp4']);
  const size = readFileSync(cut).length;
  truncateSync(cut, Math.floor(size * 0.6));
  const index = await read(cut);
  const cutSize = Math.floor(size * 0.6);
  for (const [k, tr] of index.tracks.entries()) {
    t.ok(tr.count > 0 && tr.count < whole.tracks[k].count, `${tr.kind}: ${tr.count} of ${whole.tracks[k].count} samples`);
    t.ok(Array.from({ length: tr.count }, (_, i) => tr.offset[i] + tr.size[i]).every((end) => end <= cutSize), `${tr.kind}: every sample inside the file`);
    t.same(Array.from(tr.size), Array.from(whole.tracks[k].size.subarray(0, tr.count)), `${tr.kind}: the first samples of the whole file`);
  }
});

t.test('a damaged moof is refused with what is wrong, not read past its box', async (t) => {
  const bytes = readFileSync(files['empty-moov.mp4']);
  const trun = bytes.indexOf('trun', bytes.indexOf('moof'));
  // the first trun claims 2^31 samples, its box holds a few hundred
  const damaged = Buffer.from(bytes);
  damaged.writeUInt32BE(0x7fffffff, trun + 8);
  writeFileSync(join(dir, 'damaged.mp4'), damaged);
  const e = await read(join(dir, 'damaged.mp4')).then(() => null, (x: unknown) => x);
  t.ok(e instanceof MediaError && e.kind === 'NOT_MP4' && /a trun too short for its 2147483647 samples/.test(e.message), String(e));
});

/** The positions of every tfdt of track `id` (version 0 or 1), in file order. */
function tfdts(bytes: Buffer, id: number): { at: number; v: number }[] {
  const out: { at: number; v: number }[] = [];
  for (let i = bytes.indexOf('tfhd'); i >= 0; i = bytes.indexOf('tfhd', i + 4)) {
    if (bytes.readUInt32BE(i + 8) !== id) continue;
    const d = bytes.indexOf('tfdt', i);
    out.push({ at: d + 4, v: bytes[d + 4] });
  }
  return out;
}
const readTfdt = (b: Buffer, x: { at: number; v: number }) => (x.v === 1 ? Number(b.readBigUInt64BE(x.at + 4)) : b.readUInt32BE(x.at + 4));
const writeTfdt = (b: Buffer, x: { at: number; v: number }, t: number) => (x.v === 1 ? b.writeBigUInt64BE(BigInt(t), x.at + 4) : b.writeUInt32BE(t, x.at + 4));

t.test('fragment decode times (tfdt): a gap is kept, a late track starts later, a live cut starts at 0', async (t) => {
  const bytes = readFileSync(files['empty-moov.mp4']);
  const whole = await read(files['empty-moov.mp4']);
  const video = whole.tracks.find((x) => x.kind === 'video')!;
  const at = tfdts(bytes, video.id);
  t.ok(at.length >= 4, `${at.length} video fragments`);
  // a gap of one second before the third fragment: its samples start a second later, the last
  // sample before it lasts a second longer, and nothing else moves
  const gap = Buffer.from(bytes);
  for (const x of at.slice(2)) writeTfdt(gap, x, readTfdt(gap, x) + video.timescale);
  writeFileSync(join(dir, 'gap.mp4'), gap);
  const g = (await read(join(dir, 'gap.mp4'))).tracks.find((x) => x.kind === 'video')!;
  const third = Array.from(video.dts).indexOf(readTfdt(bytes, at[2]));
  t.ok(third > 0, `the third fragment starts at sample ${third}`);
  t.same(Array.from(g.dts.subarray(0, third)), Array.from(video.dts.subarray(0, third)), 'samples before the gap keep their times');
  t.same(Array.from(g.dts.subarray(third)), Array.from(video.dts.subarray(third), (d) => d + video.timescale), 'samples after it are a second later');
  t.equal(g.endDts, video.endDts + video.timescale, 'the track a second longer');
  // every fragment a second later: the track starts a second later (its start moves back by as much)
  const late = Buffer.from(bytes);
  for (const x of at) writeTfdt(late, x, readTfdt(late, x) + video.timescale);
  writeFileSync(join(dir, 'late.mp4'), late);
  const l = (await read(join(dir, 'late.mp4'))).tracks.find((x) => x.kind === 'video')!;
  t.same(Array.from(l.dts), Array.from(video.dts), 'decode times counted from the first sample');
  t.equal(l.mediaTimeOffset, video.mediaTimeOffset - video.timescale, 'the start a second later');
  // every track ten hours in (a cut of a live recording): nothing moves, the file starts at 0
  const live = Buffer.from(bytes);
  for (const tr of whole.tracks) for (const x of tfdts(bytes, tr.id)) writeTfdt(live, x, readTfdt(live, x) + 36_000 * tr.timescale);
  writeFileSync(join(dir, 'live.mp4'), live);
  const cut = await read(join(dir, 'live.mp4'));
  t.same(cut.tracks.map((x) => [x.mediaTimeOffset, x.endDts]), whole.tracks.map((x) => [x.mediaTimeOffset, x.endDts]), 'each track starts and ends where the whole file\'s does');
  t.equal(cut.durationMs, whole.durationMs, `duration ${cut.durationMs} ms, not ten hours more`);
});

t.test('the moofs count against the moov limit', async (t) => {
  const e = await read(files['empty-moov.mp4'], 4096).then(() => null, (x: unknown) => x);
  t.ok(e instanceof MediaError && e.kind === 'MOOV_TOO_LARGE' && /moov and moof boxes .* over the 4096-byte limit/.test(e.message), String(e));
});

/** Every decoded video frame's digest, in order. */
const frames = (file: string): string[] => ffmpeg(['-i', file, '-map', '0:v:0', '-f', 'framemd5', '-']).toString().split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop()!.trim());

/** A server with one entry of partner 309 whose one flavor is `file`. */
async function serving(t: Test, entryId: string, flavorId: string, file: string) {
  const s = await startServer(t);
  await importLibrary(s.app.catalog, {
    version: 1,
    entries: [{ id: entryId, partnerId: 309, name: file, flavors: [{ id: flavorId, flavorParamsId: 301951, file }] }],
  }, dir, s.config.mediaRoot);
  return s;
}

t.test('imported, it is packaged: HLS (TS and fMP4) and DASH carry every frame, in order', async (t) => {
  const s = await serving(t, '1_fragment', '1_fragfl01', 'empty-moov.mp4');
  const flavor = (await s.app.catalog.listFlavors('1_fragment'))[0];
  t.match({ codecs: flavor.codecs, width: flavor.width, height: flavor.height }, { codecs: /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/, width: 160, height: 96 }, 'codecs and picture size recorded');
  t.ok(flavor.bitrate > 0, `bitrate recorded: ${flavor.bitrate} kbit/s`);
  const entry = await s.app.catalog.getEntry('1_fragment');
  t.ok(entry && Math.abs(entry.duration - 8) < 0.1, `entry duration ${entry?.duration} s`);

  const source = frames(files['empty-moov.mp4']);
  t.equal(source.length, 200, 'the source has 200 frames');
  const pm = `${s.url}/p/309/sp/0/playManifest/entryId/1_fragment`;
  const master = await (await fetch(`${pm}/format/applehttp/protocol/http/a.m3u8`)).text();
  t.match(master, /#EXT-X-STREAM-INF:.*BANDWIDTH=[1-9]/, 'the master gives the flavor a bandwidth');
  const variant = master.split('\n').find((l) => l.startsWith('http'))!;
  t.ok(variant, 'the master lists the flavor');

  const fetchAll = async (playlistUrl: string): Promise<Buffer> => {
    const r = await fetch(playlistUrl);
    t.equal(r.status, 200, playlistUrl);
    const text = await r.text();
    const uris = [...text.matchAll(/#EXT-X-MAP:URI="([^"]+)"/g)].map((m) => m[1]).concat(text.split('\n').filter((l) => l && !l.startsWith('#')));
    t.ok(uris.length >= 2, `${uris.length} parts in ${playlistUrl}`);
    const parts: Buffer[] = [];
    for (const u of uris) {
      const seg = await fetch(new URL(u, playlistUrl));
      t.equal(seg.status, 200, u);
      parts.push(Buffer.from(await seg.arrayBuffer()));
    }
    return Buffer.concat(parts);
  };
  const check = (name: string, bytes: Buffer, ext: string) => {
    const f = join(dir, `served-${name}.${ext}`);
    writeFileSync(f, bytes);
    t.same(frames(f), source, `${name}: every frame of the source, in order`);
  };
  check('hls-ts', await fetchAll(variant), 'ts');
  check('hls-fmp4', await fetchAll(variant.replace('/hls/', '/hls/container/fmp4/')), 'mp4');

  const mpdUrl = (await fetch(`${pm}/format/mpegdash/protocol/http/manifest.mpd`, { redirect: 'manual' })).headers.get('location')!;
  t.ok(mpdUrl, 'playManifest redirects to the MPD');
  const mpd = await (await fetch(mpdUrl)).text();
  const rep = /<Representation id="([^"]+)"[^>]*mimeType="video\/mp4"|<AdaptationSet[^>]*contentType="video"[\s\S]*?<Representation id="([^"]+)"/.exec(mpd);
  const tmpl = /<SegmentTemplate[^>]*initialization="([^"]+)"[^>]*media="([^"]+)"|<SegmentTemplate[^>]*media="([^"]+)"[^>]*initialization="([^"]+)"/.exec(mpd);
  t.ok(rep && tmpl, 'the MPD names its video representation and segment template');
  const repId = rep![1] ?? rep![2];
  const init = (tmpl![1] ?? tmpl![4]).replace('$RepresentationID$', repId);
  const media = tmpl![2] ?? tmpl![3];
  // the video adaptation set's timeline: one S per segment, or r more of the same length
  const videoSet = /<AdaptationSet[^>]*(?:contentType="video"|mimeType="video\/mp4")[\s\S]*?<\/AdaptationSet>/.exec(mpd)![0];
  const count = [...videoSet.matchAll(/<S [^>]*\/>/g)].reduce((n, m) => n + 1 + Number(/r="(\d+)"/.exec(m[0])?.[1] ?? 0), 0);
  t.ok(count >= 2, `${count} DASH segments`);
  const dashParts = [Buffer.from(await (await fetch(new URL(init, mpdUrl))).arrayBuffer())];
  for (let n = 1; n <= count; n++) {
    const r = await fetch(new URL(media.replace('$RepresentationID$', repId).replace('$Number$', String(n)), mpdUrl));
    t.equal(r.status, 200, `DASH segment ${n}`);
    dashParts.push(Buffer.from(await r.arrayBuffer()));
  }
  check('dash', Buffer.concat(dashParts), 'mp4');

  for (const path of ['/width/80', '/vid_sec/5/width/80']) {
    const thumb = await fetch(`${s.url}/p/309/sp/30900/thumbnail/entry_id/1_fragment${path}`);
    t.equal(thumb.status, 200, `thumbnail ${path}`);
    t.equal(thumb.headers.get('content-type'), 'image/jpeg');
  }
  const file = await fetch(`${pm}/format/url/protocol/http/a.mp4`);
  t.equal(file.status, 200, 'progressive');
  t.same(Buffer.from(await file.arrayBuffer()), readFileSync(files['empty-moov.mp4']), 'the file as it is');
});

t.test('hls.js and dash.js play it in Chromium', async (t) => {
  const s = await serving(t, '1_fragobs0', '1_fragobsf', 'base-moof.mp4');
  const browser = await launchBrowser(t);
  const page = await startPlayerPageServer(t);
  const pm = `${s.url}/p/309/sp/30900/playManifest/entryId/1_fragobs0`;
  for (const [kind, src] of [['hls', `${pm}/format/applehttp/protocol/http/a.m3u8`], ['dash', `${pm}/format/mpegdash/protocol/http/a.mpd`]] as [PlayerKind, string][]) {
    const r = await playUntil(browser, page.url, kind, src, { untilSec: 6 });
    const diag = { events: r.events, console: r.console, failedRequests: r.failedRequests };
    t.same(r.errors, [], `${kind}: no error event`, diag);
    t.ok(r.reached, `${kind}: currentTime ${r.currentTime.toFixed(2)} s passes 6 s`, diag);
  }
});
