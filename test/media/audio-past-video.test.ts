// A file whose audio runs on after its last picture (a screen recording stopped late, a music bed
// under a short clip). The segmenter cut by the video alone and put all the remaining audio into
// the last segment, whose duration did not count it: an HLS playlist said 3 s for an entry of
// 8 s (its last EXTINF 1.0 over 6 s of sound) and the MPD said PT3S over an 8 s audio fragment,
// so players stopped at the end of the pictures or not, each its own way. Now that audio gets
// segments of its own after the video's, and every segment's duration covers what it holds.
import t, { type Test } from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, flatPolicy, hlsPolicy, type Timeline } from '../../src/media/segment.js';
import { dtsAt } from '../../src/media/mp4/index-types.js';
import { tsSegment } from '../../src/media/ts/writer.js';
import { readBody } from '../../src/media/body.js';
import { requireCommands } from '../helpers/system.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-audio-past-video-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function make(name: string, videoSec: number, audioSec: number): string {
  const out = join(dir, name);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `testsrc2=size=160x96:rate=25:duration=${videoSec}`, '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000:duration=${audioSec}`,
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

/** Every audio sample of the timeline lies in its segment's span (within one AAC frame); the spans tile the whole. */
function checkSpans(t: Test, tl: Timeline, what: string, frames: number): void {
  const a = tl.audio!;
  const frameMs = (1024 * 1000) / a.track.timescale;
  let at = 0;
  let samples = 0;
  for (const [n, s] of tl.segments.entries()) {
    t.equal(Math.round(s.startMs), Math.round(at), `${what}: segment ${n + 1} starts where the one before ended`);
    at = s.startMs + s.durationMs;
    if (!s.audio || s.audio.end <= s.audio.first) continue;
    samples += s.audio.end - s.audio.first;
    const from = ((dtsAt(a.track, s.audio.first) - a.dtsBase) * 1000) / a.track.timescale;
    const to = ((dtsAt(a.track, s.audio.end) - a.dtsBase) * 1000) / a.track.timescale;
    t.ok(from >= s.startMs - frameMs && to <= s.startMs + s.durationMs + frameMs, `${what}: segment ${n + 1}'s audio ${from.toFixed(0)}-${to.toFixed(0)} ms within ${s.startMs.toFixed(0)}+${s.durationMs.toFixed(0)} ms`);
  }
  t.equal(samples, frames, `${what}: every audio frame is in a segment`);
  t.ok(Math.abs(at - tl.durationMs) < 1, `${what}: the segments add up to the stream's ${tl.durationMs} ms`);
}
/** Audio frames ffprobe decodes from a file (the source's AAC priming frame, before time 0, is not one). */
const audioFrames = (path: string): number => Number(spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'a', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', path], { encoding: 'utf8' }).stdout.trim().split('\n')[0]);

t.test('audio 5 s past the video: segments of its own, durations that add up, every frame decoded', async (t) => {
  requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
  const src = make('audio-longer.mp4', 2, 7);
  const idx = await readMediaIndex(src, BIG);
  for (const [name, policy] of [['HLS', hlsPolicy(10000)], ['DASH', flatPolicy(4000)]] as const) {
    const tl = buildTimeline(idx, policy);
    t.ok(Math.abs(tl.durationMs - 7000) < 25, `${name}: the stream lasts as the audio does (${tl.durationMs} ms)`);
    t.ok(tl.segments[0].video && tl.segments.some((s) => !s.video), `${name}: segments after the video's carry audio alone`);
    checkSpans(t, tl, name, audioFrames(src));
  }
  const tl = buildTimeline(idx, hlsPolicy(10000));
  const out = join(dir, 'audio-longer.ts');
  const segs: Buffer[] = [];
  for (let i = 0; i < tl.segments.length; i++) segs.push(await readBody(src, tsSegment(tl, i)));
  writeFileSync(out, Buffer.concat(segs));
  const dec = spawnSync('ffmpeg', ['-v', 'error', '-i', out, '-f', 'null', '-'], { encoding: 'utf8' });
  t.equal(dec.status, 0, 'the TS segments decode');
  t.equal(dec.stderr.trim(), '', 'without an error');
  t.equal(audioFrames(out), audioFrames(src), 'every audio frame decoded');
  const videoOnly = buildTimeline(idx, hlsPolicy(10000), undefined, { video: true, audio: false });
  t.ok(videoOnly.segments.every((s) => s.video) && videoOnly.durationMs < 2100, 'a video-only view ends with its video');
});

t.test('the usual few milliseconds of audio past the video stay in the last segment', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const src = make('usual.mp4', 5, 5);
  const idx = await readMediaIndex(src, BIG);
  const tl = buildTimeline(idx, hlsPolicy(10000));
  t.ok(tl.segments.every((s) => s.video), 'no audio-only segment');
  t.equal(tl.durationMs, 5000, 'the stream lasts as the video does');
  t.equal(tl.segments.reduce((n, s) => n + s.audio!.end - s.audio!.first, 0), audioFrames(src), 'every audio frame is in a segment');
});
