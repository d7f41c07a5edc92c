// nginx-vod-module (NVM), Kaltura's on-the-fly packager in C: the peer kdeliver's packager is
// measured against. It is AGPL, so nothing of it lives in this repository: the team's peer kit
// (a folder holding build.sh, which builds nginx 1.22.1 + NVM into /tmp/nvm-build, and
// nginx.conf.template, NVM's production sample settings with placeholders) is found outside it,
// and its build script runs only when asked (--with-nvm). When the binary is not there and may
// not be built, or the build fails, the NVM parts are skipped with the reason printed.
//
// Where the kit is: KDELIVER_NVM_PEER_DIR, else the first `shared/peers/nginx-vod-module` found
// beside the project or one of its parent folders. The binary: NVM_BIN, else
// ${BUILD:-/tmp/nvm-build}/prefix/sbin/nginx (where build.sh installs it).
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { freePort, startProcess } from './procs.mjs';
import { projectRoot } from './paths.mjs';

function findPeerDir() {
  if (process.env.KDELIVER_NVM_PEER_DIR) return resolve(process.env.KDELIVER_NVM_PEER_DIR);
  for (let dir = projectRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, 'shared', 'peers', 'nginx-vod-module');
    if (existsSync(join(candidate, 'nginx.conf.template'))) return candidate;
    if (dirname(dir) === dir) return null;
  }
}

export const nvmBinary = () => process.env.NVM_BIN ?? join(process.env.BUILD ?? '/tmp/nvm-build', 'prefix', 'sbin', 'nginx');

/**
 * { bin, template, version } when NVM can run here, else { skip: reason }. With `build`, runs the
 * kit's build.sh first when the binary is missing (root only: it installs build dependencies).
 */
export function prepareNvm({ build = false } = {}) {
  const peerDir = findPeerDir();
  if (!peerDir) return { skip: 'the nginx-vod-module peer kit (shared/peers/nginx-vod-module with build.sh and nginx.conf.template) was not found beside the project; set KDELIVER_NVM_PEER_DIR' };
  const template = join(peerDir, 'nginx.conf.template');
  let bin = nvmBinary();
  if (!existsSync(bin)) {
    if (!build) return { skip: `no nginx-vod-module binary at ${bin}; run the benchmark with --with-nvm (as root) to build it with ${join(peerDir, 'build.sh')}` };
    if (process.getuid?.() !== 0) return { skip: `no nginx-vod-module binary at ${bin}, and building it needs root (${join(peerDir, 'build.sh')} installs build dependencies with apt)` };
    console.error(`building nginx-vod-module with ${join(peerDir, 'build.sh')} (a few minutes; log in /tmp/nvm-build/*.log) ...`);
    const r = spawnSync(join(peerDir, 'build.sh'), [], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
    if (r.status !== 0) return { skip: `${join(peerDir, 'build.sh')} failed (exit ${r.status}); see its output above` };
    bin = r.stdout.trim().split('\n').pop() || bin;
    if (!existsSync(bin)) return { skip: `build.sh finished but ${bin} is missing` };
  }
  const v = spawnSync(bin, ['-V'], { encoding: 'utf8' });
  if (v.status !== 0) return { skip: `${bin} -V failed: ${(v.stderr || '').slice(0, 300)}` };
  if (!/vod/i.test(v.stderr)) return { skip: `${bin} is not built with nginx-vod-module (nginx -V shows no vod module)` };
  return { bin, template, version: v.stderr.split('\n')[0].trim() };
}

/**
 * One NVM server on a loopback port with a temporary prefix, serving `mediaDir` under /hls/
 * (MPEG-TS), /hlsfmp4/ and /dash/. `responseCache: false` turns NVM's response cache off;
 * `postpone: true` adds `postpone_output 256k;` (the stronger configuration: NVM hands fMP4 data
 * to nginx a frame run at a time, and nginx's default 1460-byte postpone_output sends each in
 * its own writev).
 */
export async function startNvm(nvm, { name, mediaDir, responseCache = true, postpone = false }) {
  const prefix = mkdtempSync(join(tmpdir(), 'kdeliver-bench-nvm-'));
  chmodSync(prefix, 0o755);
  for (const d of ['logs', 'tmp']) mkdirSync(join(prefix, d));
  const port = await freePort();
  const conf = readFileSync(nvm.template, 'utf8')
    .replaceAll('@USER_LINE@', process.getuid?.() === 0 ? 'user root;' : '')
    .replaceAll('@PREFIX@', prefix)
    .replaceAll('@PORT@', String(port))
    .replaceAll('@MEDIA_DIR@', mediaDir)
    .replaceAll('@RESPONSE_CACHE@', responseCache ? 'vod_response_cache response_cache 64m;' : '# vod_response_cache off')
    .replaceAll('@EXTRA_HTTP@', postpone ? 'postpone_output 256k;' : '');
  const confFile = join(prefix, 'nginx.conf');
  writeFileSync(confFile, conf);
  const url = `http://127.0.0.1:${port}`;
  let proc;
  try {
    proc = await startProcess(name, nvm.bin, ['-p', prefix, '-c', confFile, '-g', 'daemon off;'], {
      probe: async () => (await fetch(`${url}/vod_status`).catch(() => null))?.status === 200,
      timeoutMs: 15_000,
    });
  } catch (err) {
    rmSync(prefix, { recursive: true, force: true });
    throw err;
  }
  return { ...proc, name, url, prefix, stop: async () => { await proc.stop(); rmSync(prefix, { recursive: true, force: true }); } };
}
