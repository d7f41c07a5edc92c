// A kept playManifest answer goes out before Fastify routes the request (routes/play-manifest.ts
// keptAnswerBeforeRouting): it must be the route's own answer, counted in /metrics and logged as
// the route logs a kept answer, and never used where the route would decide otherwise (a KS
// header, another host name, other forwarded scheme and host behind a trusted proxy).
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'node:http';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { buildServer, loggerOptions } from '../../src/server.js';
import type { FastifyInstance } from 'fastify';

async function serve(t: Test, env: Record<string, string>): Promise<{ app: FastifyInstance; base: string; log: () => Record<string, unknown>[]; routed: () => number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-early-'));
  const config = loadConfig({ KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'info', ...env });
  let out = '';
  const stream = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } });
  // a fixed second: a kept answer's Expires and Last-Modified follow the clock, and the test compares them
  const second = Math.floor(Date.now() / 1000);
  const app = await buildServer({ config, now: () => second, logger: { ...(loggerOptions(config) as object), stream } });
  // the playManifest requests Fastify routed (a kept answer sent before routing is not one)
  let routed = 0;
  app.addHook('onRequest', (request, _reply, done) => {
    if (request.url.includes('/playManifest')) routed++;
    done();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  t.teardown(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { app, base: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, log: () => out.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>), routed: () => routed };
}

interface Answer { status: number; head: string[]; body: string }
function ask(base: string, path: string, method = 'GET', headers: Record<string, string> = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(base + path, { method, headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const head: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) if (res.rawHeaders[i].toLowerCase() !== 'date') head.push(res.rawHeaders[i].toLowerCase(), res.rawHeaders[i + 1]);
        resolve({ status: res.statusCode ?? 0, head, body: Buffer.concat(chunks).toString('latin1') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}
const counted = async (base: string) => {
  const text = await (await fetch(`${base}/metrics`)).text();
  return [...text.matchAll(/^kdeliver_http_requests_total\{family="playManifest",method="(GET|HEAD)",status="200"\} (\d+)$/gm)].reduce((n, m) => n + Number(m[2]), 0);
};
const PATH = '/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/protocol/http/format/applehttp/a.m3u8';

t.test('a kept answer before routing: the route\'s answer, counted and logged as the route does', async (t) => {
  const { app, base, log, routed } = await serve(t, {});
  // an answer is kept at its second asking (src/cache/asked-once.ts)
  await ask(base, `${PATH}?playSessionId=a:0`);
  const first = await ask(base, `${PATH}?playSessionId=a:1`);
  t.equal(first.status, 200);
  const before = { hits: app.manifestCache.stats().hits, misses: app.manifestCache.stats().misses, counted: await counted(base), routed: routed() };
  const second = await ask(base, `${PATH}?playSessionId=a:2&clientTag=html5:v3.17.78`);
  // HEAD has its own key: asked once, then kept
  await ask(base, `${PATH}?playSessionId=a:3`, 'HEAD');
  await ask(base, `${PATH}?playSessionId=a:3b`, 'HEAD');
  const head = await ask(base, `${PATH}?playSessionId=a:4`, 'HEAD');
  t.same(second, first, 'the kept answer is the route\'s, byte for byte');
  t.equal(head.status, 200);
  t.equal(head.body, '', 'HEAD: no body');
  t.same(head.head, first.head, 'HEAD: the same headers, Content-Length included');
  const stats = app.manifestCache.stats();
  t.equal(stats.hits, before.hits + 2, 'the later GET and the third HEAD were hits');
  t.equal(routed(), before.routed + 2, 'only the first two HEADs were routed: the hits went out before routing');
  t.equal(stats.misses, before.misses + 2, 'two misses, the first two HEADs; none counted for the hits');
  t.equal(await counted(base), before.counted + 4, '/metrics counts every playManifest answer');

  const lines = log().filter((l) => l.cached === true);
  t.ok(lines.length >= 2, 'the playManifest line says cached');
  for (const l of lines.slice(-2)) {
    const same = log().filter((x) => x.reqId === l.reqId);
    t.same(same.map((x) => x.msg), ['incoming request', 'playManifest', 'request completed'], 'three lines per kept answer, as the route logs them');
    for (const x of same) {
      t.equal(x.partnerId, 309, `partner on "${x.msg}"`);
      t.equal(x.entryId, '1_rcit0qgs', `entry on "${x.msg}"`);
    }
    t.equal((same[2].res as { statusCode: number }).statusCode, 200);
    t.equal(same[2].code, 0, 'error code 0 on the completion line');
    t.match((same[0].req as { url: string }).url, /\/playManifest\//);
  }
});

t.test('never where the route would decide otherwise', async (t) => {
  const { app, base, routed } = await serve(t, {});
  await ask(base, `${PATH}?x=1`);
  await ask(base, `${PATH}?x=1`); // kept at its second asking
  const hits = () => app.manifestCache.stats().hits;
  let h = hits();
  await ask(base, `${PATH}?x=1`);
  t.equal(hits(), h + 1, 'kept: the same request again is a hit');
  h = hits();
  const other = await ask(base, `${PATH}?x=1`, 'GET', { host: 'other.example.com' });
  t.equal(hits(), h, 'another Host: another key, the route answers');
  t.match(other.body, /http:\/\/other\.example\.com\//, 'with that host in its URLs');
  h = hits();
  await ask(base, `${PATH}?x=1`, 'GET', { 'x-kaltura-ks': 'not-a-ks' });
  t.equal(hits(), h, 'a KS header: never a kept answer');
  // a POST's body may change its answer (test/http/play-manifest-post.test.ts): the route answers it
  h = hits();
  const r = routed();
  const post = await fetch(`${base}${PATH}?x=1`, { method: 'POST' });
  t.equal(post.status, 200);
  t.equal(hits(), h, 'a POST: never a kept answer');
  t.equal(routed(), r + 1, 'routed');
});

t.test('behind a trusted proxy: the forwarded scheme and host, read as Fastify reads them', async (t) => {
  const { app, base, routed } = await serve(t, { KDELIVER_TRUST_PROXY: 'true' });
  const plain = await ask(base, `${PATH}?y=1`);
  const fwd = { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'cdn.example.com' };
  const forwarded = await ask(base, `${PATH}?y=1`, 'GET', fwd);
  t.match(plain.body, /\/\/127\.0\.0\.1:/);
  t.match(forwarded.body, /\/\/cdn\.example\.com\//, 'the forwarded host is the route\'s');
  t.equal(routed(), 2, 'both routed: each its own key');
  // each kept at its second asking
  t.same(await ask(base, `${PATH}?y=1`), plain);
  t.same(await ask(base, `${PATH}?y=1`, 'GET', fwd), forwarded);
  t.equal(routed(), 4, 'routed again, and kept');
  const hits = app.manifestCache.stats().hits;
  const again = await ask(base, `${PATH}?y=1`, 'GET', fwd);
  const listed = await ask(base, `${PATH}?y=1`, 'GET', { 'x-forwarded-proto': 'http, https', 'x-forwarded-host': 'edge.example.org, cdn.example.com' });
  const again2 = await ask(base, `${PATH}?y=1`);
  t.same(again, forwarded, 'the kept answer for that scheme and host');
  t.same(listed, forwarded, 'the last entry of a forwarded list, as Fastify reads it');
  t.same(again2, plain, 'and the one without forwarded headers for the socket\'s');
  t.equal(app.manifestCache.stats().hits, hits + 3, 'three hits');
  t.equal(routed(), 4, 'none of them routed');
  const other = await ask(base, `${PATH}?y=1`, 'GET', { 'x-forwarded-proto': 'https', 'x-forwarded-host': 'other.example.net' });
  t.match(other.body, /\/\/other\.example\.net\//, 'another forwarded host: its own answer');
  t.equal(routed(), 5, 'routed');
});
