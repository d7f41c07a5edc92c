// Smooth Streaming names each quality level's codec by a FourCC, and clients build their decoder
// from it and CodecPrivateData alone (there is no init segment). The manifest said H264 for every
// video and AACL for every audio, so a VP9 or AV1 flavor's video, or its Opus or MP3 audio, went
// to an H.264 or AAC decoder. Codecs Smooth Streaming has no name for here are refused (error 5
// at the packager, "media file cannot be packaged"), and AC-3 / E-AC-3 are named as such.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, flatPolicy } from '../../src/media/segment.js';
import { mssManifest } from '../../src/media/mss/manifest.js';
import type { Presentation } from '../../src/media/presentation.js';
import { MediaError } from '../../src/media/errors.js';
import { requireCommands } from '../helpers/system.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-mss-codecs-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

async function presentation(name: string, codecs: string[]): Promise<Presentation> {
  const out = join(dir, `${name}.mp4`);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '2', '-g', '25', ...codecs, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  const tl = buildTimeline(await readMediaIndex(out, BIG), flatPolicy(2000));
  return { container: 'fmp4', captions: [], renditions: [{ f: 1, clips: [tl], hasVideo: !!tl.video, hasAudio: !!tl.audio, width: 160, height: 96, frameRate: 25, language: '', label: '', isDefault: true }] };
}

const x264 = ['-c:v', 'libx264', '-preset', 'ultrafast'];
const aac = ['-c:a', 'aac'];

t.test('the FourCCs of what Smooth Streaming carries', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const fourCCs = (m: string) => [...m.matchAll(/FourCC="([^"]+)"/g)].map((x) => x[1]);
  t.same(fourCCs(mssManifest(await presentation('h264-aac', [...x264, ...aac]))), ['H264', 'AACL']);
  t.same(fourCCs(mssManifest(await presentation('hevc-aac', ['-c:v', 'libx265', '-preset', 'ultrafast', '-x265-params', 'log-level=error', '-tag:v', 'hvc1', ...aac]))), ['HEVC', 'AACL']);
  t.same(fourCCs(mssManifest(await presentation('h264-ac3', [...x264, '-c:a', 'ac3']))), ['H264', 'AC-3']);
  t.same(fourCCs(mssManifest(await presentation('h264-eac3', [...x264, '-c:a', 'eac3']))), ['H264', 'EC-3']);
});

t.test('a codec it has no name for is refused, not announced as H264 or AACL', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const cases: Array<[string, string[], RegExp]> = [
    ['vp9-aac', ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', ...aac], /H\.264 and HEVC video, not vp09/],
    ['av1-aac', ['-c:v', 'libsvtav1', '-preset', '12', ...aac], /H\.264 and HEVC video, not av01/],
    ['h264-opus', [...x264, '-c:a', 'libopus'], /AAC, AC-3 and E-AC-3 audio, not opus/],
    ['h264-mp3', [...x264, '-c:a', 'libmp3lame'], /AAC, AC-3 and E-AC-3 audio, not mp4a\.6b/],
  ];
  for (const [name, codecs, why] of cases) {
    const p = await presentation(name, codecs);
    let e: unknown = null;
    try {
      mssManifest(p);
    } catch (x) {
      e = x;
    }
    t.ok(e instanceof MediaError && e.kind === 'UNSUPPORTED' && why.test(e.message), `${name}: ${String(e)}`);
  }
});
