// The common output pipeline and the non-XML renderers:
// renderer choice, redirects, JSON/JSONP, RTSP, CORS and caching headers, placeholders.
import t from 'tap';
import { DeliveryError } from '../../src/errors.js';
import { flavorInfos, renderPlayback } from '../../src/render/index.js';
import { languageCode, languageName } from '../../src/catalog/languages.js';
import { sampleCatalog } from '../selection/fixtures/sample-catalog.js';
import { BASE_URL, NOW, buildPlayback, profile, type BuildOptions } from './fixtures/playback.js';

const catalog = await sampleCatalog(t);
const render = async (entryId: string, path: string, o: Partial<BuildOptions> = {}) =>
  renderPlayback(await buildPlayback(catalog, entryId, { path, ...o }), NOW);
const serve = (entryId: string, flavorId: string, ext = 'mp4') =>
  `${BASE_URL}/p/309/sp/30900/serveFlavor/entryId/${entryId}/v/1/flavorId/${flavorId}/forceproxy/true/name/a.${ext}`;
const urlset = (kind: string, middle: string, tail: string) =>
  `${BASE_URL}/${kind}/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f,${middle},rcit00/${tail}`;
const CACHED = {
  'Cache-Control': 'private, max-age=60, max-stale=0',
  Expires: 'Tue, 14 Nov 2023 22:14:20 GMT',
  'Last-Modified': 'Tue, 14 Nov 2023 22:13:20 GMT',
};
const UNCACHED = {
  Expires: 'Sun, 19 Nov 2000 08:52:00 GMT',
  'Cache-Control': 'no-store, no-cache, must-revalidate, post-check=0, pre-check=0',
  Pragma: 'no-cache',
};

t.test('format url: 302 to the lowest mbr flavor, body "\\n"', async (t) => {
  const r = await render('1_rcit0qgs', '/format/url/protocol/http/a.mp4');
  t.equal(r.status, 302);
  t.equal(r.headers.Location, serve('1_rcit0qgs', '1_f1rcit00'));
  t.equal(r.body, '\n');
  t.equal(r.headers['Access-Control-Allow-Origin'], '*');
});

t.test('the documentation example: format url, flavorParamId 301971 → the 720p file', async (t) => {
  const r = await render('1_rcit0qgs', '/format/url/flavorParamId/301971/video.mp4');
  t.equal(r.status, 302);
  t.equal(r.headers.Location, serve('1_rcit0qgs', '1_f3rcit00'));
});

t.test('no format means url; protocol https changes the scheme; the 3gp keeps its extension', async (t) => {
  t.equal((await render('1_rcit0qgs', '')).headers.Location, serve('1_rcit0qgs', '1_f1rcit00'));
  t.equal((await render('1_rcit0qgs', '/protocol/https')).headers.Location, serve('1_rcit0qgs', '1_f1rcit00').replace('http:', 'https:'));
  t.equal((await render('1_rcit0qgs', '/flavorId/1_f4rcit00')).headers.Location, serve('1_rcit0qgs', '1_f4rcit00', '3gp'));
});

t.test('format download: 302 with /fileName/ before forceproxy', async (t) => {
  const r = await render('1_rcit0qgs', '/format/download/flavorParamId/301971');
  t.equal(r.status, 302);
  t.equal(r.headers.Location, `${BASE_URL}/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f3rcit00/fileName/Sample%20video.mp4/forceproxy/true/name/a.mp4`);
});

t.test('clipTo and seekFrom on a progressive URL', async (t) => {
  const r = await render('1_rcit0qgs', '/format/url/clipTo/5000');
  t.equal(r.headers.Location, `${BASE_URL}/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/clipTo/5000/v/1/flavorId/1_f1rcit00/name/a.mp4`, 'clipTo after entryId, no forceproxy');
});

t.test('redirect: spaces in the target become %20', async (t) => {
  const r = await render('1_rcit0qgs', '/format/url', { profile: profile(14, 'http://cdn.example.com/my path') });
  t.equal(r.headers.Location, 'http://cdn.example.com/my%20path/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f1rcit00/forceproxy/true/name/a.mp4');
});

t.test('packager redirect profiles: DASH, MSS and HLS-manifest answer 302 to the .urlset manifest', async (t) => {
  const dash = await render('1_rcit0qgs', '/format/mpegdash/protocol/http/manifest.mpd');
  t.equal(dash.status, 302);
  t.equal(dash.headers.Location, urlset('dash', '1,2,3', 'forceproxy/true/name/a.mp4.urlset/manifest.mpd'));
  t.equal(dash.body, '\n');
  const mss = await render('1_rcit0qgs', '/format/sl/a.ism');
  t.equal(mss.status, 302);
  t.equal(mss.headers.Location, urlset('mss', '1,2,3', 'forceproxy/true/name/a.mp4.urlset/manifest'));
  const hlsm = await render('1_rcit0qgs', '/format/applehttp/a.m3u8', { profileId: 1006 });
  t.equal(hlsm.status, 302);
  t.equal(hlsm.headers.Location, urlset('hls', '1,2,3', 'name/a.mp4.urlset/master.m3u8'));
  const alt = await render('1_alt0audi', '/format/mpegdash/manifest.mpd');
  t.equal(alt.headers.Location, `${BASE_URL}/dash/p/309/sp/30900/serveFlavor/entryId/1_alt0audi/v/1/flavorId/1_,f1,f2,a1,a2,alt000/forceproxy/true/name/a.mp4.urlset/manifest.mpd`, 'alt audio joins the DASH urlset');
  const one = await render('1_rcit0qgs', '/format/mpegdash/flavorParamId/301971');
  t.equal(one.headers.Location, `${BASE_URL}/dash/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f3rcit00/forceproxy/true/name/a.mp4/manifest.mpd`, 'one flavor: no .urlset');
  const clipped = await render('1_rcit0qgs', '/format/mpegdash/flavorParamId/301971/clipTo/6000/seekFrom/2000');
  t.equal(clipped.headers.Location, `${BASE_URL}/dash/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/clipTo/6000/clipFrom/2000/v/1/flavorId/1_f3rcit00/forceproxy/true/name/a.mp4/manifest.mpd`);
});

t.test('responseFormat picks the renderer; unknown values fall back to the profile default', async (t) => {
  t.equal((await render('1_rcit0qgs', '/format/applehttp/responseFormat/redirect')).headers.Location, `${BASE_URL}/hls/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8`, 'redirect to the first flavor');
  t.equal((await render('1_rcit0qgs', '/format/applehttp/responseFormat/bogus')).headers['Content-Type'], 'application/x-mpegurl');
  t.equal((await render('1_rcit0qgs', '/format/url/responseFormat/m3u8')).headers['Content-Type'], 'application/x-mpegurl');
  t.equal((await render('1_rcit0qgs', '/format/url/responseFormat/m3u8')).status, 200);
  t.equal((await render('1_rcit0qgs', '/format/mpegdash/responseFormat/json')).status, 200);
});

t.test('JSON: PHP-style body, slashes escaped, trailing newline', async (t) => {
  const r = await render('1_rcit0qgs', '/format/url/responseFormat/json');
  t.equal(r.status, 200);
  t.equal(r.headers['Content-Type'], 'application/json');
  t.ok(r.body.endsWith('}\n'));
  t.notMatch(r.body, /[^\\]\//, 'every slash is escaped');
  t.ok(r.body.includes('"url":"http:\\/\\/127.0.0.1:8080\\/p\\/309\\/sp\\/30900\\/serveFlavor\\/entryId\\/1_rcit0qgs\\/v\\/1\\/flavorId\\/1_f1rcit00\\/forceproxy\\/true\\/name\\/a.mp4"'));
  t.same(JSON.parse(r.body), {
    entryId: '1_rcit0qgs', duration: 12, baseUrl: '',
    flavors: [{
      url: serve('1_rcit0qgs', '1_f1rcit00'), ext: 'mp4', bitrate: 378, width: 426, height: 240, frameRate: 25, codecs: 'avc1.640015,mp4a.40.2',
      audioLanguage: null, audioLanguageName: null, audioLabel: null, audioCodec: null, defaultAudio: false,
    }],
  });
});

t.test('JSON: audio fields only for audio_only flavors', async (t) => {
  const body = JSON.parse((await render('1_alt0audi', '/format/applehttp/responseFormat/json')).body);
  t.same(body.flavors.map((f: any) => [f.audioLanguage, f.audioLanguageName, f.audioLabel, f.audioCodec, f.defaultAudio, f.width]), [
    [null, null, null, null, false, 426],
    [null, null, null, null, false, 640],
    ['en', 'English', 'English', 'aac', true, 0],
    ['es', 'Spanish', 'Español', 'aac', false, 0],
  ]);
  const audio = JSON.parse((await render('1_audio001', '/format/applehttp/responseFormat/json')).body);
  t.same([audio.flavors[0].audioLanguage, audio.flavors[0].audioLanguageName, audio.flavors[0].audioLabel], ['und', 'Undefined', null]);
});

t.test('JSON duration: fractional seconds or null, as the playback says', async (t) => {
  const pb = await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/url/responseFormat/json' });
  t.equal(JSON.parse(renderPlayback({ ...pb, durationSec: 12.48 }, NOW).body).duration, 12.48);
  t.equal(JSON.parse(renderPlayback({ ...pb, durationSec: null }, NOW).body).duration, null);
  t.match(renderPlayback({ ...pb, durationSec: null }, NOW).body, /"duration":null,/);
});

t.test('JSON for packager redirect profiles: one flavor with only the manifest url', async (t) => {
  const body = JSON.parse((await render('1_rcit0qgs', '/format/mpegdash/responseFormat/json')).body);
  t.same(body, { entryId: '1_rcit0qgs', duration: 12, baseUrl: '', flavors: [{ url: urlset('dash', '1,2,3', 'forceproxy/true/name/a.mp4.urlset/manifest.mpd') }] });
});

t.test('JSONP: callback from the query, validated', async (t) => {
  const r = await render('1_rcit0qgs', '/format/url/responseFormat/jsonp', { query: { callback: 'jQuery1_2.cb' } });
  t.equal(r.status, 200);
  t.equal(r.headers['Content-Type'], 'application/json');
  const m = /^jQuery1_2\.cb\((.*)\)\n$/s.exec(r.body);
  t.ok(m, r.body);
  t.equal(JSON.parse(m![1]).entryId, '1_rcit0qgs');
  t.equal(m![1], (await render('1_rcit0qgs', '/format/url/responseFormat/json')).body.trimEnd(), 'the same JSON inside');
  for (const [why, o] of [
    ['missing', {}],
    ['invalid', { query: { callback: 'alert(1)' } }],
    ['in the path only', {}],
  ] as const) {
    const path = why === 'in the path only' ? '/format/url/responseFormat/jsonp/callback/cb' : '/format/url/responseFormat/jsonp';
    let err: unknown;
    try {
      await render('1_rcit0qgs', path, o);
    } catch (e) {
      err = e;
    }
    t.ok(err instanceof DeliveryError, why);
    t.equal((err as DeliveryError).code, 25, why);
    t.equal((err as DeliveryError).httpStatus, 400, why);
    t.match((err as DeliveryError).message, /Expecting "callback" parameter for jsonp format/, why);
  }
});

t.test('RTSP: an HTML meta refresh', async (t) => {
  const r = await render('1_rcit0qgs', '/format/rtsp/protocol/rtsp/name/a.3gp', { profile: profile(6, 'rtsp://rtsp.example.com') });
  t.equal(r.status, 200);
  t.equal(r.headers['Content-Type'], 'text/html; charset=UTF-8');
  t.equal(r.body, '<html><head><meta http-equiv="refresh" content="0;url=rtsp://rtsp.example.com/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f1rcit00/forceproxy/true/name/a.mp4"></head></html>');
  const q = await render('1_rcit0qgs', '/format/rtsp', { profile: profile(6, 'rtsp://h/a"><script>') });
  t.notMatch(q.body, /"><script>/, 'a quote cannot close the attribute');
});

t.test('CORS and timing headers on every manifest', async (t) => {
  for (const path of ['/format/applehttp', '/format/url', '/format/http', '/format/mpegdash', '/format/url/responseFormat/json']) {
    const h = (await render('1_rcit0qgs', path)).headers;
    t.equal(h['Access-Control-Allow-Origin'], '*', path);
    t.equal(h['Timing-Allow-Origin'], '*', path);
    const exposed = String(h['Access-Control-Expose-Headers']).split(',');
    for (const name of ['Server', 'range', 'Content-Length', 'Content-Range']) t.ok(exposed.includes(name), `${path} exposes ${name}`);
  }
});

t.test('caching headers: age > 0 vs 0', async (t) => {
  t.match((await render('1_rcit0qgs', '/format/applehttp')).headers, CACHED);
  t.equal((await render('1_rcit0qgs', '/format/applehttp')).headers.Pragma, undefined);
  t.match((await render('1_rcit0qgs', '/format/applehttp', { cacheAge: 0 })).headers, UNCACHED);
  t.match((await render('1_rcit0qgs', '/format/http', { cacheAge: 0 })).headers, UNCACHED);
  t.match((await render('1_rcit0qgs', '/format/http', { cacheAge: 300 })).headers, {
    'Cache-Control': 'private, max-age=300, max-stale=0', Expires: 'Tue, 14 Nov 2023 22:18:20 GMT', 'Last-Modified': 'Tue, 14 Nov 2023 22:13:20 GMT',
  });
  t.match((await render('1_rcit0qgs', '/format/url', { cacheAge: 0 })).headers, UNCACHED, 'an uncacheable redirect');
});

t.test('X-Kaltura carries access-control messages', async (t) => {
  const h = (await render('1_rcit0qgs', '/format/applehttp', { kalturaHeaders: ['access-control: preview only'] })).headers;
  t.same(h['X-Kaltura'], ['access-control: preview only']);
  t.equal((await render('1_rcit0qgs', '/format/applehttp')).headers['X-Kaltura'], undefined);
});

t.test('{deliveryCode} and {playbackContext} placeholders in bodies', async (t) => {
  const p = profile(61, 'http://{deliveryCode}.cdn.example.com/hls{playbackContext}');
  const with_ = await render('1_rcit0qgs', '/format/applehttp/deliveryCode/dc7/playbackContext/a%20b', { profile: p });
  t.match(with_.body, /^http:\/\/dc7\.cdn\.example\.com\/hls\/playbackContext\/a%20b\/p\/309\//m);
  t.notMatch(with_.body, /[{}]/);
  const alias = await render('1_rcit0qgs', '/format/applehttp/dc/dc8/pc/x', { profile: p });
  t.match(alias.body, /^http:\/\/dc8\.cdn\.example\.com\/hls\/playbackContext\/x\/p\//m);
  const without = await render('1_rcit0qgs', '/format/applehttp', { profile: p });
  t.match(without.body, /^http:\/\/\.cdn\.example\.com\/hls\/p\/309\//m, 'no code: empty; no context: removed');
});

t.test('flavorInfos: one info per flavor with its URL', async (t) => {
  const pb = await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/applehttp' });
  t.same(flavorInfos(pb).map((f) => [f.url, f.bitrate, f.width, f.height, f.frameRate, f.ext]), [
    [pb.urls[0], 378, 426, 240, 25, 'mp4'], [pb.urls[1], 630, 640, 360, 25, 'mp4'], [pb.urls[2], 1335, 1280, 720, 25, 'mp4'],
  ]);
});

t.test('language codes and names', async (t) => {
  const cases: [string, string][] = [
    ['English', 'en'], ['english', 'en'], ['Spanish', 'es'], ['en', 'en'], ['eng', 'en'], ['spa', 'es'], ['fre', 'fr'], ['fra', 'fr'],
    ['ger', 'de'], ['', 'und'], ['  ', 'und'], ['Klingon', 'und'], ['xx', 'und'],
  ];
  for (const [input, want] of cases) t.equal(languageCode(input), want, JSON.stringify(input));
  t.equal(languageName('en'), 'English');
  t.equal(languageName('es'), 'Spanish');
  t.equal(languageName('und'), 'Undefined');
  t.equal(languageName('xx'), 'Undefined');
});
