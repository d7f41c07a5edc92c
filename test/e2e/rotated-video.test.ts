// A phone's portrait video is stored landscape with a turn in its track matrix. MPEG-TS has no place
// for the turn: HLS TS played such a video on its side in every browser, while fMP4 and DASH keep
// the matrix (test/media/rotation.test.ts). The import now reads the turn with the file's other
// facts (flavor_assets.rotation, migration 18), and playManifest's HLS takes an entry with a turned
// flavor as fMP4, as it does for codecs TS cannot carry (src/delivery/urls.ts whyFmp4). Checked
// with real players: hls.js and dash.js in Chromium show the picture taller than wide.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { importLibrary, readLibraryFile } from '../../src/catalog/library.js';
import { describeCatalog } from '../../src/catalog/export.js';
import { requireCommands } from '../helpers/system.js';
import { launchBrowser, playUntil, startPlayerPageServer, type PlayerKind } from '../helpers/browser.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-rotated-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const ffmpeg = (...args: string[]): void => {
  const r = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ffmpeg ${args.join(' ')}: ${r.stderr}`);
};
// 320 × 180 as stored; the phone's copy turned a quarter (ffmpeg's rotate=90: 270° clockwise)
ffmpeg('-f', 'lavfi', '-i', 'testsrc2=size=320x180:rate=25', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '12',
  '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-pix_fmt', 'yuv420p', '-c:a', 'aac', join(dir, 'upright.mp4'));
ffmpeg('-i', join(dir, 'upright.mp4'), '-c', 'copy', '-metadata:s:v:0', 'rotate=90', join(dir, 'phone.mp4'));

const writeLibrary = (name: string, lib: object): string => {
  const file = join(dir, name);
  writeFileSync(file, JSON.stringify({ version: 1, mediaDir: '.', ...lib }));
  return file;
};
const flavor = (id: string, file: string, over: object = {}) => ({ id, flavorParamsId: 301951, file, tags: 'web,mbr,applembr,dash', ...over });
const entry = (id: string, flavors: object[]) => ({ id, partnerId: 309, name: id, flavors });
const GIVEN = { codecs: 'avc1.64000d,mp4a.40.2', videoCodec: 'h264', audioCodec: 'aac', width: 180, height: 320, frameRate: 25, bitrate: 400, durationMs: 12000 };

t.test('a turned flavor: read at import, its HLS as fMP4, upright in hls.js and dash.js', async (t) => {
  const s = await startServer(t);
  const { library, mediaDir } = readLibraryFile(writeLibrary('lib.json', {
    entries: [
      entry('1_phone000', [flavor('1_phonefl0', 'phone.mp4')]),
      entry('1_upright0', [flavor('1_uprightf', 'upright.mp4')]),
      // every fact given, the turn too: the file is not read, the turn is the library's
      entry('1_phonegiv', [flavor('1_phonegvf', 'phone.mp4', { ...GIVEN, rotation: 270 })]),
      // every fact given but the turn: the file is not read, and nothing says it is turned
      entry('1_phonenot', [flavor('1_phonentf', 'phone.mp4', GIVEN)]),
      // a turn given that the file, read, contradicts: the file's is kept, and said
      entry('1_phonewrg', [flavor('1_phonewrf', 'phone.mp4', { rotation: 0 })]),
    ],
  }));
  const { warnings } = await importLibrary(s.app.catalog, library, mediaDir, s.config.mediaRoot);
  t.same(warnings, ['entries[4] (1_phonewrg) flavor 1_phonewrf (phone.mp4): rotation 0 given, but the file\'s track matrix turns its picture 270°: 270 kept'], 'one warning: the contradicted turn');
  const recorded = async (id: string) => {
    const [f] = await s.app.catalog.listFlavors(id);
    return { rotation: f.rotation, size: `${f.width}x${f.height}` };
  };
  t.same(await recorded('1_phone000'), { rotation: 270, size: '180x320' }, 'the phone\'s: turned 270° clockwise, shown 180 × 320');
  t.same(await recorded('1_upright0'), { rotation: 0, size: '320x180' }, 'the upright one: no turn');
  t.same(await recorded('1_phonegiv'), { rotation: 270, size: '180x320' }, 'given in the library');
  t.same(await recorded('1_phonenot'), { rotation: 0, size: '180x320' }, 'not given, file not read: none');
  t.same(await recorded('1_phonewrg'), { rotation: 270, size: '180x320' }, 'the file\'s turn over a wrong one given');

  const pm = (id: string, format: string, file: string) => `${s.url}/p/309/sp/30900/playManifest/entryId/${id}/format/${format}/protocol/http/${file}`;
  const master = async (id: string) => {
    const r = await fetch(pm(id, 'applehttp', 'a.m3u8'));
    t.equal(r.status, 200, `${id}: master`);
    return r.text();
  };
  const phone = await master('1_phone000');
  t.match(phone, /RESOLUTION=180x320/, 'the phone\'s master gives the picture as shown');
  t.match(phone, /\n\S+\/hls\/container\/fmp4\/\S+\/index\.m3u8/, 'and points at fMP4 playlists');
  t.match(await master('1_phonegiv'), /\/hls\/container\/fmp4\//, 'a turn the library gives: fMP4 too');
  const upright = await master('1_upright0');
  t.match(upright, /RESOLUTION=320x180/);
  t.notMatch(upright, /container\/fmp4/, 'the upright entry stays MPEG-TS');

  // the packager master delivery profile 1006 redirects to: the same choice, the picture as shown
  const p1006 = await fetch(`${s.url}/p/309/sp/30900/playManifest/entryId/1_phone000/format/applehttp/protocol/http/deliveryProfileId/1006/a.m3u8`, { redirect: 'manual' });
  const packagerMaster = p1006.headers.get('location') ?? '';
  t.match(packagerMaster, /\/hls\/container\/fmp4\//, 'delivery profile 1006: the fMP4 packager master');
  const written = await (await fetch(packagerMaster)).text();
  t.match(written, /#EXT-X-STREAM-INF:[^\n]*RESOLUTION=180x320/, 'the packager\'s master: RESOLUTION as shown');
  t.notMatch(written, /RESOLUTION=320x180/, 'nowhere as stored (its I-frame line neither)');
  const mpdUrl = (await fetch(pm('1_phone000', 'mpegdash', 'a.mpd'), { redirect: 'manual' })).headers.get('location') ?? '';
  const mpd = await (await fetch(mpdUrl)).text();
  t.match(mpd, /<Representation [^>]*width="180" height="320"/, 'the MPD: @width and @height as shown');
  t.match(mpd, /maxWidth="180" maxHeight="320"/, 'and the adaptation set\'s bounds');

  // a sequence: an upright main entry followed by the phone's plays as fMP4 too
  const sequence = await (await fetch(`${s.url}/p/309/sp/30900/playManifest/entryId/1_upright0/format/applehttp/protocol/http/sequence/1_upright0,1_phone000/a.m3u8`)).text();
  t.match(sequence, /\/hls\/container\/fmp4\/\S+\/sequence\/1_upright0,1_phone000\//, 'a sequence with a turned entry: fMP4');
  const uprightSequence = await (await fetch(`${s.url}/p/309/sp/30900/playManifest/entryId/1_upright0/format/applehttp/protocol/http/sequence/1_upright0,1_upright0/a.m3u8`)).text();
  t.match(uprightSequence, /\/sequence\/1_upright0,1_upright0\//);
  t.notMatch(uprightSequence, /container\/fmp4/, 'one of upright entries: MPEG-TS');
  // its MPD: each period's bounds are its own entry's picture
  const seqMpdUrl = (await fetch(`${s.url}/p/309/sp/30900/playManifest/entryId/1_upright0/format/mpegdash/protocol/http/sequence/1_upright0,1_phone000/a.mpd`, { redirect: 'manual' })).headers.get('location') ?? '';
  const periods = (await (await fetch(seqMpdUrl)).text()).split('<Period ').slice(1);
  t.equal(periods.length, 2, 'a period per entry');
  t.match(periods[0], /contentType="video"[^>]*maxWidth="320" maxHeight="180"[\s\S]*width="320" height="180"/, 'the upright entry\'s period');
  t.match(periods[1], /contentType="video"[^>]*maxWidth="180" maxHeight="320"[\s\S]*width="180" height="320"/, 'the phone\'s period: its own bounds');

  // the console's "Why?" says why
  const login = await fetch(`${s.url}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partnerId: 309, secret: 'sample-admin-secret-309' }) });
  const { ks } = await login.json() as { ks: string };
  const why = async (url: string) => {
    const r = await fetch(`${s.url}/console/api/trace`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-kaltura-ks': ks }, body: JSON.stringify({ url }) });
    return JSON.stringify((await r.json() as { trace: unknown }).trace);
  };
  t.match(await why('/p/309/sp/30900/playManifest/entryId/1_phone000/format/applehttp/protocol/http/a.m3u8'),
    /HLS as fMP4 \(\/container\/fmp4\/\): flavor 1_phonefl0 plays, and its picture is turned 270° clockwise, which MPEG-TS cannot carry/, 'the trace names the turned flavor');
  t.match(await why('/p/309/sp/30900/playManifest/entryId/1_upright0/format/applehttp/protocol/http/sequence/1_upright0,1_phone000/a.m3u8'),
    /flavor 1_phonefl0 of entry 1_phone000 plays, and its picture is turned 270° clockwise/, 'in a sequence, with its entry');
  t.notMatch(await why('/p/309/sp/30900/playManifest/entryId/1_upright0/format/applehttp/protocol/http/a.m3u8'), /HLS as fMP4/, 'none for an upright entry');

  const browser = await launchBrowser(t);
  const page = await startPlayerPageServer(t);
  const cases: [string, PlayerKind, string, [number, number]][] = [
    ['hls.js, the phone\'s', 'hls', pm('1_phone000', 'applehttp', 'a.m3u8'), [180, 320]],
    ['dash.js, the phone\'s', 'dash', pm('1_phone000', 'mpegdash', 'a.mpd'), [180, 320]],
    ['hls.js, the upright one', 'hls', pm('1_upright0', 'applehttp', 'a.m3u8'), [320, 180]],
  ];
  for (const [what, kind, src, size] of cases) {
    const r = await playUntil(browser, page.url, kind, src, { untilSec: 3 });
    const diag = { events: r.events, console: r.console, failedRequests: r.failedRequests };
    t.same(r.errors, [], `${what}: no error`, diag);
    t.ok(r.reached, `${what}: played to ${r.currentTime.toFixed(2)} s`, diag);
    t.same(r.videoSize, size, `${what}: shown ${size.join(' × ')}`);
  }

  // an export gives the turn, so that importing it (every fact given: the file not read) keeps it
  const exported = await describeCatalog(s.app.catalog, s.config.mediaRoot);
  const flavorOf = (id: string) => exported.library.entries!.find((e) => e.id === id)!.flavors![0];
  t.equal(flavorOf('1_phone000').rotation, 270, 'exported with its turn');
  t.notOk('rotation' in flavorOf('1_upright0'), 'an upright flavor: no field');
});

t.test('a library\'s rotation other than a quarter turn is refused, naming the place', async (t) => {
  for (const bad of [45, -90, 360, '90']) {
    const file = writeLibrary('bad.json', { entries: [entry('1_phonebad', [flavor('1_phonebdf', 'phone.mp4', { rotation: bad })])] });
    t.throws(() => readLibraryFile(file), { message: /entries\[0\]\.flavors\[0\]: rotation must be (0, 90, 180 or 270|a whole number)/ }, `rotation ${JSON.stringify(bad)}`);
  }
});
