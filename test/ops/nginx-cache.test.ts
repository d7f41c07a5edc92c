// docker/nginx.conf (the compose file's caching proxy) in front of the real server, run by the
// machine's nginx: media is cached and served from the cache, requests carrying a KS are never
// cached, operator endpoints are never cached. Only the upstream address, listen port and cache
// directory are changed from the shipped file.
import t from 'tap';
import { spawn } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { requireCommands } from '../helpers/system.js';
import { generateKs } from '../../src/access/ks.js';

const freePort = () => new Promise<number>((resolve) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => resolve(p));
  });
});

t.test('nginx caching proxy from docker/nginx.conf', async (t) => {
  requireCommands(t, ['nginx'], 'nginx');
  const s = await startServer(t);
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-nginx-'));
  chmodSync(dir, 0o777); // nginx workers run as an unprivileged user
  mkdirSync(join(dir, 'cache'), { mode: 0o777 });
  mkdirSync(join(dir, 'tmp'), { mode: 0o777 });
  const port = await freePort();
  const shipped = readFileSync(new URL('../../docker/nginx.conf', import.meta.url), 'utf8');
  const site = shipped
    .replace('server kdeliver:8080;', `server ${new URL(s.url).host};`)
    .replace('listen 80;', `listen 127.0.0.1:${port};`)
    .replace('/var/cache/nginx/kdeliver', join(dir, 'cache'));
  t.not(site, shipped);
  writeFileSync(join(dir, 'site.conf'), site);
  writeFileSync(join(dir, 'nginx.conf'), `daemon off;
worker_processes 1;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${dir}/tmp/body;
  proxy_temp_path ${dir}/tmp/proxy;
  fastcgi_temp_path ${dir}/tmp/fastcgi;
  uwsgi_temp_path ${dir}/tmp/uwsgi;
  scgi_temp_path ${dir}/tmp/scgi;
  include ${dir}/site.conf;
}
`);
  const nginx = spawn('nginx', ['-c', join(dir, 'nginx.conf'), '-p', dir], { stdio: ['ignore', 'pipe', 'pipe'] });
  let nginxOut = '';
  nginx.stderr.on('data', (d) => (nginxOut += d));
  t.teardown(async () => {
    if (nginx.exitCode === null) {
      nginx.kill('SIGQUIT');
      await new Promise((r) => nginx.once('exit', r));
    }
    rmSync(dir, { recursive: true, force: true });
  });
  const proxy = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (nginx.exitCode !== null) throw new Error(`nginx exited: ${nginxOut}${readFileSync(join(dir, 'error.log'), 'utf8')}`);
    try {
      await fetch(`${proxy}/healthz`);
      break;
    } catch {
      if (i > 100) throw new Error('nginx did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  const get = (path: string, headers: Record<string, string> = {}) => fetch(proxy + path, { redirect: 'manual', headers });

  // progressive media through playManifest: the redirect points at the proxy, the file is cached
  const pm = '/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/url/protocol/http/flavorParamId/301961/a.mp4';
  const redirect = await get(pm);
  t.equal(redirect.status, 302);
  const media = new URL(redirect.headers.get('location')!, proxy);
  t.equal(media.host, `127.0.0.1:${port}`, 'URLs the origin emits name the proxy (Host passed through)');
  const first = await get(media.pathname + media.search);
  const firstBytes = Buffer.from(await first.arrayBuffer());
  t.equal(first.status, 200);
  t.equal(first.headers.get('x-cache-status'), 'MISS');
  const second = await get(media.pathname + media.search);
  const secondBytes = Buffer.from(await second.arrayBuffer());
  t.equal(second.headers.get('x-cache-status'), 'HIT', 'second fetch of the media file comes from the cache');
  t.ok(firstBytes.equals(secondBytes) && firstBytes.length > 10_000, `same ${firstBytes.length} bytes`);
  const direct = Buffer.from(await (await fetch(s.url + media.pathname + media.search)).arrayBuffer());
  t.ok(direct.equals(firstBytes), 'the proxy serves exactly the origin bytes');

  const range = await get(media.pathname + media.search, { range: 'bytes=100-199' });
  t.equal(range.status, 206);
  t.ok(Buffer.from(await range.arrayBuffer()).equals(direct.subarray(100, 200)), 'ranges are served from the cached slices');

  // per-viewer requests (a KS) are never cached
  const ks = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 600, now: Math.floor(Date.now() / 1000), privileges: 'sview:*' });
  const withKs = `/p/309/sp/30900/playManifest/entryId/1_kssecure/format/url/protocol/http/ks/${ks}/a.mp4`;
  const k1 = await get(withKs);
  const k2 = await get(withKs);
  t.equal(k1.status, 302);
  t.equal(k1.headers.get('x-cache-status'), 'BYPASS');
  t.equal(k2.headers.get('x-cache-status'), 'BYPASS', 'a KS URL is not served from the cache');

  // operator endpoints pass through uncached; metrics stay inside
  const ready = await get('/readyz');
  t.equal(ready.status, 200);
  t.equal(ready.headers.get('x-cache-status'), null, '/readyz is not cached');
  const ready2 = await get('/readyz');
  t.equal(ready2.headers.get('x-cache-status'), null);
  t.equal((await get('/metrics')).status, 403, '/metrics is not published by the proxy');
  const text = await (await fetch(s.url + '/metrics')).text();
  t.match(text, /kdeliver_http_requests_total\{family="health"/, 'the origin counted the proxied requests');
});
