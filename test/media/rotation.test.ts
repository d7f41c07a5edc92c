// A phone's portrait video is stored landscape, with a 90° matrix in its track header. The fMP4
// init segments (HLS fMP4, DASH) and clipped MP4s (flvclipper, progressive clips) wrote the
// identity matrix, so such a video played on its side in every browser, while the whole file
// (progressive, raw) and the thumbnails were upright. The writers now keep the source's matrix.
// The facts an import reads (src/media/facts.ts) say the turn, and the picture as shown.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, flatPolicy } from '../../src/media/segment.js';
import { initSegment, mediaSegment } from '../../src/media/fmp4/writer.js';
import { planClippedMp4 } from '../../src/media/progressive.js';
import { readBody } from '../../src/media/body.js';
import { mediaFacts } from '../../src/media/facts.js';
import { rotationOf } from '../../src/media/mp4/index-types.js';
import { requireCommands } from '../helpers/system.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-rotation-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const ffmpeg = (...args: string[]): void => {
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
};
/** The rotation ffprobe reads from the video's display matrix ('' when none). */
const rotation = (path: string): string =>
  spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream_side_data=rotation', '-of', 'csv=p=0', path], { encoding: 'utf8' }).stdout.trim();

t.test('fMP4 init segments and clipped MP4s keep a rotated video\'s matrix', async (t) => {
  requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
  const plain = join(dir, 'plain.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '4',
    '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', plain);
  for (const degrees of ['90', '270', '180']) {
    const src = join(dir, `rotated-${degrees}.mp4`);
    ffmpeg('-i', plain, '-c', 'copy', '-metadata:s:v:0', `rotate=${degrees}`, src);
    const want = rotation(src);
    t.not(want, '', `${degrees}: the source has a display matrix (${want})`);
    const idx = await readMediaIndex(src, BIG);
    const tl = buildTimeline(idx, flatPolicy(2000));
    const parts = [initSegment([tl.video!.track, tl.audio!.track])];
    for (const seg of tl.segments) parts.push(await readBody(src, mediaSegment(tl, seg, { sequence: parts.length, dash: true })));
    const fmp4 = join(dir, `rotated-${degrees}-fmp4.mp4`);
    writeFileSync(fmp4, Buffer.concat(parts));
    t.equal(rotation(fmp4), want, `${degrees}: fMP4 (HLS fMP4, DASH)`);
    const clip = join(dir, `rotated-${degrees}-clip.mp4`);
    writeFileSync(clip, await readBody(src, planClippedMp4(idx, 1000, 3000).body));
    t.equal(rotation(clip), want, `${degrees}: clipped MP4`);
  }
  // an unrotated video stays so
  const idx = await readMediaIndex(plain, BIG);
  const tl = buildTimeline(idx, flatPolicy(2000));
  const init = join(dir, 'plain-init.mp4');
  writeFileSync(init, Buffer.concat([initSegment([tl.video!.track]), await readBody(plain, mediaSegment(tl, tl.segments[0], { sequence: 1, dash: true }))]));
  t.equal(rotation(init), '', 'no matrix turn for an upright video');
});

t.test('the facts an import reads give the turn clockwise and the picture as shown', async (t) => {
  requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
  const plain = join(dir, 'facts-plain.mp4');
  ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-t', '2', '-c:v', 'libx264', '-preset', 'ultrafast', plain);
  t.match(await mediaFacts(plain, BIG.maxMoovBytes), { rotation: 0, width: 160, height: 96 }, 'upright: no turn, as stored');
  for (const tag of ['90', '180', '270']) {
    const src = join(dir, `facts-${tag}.mp4`);
    ffmpeg('-i', plain, '-c', 'copy', '-metadata:s:v:0', `rotate=${tag}`, src);
    // ffprobe says the display matrix's turn counterclockwise (libavutil's display.h)
    const counterclockwise = Number(rotation(src));
    const clockwise = (360 - counterclockwise) % 360;
    const sideways = clockwise % 180 === 90;
    t.match(await mediaFacts(src, BIG.maxMoovBytes), { rotation: clockwise, width: sideways ? 96 : 160, height: sideways ? 160 : 96 },
      `rotate=${tag} (ffprobe: ${counterclockwise}° counterclockwise): ${clockwise}° clockwise, shown ${sideways ? 'taller than wide' : 'as stored'}`);
  }
});

t.test('a matrix\'s turn, to the nearest quarter', async (t) => {
  const matrix = (a: number, b: number, c: number, d: number) => {
    const m = Buffer.alloc(36);
    [a, b, 0, c, d, 0, 0, 0, 0x40000000].forEach((v, i) => m.writeInt32BE(i === 2 || i === 5 || i === 8 ? v : Math.round(v * 0x10000), i * 4));
    return m;
  };
  t.equal(rotationOf(matrix(1, 0, 0, 1)), 0, 'identity');
  t.equal(rotationOf(matrix(0, 1, -1, 0)), 90, '(1, 0) to (0, 1): a quarter clockwise on a screen whose y grows downwards');
  t.equal(rotationOf(matrix(-1, 0, 0, -1)), 180, 'half a turn');
  t.equal(rotationOf(matrix(0, -1, 1, 0)), 270, 'a quarter counterclockwise');
  t.equal(rotationOf(matrix(2, 0, 0, 2)), 0, 'a scale alone: no turn');
  const turned = (deg: number) => matrix(Math.cos(deg * Math.PI / 180), Math.sin(deg * Math.PI / 180), -Math.sin(deg * Math.PI / 180), Math.cos(deg * Math.PI / 180));
  t.equal(rotationOf(turned(40)), 0, '40°: the nearer quarter is none');
  t.equal(rotationOf(turned(50)), 90, '50°: the nearer quarter is 90');
  t.equal(rotationOf(turned(-85)), 270, '-85°: 270');
  t.equal(rotationOf(new Uint8Array(0)), 0, 'no matrix (audio, a short box)');
});
