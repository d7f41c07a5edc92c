// The one runner of ffmpeg and ffprobe, and each of its callers' own words for how the tool ended:
// small shell scripts stand in for the tools (real child processes, killed for real), so these
// run without ffmpeg.
import t from 'tap';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runMediaTool } from '../../src/ffmpeg/media-tool.js';
import { runFfmpeg } from '../../src/ingest/ffmpeg.js';
import { probeMedia } from '../../src/ingest/probe.js';
import { FrameError, grabFrame } from '../../src/thumbnail/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'kdeliver-media-tool-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function script(name: string, body: string): string {
  const file = join(dir, name);
  writeFileSync(file, `#!/bin/sh\n${body}\n`);
  chmodSync(file, 0o755);
  return file;
}

const sleeper = script('sleeper', 'echo started; exec sleep 30');
const missing = join(dir, 'not-installed');

t.test('output, exit status and the tail of the log', async (t) => {
  const tool = script('talker', 'printf "a\\nb"; echo "first" >&2; echo "last line" >&2; exit 3');
  const r = await runMediaTool(tool, []);
  t.equal(r.stdout.toString(), 'a\nb');
  t.equal(r.code, 3);
  t.equal(r.signal, null);
  t.equal(r.error, null);
  t.equal(r.stderr, 'first\nlast line\n');

  const loud = script('loud', 'head -c 20000 /dev/zero | tr "\\0" x >&2; echo " the end" >&2');
  const l = await runMediaTool(loud, []);
  t.equal(l.stderr.length, 8192, 'only the tail of a long log is kept');
  t.match(l.stderr, /x the end\n$/);
});

t.test('a tool that is not installed: the start error, never a throw', async (t) => {
  const r = await runMediaTool(missing, []);
  t.equal(r.error?.code, 'ENOENT');
  t.equal(r.code, null);
});

t.test('killed on a timeout, on an abort, before it starts when already aborted', async (t) => {
  const started = Date.now();
  const timedOut = await runMediaTool(sleeper, [], { timeoutMs: 200 });
  t.equal(timedOut.signal, 'SIGKILL');
  t.ok(Date.now() - started < 10_000, 'did not wait for the tool');

  const ac = new AbortController();
  const aborted = runMediaTool(sleeper, [], { signal: ac.signal, onLine: () => ac.abort() });
  t.equal((await aborted).signal, 'SIGKILL', 'killed once aborted');

  const r = await runMediaTool(sleeper, [], { signal: AbortSignal.abort() });
  t.equal(r.signal, 'SIGKILL', 'an aborted signal kills at once');
});

t.test('stdout past its bound kills the tool, keeping what came before', async (t) => {
  const flood = script('flood', 'exec cat /dev/zero');
  const r = await runMediaTool(flood, [], { maxStdoutBytes: 100_000 });
  t.equal(r.signal, 'SIGKILL');
  t.ok(r.stdout.length <= 100_000 && r.stdout.length > 0, `kept ${r.stdout.length} bytes`);
});

t.test('stdout line by line, across writes, not kept', async (t) => {
  const tool = script('lines', 'printf "one\\ntw"; sleep 0.1; printf "o\\nthree\\nunfinished"');
  const lines: string[] = [];
  const r = await runMediaTool(tool, [], { onLine: (l) => lines.push(l) });
  t.same(lines, ['one', 'two', 'three']);
  t.equal(r.stdout.length, 0);
});

t.test('frame grabs keep their own errors', async (t) => {
  const file = join(dir, 'clip.mp4');
  writeFileSync(file, 'not read');
  const gone = await grabFrame(missing, file, 1).catch((e: unknown) => e);
  t.ok(gone instanceof FrameError);
  t.match(gone, { message: 'ffmpeg is not installed', missingTool: true });
  const slow = await grabFrame(sleeper, file, 1, 200).catch((e: unknown) => e);
  t.match(slow, { message: /^ffmpeg could not grab frames \(SIGKILL\)/, missingTool: false });
  const failing = script('failing-ffmpeg', 'echo "clip.mp4: Invalid data found when processing input" >&2; exit 1');
  t.match(await grabFrame(failing, file, 1).catch((e: unknown) => e), { message: 'ffmpeg could not grab frames (exit 1): clip.mp4: Invalid data found when processing input' });
  const png = script('png-ffmpeg', 'printf PNGBYTES');
  t.equal((await grabFrame(png, file, 1)).toString(), 'PNGBYTES');
});

t.test('transcodes keep their own errors, progress and cancellation', async (t) => {
  const tools = (ffmpeg: string) => ({ ffmpeg, ffprobe: 'ffprobe' });
  const ac = new AbortController();
  const progress: number[] = [];
  const slow = script('slow-ffmpeg', 'echo out_time_us=250000; exec sleep 30');
  const run = runFfmpeg(tools(slow), [], { durationSec: 1, what: 'the 360p flavor', signal: ac.signal, onProgress: (f) => { progress.push(f); ac.abort(); } });
  await t.rejects(run, { message: 'cancelled while making the 360p flavor' });
  t.same(progress, [0.25]);
  await t.rejects(runFfmpeg(tools(slow), [], { durationSec: 1, what: 'x', signal: AbortSignal.abort() }), { message: 'cancelled before making x' });
  const done = script('done-ffmpeg', 'echo out_time_us=900000; echo progress=end');
  const seen: number[] = [];
  await runFfmpeg(tools(done), [], { durationSec: 1, what: 'x', onProgress: (f) => seen.push(f) });
  t.same(seen, [0.9, 1]);
  const killed = script('killed-ffmpeg', 'kill -9 $$');
  await t.rejects(runFfmpeg(tools(killed), [], { durationSec: 1, what: 'the 720p flavor' }), { message: /^ffmpeg was stopped by SIGKILL while making the 720p flavor/ });
});

t.test('probes keep their own errors and time limit', async (t) => {
  const file = join(dir, 'probe-me.mp4');
  writeFileSync(file, 'something');
  await t.rejects(probeMedia(file, { ffmpeg: 'ffmpeg', ffprobe: missing }), { message: /^ffprobe is not installed: run `apt-get install -y ffmpeg`/ });
  const failing = script('failing-ffprobe', 'echo "probe-me.mp4: Invalid data found when processing input" >&2; exit 1');
  await t.rejects(probeMedia(file, { ffmpeg: 'ffmpeg', ffprobe: failing }), { message: 'not a media file ffmpeg can read (Invalid data found when processing input): upload a video or audio file such as MP4, MOV, MKV, WebM or MP3' });
  const started = Date.now();
  await t.rejects(probeMedia(file, { ffmpeg: 'ffmpeg', ffprobe: sleeper }, 200), { message: /^not a media file ffmpeg can read/ });
  t.ok(Date.now() - started < 10_000, 'the probe was stopped at its time limit');
  const audio = script('audio-ffprobe', `echo '{"format":{"format_name":"mp3","duration":"2.5","bit_rate":"128000"},"streams":[{"codec_type":"audio","codec_name":"mp3","channels":2,"sample_rate":"44100"}]}'`);
  t.match(await probeMedia(file, { ffmpeg: 'ffmpeg', ffprobe: audio }), { formatName: 'mp3', durationSec: 2.5, video: null, audio: { codec: 'mp3', channels: 2 } });
});
