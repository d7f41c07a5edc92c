// playManifest over HTTP against the real server and the sample library: the documentation's own
// examples, every format, every sample entry's contract, errors and bad input.
import t from 'tap';
import { Parser } from 'm3u8-parser';
import { convert } from 'xmlbuilder2';
import { startServer } from '../helpers/server.js';
import { generateKs } from '../../src/access/ks.js';

const s = await startServer(t, { env: { KDELIVER_TRUST_PROXY: 'true' } });
const now = () => Math.floor(Date.now() / 1000);
const get = (path: string, init: RequestInit = {}) => fetch(s.url + path, { redirect: 'manual', ...init });
const PM = '/p/309/sp/0/playManifest/entryId';
const errorCode = (r: Response) => (r.headers.get('x-kaltura') ?? '').match(/error-(\d+)/)?.[1];
const ks = (o: { partnerId?: number; type?: 0 | 2; privileges?: string; expiry?: number; version?: 1 | 2 } = {}) =>
  generateKs({
    partnerId: o.partnerId ?? 309, secret: `sample-admin-secret-${o.partnerId ?? 309}`, type: o.type ?? 0, userId: 'tester',
    expiry: o.expiry ?? 3600, privileges: o.privileges ?? '', version: o.version ?? 2, now: now(),
  });
/** A multivariant playlist, read by m3u8-parser (which leaves `playlists` out of anything else). */
const master = (text: string) => {
  const p = new Parser();
  p.push(text);
  p.end();
  const m = p.manifest;
  if (!m.playlists) throw new Error(`not a multivariant playlist:\n${text}`);
  return { ...m, playlists: m.playlists };
};

t.test('documentation example: format/url with flavorParamId redirects to the 720p file, whose bytes arrive with ranges', async (t) => {
  const r = await get(`${PM}/1_rcit0qgs/format/url/flavorParamId/301971/video.mp4`);
  t.equal(r.status, 302);
  const loc = r.headers.get('location')!;
  t.match(loc, /\/p\/309\/sp\/30900\/serveFlavor\/entryId\/1_rcit0qgs\/v\/1\/flavorId\/1_f3rcit00\/forceproxy\/true\/name\/a\.mp4$/);
  t.equal(await r.text(), '\n');
  const full = await fetch(loc);
  t.equal(full.status, 200);
  t.equal(full.headers.get('content-type'), 'video/mp4');
  const bytes = Buffer.from(await full.arrayBuffer());
  t.equal(bytes.length, Number(full.headers.get('content-length')));
  t.equal(bytes.subarray(4, 8).toString('latin1'), 'ftyp');
  const part = await fetch(loc, { headers: { Range: 'bytes=100-199' } });
  t.equal(part.status, 206);
  t.equal(part.headers.get('content-range'), `bytes 100-199/${bytes.length}`);
  t.same(Buffer.from(await part.arrayBuffer()), bytes.subarray(100, 200));
  const past = await fetch(loc, { headers: { Range: `bytes=${bytes.length}-` } });
  t.equal(past.status, 416);
  t.equal(past.headers.get('content-range'), `bytes */${bytes.length}`);
});

t.test('documentation example: applehttp with flavorParamId gives a master with exactly that variant', async (t) => {
  const r = await get(`${PM}/1_rcit0qgs/format/applehttp/protocol/http/flavorParamId/301971/video.mp4`);
  t.equal(r.status, 200);
  t.equal(r.headers.get('content-type'), 'application/x-mpegurl');
  t.equal(r.headers.get('access-control-allow-origin'), '*');
  t.equal(r.headers.get('timing-allow-origin'), '*');
  t.match(r.headers.get('cache-control'), /^private, max-age=60, max-stale=0$/);
  const m = master(await r.text());
  t.equal(m.playlists.length, 1);
  const v = m.playlists[0];
  t.equal(v.attributes.BANDWIDTH, Math.floor(1335 * 1024 * (188 / 184) + 25 * 188 * 4));
  t.same(v.attributes.RESOLUTION, { width: 1280, height: 720 });
  t.equal(v.attributes['FRAME-RATE'], 25);
  t.equal(v.attributes.CODECS, 'avc1.64001f,mp4a.40.2');
  t.match(v.uri, /^http:\/\/127\.0\.0\.1:\d+\/hls\/p\/309\/sp\/30900\/serveFlavor\/entryId\/1_rcit0qgs\/v\/1\/flavorId\/1_f3rcit00\/name\/a\.mp4\/index\.m3u8$/);
});

t.test('applehttp default tags give the three applembr flavors in ascending bitrate', async (t) => {
  const r = await get(`${PM}/1_rcit0qgs/format/applehttp/protocol/https/a.m3u8`);
  const m = master(await r.text());
  t.same(m.playlists.map((p: any) => p.uri.match(/flavorId\/([^/]+)/)[1]), ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']);
  t.ok(m.playlists.every((p: any) => p.uri.startsWith('https://')), 'protocol param sets the scheme of emitted URLs');
});

t.test('a missing format means url (progressive); the lowest mbr flavor is the one', async (t) => {
  const r = await get(`${PM}/1_rcit0qgs`);
  t.equal(r.status, 302);
  t.match(r.headers.get('location'), /flavorId\/1_f1rcit00\/forceproxy\/true\/name\/a\.mp4$/);
});

t.test('format/download redirects with a file name; serveFlavor answers as an attachment', async (t) => {
  const r = await get(`${PM}/1_rcit0qgs/format/download/protocol/http/flavorParamId/301951`);
  t.equal(r.status, 302);
  const loc = r.headers.get('location')!;
  t.match(loc, /flavorId\/1_f2rcit00\/fileName\/Sample%20video%20\(Mobile%20\(H264\)%20360p\)\.mp4\/forceproxy\/true\/name\/a\.mp4$/);
  const f = await fetch(loc, { method: 'HEAD' });
  t.equal(f.status, 200);
  t.equal(f.headers.get('content-disposition'), 'attachment; filename="Sample video (Mobile (H264) 360p).mp4"');
});

t.test('mpegdash redirects to the packager urlset manifest', async (t) => {
  const r = await get(`${PM}/1_rcit0qgs/format/mpegdash/protocol/http/manifest.mpd`);
  t.equal(r.status, 302);
  t.match(r.headers.get('location'), /\/dash\/p\/309\/sp\/30900\/serveFlavor\/entryId\/1_rcit0qgs\/v\/1\/flavorId\/1_f,1,2,3,rcit00\/forceproxy\/true\/name\/a\.mp4\.urlset\/manifest\.mpd$/);
});

t.test('sl redirects to the MSS manifest; deliveryProfileId 1006 redirects to the packager master', async (t) => {
  const sl = await get(`${PM}/1_rcit0qgs/format/sl/protocol/http/a.ism`);
  t.equal(sl.status, 302);
  t.match(sl.headers.get('location'), /\/mss\/p\/309\/.*\.urlset\/manifest$/);
  const hlsm = await get(`${PM}/1_rcit0qgs/format/applehttp/deliveryProfileId/1006/protocol/http/a.m3u8`);
  t.equal(hlsm.status, 302);
  t.match(hlsm.headers.get('location'), /\/hls\/p\/309\/sp\/30900\/serveFlavor\/entryId\/1_rcit0qgs\/v\/1\/flavorId\/1_f,1,2,3,rcit00\/name\/a\.mp4\.urlset\/master\.m3u8$/);
});

t.test('hdnetworkmanifest: F4M pointing at the packager; short entries fall back to one progressive flavor', async (t) => {
  // the sample clips are 12 s long: no fallback
  const r = await get(`${PM}/1_rcit0qgs/format/hdnetworkmanifest/protocol/http/a.f4m`);
  t.equal(r.status, 200);
  t.equal(r.headers.get('content-type'), 'text/xml; charset=UTF-8');
  const doc: any = convert(await r.text(), { format: 'object' });
  t.equal(doc.manifest['@xmlns'], 'http://ns.adobe.com/f4m/1.0');
  t.equal(doc.manifest.id, '1_rcit0qgs');
  t.equal(doc.manifest.duration, '12');
  t.match(doc.manifest.media['@url'], /\/hds\/p\/309\/.*\.urlset\/manifest\.f4m$/);
  // clipped to 5 s by clipTo: the duration stays the flavor's, so no fallback either; a shorter
  // entry is covered in the unit tests of the selection
});

t.test('http format and responseFormat variants', async (t) => {
  const f4m: any = convert(await (await get(`${PM}/1_rcit0qgs/format/http/protocol/http/a.f4m`)).text(), { format: 'object' });
  t.equal(f4m.manifest.mimeType, 'video/x-flv');
  t.match(f4m.manifest.media['@url'], /serveFlavor\/entryId\/1_rcit0qgs\/v\/1\/flavorId\/1_f1rcit00\/forceproxy\/true\/name\/a\.mp4$/);
  t.equal(f4m.manifest.media['@bitrate'], '378');

  const smilRes = await get(`${PM}/1_rcit0qgs/format/applehttp/protocol/http/responseFormat/smil/a.smil`);
  const smil: any = convert(await smilRes.text(), { format: 'object' });
  t.equal(smil.smil.body.switch.video.length, 3);
  t.equal(smil.smil.body.switch.video[0]['@system-bitrate'], '378000');

  const json = await get(`${PM}/1_rcit0qgs/format/applehttp/protocol/http/responseFormat/json/a.json`);
  t.equal(json.headers.get('content-type'), 'application/json');
  const text = await json.text();
  t.match(text, /\\\//, 'slashes escaped as PHP does');
  const body = JSON.parse(text);
  t.equal(body.entryId, '1_rcit0qgs');
  t.equal(body.duration, 12);
  t.equal(body.flavors.length, 3);
  t.same(Object.keys(body.flavors[0]).sort(), ['audioCodec', 'audioLabel', 'audioLanguage', 'audioLanguageName', 'bitrate', 'codecs', 'defaultAudio', 'ext', 'frameRate', 'height', 'url', 'width']);

  const jsonp = await get(`${PM}/1_rcit0qgs/format/url/protocol/http/responseFormat/jsonp/a.js?callback=cb.x_1`);
  t.match(await jsonp.text(), /^cb\.x_1\(\{"entryId":"1_rcit0qgs"/);
  const badCb = await get(`${PM}/1_rcit0qgs/format/url/protocol/http/responseFormat/jsonp/a.js?callback=alert(1)`);
  t.equal(badCb.status, 400);
  t.equal(errorCode(badCb), '25');

  const f4mv2: any = convert(await (await get(`${PM}/1_rcit0qgs/format/http/responseFormat/f4mv2`)).text(), { format: 'object' });
  t.equal(f4mv2.manifest['@xmlns'], 'http://ns.adobe.com/f4m/2.0');
});

t.test('hdnetwork renders an F4M footer pointing at the SMIL form; rtsp and rtmp need a profile', async (t) => {
  const r = await get(`${PM}/1_rcit0qgs/format/hdnetwork/protocol/http/a.f4m`);
  t.equal(r.status, 200);
  const doc: any = convert(await r.text(), { format: 'object' });
  t.match(doc.manifest.media['@url'], /format\/hdnetworksmil\/protocol\/http\/a\.smil$/);
  // only the format and the extension change: values that hold "f4m" or "hdnetwork" (a KS can)
  // are the request's own
  const other = await get(`${PM}/1_rcit0qgs/format/hdnetwork/protocol/http/playSessionId/abc-f4m-hdnetwork/a.f4m?clientTag=f4m&format=x`);
  const footer: any = convert(await other.text(), { format: 'object' });
  t.match(footer.manifest.media['@url'], /\/format\/hdnetworksmil\/protocol\/http\/playSessionId\/abc-f4m-hdnetwork\/a\.smil\?clientTag=f4m&amp;format=x$/);
  const query = await get(`${PM}/1_rcit0qgs/protocol/http/a.f4m?format=hdnetwork&clientTag=hdnetwork-f4m`);
  t.match((convert(await query.text(), { format: 'object' }) as any).manifest.media['@url'], /\/protocol\/http\/a\.smil\?format=hdnetworksmil&amp;clientTag=hdnetwork-f4m$/, 'the format as a query parameter (convert leaves the attribute\'s &amp; as it is written)');
  for (const f of ['rtsp', 'rtmp', 'hds', 'auto', 'nonsense']) {
    const x = await get(`${PM}/1_rcit0qgs/format/${f}/protocol/http/a`);
    t.equal(x.status, 400, f);
    t.equal(errorCode(x), '25', f);
    t.match(x.headers.get('x-kaltura-app'), /exiting on error 25 - wrong query attributes, This format is unsupported/);
  }
});

t.test('aliases, first occurrence, header KS and CORS preflight', async (t) => {
  const r = await get('/p/309/sp/0/playManifest/e/1_rcit0qgs/f/applehttp/pt/http/fp/301961/e/nope/a.m3u8');
  t.equal(r.status, 200, 'short aliases; the first occurrence wins');
  t.equal(master(await r.text()).playlists.length, 1);
  const longWins = await get('/p/309/sp/0/playManifest/e/1_rcit0qgs/entryId/nope/f/url/a.mp4');
  t.equal(errorCode(longWins), '1', 'the full name is looked up before its alias');
  const opt = await get(`${PM}/1_rcit0qgs/format/url`, { method: 'OPTIONS' });
  t.equal(opt.status, 200);
  t.equal(opt.headers.get('access-control-allow-origin'), '*');
  t.match(opt.headers.get('access-control-allow-headers'), /X-Kaltura-Ks/);
  t.match(opt.headers.get('access-control-allow-methods'), /HEAD/);
  for (const prefix of ['/p/309/playManifest', '/s/p/309/sp/30900/playManifest', '/s/p/309/playManifest', '/index.php/extwidget/playManifest']) {
    const x = await get(`${prefix}/entryId/1_rcit0qgs/format/url/a.mp4`);
    t.equal(x.status, 302, prefix);
  }
  const q = await get('/p/309/sp/0/playManifest?entryId=1_rcit0qgs&format=applehttp');
  t.equal(q.status, 200, 'query string parameters');
  const head = await get(`${PM}/1_rcit0qgs/format/applehttp/a.m3u8`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(await head.text(), '');
});

t.test('alternate audio and captions: AUDIO and SUBTITLES groups', async (t) => {
  const r = await get(`${PM}/1_alt0audi/format/applehttp/protocol/http/a.m3u8`);
  const m = master(await r.text());
  t.equal(m.playlists.length, 2);
  t.ok(m.playlists.every((p: any) => p.attributes.AUDIO === 'audio' && p.attributes.SUBTITLES === 'subs'));
  const audio = m.mediaGroups.AUDIO.audio;
  t.same(Object.keys(audio).sort(), ['English', 'Español']);
  t.equal(audio.English.language, 'en');
  t.equal(audio.English.default, true);
  t.equal(audio['Español'].default, false);
  const subs = m.mediaGroups.SUBTITLES.subs;
  t.same(Object.keys(subs).sort(), ['English', 'Español']);
  t.match(subs.English.uri, /\/hls\/p\/309\/sp\/30900\/serveFlavor\/entryId\/1_alt0audi\/v\/1\/flavorId\/1_f1alt000\/name\/a\.mp4\/subtitles-1\.m3u8$/);
  const playlist = await (await fetch(subs.English.uri!)).text();
  t.match(playlist, /^#EXTM3U[\s\S]*#EXTINF:[\s\S]*subtitles-1\.vtt/, 'the subtitle playlist lists its WebVTT');
  const spa = master(await (await get(`${PM}/1_alt0audi/format/applehttp/protocol/http/defaultAudioLang/spa/a.m3u8`)).text());
  t.equal(spa.mediaGroups.AUDIO.audio['Español'].default, true, 'defaultAudioLang picks the default track');
  const noCaps = master(await (await get(`${PM}/1_alt0audi/format/applehttp/protocol/http/disableCaptions/1/a.m3u8`)).text());
  t.notOk(noCaps.mediaGroups.SUBTITLES.subs, 'disableCaptions drops subtitle renditions');
});

t.test('audio-only entry: one audio variant; format/url redirects to the mp4', async (t) => {
  const text = await (await get(`${PM}/1_audio001/format/applehttp/protocol/http/a.m3u8`)).text();
  const m = master(text);
  t.equal(m.playlists.length, 1);
  t.match(m.playlists[0].uri, /flavorId\/1_f1audio0\//);
  const u = await get(`${PM}/1_audio001/format/url/protocol/http/a.mp4`);
  t.equal(u.status, 302);
  t.match(u.headers.get('location'), /flavorId\/1_f1audio0\/forceproxy\/true\/name\/a\.mp4$/);
});

t.test('1_kssecure: anonymous 3; a KS with sview or an admin KS plays', async (t) => {
  const anon = await get(`${PM}/1_kssecure/format/url/a.mp4`);
  t.equal(anon.status, 403);
  t.equal(errorCode(anon), '3');
  t.match(anon.headers.get('x-kaltura'), /access-control: a session \(KS\) is required/);
  t.match(await anon.text(), /^error 3 ACCESS_CONTROL_RESTRICTED: entry restricted due to access-control/);
  for (const k of [ks({ privileges: 'sview:1_kssecure' }), ks({ privileges: 'sview:*' }), ks({ type: 2 }), ks({ type: 2, version: 1 })]) {
    const ok = await get(`${PM}/1_kssecure/format/url/ks/${k}/a.mp4`);
    t.equal(ok.status, 302);
    const media = await fetch(ok.headers.get('location')!, { method: 'HEAD' });
    t.equal(media.status, 200, 'the signed media URL plays');
  }
  const header = await get(`${PM}/1_kssecure/format/url/a.mp4`, { headers: { 'X-Kaltura-Ks': ks({ privileges: 'sview:*' }) } });
  t.equal(header.status, 302, 'KS in the X-Kaltura-Ks header');
  const other = await get(`${PM}/1_kssecure/format/url/ks/${ks({ privileges: 'sview:1_other' })}/a.mp4`);
  t.equal(errorCode(other), '3', 'sview of another entry does not satisfy the rule');
  const unsigned = await fetch(`${s.url}/p/309/sp/30900/serveFlavor/entryId/1_kssecure/v/1/flavorId/1_f3kssec0/forceproxy/true/name/a.mp4`);
  t.equal(unsigned.status, 403, 'protected media cannot be fetched around playManifest');
  t.equal(errorCode(unsigned), '27');
});

t.test('KS errors: garbage 7, expired 31, another partner 32 on a protected entry, ignored elsewhere', async (t) => {
  t.equal(errorCode(await get(`${PM}/1_kssecure/format/url/ks/garbage!!/a.mp4`)), '7');
  const expired = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: -1, now: now(), version: 2 });
  const e = await get(`${PM}/1_rcit0qgs/format/url/ks/${expired}/a.mp4`);
  t.equal(e.status, 403);
  t.equal(errorCode(e), '31');
  const other = ks({ partnerId: 310, type: 2 });
  t.equal(errorCode(await get(`${PM}/1_kssecure/format/url/ks/${other}/a.mp4`)), '32');
  t.equal((await get(`${PM}/1_rcit0qgs/format/url/ks/${other}/a.mp4`)).status, 302, 'another partner\'s KS is ignored on an open entry');
  // one that partner did not sign is read as a bad KS, not as another partner's (it was 32, or ignored)
  const forged310 = Buffer.from('v2|310|0123456789abcdef0123456789abcdef').toString('base64');
  const forged999 = generateKs({ partnerId: 999, secret: 'anything', type: 2, expiry: 3600, now: now(), version: 1 });
  const forged310v1 = generateKs({ partnerId: 310, secret: 'not-310s-secret', type: 2, expiry: 3600, now: now(), version: 1 });
  for (const [what, forged] of [['v2 garbage of 310', forged310], ['v1 of a partner that does not exist', forged999], ['v1 of 310, another secret', forged310v1]]) {
    t.equal(errorCode(await get(`${PM}/1_kssecure/format/url/ks/${forged}/a.mp4`)), '7', `${what}, protected entry: 7`);
    t.equal(errorCode(await get(`${PM}/1_rcit0qgs/format/url/ks/${forged}/a.mp4`)), '7', `${what}, open entry: 7`);
  }
  const userSigned = generateKs({ partnerId: 309, secret: 'sample-user-secret-309', type: 2, expiry: 3600, now: now(), version: 2 });
  t.equal(errorCode(await get(`${PM}/1_rcit0qgs/format/url/ks/${userSigned}/a.mp4`)), '7', 'only the admin secret validates');
});

t.test('1_preview1: anonymous plays the first 5 s; with a KS the whole entry', async (t) => {
  const anon = await get(`${PM}/1_preview1/format/applehttp/protocol/http/a.m3u8`);
  t.equal(anon.status, 200);
  const m = master(await anon.text());
  t.ok(m.playlists.every((p: any) => /\/clipTo\/5000\//.test(p.uri)), 'clipTo 5000 in every variant');
  const withKs = master(await (await get(`${PM}/1_preview1/format/applehttp/protocol/http/ks/${ks({ privileges: 'sview:*' })}/a.m3u8`)).text());
  t.notOk(withKs.playlists.some((p: any) => /clipTo/.test(p.uri)));
  const url = await get(`${PM}/1_preview1/format/url/a.mp4`);
  t.match(url.headers.get('location'), /\/entryId\/1_preview1\/clipTo\/5000\/v\/1\//);
});

t.test('1_siteonly: referrer on example.com or a subdomain plays; others and none get 3', async (t) => {
  const b64 = (s: string) => Buffer.from(s).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
  t.equal((await get(`${PM}/1_siteonly/format/url/referrer/${b64('https://www.example.com/page')}/a.mp4`)).status, 302);
  t.equal((await get(`${PM}/1_siteonly/format/url/referrer/${b64('https://example.com/')}/a.mp4`)).status, 302);
  t.equal((await get(`${PM}/1_siteonly/format/url/a.mp4`, { headers: { Referer: 'https://www.example.com/x' } })).status, 302, 'HTTP Referer when no param');
  for (const bad of ['https://www.example.com.evil.net/', 'https://notexample.com/', 'https://other.org/']) {
    t.equal(errorCode(await get(`${PM}/1_siteonly/format/url/referrer/${b64(bad)}/a.mp4`)), '3', bad);
  }
  t.equal(errorCode(await get(`${PM}/1_siteonly/format/url/a.mp4`)), '3', 'no referrer');
});

t.test('1_iponly00: from 127.0.0.1 error 3; from 10.x (trusted proxy) plays', async (t) => {
  t.equal(errorCode(await get(`${PM}/1_iponly00/format/url/a.mp4`)), '3');
  t.equal((await get(`${PM}/1_iponly00/format/url/a.mp4`, { headers: { 'X-Forwarded-For': '10.1.2.3' } })).status, 302);
  // the proxy appends the address it saw ($proxy_add_x_forwarded_for): the entries left of it are
  // the client's own words, and once chose the address (KDELIVER_TRUST_PROXY trusted every hop)
  t.equal(errorCode(await get(`${PM}/1_iponly00/format/url/a.mp4`, { headers: { 'X-Forwarded-For': '10.1.2.3, 203.0.113.9' } })), '3', 'a client\'s own entry is not its address');
  const restricted = ks({ privileges: 'sview:1_kssecure,iprestrict:198.51.100.7' });
  t.equal(errorCode(await get(`${PM}/1_kssecure/format/url/ks/${restricted}/a.mp4`, { headers: { 'X-Forwarded-For': '198.51.100.7, 203.0.113.9' } })), '34', 'nor for a KS\'s iprestrict');
  t.equal((await get(`${PM}/1_kssecure/format/url/ks/${restricted}/a.mp4`, { headers: { 'X-Forwarded-For': '203.0.113.9, 198.51.100.7' } })).status, 302, 'the proxy\'s entry is');
});

t.test('KDELIVER_TRUST_PROXY=2 (a CDN before the proxy): the address the outer proxy saw', async (t) => {
  const two = await startServer(t, { env: { KDELIVER_TRUST_PROXY: '2' } });
  const at = (xff: string) => fetch(`${two.url}${PM}/1_iponly00/format/url/a.mp4`, { headers: { 'X-Forwarded-For': xff }, redirect: 'manual' });
  t.equal((await at('203.0.113.9, 10.1.2.3, 172.16.0.5')).status, 302, 'the second entry from the end');
  t.equal(errorCode(await at('10.1.2.3, 203.0.113.9, 172.16.0.5')), '3', 'not the client\'s own');
});

t.test('1_flavlim0: every format offers only the 240p flavor', async (t) => {
  const m = master(await (await get(`${PM}/1_flavlim0/format/applehttp/protocol/http/a.m3u8`)).text());
  t.equal(m.playlists.length, 1);
  t.match(m.playlists[0].uri, /flavorId\/1_f1flim00\//);
  const asked720 = await get(`${PM}/1_flavlim0/format/url/flavorParamId/301971/a.mp4`);
  t.match(asked720.headers.get('location'), /flavorId\/1_f1flim00\//, 'a disallowed params id falls back to what is allowed');
  const dash = await get(`${PM}/1_flavlim0/format/mpegdash/protocol/http/manifest.mpd`);
  t.match(dash.headers.get('location'), /flavorId\/1_f1flim00\/forceproxy\/true\/name\/a\.mp4\/exp\/\d+\/sig\/[^/]+\/manifest\.mpd$/);
});

t.test('1_sched000: error 2; an admin KS plays. 1_moderat0: error 13; an admin KS plays', async (t) => {
  const sched = await get(`${PM}/1_sched000/format/url/a.mp4`);
  t.equal(sched.status, 403);
  t.equal(errorCode(sched), '2');
  t.equal((await get(`${PM}/1_sched000/format/url/ks/${ks({ type: 2 })}/a.mp4`)).status, 302);
  t.equal((await get(`${PM}/1_sched000/format/url/ks/${ks({ privileges: 'sview:*' })}/a.mp4`)).status, 302, 'sview skips the schedule');
  const mod = await get(`${PM}/1_moderat0/format/url/a.mp4`);
  t.equal(mod.status, 403);
  t.equal(errorCode(mod), '13');
  t.equal((await get(`${PM}/1_moderat0/format/url/ks/${ks({ type: 2 })}/a.mp4`)).status, 302);
});

t.test('1_sched000 and 1_moderat0: their media URLs are signed, and refused unsigned', async (t) => {
  // only an admin or sview session plays them: before, anyone with a media URL fetched the file
  for (const entry of ['1_sched000', '1_moderat0']) {
    const fid = (await s.app.catalog.listFlavors(entry))[1].id;
    for (const path of [`/p/309/sp/30900/serveFlavor/entryId/${entry}/v/1/flavorId/${fid}/name/a.mp4`, `/hls/p/309/sp/30900/serveFlavor/entryId/${entry}/v/1/flavorId/${fid}/name/a.mp4/index.m3u8`]) {
      const r = await get(path);
      t.equal(r.status, 403, `${entry}: ${path.split('/')[1]} unsigned: 403`);
      t.equal(errorCode(r), '27', 'error 27 (the signed URL playManifest gives is needed)');
    }
    const admin = await get(`${PM}/${entry}/format/url/ks/${ks({ type: 2 })}/a.mp4`);
    const media = admin.headers.get('location')!;
    t.match(media, /\/exp\/\d+\/sig\//, `${entry}: the admin's media URL is signed`);
    const file = await fetch(media);
    t.equal(file.status, 200, `${entry}: and plays`);
    await file.arrayBuffer();
    const master = await (await get(`${PM}/${entry}/format/applehttp/protocol/http/ks/${ks({ type: 2 })}/a.m3u8`)).text();
    const variant = master.split('\n').find((l) => l && !l.startsWith('#'))!;
    const playlist = await fetch(variant);
    t.equal(playlist.status, 200, `${entry}: its HLS playlist plays`);
    const segment = (await playlist.text()).split('\n').find((l) => l && !l.startsWith('#'))!;
    const seg = await fetch(new URL(segment, variant));
    t.equal(seg.status, 200, `${entry}: and its segments`);
    await seg.arrayBuffer();
  }
});

t.test('missing entries, deleted, converting, image and document', async (t) => {
  const none = await get(`${PM}/1_nothere0/format/url/a.mp4`);
  t.equal(none.status, 404);
  t.equal(errorCode(none), '1');
  const del = await get(`${PM}/1_deleted0/format/url/a.mp4`);
  t.equal(del.status, 404);
  t.equal(errorCode(del), '1');
  t.match(del.headers.get('x-kaltura-app'), /ENTRY_DELETED_MODERATED/);
  t.equal(errorCode(await get(`${PM}/1_convert0/format/url/a.mp4`)), '6');
  t.equal((await get(`${PM}/1_convert0/format/url/a.mp4`)).status, 404);
  t.equal(errorCode(await get(`${PM}/1_image000/format/url/a.mp4`)), '6');
  t.equal(errorCode(await get(`${PM}/1_document/format/url/a.mp4`)), '12');
  t.equal(errorCode(await get('/p/309/sp/0/playManifest/format/url/a.mp4')), '1', 'no entry id');
});

t.test('1_secure01 of partner 310: plain HTTP or protocol/http gives 3; HTTPS with protocol/https plays', async (t) => {
  const plain = await get('/p/310/sp/0/playManifest/entryId/1_secure01/format/applehttp/protocol/https/a.m3u8');
  t.equal(errorCode(plain), '3');
  t.match(plain.headers.get('x-kaltura-app'), /unencrypted manifest request - forbidden/);
  const httpProto = await get('/p/310/sp/0/playManifest/entryId/1_secure01/format/applehttp/protocol/http/a.m3u8', { headers: { 'X-Forwarded-Proto': 'https' } });
  t.equal(errorCode(httpProto), '3');
  t.match(httpProto.headers.get('x-kaltura-app'), /unencrypted playback protocol - forbidden/);
  const ok = await get('/p/310/sp/0/playManifest/entryId/1_secure01/format/applehttp/protocol/https/a.m3u8', { headers: { 'X-Forwarded-Proto': 'https' } });
  t.equal(ok.status, 200);
  t.ok(master(await ok.text()).playlists.every((p: any) => p.uri.startsWith('https://')));
});

t.test('bitrate filters and their errors', async (t) => {
  const m = master(await (await get(`${PM}/1_rcit0qgs/format/applehttp/protocol/http/maxBitrate/700/a.m3u8`)).text());
  t.equal(m.playlists.length, 2);
  const keep = master(await (await get(`${PM}/1_rcit0qgs/format/applehttp/protocol/http/mb/10/a.m3u8`)).text());
  t.equal(keep.playlists.length, 3, 'a filter leaving nothing keeps everything');
  const mb = await get(`${PM}/1_rcit0qgs/format/applehttp/maxBitrate/abc/a.m3u8`);
  t.equal(mb.status, 400);
  t.equal(errorCode(mb), '19');
  t.equal(errorCode(await get(`${PM}/1_rcit0qgs/format/applehttp/minBitrate/-5/a.m3u8`)), '49');
});

t.test('kt signed URLs and expiry', async (t) => {
  const { signPlayManifestUrl } = await import('../../src/access/kt.js');
  const signed = signPlayManifestUrl(`${PM}/1_kssecure/flavorId/1_f1kssec0/protocol/http/format/url/a.mp4`, 'sample-url-token-secret');
  const ok = await get(signed);
  t.equal(ok.status, 302, 'a valid kt skips KS and access control');
  const changed = signed.replace('1_f1kssec0', '1_f3kssec0');
  t.equal(errorCode(await get(changed)), '27');
  t.equal(errorCode(await get(`${PM}/1_rcit0qgs/format/url/expiry/${now() - 1}/a.mp4`)), '28');
  const future = signPlayManifestUrl(`${PM}/1_rcit0qgs/format/url/a.mp4`, 'sample-url-token-secret', now() + 600);
  t.equal((await get(future)).status, 302);
});

t.test('CDN profiles: Akamai __gda__ on 2001, CloudFront on 2002', async (t) => {
  const ak = master(await (await get(`${PM}/1_rcit0qgs/format/applehttp/protocol/https/deliveryProfileId/2001/a.m3u8`)).text());
  t.ok(ak.playlists.every((p: any) => /^https:\/\/cdn\.example\.com\/hls\/p\/309\/.*index\.m3u8\?__gda__=\d+_[0-9a-f]{32}$/.test(p.uri)));
  const cf = await get(`${PM}/1_rcit0qgs/format/url/protocol/https/deliveryProfileId/2002/a.mp4`);
  t.equal(cf.status, 302);
  t.match(cf.headers.get('location'), /^https:\/\/d111111abcdef8\.cloudfront\.net\/p\/309\/.*\?.*Signature=.*Key-Pair-Id=K2SAMPLEKEYPAIR/);
});

t.test('bad input never gives a 500', async (t) => {
  const cases = [
    '/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/url/%2e%2e%2f%2e%2e%2fetc%2fpasswd',
    '/p/309/sp/0/playManifest/entryId/..%2F..%2Fetc/format/url',
    '/p/309/sp/0/playManifest/entryId/1_rcit0qgs%00/format/url',
    '/p/309/sp/0/playManifest/entryId/%E0%A4%A/format/url',
    `/p/309/sp/0/playManifest/entryId/${'x'.repeat(10240)}/format/url`,
    '/p/abc/sp/0/playManifest/entryId/1_rcit0qgs/format/url',
    '/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/url/ks/' + 'A'.repeat(5000),
    '/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/url/referrer/%0d%0aSet-Cookie:x',
    '/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/url/protocol/ht%0d%0atp',
  ];
  for (const c of cases) {
    const r = await get(c);
    t.ok(r.status >= 300 && r.status < 500, `${c.slice(0, 80)} → ${r.status}`);
    t.notMatch(await r.text(), /at .*\.(ts|js):\d+/, 'no stack trace');
  }
});

t.test('flavorParamId as a comma list plays exactly those flavors', async (t) => {
  const two = await get(`${PM}/1_rcit0qgs/format/applehttp/protocol/http/flavorParamId/301961,301971/video.m3u8`);
  t.equal(two.status, 200);
  const variants = master(await two.text()).playlists;
  t.same(variants.map((p: any) => p.attributes.RESOLUTION.height).sort((a: number, b: number) => a - b), [240, 720], 'the 240p and 720p flavors only');
  const dash = await get(`${PM}/1_rcit0qgs/format/mpegdash/protocol/http/flavorParamId/301961,301971/manifest.mpd`);
  t.equal(dash.status, 302);
  t.notMatch(dash.headers.get('location') ?? '', /f2rcit00|,2,/, 'the DASH URL set leaves the 360p flavor out');
});

t.test('a sequence with a protected entry: each entry\'s rules are checked, its media URLs signed with the KS under the signature', async (t) => {
  const seq = (k?: string, format = 'applehttp/protocol/http', tail = 'a.m3u8') => `${PM}/1_rcit0qgs/format/${format}/sequence/1_rcit0qgs,1_kssecure${k ? `/ks/${k}` : ''}/${tail}`;
  for (let round = 1; round <= 2; round++) {
    const withKs = await get(seq(ks({ privileges: 'sview:*' })));
    t.equal(withKs.status, 200, `round ${round}: with a KS`);
    const variants = master(await withKs.text()).playlists;
    t.ok(variants.length > 0);
    for (const v of variants) {
      t.match(v.uri, /\/sequence\/1_rcit0qgs,1_kssecure\/.*\/exp\/\d+\/sig\//, 'signed');
      const index = await get(new URL(v.uri, s.url).pathname);
      t.equal(index.status, 200, 'the variant plays with the KS');
      const text = await index.text();
      t.match(text, /#EXT-X-DISCONTINUITY/, 'both entries, one after the other');
      const segs = text.split('\n').filter((l) => l && !l.startsWith('#'));
      const body = await get(new URL(segs[segs.length - 1], new URL(v.uri, s.url)).pathname);
      t.equal(body.status, 200, 'a segment of the protected entry');
      t.equal(Buffer.from(await body.arrayBuffer())[0], 0x47, 'MPEG-TS');
    }
    for (const [what, path] of [['HLS', seq()], ['DASH', seq(undefined, 'mpegdash/protocol/http', 'manifest.mpd')], ['a KS without sview', seq(ks())]] as const) {
      const anon = await get(path);
      t.equal(anon.status, 403, `round ${round}: ${what}`);
      t.equal(errorCode(anon), '3', 'the protected entry\'s session rule');
    }
  }
  const preview = await get(`${PM}/1_rcit0qgs/format/applehttp/protocol/http/sequence/1_rcit0qgs,1_preview1/a.m3u8`);
  t.equal(preview.status, 403, 'an entry that would give only a preview');
  t.match(await preview.text(), /1_preview1 of the sequence offers this session only a preview/);
});

t.test('a sequence is not clipped: the main entry\'s preview refuses it, as another entry\'s does, and seekFrom/clipTo are refused', async (t) => {
  // the main entry's preview would put clipTo into the URLs of a sequence the packager plays whole
  for (const format of ['applehttp/protocol/http/sequence/1_preview1,1_rcit0qgs/a.m3u8', 'mpegdash/protocol/http/sequence/1_preview1,1_rcit0qgs/manifest.mpd']) {
    const r = await get(`${PM}/1_preview1/format/${format}`);
    t.equal(r.status, 403, `${format}: anonymous, main entry a preview`);
    t.equal(errorCode(r), '3');
    t.match(await r.text(), /1_preview1 offers this session only a preview/);
  }
  const withKs = await get(`${PM}/1_preview1/format/applehttp/protocol/http/sequence/1_preview1,1_rcit0qgs/ks/${ks({ privileges: 'sview:*' })}/a.m3u8`);
  t.equal(withKs.status, 200, 'with a KS: the whole entry, so the sequence plays');
  for (const clip of ['seekFrom/3000', 'clipTo/5000']) {
    const r = await get(`${PM}/1_rcit0qgs/format/applehttp/protocol/http/sequence/1_rcit0qgs,1_alt0audi/${clip}/a.m3u8`);
    t.equal(r.status, 400, `${clip} on a sequence of two entries`);
    t.equal(errorCode(r), '25');
    t.match(await r.text(), /sequence of several entries cannot be clipped/);
  }
  const one = await get(`${PM}/1_rcit0qgs/format/applehttp/protocol/http/sequence/1_rcit0qgs/clipTo/5000/a.m3u8`);
  t.equal(one.status, 200, 'a sequence of one entry is clipped as the entry would be');
});

t.test('a sequence entry\'s own rules are not kept with the main entry\'s decision, and its limits, moderation and schedule hold', async (t) => {
  // 1_rcit0qgs has no rules, 1_siteonly's rule reads the referrer: a decision kept for the allowed
  // site must not answer the next request from another site
  const seq = (ids: string, tail = '') => `${PM}/1_rcit0qgs/format/applehttp/protocol/http/sequence/${ids}${tail}/a.m3u8`;
  const site = (host: string) => `?referrer=${Buffer.from(`https://${host}/page`).toString('base64')}`;
  for (let round = 1; round <= 3; round++) {
    t.equal((await get(seq('1_rcit0qgs,1_siteonly') + site('www.example.com'))).status, 200, `round ${round}: the allowed site`);
    const other = await get(seq('1_rcit0qgs,1_siteonly') + site('evil.example.net'));
    t.equal(other.status, 403, `round ${round}: another site`);
    t.equal(errorCode(other), '3');
    t.equal(errorCode(await get(seq('1_rcit0qgs,1_siteonly'))), '3', `round ${round}: no referrer`);
  }
  // 1_flavlim0 allows only params 301961: the main entry's three flavors are refused, 301961 alone plays
  const limited = await get(seq('1_rcit0qgs,1_flavlim0'));
  t.equal(limited.status, 403, 'a flavor the sequence entry does not allow');
  t.match(await limited.text(), /1_flavlim0 of the sequence does not allow flavor params/);
  t.equal((await get(seq('1_rcit0qgs,1_flavlim0', '/flavorParamIds/301961'))).status, 200, 'the flavor it allows');
  t.equal(errorCode(await get(seq('1_rcit0qgs,1_moderat0'))), '13', 'an entry pending moderation');
  t.equal(errorCode(await get(seq('1_rcit0qgs,1_sched000'))), '2', 'an entry out of its schedule');
  // an admin plays them: the sequence's media URLs are signed, as those entries' media needs
  for (const held of ['1_moderat0', '1_sched000']) {
    const master = await get(seq(`1_rcit0qgs,${held}`, `/ks/${ks({ type: 2 })}`));
    t.equal(master.status, 200, `admin, a sequence with ${held}: the master`);
    const variant = (await master.text()).split('\n').find((l) => l && !l.startsWith('#'))!;
    t.match(variant, /\/exp\/\d+\/sig\//, 'its variant URL is signed');
    const playlist = await fetch(variant);
    t.equal(playlist.status, 200, `admin, a sequence with ${held}: the variant playlist plays`);
    await playlist.arrayBuffer();
  }
});

t.test('an entry playing now within its schedule: signed media URLs, refused unsigned (a cache would keep them past the end)', async (t) => {
  const end = Math.floor(Date.now() / 1000) + 3600;
  const upd = await (await fetch(`${s.url}/api_v3/service/baseEntry/action/update?format=1&ks=${ks({ type: 2 })}&entryId=1_audio001&baseEntry:objectType=KalturaBaseEntry&baseEntry:endDate=${end}`)).json();
  t.equal(upd.endDate, end, 'the entry ends in an hour');
  t.teardown(async () => {
    await fetch(`${s.url}/api_v3/service/baseEntry/action/update?format=1&ks=${ks({ type: 2 })}&entryId=1_audio001&baseEntry:objectType=KalturaBaseEntry&baseEntry:endDate=-1`);
  });
  const anon = await get(`${PM}/1_audio001/format/url/a.mp4`);
  t.equal(anon.status, 302, 'anyone plays it now');
  const media = anon.headers.get('location')!;
  t.match(media, /\/exp\/\d+\/sig\//, 'through a signed URL');
  const played = await fetch(media);
  t.equal(played.status, 200);
  await played.arrayBuffer();
  const unsigned = await get(media.replace(s.url, '').replace(/\/exp\/\d+\/sig\/[^/]+/, ''));
  t.equal(errorCode(unsigned), '27', 'its media unsigned: refused');
});

t.test('seekFrom and clipTo that no packager URL could serve are refused where they are asked', async (t) => {
  // before, each became media URLs that all answered 400 (clipTo/100000000000000000000, clipFrom
  // past the end, a clip ending where it starts, a preview ending before the seek)
  const refused = async (path: string, code: string, message: RegExp, what: string) => {
    const r = await get(path);
    t.equal(errorCode(r), code, `${what}: error ${code}`);
    t.match(r.headers.get('x-kaltura-app') ?? '', message, `${what}: says why`);
  };
  await refused(`${PM}/1_rcit0qgs/format/url/clipTo/99999999999999999999/a.mp4`, '25', /clipTo is milliseconds, at most 999999999999/, 'a clipTo of 21 digits');
  await refused(`${PM}/1_rcit0qgs/format/url/seekFrom/9007199254740993/a.mp4`, '25', /seekFrom is milliseconds/, 'a seekFrom past 2^53');
  await refused(`${PM}/1_rcit0qgs/format/applehttp/protocol/http/seekFrom/1e5/a.m3u8`, '25', /seekFrom 100000 is past the end of the entry \(12\d\d\d ms\)/, 'a seekFrom past the end');
  await refused(`${PM}/1_rcit0qgs/format/url/seekFrom/8000/clipTo/2000/a.mp4`, '25', /seekFrom 8000 is not before clipTo 2000/, 'a clip ending before it starts');
  await refused(`${PM}/1_preview1/format/url/seekFrom/8000/a.mp4`, '3', /only the first 5000 ms \(a preview\), and seekFrom 8000 is past it/, 'a seek past an anonymous preview');
  // what can be served still is, and its URL answers
  const inPreview = await get(`${PM}/1_preview1/format/url/seekFrom/2000/a.mp4`);
  t.equal(inPreview.status, 302, 'a seek inside the preview');
  t.match(inPreview.headers.get('location'), /\/clipTo\/5000\/clipFrom\/2000\//);
  const media = await fetch(inPreview.headers.get('location')!);
  t.equal(media.status, 200, 'its media URL answers');
  await media.arrayBuffer();
  const near = await get(`${PM}/1_rcit0qgs/format/url/seekFrom/11000/a.mp4`);
  t.equal(near.status, 302, 'a seek inside the entry');
  const nearMedia = await fetch(near.headers.get('location')!);
  t.equal(nearMedia.status, 200, 'its media URL answers');
  await nearMedia.arrayBuffer();
});
