// Frames of a video as PNG bytes, through ffmpeg: one frame at a time, or a horizontal sprite of
// the frames at given seconds made in a single decoding pass (the player's seek-bar preview).
import { runMediaTool } from '../ffmpeg/media-tool.js';

export class FrameError extends Error {
  /**
   * `stopped`: ffmpeg's time ran out, so the same grab may well succeed later (a crash would not).
   * `empty`: ffmpeg ended well but gave no frame (the second asked is past the video's last frame).
   */
  constructor(message: string, readonly missingTool = false, readonly stopped = false, readonly empty = false) {
    super(message);
  }
}

const MAX_OUTPUT = 256 * 1024 * 1024;

async function capture(ffmpeg: string, args: string[], timeoutMs: number): Promise<Buffer> {
  const { code, signal, stdout, stderr, error, timedOut } = await runMediaTool(ffmpeg, args, { timeoutMs, maxStdoutBytes: MAX_OUTPUT });
  if (error) throw new FrameError(error.code === 'ENOENT' ? 'ffmpeg is not installed' : error.message, error.code === 'ENOENT');
  if (code === 0 && stdout.length > 0) return stdout;
  throw new FrameError(`ffmpeg could not grab frames (${signal ?? `exit ${code}`}): ${stderr.trim().split('\n').pop() ?? ''}`, false, timedOut, code === 0 && !timedOut);
}

const base = ['-nostdin', '-hide_banner', '-loglevel', 'error'];

/**
 * One frame at `atSec` (clamped by the caller into the clip), as PNG. A second past the video's
 * last frame gives none: the entry's duration is its longest track's, and a file whose audio
 * runs on after its pictures (or a vid_sec near the end) asks for one. Then the first frame is
 * taken, as Kaltura's capture does for a clip too short for the second asked.
 */
export async function grabFrame(ffmpeg: string, file: string, atSec: number, timeoutMs = 30_000): Promise<Buffer> {
  const at = (sec: number) => capture(ffmpeg, [...base, '-ss', sec.toFixed(3), '-i', file, '-frames:v', '1', '-f', 'image2pipe', '-c:v', 'png', '-'], timeoutMs);
  try {
    return await at(atSec);
  } catch (e) {
    if (!(e instanceof FrameError && e.empty) || atSec <= 0) throw e;
    return at(0);
  }
}

/**
 * A horizontal sprite in one decoding pass: for each second of `times` (ascending), the frame a
 * grabFrame of that second shows (the first frame at or after it), each scaled to `sliceWidth`
 * wide (and `sliceHeight` high when given, else keeping the aspect ratio; with `fitInside`, within
 * `sliceWidth` x `sliceHeight` keeping the aspect ratio, even sides; with `heightAlone`, the same
 * but with the width sharp would give a single frame, odd or even), side by side in one PNG.
 *
 * Each frame is retimed to the index of the first slice it can show: the number of slice seconds
 * its predecessor reached (0 for the first frame); the fps filter then gives slot i the last frame
 * retimed to i or before, which is the first frame at or after second i (a frame repeats when
 * slices are closer than frames; the frames between slices are dropped before scaling). Slices
 * past the video's last frame (a second clamped to the entry's length, where the video track ends
 * sooner) show that last frame, repeated by tpad, where tile would leave them black. Seconds
 * are compared in the stream's own ticks, as ffmpeg's seek in grabFrame compares them (`-ss`
 * rounded to the tick, frames before it dropped), so that slice i and vid_slice i are one frame.
 */
export function grabSprite(ffmpeg: string, file: string, o: { times: number[]; sliceWidth: number; sliceHeight: number; fitInside?: boolean; heightAlone?: boolean }, timeoutMs = 60_000): Promise<Buffer> {
  const seconds = o.times.map((s) => s.toFixed(3));
  const from = seconds[0];
  // the slices' distinct seconds, each with the number of slices at or before it
  const steps: { at: string; count: number }[] = [];
  for (const s of seconds) {
    const last = steps.at(-1);
    if (last?.at === s) last.count++;
    else steps.push({ at: s, count: (last?.count ?? 0) + 1 });
  }
  // PREV_INPTS is counted from the seek point; the seek point's tick brings it back to the stream's
  const reachedAt = (s: string) => `gte(PREV_INPTS+round(${from}/TB)\\,round(${s}/TB))`;
  // the count of slice seconds the predecessor reached, found by halving the steps: a few
  // comparisons per decoded frame, where one per slice cost a fifth of the decoding of a long video
  const count = (lo: number, hi: number): string => {
    if (lo === hi) return String(lo === 0 ? 0 : steps[lo - 1].count);
    const mid = Math.ceil((lo + hi) / 2);
    return `if(${reachedAt(steps[mid - 1].at)}\\,${count(mid, hi)}\\,${count(lo, mid - 1)})`;
  };
  const reached = count(0, steps.length);
  const scale = !(o.sliceHeight > 0) ? `scale=${o.sliceWidth}:-2`
    : o.heightAlone ? `scale=w=${o.sliceWidth}:h=${o.sliceHeight}:force_original_aspect_ratio=decrease`
    : o.fitInside ? `scale=w=${o.sliceWidth}:h=${o.sliceHeight}:force_original_aspect_ratio=decrease:force_divisible_by=2`
    : `scale=${o.sliceWidth}:${o.sliceHeight}`;
  return capture(ffmpeg, [
    ...base, '-ss', from, '-i', file, '-an',
    '-vf', `setpts='if(N\\,${reached}\\,0)/TB',fps=1,${scale},setsar=1,tpad=stop_mode=clone:stop=${seconds.length},tile=${seconds.length}x1`,
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
