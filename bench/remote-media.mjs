// Issue 14, item 4: segments packaged from media on S3 (s3rver, through the AWS SDK) and on an
// HTTP origin (nginx) against the same segments from local disk, in one run, interleaved rounds,
// wrk -t1 over the benchmark entry's HLS TS segments (120 s, 10 s segments of ~1.7 MB).
// Warm: the default block cache (KDELIVER_MEDIA_CACHE_MB=256) holds the whole file after the
// first pass. Cold: a 1 MB block cache, smaller than one segment's blocks, so every answer
// fetches its blocks from the origin. Aim: warm >= 0.8 of local. Every server runs with the
// segment answer cache off (KDELIVER_SEGMENT_CACHE_MB=0): with it, each segment would be read from
// the store once and then copied from memory, and the ratios would compare nothing but the cache.
//
// Usage: node bench/remote-media.mjs [--connections 10] [--duration 5] [--rounds 2] [--no-build]
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BENCH_ENTRY, benchMedia } from './lib/media.mjs';
import { startKdeliver } from './lib/kdeliver.mjs';
import { startNginx } from './lib/nginx.mjs';
import { distModule } from './lib/build.mjs';
import { freePort, startProcess } from './lib/procs.mjs';
import { benchDir } from './lib/paths.mjs';
import { requireCommands } from './lib/system.mjs';
import { wrk } from './lib/wrk.mjs';
import { loadAvg, printMachine } from './lib/machine.mjs';
import { loadOptions, median } from './lib/rounds.mjs';
import { fmt, startReport, table } from './lib/results.mjs';

const opts = loadOptions({ connections: 10, duration: 5, rounds: 2 });
const { rounds, connections, duration, build } = opts;
requireCommands(['wrk'], 'wrk');
requireCommands(['nginx'], 'nginx');
const report = startReport('remote-media', { rounds, connections, duration });
printMachine();
benchMedia();

const stops = [];
const cleanup = async () => {
  for (const s of stops.reverse()) await s().catch(() => {});
};
process.on('SIGINT', () => cleanup().then(() => process.exit(130)));

try {
  // local disk: the reference, and the media folder the origins serve
  const noSegmentCache = { KDELIVER_SEGMENT_CACHE_MB: '0' };
  const local = await startKdeliver({ build, name: 'kdeliver-local', env: noSegmentCache });
  stops.push(local.stop);
  const mediaRoot = join(local.dataDir, 'media');

  const nginx = await startNginx(mediaRoot);
  stops.push(nginx.stop);

  const s3dir = mkdtempSync(join(tmpdir(), 'kdeliver-bench-s3-'));
  stops.push(async () => rmSync(s3dir, { recursive: true, force: true }));
  const s3port = await freePort();
  const s3 = await startProcess('s3rver', process.execPath, [join(benchDir, 'lib', 's3rver-server.mjs'), s3dir, String(s3port), 'media'], { ready: /listening on/ });
  stops.push(s3.stop);
  const s3env = {
    KDELIVER_MEDIA_URL: 's3://media/lib', AWS_ENDPOINT_URL: `http://127.0.0.1:${s3port}`, AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER', KDELIVER_S3_FORCE_PATH_STYLE: 'true',
  };
  const { s3Client } = await import(distModule('src/storage/s3-origin.js'));
  const { PutObjectCommand } = await import('@aws-sdk/client-s3');
  const client = s3Client({ kind: 's3', url: 's3://media/lib', bucket: 'media', prefix: 'lib', endpoint: s3env.AWS_ENDPOINT_URL, region: 'us-east-1', forcePathStyle: true, accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' }, { timeoutMs: 60_000, connectTimeoutMs: 5_000 });
  const key = `309/${BENCH_ENTRY.entryId}/bench-720p-120s.mp4`;
  await client.send(new PutObjectCommand({ Bucket: 'media', Key: `lib/${key}`, Body: readFileSync(join(mediaRoot, key)) }));
  client.destroy();

  const remote = (name, env) => startKdeliver({ build: false, name, env: { KDELIVER_MEDIA_TIMEOUT_MS: '30000', ...noSegmentCache, ...env } }).then((k) => (stops.push(k.stop), k));
  const servers = [
    { name: 'local disk', srv: local },
    { name: 'http warm', srv: await remote('kdeliver-http-warm', { KDELIVER_MEDIA_URL: nginx.url }) },
    { name: 's3 warm', srv: await remote('kdeliver-s3-warm', s3env) },
    { name: 'http cold', srv: await remote('kdeliver-http-cold', { KDELIVER_MEDIA_URL: nginx.url, KDELIVER_MEDIA_CACHE_MB: '1' }) },
    { name: 's3 cold', srv: await remote('kdeliver-s3-cold', { ...s3env, KDELIVER_MEDIA_CACHE_MB: '1' }) },
  ];

  const base = `/hls/p/309/sp/30900/serveFlavor/entryId/${BENCH_ENTRY.entryId}/v/1/flavorId/${BENCH_ENTRY.flavorId}/name/a.mp4`;
  const playlist = await (await fetch(`${local.url}${base}/index.m3u8`)).text();
  const segs = playlist.split('\n').filter((l) => l && !l.startsWith('#')).map((u) => new URL(u, `${local.url}${base}/index.m3u8`).pathname);
  // every server answers every segment with local disk's bytes before it is measured (and the warm ones fill their cache)
  for (const { name, srv } of servers) {
    for (const p of segs) {
      const [a, b] = await Promise.all([fetch(srv.url + p), fetch(local.url + p)].map((r) => r.then(async (x) => Buffer.from(await x.arrayBuffer()))));
      if (!a.equals(b)) throw new Error(`${name}: ${p} differs from local disk's`);
    }
  }
  console.log(`${segs.length} segments, each identical from every server; ${connections} connections, ${duration} s per run, ${rounds} rounds`);

  const results = Object.fromEntries(servers.map((s) => [s.name, []]));
  for (let round = 1; round <= rounds; round++) {
    for (const { name, srv } of servers) {
      const r = await wrk(srv.url, segs, { connections, duration });
      if (r.non2xx) throw new Error(`${name}: ${r.non2xx} answers were not 200`);
      results[name].push(r);
      console.log(`  round ${round} ${name}: ${fmt(r.reqPerSec)} segments/s, ${fmt(r.mbPerSec)} MB/s, p50 ${fmt(r.p50ms, 1)} ms, p99 ${fmt(r.p99ms, 1)} ms, load ${loadAvg().split(' ')[0]}`);
    }
  }
  // what each remote server's block cache did over the whole run (warm: hits; cold: misses)
  for (const { name, srv } of servers.slice(1)) {
    const m = await (await fetch(`${srv.url}/metrics`)).text();
    const v = (k) => Number(new RegExp(`^kdeliver_media_cache_${k} (\\d+)`, 'm').exec(m)?.[1]);
    console.log(`  ${name} block cache: ${v('hits_total')} hits, ${v('misses_total')} misses, ${v('joined_total')} joined, ${fmt(v('bytes') / 1e6, 1)} MB held`);
  }
  const med = (name, k) => median(results[name].map((r) => r[k]));
  const localRps = med('local disk', 'reqPerSec');
  console.log('');
  table([['server', 12], ['segments/s', 11], ['MB/s', 7], ['p50 ms', 8], ['p99 ms', 8], ['vs local', 9]],
    servers.map(({ name }) => [name, fmt(med(name, 'reqPerSec')), fmt(med(name, 'mbPerSec')), fmt(med(name, 'p50ms'), 1), fmt(med(name, 'p99ms'), 1), fmt(med(name, 'reqPerSec') / localRps, 2)]));
  report.data.results = Object.fromEntries(Object.entries(results).map(([k, v]) => [k, v.map(({ raw, ...r }) => r)]));
  for (const { name } of servers.slice(1)) {
    report.ratio(`${name} / local disk segments/s`, med(name, 'reqPerSec') / localRps, `median of ${rounds} rounds${name.endsWith('warm') ? ', aim >= 0.8' : ''}`);
  }
  report.note('s3 is s3rver (a Node program on the same 2 cores), not S3: its cold figure is a floor');
  report.finish();
} finally {
  await cleanup();
}
