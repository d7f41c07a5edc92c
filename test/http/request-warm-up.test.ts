// The request a server makes of itself once it listens (routes/warm-up.ts): it is made, it reads
// neither the catalog nor the media store, it leaves no log line at any level and no count in
// /metrics; a client that sends the warm-up header (without the process's token) is a request
// like any other, logged and counted.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { buildServer, loggerOptions } from '../../src/server.js';
import { requestWarmUpsDone } from '../../routes/warm-up.js';

for (const level of ['info', 'warn'] as const) {
  t.test(`a server logging at ${level}`, async (t) => {
    const lines: Array<{ level: number; msg: string; req?: { url?: string }; res?: { url?: string } }> = [];
    const sink = new Writable({
      write(chunk, _enc, done) {
        for (const l of String(chunk).split('\n')) if (l.trim()) lines.push(JSON.parse(l));
        done();
      },
    });
    const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-warm-up-'));
    const config = loadConfig({ KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: level });
    const app = await buildServer({ config, logger: { ...(loggerOptions(config) as object), stream: sink } });
    t.teardown(async () => {
      await app.close();
      rmSync(dataDir, { recursive: true, force: true });
    });
    await app.ready();
    const reads = app.catalog.readCacheStats?.();
    const before = requestWarmUpsDone();
    await app.listen({ host: '127.0.0.1', port: 0 });
    // the warm-up runs in the listen hook: give it its turn
    for (let i = 0; i < 50 && requestWarmUpsDone() === before; i++) await new Promise((resolve) => setTimeout(resolve, 10));
    t.equal(requestWarmUpsDone(), before + 1, 'the server asked itself one request');
    t.same(app.catalog.readCacheStats?.(), reads, 'the catalog was not read for it');
    t.same(app.indexCache.stats(), { ...app.indexCache.stats(), entries: 0 }, 'no media index was read for it');
    const base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;

    const metrics = await (await fetch(`${base}/metrics`)).text();
    t.notMatch(metrics, /^kdeliver_http_requests_total\{/m, 'no request counted before the first client\'s');
    t.same(lines.filter((l) => /\/hls\/|entry not found/.test(JSON.stringify(l))), [], 'no log line of it');

    // the header without this process's token: an ordinary request (refused, counted, logged at warn)
    const r = await fetch(`${base}/hls/p/0/sp/0/serveFlavor/name/a.mp4/index.m3u8`, { headers: { 'x-kdeliver-warm-up': 'guessed' } });
    t.equal(r.status, 404);
    t.equal(r.headers.get('x-kaltura'), 'error-1');
    await r.arrayBuffer();
    t.match(await (await fetch(`${base}/metrics`)).text(), /^kdeliver_http_requests_total\{family="hls",method="GET",status="404"\} 1$/m, 'counted');
    t.ok(lines.some((l) => l.level === 40 && /packager: requested entry not found/.test(l.msg)), 'its refusal logged at warn');
  });
}
