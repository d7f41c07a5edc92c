// Runs the code a first per-flavor playlist needs (the moov walk and parse, the HLS and DASH
// timelines, the playlist text) once on a small MP4 shipped with kdeliver, so that the first real
// request does not pay for compiling it: V8 compiles each function on its first call, and a fresh
// server's first playlist of a long file paid for that on top of reading its moov (bench/README.md,
// target 4). It reads the file it is given only (the server gives fixtures/media/h264-240p.mp4;
// never the media store or the catalog), keeps nothing (the index is dropped; no cache is filled)
// and logs nothing; without the file it does nothing.
import { mediaPlaylist } from './hls/playlists.js';
import { readMediaIndex } from './mp4/reader.js';
import type { Rendition } from './presentation.js';
import { flatPolicy, hlsPolicy, timelineFor } from './segment.js';

let done = 0;
/** Warm-ups that ran to the end in this process (for tests). */
export const warmUpsDone = (): number => done;

/**
 * Parses `file` and renders its HLS playlists (TS and fMP4) at `hlsSegmentMs` and its DASH
 * timeline at `dashSegmentMs`, the way the packager does (src/packaging/packager.ts); resolves to
 * the playlists made (for tests), or null when there is no file or it fails (never throws).
 */
export async function warmUpMediaCode(opts: { hlsSegmentMs: number; dashSegmentMs: number; file: string | null }): Promise<string[] | null> {
  const { file } = opts;
  if (!file) return null;
  try {
    const index = await readMediaIndex(file, { maxMoovBytes: 1 << 20 });
    timelineFor(index, flatPolicy(opts.dashSegmentMs));
    const tl = timelineFor(index, hlsPolicy(opts.hlsSegmentMs));
    const video = index.tracks.find((t) => t.kind === 'video');
    const r: Rendition = {
      f: 1, clips: [tl], hasVideo: !!tl.video, hasAudio: !!tl.audio, width: video?.width ?? 0, height: video?.height ?? 0,
      frameRate: 0, language: '', label: '', isDefault: true,
    };
    const made = [mediaPlaylist(r, { container: 'ts', video: r.hasVideo, audio: r.hasAudio, f: null }), mediaPlaylist(r, { container: 'fmp4', video: r.hasVideo, audio: r.hasAudio, f: null })];
    done++;
    return made;
  } catch {
    return null;
  }
}
