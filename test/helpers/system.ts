// System commands that tests drive (ffmpeg, chromium, nginx, openssl) come from Debian packages.
// CI machines start clean, so a missing command is installed when we run as root; otherwise the
// test fails with the exact command to run. A test is never skipped for want of a tool.
import { spawnSync } from 'node:child_process';

interface Tap {
  comment(...args: unknown[]): void;
}

export function hasCommand(cmd: string): boolean {
  return spawnSync('sh', ['-c', `command -v "$1"`, 'sh', cmd], { stdio: 'ignore' }).status === 0;
}

function isRoot(): boolean {
  return typeof process.getuid === 'function' && process.getuid() === 0;
}

function aptInstall(aptPackage: string): { ok: boolean; output: string } {
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const run = (args: string[]) => spawnSync('apt-get', args, { env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  let res = run(['install', '-y', '--no-install-recommends', aptPackage]);
  if (res.status !== 0) {
    // A clean machine has no package lists yet
    run(['update']);
    res = run(['install', '-y', '--no-install-recommends', aptPackage]);
  }
  return { ok: res.status === 0, output: `${res.stdout ?? ''}${res.stderr ?? ''}`.slice(-2000) };
}

// One install attempt per package per process, shared by every test in the file.
const attempted = new Map<string, boolean>();

/**
 * Makes sure every command in `cmds` is on PATH, installing `aptPackage` as root when one is missing.
 * Throws (failing the calling test) with the command to run when they cannot be provided.
 */
export function requireCommands(t: Tap, cmds: string[], aptPackage: string): void {
  let missing = cmds.filter((c) => !hasCommand(c));
  if (missing.length === 0) return;
  if (isRoot() && !attempted.has(aptPackage)) {
    t.comment(`installing ${aptPackage} for ${missing.join(', ')}`);
    const res = aptInstall(aptPackage);
    attempted.set(aptPackage, res.ok);
    if (!res.ok) t.comment(res.output);
    missing = cmds.filter((c) => !hasCommand(c));
  }
  if (missing.length > 0) {
    const cmd = `apt-get update && apt-get install -y ${aptPackage}`;
    throw new Error(`missing system command(s) ${missing.join(', ')}: run \`${isRoot() ? '' : 'sudo '}${cmd}\``);
  }
}

/**
 * Makes sure a Debian package's files are there (`present()`), installing `aptPackage` as root
 * when they are not: for tools that are not on PATH (PostgreSQL's initdb and pg_ctl live in
 * /usr/lib/postgresql/VERSION/bin). Throws with the command to run when they cannot be provided.
 */
export function requirePackage(t: Tap, aptPackage: string, present: () => boolean): void {
  if (present()) return;
  if (isRoot() && !attempted.has(aptPackage)) {
    t.comment(`installing ${aptPackage}`);
    const res = aptInstall(aptPackage);
    attempted.set(aptPackage, res.ok);
    if (!res.ok) t.comment(res.output);
  }
  if (!present()) {
    const cmd = `apt-get update && apt-get install -y ${aptPackage}`;
    throw new Error(`missing Debian package ${aptPackage}: run \`${isRoot() ? '' : 'sudo '}${cmd}\``);
  }
}
