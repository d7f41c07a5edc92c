// The XML renderers (F4M, SMIL, Silverlight, the hdnetwork F4M; src/render/xml.ts),
// validated and read back with an XML parser.
import t, { type Test } from 'tap';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { renderPlayback } from '../../src/render/index.js';
import { renderF4m, renderSmil } from '../../src/render/xml.js';
import type { FlavorInfo } from '../../src/render/types.js';
import { flavor, sampleCatalog } from '../selection/fixtures/sample-catalog.js';
import { BASE_URL, NOW, buildPlayback, profile } from './fixtures/playback.js';

const catalog = await sampleCatalog(t);
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false, isArray: (n) => ['media', 'video', 'meta'].includes(n) });
const read = (tt: Test, body: string): any => {
  tt.equal(XMLValidator.validate(body), true, 'well-formed XML');
  tt.match(body, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/);
  return xml.parse(body);
};
const serve = (entryId: string, flavorId: string, ext = 'mp4') =>
  `${BASE_URL}/p/309/sp/30900/serveFlavor/entryId/${entryId}/v/1/flavorId/${flavorId}/forceproxy/true/name/a.${ext}`;
const xmlHeaders = { 'Content-Type': 'text/xml; charset=UTF-8', 'Content-Disposition': 'inline; filename=manifest.xml' };

t.test('format http: F4M with the one progressive flavor', async (t) => {
  const r = renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/http/protocol/http/a.f4m' }), NOW);
  t.equal(r.status, 200);
  t.match(r.headers, xmlHeaders);
  const doc = read(t, r.body);
  t.same(doc.manifest, {
    '@xmlns': 'http://ns.adobe.com/f4m/1.0', id: '1_rcit0qgs', mimeType: 'video/x-flv', streamType: 'recorded', duration: '12',
    media: [{ '@url': serve('1_rcit0qgs', '1_f1rcit00'), '@bitrate': '378', '@width': '426', '@height': '240' }],
  });
  t.same(Object.keys(doc.manifest).filter((k) => !k.startsWith('@')), ['id', 'mimeType', 'streamType', 'duration', 'media'], 'element order');
});

t.test('F4M: responseFormat f4m on several flavors, one media each; URLs XML-escaped', async (t) => {
  const pb = await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/applehttp/responseFormat/f4m', profile: profile(4, 'http://cdn.example.com/a?b=1&c=2') });
  const r = renderPlayback(pb, NOW);
  t.match(r.body, /url="http:\/\/cdn\.example\.com\/a\?b=1&amp;c=2\/p\//, 'the & is escaped in the text');
  const doc = read(t, r.body);
  t.same(doc.manifest.media.map((m: any) => [m['@bitrate'], m['@width'], m['@height']]), [['378', '426', '240'], ['630', '640', '360'], ['1335', '1280', '720']]);
  t.equal(doc.manifest.media[0]['@url'], 'http://cdn.example.com/a?b=1&c=2/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f1rcit00/forceproxy/true/name/a.mp4');
});

t.test('F4M mimeType is audio/mpeg only when every flavor is mp3', async (t) => {
  const mp3 = flavor('1_mp3a0000', { entryId: '1_rcit0qgs', fileExt: 'mp3', width: 0, height: 0, bitrate: 128, frameRate: 0, codecs: 'mp3', tags: ['web'] });
  const one = read(t, renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/http', flavors: [mp3] }), NOW).body);
  t.equal(one.manifest.mimeType, 'audio/mpeg');
  t.equal(one.manifest.media[0]['@url'], serve('1_rcit0qgs', '1_mp3a0000', 'mp3'));
  const mixed = read(t, renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/http/responseFormat/f4m', flavors: [mp3, { ...mp3, id: 'x', fileExt: 'mp4' }] }), NOW).body);
  t.equal(mixed.manifest.mimeType, 'video/x-flv');
  const audioMp4 = read(t, renderPlayback(await buildPlayback(catalog, '1_audio001', { path: '/format/http' }), NOW).body);
  t.equal(audioMp4.manifest.mimeType, 'video/x-flv', 'even an audio entry, when its file is mp4');
});

t.test('hdnetworkmanifest: F4M whose single media points to the packager manifest.f4m', async (t) => {
  const r = renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/hdnetworkmanifest/protocol/http/manifest.f4m' }), NOW);
  t.match(r.headers, xmlHeaders);
  const doc = read(t, r.body);
  t.same(doc.manifest.media, [{
    '@url': `${BASE_URL}/hds/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f,1,2,3,rcit00/forceproxy/true/name/a.mp4.urlset/manifest.f4m`,
  }]);
  t.equal(doc.manifest.id, '1_rcit0qgs');
  t.equal(doc.manifest.duration, '12');
});

t.test('F4M duration: fractional seconds, or absent when unknown', async (t) => {
  const f = (durationSec: number | null) => read(t, renderF4m({ entryId: 'e', mimeType: 'video/x-flv', durationSec, flavors: [], urlOnly: false })).manifest.duration;
  t.equal(f(12.345), '12.345');
  t.equal(f(7), '7');
  t.equal(f(null), undefined);
});

t.test('F4M v2: namespace 2.0, id, duration, media href', async (t) => {
  const r = renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/http/responseFormat/f4mv2' }), NOW);
  t.match(r.headers, xmlHeaders);
  const doc = read(t, r.body);
  t.same(doc.manifest, {
    '@xmlns': 'http://ns.adobe.com/f4m/2.0', id: '1_rcit0qgs', duration: '12',
    media: [{ '@href': serve('1_rcit0qgs', '1_f1rcit00'), '@bitrate': '378', '@width': '426', '@height': '240' }],
  });
});

t.test('SMIL: httpBase of the last flavor, path-only sources, system-bitrate in bit/s', async (t) => {
  const r = renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/applehttp/responseFormat/smil', profile: profile(4, 'http://cdn.example.com:8081') }), NOW);
  t.match(r.headers, xmlHeaders);
  t.match(r.body, /<!DOCTYPE smil PUBLIC "-\/\/W3C\/\/DTD SMIL 2\.0\/\/EN" "http:\/\/www\.w3\.org\/2001\/SMIL20\/SMIL20\.dtd">/);
  const doc = read(t, r.body);
  const meta = Object.fromEntries(doc.smil.head.meta.map((m: any) => [m['@name'], m['@content']]));
  t.same(Object.keys(meta), ['title', 'httpBase', 'vod']);
  t.equal(meta.title, '');
  t.equal(meta.vod, 'true');
  t.match(meta.httpBase, /^http:\/\/cdn\.example\.com:8081\/?$/);
  const videos = doc.smil.body.switch.video;
  t.equal(doc.smil.body.switch['@id'], 'video');
  t.same(videos.map((v: any) => v['@system-bitrate']), ['378000', '630000', '1335000']);
  t.same(videos.map((v: any) => new URL(v['@src'], meta.httpBase).toString()), ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00'].map((id) =>
    `http://cdn.example.com:8081/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/${id}/forceproxy/true/name/a.mp4`));
  t.same(videos.map((v: any) => v['@src'].startsWith('/p/309/')), [true, true, true], 'the URL path only');
});

t.test('SMIL keeps a query string and escapes it', async (t) => {
  const info: FlavorInfo = {
    url: 'https://h.example/p/1/a.mp4?token=a&b=<c>', ext: 'mp4', bitrate: 500, width: 1, height: 1, frameRate: 0, codecs: '',
    audioLanguage: null, audioLanguageName: null, audioLabel: null, audioCodec: null, defaultAudio: false,
  };
  const doc = read(t, renderSmil([info]));
  t.equal(doc.smil.body.switch.video[0]['@src'], '/p/1/a.mp4?token=a&b=%3Cc%3E');
  t.equal(doc.smil.head.meta[1]['@content'].replace(/\/$/, ''), 'https://h.example');
});

t.test('Silverlight (profile type 7): manifest url, id, streamType, duration', async (t) => {
  const r = renderPlayback(await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/sl/a.ism', profile: profile(7, 'http://ss.example.com') }), NOW);
  t.equal(r.status, 200);
  t.equal(r.headers['Content-Type'], 'text/xml; charset=UTF-8');
  const doc = read(t, r.body);
  t.same(doc.manifest, { '@url': 'http://ss.example.com/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f1rcit00/forceproxy/true/name/a.mp4', id: '1_rcit0qgs', streamType: 'recorded', duration: '12' });
});

t.test('hdnetwork: F4M without flavors whose footer media is the SMIL form of the same request', async (t) => {
  const rawUrl = '/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/hdnetwork/protocol/http/manifest.f4m';
  const pb = await buildPlayback(catalog, '1_rcit0qgs', { path: '/format/hdnetwork/protocol/http/manifest.f4m', profile: profile(12), rawUrl });
  const r = renderPlayback(pb, NOW);
  t.match(r.headers, xmlHeaders);
  const doc = read(t, r.body);
  t.same(doc.manifest.media, [{ '@url': `${BASE_URL}/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/hdnetworksmil/protocol/http/manifest.smil` }]);
  t.equal(doc.manifest.id, '1_rcit0qgs');
  t.equal(doc.manifest.mimeType, 'video/x-flv');
});
