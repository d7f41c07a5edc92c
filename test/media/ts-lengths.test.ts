// What an HLS master weighs without writing anything: tsSegmentLength (the packets of a clear
// MPEG-TS segment, counted without laying it out) and iframeRates (an I-frame stream's bit rates,
// each key frame's PES counted where it stands) must equal what the writer lays out, the
// Content-Length of every segment and the I-frame playlist's own ranges. Every sample file, muxed,
// video alone and audio alone, at two segment lengths, and a clip that starts between key frames.
import t from 'tap';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, hlsPolicy, type Timeline } from '../../src/media/segment.js';
import { tsSegment, tsSegmentLength } from '../../src/media/ts/writer.js';
import { iframeBandwidth, iframeRates, iframesOf } from '../../src/media/iframes.js';
import { projectRoot } from '../helpers/repo.js';

const FILES = ['h264-240p.mp4', 'h264-720p.mp4', 'source-720p.mp4', 'audio-128k.mp4', 'alt-audio-spa.mp4', 'mobile-144p.3gp'];
const BIG = { maxMoovBytes: 64 << 20 };

for (const file of FILES) {
  t.test(file, async (t) => {
    const index = await readMediaIndex(join(projectRoot, 'fixtures/media', file), BIG);
    const views: [string, Timeline][] = [];
    for (const ms of [2000, 6000]) {
      const tl = buildTimeline(index, hlsPolicy(ms));
      views.push([`${ms} ms`, tl]);
      if (tl.video && tl.audio) {
        views.push([`${ms} ms, video alone`, buildTimeline(index, hlsPolicy(ms), undefined, { video: true, audio: false })]);
        views.push([`${ms} ms, audio alone`, buildTimeline(index, hlsPolicy(ms), undefined, { video: false, audio: true })]);
      }
    }
    views.push(['a clip from 3.3 s', buildTimeline(index, hlsPolicy(2000), { fromMs: 3300, toMs: Infinity })]);
    for (const [name, tl] of views) {
      const counted = tl.segments.map((s) => tsSegmentLength(tl, s));
      const laidOut = tl.segments.map((_s, i) => tsSegment(tl, i).length);
      t.same(counted, laidOut, `${name}: every segment's length`);
      if (tl.video) {
        const frames = iframesOf(tl, 'ts');
        t.ok(frames.length > 0, `${name}: key frames`);
        t.same(iframeRates(tl, 'ts'), iframeBandwidth(frames), `${name}: the I-frame stream's rates`);
      }
    }
  });
}
