// KDELIVER_SEGMENT_CACHE_MB bounds the packager's segment answer cache (src/media/body.ts); 0
// turns it off, so that every segment is made from the file (bench/remote-media.mjs measures the
// media reads that way). The default keeps a segment asked twice.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { segmentCacheStats } from '../../src/media/body.js';
import { loadConfig } from '../../src/config.js';

const SEG = '/hls/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f2rcit00/name/a.mp4/seg-2-v1-a1.ts';

t.test('0: every segment is made, none kept', async (t) => {
  const srv = await startServer(t, { env: { KDELIVER_SEGMENT_CACHE_MB: '0' } });
  t.equal(segmentCacheStats().maxBytes, 0, 'the bound is 0');
  const before = segmentCacheStats().hits;
  for (let i = 0; i < 2; i++) {
    const r = await fetch(srv.url + SEG);
    t.equal(r.status, 200);
    await r.arrayBuffer();
  }
  t.equal(segmentCacheStats().hits, before, 'the second answer was made again, not kept');
  t.equal(segmentCacheStats().entries, 0, 'nothing kept');
});

t.test('the default, 64 MB: a segment asked twice is kept', async (t) => {
  const srv = await startServer(t);
  t.equal(segmentCacheStats().maxBytes, 64 * 1024 * 1024);
  const before = segmentCacheStats().hits;
  for (let i = 0; i < 2; i++) await (await fetch(srv.url + SEG)).arrayBuffer();
  t.equal(segmentCacheStats().hits, before + 1, 'the second answer came from the cache');
});

t.test('a bound that is not a number of megabytes is refused at start', async (t) => {
  t.throws(() => loadConfig({ KDELIVER_SEGMENT_CACHE_MB: 'lots' }), { message: /^KDELIVER_SEGMENT_CACHE_MB="lots": expected a whole number/ });
  t.throws(() => loadConfig({ KDELIVER_SEGMENT_CACHE_MB: '-1' }), { message: /^KDELIVER_SEGMENT_CACHE_MB="-1"/ });
});
