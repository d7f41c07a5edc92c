// The spare memory a server keeps for the next long file's moov (src/media/spare-memory.ts): a
// moov read into it gives the same index as one read into new memory; only a moov of at least
// the smallest size it is made for, and no bigger than it, takes it; the index that takes it
// counts all of it; the next spare is made a moment after, not beside the request that took it;
// it is kept while any holder holds it, and a
// started server holds it from before it listens until it closes.
// The spare here is small (the fixture moovs are about 10 KB), through the options tests have.
import t from 'tap';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, hlsPolicy } from '../../src/media/segment.js';
import { mediaPlaylist } from '../../src/media/hls/playlists.js';
import type { MediaIndex } from '../../src/media/mp4/index-types.js';
import type { Rendition } from '../../src/media/presentation.js';
import { holdSpareMemory, spareMemoryReady, spareMemoryStats, SPARE_BYTES } from '../../src/media/spare-memory.js';
import { startServer } from '../helpers/server.js';
import { sample } from './helpers.js';

const OPTS = { maxMoovBytes: 1 << 20 };
const SMALL = { bytes: 64 * 1024, minTakeBytes: 4 * 1024, nextAfterMs: 200 };

/** What a packager makes of an index: its TS playlist, and every sample's decoded values. */
function made(index: MediaIndex) {
  const tl = buildTimeline(index, hlsPolicy(4000));
  const r: Rendition = { f: 1, clips: [tl], hasVideo: !!tl.video, hasAudio: !!tl.audio, width: 0, height: 0, frameRate: 0, language: '', label: '', isDefault: true };
  return {
    playlist: mediaPlaylist(r, { container: 'ts', video: r.hasVideo, audio: r.hasAudio, f: null }),
    tables: index.tracks.map((tr) => ({ dts: [...tr.dts], cto: tr.cto ? [...tr.cto] : null, size: [...tr.size], offset: [...tr.offset] })),
  };
}

t.test('a moov read into the spare gives the index new memory gives, and counts the whole spare', async (t) => {
  const file = sample('h264-240p.mp4');
  const fresh = await readMediaIndex(file, OPTS);
  t.ok(fresh.moovSize > SMALL.minTakeBytes && fresh.moovSize < SMALL.bytes, 'the fixture moov is in the range that takes the spare');
  const release = holdSpareMemory(SMALL);
  t.teardown(release);
  t.same(spareMemoryStats(), { ready: true, taken: 0 }, 'the first spare is there at once');
  const spared = await readMediaIndex(file, OPTS);
  t.equal(spareMemoryStats().taken, 1, 'the moov took the spare');
  t.ok(spared.bytes >= SMALL.bytes, `the index counts the whole spare it holds (${spared.bytes} bytes)`);
  t.same(made(spared), made(fresh), 'same playlist, same decoded samples');
  // a spare this small is written in one step: made at once, it would be ready by now
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(spareMemoryStats().ready, false, 'the next spare is not made while the request that took it may still be answering');
  await spareMemoryReady();
  t.equal(spareMemoryStats().ready, true, 'the next spare was made in the background');
  // a second file straight after: it takes the new spare
  const other = await readMediaIndex(sample('h264-720p.mp4'), OPTS);
  t.equal(spareMemoryStats().taken, 2);
  t.same(made(other), made(await readMediaIndex(sample('h264-720p.mp4'), OPTS)));
});

t.test('a moov smaller than the smallest size, or bigger than the spare, leaves it', async (t) => {
  const release = holdSpareMemory({ bytes: 8 * 1024, minTakeBytes: 4 * 1024 });
  t.teardown(release);
  const before = spareMemoryStats().taken;
  await readMediaIndex(sample('audio-128k.mp4'), OPTS); // moov about 3 KB
  await readMediaIndex(sample('h264-240p.mp4'), OPTS); // moov about 10 KB
  t.same(spareMemoryStats(), { ready: true, taken: before }, 'neither took it');
});

t.test('kept while any holder holds it; dropped when the last lets go', async (t) => {
  const a = holdSpareMemory(SMALL);
  const b = holdSpareMemory(SMALL);
  a();
  a(); // a second release by the same holder counts once
  t.equal(spareMemoryStats().ready, true, 'b still holds it');
  b();
  t.equal(spareMemoryStats().ready, false, 'nobody holds it: dropped');
  const taken = spareMemoryStats().taken;
  await readMediaIndex(sample('h264-240p.mp4'), OPTS);
  t.same(spareMemoryStats(), { ready: false, taken }, 'a moov read without a holder uses new memory and makes no spare');
  await spareMemoryReady(); // resolves at once without a holder
});

t.test('a started server holds a full-size spare from before it listens until it closes', async (t) => {
  t.equal(spareMemoryStats().ready, false);
  const { app } = await startServer(t);
  t.equal(spareMemoryStats().ready, true, 'ready when the server is');
  t.ok(SPARE_BYTES >= 6.3e6 && SPARE_BYTES + 0.1e6 <= 8e6, 'room for the 2-hour file\'s moov, and an index holding it stays under 8 MB');
  await app.close();
  t.equal(spareMemoryStats().ready, false, 'dropped on close');
});
