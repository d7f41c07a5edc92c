// The installed `kdeliver` command, as people reach it: package.json's "bin" through a symlink
// named `kdeliver`, made the way npm makes node_modules/.bin and global links, run as a real
// child process. The bin is the built file (dist/), which `npm test` builds first.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { projectRoot } from './repo.js';

/** The environment of a command a person starts: PATH and HOME, none of the test's KDELIVER_* settings. */
export const cleanEnv: Record<string, string> = Object.fromEntries(
  // npm's own variables (npm_command, npm_lifecycle_event) too: `npm test` sets them, a person's
  // shell does not, and the command reads them (the hints' `npx kdeliver`, the npm parent's watch)
  Object.entries(process.env).filter(([k, v]) => v !== undefined && !k.startsWith('KDELIVER_') && !k.startsWith('TAP') && !k.startsWith('npm_') &&
    !['PORT', 'HOST', 'NODE_ENV', 'NODE_OPTIONS'].includes(k)),
) as Record<string, string>;

/** Absolute path of package.json's bin for `kdeliver` in a checkout. */
export function binTarget(root = projectRoot): string {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { bin?: Record<string, string> };
  const rel = pkg.bin?.kdeliver;
  if (!rel) throw new Error(`${root}/package.json has no "bin": { "kdeliver": ... }`);
  const target = resolve(root, rel);
  if (!existsSync(target)) throw new Error(`${target} does not exist: run \`npm run build\` first (npm test does)`);
  return target;
}

/**
 * Makes `dir/kdeliver`, a symlink to the bin, as npm's bin-links does for node_modules/.bin and
 * global installs. npm also makes the target executable when it links it, but not when a link is
 * there already (an npx cache holding the checkout, a rebuilt dist/): the build does
 * (package.json's build and build:tests), and this does not, so a bin left without the bit fails
 * the tests as it fails a user. Returns the link's path.
 */
export function linkBin(dir: string, target = binTarget()): string {
  mkdirSync(dir, { recursive: true });
  const link = join(dir, 'kdeliver');
  symlinkSync(target, link);
  return link;
}

export interface CommandResult { code: number | null; stdout: string; stderr: string }

/** Runs a command to its end (killed after `timeoutMs`), collecting its output. */
export function run(cmd: string, args: string[], opts: { env?: Record<string, string>; cwd?: string; timeoutMs?: number } = {}): Promise<CommandResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { cwd: opts.cwd, env: { ...cleanEnv, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
    child.on('error', (e) => { clearTimeout(timer); reject(e); });
    child.on('close', (code) => { clearTimeout(timer); resolvePromise({ code, stdout, stderr }); });
  });
}

interface Tap {
  teardown(fn: () => unknown): void;
}

export interface Served {
  /** http://127.0.0.1:PORT */
  url: string;
  /** Everything the process wrote so far. */
  log: () => string;
  /**
   * Everything written once `pattern` appears in it (stdout and stderr arrive separately, so a line
   * on one can come after the listening line on the other); after `ms` without it, what was written.
   */
  waitForLog: (pattern: RegExp, ms?: number) => Promise<string>;
  /** SIGTERM, then its exit code. */
  stop: () => Promise<number | null>;
  /** SIGKILL (a crash, a pulled plug), once it has exited. */
  kill: () => Promise<void>;
  /** The process id. */
  pid: number;
}

export interface Installed {
  /** Runs `kdeliver ...args` found on PATH, to its end. */
  kdeliver: (args: string[], env?: Record<string, string>) => Promise<CommandResult>;
  /** Starts `kdeliver serve` on a free loopback port; resolves once it listens (rejects if it exits first). */
  serve: (env?: Record<string, string>) => Promise<Served>;
}

/**
 * The command as installed: `kdeliver` on PATH through a symlink in a folder of the test's own.
 * Processes still running at the end are killed.
 */
export function installedCommand(t: Tap, dir: string): Installed {
  const binDir = join(dir, 'bin');
  linkBin(binDir);
  const PATH = `${binDir}:${process.env.PATH}`;
  return {
    kdeliver: (args, env = {}) => run('kdeliver', args, { env: { PATH, ...env } }),
    serve: (env = {}) => new Promise((resolvePromise, reject) => {
      const child = spawn('kdeliver', ['serve'], {
        env: { ...cleanEnv, PATH, HOST: '127.0.0.1', PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
      });
      const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
      t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
      let out = '';
      const timer = setTimeout(() => { child.kill('SIGKILL'); reject(new Error(`kdeliver serve did not start in 60 s:\n${out}`)); }, 60_000);
      const look = (d: Buffer) => {
        out += d.toString();
        const m = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
        if (m) {
          clearTimeout(timer);
          const waitForLog = async (pattern: RegExp, ms = 10_000) => {
            for (const end = Date.now() + ms; !pattern.test(out) && Date.now() < end;) await new Promise((r) => setTimeout(r, 25));
            return out;
          };
          resolvePromise({
            url: m[1], log: () => out, waitForLog, pid: child.pid!,
            stop: () => { child.kill('SIGTERM'); return exited; },
            kill: async () => { child.kill('SIGKILL'); await exited; },
          });
        }
      };
      child.stdout.on('data', look);
      child.stderr.on('data', look);
      child.on('exit', (code) => { clearTimeout(timer); reject(new Error(`kdeliver serve exited (${code}) during start:\n${out}`)); });
    }),
  };
}
