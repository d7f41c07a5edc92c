// Finer points of the reference's output pipeline and issue 2's "never a
// 500", each first found missing by a test here and then fixed: the hdnetwork footer on the
// public URL, caching headers on redirects, {deliveryCode} in headers, PHP's JSON escaping, and
// unique bitrates in Akamai HD SMIL.
import t from 'tap';
import { renderPlayback } from '../../src/render/index.js';
import { flavor, sampleCatalog } from '../selection/fixtures/sample-catalog.js';
import { NOW, buildPlayback, profile } from './fixtures/playback.js';

const catalog = await sampleCatalog(t);

// BUG 1 (issue 2 "Bad input": never a 500). format/hdnetwork builds its footer URL with
// new URL(rawUri, 'http://' + Host header); a malformed Host ("bad host", "[::1", "x:99999", or an
// empty Host) makes that throw TypeError, which the route rethrows: HTTP 500 (checked against
// the running server). The footer should use the server's public base URL (KDELIVER_PUBLIC_URL /
// PlaybackContext.baseUrl, like every other URL it emits), not the raw Host header.
t.test('hdnetwork with a malformed Host header still renders', async (t) => {
  for (const host of ['bad host', '[::1', 'x:99999', '']) {
    let status: number | string;
    try {
      status = renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/hdnetwork/a.f4m', profile: profile(12), headers: { host } }), NOW).status;
    } catch (e) {
      status = `throws ${e}`;
    }
    t.equal(status, 200, JSON.stringify(host));
  }
});

// BUG 2 (the common output's caching step applies to every renderer; step 6 only changes the status). A cacheable
// redirect (format url, no tokenizer, no access rules: pb.cacheAge 60) should carry
// "Cache-Control: private, max-age=60, max-stale=0" with Expires/Last-Modified. Today
// renderPlayback uses age 0 whenever the status is not 200, so every 302 gets the no-cache set.
t.test('a cacheable redirect carries the caching headers of its age', async (t) => {
  for (const path of ['/format/url', '/format/download', '/format/mpegdash']) {
    const r = renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path, cacheAge: 60 }), NOW);
    t.equal(r.status, 302, path);
    t.equal(r.headers['Cache-Control'], 'private, max-age=60, max-stale=0', path);
    t.equal(r.headers.Expires, 'Tue, 14 Nov 2023 22:14:20 GMT', path);
    t.equal(r.headers.Pragma, undefined, path);
  }
});

// BUG 3 (the common output: "{deliveryCode} is replaced inside header values"). With a profile URL
// holding the placeholder, the body gets it replaced but the Location header of a redirect keeps
// the literal "{deliveryCode}".
t.test('{deliveryCode} is replaced in the Location header too', async (t) => {
  const p = profile(68, 'http://{deliveryCode}.cdn.example.com/dash');
  const r = renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/mpegdash/deliveryCode/dc7', profile: p }), NOW);
  t.equal(r.status, 302);
  t.match(String(r.headers.Location), /^http:\/\/dc7\.cdn\.example\.com\/dash\/p\/309\//);
});

// A deliveryCode is a value, not a replacement pattern: "$&" or "$'" in it must come out as typed.
t.test('{deliveryCode} is put in literally', async (t) => {
  const p = profile(68, 'http://{deliveryCode}.cdn.example.com/dash');
  const r = renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path: "/format/mpegdash/deliveryCode/a$&b$'c", profile: p }), NOW);
  t.match(String(r.headers.Location), /^http:\/\/a\$&b\$'c\.cdn\.example\.com\/dash\//);
});

// BUG 4 (JSON: "PHP json_encode defaults apply"). renderPlayback already escapes "/" as PHP
// does; PHP's defaults also write every non-ASCII character as \uXXXX. For 1_alt0audi the label
// "Español" comes out raw (UTF-8) instead of "Espa\u00f1ol". Only byte-comparing clients notice.
t.test('JSON escapes non-ASCII as PHP json_encode does', async (t) => {
  const r = renderPlayback(await buildPlayback(catalog, '1_alt0audi', { path: '/format/applehttp/responseFormat/json' }), NOW);
  t.ok(r.body.includes('"audioLabel":"Espa\\u00f1ol"'), 'Español as \\u00f1');
  t.notMatch(r.body, /[^\x00-\x7f]/, 'ASCII only');
});

// BUG 5 (SMIL: the Akamai HD SMIL profile, type 12, bumps duplicate bitrates by +1 so they are
// unique). Two flavors of 600 kbit/s give system-bitrate 600000 twice today.
t.test('AKAMAI_HD SMIL makes duplicate bitrates unique', async (t) => {
  const a = flavor('1_dupa0000', { entryId: '1_rcit0qgs', bitrate: 600, width: 640, height: 360 });
  const b = flavor('1_dupb0000', { entryId: '1_rcit0qgs', bitrate: 600, width: 1280, height: 720 });
  const r = renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/hdnetworksmil', profile: profile(12, '/'), flavors: [a, b] }), NOW);
  const rates = [...r.body.matchAll(/system-bitrate="(\d+)"/g)].map((m) => m[1]);
  t.same(rates, ['600000', '601000']);
});
