// Frames of a video as PNG bytes, through ffmpeg: one frame at a time, or a horizontal sprite of
// evenly spaced frames made in a single decoding pass (the player's seek-bar preview).
import { runMediaTool } from '../ffmpeg/media-tool.js';

export class FrameError extends Error {
  /** `stopped`: ffmpeg's time ran out, so the same grab may well succeed later (a crash would not). */
  constructor(message: string, readonly missingTool = false, readonly stopped = false) {
    super(message);
  }
}

const MAX_OUTPUT = 256 * 1024 * 1024;

async function capture(ffmpeg: string, args: string[], timeoutMs: number): Promise<Buffer> {
  const { code, signal, stdout, stderr, error, timedOut } = await runMediaTool(ffmpeg, args, { timeoutMs, maxStdoutBytes: MAX_OUTPUT });
  if (error) throw new FrameError(error.code === 'ENOENT' ? 'ffmpeg is not installed' : error.message, error.code === 'ENOENT');
  if (code === 0 && stdout.length > 0) return stdout;
  throw new FrameError(`ffmpeg could not grab frames (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').pop() ?? ''}`, false, timedOut);
}

const base = ['-nostdin', '-hide_banner', '-loglevel', 'error'];

/** One frame at `atSec` (clamped by the caller into the clip), as PNG. */
export function grabFrame(ffmpeg: string, file: string, atSec: number, timeoutMs = 30_000): Promise<Buffer> {
  return capture(ffmpeg, [...base, '-ss', atSec.toFixed(3), '-i', file, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', '-'], timeoutMs);
}

/**
 * `slices` frames evenly spread over [startSec, endSec), each scaled to `sliceWidth` wide (and
 * `sliceHeight` high when given, else keeping the aspect ratio; with `fitInside`, within
 * `sliceWidth` x `sliceHeight` keeping the aspect ratio), side by side in one PNG.
 */
export function grabSprite(ffmpeg: string, file: string, o: { startSec: number; endSec: number; slices: number; sliceWidth: number; sliceHeight: number; fitInside?: boolean }, timeoutMs = 60_000): Promise<Buffer> {
  const span = Math.max(0.04, o.endSec - o.startSec);
  const scale = !(o.sliceHeight > 0) ? `scale=${o.sliceWidth}:-2`
    : o.fitInside ? `scale=w=${o.sliceWidth}:h=${o.sliceHeight}:force_original_aspect_ratio=decrease:force_divisible_by=2`
    : `scale=${o.sliceWidth}:${o.sliceHeight}`;
  return capture(ffmpeg, [
    ...base, '-ss', o.startSec.toFixed(3), '-t', span.toFixed(3), '-i', file,
    '-vf', `fps=${o.slices}/${span.toFixed(3)},${scale},setsar=1,tile=${o.slices}x1`,
    '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', '-',
  ], timeoutMs);
}

/**
 * A storyboard sheet: from `startSec`, the first frame of every `intervalSec` (the frame a
 * `vid_sec` grab of that second shows), each scaled to exactly `tileWidth` x `tileHeight`, laid
 * out left to right, top to bottom in `columns` x `rows`, in one decoding pass, as PNG. A sheet
 * the video ends inside keeps its full size, the missing tiles black.
 */
export function grabSheet(ffmpeg: string, file: string, o: { startSec: number; spanSec: number; intervalSec: number; tileWidth: number; tileHeight: number; columns: number; rows: number }, timeoutMs = 120_000): Promise<Buffer> {
  const i = o.intervalSec.toFixed(3);
  return capture(ffmpeg, [
    ...base, '-ss', o.startSec.toFixed(3), '-t', Math.max(0.04, o.spanSec).toFixed(3), '-i', file,
    '-vf', `select='isnan(prev_pts)+gt(floor(t/${i})\\,floor(prev_pts*TB/${i}))',scale=${o.tileWidth}:${o.tileHeight},setsar=1,tile=${o.columns}x${o.rows}`,
    '-fps_mode', 'passthrough', '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', '-',
  ], timeoutMs);
}
