// Issue 3 benchmark: HLS segment requests/s and MB/s at 20 connections, fMP4 and MPEG-TS, made on
// the fly by kdeliver from a 120 s 720p MP4, against nginx (Debian) serving the same media
// pre-packaged by ffmpeg into 10 s segments, side by side in one run. Also: the first (cold)
// request of a 2-hour file's playlist, which pays the moov read and parse.
// Usage: node bench/segments.mjs [--connections 20] [--duration 10] [--rounds 3] [--no-build]
// Each round runs kdeliver then nginx; the ratio reported is the median of the per-round ratios.
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Parser } from 'm3u8-parser';
import { BENCH_ENTRY, LONG_ENTRY, benchMedia } from './lib/media.mjs';
import { startKdeliver } from './lib/kdeliver.mjs';
import { startNginx } from './lib/nginx.mjs';
import { requireCommands, run } from './lib/system.mjs';
import { wrk } from './lib/wrk.mjs';
import { loadAvg, printMachine } from './lib/machine.mjs';
import { loadOptions, median } from './lib/rounds.mjs';

const { rounds, connections, duration, build } = loadOptions({ connections: 20 });
const FULL = 9.5; // only whole 10 s segments are compared, on both sides

requireCommands(['wrk'], 'wrk');
requireCommands(['nginx'], 'nginx');
requireCommands(['ffmpeg'], 'ffmpeg');

const m3u8 = (text) => {
  const p = new Parser();
  p.push(text);
  p.end();
  return p.manifest;
};

const indexPath = (entry, container) =>
  `/hls${container === 'fmp4' ? '/container/fmp4' : ''}/p/309/sp/30900/serveFlavor/entryId/${entry.entryId}/v/1/flavorId/${entry.flavorId}/name/a.mp4/index.m3u8`;

async function kdeliverSegments(base, container) {
  const url = base + indexPath(BENCH_ENTRY, container);
  const res = await fetch(url);
  if (res.status !== 200) throw new Error(`kdeliver ${url}: HTTP ${res.status} ${await res.text()}`);
  const segs = m3u8(await res.text()).segments.filter((s) => s.duration >= FULL);
  const paths = segs.map((s) => new URL(s.uri, url).pathname);
  for (const p of [paths[0], paths[paths.length - 1]]) {
    const r = await fetch(base + p);
    const body = Buffer.from(await r.arrayBuffer());
    if (r.status !== 200 || body.length < 100_000) throw new Error(`kdeliver segment ${p}: HTTP ${r.status}, ${body.length} bytes`);
  }
  return paths;
}

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

const avgSize = (root, paths) => paths.reduce((s, p) => s + statSync(join(root, p)).size, 0) / paths.length;

printMachine();
const media = benchMedia();
const www = mkdtempSync(join(tmpdir(), 'kdeliver-bench-www-'));
const nginxPaths = ffmpegPackage(media.segments, www);
const kd = await startKdeliver({ build });
const ng = await startNginx(www);
try {
  // Cold playlist of a 2-hour file: the first request reads and parses its 6.2 MB moov
  const longUrl = kd.url + indexPath(LONG_ENTRY, 'ts');
  const timed = async () => {
    const t0 = process.hrtime.bigint();
    const r = await fetch(longUrl);
    await r.arrayBuffer();
    if (r.status !== 200) throw new Error(`${longUrl}: HTTP ${r.status}`);
    return Number(process.hrtime.bigint() - t0) / 1e6;
  };
  const cold = await timed();
  const warm = [await timed(), await timed(), await timed()].sort((a, b) => a - b)[1];

  const rows = [];
  const ratios = { fmp4: [], ts: [] };
  for (const container of ['fmp4', 'ts']) {
    const kPaths = await kdeliverSegments(kd.url, container);
    const nPaths = nginxPaths[container];
    const servers = [['kdeliver', kd.url, kPaths], ['nginx', ng.url, nPaths]];
    for (const [, base, paths] of servers) await wrk(base, paths, { connections, duration: 2 }); // warm-up: JIT, page cache, index cache
    for (let round = 1; round <= rounds; round++) {
      const got = {};
      for (const [name, base, paths] of servers) {
        const r = await wrk(base, paths, { connections, duration });
        if (r.non2xx > 0) throw new Error(`${name} ${container}: ${r.non2xx} non-2xx responses`);
        got[name] = r;
        rows.push({ container, name, round, ...r, segments: paths.length, avgBytes: r.requests ? (r.mbPerSec * 1e6 * r.seconds) / r.requests : NaN, load: loadAvg().split(' ')[0] });
      }
      ratios[container].push({ rps: got.kdeliver.reqPerSec / got.nginx.reqPerSec, mbs: got.kdeliver.mbPerSec / got.nginx.mbPerSec });
    }
  }

  console.log(`\nHLS segments, ${connections} connections, ${duration} s per run, wrk -t1, one kdeliver process vs one nginx worker, loopback`);
  console.log('container  server    round   req/s     MB/s   p50 ms   p99 ms   segments  avg bytes/response  load');
  for (const r of rows) {
    console.log(`${r.container.padEnd(9)}  ${r.name.padEnd(9)} ${String(r.round).padStart(4)} ${r.reqPerSec.toFixed(0).padStart(7)} ${r.mbPerSec.toFixed(0).padStart(8)} ${r.p50ms.toFixed(1).padStart(8)} ${r.p99ms.toFixed(1).padStart(8)} ${String(r.segments).padStart(10)}  ${Math.round(r.avgBytes).toLocaleString('en').padStart(18)}  ${r.load}${r.socketErrors !== 'none' ? `  socket errors: ${r.socketErrors}` : ''}`);
  }
  for (const [container, aim] of [['fmp4', 0.5], ['ts', 0.35]]) {
    const rs = ratios[container];
    console.log(`ratio ${container}: kdeliver/nginx = ${median(rs.map((x) => x.rps)).toFixed(2)} req/s, ${median(rs.map((x) => x.mbs)).toFixed(2)} MB/s (median of ${rs.length} rounds: ${rs.map((x) => x.rps.toFixed(2)).join(', ')}; aim >= ${aim})`);
  }
  console.log(`cold playlist of a 2-hour file (first request, moov read + parse + playlist): ${cold.toFixed(1)} ms; warm: ${warm.toFixed(1)} ms`);
} finally {
  await kd.stop();
  await ng.stop();
  rmSync(www, { recursive: true, force: true });
  rmSync(ng.prefix, { recursive: true, force: true });
}
