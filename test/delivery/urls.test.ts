// The media URLs playManifest emits: serveFlavor paths,
// progressive and packager layouts, and the packager's character-level multi-URL.
import t from 'tap';
import type { DeliveryProfile, Entry, FlavorAsset } from '../../src/catalog/types.js';
import {
  externalUrls, fileExt, multiUrl, packagerHlsIndexUrl, packagerManifestUrl, profileBase, progressiveUrl, serveFlavorPath, subPartnerId,
  type UrlOptions,
} from '../../src/delivery/urls.js';
import { flavor, sampleCatalog } from '../selection/fixtures/sample-catalog.js';

const catalog = await sampleCatalog(t);
const entry = await catalog.getEntry('1_rcit0qgs') as Entry;
const [f3gp, f240, f360, , f720] = await catalog.listFlavors('1_rcit0qgs');
const profiles = Object.fromEntries((await catalog.listDeliveryProfiles()).map((p) => [p.id, p])) as Record<number, DeliveryProfile>;
const BASE = 'http://127.0.0.1:8080';
const opts = (over: Partial<UrlOptions> = {}): UrlOptions => ({
  entry, protocol: 'http', baseUrl: BASE, seekFrom: -1, clipTo: 0, playbackRate: 0, tracks: '', downloadName: null, sequence: null, sequenceFlavors: [], disableCaptions: false, defaultAudioLang: null, ...over,
});
const SF = '/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs';

t.test('multiUrl: the reference example', async (t) => {
  t.equal(
    multiUrl([
      '/dash/p/1/sp/100/serveFlavor/entryId/0_e/v/1/flavorId/0_aa/forceproxy/true/name/a.mp4',
      '/dash/p/1/sp/100/serveFlavor/entryId/0_e/v/1/flavorId/0_bb/forceproxy/true/name/a.mp4',
    ]),
    '/dash/p/1/sp/100/serveFlavor/entryId/0_e/v/1/flavorId/0_,aa,bb,/forceproxy/true/name/a.mp4.urlset',
  );
});

t.test('multiUrl: character-level prefix and suffix, distinct middles, one URL as it is', async (t) => {
  const cases: [string, string[], string][] = [
    ['one URL', ['/p/x/a.mp4'], '/p/x/a.mp4'],
    ['the same URL twice', ['/p/x/a.mp4', '/p/x/a.mp4'], '/p/x/a.mp4'],
    ['three, cut inside a segment', ['/f/1_f1rcit00/n', '/f/1_f2rcit00/n', '/f/1_f3rcit00/n'], '/f/1_f,1,2,3,rcit00/n.urlset'],
    ['duplicates keep the first position', ['/f/1_a/n', '/f/1_b/n', '/f/1_a/n'], '/f/1_,a,b,/n.urlset'],
    ['middles of different lengths', ['/f/1_abc/n', '/f/1_abcd/n'], '/f/1_abc,,d,/n.urlset'],
    ['prefix and suffix never overlap', ['/x/ab', '/x/abb'], '/x/ab,,b,.urlset'],
    ['different versions too', ['/v/1/flavorId/1_a/n', '/v/2/flavorId/1_b/n'], '/v/,1/flavorId/1_a,2/flavorId/1_b,/n.urlset'],
  ];
  for (const [name, paths, want] of cases) t.equal(multiUrl(paths), want, name);
});

t.test('serveFlavor paths', async (t) => {
  t.equal(subPartnerId(entry), 30900);
  t.equal(serveFlavorPath(f720, opts()), `${SF}/v/1/flavorId/1_f3rcit00`);
  t.equal(serveFlavorPath({ ...f720, version: 4 }, opts()), `${SF}/v/4/flavorId/1_f3rcit00`);
  t.equal(serveFlavorPath(f720, opts({ clipTo: 5000 })), `${SF}/clipTo/5000/v/1/flavorId/1_f3rcit00`);
  t.equal(serveFlavorPath(f720, opts({ seekFrom: 2000 })), `${SF}/clipFrom/2000/v/1/flavorId/1_f3rcit00`);
  t.equal(serveFlavorPath(f720, opts({ clipTo: 5000, seekFrom: 2000 })), `${SF}/clipTo/5000/clipFrom/2000/v/1/flavorId/1_f3rcit00`, 'clipTo ahead of clipFrom');
});

t.test('profile base: the request protocol replaces the scheme; a path profile is on this server', async (t) => {
  const cases: [string, string, string][] = [
    ['/hls', 'http', `${BASE}/hls`],
    ['/hls', 'https', 'https://127.0.0.1:8080/hls'],
    ['/', 'http', BASE],
    ['https://cdn.example.com/hls', 'http', 'http://cdn.example.com/hls'],
    ['http://cdn.example.com/hls/', 'https', 'https://cdn.example.com/hls'],
    ['rtmp://fms.example.com/ondemand', 'rtmpe', 'rtmpe://fms.example.com/ondemand'],
  ];
  for (const [url, protocol, want] of cases) t.equal(profileBase({ ...profiles[1001], url }, protocol, BASE), want, `${url} over ${protocol}`);
});

t.test('progressive URLs (AKAMAI_HTTP layout)', async (t) => {
  const p = profiles[1004];
  t.equal(progressiveUrl(f720, p, opts()), `${BASE}${SF}/v/1/flavorId/1_f3rcit00/forceproxy/true/name/a.mp4`);
  t.equal(progressiveUrl(f3gp, p, opts()), `${BASE}${SF}/v/1/flavorId/1_f4rcit00/forceproxy/true/name/a.3gp`);
  t.equal(progressiveUrl(f720, p, opts({ protocol: 'https' })), `https://127.0.0.1:8080${SF}/v/1/flavorId/1_f3rcit00/forceproxy/true/name/a.mp4`);
  t.equal(progressiveUrl(f720, p, opts({ clipTo: 5000 })), `${BASE}${SF}/clipTo/5000/v/1/flavorId/1_f3rcit00/name/a.mp4`, 'clipTo drops forceproxy');
  t.equal(progressiveUrl(f720, p, opts({ downloadName: 'Sample video (720p).mp4' })),
    `${BASE}${SF}/v/1/flavorId/1_f3rcit00/fileName/Sample%20video%20(720p).mp4/forceproxy/true/name/a.mp4`);
  t.equal(progressiveUrl(f720, p, opts({ downloadName: 'a/../b?.mp4' })),
    `${BASE}${SF}/v/1/flavorId/1_f3rcit00/fileName/a%2F..%2Fb%3F.mp4/forceproxy/true/name/a.mp4`, 'a file name cannot add path segments');
  t.equal(progressiveUrl(f720, profiles[2002], opts({ protocol: 'https' })), `https://d111111abcdef8.cloudfront.net${SF}/v/1/flavorId/1_f3rcit00/forceproxy/true/name/a.mp4`);
});

t.test('file extensions', async (t) => {
  t.equal(fileExt(f720), 'mp4');
  t.equal(fileExt(f3gp), '3gp');
  t.equal(fileExt(flavor('x', { fileExt: '', containerFormat: 'isom' })), 'mp4', 'no extension, isom container');
  t.equal(fileExt(flavor('x', { fileExt: '', containerFormat: 'mp42' })), 'mp4');
});

t.test('VOD packager HLS per-flavor index URLs', async (t) => {
  const p = profiles[1001];
  t.equal(packagerHlsIndexUrl(f240, p, opts(), false), `${BASE}/hls${SF}/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8`);
  t.equal(packagerHlsIndexUrl(f240, p, opts({ playbackRate: 1.5, tracks: 'v1-a1' }), false), `${BASE}/hls${SF}/v/1/flavorId/1_f1rcit00/name/a.mp4/speed/1.5/tracks/v1-a1/index.m3u8`);
  t.equal(packagerHlsIndexUrl(f240, p, opts(), true), `${BASE}/hls/container/fmp4${SF}/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8`, 'fMP4 after /hls/');
  t.equal(packagerHlsIndexUrl(f240, p, opts({ clipTo: 6000, seekFrom: 1000 }), false), `${BASE}/hls${SF}/clipTo/6000/clipFrom/1000/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8`);
  t.equal(packagerHlsIndexUrl(f240, profiles[2001], opts({ protocol: 'https' }), false), `https://cdn.example.com/hls${SF}/v/1/flavorId/1_f1rcit00/name/a.mp4/index.m3u8`);
});

t.test('VOD packager manifest URLs: DASH, MSS, HDS, HLS manifest', async (t) => {
  const three = [f240, f360, f720];
  const set = (tail: string) => `${SF}/v/1/flavorId/1_f,1,2,3,rcit00/${tail}`;
  t.equal(packagerManifestUrl(three, profiles[1003], opts()), `${BASE}/dash${set('forceproxy/true/name/a.mp4.urlset/manifest.mpd')}`);
  t.equal(packagerManifestUrl(three, profiles[1005], opts()), `${BASE}/mss${set('forceproxy/true/name/a.mp4.urlset/manifest')}`);
  t.equal(packagerManifestUrl(three, profiles[1002], opts()), `${BASE}/hds${set('forceproxy/true/name/a.mp4.urlset/manifest.f4m')}`);
  t.equal(packagerManifestUrl(three, profiles[1006], opts()), `${BASE}/hls${set('name/a.mp4.urlset/master.m3u8')}`);
  t.equal(packagerManifestUrl(three, profiles[1006], opts(), true), `${BASE}/hls/container/fmp4${set('name/a.mp4.urlset/master.m3u8')}`);
  t.equal(packagerManifestUrl([f720], profiles[1003], opts()), `${BASE}/dash${SF}/v/1/flavorId/1_f3rcit00/forceproxy/true/name/a.mp4/manifest.mpd`);
  t.equal(packagerManifestUrl([f3gp], profiles[1003], opts()), `${BASE}/dash${SF}/v/1/flavorId/1_f4rcit00/forceproxy/true/name/a.mp4/manifest.mpd`, 'DASH hard-codes mp4');
  t.equal(packagerManifestUrl([f3gp, f240], profiles[1006], opts()), `${BASE}/hls${SF}/v/1/flavorId/1_f,4rcit00/name/a.3gp,1rcit00/name/a.mp4,.urlset/master.m3u8`, 'HLS manifest keeps each extension');
  t.equal(packagerManifestUrl(three, profiles[1003], opts({ clipTo: 3000, playbackRate: 2 })),
    `${BASE}/dash${SF}/clipTo/3000/v/1/flavorId/1_f,1,2,3,rcit00/forceproxy/true/name/a.mp4.urlset/speed/2/manifest.mpd`);
  t.equal(packagerManifestUrl(three, profiles[1003], opts({ protocol: 'https' })), `https://127.0.0.1:8080/dash${set('forceproxy/true/name/a.mp4.urlset/manifest.mpd')}`);
});

t.test('sequences: entry version and flavorParamIds, merged instead of a .urlset', async (t) => {
  const seq = opts({ sequence: ['1_a', '1_b'] });
  t.equal(serveFlavorPath(f720, seq), `${SF}/sequence/1_a,1_b/v/1/flavorParamIds/301971`);
  t.equal(serveFlavorPath({ ...f720, version: 7 }, { ...seq, entry: { ...entry, version: 3 } }), `${SF}/sequence/1_a,1_b/v/3/flavorParamIds/301971`, 'the entry version, not the flavor version');
  t.equal(packagerHlsIndexUrl(f240, profiles[1001], seq, false), `${BASE}/hls${SF}/sequence/1_a,1_b/v/1/flavorParamIds/301961/name/a.mp4/index.m3u8`);
  t.equal(packagerManifestUrl([f240, f360, f720], profiles[1003], seq),
    `${BASE}/dash${SF}/sequence/1_a,1_b/v/1/flavorParamIds/301961,301951,301971/forceproxy/true/name/a.mp4/manifest.mpd`);
});

t.test('external storage URLs: the storage base, or the profile host when it has one', async (t) => {
  const storage = { id: 1, partnerId: 309, name: 's3', baseUrl: 'https://s3.example.com/bucket/', deliveryProfileIds: {}, active: true };
  const paths = ['/309/1_rcit0qgs/a.mp4', '309/1_rcit0qgs/b.mp4'];
  t.same(externalUrls(paths, profiles[1001], storage, 'https'), ['https://s3.example.com/bucket/309/1_rcit0qgs/a.mp4/index.m3u8', 'https://s3.example.com/bucket/309/1_rcit0qgs/b.mp4/index.m3u8']);
  t.same(externalUrls(paths, profiles[1003], storage, 'http'), ['http://s3.example.com/bucket/309/1_rcit0qgs/,a,b,.mp4.urlset/manifest.mpd']);
  t.same(externalUrls(paths, profiles[1004], storage, 'http'), ['http://s3.example.com/bucket/309/1_rcit0qgs/a.mp4', 'http://s3.example.com/bucket/309/1_rcit0qgs/b.mp4']);
  t.same(externalUrls(paths, profiles[2002], storage, 'https'), ['https://d111111abcdef8.cloudfront.net/309/1_rcit0qgs/a.mp4', 'https://d111111abcdef8.cloudfront.net/309/1_rcit0qgs/b.mp4']);
});
