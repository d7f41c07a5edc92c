// Runs the code a first per-flavor playlist needs (the moov walk and parse, the HLS and DASH
// timelines, the playlist text) once on a small MP4 shipped with kdeliver, so that the first real
// request does not pay for compiling it: V8 compiles each function on its first call, and a fresh
// server's first playlist of a long file paid for that on top of reading its moov (bench/README.md,
// target 4). It reads fixtures/media/h264-240p.mp4 only (never the media store or the catalog),
// keeps nothing (the index is dropped; no cache is filled) and logs nothing; without the file it
// does nothing.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mediaPlaylist } from './hls/playlists.js';
import { readMediaIndex } from './mp4/reader.js';
import type { Rendition } from './presentation.js';
import { flatPolicy, hlsPolicy, timelineFor } from './segment.js';

let done = 0;
/** Warm-ups that ran to the end in this process (for tests). */
export const warmUpsDone = (): number => done;

/** The MP4 the warm-up reads: a sample file shipped with kdeliver (fixtures/media). */
export function warmUpFile(): string | null {
  // dist/src/media → project root, or src/media under ts loaders
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['../..', '../../..']) {
    const p = resolve(here, up, 'fixtures', 'media', 'h264-240p.mp4');
    if (existsSync(p)) return p;
  }
  return null;
}

/**
 * Parses `file` and renders its HLS playlists (TS and fMP4) at `hlsSegmentMs` and its DASH
 * timeline at `dashSegmentMs`, the way the packager does (src/packaging/packager.ts); resolves to
 * the playlists made (for tests), or null when there is no file or it fails (never throws).
 */
export async function warmUpMediaCode(opts: { hlsSegmentMs: number; dashSegmentMs: number; file?: string | null }): Promise<string[] | null> {
  const file = opts.file === undefined ? warmUpFile() : opts.file;
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
