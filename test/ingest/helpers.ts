// Shared by the ingest tests: synthetic sources made with ffmpeg, running a CLI module as a real
// child process (with tap's TypeScript loader), and reading what a data directory holds.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { runnableArgs } from '../helpers/repo.js';

/** Makes a synthetic clip: a moving test pattern and/or a tone. */
export function makeSource(file: string, opts: { seconds: number; width?: number; height?: number; video?: boolean; audio?: boolean }): void {
  const video = opts.video ?? true;
  const audio = opts.audio ?? true;
  const args = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y'];
  if (video) args.push('-f', 'lavfi', '-i', `testsrc2=size=${opts.width ?? 854}x${opts.height ?? 480}:rate=25`);
  if (audio) args.push('-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000');
  args.push('-t', String(opts.seconds));
  if (video) args.push('-c:v', 'libx264', '-preset', 'ultrafast', '-pix_fmt', 'yuv420p');
  if (audio) args.push('-c:a', 'aac', '-b:a', '96k');
  args.push(file);
  const r = spawnSync('ffmpeg', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg could not make ${file}: ${r.stderr}`);
}

/** Runs `main(argv)` of a CLI module in a child node process; returns its exit code and output. */
export function runCliModule(modulePath: string, argv: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const script = `import(${JSON.stringify(modulePath)}).then((m) => m.main(process.argv.slice(1))).then((c) => { process.exitCode = c; })`;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...runnableArgs, '--input-type=module', '-e', script, '--', ...argv], {
      env: { ...process.env, KDELIVER_LOG_LEVEL: 'silent', ...env }, stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Every file under a folder, relative paths. */
export function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string, rel: string) => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      if (statSync(p).isDirectory()) walk(p, rel ? `${rel}/${name}` : name);
      else out.push(rel ? `${rel}/${name}` : name);
    }
  };
  walk(dir, '');
  return out.sort();
}

/** Key-frame times of a file's video, seconds. */
export function keyFrameTimes(file: string): number[] {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v:0', '-skip_frame', 'nokey', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', file], { encoding: 'utf8' });
  return r.stdout.split('\n').map((l) => parseFloat(l)).filter((n) => Number.isFinite(n));
}
