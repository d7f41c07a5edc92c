// The benchmarks' kdeliver (bench/lib/kdeliver-server.mjs) starts over a new data directory into
// which it imports the sample library and the benchmark's own entries before serving. When the
// public sample secrets became a data directory's only once it holds the sample library
// (src/catalog/sample-record.ts), that import refused the still-empty catalog and every benchmark
// stopped before its first request; the test suite did not notice, as nothing here ran it. This
// starts it as the benchmarks do (the sample library and a second library file) and plays.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../helpers/repo.js';
import { freePort } from '../helpers/nginx.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-bench-server-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

t.test('the benchmark server imports its libraries into a new data directory and serves them', async (t) => {
  const sample = join(projectRoot, 'fixtures', 'sample-library.json');
  // a second library file, as the benchmark's media library is: one more entry of partner 309
  const extra = join(work, 'extra-library.json');
  writeFileSync(extra, JSON.stringify({
    version: 1,
    mediaDir: join(projectRoot, 'fixtures', 'media'),
    entries: [{
      id: '1_benchxtr', partnerId: 309, name: 'Benchmark extra', type: 1, mediaType: 1, status: 2, duration: 12,
      flavors: [{ id: '1_fbenchx0', flavorParamsId: 301961, file: 'h264-240p.mp4', width: 426, height: 240, bitrate: 378, frameRate: 25, codecs: 'avc1.640015,mp4a.40.2', tags: 'web,mbr,applembr,dash', containerFormat: 'isom', videoCodec: 'h264', audioCodec: 'aac', durationMs: 12000 }],
    }],
  }));
  const port = await freePort();
  const child = spawn(process.execPath, [join(projectRoot, 'bench', 'lib', 'kdeliver-server.mjs'), join(work, 'data'), String(port), sample, extra], {
    env: { ...process.env, NODE_ENV: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => {
    child.kill('SIGKILL');
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`not listening after 60 s:\n${out}`)), 60_000);
    const seen = (d: Buffer) => {
      out += d.toString();
      if (/listening on http:\/\//.test(out)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', seen);
    child.stderr.on('data', seen);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`exited (${code}) before it listened:\n${out}`));
    });
  });
  t.notMatch(out, /Error/, 'nothing went wrong on the way');
  const base = `http://127.0.0.1:${port}`;
  for (const entryId of ['1_rcit0qgs', '1_benchxtr']) {
    const res = await fetch(`${base}/p/309/sp/30900/playManifest/entryId/${entryId}/format/applehttp/protocol/http/a.m3u8`);
    t.equal(res.status, 200, `${entryId} plays`);
    t.match(await res.text(), /^#EXTM3U/);
  }
});

