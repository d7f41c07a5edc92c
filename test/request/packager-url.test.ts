// The packager URL grammar: Kaltura's character-level multi-URL, file names, path pairs.
import t from 'tap';
import { expandUrlset, parseFileName, parsePackagerPath, parseTracks } from '../../src/request/packager-url.js';
import { errorWith } from '../helpers/errors.js';

t.test('urlset expansion cuts at characters, not path segments', async (t) => {
  t.same(expandUrlset('/p/1/flavorId/0_,aa,bb,/forceproxy/true/name/a.mp4'), ['/p/1/flavorId/0_aa/forceproxy/true/name/a.mp4', '/p/1/flavorId/0_bb/forceproxy/true/name/a.mp4']);
  // flavor ids that differ in the middle: the common suffix starts inside the id
  t.same(expandUrlset('/flavorId/1_,f1,f2,a1,alt000/name/a.mp4'), ['/flavorId/1_f1alt000/name/a.mp4', '/flavorId/1_f2alt000/name/a.mp4', '/flavorId/1_a1alt000/name/a.mp4']);
  // middles may span path segments
  t.same(expandUrlset('/v/,1/flavorId/x,2/flavorId/y,/name/a.mp4'), ['/v/1/flavorId/x/name/a.mp4', '/v/2/flavorId/y/name/a.mp4']);
  t.same(expandUrlset('/no/commas'), ['/no/commas']);
  t.throws(() => expandUrlset('/a,b'), errorWith({ httpStatus: 400 }));
});

t.test('full paths: container prefix, urlset, signature pairs after the urlset, files', async (t) => {
  const r = parsePackagerPath('hls', '/container/fmp4/p/309/sp/30900/serveFlavor/entryId/1_e/clipTo/5000/v/1/flavorId/1_f,1,2,rcit00/name/a.mp4.urlset/exp/99/sig/abc/master.m3u8');
  t.equal(r.container, 'fmp4');
  t.equal(r.partnerId, 309);
  t.same(r.urls.map((u) => u.pairs.get('flavorId')), ['1_f1rcit00', '1_f2rcit00']);
  t.same(r.urls.map((u) => u.pairs.get('sig')), ['abc', 'abc']);
  t.equal(r.urls[0].pairs.get('clipTo'), '5000');
  t.same(r.file, { type: 'master' });
  const d = parsePackagerPath('dash', '/p/309/serveFlavor/entryId/1_e/v/1/flavorId/1_x/forceproxy/true/name/a.mp4/fragment-3-f2-v1-x3.m4s');
  t.same(d.file, { type: 'fragment', n: 3, f: 2, video: true, audio: false });
  const m = parsePackagerPath('mss', '/p/309/sp/30900/serveFlavor/entryId/1_e/v/1/flavorId/1_x/name/a.mp4/QualityLevels(243159)/Fragments(video=40000000)');
  t.same(m.file, { type: 'mssFragment', bitrate: 243159, kind: 'video', time: 40000000 });
  t.throws(() => parsePackagerPath('hls', '/p/309/sp/30900/serveFlavor/entryId/1_e/flavorId/1_x/name/a.mp4/manifest.mpd'), errorWith({ httpStatus: 404 }));
  t.throws(() => parsePackagerPath('dash', '/container/mpegts/p/309/serveFlavor/entryId/1_e/name/a.mp4/manifest.mpd'), errorWith({ httpStatus: 400 }));
  t.throws(() => parsePackagerPath('hls', '/p/abc/serveFlavor/entryId/1_e/name/a.mp4/index.m3u8'), errorWith({ httpStatus: 404 }));
});

t.test('file names of the reference packager', async (t) => {
  t.same(parseFileName('hls', 'index.m3u8'), { type: 'index', f: null, video: null, audio: null });
  t.same(parseFileName('hls', 'index-f2-a1.m3u8'), { type: 'index', f: 2, video: false, audio: true });
  t.same(parseFileName('hls', 'seg-12-v1-a1.ts'), { type: 'segment', n: 12, f: null, video: true, audio: true, ext: 'ts' });
  t.same(parseFileName('hls', 'init-2-f1-v1.mp4'), { type: 'init', clip: 2, f: 1, video: true, audio: false });
  t.same(parseFileName('dash', 'init-f1-a1.mp4'), { type: 'init', clip: 1, f: 1, video: false, audio: true });
  t.equal(parseFileName('dash', 'master.m3u8'), null);
  t.equal(parseFileName('hls', 'seg-1-v1-a1.mp4'), null);
  t.same(parseTracks('v1-a1'), { video: true, audio: true });
  t.same(parseTracks('a1'), { video: false, audio: true });
  t.throws(() => parseTracks('x'), errorWith({ httpStatus: 400 }));
});

t.test('a track number other than 1 names a track kdeliver does not package: 404, not track 1', async (t) => {
  // kdeliver packages a flavor's first video and first audio track, named -v1 and -a1
  for (const name of ['seg-1-v2-a1.ts', 'seg-1-v1-a3.ts', 'index-v0.m3u8', 'init-f1-a2.mp4', 'iframes-v9.m3u8']) {
    t.throws(() => parseFileName('hls', name), { httpStatus: 404, message: /first video and first audio track/ }, name);
  }
  t.throws(() => parseFileName('dash', 'fragment-1-f2-v2.m4s'), errorWith({ httpStatus: 404 }), 'fragment-1-f2-v2.m4s');
  t.throws(() => parseTracks('v2'), errorWith({ httpStatus: 404 }), 'tracks/v2');
  t.throws(() => parseTracks('v1-a2'), errorWith({ httpStatus: 404 }), 'tracks/v1-a2');
  t.same(parseFileName('hls', 'seg-1-f2-v1-a1.ts'), { type: 'segment', n: 1, f: 2, video: true, audio: true, ext: 'ts' }, 'v1 and a1 as before');
});

t.test('a parsed path is kept and shared; a refused one is refused every time', async (t) => {
  const path = '/p/309/sp/30900/serveFlavor/entryId/1_kept0001/v/1/flavorId/1_f1kept00/name/a.mp4/seg-3-v1-a1.ts';
  const a = parsePackagerPath('hls', path);
  t.equal(parsePackagerPath('hls', path), a, 'the same path: the same parsed request');
  t.not(parsePackagerPath('dash', path.replace('seg-3-v1-a1.ts', 'fragment-3-v1.m4s')), a);
  t.equal(parsePackagerPath('hls', path.replace('seg-3', 'seg-4')).file.type, 'segment');
  t.equal((parsePackagerPath('hls', path.replace('seg-3', 'seg-4')).file as { n: number }).n, 4, 'another path parses on its own');
  for (let i = 0; i < 2; i++) t.throws(() => parsePackagerPath('hls', path.replace('seg-3-v1-a1.ts', 'nothing.bin')), /unknown hls file name/);
  // a trailing slash leaves the file name empty: said as such, with the names there are
  t.throws(() => parsePackagerPath('hls', path.replace('seg-3-v1-a1.ts', 'index.m3u8/')), { httpStatus: 404, message: /ends with "\/".*index\.m3u8/ });
  t.throws(() => parsePackagerPath('dash', path.replace('seg-3-v1-a1.ts', 'manifest.mpd/')), { httpStatus: 404, message: /ends with "\/".*manifest\.mpd/ });
});
