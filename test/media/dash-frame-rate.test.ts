// The MPD's frameRate is a FrameRateType (ISO/IEC 23009-1 5.3.12.2): a whole number or a fraction.
// The catalog keeps a probed frame rate to 3 decimals (src/ingest/probe.ts), and the MPD wrote it
// as it was, frameRate="29.97": schema validators refuse it, and ExoPlayer's parser (digits, an
// optional "/" and digits) leaves such a track without a frame rate.
import t from 'tap';
import { parse as parseMpd } from 'mpd-parser';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, flatPolicy } from '../../src/media/segment.js';
import { buildMpd } from '../../src/media/dash/mpd.js';
import type { Rendition } from '../../src/media/presentation.js';
import { sample } from './helpers.js';

const tl = buildTimeline(await readMediaIndex(sample('h264-240p.mp4'), { maxMoovBytes: 64 << 20 }), flatPolicy(4000), undefined, { video: true, audio: false });
const FRAME_RATE_TYPE = /^[0-9]*[0-9](\/[0-9]*[0-9])?$/;

const cases: Array<[number, string]> = [
  [25, '25'], [30, '30'], [29.97, '30000/1001'], [23.976, '24000/1001'], [59.94, '60000/1001'], [14.985, '15000/1001'], [12.5, '25/2'],
];
for (const [fps, want] of cases) {
  t.test(`${fps} fps`, async (t) => {
    const r: Rendition = { f: 1, clips: [tl], hasVideo: true, hasAudio: false, width: 426, height: 240, frameRate: fps, language: '', label: '', isDefault: true };
    const mpd = buildMpd({ container: 'fmp4', captions: [], renditions: [r] });
    const got = /<Representation id="f1-v1"[^>]* frameRate="([^"]+)"/.exec(mpd)?.[1];
    t.equal(got, want);
    t.match(got, FRAME_RATE_TYPE, 'a FrameRateType');
    const [n, d = '1'] = (got ?? '').split('/');
    t.ok(Math.abs(Number(n) / Number(d) - fps) < 0.001, 'the same rate');
    t.ok(parseMpd(mpd, { manifestUri: 'http://x/manifest.mpd' }).playlists?.length, 'mpd-parser reads the MPD');
  });
}
