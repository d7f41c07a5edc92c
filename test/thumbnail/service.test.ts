// Where ffmpeg is missing, frame requests fall back to the default thumbnail (and sprites to it,
// repeated), rather than failing; concurrent requests for one picture share one rendering; the
// disk cache holds whole files only.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { loadConfig } from '../../src/config.js';
import { openCatalog } from '../../src/catalog/open.js';
import { thumbnailCacheDir } from '../../src/storage/paths.js';
import { getThumbnail } from '../../src/thumbnail/service.js';
import { parseThumbnailParams } from '../../src/thumbnail/params.js';
import { sqliteDb } from '../helpers/sqlite.js';
import { DeliveryError } from '../../src/errors.js';
import { FrameError, grabFrame } from '../../src/thumbnail/frames.js';
import { renderError } from '../../src/render/error.js';

const dir = mkdtempSync(join(tmpdir(), 'kdeliver-thumb-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const config = loadConfig({ KDELIVER_DATA_DIR: dir, KDELIVER_LOG_LEVEL: 'silent' });
const catalog = await openCatalog(config);
t.teardown(() => sqliteDb(catalog).close());
const ctx = { catalog, config, ffmpeg: join(dir, 'no-such-ffmpeg') };
const entry = (await catalog.getEntry('1_rcit0qgs'))!;
const req = (o: Record<string, string>) => parseThumbnailParams('309', new Map(Object.entries({ entry_id: '1_rcit0qgs', ...o })));

t.test('no ffmpeg: vid_sec gives the default thumbnail, vid_slices a sprite of it', async (t) => {
  const frame = await getThumbnail(ctx, entry, req({ vid_sec: '5', width: '320' }));
  t.equal(frame.source, 'default');
  t.match(await sharp(frame.data).metadata(), { width: 320, height: 180, format: 'jpeg' });
  const sprite = await getThumbnail(ctx, entry, req({ vid_slices: '5', width: '100' }));
  t.equal(sprite.source, 'repeated-sprite');
  t.match(await sharp(sprite.data).metadata(), { width: 500, height: 56 });
  // without a size, each slice fits inside 120 x 90 (the 640x360 thumbnail: 120x68)
  const small = await getThumbnail(ctx, entry, req({ vid_slices: '3' }));
  t.equal(small.source, 'repeated-sprite');
  t.match(await sharp(small.data).metadata(), { width: 360, height: 68 });
  const tall = await getThumbnail(ctx, entry, req({ vid_slices: '3', def_width: '40', def_height: '90' }));
  t.match(await sharp(tall.data).metadata(), { width: 120, height: 23 }, 'within def_width x def_height, keeping the ratio');
});

t.test('concurrent requests for one picture share one rendering, then the cache answers', async (t) => {
  const r = req({ width: '123' });
  const [a, b, c] = await Promise.all([getThumbnail(ctx, entry, r), getThumbnail(ctx, entry, r), getThumbnail(ctx, entry, r)]);
  t.equal(a, b, 'the very same result object');
  t.equal(b, c);
  const again = await getThumbnail(ctx, entry, r);
  t.equal(again.source, 'cache');
  t.ok(again.data.equals(a.data));
  t.equal(again.etag, a.etag);
});

t.test('a cache write that fails still answers, and leaves no temporary file', async (t) => {
  const r = req({ width: '77' });
  const first = await getThumbnail(ctx, entry, r);
  const folder = thumbnailCacheDir(config.dataDir, entry.partnerId, entry.id);
  const cached = join(folder, `${first.etag.slice(1, -1)}.jpg`);
  t.ok(existsSync(cached), 'the rendering was kept under its key');
  // a folder where the file belongs: the temporary file is written, the rename into place fails
  rmSync(cached);
  mkdirSync(join(cached, 'in-the-way'), { recursive: true });
  const [a, b] = await Promise.all([getThumbnail(ctx, entry, r), getThumbnail(ctx, entry, r)]);
  t.equal(a, b, 'concurrent requests still share one rendering');
  t.equal(a.source, 'default', 'rendered, not read from the cache');
  t.ok(a.data.equals(first.data), 'the same picture');
  t.same(readdirSync(folder).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
  t.ok(statSync(cached).isDirectory(), 'nothing was written over what was in the way');

  rmSync(cached, { recursive: true });
  t.equal((await getThumbnail(ctx, entry, r)).source, 'default');
  const again = await getThumbnail(ctx, entry, r);
  t.equal(again.source, 'cache', 'kept once the way is clear');
  t.ok(again.data.equals(first.data));
});

t.test('a grab whose time ran out is a 503 no cache keeps; ffmpeg crashing or refusing the video, a 404', async (t) => {
  const slow = join(dir, 'slow-ffmpeg');
  writeFileSync(slow, '#!/bin/sh\nexec sleep 5\n', { mode: 0o755 });
  const crashing = join(dir, 'crashing-ffmpeg');
  writeFileSync(crashing, '#!/bin/sh\nkill -SEGV $$\n', { mode: 0o755 });
  const failing = join(dir, 'failing-ffmpeg');
  writeFileSync(failing, '#!/bin/sh\necho "Invalid data found when processing input" >&2\nexit 1\n', { mode: 0o755 });
  // the time limit, at the grab (the service's is 30 s)
  const late = await grabFrame(slow, 'x.mp4', 1, 200).then(() => null, (e: FrameError) => e);
  t.equal(late?.stopped, true, 'killed at its time limit: stopped');
  const crashed = await grabFrame(crashing, 'x.mp4', 1, 5000).then(() => null, (e: FrameError) => e);
  t.equal(crashed?.stopped, false, 'a crash of its own: not stopped (it would crash again)');
  t.equal(renderError(new DeliveryError('FILE_NOT_FOUND', ', the frame could not be taken in time; try again', { httpStatus: 503 }), 'GET', 0).headers['Cache-Control'], 'no-store', 'a 503 is kept nowhere');
  for (const [what, ffmpeg] of [['crashing', crashing], ['refusing', failing]] as const) {
    const bad = await getThumbnail({ ...ctx, ffmpeg }, entry, req({ vid_sec: '7', width: '90' })).then(() => null, (e: DeliveryError) => e);
    t.equal(bad?.httpStatus, 404, `${what}: 404`);
    t.match(bad?.message, /no frame could be taken from the video/);
  }
});
