// Issue 17, target 4 (with index-parse.mjs for the parse time and memory per index): the first
// per-flavor playlist of the 2-hour benchmark file (lib/media.mjs: 6.2 MB moov, 216,000 video
// samples) with the file dropped from the page cache, kdeliver against nginx-vod-module (NVM,
// as Kaltura ships its configuration; lib/nvm.mjs), two ways:
// - fresh server: a server just started (nothing parsed, no JIT warm-up, no open files) over a
//   data directory another process imported the libraries into beforehand, as `kdeliver serve`
//   starts over an existing library (the import's own code never runs in the measured process);
// - running server: a server that has already answered other requests (the 120 s file's
//   playlist and segments), asked for the 2-hour file for the first time.
// The file's pages are dropped with GNU dd's nocache flag (posix_fadvise DONTNEED on the whole
// file, no other file touched) and checked with fincore; when that leaves pages, as root,
// `echo 1 > /proc/sys/vm/drop_caches`. Each first request is a new curl connection (time_total);
// "warm" is the median of three more.
// Usage: node bench/cold.mjs [--rounds 3] [--no-build] [--with-nvm]
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { BENCH_ENTRY, LONG_ENTRY, benchMedia } from './lib/media.mjs';
import { startKdeliver } from './lib/kdeliver.mjs';
import { prepareNvm, startNvm } from './lib/nvm.mjs';
import { hasCommand, requireCommands, run } from './lib/system.mjs';
import { printMachine, uptime } from './lib/machine.mjs';
import { loadOptions, median } from './lib/rounds.mjs';
import { fmt, startReport, table } from './lib/results.mjs';

const { rounds, build, withNvm } = loadOptions({ connections: 1, rounds: 3 });
requireCommands(['curl'], 'curl');
const report = startReport('cold', { rounds, withNvm });
printMachine();
const media = benchMedia();
const mediaDir = dirname(media.segments);

const kdIndex = (e) => `/hls/p/309/sp/30900/serveFlavor/entryId/${e.entryId}/v/1/flavorId/${e.flavorId}/name/a.mp4/index.m3u8`;
const nvmIndex = (file) => `/hls/${file}/index.m3u8`;

/** Pages of `file` in the page cache (fincore), or NaN when fincore is not there. */
function residentPages(file) {
  if (!hasCommand('fincore')) return NaN;
  const r = spawnSync('fincore', ['--bytes', '--noheadings', '--output', 'PAGES', file], { encoding: 'utf8' });
  return r.status === 0 ? Number(r.stdout.trim()) : NaN;
}

/** Drops `file` from the page cache; says how (and whether it worked). */
function dropFile(file) {
  const dd = spawnSync('dd', [`if=${file}`, 'iflag=nocache', 'count=0', 'status=none']);
  let left = residentPages(file);
  if (dd.status === 0 && left === 0) return 'dd nocache';
  if (process.getuid?.() === 0) {
    spawnSync('sh', ['-c', 'sync && echo 1 > /proc/sys/vm/drop_caches']);
    left = residentPages(file);
    if (left === 0 || Number.isNaN(left)) return 'drop_caches';
  }
  return `NOT dropped (${left} pages resident)`;
}

/** One GET on a new connection, by curl: ms to the last byte, status, body. */
function curlGet(url) {
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-bench-curl-'));
  try {
    const [code, total] = run('curl', ['-s', '-o', join(dir, 'body'), '-w', '%{http_code} %{time_total}', url]).trim().split(' ');
    if (code !== '200') throw new Error(`${url}: HTTP ${code}`);
    return { ms: Number(total) * 1000, body: readFileSync(join(dir, 'body'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function warmOther(base, indexPath) {
  // a running server: its code paths warm (playlist, a few segments) on another file
  const text = curlGet(base + indexPath).body;
  const segs = text.split('\n').filter((l) => l && !l.startsWith('#')).slice(0, 6);
  for (let k = 0; k < 20; k++) curlGet(base + indexPath);
  for (const s of segs) await (await fetch(new URL(s, base + indexPath))).arrayBuffer();
}

const nvm = prepareNvm({ build: withNvm });
if (nvm.skip) {
  console.log(`nginx-vod-module: SKIPPED: ${nvm.skip}`);
  report.note(`nginx-vod-module skipped: ${nvm.skip}`);
}
if (build) (await import('./lib/build.mjs')).buildProject();
// the library imported once, by a server process of its own that is then stopped
const kdData = mkdtempSync(join(tmpdir(), 'kdeliver-bench-cold-'));
process.on('exit', () => rmSync(kdData, { recursive: true, force: true }));
await (await startKdeliver({ build: false, dataDir: kdData })).stop();
const servers = [
  { name: 'kdeliver', start: () => startKdeliver({ build: false, dataDir: kdData, libraries: [] }), long: kdIndex(LONG_ENTRY), other: kdIndex(BENCH_ENTRY) },
  ...(nvm.skip ? [] : [{ name: 'NVM', start: () => startNvm(nvm, { name: 'NVM', mediaDir }), long: nvmIndex(basename(media.long)), other: nvmIndex(basename(media.segments)) }]),
];

const rows = [];
for (let rep = 1; rep <= rounds; rep++) {
  for (const s of servers) {
    for (const mode of ['fresh server', 'running server']) {
      const srv = await s.start();
      try {
        if (mode === 'running server') await warmOther(srv.url, s.other);
        const how = dropFile(media.long);
        const first = curlGet(srv.url + s.long);
        if (!first.body.startsWith('#EXTM3U')) throw new Error(`${s.name}: not a playlist`);
        const warm = median([curlGet(srv.url + s.long).ms, curlGet(srv.url + s.long).ms, curlGet(srv.url + s.long).ms]);
        const segments = first.body.split('\n').filter((l) => l.startsWith('#EXTINF')).length;
        rows.push({ rep, server: s.name, mode, first: first.ms, warm, bytes: Buffer.byteLength(first.body), segments, drop: how, uptime: uptime() });
        console.log(`  rep ${rep} ${s.name}, ${mode}: first ${fmt(first.ms, 1)} ms, warm ${fmt(warm, 2)} ms (${segments} segments; page cache: ${how}; ${uptime().replace(/.*load/, 'load')})`);
      } finally {
        await srv.stop();
      }
    }
  }
}

console.log(`\nFirst TS playlist of the 2-hour file (${basename(media.long)}), page cache dropped; curl time_total on a new connection; finished ${new Date().toISOString()}, ${uptime()}`);
table([['server', 9], ['mode', 15], ['first ms (each rep)', 26], ['median', 7], ['warm ms', 8], ['segments', 8], ['bytes', 6]],
  servers.flatMap((s) => ['fresh server', 'running server'].map((mode) => {
    const rs = rows.filter((r) => r.server === s.name && r.mode === mode);
    return [s.name, mode, rs.map((r) => fmt(r.first, 1)).join(' / '), fmt(median(rs.map((r) => r.first)), 1), fmt(median(rs.map((r) => r.warm)), 2), rs[0].segments, rs[0].bytes];
  })));
report.data.rows = rows;
for (const mode of ['fresh server', 'running server']) {
  const k = rows.filter((r) => r.server === 'kdeliver' && r.mode === mode).map((r) => r.first);
  const p = rows.filter((r) => r.server === 'NVM' && r.mode === mode).map((r) => r.first);
  if (p.length) report.ratio(`cold first 2-hour playlist, ${mode}: kdeliver ms / NVM ms`, median(k) / median(p), `kdeliver ${fmt(median(k), 1)} ms, NVM ${fmt(median(p), 1)} ms (medians of ${k.length}); aim <= 1.0`);
  else report.note(`cold first 2-hour playlist, ${mode}: kdeliver ${fmt(median(k), 1)} ms (no peer)`);
}
if (rows.some((r) => r.drop.startsWith('NOT'))) report.note('the file could not always be dropped from the page cache: those first requests read it from memory');
report.finish();
