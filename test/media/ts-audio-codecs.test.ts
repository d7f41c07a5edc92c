// MPEG-TS carries each audio codec as its own: AAC in ADTS (stream type 0x0f), MP3 as MPEG audio
// (0x03), AC-3 and E-AC-3 in private stream 1 with stream types 0x81 and 0x87 (ATSC A/52, which
// HLS follows). The writer put every audio track in ADTS headers under stream type 0x0f, so an
// AC-3 flavor's segments read as AAC (ffprobe: codec_name=aac) holding AC-3 bytes, which no
// player decodes. A codec TS has no carriage for (Opus) is refused, not written as AAC.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, hlsPolicy } from '../../src/media/segment.js';
import { tsSegment } from '../../src/media/ts/writer.js';
import { readBody } from '../../src/media/body.js';
import { MediaError } from '../../src/media/errors.js';
import { requireCommands } from '../helpers/system.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-ts-audio-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** Audio packets (or decoded frames) ffprobe counts in a file. */
const count = (path: string, what: 'packets' | 'frames'): number => parseInt(spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'a', `-count_${what}`,
  '-show_entries', `stream=nb_read_${what}`, '-of', 'csv=p=0', path], { encoding: 'utf8' }).stdout.trim().split('\n')[0], 10);

const probe = (path: string, entries: string): string[] =>
  spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'a', '-show_entries', entries, '-of', 'csv=p=0', path], { encoding: 'utf8' }).stdout.trim().split('\n').filter(Boolean);

function make(name: string, codec: string[]): string {
  const out = join(dir, `${name}.mp4`);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x90:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '5', '-c:v', 'libx264', '-g', '50', ...codec, '-movflags', '+faststart', out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

const cases: Array<[string, string[], string]> = [
  ['ac3', ['-c:a', 'ac3', '-ac', '2'], 'ac3'],
  ['eac3', ['-c:a', 'eac3', '-ac', '2'], 'eac3'],
  ['mp3', ['-c:a', 'libmp3lame', '-ac', '2'], 'mp3'],
  ['aac', ['-c:a', 'aac', '-ac', '2'], 'aac'],
];

for (const [name, codec, want] of cases) {
  t.test(`${name} audio: muxed and alone, read back as ${want} and decoded whole`, async (t) => {
    requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
    const src = make(name, codec);
    const sourcePackets = count(src, 'packets');
    const idx = await readMediaIndex(src, BIG);
    for (const use of [{ video: true, audio: true }, { video: false, audio: true }]) {
      const tl = buildTimeline(idx, hlsPolicy(2000), undefined, use);
      const segs: Buffer[] = [];
      for (let i = 0; i < tl.segments.length; i++) segs.push(await readBody(src, tsSegment(tl, i)));
      const out = join(dir, `${name}-${use.video ? 'av' : 'a'}.ts`);
      writeFileSync(out, Buffer.concat(segs));
      const what = use.video ? 'muxed' : 'audio alone';
      t.equal(probe(out, 'stream=codec_name')[0], want, `${what}: the TS says ${want}`);
      const frames = tl.segments.reduce((n, s) => n + (s.audio ? s.audio.end - s.audio.first : 0), 0);
      t.ok(frames > 0 && frames <= sourcePackets, `${what}: ${frames} of the source's ${sourcePackets} audio frames`);
      const dec = spawnSync('ffmpeg', ['-v', 'error', '-i', out, '-map', '0:a', '-f', 'null', '-'], { encoding: 'utf8' });
      t.equal(dec.status, 0, `${what}: ffmpeg decodes it`);
      t.equal(dec.stderr.trim(), '', `${what}: without an error`);
      t.equal(count(out, 'frames'), frames, `${what}: every frame decoded`);
    }
  });
}

t.test('opus has no MPEG-TS carriage here: refused, not written as AAC', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const src = make('opus', ['-c:a', 'libopus', '-ac', '2']);
  const tl = buildTimeline(await readMediaIndex(src, BIG), hlsPolicy(2000));
  let refused: unknown = null;
  try {
    tsSegment(tl, 0);
  } catch (e) {
    refused = e;
  }
  t.ok(refused instanceof MediaError && refused.kind === 'UNSUPPORTED' && /fMP4/.test(refused.message), `refused: ${String(refused)}`);
});
