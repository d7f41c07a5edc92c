// Running ffmpeg or ffprobe as a child process, for ingest (probing, transcoding) and thumbnails
// (frame grabs) alike: its output kept or read line by line, the tail of its log, and a kill when
// it runs too long, is no longer wanted or writes more than expected. It never throws: each
// caller turns the way the tool ended into its own error, in its own words.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

/**
 * util-linux's setpriv (in every Debian, Essential), which execs the tool with a parent-death
 * signal: a tool must not outlive the process that started it. A server killed with SIGKILL
 * mid-transcode would otherwise leave its ffmpeg running to the end, beside the attempt of the
 * node (or the restarted server) that took the job over (test/multinode/ingest-takeover.test.ts).
 * Without it (not Linux), tools are started as they are.
 */
const SETPRIV = process.platform === 'linux' && existsSync('/usr/bin/setpriv') ? '/usr/bin/setpriv' : null;
/** setpriv's exit status when the tool could not be executed (EX_EXEC_ENOENT), and its message. */
const SETPRIV_ENOENT = 127;
const SETPRIV_FAILED_EXEC = /^setpriv: failed to execute .*No such file or directory/m;

export interface MediaToolOptions {
  /** SIGKILL after this many milliseconds (none: no limit, as for a long transcode). */
  timeoutMs?: number;
  /** SIGKILL when aborted. */
  signal?: AbortSignal;
  /** Each line of stdout as it comes (ffmpeg's `-progress pipe:1`); stdout is then not kept. */
  onLine?: (line: string) => void;
  /** SIGKILL once stdout passes this many bytes; what came before stays in `stdout`. */
  maxStdoutBytes?: number;
}

export interface MediaToolExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: Buffer;
  /** The last 8 KiB of stderr: enough for the lines that say what went wrong. */
  stderr: string;
  /** The process could not be started (code ENOENT: the tool is not installed) or controlled. */
  error: NodeJS.ErrnoException | null;
  /** Killed because its `timeoutMs` ran out (not for its output, an abort, or a crash of its own). */
  timedOut: boolean;
}

const STDERR_TAIL = 8192;

export function runMediaTool(command: string, args: string[], opts: MediaToolOptions = {}): Promise<MediaToolExit> {
  return new Promise((resolve) => {
    const child = SETPRIV
      ? spawn(SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
      : spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const chunks: Buffer[] = [];
    let size = 0;
    let stderr = '';
    const { onLine } = opts;
    if (onLine) {
      let buf = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        buf += d;
        let i: number;
        while ((i = buf.indexOf('\n')) >= 0) {
          onLine(buf.slice(0, i));
          buf = buf.slice(i + 1);
        }
      });
    } else {
      const max = opts.maxStdoutBytes ?? Infinity;
      child.stdout.on('data', (d: Buffer) => {
        size += d.length;
        if (size > max) child.kill('SIGKILL');
        else chunks.push(d);
      });
    }
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr = (stderr + d).slice(-STDERR_TAIL)));
    const kill = () => child.kill('SIGKILL');
    let timedOut = false;
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => {
      timedOut = true;
      kill();
    }, opts.timeoutMs);
    if (opts.signal?.aborted) kill();
    else opts.signal?.addEventListener('abort', kill, { once: true });
    // 'error' may come alone (a tool that never started) or before 'close': the first one settles
    const settle = (exit: Omit<MediaToolExit, 'stdout' | 'stderr' | 'timedOut'>) => {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', kill);
      resolve({ ...exit, stdout: Buffer.concat(chunks), stderr, timedOut });
    };
    child.on('error', (err: NodeJS.ErrnoException) => settle({ code: null, signal: null, error: err }));
    child.on('close', (code, signal) => {
      // the tool is not installed: as spawn itself says it without setpriv
      if (SETPRIV && code === SETPRIV_ENOENT && SETPRIV_FAILED_EXEC.test(stderr)) {
        const err: NodeJS.ErrnoException = Object.assign(new Error(`spawn ${command} ENOENT`), { code: 'ENOENT', errno: -2, syscall: `spawn ${command}`, path: command });
        settle({ code: null, signal: null, error: err });
        return;
      }
      settle({ code, signal, error: null });
    });
  });
}
