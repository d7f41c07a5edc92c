// Benchmarks drive Debian packages (ffmpeg, nginx, wrk). As in the tests: a missing command is
// installed when we run as root, otherwise we stop with the exact command to run.
import { spawnSync } from 'node:child_process';

export const hasCommand = (cmd) => spawnSync('sh', ['-c', 'command -v "$1"', 'sh', cmd], { stdio: 'ignore' }).status === 0;

export function requireCommands(cmds, aptPackage) {
  let missing = cmds.filter((c) => !hasCommand(c));
  if (missing.length === 0) return;
  if (process.getuid?.() === 0) {
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
    console.error(`installing ${aptPackage} for ${missing.join(', ')} ...`);
    let r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', aptPackage], { env, stdio: 'ignore' });
    if (r.status !== 0) {
      spawnSync('apt-get', ['update'], { env, stdio: 'ignore' });
      r = spawnSync('apt-get', ['install', '-y', '--no-install-recommends', aptPackage], { env, stdio: 'ignore' });
    }
    missing = cmds.filter((c) => !hasCommand(c));
  }
  if (missing.length > 0) {
    throw new Error(`missing ${missing.join(', ')}: run \`sudo apt-get update && sudo apt-get install -y ${aptPackage}\``);
  }
}

export function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, ...opts });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.status}): ${(r.stderr || '').slice(-2000)}`);
  return r.stdout;
}
