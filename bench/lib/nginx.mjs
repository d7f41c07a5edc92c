// nginx (Debian package) as the static baseline: one worker, sendfile, tcp_nopush/nodelay,
// access log off, open file cache, listening on 127.0.0.1 only, with a temporary prefix and
// configuration so nothing outside the temporary directory is touched.
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startProcess } from './procs.mjs';
import { requireCommands } from './system.mjs';

export async function startNginx(rootDir) {
  return startNginxWith((port) => `
  sendfile on;
  tcp_nopush on;
  tcp_nodelay on;
  keepalive_requests 1000000;
  open_file_cache max=10000 inactive=60s;
  types { application/vnd.apple.mpegurl m3u8; video/mp2t ts; video/iso.segment m4s; video/mp4 mp4; application/dash+xml mpd; }
  server {
    listen 127.0.0.1:${port};
    root ${rootDir};
  }`);
}

/**
 * nginx (one worker) with `http(port, prefix)` inside its http block; pid, logs and temporary
 * paths are under its own temporary prefix, which the caller may use for its files too.
 */
export async function startNginxWith(http) {
  requireCommands(['nginx'], 'nginx');
  const prefix = mkdtempSync(join(tmpdir(), 'kdeliver-bench-nginx-'));
  chmodSync(prefix, 0o755);
  for (const d of ['logs', 'tmp']) mkdirSync(join(prefix, d));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  const conf = `
${asRoot ? 'user root;' : ''}
worker_processes 1;
pid ${prefix}/nginx.pid;
error_log ${prefix}/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${prefix}/tmp/body;
  proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fastcgi;
  uwsgi_temp_path ${prefix}/tmp/uwsgi;
  scgi_temp_path ${prefix}/tmp/scgi;
  default_type application/octet-stream;
  ${http(port, prefix)}
}
`;
  const confFile = join(prefix, 'nginx.conf');
  writeFileSync(confFile, conf);
  const url = `http://127.0.0.1:${port}`;
  const proc = await startProcess('nginx', 'nginx', ['-p', prefix, '-c', confFile, '-g', 'daemon off; master_process on;'], {
    probe: async () => (await fetch(`${url}/`).catch(() => null)) !== null,
    timeoutMs: 15_000,
  });
  return { ...proc, url, prefix };
}
