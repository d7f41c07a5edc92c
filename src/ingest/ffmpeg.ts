// Running ffmpeg for one output: arguments for a rendition, progress from `-progress pipe:1`,
// cancellation, and a failure reason a person can act on instead of ffmpeg's last log line.
import type { Rendition } from './ladder.js';
import { runMediaTool } from '../ffmpeg/media-tool.js';
import type { Tools } from './probe.js';

export class TranscodeError extends Error {}

/** ffmpeg arguments that turn `input` into `output` (an MP4) for one rendition. */
export function renditionArgs(input: string, output: string, r: Rendition): string[] {
  const common = ['-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-i', input, '-map_metadata', '-1'];
  const audio = ['-c:a', 'aac', '-b:a', `${r.audioBitrateKbps}k`, '-ac', '2', '-ar', '48000'];
  const tail = ['-movflags', '+faststart', '-f', 'mp4', '-progress', 'pipe:1', '-nostats', output];
  if (r.kind === 'audio') return [...common, '-map', '0:a:0', '-vn', ...audio, ...tail];
  const fps = r.frameRate;
  const gop = Math.max(1, Math.round(fps * 2));
  return [
    ...common,
    '-map', '0:v:0', ...(r.withAudio ? ['-map', '0:a:0'] : []),
    '-vf', `scale=${r.width}:${r.height}:flags=bicubic,setsar=1,fps=${fps}`,
    '-c:v', 'libx264', '-preset', 'veryfast', '-profile:v', 'high', '-pix_fmt', 'yuv420p',
    '-b:v', `${r.videoBitrateKbps}k`, '-maxrate', `${Math.round(r.videoBitrateKbps * 1.5)}k`, '-bufsize', `${r.videoBitrateKbps * 2}k`,
    // A key frame every 2 s, closed GOPs, no scene-cut key frames: segment boundaries line up across the ladder
    '-g', String(gop), '-keyint_min', String(gop), '-sc_threshold', '0', '-flags', '+cgop',
    '-force_key_frames', 'expr:gte(t,n_forced*2)',
    ...(r.withAudio ? audio : ['-an']),
    ...tail,
  ];
}

/** ffmpeg arguments that grab one frame at `atSec` as a JPEG no wider than `maxWidth`. */
export function frameGrabArgs(input: string, output: string, atSec: number, maxWidth = 1280): string[] {
  return [
    '-nostdin', '-hide_banner', '-loglevel', 'error', '-y', '-ss', atSec.toFixed(3), '-i', input,
    '-frames:v', '1', '-vf', `scale='min(${maxWidth},iw)':-2`, '-q:v', '3', '-f', 'image2', '-c:v', 'mjpeg', output,
  ];
}

export interface RunOptions {
  /** Output duration expected, seconds, for progress. */
  durationSec: number;
  onProgress?: (fraction: number) => void;
  signal?: AbortSignal;
  /** What is being made, for the failure reason ("the 360p flavor"). */
  what: string;
}

// Errors about the output that ffmpeg logs and then exits 0 anyway: it only makes a failed trailer
// (the final moov, and with +faststart the re-opened file it shifts) or a failed close fatal
// under -xerror, which would also make every damaged source frame fatal. Such a run wrote no
// usable file whatever its status says.
const OUTPUT_ERROR = /Error writing trailer|Unable to re-open .* output file|Error closing file|Error muxing a packet|av_interleaved_write_frame\(\)|Error submitting a packet to the muxer|Could not write header|Conversion failed|No space left on device|File too large|Invalid argument.*write|Input\/output error/i;

/** The lines of ffmpeg's log that say what went wrong with its output, joined; '' when none does. */
export function outputErrors(stderr: string): string {
  return stderr.split('\n').map((l) => l.trim()).filter((l) => OUTPUT_ERROR.test(l)).slice(0, 3).join('; ');
}

/** Turns how ffmpeg ended into one sentence saying what happened and what to do. */
export function failureReason(what: string, code: number | null, signal: string | null, stderr: string): string {
  const lastLine = stderr.trim().split('\n').filter(Boolean).pop()?.trim() ?? '';
  if (/No space left on device/i.test(stderr) || signal === 'SIGXFSZ' || /File too large/i.test(stderr)) {
    return `the disk filled up while writing ${what} (${/File too large/i.test(stderr) || signal === 'SIGXFSZ' ? 'file size limit reached' : 'no space left on device'}): free space in the data directory and ingest again`;
  }
  if (signal) return `ffmpeg was stopped by ${signal} while making ${what} (killed by the system or an operator?): ingest again`;
  if (code === 137 || code === 143 || code === 255) return `ffmpeg was interrupted (exit ${code}) while making ${what}: ingest again`;
  if (/Invalid data found|could not find codec|Decoder .* not found|moov atom not found/i.test(stderr)) {
    return `the source cannot be decoded while making ${what} (${lastLine}): upload a complete, undamaged video or audio file`;
  }
  // Exit 0 with an error in the log: the status says nothing, ffmpeg's own words say what happened
  if (code === 0) return `ffmpeg could not write ${what}: ${outputErrors(stderr) || lastLine || 'it reported an error'}`;
  return `ffmpeg failed (exit ${code}) while making ${what}${lastLine ? `: ${lastLine}` : ''}`;
}

/** Runs ffmpeg; resolves when it exits 0, rejects with a TranscodeError otherwise. */
export async function runFfmpeg(tools: Tools, args: string[], opts: RunOptions): Promise<void> {
  if (opts.signal?.aborted) throw new TranscodeError(`cancelled before making ${opts.what}`);
  const totalUs = Math.max(1, opts.durationSec * 1e6);
  const onLine = (line: string) => {
    const m = /^out_time_us=(\d+)/.exec(line);
    if (m) opts.onProgress?.(Math.min(1, Number(m[1]) / totalUs));
    else if (line === 'progress=end') opts.onProgress?.(1);
  };
  const { code, signal, stderr, error } = await runMediaTool(tools.ffmpeg, args, { signal: opts.signal, onLine });
  if (error) {
    throw new TranscodeError(error.code === 'ENOENT'
      ? `ffmpeg is not installed: run \`apt-get install -y ffmpeg\` (or put ffmpeg on PATH), then ingest again`
      : `cannot start ffmpeg: ${error.message}`);
  }
  if (opts.signal?.aborted) throw new TranscodeError(`cancelled while making ${opts.what}`);
  // ffmpeg may log a failed write yet still exit 0 (OUTPUT_ERROR): a failure whatever the status
  if (code === 0 && !outputErrors(stderr)) return;
  throw new TranscodeError(failureReason(opts.what, code, signal, stderr));
}
