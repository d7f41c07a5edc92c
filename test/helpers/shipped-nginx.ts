// The nginx configuration files shipped in docker/ (nginx.conf, nginx.scale.conf and the two cache
// files they include), laid out in a test nginx's prefix as compose mounts them in /etc/nginx/,
// with only what names the deployment changed: the upstream servers (compose's service names),
// the listen port and the cache directory. Everything else is the shipped text.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from './repo.js';

export const shipped = (name: string) => readFileSync(repoPath('docker', name), 'utf8');

function replaceOnce(text: string, from: string, to: string, file: string): string {
  if (!text.includes(from)) throw new Error(`docker/${file} no longer contains ${JSON.stringify(from)}: update the test's substitution`);
  return text.replace(from, to);
}

/**
 * The http-block text of docker/`file` for a test nginx: `upstreams` maps each shipped
 * `server NAME:PORT` to a loopback address; the included files are written under prefix/kdeliver/
 * (the include paths are relative to the prefix, as to /etc/nginx/ in the container), the cache
 * in prefix/cache.
 */
export function shippedSite(file: string, prefix: string, port: number, upstreams: Record<string, string>): string {
  let site = replaceOnce(shipped(file), 'listen 80;', `listen 127.0.0.1:${port};`, file);
  for (const [from, to] of Object.entries(upstreams)) site = replaceOnce(site, `server ${from}`, `server ${to}`, file);
  mkdirSync(join(prefix, 'kdeliver'), { recursive: true });
  mkdirSync(join(prefix, 'cache'), { recursive: true });
  writeFileSync(join(prefix, 'kdeliver', 'nginx-cache-zone.conf'),
    replaceOnce(shipped('nginx-cache-zone.conf'), '/var/cache/nginx/kdeliver', join(prefix, 'cache'), 'nginx-cache-zone.conf'));
  copyFileSync(repoPath('docker', 'nginx-cache-rules.conf'), join(prefix, 'kdeliver', 'nginx-cache-rules.conf'));
  return site;
}
