// MPEG-TS carries H.264 and HEVC video only. The writer put every other video sample entry under
// H.264's stream type, so a VP9, AV1 or MPEG-4 Part 2 flavor's TS segments were answered 200 and
// decoded as a broken H.264 stream ("non-existing PPS", no picture). Such video is refused with
// the packager's "cannot be packaged" error, as Opus audio is, and fMP4 still carries it.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, hlsPolicy } from '../../src/media/segment.js';
import { tsCarries, tsSegment } from '../../src/media/ts/writer.js';
import { initSegment, mediaSegment } from '../../src/media/fmp4/writer.js';
import { readBody } from '../../src/media/body.js';
import { MediaError } from '../../src/media/errors.js';
import { requireCommands } from '../helpers/system.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-ts-video-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function make(name: string, codec: string[]): string {
  const out = join(dir, `${name}.mp4`);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '3', ...codec, '-g', '25', '-c:a', 'aac', '-movflags', '+faststart', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

const refused = (f: () => unknown): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  return null;
};

const cases: Array<[string, string[]]> = [
  ['vp9', ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-b:v', '200k']],
  ['mpeg4', ['-c:v', 'mpeg4']],
  ['av1', ['-c:v', 'libsvtav1', '-preset', '12']],
];

for (const [name, codec] of cases) {
  t.test(`${name} video has no MPEG-TS carriage: refused, not written as H.264; fMP4 carries it`, async (t) => {
    requireCommands(t, ['ffmpeg'], 'ffmpeg');
    const src = make(name, codec);
    const tl = buildTimeline(await readMediaIndex(src, BIG), hlsPolicy(2000));
    t.notOk(tsCarries(tl), 'the timeline is not one MPEG-TS carries');
    const e = refused(() => tsSegment(tl, 0));
    t.ok(e instanceof MediaError && e.kind === 'UNSUPPORTED' && /H\.264 and HEVC/.test(e.message) && /fMP4/.test(e.message), `refused: ${String(e)}`);
    const parts = [initSegment([tl.video!.track, tl.audio!.track])];
    for (const seg of tl.segments) parts.push(await readBody(src, mediaSegment(tl, seg, { sequence: parts.length, dash: false })));
    const out = join(dir, `${name}-fmp4.mp4`);
    writeFileSync(out, Buffer.concat(parts));
    const dec = spawnSync('ffmpeg', ['-v', 'error', '-i', out, '-map', '0:v', '-f', 'null', '-'], { encoding: 'utf8' });
    t.equal(dec.status, 0, 'fMP4 decodes');
    t.equal(dec.stderr.trim(), '', 'without an error');
  });
}

t.test('H.264 still goes into MPEG-TS', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const src = make('h264', ['-c:v', 'libx264', '-preset', 'ultrafast']);
  const tl = buildTimeline(await readMediaIndex(src, BIG), hlsPolicy(2000));
  t.ok(tsCarries(tl));
  const out = join(dir, 'h264.ts');
  const segs: Buffer[] = [];
  for (let i = 0; i < tl.segments.length; i++) segs.push(await readBody(src, tsSegment(tl, i)));
  writeFileSync(out, Buffer.concat(segs));
  const dec = spawnSync('ffmpeg', ['-v', 'error', '-i', out, '-f', 'null', '-'], { encoding: 'utf8' });
  t.equal(dec.status, 0);
  t.equal(dec.stderr.trim(), '', 'decodes without an error');
});
