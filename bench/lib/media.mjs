// Media for the benchmarks, made with Debian's ffmpeg and kept in bench/.work/media:
// - bench-720p-120s.mp4: the sample 720p flavor (H.264 1280x720 25 fps, AAC 48 kHz, ~1.3 Mbit/s)
//   looped ten times with stream copy (120 s, faststart); its 10 s segments are ~1.7 MB.
// - long-2h.mp4: a 60 s 320x180 30 fps H.264 + 48 kHz AAC clip looped 120 times with stream
//   copy (7,200 s, faststart): 216,000 video and ~337,500 audio samples, a ~6.2 MB moov, the
//   shape of the reference's 2-hour parse test at a tiny resolution.
// - long-2h-fragmented.mp4: the same samples as long-2h.mp4, fragmented at each keyframe as OBS
//   and ffmpeg's frag_keyframe write them (3,600 moofs, each traf's data counted from its moof).
// - bench-720p-10min-fragmented.mp4: bench-720p-120s.mp4 looped five times, fragmented so (300
//   moofs about 330 kB apart, 100 MB): a recording of a higher rate.
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mediaDir, projectRoot } from './paths.mjs';
import { requireCommands, run } from './system.mjs';

function make(file, args) {
  const out = join(mediaDir, file);
  if (existsSync(out)) return out;
  requireCommands(['ffmpeg', 'ffprobe'], 'ffmpeg');
  mkdirSync(mediaDir, { recursive: true });
  const tmp = `${out}.part.mp4`;
  run('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args, tmp]);
  renameSync(tmp, out);
  return out;
}

export function benchMedia() {
  const segments = make('bench-720p-120s.mp4', ['-stream_loop', '9', '-i', join(projectRoot, 'fixtures', 'media', 'h264-720p.mp4'), '-c', 'copy', '-movflags', '+faststart']);
  const base = make('base-180p-60s.mp4', [
    '-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=30', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '60', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '60', '-b:v', '40k', '-pix_fmt', 'yuv420p',
    '-c:a', 'aac', '-b:a', '32k', '-ac', '2',
  ]);
  const long = make('long-2h.mp4', ['-stream_loop', '119', '-i', base, '-c', 'copy', '-movflags', '+faststart']);
  const longFragmented = make('long-2h-fragmented.mp4', ['-i', long, '-c', 'copy', '-movflags', 'frag_keyframe+empty_moov+default_base_moof']);
  const tenMinFragmented = make('bench-720p-10min-fragmented.mp4', ['-stream_loop', '4', '-i', segments, '-c', 'copy', '-movflags', 'frag_keyframe+empty_moov+default_base_moof']);
  return { segments, long, longFragmented, tenMinFragmented };
}

export const BENCH_ENTRY = { entryId: '1_bench0001', flavorId: '1_fbench720' };
export const LONG_ENTRY = { entryId: '1_bench2hrs', flavorId: '1_fbench2hr' };

/** A library file (the fixtures format) naming the benchmark media as entries of partner 309. */
export function benchLibraryFile() {
  benchMedia();
  const file = join(mediaDir, 'bench-library.json');
  const video = (id, fid, fileName, w, h, kbps, fps, codecs, durationMs) => ({
    id, partnerId: 309, name: `Benchmark ${id}`, type: 1, mediaType: 1, status: 2, duration: Math.round(durationMs / 1000),
    flavors: [{
      id: fid, flavorParamsId: 301971, file: fileName, width: w, height: h, bitrate: kbps, frameRate: fps, codecs,
      tags: 'mobile,web,mbr,ipad,ipadnew,applembr,dash', containerFormat: 'isom', videoCodec: 'h264', audioCodec: 'aac', durationMs,
    }],
  });
  writeFileSync(file, JSON.stringify({
    version: 1,
    mediaDir: '.',
    entries: [
      video(BENCH_ENTRY.entryId, BENCH_ENTRY.flavorId, 'bench-720p-120s.mp4', 1280, 720, 1333, 25, 'avc1.64001f,mp4a.40.2', 120097),
      video(LONG_ENTRY.entryId, LONG_ENTRY.flavorId, 'long-2h.mp4', 320, 180, 80, 30, 'avc1.640014,mp4a.40.2', 7201272),
    ],
  }, null, 2));
  return file;
}
