// The playManifest request model against Kaltura's behaviour: the path grammar, the twenty short
// aliases, KS sources and the parameter table (src/request/play-request.ts).
import t from 'tap';
import { DeliveryError } from '../../src/errors.js';
import type { HttpFacts } from '../../src/request/http-facts.js';
import { decodeReferrer, parsePlayRequest, SHORT_NAMES } from '../../src/request/play-request.js';

const facts = (over: Partial<HttpFacts> = {}): HttpFacts => ({
  method: 'GET', rawUrl: '/p/309/sp/30900/playManifest/x', query: {}, headers: {}, isHttps: false, clientIp: '127.0.0.1', country: () => null, regexBudget: { left: 2_000_000 }, ...over,
});
const parse = (path: string, over: Partial<HttpFacts> = {}) => parsePlayRequest(path, facts(over));
/** What a parse throws, or undefined. */
const errorOf = (path: string, over: Partial<HttpFacts> = {}): unknown => {
  try {
    parse(path, over);
    return undefined;
  } catch (e) {
    return e;
  }
};
/** The DeliveryError code a parse throws, or 'ok'. */
const codeOf = (path: string, over: Partial<HttpFacts> = {}): number | string => {
  const e = errorOf(path, over);
  return e === undefined ? 'ok' : e instanceof DeliveryError ? e.code : `not a DeliveryError: ${e}`;
};
const b64url = (s: string) => Buffer.from(s).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');

t.test('the alias map is exactly the reference list of twenty', async (t) => {
  t.same(SHORT_NAMES, {
    cdnHost: 'ch', clipTo: 'ct', deliveryCode: 'dc', entryId: 'e', expiry: 'ex', flavorId: 'fi', flavorIds: 'fs',
    flavorParamId: 'fp', flavorParamIds: 'fps', format: 'f', maxBitrate: 'mb', minBitrate: 'mib', playbackContext: 'pc',
    preferredBitrate: 'pb', protocol: 'pt', referrer: 'r', seekFrom: 'sf', storageId: 'si', tags: 't', uiConfId: 'ui',
  });
});

t.test('every short alias reaches its field, in the path and in the query', async (t) => {
  const ref = b64url('https://www.example.com/page');
  // alias, value, field, expected
  const cases: [string, string, (r: ReturnType<typeof parse>) => unknown, unknown][] = [
    // ch and ui are accepted and not modelled (nothing depends on them): they reach the parameters
    ['ch', 'cdn.example.com', (r) => r.params.get('ch'), 'cdn.example.com'],
    ['ct', '5000', (r) => r.clipTo, 5000],
    ['dc', 'code7', (r) => r.deliveryCode, 'code7'],
    ['e', '1_rcit0qgs', (r) => r.entryId, '1_rcit0qgs'],
    ['ex', '2000000000', (r) => r.expiry, 2000000000],
    ['fi', '1_f3rcit00', (r) => r.flavorIds, ['1_f3rcit00']],
    ['fs', '1_f1rcit00,1_f2rcit00', (r) => r.flavorIds, ['1_f1rcit00', '1_f2rcit00']],
    ['fp', '301971', (r) => r.flavorParamIds, [301971]],
    ['fps', '301961,301951', (r) => r.flavorParamIds, [301961, 301951]],
    ['f', 'applehttp', (r) => r.format, 'applehttp'],
    ['mb', '700', (r) => r.maxBitrate, 700],
    ['mib', '300', (r) => r.minBitrate, 300],
    ['pc', 'ctx1', (r) => r.playbackContext, 'ctx1'],
    ['pb', '600', (r) => r.preferredBitrate, 600],
    ['pt', 'https', (r) => r.protocol, 'https'],
    ['r', ref, (r) => r.referrer, 'https://www.example.com/page'],
    ['sf', '2500', (r) => r.seekFrom, 2500],
    ['si', '7', (r) => r.storageId, 7],
    ['t', 'mbr,web', (r) => r.tags, [['mbr'], ['web']]],
    ['ui', '23448', (r) => r.params.get('ui'), '23448'],
  ];
  t.equal(cases.length, 20);
  for (const [alias, value, field, expected] of cases) {
    t.same(field(parse(`/${alias}/${encodeURIComponent(value)}`)), expected, `path /${alias}/${value}`);
    t.same(field(parse('/a.m3u8', { query: { [alias]: value } })), expected, `query ${alias}=${value}`);
  }
});

t.test('the long name beats the alias, wherever each one is', async (t) => {
  t.equal(parse('/e/1_short/entryId/1_long').entryId, '1_long', 'both in the path, alias first');
  t.equal(parse('/entryId/1_long/e/1_short').entryId, '1_long', 'both in the path, long first');
  t.equal(parse('/f/mpegdash', { query: { format: 'applehttp' } }).format, 'applehttp', 'long name in the query beats the alias in the path (merge first, then look up)');
  t.equal(parse('/format/applehttp', { query: { f: 'mpegdash' } }).format, 'applehttp');
  t.equal(parse('/mb/500/maxBitrate/900').maxBitrate, 900);
  t.same(parse('/fp/301961/flavorParamId/301971').flavorParamIds, [301971]);
});

t.test('lookup is case-sensitive and nothing else has an alias', async (t) => {
  t.equal(parse('/EntryId/1_rcit0qgs').entryId, null);
  t.equal(parse('/E/1_rcit0qgs').entryId, null);
  t.equal(parse('/F/applehttp').format, 'url');
  t.equal(parse('/k/abc').ks, null, 'ks has no alias');
  t.equal(parse('/rf/json').responseFormat, null, 'responseFormat has no alias');
  t.equal(parse('/responseFormat/json').responseFormat, 'json');
});

t.test('path beats query string', async (t) => {
  const r = parse('/entryId/1_path/format/applehttp/ks/pathks', { query: { entryId: '1_query', format: 'mpegdash', ks: 'queryks', tracks: 'q' } });
  t.equal(r.entryId, '1_path');
  t.equal(r.format, 'applehttp');
  t.equal(r.ks, 'pathks');
  t.equal(r.tracks, 'q', 'query values the path does not set still count');
  t.equal(r.params.get('entryId'), '1_path');
});

t.test('first occurrence wins in the path', async (t) => {
  const r = parse('/entryId/1_first/format/applehttp/entryId/1_second/format/url');
  t.equal(r.entryId, '1_first');
  t.equal(r.format, 'applehttp');
});

t.test('empty segments are dropped, so // collapses', async (t) => {
  const r = parse('//entryId//1_rcit0qgs///format/applehttp//protocol/https/');
  t.equal(r.entryId, '1_rcit0qgs');
  t.equal(r.format, 'applehttp');
  t.equal(r.protocol, 'https');
});

t.test('a key "0" stops parsing; a value "0" is fine', async (t) => {
  const r = parse('/entryId/1_rcit0qgs/0/x/format/applehttp/protocol/https');
  t.equal(r.entryId, '1_rcit0qgs');
  t.equal(r.format, 'url', 'format after the "0" key is not read');
  t.equal(r.protocol, 'http');
  t.same(parse('/entryId/1_rcit0qgs/flavorParamId/0/format/url').flavorParamIds, [0], 'value 0 selects the source');
  t.equal(parse('/entryId/1_rcit0qgs/flavorParamId/0/format/url').format, 'url');
  t.equal(parse('/entryId/1_rcit0qgs/seekFrom/0/format/applehttp').format, 'applehttp', 'a value 0 does not stop parsing');
});

t.test('the tail file name is ignored', async (t) => {
  for (const tail of ['a.m3u8', 'manifest.mpd', 'video.mp4', 'a.f4m', 'name/a.mp4', 'a/a.m3u8']) {
    const r = parse(`/entryId/1_rcit0qgs/format/applehttp/protocol/http/${tail}`);
    t.equal(r.entryId, '1_rcit0qgs', tail);
    t.equal(r.format, 'applehttp', tail);
    t.equal(r.protocol, 'http', tail);
    t.same(r.flavorIds, null, tail);
  }
  // the documentation's example
  const doc = parse('/entryId/1_rcit0qgs/format/url/flavorParamId/301971/video.mp4');
  t.equal(doc.entryId, '1_rcit0qgs');
  t.equal(doc.format, 'url');
  t.same(doc.flavorParamIds, [301971]);
  t.equal(doc.params.has('video.mp4'), false, 'a lone last key has no value and is not a parameter');
  t.equal(parse('/entryId/1_x/a/a.m3u8').params.get('a'), 'a.m3u8', '/a/a.m3u8 sets a=a.m3u8');
});

t.test('QUIRK: /f/a.m3u8 without a format reads as format=a.m3u8', async (t) => {
  t.equal(parse('/entryId/1_rcit0qgs/f/a.m3u8').format, 'a.m3u8');
  t.equal(parse('/entryId/1_rcit0qgs/format/applehttp/f/a.m3u8').format, 'applehttp', 'an explicit format still wins');
});

t.test('defaults: format url, protocol http, seekFrom -1, clipTo 0', async (t) => {
  const r = parse('/entryId/1_rcit0qgs');
  t.equal(r.format, 'url');
  t.equal(r.protocol, 'http');
  t.equal(r.seekFrom, -1);
  t.equal(r.clipTo, 0);
  t.equal(r.responseFormat, null);
  t.equal(r.flavorIds, null);
  t.equal(r.flavorParamIds, null);
  t.equal(r.tags, null);
  t.equal(r.maxBitrate, null);
  t.equal(r.minBitrate, null);
  t.equal(r.preferredBitrate, null);
  t.equal(r.ks, null);
  t.equal(r.kt, null);
  t.equal(r.expiry, null);
  t.equal(r.referrer, '');
  t.same(r.hashes, {});
  t.equal(r.callback, null);
  t.equal(r.disableCaptions, false);
  t.equal(parse('').entryId, null, 'no entryId at all');
});

t.test('protocol: "null" means http; hdnetworkmanifest and http force an http scheme', async (t) => {
  t.equal(parse('/entryId/x/protocol/null').protocol, 'http');
  t.equal(parse('/entryId/x/pt/null').protocol, 'http');
  t.equal(parse('/entryId/x/format/applehttp/protocol/https').protocol, 'https');
  t.equal(parse('/entryId/x/format/hdnetworkmanifest/protocol/rtmp').protocol, 'http');
  t.equal(parse('/entryId/x/format/hdnetworkmanifest/protocol/https').protocol, 'https', 'a protocol starting with http is kept');
  t.equal(parse('/entryId/x/format/http/protocol/rtmpe').protocol, 'http');
  t.equal(parse('/entryId/x/format/http/protocol/https').protocol, 'https');
  t.equal(parse('/entryId/x/format/applehttp/protocol/HTTPS').protocol, 'https', 'scheme lower-cased');
  t.equal(parse('/entryId/x/format/url/protocol/rtmp').protocol, 'http', 'url is format http');
  t.equal(parse('/entryId/x/format/download/protocol/rtsp').protocol, 'http', 'download is format http');
  t.equal(parse('/entryId/x/protocol/ftp').protocol, 'http', 'no format is url');
  t.equal(parse('/entryId/x/format/url/protocol/https').protocol, 'https');
  t.equal(parse('/entryId/x/format/rtmp/protocol/http').protocol, 'rtmp', 'rtmp forces an rtmp scheme');
  t.equal(parse('/entryId/x/format/rtmp/protocol/rtmpe').protocol, 'rtmpe');
  t.equal(parse('/entryId/x/format/rtmp').protocol, 'rtmp');
  t.equal(parse('/entryId/x/format/rtsp/protocol/rtsp').protocol, 'rtsp', 'rtsp is not forced');
  t.equal(parse('/entryId/x/format/applehttp/protocol/rtmp').protocol, 'rtmp', 'applehttp is not forced');
  t.equal(codeOf('/entryId/x/format/applehttp/protocol/ht%20tp'), 25, 'a protocol that is no URL scheme');
  t.equal(codeOf('/entryId/x/format/applehttp/protocol/javascript:alert(1)'), 25);
});

t.test('X-Kaltura-Ks header overrides the ks parameter', async (t) => {
  t.equal(parse('/entryId/x/ks/fromPath').ks, 'fromPath');
  t.equal(parse('/entryId/x', { query: { ks: 'fromQuery' } }).ks, 'fromQuery');
  t.equal(parse('/entryId/x/ks/fromPath', { headers: { 'x-kaltura-ks': 'fromHeader' } }).ks, 'fromHeader');
  t.equal(parse('/entryId/x', { query: { ks: 'fromQuery' }, headers: { 'x-kaltura-ks': 'fromHeader' } }).ks, 'fromHeader');
  t.equal(parse('/entryId/x', { headers: { 'x-kaltura-ks': ['h1', 'h2'] } }).ks, 'h1');
});

t.test('maxBitrate: non-numeric or ≤ 0 gives error 19 (400)', async (t) => {
  for (const bad of ['abc', '0', '-5', '12abc', 'Infinity', 'NaN', '0x10', '1,5']) {
    t.equal(codeOf(`/entryId/x/maxBitrate/${bad}`), 19, `maxBitrate ${bad}`);
    t.equal(codeOf(`/entryId/x/mb/${bad}`), 19, `mb ${bad}`);
    t.equal(codeOf('/entryId/x', { query: { maxBitrate: bad } }), 19, `query maxBitrate ${bad}`);
  }
  const err = errorOf('/entryId/x/maxBitrate/abc') as DeliveryError;
  t.equal(err.httpStatus, 400);
  t.equal(err.errorName, 'INVALID_MAX_BITRATE');
  t.equal(parse('/entryId/x/maxBitrate/800').maxBitrate, 800);
  t.equal(parse('/entryId/x/maxBitrate/800.5').maxBitrate, 800.5);
  t.equal(parse('/entryId/x/maxBitrate/1e3').maxBitrate, 1000, 'PHP is_numeric accepts exponents');
});

t.test('minBitrate: non-numeric or ≤ 0 gives error 49 (400)', async (t) => {
  for (const bad of ['abc', '0', '-1', '5kbps', '0x10']) {
    t.equal(codeOf(`/entryId/x/minBitrate/${bad}`), 49, `minBitrate ${bad}`);
    t.equal(codeOf(`/entryId/x/mib/${bad}`), 49, `mib ${bad}`);
  }
  const err = errorOf('/entryId/x/minBitrate/-1') as DeliveryError;
  t.equal(err.httpStatus, 400);
  t.equal(err.errorName, 'INVALID_MIN_BITRATE');
  t.equal(parse('/entryId/x/minBitrate/300').minBitrate, 300);
  t.equal(codeOf('/entryId/x/maxBitrate/abc/minBitrate/abc'), 19, 'max is checked before min');
});

t.test('seekFrom ≤ 0 becomes -1; clipTo ≤ 0 becomes 0', async (t) => {
  t.equal(parse('/entryId/x/seekFrom/0').seekFrom, -1);
  t.equal(parse('/entryId/x/seekFrom/-300').seekFrom, -1);
  t.equal(parse('/entryId/x/seekFrom/abc').seekFrom, -1);
  t.equal(parse('/entryId/x/seekFrom/4000').seekFrom, 4000);
  t.equal(parse('/entryId/x/sf/1').seekFrom, 1);
  t.equal(parse('/entryId/x/clipTo/5000').clipTo, 5000);
  t.equal(parse('/entryId/x/clipTo/-5').clipTo, 0);
});

t.test('flavorId beats flavorIds; flavorParamId beats flavorParamIds; tags make one group each', async (t) => {
  const r = parse('/entryId/x/flavorIds/1_a,1_b/flavorId/1_c/flavorParamIds/1,2/flavorParamId/3');
  t.same(r.flavorIds, ['1_c']);
  t.same(r.flavorParamIds, [3]);
  t.same(parse('/entryId/x/flavorIds/1_a,1_b').flavorIds, ['1_a', '1_b']);
  t.same(parse('/entryId/x/flavorIds/1_a,,1_b,').flavorIds, ['1_a', '1_b'], 'empty list items dropped');
  t.same(parse('/entryId/x/flavorParamIds/301961,301971').flavorParamIds, [301961, 301971]);
  t.same(parse('/entryId/x/tags/mbr,web').tags, [['mbr'], ['web']]);
  t.same(parse('/entryId/x/tags/applembr').tags, [['applembr']]);
});

t.test('deliveryProfileIds beats deliveryProfileId; neither has an alias', async (t) => {
  t.same(parse('/entryId/x/deliveryProfileId/1001').deliveryProfileIds, [1001]);
  t.same(parse('/entryId/x/deliveryProfileId/1001/deliveryProfileIds/1003,1002').deliveryProfileIds, [1003, 1002]);
  t.equal(parse('/entryId/x/dp/1001').deliveryProfileIds, null);
});

t.test('referrer: url-safe base64, falling back to the Referer header; control characters refused', async (t) => {
  // a referrer whose standard base64 holds both + and /
  const url = 'https://www.example.com/page?a=>>>&b=???';
  const std = Buffer.from(url).toString('base64');
  t.match(std, /[+/]/, 'the sample exercises the url-safe mapping');
  t.equal(parse(`/entryId/x/referrer/${b64url(url)}`).referrer, url, 'url-safe alphabet');
  t.equal(parse('/entryId/x', { query: { referrer: std.replace(/\+/g, ' ') } }).referrer, url, 'a + that became a space in the query');
  t.equal(parse('/entryId/x', { query: { r: b64url(url) } }).referrer, url);
  t.equal(parse('/entryId/x', { headers: { referer: 'https://a.example/p' } }).referrer, 'https://a.example/p', 'header fallback');
  t.equal(parse(`/entryId/x/referrer/${b64url('https://b.example/')}`, { headers: { referer: 'https://a.example/p' } }).referrer, 'https://b.example/', 'the parameter wins');
  t.equal(parse(`/entryId/x/referrer/${b64url('https://evil.example/\r\nX-Injected: 1')}`).referrer, '', 'CR/LF refused');
  t.equal(parse(`/entryId/x/referrer/${b64url('a\u0000b')}`).referrer, '', 'NUL refused');
  t.equal(parse('/entryId/x', { headers: { referer: 'https://a.example/\r\nX: 1' } }).referrer, '', 'CR/LF in the header refused');
  t.equal(parse('/entryId/x/referrer/%25%25%25').referrer, '', 'not base64');
  t.equal(decodeReferrer(Buffer.from([0xff, 0xfe, 0x00]).toString('base64')), '', 'binary, not text');
  t.equal(decodeReferrer(''), '');
});

t.test('hashes: URL-decoded, split on commas into key=value pairs', async (t) => {
  t.same(parse('/entryId/x/hashes/a%3D1%2Cb%3D2').hashes, { a: '1', b: '2' }, 'encoded once, in the path');
  t.same(parse('/entryId/x', { query: { hashes: 'sig%3Dabc%2Cts%3D5' } }).hashes, { sig: 'abc', ts: '5' }, 'encoded twice, from the query');
  t.same(parse('/entryId/x', { query: { hashes: 'k=v=w,noeq,=x,m=' } }).hashes, { k: 'v=w', m: '' }, 'pairs without a key are skipped');
  t.same(parse('/entryId/x', { query: { hashes: '%E0%A4%A,a=1' } }).hashes, { a: '1' }, 'malformed escapes kept raw, not a crash');
});

t.test('callback: only from the query string, and only a JS identifier path', async (t) => {
  t.equal(parse('/entryId/x/responseFormat/jsonp', { query: { callback: 'jQuery123_456.cb' } }).callback, 'jQuery123_456.cb');
  t.equal(parse('/entryId/x/responseFormat/jsonp/callback/fromPath').callback, null, 'the path does not count');
  t.equal(parse('/entryId/x/callback/fromPath', { query: { callback: 'fromQuery' } }).callback, 'fromQuery', 'even when the path has one');
  for (const bad of ['alert(1)', 'a;b', 'x-y', '<script>', 'a b', 'a\nb', 'cb()']) {
    t.equal(parse('/entryId/x', { query: { callback: bad } }).callback, null, JSON.stringify(bad));
  }
  t.equal(parse('/entryId/x', { query: { callback: ['a', 'b'] } }).callback, null, 'a repeated callback is not a string');
});

t.test('parameters without aliases are read by their full name', async (t) => {
  const r = parse('/entryId/x/kt/abc123/sequence/1_a,1_b/defaultAudioLang/spa/disableCaptions/1/type/media/playbackRate/1.5/tracks/v1-a1');
  t.equal(r.kt, 'abc123');
  t.same(r.sequence, ['1_a', '1_b']);
  t.equal(r.defaultAudioLang, 'spa');
  t.equal(r.disableCaptions, true);
  t.equal(r.type, 'media');
  t.equal(r.playbackRate, 1.5);
  t.equal(r.tracks, 'v1-a1');
  t.equal(parse('/entryId/x/disableCaptions/0').disableCaptions, false);
  t.equal(parse('/entryId/x/disableCaptions/false').disableCaptions, false);
  t.equal(parse('/entryId/x/expiry/1700000000').expiry, 1700000000);
});

t.test('cdnHost, uiConfId/uiconf, muxedAudioLang, clientTag and playSessionId are accepted and change nothing', async (t) => {
  const model = (r: ReturnType<typeof parse>) => {
    const { params: _params, ...rest } = r;
    return rest;
  };
  const plain = parse('/entryId/x/format/applehttp/a.m3u8');
  const path = parse('/entryId/x/format/applehttp/ch/cdn.example.com/uiConfId/5/uiconf/6/muxedAudioLang/eng/clientTag/kmc/playSessionId/ps1/a.m3u8');
  const query = parse('/entryId/x/format/applehttp/a.m3u8', { query: { cdnHost: 'https://cdn.example.com', ui: '7', muxedAudioLang: 'spa', clientTag: 'html5:v3', playSessionId: 'a:b' } });
  t.same(model(path), model(plain), 'in the path');
  t.same(model(query), model(plain), 'in the query');
});

t.test('HTTP facts are carried over', async (t) => {
  const r = parse('/entryId/x', {
    method: 'head', rawUrl: '/p/309/playManifest/entryId/x?y=1', isHttps: true, clientIp: '10.1.2.3',
    headers: { 'user-agent': 'curl/8', host: 'media.example.com', 'x-multi': ['a', 'b'] },
  });
  t.equal(r.method, 'HEAD');
  t.equal(r.rawUri, '/p/309/playManifest/entryId/x?y=1');
  t.equal(r.isHttps, true);
  t.equal(r.clientIp, '10.1.2.3');
  t.equal(r.userAgent, 'curl/8');
  t.equal(r.headers.host, 'media.example.com');
  t.equal(r.headers['x-multi'], 'a, b');
});

t.test('bad paths give DeliveryError 25 (400): encoded slashes, NUL, malformed escapes, huge segments', async (t) => {
  const bad: [string, string][] = [
    ['/entryId/1_a%2Fb', 'encoded slash'],
    ['/entryId/1_a%2fb', 'encoded slash, lower case'],
    ['/entryId/..%2F..%2Fetc', 'encoded traversal'],
    ['/entryId/1_a%5Cb', 'encoded backslash'],
    ['/entryId/1_a%00b', 'encoded NUL'],
    ['/entryId/1_a\u0000b', 'raw NUL'],
    ['/entryId/1_a%E0%A4%A', 'malformed percent-encoding'],
    ['/entryId/%', 'lone percent'],
    ['/entryId/%zz', 'not hex'],
    [`/entryId/${'a'.repeat(10 * 1024)}`, '10 kB segment'],
    [`/${'ab/'.repeat(4000)}`, 'path longer than 8 kB'],
  ];
  for (const [path, why] of bad) {
    const err = errorOf(path);
    t.ok(err instanceof DeliveryError, why);
    t.equal((err as DeliveryError).code, 25, why);
    t.equal((err as DeliveryError).httpStatus, 400, why);
    t.equal((err as DeliveryError).message.includes('\n'), false, why);
  }
  t.equal(parse('/entryId/1_%61b').entryId, '1_ab', 'ordinary escapes are decoded');
  t.equal(parse('/entryId/1_rcit0qgs/name/caf%C3%A9.mp4').params.get('name'), 'café.mp4');
});
