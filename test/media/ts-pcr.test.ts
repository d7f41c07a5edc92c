// MPEG-TS segments carry a PCR at least every 100 ms (ISO/IEC 13818-1, 2.7.2), across segment
// boundaries too. With video the PCR rides on every picture's PES (40 ms at 25 fps); an
// audio-only segment (an audio-only entry, an alternate audio rendition of an HLS master) has it
// on its audio PES, which grouped eight AAC frames: 171 ms at 48 kHz, a PCR repetition error that
// broadcast-grade demuxers (smart TVs, stream analysers) report. The audio frames still decode,
// all of them, in order.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, hlsPolicy } from '../../src/media/segment.js';
import { tsSegment } from '../../src/media/ts/writer.js';
import { readBody } from '../../src/media/body.js';
import { requireCommands } from '../helpers/system.js';
import { sample } from './helpers.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-pcr-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** PCR times (seconds) of a transport stream, in packet order. */
function pcrs(ts: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i + 188 <= ts.length; i += 188) {
    const p = ts.subarray(i, i + 188);
    const afc = (p[3] >> 4) & 3;
    if ((afc === 2 || afc === 3) && p[4] > 0 && p[5] & 0x10) {
      const base = p[6] * 2 ** 25 + p[7] * 2 ** 17 + p[8] * 2 ** 9 + p[9] * 2 + (p[10] >> 7);
      out.push(base / 90000);
    }
  }
  return out;
}

const cases: Array<[string, string, { video: boolean; audio: boolean }]> = [
  ['audio-only entry', 'audio-128k.mp4', { video: true, audio: true }],
  ['alternate audio rendition', 'alt-audio-spa.mp4', { video: false, audio: true }],
  ['video with muxed audio', 'h264-240p.mp4', { video: true, audio: true }],
  ['audio of a muxed flavor alone (-a1)', 'h264-240p.mp4', { video: false, audio: true }],
];

for (const [what, file, use] of cases) {
  t.test(`${what}: a PCR at least every 100 ms`, async (t) => {
    const path = sample(file);
    const tl = buildTimeline(await readMediaIndex(path, BIG), hlsPolicy(10000), undefined, use);
    const segments: Buffer[] = [];
    for (let i = 0; i < tl.segments.length; i++) segments.push(await readBody(path, tsSegment(tl, i)));
    const all = Buffer.concat(segments);
    const times = pcrs(all);
    t.ok(times.length > 0, `${times.length} PCRs`);
    let worst = 0;
    for (let k = 1; k < times.length; k++) worst = Math.max(worst, times[k] - times[k - 1]);
    t.ok(worst <= 0.1 + 1e-9, `the longest gap between PCRs is ${(worst * 1000).toFixed(1)} ms`);

    requireCommands(t, ['ffprobe'], 'ffprobe');
    const out = join(dir, `${file}-${use.video ? 'v' : ''}a.ts`);
    writeFileSync(out, all);
    const probe = spawnSync('ffprobe', ['-v', 'error', '-select_streams', 'a', '-count_frames', '-show_entries', 'stream=nb_read_frames', '-of', 'csv=p=0', out], { encoding: 'utf8' });
    const frames = tl.audio ? tl.segments.reduce((n, s) => n + (s.audio ? s.audio.end - s.audio.first : 0), 0) : 0;
    t.equal(Number(probe.stdout.trim().split('\n')[0]), frames, 'every AAC frame decodes');
    t.equal(probe.stderr, '', 'without a complaint');
  });
}
