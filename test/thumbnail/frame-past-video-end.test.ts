// An entry's duration is its longest track's, so a file whose audio runs on after its pictures
// (a screen recording stopped late, a music bed under a short clip) has seconds with no frame.
// The default thumbnail is grabbed at min(3 s, half the duration), and a vid_sec may be asked
// anywhere up to the end: ffmpeg then gives no frame, and the entry answered 404 "the entry has
// no thumbnail" (or "no frame could be taken") though its video is fine. Now the first frame is
// taken instead, as Kaltura's capture does for a clip too short for the second asked.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requireCommands } from '../helpers/system.js';
import { startServer } from '../helpers/server.js';
import { importLibrary } from '../../src/catalog/library.js';
import { grabFrame } from '../../src/thumbnail/frames.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-past-end-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

// 2 s of pictures, 8 s of sound
const file = join(dir, 'audio-longer.mp4');
const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25:duration=2', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000:duration=8',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-c:a', 'aac', file], { encoding: 'utf8' });
if (r.status !== 0) throw new Error(r.stderr);

t.test('a second past the last frame gives the first frame', async (t) => {
  const first = await grabFrame('ffmpeg', file, 0);
  t.same(await grabFrame('ffmpeg', file, 5), first, 'at 5 s: the frame at 0');
  t.notSame(await grabFrame('ffmpeg', file, 1), first, 'at 1 s: its own frame');
});

t.test('the default thumbnail and a late vid_sec answer a picture', async (t) => {
  const s = await startServer(t);
  await importLibrary(s.app.catalog, {
    version: 1,
    entries: [{ id: '1_audiolng', partnerId: 309, name: 'audio longer', flavors: [{ id: '1_audiolf1', flavorParamsId: 301951, file: 'audio-longer.mp4' }] }],
  }, dir, s.config.mediaRoot);
  t.equal((await s.app.catalog.getEntry('1_audiolng'))?.duration, 8, 'the entry lasts as its audio does');
  const base = `${s.url}/p/309/sp/30900/thumbnail/entry_id/1_audiolng`;
  for (const path of ['', '/width/160', '/vid_sec/5', '/vid_sec/7/width/0/height/0']) {
    const res = await fetch(base + path);
    t.equal(res.status, 200, `${path || '(default)'}${res.status === 200 ? '' : `: ${await res.text()}`}`);
    t.equal(res.headers.get('content-type'), 'image/jpeg');
  }
});
