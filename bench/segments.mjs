// Issue 17, target 3 (and issue 3): segments and per-flavor playlists, made on the fly by kdeliver
// and by nginx-vod-module (NVM, Kaltura's packager in C) from the same MP4s with the same 10 s
// segments, plus nginx serving the same media pre-packaged by ffmpeg as static files (HLS TS and
// fMP4). Side by side in one run, interleaved rounds, wrk -t1; the server's CPU time per answer
// from /proc (user and system apart); the decoded frames of one segment compared between the
// servers. NVM runs as Kaltura ships its configuration and in the stronger one
// (postpone_output 256k); see lib/nvm.mjs for where it comes from, and --with-nvm to build it.
//
// Usage: node bench/segments.mjs [--connections 20] [--duration 10] [--rounds 3] [--no-build]
//          [--with-nvm] [--containers ts,fmp4,dash] [--playlist-duration 5]
//          [--playlist-connections 50] [--skip segments,playlists,media] [--profile]
// --profile: afterwards, one more kdeliver under `node --cpu-prof` for one run of each container,
// and where its samples went (bench/.work/profiles/; the profile includes the server's start and
// the 2 s warm-up).
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { Parser } from 'm3u8-parser';
import { parse as parseMpd } from 'mpd-parser';
import { BENCH_ENTRY, LONG_ENTRY, benchMedia } from './lib/media.mjs';
import { startKdeliver } from './lib/kdeliver.mjs';
import { startNginx } from './lib/nginx.mjs';
import { prepareNvm, startNvm } from './lib/nvm.mjs';
import { requireCommands, run } from './lib/system.mjs';
import { wrk } from './lib/wrk.mjs';
import { cpuMeter } from './lib/cpu.mjs';
import { loadAvg, printMachine, uptime } from './lib/machine.mjs';
import { loadOptions, median } from './lib/rounds.mjs';
import { fmt, startReport, table } from './lib/results.mjs';
import { frameMd5s, matchFrames, probe, showMatch } from './lib/media-check.mjs';
import { printProfile, profileKdeliver } from './lib/cpuprofile.mjs';

const opts = loadOptions({ connections: 20 }, {
  containers: { type: 'string', default: 'ts,fmp4,dash' },
  'playlist-duration': { type: 'string', default: '5' },
  'playlist-connections': { type: 'string', default: '50' },
  skip: { type: 'string', default: '' },
  profile: { type: 'boolean', default: false },
});
const { rounds, connections, duration, build, withNvm } = opts;
const containers = opts.extra.containers.split(',').filter(Boolean);
const skip = new Set(opts.extra.skip.split(',').filter(Boolean));
const PL_DURATION = Number(opts.extra['playlist-duration']);
const PL_CONNECTIONS = Number(opts.extra['playlist-connections']);
const FULL = 9.5; // only whole 10 s segments are compared, on every side
const SEGMENT_MS = 10000;

requireCommands(['wrk'], 'wrk');
requireCommands(['nginx'], 'nginx');
requireCommands(['ffmpeg', 'ffprobe'], 'ffmpeg');

const report = startReport('segments', { rounds, connections, duration, containers, withNvm });
printMachine();

const m3u8 = (text) => {
  const p = new Parser();
  p.push(text);
  p.end();
  return p.manifest;
};
async function get(url) {
  const r = await fetch(url);
  const body = Buffer.from(await r.arrayBuffer());
  if (r.status !== 200) throw new Error(`${url}: HTTP ${r.status} ${body.toString().slice(0, 300)}`);
  return body;
}

// Where each server answers: kdeliver's packager URLs, NVM's local-mode locations (lib/nvm.mjs)
const KD = {
  index: (entry, c) => `/hls${c === 'fmp4' ? '/container/fmp4' : ''}/p/309/sp/30900/serveFlavor/entryId/${entry.entryId}/v/1/flavorId/${entry.flavorId}/name/a.mp4/index.m3u8`,
  mpd: (entry) => `/dash/p/309/sp/30900/serveFlavor/entryId/${entry.entryId}/v/1/flavorId/${entry.flavorId}/name/a.mp4/manifest.mpd`,
};
const NVM = {
  index: (file, c) => `/${c === 'fmp4' ? 'hlsfmp4' : 'hls'}/${file}/index.m3u8`,
  mpd: (file) => `/dash/${file}/manifest.mpd`,
};

/** The whole (>= 9.5 s) segments of an HLS media playlist, as paths; the first and last checked. */
async function hlsSegments(base, indexPath) {
  const url = base + indexPath;
  const segs = m3u8((await get(url)).toString()).segments.filter((s) => s.duration >= FULL);
  return checked(base, segs.map((s) => new URL(s.uri, url).pathname));
}

/** The whole segments of a DASH MPD, video and audio interleaved: fragment N of each track. */
async function dashSegments(base, mpdPath) {
  const url = base + mpdPath;
  const mpd = parseMpd((await get(url)).toString(), { manifestUri: url });
  const video = mpd.playlists[0].segments;
  const audioGroup = Object.values(mpd.mediaGroups.AUDIO ?? {})[0];
  const audio = audioGroup ? Object.values(audioGroup)[0].playlists[0].segments : [];
  const paths = [];
  video.forEach((s, i) => {
    if (s.duration < FULL) return;
    paths.push(new URL(s.resolvedUri).pathname);
    if (audio[i] && audio[i].duration >= FULL) paths.push(new URL(audio[i].resolvedUri).pathname);
  });
  return checked(base, paths, 50_000);
}

async function checked(base, paths, minBytes = 100_000) {
  if (!paths.length) throw new Error(`${base}: no whole segments`);
  for (const p of [paths[0], paths[paths.length - 1]]) {
    const body = await get(base + p);
    if (body.length < minBytes) throw new Error(`segment ${base}${p}: only ${body.length} bytes`);
  }
  return paths;
}

/** ffmpeg packaging of the 120 s file into 10 s HLS segments (TS and fMP4), for static nginx. */
function ffmpegPackage(src, www) {
  for (const [container, extra, ext] of [
    ['ts', [], 'ts'],
    ['fmp4', ['-hls_segment_type', 'fmp4', '-hls_fmp4_init_filename', 'init.mp4'], 'm4s'],
  ]) {
    const dir = join(www, container);
    mkdirSync(dir, { recursive: true });
    run('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', src, '-c', 'copy', '-f', 'hls', '-hls_time', '10', '-hls_playlist_type', 'vod',
      ...extra, '-hls_segment_filename', join(dir, `seg-%d.${ext}`), join(dir, 'index.m3u8')]);
  }
  chmodSync(www, 0o755);
  for (const d of readdirSync(www)) chmodSync(join(www, d), 0o755);
  const pathsOf = (container) => m3u8(readFileSync(join(www, container, 'index.m3u8'), 'utf8')).segments
    .filter((s) => s.duration >= FULL).map((s) => `/${container}/${s.uri}`);
  return { ts: pathsOf('ts'), fmp4: pathsOf('fmp4') };
}

/** One wrk run against a server with its CPU measured over the run. */
async function measure(server, paths, conns, seconds) {
  const meter = cpuMeter(server.pid);
  const r = await wrk(server.url, paths, { connections: conns, duration: seconds });
  const cpu = meter(r.requests);
  if (r.non2xx > 0) throw new Error(`${server.name}: ${r.non2xx} non-2xx responses`);
  if (!(r.requests > 0)) throw new Error(`${server.name}: no requests completed:\n${r.raw}`);
  return { ...r, ...cpu, avgBytes: (r.mbPerSec * 1e6 * r.seconds) / r.requests, load: loadAvg().split(' ')[0] };
}

const media = benchMedia();
const mediaDir = dirname(media.segments);
const benchFile = basename(media.segments);
const longFile = basename(media.long);
const www = mkdtempSync(join(tmpdir(), 'kdeliver-bench-www-'));
const staticPaths = ffmpegPackage(media.segments, www);

const nvm = prepareNvm({ build: withNvm });
if (nvm.skip) {
  console.log(`nginx-vod-module: SKIPPED: ${nvm.skip}`);
  report.note(`nginx-vod-module skipped: ${nvm.skip}`);
} else {
  console.log(`nginx-vod-module: ${nvm.bin} (${nvm.version})`);
}

const started = [];
const keep = (s) => (started.push(s), s);
const rows = [];
const playlistRows = [];
const ratios = {};
const mediaRows = [];
try {
  // HLS and DASH segments of 10 s on both on-the-fly servers (kdeliver's DASH default is 4 s)
  const kd = keep(await startKdeliver({ build, env: { KDELIVER_HLS_SEGMENT_MS: String(SEGMENT_MS), KDELIVER_DASH_SEGMENT_MS: String(SEGMENT_MS) } }));
  const ng = keep(await startNginx(www));
  ng.name = 'static';
  const ngStop = ng.stop;
  ng.stop = async () => { await ngStop(); rmSync(ng.prefix, { recursive: true, force: true }); };
  const peers = [];
  if (!nvm.skip) {
    peers.push(keep(await startNvm(nvm, { name: 'NVM', mediaDir })));
    peers.push(keep(await startNvm(nvm, { name: 'NVM-po', mediaDir, postpone: true })));
  }
  const [nvmShipped, nvmStrong] = peers;
  console.log(`pids: ${started.map((s) => `${s.name} ${s.pid}`).join(', ')}`);

  // ---- segments: per container, 2 s warm-up each, then rounds of every server in turn
  if (!skip.has('segments')) {
    for (const c of containers) {
      const servers = c === 'dash'
        ? [[kd, await dashSegments(kd.url, KD.mpd(BENCH_ENTRY))], ...peers.map((p) => [p, null])]
        : [[kd, await hlsSegments(kd.url, KD.index(BENCH_ENTRY, c))], ...peers.map((p) => [p, null]), [ng, staticPaths[c]]];
      for (const s of servers) if (!s[1]) s[1] = c === 'dash' ? await dashSegments(s[0].url, NVM.mpd(benchFile)) : await hlsSegments(s[0].url, NVM.index(benchFile, c));
      for (const [s, paths] of servers) await wrk(s.url, paths, { connections, duration: 2 });
      ratios[c] = [];
      for (let round = 1; round <= rounds; round++) {
        const got = {};
        for (const [s, paths] of servers) {
          const r = await measure(s, paths, connections, duration);
          got[s.name] = r;
          rows.push({ container: c, server: s.name, round, segments: paths.length, ...r });
          console.log(`  ${c} round ${round} ${s.name}: ${fmt(r.reqPerSec)} req/s, ${fmt(r.mbPerSec)} MB/s, p99 ${fmt(r.p99ms, 1)} ms, CPU ${fmt(r.cpuPct)} % (${fmt(r.cpuUsPerReq)} us/answer), other ${fmt(r.otherPct)} %, load ${r.load}`);
        }
        const q = (a, b, k) => (got[a] && got[b] ? got[a][k] / got[b][k] : NaN);
        ratios[c].push({
          nvm: q('kdeliver', 'NVM', 'reqPerSec'), nvmCpu: q('kdeliver', 'NVM', 'cpuUsPerReq'),
          strong: q('kdeliver', 'NVM-po', 'reqPerSec'), strongCpu: q('kdeliver', 'NVM-po', 'cpuUsPerReq'),
          static: q('kdeliver', 'static', 'reqPerSec'), staticCpu: q('kdeliver', 'static', 'cpuUsPerReq'),
        });
      }
    }
  }

  // ---- per-flavor playlists: one TS index.m3u8 URL, the 120 s file's then the 2-hour file's
  if (!skip.has('playlists')) {
    const nrc = nvm.skip ? null : keep(await startNvm(nvm, { name: 'NVM-nrc', mediaDir, responseCache: false }));
    for (const [label, entry, file] of [['120 s', BENCH_ENTRY, benchFile], ['2 h', LONG_ENTRY, longFile]]) {
      const servers = [[kd, KD.index(entry, 'ts')], ...[nvmStrong, nvmShipped, nrc].filter(Boolean).map((s) => [s, NVM.index(file, 'ts')])];
      for (const [s, p] of servers) {
        if (!(await get(s.url + p)).toString().startsWith('#EXTM3U')) throw new Error(`${s.name} ${p}: not a playlist`);
        await wrk(s.url, [p], { connections: PL_CONNECTIONS, duration: 2 });
      }
      for (let round = 1; round <= rounds; round++) {
        for (const [s, p] of servers) {
          const r = await measure(s, [p], PL_CONNECTIONS, PL_DURATION);
          playlistRows.push({ label, server: s.name, round, ...r });
          console.log(`  playlist ${label} round ${round} ${s.name}: ${fmt(r.reqPerSec)} req/s, p99 ${fmt(r.p99ms, 2)} ms, ${fmt(r.cpuUsPerReq, 1)} us CPU/answer, other ${fmt(r.otherPct)} %`);
        }
      }
    }
  }

  // ---- same media: segment 10-20 s of every server, decoded frame by frame
  if (!skip.has('media')) {
    const dir = mkdtempSync(join(tmpdir(), 'kdeliver-bench-media-'));
    try {
      const save = (name, ...bufs) => { writeFileSync(join(dir, name), Buffer.concat(bufs)); return join(dir, name); };
      const hlsPair = async (base, indexPath, c) => {
        const url = base + indexPath;
        const text = (await get(url)).toString();
        const seg = m3u8(text).segments.find((s) => s.duration >= FULL);
        const segBody = await get(new URL(seg.uri, url).href);
        if (c === 'ts') return [segBody];
        const init = m3u8(text).segments[0].map.uri;
        return [await get(new URL(init, url).href), segBody];
      };
      const dashPair = async (base, mpdPath, kind) => {
        const url = base + mpdPath;
        const mpd = parseMpd((await get(url)).toString(), { manifestUri: url });
        const track = kind === 'video' ? mpd.playlists[0] : Object.values(Object.values(mpd.mediaGroups.AUDIO)[0])[0].playlists[0];
        // the fragment that starts at 10 s (DASH has no short bootstrap segments)
        let start = 0;
        const seg = track.segments.find((s) => (start += s.duration) - s.duration >= 9.9);
        return [await get(seg.map.resolvedUri), await get(seg.resolvedUri)];
      };
      const files = [];
      for (const c of ['ts', 'fmp4']) {
        const ext = c === 'ts' ? 'ts' : 'mp4';
        files.push({ c, server: 'kdeliver', file: save(`kdeliver-${c}.${ext}`, ...(await hlsPair(kd.url, KD.index(BENCH_ENTRY, c), c))) });
        for (const p of peers.slice(0, 1)) files.push({ c, server: p.name, file: save(`nvm-${c}.${ext}`, ...(await hlsPair(p.url, NVM.index(benchFile, c), c))) });
        const staticBufs = c === 'ts' ? [readFileSync(join(www, 'ts', 'seg-1.ts'))] : [readFileSync(join(www, 'fmp4', 'init.mp4')), readFileSync(join(www, 'fmp4', 'seg-1.m4s'))];
        files.push({ c, server: 'static (ffmpeg)', file: save(`static-${c}.${ext}`, ...staticBufs) });
      }
      for (const kind of ['video', 'audio']) {
        files.push({ c: `dash ${kind}`, server: 'kdeliver', file: save(`kdeliver-dash-${kind}.mp4`, ...(await dashPair(kd.url, KD.mpd(BENCH_ENTRY), kind))) });
        for (const p of peers.slice(0, 1)) files.push({ c: `dash ${kind}`, server: p.name, file: save(`nvm-dash-${kind}.mp4`, ...(await dashPair(p.url, NVM.mpd(benchFile), kind))) });
      }
      for (const f of files) {
        Object.assign(f, probe(f.file));
        Object.assign(f, { vMd5: f.video ? frameMd5s(f.file, 'v') : [], aMd5: f.audio ? frameMd5s(f.file, 'a') : [] });
      }
      const ref = files.find((f) => f.c === 'ts' && f.server === 'static (ffmpeg)');
      const both = (f, other) => [f.vMd5.length ? `v ${showMatch(matchFrames(f.vMd5, other.vMd5))}` : '', f.aMd5.length ? `a ${showMatch(matchFrames(f.aMd5, other.aMd5))}` : ''].filter(Boolean).join(', ');
      for (const f of files) {
        const peer = files.find((x) => x.c === f.c && x.server === 'NVM');
        mediaRows.push({
          c: f.c, server: f.server, video: f.video?.frames ?? 0, audio: f.audio?.frames ?? 0,
          vsFfmpeg: both(f, ref),
          vsNvm: peer && f !== peer ? both(f, peer) : '',
          vEqualNvm: peer && f !== peer && f.vMd5.length ? matchFrames(f.vMd5, peer.vMd5) : null,
        });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
} finally {
  for (const s of started.splice(0)) await s.stop().catch(() => {});
  rmSync(www, { recursive: true, force: true });
}

// ---- where kdeliver's segment time goes: node --cpu-prof on a server of its own
let profiles = [];
if (opts.extra.profile) {
  for (const c of containers) {
    const p = await profileKdeliver(c, { env: { KDELIVER_HLS_SEGMENT_MS: String(SEGMENT_MS), KDELIVER_DASH_SEGMENT_MS: String(SEGMENT_MS) } }, async (kd) => {
      const paths = c === 'dash' ? await dashSegments(kd.url, KD.mpd(BENCH_ENTRY)) : await hlsSegments(kd.url, KD.index(BENCH_ENTRY, c));
      await wrk(kd.url, paths, { connections, duration: 2 });
      return measure({ ...kd, name: 'kdeliver' }, paths, connections, duration);
    });
    profiles.push({ c, ...p });
  }
}

// ---- report
console.log(`\nfinished ${new Date().toISOString()}; uptime: ${uptime()}`);
if (rows.length) {
  console.log(`\nSegments: wrk -t1 -c${connections} -d${duration}s round-robin over each server's whole 10 s segments (TS, fMP4: HLS; DASH: video and audio fragments); one kdeliver process, one nginx worker each`);
  table([['container', 9], ['server', 8], ['round', 5], ['req/s', 7], ['MB/s', 6], ['p50 ms', 7], ['p99 ms', 7], ['CPU %', 6], ['usr %', 6], ['sys %', 6], ['us/answer', 9], ['avg bytes', 10], ['other %', 7], ['load', 5]],
    rows.map((r) => [r.container, r.server, r.round, fmt(r.reqPerSec), fmt(r.mbPerSec), fmt(r.p50ms, 1), fmt(r.p99ms, 1), fmt(r.cpuPct), fmt(r.userPct), fmt(r.systemPct), fmt(r.cpuUsPerReq), fmt(r.avgBytes), fmt(r.otherPct), r.load]), 2);
  console.log('(NVM: nginx-vod-module as Kaltura ships its configuration; NVM-po: the same + postpone_output 256k, the stronger peer; static: Debian nginx serving ffmpeg-packaged files; CPU = the server\'s user + system time over the run, in % of one CPU; other % = CPU used meanwhile by everything but the server and the client)');
}
if (playlistRows.length) {
  console.log(`\nPer-flavor TS playlists: wrk -t1 -c${PL_CONNECTIONS} -d${PL_DURATION}s on one URL`);
  table([['file', 6], ['server', 8], ['round', 5], ['req/s', 8], ['p50 ms', 7], ['p99 ms', 7], ['CPU %', 6], ['us/answer', 9], ['bytes', 7], ['other %', 7]],
    playlistRows.map((r) => [r.label, r.server, r.round, fmt(r.reqPerSec), fmt(r.p50ms, 2), fmt(r.p99ms, 2), fmt(r.cpuPct), fmt(r.cpuUsPerReq, 1), fmt(r.avgBytes), fmt(r.otherPct)]), 2);
  console.log('(NVM-nrc: NVM with its response cache off)');
}
if (mediaRows.length) {
  console.log('\nSame media: segment 10-20 s of each server (kdeliver seg-5 / fragment-2, NVM seg-5 / fragment-2, ffmpeg seg-1), decoded by ffmpeg; frames equal (framemd5) at the best offset');
  table([['segment', 10], ['server', 15], ['video frames', 12], ['audio frames', 12], ['vs ffmpeg TS', 22], ['vs NVM', 22]],
    mediaRows.map((m) => [m.c, m.server, m.video ?? 0, m.audio ?? 0, m.vsFfmpeg, m.vsNvm]), 2);
}
for (const p of profiles) {
  printProfile(p, p.missing ? '' : `Profile of kdeliver, ${p.c} segments (${fmt(p.run.reqPerSec)} req/s, CPU ${fmt(p.run.cpuPct)} % = user ${fmt(p.run.userPct)} % + system ${fmt(p.run.systemPct)} %, ${fmt(p.run.userUsPerReq)} + ${fmt(p.run.systemUsPerReq)} us per segment)`);
}

report.data.segments = rows.map(({ raw, ...r }) => r);
report.data.playlists = playlistRows.map(({ raw, ...r }) => r);
report.data.media = mediaRows;
report.data.profiles = profiles;
const med = (xs) => median(xs.filter(Number.isFinite));
const list = (xs) => xs.map((x) => fmt(x, 2)).join(', ');
for (const c of containers) {
  const rs = ratios[c] ?? [];
  if (!rs.length) continue;
  const name = { ts: 'HLS TS', fmp4: 'HLS fMP4', dash: 'DASH' }[c];
  if (!nvm.skip) {
    report.ratio(`${name} segments/s kdeliver / NVM-po (stronger)`, med(rs.map((x) => x.strong)), `rounds ${list(rs.map((x) => x.strong))}; CPU per segment kdeliver / NVM-po ${fmt(med(rs.map((x) => x.strongCpu)), 2)}; aim >= 1.0 at <= 1.0 CPU`);
    report.ratio(`${name} segments/s kdeliver / NVM as shipped`, med(rs.map((x) => x.nvm)), `rounds ${list(rs.map((x) => x.nvm))}; CPU per segment kdeliver / NVM ${fmt(med(rs.map((x) => x.nvmCpu)), 2)}`);
  }
  if (c !== 'dash') report.ratio(`${name} segments/s kdeliver / static nginx`, med(rs.map((x) => x.static)), `rounds ${list(rs.map((x) => x.static))}; CPU per segment kdeliver / static ${fmt(med(rs.map((x) => x.staticCpu)), 2)}; aim >= ${c === 'ts' ? 0.6 : 0.8}`);
}
for (const label of ['120 s', '2 h']) {
  const by = (s) => playlistRows.filter((r) => r.label === label && r.server === s).map((r) => r.reqPerSec);
  const k = by('kdeliver');
  if (!k.length) continue;
  for (const [peer, what] of [['NVM-po', 'NVM-po (stronger, response cache on)'], ['NVM-nrc', 'NVM response cache off']]) {
    const p = by(peer);
    if (p.length) report.ratio(`${label} TS playlist req/s kdeliver / ${what}`, med(k.map((x, i) => x / p[i])), `rounds ${list(k.map((x, i) => x / p[i]))}${peer === 'NVM-po' ? '; aim >= 1.0' : ''}`);
  }
  if (nvm.skip) report.note(`${label} TS playlist: kdeliver ${fmt(med(k))} req/s (no peer)`);
}
for (const c of ['ts', 'fmp4', 'dash video', 'dash audio']) {
  const m = mediaRows.find((x) => x.c === c && x.server === 'kdeliver');
  if (m?.vsNvm) report.note(`same media ${c} (segment 10-20 s), decoded frames equal kdeliver vs NVM: ${m.vsNvm}`);
}
report.finish();
