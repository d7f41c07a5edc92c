// The start-up warm-up (src/media/warm-up.ts): it runs the packager's playlist code on the shipped
// sample file, makes the same playlist the packager answers for that file, leaves no trace in
// the server's caches or metrics, and never fails a start.
import t from 'tap';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { warmUpMediaCode, warmUpsDone } from '../../src/media/warm-up.js';
import { shippedFile } from '../../src/shipped.js';
import { startServer } from '../helpers/server.js';
import { sample } from './helpers.js';

const SEG = { hlsSegmentMs: 10000, dashSegmentMs: 4000 };
// the file the server hands the warm-up (src/server.ts)
const WARM = { ...SEG, file: shippedFile('fixtures/media/h264-240p.mp4') };

t.test('it finds the shipped sample file and renders its TS and fMP4 playlists', async (t) => {
  t.equal(WARM.file, sample('h264-240p.mp4'));
  const made = await warmUpMediaCode(WARM);
  t.ok(made, 'ran');
  t.match(made![0], /^#EXTM3U\n[^]*seg-1-v1-a1\.ts\n[^]*#EXT-X-ENDLIST\n$/, 'a TS playlist');
  t.match(made![1], /^#EXTM3U\n[^]*#EXT-X-MAP:URI="init-v1-a1\.mp4"[^]*seg-1-v1-a1\.m4s\n[^]*#EXT-X-ENDLIST\n$/, 'an fMP4 playlist');
});

t.test('without its file, or with a file that is not an MP4, it does nothing and does not throw', async (t) => {
  t.equal(await warmUpMediaCode({ ...SEG, file: null }), null);
  t.equal(await warmUpMediaCode({ ...SEG, file: join(tmpdir(), 'kdeliver-no-such-file.mp4') }), null);
  t.equal(await warmUpMediaCode({ ...SEG, file: sample('captions-eng.vtt') }), null);
});

t.test('a started server: the warm-up left its caches and metrics empty, and its playlist is the packager\'s answer', async (t) => {
  const before = warmUpsDone();
  const { app, url } = await startServer(t);
  t.equal(warmUpsDone(), before + 1, 'the server ran the warm-up once as it got ready');
  t.same(app.indexCache.stats(), { bytes: 0, entries: 0, hits: 0, misses: 0 }, 'no index kept or counted');
  t.equal(app.handleCache.stats().opens, 0, 'no media handle opened');
  const metrics = await (await fetch(`${url}/metrics`)).text();
  t.notMatch(metrics, /h264-240p|warm/, 'nothing of it in /metrics');
  // sample entry 1_rcit0qgs's flavor 1_f1rcit00 is that file (fixtures/sample-library.json)
  const flavor = '/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f1rcit00/name/a.mp4';
  const made = (await warmUpMediaCode(WARM))!;
  for (const [k, path] of [`/hls${flavor}/index.m3u8`, `/hls/container/fmp4${flavor}/index.m3u8`].entries()) {
    const res = await fetch(url + path);
    t.equal(res.status, 200, path);
    t.equal(await res.text(), made[k], `${path}: the same text as the warm-up's`);
  }
});
