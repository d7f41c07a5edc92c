// The ladder planner, the progress reporter and ffmpeg failure reasons: pure functions, no ffmpeg.
import t from 'tap';
import { fitFrame, planLadder } from '../../src/ingest/ladder.js';
import { progressReporter } from '../../src/ingest/progress.js';
import { failureReason, renditionArgs, runFfmpeg } from '../../src/ingest/ffmpeg.js';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FlavorParams } from '../../src/catalog/types.js';
import type { MediaProbe } from '../../src/ingest/probe.js';

const fp = (id: number, w: number, h: number, vb: number, tags = 'web,mbr'): FlavorParams => ({
  id, name: `${h}p`, tags: tags.split(','), format: 'mp4', videoCodec: w ? 'h264' : '', audioCodec: 'aac', width: w, height: h,
  videoBitrate: vb, audioBitrate: w ? 128 : 128, frameRate: 25,
});
const ladder = [fp(301961, 426, 240, 250), fp(301951, 640, 360, 500), fp(301971, 1280, 720, 1200)];
const audioParams = [fp(301981, 0, 0, 0, 'audio_only,web,mbr')];
const src = (w: number, h: number, audio = true, fps = 25): MediaProbe => ({
  formatName: 'mov,mp4,m4a,3gp,3g2,mj2', container: 'isom', durationSec: 10, sizeBytes: 1000, bitrateKbps: 1000,
  video: w ? { codec: 'h264', width: w, height: h, frameRate: fps, bitrateKbps: 900, codecString: 'avc1.64001f', rotation: 0 } : null,
  audio: audio ? { codec: 'aac', channels: 2, sampleRate: 48000, bitrateKbps: 128, codecString: 'mp4a.40.2', language: '' } : null,
});

t.test('a 1080p source gets the whole ladder at the params sizes', async (t) => {
  const plan = planLadder(src(1920, 1080), ladder, audioParams);
  t.same(plan.renditions.map((r) => [r.params.id, r.width, r.height, r.videoBitrateKbps, r.withAudio]), [
    [301961, 426, 240, 250, true], [301951, 640, 360, 500, true], [301971, 1280, 720, 1200, true],
  ]);
  t.same(plan.skipped, []);
});

t.test('never upscales: a 480p source skips 720p', async (t) => {
  const plan = planLadder(src(854, 480), ladder, audioParams);
  t.same(plan.renditions.map((r) => r.params.id), [301961, 301951]);
  t.same(plan.skipped.map((s) => s.paramsId), [301971]);
  t.match(plan.skipped[0].reason, /never upscaled/);
});

t.test('a source smaller than every rung keeps the smallest rung at the source size', async (t) => {
  const plan = planLadder(src(320, 180), ladder, audioParams);
  t.same(plan.renditions.map((r) => [r.params.id, r.width, r.height]), [[301961, 320, 180]]);
  t.ok(plan.renditions[0].videoBitrateKbps < 250, 'bitrate scaled down with the frame');
});

t.test('a portrait source gets portrait renditions inside each box', async (t) => {
  const plan = planLadder(src(360, 640), ladder, audioParams);
  t.same(plan.renditions.map((r) => [r.params.id, r.width, r.height]), [[301961, 136, 240], [301951, 202, 360]]);
  t.same(plan.skipped.map((s) => s.paramsId), [301971]);
  const almost = planLadder(src(1278, 718), ladder, audioParams);
  t.same(almost.renditions.map((r) => r.params.id), [301961, 301951, 301971], '720p kept for a nearly-720p source');
});

t.test('portrait and odd sizes keep the aspect ratio in even numbers', async (t) => {
  t.same(fitFrame(1080, 1920, 1280, 720), { width: 406, height: 720 });
  t.same(fitFrame(1001, 563, 640, 360), { width: 640, height: 360 });
  t.same(fitFrame(200, 100, 640, 360), { width: 200, height: 100 }, 'never enlarged');
});

t.test('an audio-only source gets audio flavors (301981), not video ones', async (t) => {
  const plan = planLadder(src(0, 0, true), ladder, audioParams);
  t.same(plan.renditions.map((r) => [r.params.id, r.kind]), [[301981, 'audio']]);
  t.equal(plan.skipped.length, 3);
});

t.test('a video without audio makes video-only flavors; frame rate capped at the params', async (t) => {
  const plan = planLadder(src(1280, 720, false, 50), ladder, audioParams);
  t.ok(plan.renditions.every((r) => !r.withAudio && r.frameRate === 25));
  const args = renditionArgs('in.mp4', 'out.mp4', plan.renditions[0]);
  t.ok(args.includes('-an'));
  t.match(args.join(' '), /-g 50 -keyint_min 50 -sc_threshold 0 -flags \+cgop -force_key_frames expr:gte\(t,n_forced\*2\)/);
});

t.test('progress: one line per 10 % off a terminal, a redrawn bar on one', async (t) => {
  const lines: string[] = [];
  const p = progressReporter({ write: (s: string) => lines.push(s) }, 'job');
  for (let f = 0; f <= 1.0001; f += 0.01) p.update(f);
  p.update(0.5); // going back prints nothing
  p.done('finished');
  t.same(lines, [...Array.from({ length: 11 }, (_, i) => `job: ${i * 10}%\n`), 'finished\n']);
  const tty: string[] = [];
  const q = progressReporter({ write: (s: string) => tty.push(s), isTTY: true, columns: 60 }, 'job');
  q.update(0.5);
  q.update(0.5);
  q.update(1);
  q.done('ok');
  t.equal(tty.length, 4);
  t.match(tty[0], /^\rjob \[#+-+\]  50%$/);
  t.equal(tty[2], '\n');
});

t.test('ffmpeg failures become reasons a person can act on', async (t) => {
  t.match(failureReason('the 360p flavor', 1, null, 'frame=1\nav_interleaved_write_frame(): No space left on device\n'), /disk filled up.*free space/);
  t.match(failureReason('the 360p flavor', null, 'SIGXFSZ', ''), /disk filled up.*file size limit/);
  t.match(failureReason('the 360p flavor', 1, null, 'Error: File too large'), /disk filled up/);
  t.match(failureReason('the 360p flavor', null, 'SIGKILL', ''), /stopped by SIGKILL while making the 360p flavor.*ingest again/);
  t.match(failureReason('x', 1, null, 'in.mp4: Invalid data found when processing input'), /cannot be decoded.*upload a complete/);
});

t.test('an error ffmpeg only logs (exit status 0) is a failure in ffmpeg\'s own words, never "exit 0"', async (t) => {
  // ffmpeg 5.1 when the output's folder disappears before +faststart re-opens the file
  const log = '[mp4 @ 0x55] Unable to re-open /d/job-1/a.mp4 output file for shifting data\nError writing trailer of /d/job-1/a.mp4: No such file or directory\n';
  const reason = failureReason('the 90p flavor (301961)', 0, null, log);
  t.equal(reason, 'ffmpeg could not write the 90p flavor (301961): [mp4 @ 0x55] Unable to re-open /d/job-1/a.mp4 output file for shifting data; Error writing trailer of /d/job-1/a.mp4: No such file or directory');
  t.notMatch(reason, /exit 0/);
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-fakeff-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = join(dir, 'ffmpeg');
  writeFileSync(fake, `#!/bin/sh\nprintf '${log.replace(/\n/g, '\\n')}' >&2\nexit 0\n`);
  chmodSync(fake, 0o755);
  await t.rejects(runFfmpeg({ ffmpeg: fake, ffprobe: 'ffprobe' }, [], { durationSec: 1, what: 'the 90p flavor (301961)' }), { message: reason });
  // an exit 0 with nothing about the output in the log is a success
  writeFileSync(fake, '#!/bin/sh\necho "[h264 @ 0x1] error while decoding MB 3 4" >&2\nexit 0\n');
  await runFfmpeg({ ffmpeg: fake, ffprobe: 'ffprobe' }, [], { durationSec: 1, what: 'x' });
});

t.test('a write error ffmpeg only logs (exit status 0) still fails the rendition', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-fakeff-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const fake = join(dir, 'ffmpeg');
  writeFileSync(fake, '#!/bin/sh\necho "out_time_us=500000"\necho "Error writing trailer of out.mp4: File too large" >&2\nexit 0\n');
  chmodSync(fake, 0o755);
  let progress = 0;
  await t.rejects(runFfmpeg({ ffmpeg: fake, ffprobe: 'ffprobe' }, [], { durationSec: 1, what: 'the 240p flavor', onProgress: (f) => (progress = f) }),
    { message: /the disk filled up while writing the 240p flavor \(file size limit reached\)/ });
  t.equal(progress, 0.5);
  await t.rejects(runFfmpeg({ ffmpeg: join(dir, 'missing'), ffprobe: 'ffprobe' }, [], { durationSec: 1, what: 'x' }), { message: /ffmpeg is not installed: run `apt-get install -y ffmpeg`/ });
});
