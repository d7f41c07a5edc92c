// The HLS master, read back with m3u8-parser and checked line by line.
import t from 'tap';
import { Parser } from 'm3u8-parser';
import { bandwidth, renderM3u8, sortForMaster } from '../../src/render/m3u8.js';
import { renderPlayback } from '../../src/render/index.js';
import type { FlavorInfo } from '../../src/render/types.js';
import { sampleCatalog } from '../selection/fixtures/sample-catalog.js';
import { BASE_URL, NOW, buildPlayback, profile } from './fixtures/playback.js';

const catalog = await sampleCatalog(t);

interface Manifest {
  playlists: { uri: string; attributes: Record<string, any> }[];
  mediaGroups: Record<string, Record<string, Record<string, { default: boolean; autoselect: boolean; language?: string; uri: string; forced?: boolean }>>>;
}
const parse = (body: string): Manifest => {
  const p = new Parser();
  p.push(body);
  p.end();
  return p.manifest as unknown as Manifest;
};
const hls = async (entryId: string, path: string, query: Record<string, unknown> = {}) => renderPlayback(await buildPlayback(catalog, entryId, { path, query }), NOW);
const index = (entryId: string, flavorId: string) =>
  `${BASE_URL}/hls/p/309/sp/30900/serveFlavor/entryId/${entryId}/v/1/flavorId/${flavorId}/name/a.mp4/index.m3u8`;
const info = (over: Partial<FlavorInfo>): FlavorInfo => ({
  url: 'http://h/x.m3u8', ext: 'mp4', bitrate: 500, width: 640, height: 360, frameRate: 25, codecs: 'avc1.64001e,mp4a.40.2',
  audioLanguage: null, audioLanguageName: null, audioLabel: null, audioCodec: null, defaultAudio: false, ...over,
});

t.test('BANDWIDTH = floor(kbps × 1024 × 188/184 + fps × 188 × 4)', async (t) => {
  const cases: [number, number, number][] = [
    [378, 25, 414286], [630, 25, 677944], [1335, 25, 1415558], [128, 0, 133921], [96, 0, 100441], [64, 0, 66960],
    [1000, 29.97, 1068798], [500, 23.976, 541160],
  ];
  for (const [bitrate, frameRate, want] of cases) t.equal(bandwidth(info({ bitrate, frameRate })), want, `${bitrate} kbit/s, ${frameRate} fps`);
});

t.test('the sample video: three variants in ascending bitrate, exact lines', async (t) => {
  const r = await hls('1_rcit0qgs', '/format/applehttp/protocol/http/a.m3u8');
  t.equal(r.status, 200);
  t.equal(r.headers['Content-Type'], 'application/x-mpegurl');
  t.equal(r.body, [
    '#EXTM3U',
    '#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=414286,RESOLUTION=426x240,FRAME-RATE=25.000,CODECS="avc1.640015,mp4a.40.2"',
    index('1_rcit0qgs', '1_f1rcit00'),
    '#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=677944,RESOLUTION=640x360,FRAME-RATE=25.000,CODECS="avc1.64001e,mp4a.40.2"',
    index('1_rcit0qgs', '1_f2rcit00'),
    '#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=1415558,RESOLUTION=1280x720,FRAME-RATE=25.000,CODECS="avc1.64001f,mp4a.40.2"',
    index('1_rcit0qgs', '1_f3rcit00'),
    '',
  ].join('\n'));
  const m = parse(r.body);
  t.same(m.playlists.map((p) => p.uri), ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00'].map((f) => index('1_rcit0qgs', f)));
  t.same(m.playlists.map((p) => p.attributes.BANDWIDTH), [414286, 677944, 1415558]);
  t.same(m.playlists.map((p) => p.attributes.RESOLUTION), [{ width: 426, height: 240 }, { width: 640, height: 360 }, { width: 1280, height: 720 }]);
  t.same(m.playlists.map((p) => p.attributes['FRAME-RATE']), [25, 25, 25]);
  t.same(m.playlists.map((p) => p.attributes.AUDIO), [undefined, undefined, undefined], 'no AUDIO group without audio renditions');
  t.same(Object.keys(m.mediaGroups.AUDIO), []);
});

t.test('the documentation example: flavorParamId/301971 gives exactly that variant', async (t) => {
  const m = parse((await hls('1_rcit0qgs', '/format/applehttp/protocol/http/flavorParamId/301971/video.mp4')).body);
  t.equal(m.playlists.length, 1);
  t.equal(m.playlists[0].uri, index('1_rcit0qgs', '1_f3rcit00'));
  t.same(m.playlists[0].attributes.RESOLUTION, { width: 1280, height: 720 });
});

t.test('protocol https gives https URLs', async (t) => {
  const m = parse((await hls('1_rcit0qgs', '/format/applehttp/protocol/https/a.m3u8')).body);
  t.equal(m.playlists[0].uri, index('1_rcit0qgs', '1_f1rcit00').replace('http://', 'https://'));
});

t.test('alternate audio and WebVTT subtitles: AUDIO and SUBTITLES groups', async (t) => {
  const r = await hls('1_alt0audi', '/format/applehttp/protocol/http/a.m3u8');
  // subtitle playlists sit beside the first variant's playlist on the packager, numbered among the READY captions
  const sub = (id: string) => index('1_alt0audi', '1_f1alt000').replace(/index\.m3u8$/, `subtitles-${id === '1_c1alt000' ? 1 : 2}.m3u8`);
  t.equal(r.body, [
    '#EXTM3U',
    `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",DEFAULT=YES,AUTOSELECT=YES,FORCED=NO,LANGUAGE="en",URI="${sub('1_c1alt000')}"`,
    `#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="Español",DEFAULT=NO,AUTOSELECT=YES,FORCED=NO,LANGUAGE="es",URI="${sub('1_c2alt000')}"`,
    `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="en",NAME="English",AUTOSELECT=YES,DEFAULT=YES,URI="${index('1_alt0audi', '1_a1alt000')}"`,
    `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="es",NAME="Español",AUTOSELECT=NO,DEFAULT=NO,URI="${index('1_alt0audi', '1_a2alt000')}"`,
    '',
    '#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=414286,RESOLUTION=426x240,FRAME-RATE=25.000,CODECS="avc1.640015,mp4a.40.2",AUDIO="audio",SUBTITLES="subs"',
    index('1_alt0audi', '1_f1alt000'),
    '#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=677944,RESOLUTION=640x360,FRAME-RATE=25.000,CODECS="avc1.64001e,mp4a.40.2",AUDIO="audio",SUBTITLES="subs"',
    index('1_alt0audi', '1_f2alt000'),
    '',
  ].join('\n'));
  const m = parse(r.body);
  t.same(m.mediaGroups.AUDIO.audio, {
    English: { default: true, autoselect: true, language: 'en', uri: index('1_alt0audi', '1_a1alt000') },
    Español: { default: false, autoselect: false, language: 'es', uri: index('1_alt0audi', '1_a2alt000') },
  });
  t.same(m.mediaGroups.SUBTITLES.subs, {
    English: { default: true, autoselect: true, language: 'en', uri: sub('1_c1alt000'), forced: false },
    Español: { default: false, autoselect: true, language: 'es', uri: sub('1_c2alt000'), forced: false },
  });
  t.same(m.playlists.map((p) => [p.attributes.AUDIO, p.attributes.SUBTITLES]), [['audio', 'subs'], ['audio', 'subs']]);
  t.equal(m.playlists.length, 2, 'audio renditions are not variants when video exists');
});

t.test('defaultAudioLang moves the matching audio first, with YES/YES', async (t) => {
  for (const lang of ['es', 'Spanish', 'Español', 'ES']) {
    const m = parse((await hls('1_alt0audi', `/format/applehttp/defaultAudioLang/${encodeURIComponent(lang)}/a.m3u8`)).body);
    const audio = m.mediaGroups.AUDIO.audio;
    t.same(Object.keys(audio), ['Español', 'English'], lang);
    t.equal(audio['Español'].default, true, lang);
    t.equal(audio.English.default, false, lang);
  }
  const none = parse((await hls('1_alt0audi', '/format/applehttp/defaultAudioLang/fr/a.m3u8')).body).mediaGroups.AUDIO.audio;
  t.same(Object.keys(none), ['English', 'Español'], 'no match: the asset defaults are not used either, order stays');
});

t.test('disableCaptions drops the SUBTITLES group', async (t) => {
  const r = await hls('1_alt0audi', '/format/applehttp/disableCaptions/1/a.m3u8');
  t.notMatch(r.body, /SUBTITLES/);
  const m = parse(r.body);
  t.same(Object.keys(m.mediaGroups.SUBTITLES), []);
  t.same(m.playlists.map((p) => p.attributes.AUDIO), ['audio', 'audio']);
});

t.test('off the built-in packager, subtitles are api_v3 serveWebVTT playlists carrying the KS', async (t) => {
  const pb = await buildPlayback(catalog, '1_alt0audi', { path: '/format/applehttp/a.m3u8', query: { ks: 'djJ8MzA5fABC' }, profile: profile(1, 'https://cdn.example.com/generic') });
  const m = parse(renderPlayback(pb, NOW).body);
  t.match(m.mediaGroups.SUBTITLES.subs.English.uri, /^http:\/\/cdn\.example\.com\/api_v3\/index\.php\/service\/caption_captionasset\/action\/serveWebVTT\/captionAssetId\/1_c1alt000\/segmentDuration\/12\/ks\/djJ8MzA5fABC\/version\/1\/a\.m3u8$/);
});

t.test('audio-only entry: one audio rendition, also emitted as the variant', async (t) => {
  const r = await hls('1_audio001', '/format/applehttp/protocol/http/a.m3u8');
  const url = index('1_audio001', '1_f1audio0');
  t.equal(r.body, [
    '#EXTM3U',
    `#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="und",NAME="Undefined",AUTOSELECT=YES,DEFAULT=YES,URI="${url}"`,
    '',
    '#EXT-X-STREAM-INF:PROGRAM-ID=1,BANDWIDTH=133921,CODECS="mp4a.40.2",AUDIO="audio"',
    url,
    '',
  ].join('\n'));
  const m = parse(r.body);
  t.equal(m.playlists.length, 1);
  t.equal(m.playlists[0].uri, url);
  t.equal(m.playlists[0].attributes.RESOLUTION, undefined);
  t.equal(m.playlists[0].attributes['FRAME-RATE'], undefined);
  t.same(m.mediaGroups.AUDIO.audio, { Undefined: { default: true, autoselect: true, language: 'und', uri: url } });
});

t.test('RESOLUTION, FRAME-RATE and CODECS rules', async (t) => {
  const line = (f: Partial<FlavorInfo>) => renderM3u8({ flavors: [info(f)], subtitles: [], preferredBitrate: null }).split('\n')[1];
  const cases: [string, Partial<FlavorInfo>, string][] = [
    ['fractional frame rate, 3 decimals', { frameRate: 29.97 }, 'PROGRAM-ID=1,BANDWIDTH=545667,RESOLUTION=640x360,FRAME-RATE=29.970,CODECS="avc1.64001e,mp4a.40.2"'],
    ['23.976', { frameRate: 23.976 }, 'PROGRAM-ID=1,BANDWIDTH=541160,RESOLUTION=640x360,FRAME-RATE=23.976,CODECS="avc1.64001e,mp4a.40.2"'],
    ['no frame rate', { frameRate: 0 }, 'PROGRAM-ID=1,BANDWIDTH=523130,RESOLUTION=640x360,CODECS="avc1.64001e,mp4a.40.2"'],
    ['width without height: no RESOLUTION', { height: 0 }, 'PROGRAM-ID=1,BANDWIDTH=541930,FRAME-RATE=25.000,CODECS="avc1.64001e,mp4a.40.2"'],
    ['no codecs, large: no CODECS', { codecs: '' }, 'PROGRAM-ID=1,BANDWIDTH=541930,RESOLUTION=640x360,FRAME-RATE=25.000'],
    ['no codecs, BANDWIDTH exactly 66960: the AAC guess', { codecs: '', bitrate: 64, frameRate: 0, width: 0, height: 0 }, 'PROGRAM-ID=1,BANDWIDTH=66960,CODECS="mp4a.40.2"'],
    ['no codecs, BANDWIDTH 68006: no guess', { codecs: '', bitrate: 65, frameRate: 0, width: 0, height: 0 }, 'PROGRAM-ID=1,BANDWIDTH=68006'],
  ];
  for (const [name, f, want] of cases) t.equal(line(f), `#EXT-X-STREAM-INF:${want}`, name);
});

t.test('variant order: ascending bitrate, audio-only variants last, preferred bitrate first', async (t) => {
  const v = (url: string, bitrate: number, w = 640, h = 360) => info({ url, bitrate, width: w, height: h });
  const order = (flavors: FlavorInfo[], pb: number | null) => sortForMaster(flavors, pb).map((f) => f.url);
  t.same(order([v('c', 900), v('a', 300), v('b', 500)], null), ['a', 'b', 'c']);
  t.same(order([v('aud', 96, 0, 0), v('a', 300), v('b', 500)], null), ['a', 'b', 'aud'], 'w=h=0 goes last');
  t.same(order([v('a', 300), v('b', 500), v('c', 900)], 600), ['b', 'a', 'c'], 'closest to 600 first');
  t.same(order([v('a', 300), v('b', 500), v('c', 900)], 5000), ['c', 'a', 'b']);
  t.same(order([v('a', 300), v('b', 500), v('c', 900)], 1), ['a', 'b', 'c']);
  t.same(order([v('aud', 96, 0, 0), v('a', 300)], 90), ['a', 'aud'], 'preferred bitrate picks among video only');
  t.same(order([v('x', 500), v('y', 500), v('z', 500)], null), ['x', 'y', 'z'], 'stable for equal bitrates');
  const a1 = info({ url: 'a1', width: 0, height: 0, bitrate: 96, audioLanguage: 'en', defaultAudio: false });
  const a2 = info({ url: 'a2', width: 0, height: 0, bitrate: 96, audioLanguage: 'es', defaultAudio: true });
  t.same(order([a1, a2, v('a', 300)], null), ['a', 'a2', 'a1'], 'the default audio first among audio');

  const m = parse((await hls('1_rcit0qgs', '/format/applehttp/preferredBitrate/600/a.m3u8')).body);
  t.same(m.playlists.map((p) => p.attributes.BANDWIDTH), [677944, 414286, 1415558], 'pb via the request');
  const mAlias = parse((await hls('1_rcit0qgs', '/format/applehttp/pb/2000/a.m3u8')).body);
  t.same(mAlias.playlists.map((p) => p.attributes.BANDWIDTH), [1415558, 414286, 677944]);
});

t.test('quotes and line breaks in labels cannot break the playlist', async (t) => {
  const body = renderM3u8({
    flavors: [info({ url: 'http://h/a.m3u8', width: 0, height: 0, audioLanguage: 'en', audioLabel: 'Bad "label"\r\n#EXT-X-ENDLIST' }), info({ url: 'http://h/v.m3u8' })],
    subtitles: [], preferredBitrate: null,
  });
  const lines = body.split('\n');
  t.equal(lines.filter((l) => l.startsWith('#EXT-X-ENDLIST')).length, 0);
  t.match(lines[1], /NAME="Bad label#EXT-X-ENDLIST"/);
  t.same(Object.keys(parse(body).mediaGroups.AUDIO.audio), ['Bad label#EXT-X-ENDLIST']);
});
