// The codec strings HLS CODECS and DASH codecs carry for VP9, AV1, Opus and MPEG-4 Part 2 video.
// The reader named them by their sample entry alone ("vp09", "av01", "Opus", "mp4v"), and
// MediaSource.isTypeSupported refuses a bare "vp09" or "av01", so hls.js and dash.js dropped such
// renditions as unplayable. They are now built from the sample entry's own configuration (vpcC,
// av1C, the esds's visual object sequence), as the bindings of each codec to ISO BMFF name them.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { requireCommands } from '../helpers/system.js';
import { launchBrowser } from '../helpers/browser.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-codec-strings-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function make(name: string, args: string[]): string {
  const out = join(dir, `${name}.mp4`);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '1', ...args, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

async function codecs(path: string): Promise<Record<string, string>> {
  const idx = await readMediaIndex(path, BIG);
  return Object.fromEntries(idx.tracks.map((tr) => [tr.kind, tr.codecString]));
}

const cases: Array<{ name: string; args: string[]; video?: string; audio?: string; mime: string }> = [
  // VP9 profile 0, level 1 (160x96 at 25 fps), 8 bits, 4:2:0 (1), colours unspecified (2), limited range
  { name: 'vp9', args: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-an'], video: 'vp09.00.10.08.01.02.02.02.00', mime: 'video/mp4' },
  // 10-bit VP9 is profile 2
  { name: 'vp9-10bit', args: ['-c:v', 'libvpx-vp9', '-deadline', 'realtime', '-cpu-used', '8', '-pix_fmt', 'yuv420p10le', '-an'], video: 'vp09.02.10.10.01.02.02.02.00', mime: 'video/mp4' },
  // AV1 main profile, level 2.0 (seq_level_idx 0), main tier, 8 bits
  { name: 'av1', args: ['-c:v', 'libsvtav1', '-preset', '12', '-an'], video: 'av01.0.00M.08', mime: 'video/mp4' },
  { name: 'av1-10bit', args: ['-c:v', 'libsvtav1', '-preset', '12', '-pix_fmt', 'yuv420p10le', '-an'], video: 'av01.0.00M.10', mime: 'video/mp4' },
  { name: 'opus', args: ['-vn', '-c:a', 'libopus'], audio: 'opus', mime: 'audio/mp4' },
  // MPEG-4 Visual (object type 0x20), simple profile level 1 (profile_and_level_indication 1)
  { name: 'mpeg4', args: ['-c:v', 'mpeg4', '-an'], video: 'mp4v.20.1', mime: 'video/mp4' },
];

t.test('codec strings from the sample entries\' configurations', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  for (const c of cases) {
    const got = await codecs(make(c.name, c.args));
    if (c.video) t.equal(got.video, c.video, `${c.name}: video`);
    if (c.audio) t.equal(got.audio, c.audio, `${c.name}: audio`);
  }
});

t.test('Chromium\'s MediaSource takes the VP9, AV1 and Opus strings', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const browser = await launchBrowser(t);
  const page = await browser.newPage();
  for (const c of cases.filter((x) => x.name !== 'mpeg4')) {
    const got = await codecs(join(dir, `${c.name}.mp4`));
    const type = `${c.mime}; codecs="${c.video ?? c.audio}"`;
    t.equal(got.video ?? got.audio, c.video ?? c.audio);
    t.ok(await page.evaluate((ty) => MediaSource.isTypeSupported(ty), type), `${type} is supported`);
  }
});
