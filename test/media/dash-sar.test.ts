// The MPD's sar is the video's own sample aspect ratio (ISO/IEC 23009-1 5.3.7.2), as ffprobe reads
// it: the sample entry's pasp, else the H.264 SPS's VUI. The MPD said "1:1" for every
// representation, so the sample's 426x240 rendition (640:639 in its SPS, 16:9 on screen) and any
// anamorphic source (PAL 720x576 at 16:15) were described as square pixels: a player that sizes
// its surface from width x sar (smart-TV DASH stacks) drew them at the wrong shape.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, flatPolicy } from '../../src/media/segment.js';
import { buildMpd } from '../../src/media/dash/mpd.js';
import type { Rendition } from '../../src/media/presentation.js';
import { requireCommands } from '../helpers/system.js';
import { sample } from './helpers.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-sar-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function ffprobeSar(path: string): string {
  const r = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'v', '-show_entries', 'stream=sample_aspect_ratio', '-of', 'csv=p=0', path], { encoding: 'utf8' });
  return r.stdout.trim().split('\n')[0];
}

async function mpdSar(path: string): Promise<string | undefined> {
  const tl = buildTimeline(await readMediaIndex(path, BIG), flatPolicy(4000), undefined, { video: true, audio: false });
  const r: Rendition = { f: 1, clips: [tl], hasVideo: true, hasAudio: false, width: 0, height: 0, frameRate: 25, language: '', label: '', isDefault: true };
  return /<Representation id="f1-v1"[^>]* sar="([^"]+)"/.exec(buildMpd({ container: 'fmp4', captions: [], renditions: [r] }))?.[1];
}

t.test('the sample library\'s renditions: sar as ffprobe reads it', async (t) => {
  requireCommands(t, ['ffprobe'], 'ffprobe');
  for (const f of ['h264-240p.mp4', 'h264-360p.mp4', 'h264-720p.mp4', 'source-720p.mp4']) {
    t.equal(await mpdSar(sample(f)), ffprobeSar(sample(f)), f);
  }
  t.equal(await mpdSar(sample('h264-240p.mp4')), '640:639', 'the 426x240 rendition is not square-pixelled');
});

t.test('anamorphic video: from pasp, and from the SPS alone', async (t) => {
  requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
  const withPasp = join(dir, 'pal-wide.mp4');
  const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=720x576:rate=25', '-t', '1', '-vf', 'setsar=64/45',
    '-c:v', 'libx264', '-g', '25', withPasp], { encoding: 'utf8' });
  t.equal(made.status, 0, made.stderr);
  t.equal(ffprobeSar(withPasp), '64:45', 'the premise: a 16:9 PAL picture');
  t.equal(await mpdSar(withPasp), '64:45');
  // the same file with its pasp box renamed "free" (a box any reader skips): the SPS says it alone
  const bare = join(dir, 'pal-wide-bare.mp4');
  const bytes = readFileSync(withPasp);
  const at = bytes.indexOf('pasp', 0, 'latin1');
  t.ok(at > 0 && bytes.indexOf('pasp', at + 4, 'latin1') < 0, 'the premise: one pasp box');
  bytes.write('free', at, 'latin1');
  writeFileSync(bare, bytes);
  t.equal(ffprobeSar(bare), '64:45', 'the premise: ffprobe reads it from the SPS');
  t.equal(await mpdSar(bare), '64:45');
});
