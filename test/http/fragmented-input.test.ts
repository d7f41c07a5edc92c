// A fragmented MP4 (ffmpeg's -movflags frag_keyframe, OBS's fragmented recordings) keeps its
// samples in moof boxes that the packager's reader does not walk. Its moov read as an empty file:
// the import recorded it with a duration of 0, and every HLS and DASH URL answered error 25
// "clipFrom 0 is past the end of the media (0 ms)", as if the URL were wrong. The reader now
// refuses it, and the packager answers error 5 saying what the file is and how to remux it; the
// file itself is still served as a file (progressive, raw), and its thumbnails are still made.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { importLibrary } from '../../src/catalog/library.js';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { MediaError } from '../../src/media/errors.js';
import { requireCommands } from '../helpers/system.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-fragmented-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function make(name: string, movflags: string): string {
  const out = join(dir, name);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', '-movflags', movflags, out], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stderr);
  return out;
}

const emptyMoov = make('empty-moov.mp4', 'frag_keyframe+empty_moov');
// without empty_moov, the moov holds the first fragment's samples and the rest follow in moofs
const firstInMoov = make('first-in-moov.mp4', 'frag_keyframe');

t.test('the reader refuses a fragmented MP4, saying so', async (t) => {
  for (const f of [emptyMoov, firstInMoov]) {
    const e = await readMediaIndex(f, { maxMoovBytes: 64 << 20 }).then(() => null, (x: unknown) => x);
    t.ok(e instanceof MediaError && e.kind === 'UNSUPPORTED' && /fragmented MP4/.test(e.message) && /-movflags \+faststart/.test(e.message), `${f}: ${String(e)}`);
  }
});

t.test('imported, its HLS and DASH URLs answer error 5 naming the cause; the file is still served', async (t) => {
  const s = await startServer(t);
  await importLibrary(s.app.catalog, {
    version: 1,
    entries: [{ id: '1_fragment', partnerId: 309, name: 'fragmented', flavors: [{ id: '1_fragfl01', flavorParamsId: 301951, file: 'empty-moov.mp4' }] }],
  }, dir, s.config.mediaRoot);
  const pm = `${s.url}/p/309/sp/0/playManifest/entryId/1_fragment`;
  const master = await (await fetch(`${pm}/format/applehttp/protocol/http/a.m3u8`)).text();
  const variant = master.split('\n').find((l) => l.startsWith('http'));
  t.ok(variant, 'the master lists the flavor');
  const dash = (await fetch(`${pm}/format/mpegdash/protocol/http/manifest.mpd`, { redirect: 'manual' })).headers.get('location');
  t.ok(dash, 'playManifest redirects to the MPD');
  for (const url of [variant!, variant!.replace('/hls/', '/hls/container/fmp4/'), dash!]) {
    const r = await fetch(url);
    const body = await r.text();
    t.equal(r.status, 404, url);
    t.equal(r.headers.get('x-kaltura'), 'error-5', 'error 5');
    t.match(body, /fragmented MP4.*ffmpeg -i in\.mp4 -c copy -movflags \+faststart/, 'the body says why and how to remux');
  }
  // the moov still says what the file holds: the flavor keeps its codecs and picture, and so its
  // thumbnails (taken by ffmpeg, which reads fragments) are still made
  const flavor = (await s.app.catalog.listFlavors('1_fragment'))[0];
  t.match({ codecs: flavor.codecs, width: flavor.width, height: flavor.height }, { codecs: /^avc1\.[0-9a-f]{6},mp4a\.40\.2$/, width: 160, height: 96 }, 'codecs and picture size recorded');
  for (const path of ['/width/80', '/vid_sec/1/width/80']) {
    const thumb = await fetch(`${s.url}/p/309/sp/30900/thumbnail/entry_id/1_fragment${path}`);
    t.equal(thumb.status, 200, `thumbnail ${path}`);
    t.equal(thumb.headers.get('content-type'), 'image/jpeg');
  }
  const file = await fetch(`${pm}/format/url/protocol/http/a.mp4`);
  t.equal(file.status, 200, 'progressive');
  t.same(Buffer.from(await file.arrayBuffer()), readFileSync(emptyMoov), 'the file as it is');
});
