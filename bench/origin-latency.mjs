// What an origin's time to first byte costs kdeliver's cold reads from an HTTP origin (nginx,
// behind a delay per request standing for an object store's), through the server's own remote
// store and block cache (src/storage/, compiled):
// - a fragmented recording's first index, by the packager's reader (src/media/mp4/reader.ts):
//   each file as ffmpeg finished it (its mfra names every moof: they are read a few at a time,
//   just their bytes) against the same file with its mfra hidden (a recording cut before its end,
//   or a muxer writing none: the moofs are walked to one after another, through the blocks);
// - a whole-file download (serveFlavor, raw and download stream an object block by block): with
//   the blocks fetched ahead of the one sent (a block cache of 256 MB) and without (a cache of 8
//   MB, too small for the store to fetch ahead).
// No peer: nginx-vod-module does not read fragmented MP4 or remote objects over HTTP this way.
// Printed: time, bytes fetched, requests.
//
// Usage: node bench/origin-latency.mjs [--rounds 3] [--delay 20] [--no-build]
import { copyFileSync, existsSync, mkdirSync, openSync, writeSync, closeSync, renameSync, statSync, symlinkSync } from 'node:fs';
import http from 'node:http';
import { basename, join } from 'node:path';
import { benchMedia } from './lib/media.mjs';
import { startNginx } from './lib/nginx.mjs';
import { buildProject, distModule } from './lib/build.mjs';
import { workDir } from './lib/paths.mjs';
import { requireCommands } from './lib/system.mjs';
import { loadAvg, printMachine } from './lib/machine.mjs';
import { median } from './lib/rounds.mjs';
import { benchArgs, positiveNumber, usageOf, wholeNumber } from './lib/args.mjs';
import { fmt, startReport, table } from './lib/results.mjs';

// its own options (no load generator: no --connections or --duration); --with-nvm, which `npm run
// bench -- --with-nvm` passes to every benchmark, is taken and has nothing to do here
const options = {
  rounds: { type: 'string', default: '3' },
  delay: { type: 'string', default: '20' },
  'no-build': { type: 'boolean', default: false },
  'with-nvm': { type: 'boolean', default: false },
};
const usage = usageOf(options);
const { values } = benchArgs({ options }, usage);
const rounds = wholeNumber('rounds', values.rounds, usage);
const delay = positiveNumber('delay', values.delay, usage);
requireCommands(['nginx'], 'nginx');
if (!values['no-build']) buildProject({ required: ['src/storage/media-store.js'] });
const report = startReport('origin-latency', { rounds, delay });
printMachine();
const { longFragmented, tenMinFragmented } = benchMedia();

// the origin's folder: each file, and a copy whose mfra is hidden (its mfro box renamed)
const root = join(workDir, 'origin-latency');
mkdirSync(root, { recursive: true });
const files = [];
for (const src of [tenMinFragmented, longFragmented]) {
  const name = basename(src);
  const listed = join(root, name);
  if (!existsSync(listed)) symlinkSync(src, listed);
  const hidden = join(root, name.replace('.mp4', '-no-mfra.mp4'));
  if (!existsSync(hidden) || statSync(hidden).size !== statSync(src).size) {
    copyFileSync(src, `${hidden}.part`);
    const fd = openSync(`${hidden}.part`, 'r+');
    writeSync(fd, Buffer.from('free'), 0, 4, statSync(src).size - 12);
    closeSync(fd);
    renameSync(`${hidden}.part`, hidden);
  }
  files.push({ name, size: statSync(src).size, keys: { listed: name, walked: basename(hidden) } });
}

const nginx = await startNginx(root);
// the delay: every request waits `delay` ms, then goes on to nginx
const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
const front = http.createServer((req, res) => {
  setTimeout(() => {
    const up = http.request(`${nginx.url}${req.url}`, { method: req.method, headers: req.headers, agent }, (r) => {
      res.writeHead(r.statusCode, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.destroy());
    up.end();
  }, delay);
});
await new Promise((r) => front.listen(0, '127.0.0.1', r));
const frontUrl = `http://127.0.0.1:${front.address().port}`;

try {
  const { httpOrigin } = await import(distModule('src/storage/http-origin.js'));
  const { remoteMediaStore } = await import(distModule('src/storage/media-store.js'));
  const { readSourceIndex } = await import(distModule('src/media/mp4/reader.js'));
  /** A new store on the delayed origin, its block cache empty, counting what it fetches. */
  function coldStore(cacheBytes) {
    const origin = httpOrigin(frontUrl, { timeoutMs: 120_000, connectTimeoutMs: 5_000 });
    const fetched = { bytes: 0, requests: 0 };
    const read = origin.read.bind(origin);
    origin.read = (k, m, offset, length) => {
      fetched.requests++;
      fetched.bytes += length;
      return read(k, m, offset, length);
    };
    return { store: remoteMediaStore('http', origin, { cacheBytes, readOnly: null, writer: null }), fetched };
  }
  /** One cold index read. */
  async function coldIndex(key) {
    const { store, fetched } = coldStore(256 << 20);
    const t0 = performance.now();
    const { source, release } = await store.acquire(key);
    const index = await readSourceIndex(source, { maxMoovBytes: 256 << 20 });
    const ms = performance.now() - t0;
    await release();
    await store.close?.();
    return { ms, bytes: fetched.bytes, requests: fetched.requests, samples: index.tracks.reduce((n, t) => n + t.count, 0) };
  }
  /** One cold download of the whole object, as serveFlavor streams it. */
  async function coldDownload(key, cacheBytes) {
    const { store, fetched } = coldStore(cacheBytes);
    const { size } = await store.version(key);
    const t0 = performance.now();
    let got = 0;
    for await (const chunk of store.stream(key, 0, size - 1)) got += chunk.length;
    const ms = performance.now() - t0;
    await store.close?.();
    if (got !== size) throw new Error(`${key}: ${got} of ${size} bytes streamed`);
    return { ms, bytes: fetched.bytes, requests: fetched.requests };
  }

  const results = {};
  for (let round = 1; round <= rounds; round++) {
    for (const f of files) {
      for (const [how, key] of Object.entries(f.keys)) {
        const r = await coldIndex(key);
        (results[`${f.name} ${how}`] ??= []).push(r);
        console.log(`  round ${round} ${f.name} ${how}: ${fmt(r.ms)} ms, ${fmt(r.bytes / 1e6, 2)} MB in ${r.requests} requests, ${r.samples} samples, load ${loadAvg().split(' ')[0]}`);
      }
    }
  }
  const downloads = { ahead: [], 'one at a time': [] };
  const downloadKey = files[0].keys.listed;
  for (let round = 1; round <= rounds; round++) {
    for (const [how, cacheBytes] of [['ahead', 256 << 20], ['one at a time', 8 << 20]]) {
      const r = await coldDownload(downloadKey, cacheBytes);
      downloads[how].push(r);
      console.log(`  round ${round} download of ${downloadKey}, blocks ${how}: ${fmt(r.ms)} ms (${fmt(files[0].size / 1e6 / (r.ms / 1000))} MB/s), ${r.requests} requests, load ${loadAvg().split(' ')[0]}`);
    }
  }
  const med = (k, field) => median(results[k].map((r) => r[field]));
  const dl = (how) => median(downloads[how].map((r) => r.ms));
  console.log(`\nmedians of ${rounds} rounds, ${delay} ms per request:`);
  table([['file', 44], ['ms', 7], ['MB fetched', 11], ['requests', 9], ['of the file', 12]],
    files.flatMap((f) => Object.keys(f.keys).map((how) => {
      const k = `${f.name} ${how}`;
      return [`${f.name} ${how === 'listed' ? '(mfra)' : '(no mfra)'}`, fmt(med(k, 'ms')), fmt(med(k, 'bytes') / 1e6, 2), fmt(med(k, 'requests')), `${fmt((100 * med(k, 'bytes')) / f.size, 1)} %`];
    })));
  console.log(`download of ${downloadKey} (${fmt(files[0].size / 1e6)} MB): blocks fetched ahead ${fmt(dl('ahead'))} ms, one at a time ${fmt(dl('one at a time'))} ms`);
  report.data.results = results;
  report.data.downloads = downloads;
  for (const f of files) {
    report.ratio(`${f.name}: cold index time without mfra / with`, med(`${f.name} walked`, 'ms') / med(`${f.name} listed`, 'ms'), `median of ${rounds} rounds, ${delay} ms per request; no aim, no peer`);
  }
  report.ratio(`download of ${downloadKey}: time one block at a time / fetched ahead`, dl('one at a time') / dl('ahead'), `median of ${rounds} rounds, ${delay} ms per request; no aim, no peer`);
  report.finish();
} finally {
  front.close();
  agent.destroy();
  await nginx.stop();
}
