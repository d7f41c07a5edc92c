// playManifest through delivery profiles whose URLs name a CDN in front of kdeliver (extraParams
// kdeliverOrigin), with the CDN's URL tokenizer. Two defects a CDN operator found:
// - an entry with access-control rules did not play through any tokenized CDN profile: the URLs
//   carried the CDN's token but not kdeliver's own signature, which the origin demands of
//   protected media (403 error 27 on every playlist);
// - the HLS master's subtitle playlists carried the first variant's token, valid for that URL only.
// Real parts: nginx as the CDN (proxying to kdeliver, the path kept), ffprobe reading a segment;
// the Akamai __gda__ tokens are recomputed here from Akamai's recipe (node:crypto md5).
import t from 'tap';
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { startNginx } from '../helpers/nginx.js';
import { ffprobeJson } from '../helpers/media-tools.js';
import { importLibrary, readLibraryFile } from '../../src/catalog/library.js';
import { generateKs } from '../../src/access/ks.js';
import { reachesKdeliver } from '../../src/delivery/index.js';

const srv = await startServer(t);
const cdn = await startNginx(t, `location / { proxy_pass ${srv.url}; proxy_set_header Host $http_host; }`);
const KEY = 'cdn-akamai-key';
const akamai = { type: 'akamaiHttp', key: KEY, window: 300 };
const work = mkdtempSync(join(tmpdir(), 'kdeliver-cdn-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
writeFileSync(join(work, 'profiles.json'), JSON.stringify({
  version: 1,
  deliveryProfiles: [
    { id: 3901, partnerId: 309, name: 'CDN HLS', type: 61, streamerType: 'applehttp', url: `${cdn.url}/hls`, tokenizer: akamai, extraParams: { kdeliverOrigin: true } },
    { id: 3902, partnerId: 309, name: 'CDN HLS, no path', type: 61, streamerType: 'applehttp', url: 'https://cdn.example.com', tokenizer: akamai },
    { id: 3903, partnerId: 309, name: 'CDN DASH', type: 68, streamerType: 'mpegdash', url: `${cdn.url}/dash`, tokenizer: akamai, extraParams: { kdeliverOrigin: true } },
    { id: 3904, partnerId: 309, name: 'another host', type: 4, streamerType: 'http', url: 'https://third-party.example.net' },
    { id: 3906, partnerId: 309, name: 'another host, HLS', type: 1, streamerType: 'applehttp', url: 'https://third-party.example.net/hls' },
    { id: 3905, partnerId: 309, name: 'CDN, kaltura tokenizer', type: 61, streamerType: 'applehttp', url: `${cdn.url}/hls`, tokenizer: { type: 'kaltura', key: 'edge-key', window: 300 }, extraParams: { kdeliverOrigin: true } },
  ],
}));
const { library, mediaDir } = readLibraryFile(join(work, 'profiles.json'));
await importLibrary(srv.app.catalog, library, mediaDir, srv.config.mediaRoot);

const viewer = () => generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId: 'viewer', expiry: 3600, privileges: 'sview:1_kssecure', version: 2, now: Math.floor(Date.now() / 1000) });
const PM = (entry: string, format: string, extra: string, file: string) => `${srv.url}/p/309/sp/30900/playManifest/entryId/${entry}/format/${format}/protocol/http${extra}/${file}`;
const text = async (url: string) => {
  const r = await fetch(url, { redirect: 'manual' });
  return { status: r.status, location: r.headers.get('location'), body: await r.text() };
};
const uris = (m3u8: string) => [...m3u8.matchAll(/URI="([^"]+)"/g)].map((m) => m[1]).concat(m3u8.split('\n').filter((l) => l && !l.startsWith('#')));

/** Akamai's __gda__ for a path: {expires}_{md5hex(key + md5raw(le32(expires) + path + key))}. */
function gda(path: string, expires: number): string {
  const le = Buffer.alloc(4);
  le.writeUInt32LE(expires);
  const inner = createHash('md5').update(Buffer.concat([le, Buffer.from(path), Buffer.from(KEY)])).digest();
  return `${expires}_${createHash('md5').update(Buffer.concat([Buffer.from(KEY), inner])).digest('hex')}`;
}

t.test('a protected entry plays through a tokenized CDN profile: the origin finds its signature under the token', async (t) => {
  const ks = viewer();
  const master = await text(PM('1_kssecure', 'applehttp', `/deliveryProfileId/3901/ks/${ks}`, 'a.m3u8'));
  t.equal(master.status, 200, 'the master');
  const variants = master.body.split('\n').filter((l) => l.startsWith('http'));
  t.ok(variants.length > 0, 'variants');
  for (const v of variants) {
    t.match(v, new RegExp(`^${cdn.url}/hls/p/309/.*/exp/\\d+/sig/[^/]+/.*index\\.m3u8\\?__gda__=\\d+_[0-9a-f]{32}$`), 'the CDN\'s token over kdeliver\'s signature');
    const playlist = await text(v);
    t.equal(playlist.status, 200, `through the CDN (${playlist.body.slice(0, 80)})`);
    t.match(playlist.body, /^#EXTM3U/);
  }
  const first = await text(variants[0]);
  const segment = new URL(first.body.split('\n').find((l) => l && !l.startsWith('#'))!, variants[0]).href;
  t.equal((await fetch(segment)).status, 200, 'a segment through the CDN');
  const probed = await ffprobeJson(segment);
  t.equal(probed.code, 0, probed.stderr);
  t.ok(probed.json.streams.some((s: { codec_type: string }) => s.codec_type === 'video'), 'ffprobe reads video in it, through the CDN');

  const dash = await text(PM('1_kssecure', 'mpegdash', `/deliveryProfileId/3903/ks/${ks}`, 'manifest.mpd'));
  t.equal(dash.status, 302);
  t.match(dash.location, /\/exp\/\d+\/sig\/.*\?__gda__=/);
  const mpd = await text(dash.location!);
  t.equal(mpd.status, 200, 'the DASH manifest through the CDN');
  t.match(mpd.body, /<MPD/);

  const unsigned = await text(`${cdn.url}${new URL(variants[0]).pathname.replace(/\/ks\/[^/]+\/exp\/\d+\/sig\/[^/]+/, '')}`);
  t.equal(unsigned.status, 403, 'the same playlist without kdeliver\'s signature is still refused');
});

t.test('a host that does not front kdeliver never sees its signature or the caller\'s KS', async (t) => {
  const admin = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 600, now: Math.floor(Date.now() / 1000) });
  const r = await text(PM('1_kssecure', 'url', `/deliveryProfileId/3904/ks/${admin}`, 'a.mp4'));
  t.equal(r.status, 302);
  t.match(r.location, /^https?:\/\/third-party\.example\.net\/p\/309\//);
  t.notMatch(r.location, /\/ks\/|\/sig\//, 'no KS, no kdeliver signature');
  // its HLS master's subtitle playlists are api_v3 URLs on that host: without the KS either
  const master = await text(PM('1_alt0audi', 'applehttp', `/deliveryProfileId/3906/ks/${admin}`, 'a.m3u8'));
  t.equal(master.status, 200);
  const subtitles = [...master.body.matchAll(/TYPE=SUBTITLES[^\n]*URI="([^"]+)"/g)].map((m) => m[1]);
  t.equal(subtitles.length, 2, 'two subtitle playlists');
  for (const u of subtitles) t.notMatch(u, /\/ks\//, `${u}: no KS`);
});

t.test('which profile URLs reach kdeliver', async (t) => {
  const chosen = (url: string, extraParams: Record<string, unknown> = {}, storage = false) => ({ profile: { url, extraParams } as never, storage: storage ? ({ id: 1 } as never) : null });
  const base = 'https://kd.example.com:8443';
  t.ok(reachesKdeliver(chosen('/hls'), base), 'a path');
  t.ok(reachesKdeliver(chosen('https://kd.example.com/hls'), base), 'its host name on another port (behind a proxy)');
  t.ok(reachesKdeliver(chosen('KD.example.com./hls'), base), 'its host name in another case, with the root dot, without a scheme');
  t.notOk(reachesKdeliver(chosen('https://cdn.example.com/hls'), base), 'another host');
  for (const v of [true, 'true', 1]) t.ok(reachesKdeliver(chosen('https://cdn.example.com/hls', { kdeliverOrigin: v }), base), `another host marked kdeliverOrigin ${JSON.stringify(v)}`);
  t.notOk(reachesKdeliver(chosen('/hls', {}, true), base), 'an external storage\'s files');
});

t.test('a tokenizer that rewrites the signed path cannot carry protected media: a clear 503, not URLs the origin refuses', async (t) => {
  const r = await text(PM('1_kssecure', 'applehttp', `/deliveryProfileId/3905/ks/${viewer()}`, 'a.m3u8'));
  t.equal(r.status, 503);
  t.match(r.body, /delivery profile 3905: its kaltura tokenizer rewrites the path kdeliver's media signature covers/);
  const open = await text(PM('1_rcit0qgs', 'applehttp', '/deliveryProfileId/3905', 'a.m3u8'));
  t.equal(open.status, 200, 'an entry without rules plays through it');
});

t.test('each subtitle playlist of the master carries a token for its own URL', async (t) => {
  const master = await text(PM('1_alt0audi', 'applehttp', '/deliveryProfileId/3902', 'a.m3u8'));
  t.equal(master.status, 200, 'the master');
  const all = uris(master.body);
  const subtitles = all.filter((u) => /subtitles-\d+\.m3u8/.test(u));
  t.equal(subtitles.length, 2, 'two subtitle playlists');
  for (const u of all) {
    const url = new URL(u);
    const token = url.searchParams.get('__gda__') ?? '';
    t.equal(token, gda(url.pathname, Number(token.split('_')[0])), `${url.pathname.split('/').pop()}: Akamai's token for this path`);
  }
});
