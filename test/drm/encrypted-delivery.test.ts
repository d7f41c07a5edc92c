// Encrypted delivery over HTTP, decided by real parts: ffmpeg decrypts and decodes the AES-128
// and SAMPLE-AES HLS of 1_aeshls01 with the key from kdeliver's key URI (frame for frame equal to
// the clear entry), and the CENC fragments of 1_cenc0001 with -decryption_key; the key URI and the
// ClearKey licence refuse a missing, wrong or foreign KS; progressive delivery is refused without
// an admin KS; a failing key service gives 502 and no media; no key and no KS reaches the log.
import t from 'tap';
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { loadConfig, type Config } from '../../src/config.js';
import { buildServer, loggerOptions } from '../../src/server.js';
import { generateKs } from '../../src/access/ks.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';
import { clearKeyServiceCache } from '../../src/drm/key-service.js';
import { ksForPath } from '../../src/access/ks.js';
import { requireCommands } from '../helpers/system.js';
import { run } from '../helpers/media-tools.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');

const AES_KEY = '99a62b5ba79a2db6bfd1e25f616d3c88';
const CENC_KID = 'b0eb8a17323924b6d8d36875aacb0b48';
const CENC_KEY = '2e12bc8bbc726374d07ee3626f50108f';
const work = mkdtempSync(join(tmpdir(), 'kdeliver-drm-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));

interface Kd { app: FastifyInstance; url: string; config: Config; log: string[] }

async function start(name: string, env: Record<string, string> = {}): Promise<Kd> {
  const log: string[] = [];
  const sink = new Writable({ write(chunk, _e, done) { log.push(String(chunk)); done(); } });
  const config = loadConfig({ KDELIVER_DATA_DIR: join(work, name), KDELIVER_LOG_LEVEL: 'debug', ...env });
  const app = await buildServer({ config, logger: { ...(loggerOptions(config) as object), stream: sink } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  t.teardown(() => app.close());
  return { app, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`, config, log };
}

const ks = (o: { partnerId?: number; type?: 0 | 2; privileges?: string; expiry?: number } = {}): string => generateKs({
  partnerId: o.partnerId ?? 309, secret: `sample-admin-secret-${o.partnerId ?? 309}`, type: o.type ?? 0, expiry: o.expiry ?? 3600,
  userId: 'viewer', now: Math.floor(Date.now() / 1000), ...(o.privileges !== undefined ? { privileges: o.privileges } : {}),
});
const b64url = (hex: string): string => Buffer.from(hex, 'hex').toString('base64url');
const pm = (kd: Kd, entry: string, tail: string): string => `${kd.url}/p/309/sp/30900/playManifest/entryId/${entry}/${tail}`;
const errorCode = (r: Response): string | null => r.headers.get('x-kaltura');

const kd = await start('main');
const aesKs = ks({ privileges: 'sview:1_aeshls01' });
const cencKs = ks({ privileges: 'sview:1_cenc0001' });

async function text(url: string, init?: RequestInit): Promise<{ status: number; body: string; res: Response }> {
  const res = await fetch(url, { redirect: 'manual', ...init });
  return { status: res.status, body: await res.text(), res };
}

/** framecrc of what ffmpeg decodes from a URL or file (video and audio), with its status. */
async function framecrc(input: string, before: string[] = []): Promise<{ code: number | null; frames: string[]; stderr: string }> {
  const r = await run('ffmpeg', ['-nostdin', '-v', 'error', ...before, '-i', input, '-map', '0', '-f', 'framecrc', '-']);
  return { code: r.code, frames: r.stdout.split('\n').filter((l) => l && !l.startsWith('#')), stderr: r.stderr };
}

/** The first variant's index URL of a playManifest HLS master. */
async function firstVariant(entry: string, k: string | null): Promise<string> {
  const m = await text(pm(kd, entry, `format/applehttp/protocol/http${k ? `/ks/${k}` : ''}/a.m3u8`));
  t.equal(m.status, 200, `${entry} master`);
  return m.body.split('\n').find((l) => l.startsWith('http'))!;
}

t.test('HLS AES-128: every playlist carries EXT-X-KEY, the key URI gives the key to the KS, ffmpeg decodes frame for frame', async (t) => {
  const master = await text(pm(kd, '1_aeshls01', `format/applehttp/protocol/http/ks/${aesKs}/a.m3u8`));
  t.equal(master.status, 200);
  t.notMatch(master.body, /I-FRAME/, 'no I-frame playlists (they would be clear key frames)');
  const variants = master.body.split('\n').filter((l) => l.startsWith('http'));
  t.ok(variants.length >= 3);
  for (const v of variants) {
    const idx = await text(v);
    t.match(idx.body, /\n#EXT-X-KEY:METHOD=AES-128,URI="encryption.key"\n/, 'EXT-X-KEY in the variant playlist');
    const seg = await fetch(new URL(idx.body.split('\n').find((l) => l.endsWith('.ts'))!, v));
    const bytes = Buffer.from(await seg.arrayBuffer());
    t.not(bytes[0], 0x47, 'the segment is not clear MPEG-TS');
    t.equal(bytes.length % 16, 0);
  }
  const keyUrl = new URL('encryption.key', variants[0]).toString();
  const key = await fetch(keyUrl);
  t.equal(key.status, 200);
  t.equal(Buffer.from(await key.arrayBuffer()).toString('hex'), AES_KEY, 'the contract key');
  t.match(key.headers.get('cache-control'), /no-store/);

  // frame for frame what ffmpeg decodes from the clear entry sharing the media
  const enc = await framecrc(variants[0]);
  t.equal(enc.code, 0, enc.stderr);
  t.equal(enc.stderr.trim(), '', 'ffmpeg decodes without an error');
  const clear = await framecrc(await firstVariant('1_rcit0qgs', null));
  t.ok(clear.frames.length > 300, `${clear.frames.length} frames`);
  t.same(enc.frames, clear.frames, 'every decoded frame equals the clear one');
});

t.test('HLS SAMPLE-AES where asked (encryption/sample-aes): ffmpeg decodes with the key URI', async (t) => {
  const v = await firstVariant('1_aeshls01', aesKs);
  const sample = v.replace(/\/index\.m3u8$/, '/encryption/sample-aes/index.m3u8');
  const idx = await text(sample);
  t.match(idx.body, /#EXT-X-KEY:METHOD=SAMPLE-AES,URI="encryption.key",IV=0x[0-9a-f]{32}/);
  const enc = await framecrc(sample);
  t.equal(enc.code, 0, enc.stderr);
  const clear = await framecrc(await firstVariant('1_rcit0qgs', null));
  t.equal(enc.frames.length, clear.frames.length, 'as many frames as the clear entry');
  const video = (f: string[]) => f.filter((l) => l.startsWith('0,'));
  const [ev, cv] = [video(enc.frames), video(clear.frames)];
  t.ok(cv.length > 200);
  // FFmpeg 5.1's HLS demuxer never decrypts the stream's last access unit (it leaves its H.264
  // parser after the last segment's state is gone; src/media/crypto's tests show it per segment),
  // so the last frames of the stream, which reference it, differ; every other frame must match
  const differing = ev.map((l, i) => (l === cv[i] ? -1 : i)).filter((i) => i >= 0);
  t.ok(differing.every((i) => i >= cv.length - 3), `only the stream's last frames differ (${differing.length}: ${differing.join(',')} of ${cv.length})`);
  t.same(ev.slice(0, -3), cv.slice(0, -3), 'every other decoded video frame equals the clear one');
});

t.test('the key URI refuses a missing, wrong, foreign or expired KS; ffmpeg cannot decode without it', async (t) => {
  const v = await firstVariant('1_aeshls01', aesKs);
  // the packager URL as playManifest makes it, re-signed with another ks pair (or none)
  const base = v.replace(/\/ks\/[^/]+/, '').replace(/\/exp\/\d+\/sig\/[^/]+/, '').replace(/\/index\.m3u8$/, '');
  const keyUrl = (k: string | null) => {
    const path = new URL(base).pathname.replace('/name/', `${k ? `/ks/${k}` : ''}/name/`);
    return kd.url + signMediaUrl(`${path}/encryption.key`, kd.config.mediaUrlSecret, Math.floor(Date.now() / 1000));
  };
  const cases: Array<[string, string | null, number, string]> = [
    ['no KS', null, 403, 'error-3'],
    ['a KS for another entry', ks({ privileges: 'sview:1_cenc0001' }), 403, 'error-3'],
    ['a KS without sview', ks({ privileges: '' }), 403, 'error-3'],
    ['a KS of partner 310', ks({ partnerId: 310, privileges: 'sview:*' }), 403, 'error-32'],
    ['an expired KS', ks({ privileges: 'sview:1_aeshls01', expiry: -10 }), 403, 'error-31'],
    ['a forged KS', aesKs.slice(0, -8) + 'AAAAAAAA', 403, 'error-7'],
  ];
  for (const [what, k, status, code] of cases) {
    const r = await fetch(keyUrl(k));
    const body = Buffer.from(await r.arrayBuffer());
    t.equal(r.status, status, `${what}: ${status}`);
    t.equal(errorCode(r), code, what);
    t.notOk(body.toString('hex').includes(AES_KEY), `${what}: no key bytes`);
  }
  for (const [what, k] of [['sview:*', ks({ privileges: 'sview:*' })], ['an admin KS', ks({ type: 2, privileges: '' })]] as const) {
    const r = await fetch(keyUrl(k));
    t.equal(r.status, 200, `${what}: 200`);
    t.equal(Buffer.from(await r.arrayBuffer()).toString('hex'), AES_KEY);
  }
  // an unsigned key URL is refused before any KS is looked at
  t.equal((await fetch(`${base}/encryption.key`.replace('/name/', `/ks/${aesKs}/name/`))).status, 403);
  // the playlist of a URL without a KS: its key is refused, ffmpeg decodes nothing
  const path = new URL(base).pathname;
  const noKsIndex = kd.url + signMediaUrl(`${path}/index.m3u8`, kd.config.mediaUrlSecret, Math.floor(Date.now() / 1000));
  const dec = await framecrc(noKsIndex);
  t.ok(dec.code !== 0 || dec.frames.length === 0, `without the KS ffmpeg decodes nothing (status ${dec.code}, ${dec.frames.length} frames)`);
  // playManifest itself wants the KS
  const pmNoKs = await fetch(pm(kd, '1_aeshls01', 'format/applehttp/protocol/http/a.m3u8'));
  t.equal(pmNoKs.status, 403);
});

t.test('CENC: the MPD names the key id and the licence; ffmpeg -decryption_key decodes the fragments; the licence answers the KS only', async (t) => {
  const redirect = await fetch(pm(kd, '1_cenc0001', `format/mpegdash/protocol/http/ks/${cencKs}/a.mpd`), { redirect: 'manual' });
  t.equal(redirect.status, 302);
  const mpdUrl = redirect.headers.get('location')!;
  const mpd = await text(mpdUrl);
  t.match(mpd.body, `cenc:default_KID="b0eb8a17-3239-24b6-d8d3-6875aacb0b48"`);
  t.match(mpd.body, /urn:uuid:1077efec-c0b2-4d02-ace3-3c1e52e2fb4b/);
  const laurl = /<dashif:laurl>([^<]+)<\/dashif:laurl>/.exec(mpd.body)![1].replace(/&amp;/g, '&');
  t.match(laurl, /\/clearKeyLicense\/entryId\/1_cenc0001\/ks\//);

  // ffmpeg decodes init + fragment 1 of the 240p video with the key, like the clear entry's
  const frag = async (mpd: string, file: string) => Buffer.from(await (await fetch(new URL(file, mpd))).arrayBuffer());
  const clearMpd = (await fetch(pm(kd, '1_rcit0qgs', 'format/mpegdash/protocol/http/a.mpd'), { redirect: 'manual' })).headers.get('location')!;
  const files = ['init-f1-v1.mp4', 'fragment-1-f1-v1.m4s'];
  const encFile = join(work, 'cenc.mp4');
  const clearFile = join(work, 'clear.mp4');
  writeFileSync(encFile, Buffer.concat(await Promise.all(files.map((f) => frag(mpdUrl, f)))));
  writeFileSync(clearFile, Buffer.concat(await Promise.all(files.map((f) => frag(clearMpd, f)))));
  const clear = await framecrc(clearFile);
  const dec = await framecrc(encFile, ['-decryption_key', CENC_KEY]);
  t.equal(dec.code, 0, dec.stderr);
  t.ok(clear.frames.length > 10);
  t.same(dec.frames, clear.frames, 'decrypted frames equal the clear ones');
  const without = await framecrc(encFile);
  t.notSame(without.frames, clear.frames, 'without the key the frames are not the clear ones');

  // the W3C ClearKey exchange
  const ask = (url: string, kids: string[], headers: Record<string, string> = {}) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify({ kids, type: 'temporary' }) });
  const ok = await ask(laurl, [b64url(CENC_KID)]);
  t.equal(ok.status, 200);
  t.same(await ok.json(), { keys: [{ kty: 'oct', kid: b64url(CENC_KID), k: b64url(CENC_KEY) }], type: 'temporary' });
  const bare = laurl.replace(/\/ks\/[^/]+/, '');
  const refused: Array<[string, Response, number, string]> = [
    ['no KS', await ask(bare, [b64url(CENC_KID)]), 403, 'error-3'],
    ['a KS for another entry', await ask(bare.replace('/license', `/ks/${aesKs}/license`), [b64url(CENC_KID)]), 403, 'error-3'],
    ['a KS of partner 310 in X-Kaltura-Ks', await ask(bare, [b64url(CENC_KID)], { 'x-kaltura-ks': ks({ partnerId: 310, type: 2 }) }), 403, 'error-32'],
    ['another key id', await ask(laurl, [b64url('00112233445566778899aabbccddeeff')]), 404, 'error-5'],
    ['not JSON', await fetch(laurl, { method: 'POST', body: 'hello' }), 400, 'error-25'],
    ['an entry in the clear', await ask(laurl.replace('1_cenc0001', '1_rcit0qgs'), [b64url(CENC_KID)]), 404, 'error-5'],
  ];
  for (const [what, r, status, code] of refused) {
    const body = await r.text();
    t.equal(r.status, status, `${what}: ${status}`);
    t.equal(errorCode(r), code, what);
    t.notOk(body.includes(b64url(CENC_KEY)), `${what}: no key`);
  }
  const header = await ask(bare, [b64url(CENC_KID)], { 'x-kaltura-ks': cencKs });
  t.equal(header.status, 200, 'the KS may come as X-Kaltura-Ks');
  await header.text();
});

t.test('fMP4 HLS of an encrypted entry is CENC too; Smooth Streaming without a PlayReady profile is refused', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const sign = (path: string) => kd.url + signMediaUrl(path, kd.config.mediaUrlSecret, now, undefined, ksForPath(cencKs));
  const F = '/p/309/sp/30900/serveFlavor/entryId/1_cenc0001/v/1/flavorId/1_f1cenc00';
  const index = sign(`/hls/container/fmp4${F}/name/a.mp4/index.m3u8`);
  const idx = await text(index);
  t.equal(idx.status, 200);
  t.match(idx.body, /#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,URI="http:\/\/127\.0\.0\.1:\d+\/p\/309\/sp\/30900\/clearKeyLicense\/entryId\/1_cenc0001\/ks\/[^"]+\/license",KEYID=0xb0eb8a17323924b6d8d36875aacb0b48,KEYFORMAT="org.w3.clearkey"/);
  const init = Buffer.from(await (await fetch(new URL('init-v1-a1.mp4', index))).arrayBuffer());
  for (const box of ['encv', 'enca', 'tenc', 'pssh']) t.ok(init.includes(Buffer.from(box)), `init segment has ${box}`);
  const seg = Buffer.from(await (await fetch(new URL('seg-1-v1-a1.m4s', index))).arrayBuffer());
  t.ok(seg.includes(Buffer.from('senc')), 'segment has senc');
  const file = join(work, 'hls-fmp4.mp4');
  writeFileSync(file, Buffer.concat([init, seg]));
  const dec = await framecrc(file, ['-decryption_key', CENC_KEY]);
  t.equal(dec.code, 0, dec.stderr);
  t.ok(dec.frames.length > 20, `ffmpeg decodes ${dec.frames.length} frames of the first segment with the key`);
  // the key file is for MPEG-TS only
  t.equal((await fetch(new URL('encryption.key', index))).status, 404);

  // Smooth Streaming signals PlayReady only: without a PlayReady DRM profile (the sample partner
  // has none; test/drm/drm-profiles.test.ts configures one) it is refused, never served clear
  const manifest = sign(`/mss${F}/forceproxy/true/name/a.mp4/manifest`);
  const mss = await text(manifest);
  t.equal(mss.status, 403, 'the MSS manifest is refused');
  t.equal(errorCode(mss.res), 'error-3');
  t.match(mss.body, /Smooth Streaming signals PlayReady only: partner 309 has no PlayReady DRM profile/);
  const frag = await text(new URL('QualityLevels(300000)/Fragments(video=0)', manifest).href);
  t.equal(frag.status, 403, 'and so are its fragments');
  const pmSl = await text(pm(kd, '1_cenc0001', `format/sl/protocol/http/ks/${cencKs}/manifest`));
  t.equal(pmSl.status, 403, 'playManifest format/sl too');
  t.equal(errorCode(pmSl.res), 'error-3');
});

t.test('fMP4 HLS from the MPEG-TS URLs playManifest gives: /container/fmp4/ after the signature; a scheme the output cannot carry is refused', async (t) => {
  // playManifest gives an H.264 entry MPEG-TS variants, signed up to /sig/: the container and
  // the scheme are switched after it (a change before it is refused, error 27)
  const v = await firstVariant('1_cenc0001', cencKs);
  t.match(v, /\/sig\/[^/]+\/index\.m3u8$/);
  const switched = (tail: string) => v.replace(/\/index\.m3u8$/, `/${tail}`);
  const fmp4 = await text(switched('container/fmp4/index.m3u8'));
  t.equal(fmp4.status, 200, fmp4.body.slice(0, 200));
  t.match(fmp4.body, /#EXT-X-MAP:URI="init-v1-a1\.mp4"/, 'an fMP4 playlist');
  t.match(fmp4.body, /#EXT-X-KEY:METHOD=SAMPLE-AES-CTR,.*KEYFORMAT="org.w3.clearkey"/, 'CENC');
  const index = switched('container/fmp4/index.m3u8');
  const init = Buffer.from(await (await fetch(new URL('init-v1-a1.mp4', index))).arrayBuffer());
  const seg = Buffer.from(await (await fetch(new URL(/seg-1-v1-a1\.m4s/.exec(fmp4.body)![0], index))).arrayBuffer());
  const file = join(work, 'switched-fmp4.mp4');
  writeFileSync(file, Buffer.concat([init, seg]));
  const dec = await framecrc(file, ['-decryption_key', CENC_KEY]);
  t.equal(dec.code, 0, dec.stderr);
  t.ok(dec.frames.length > 20, `ffmpeg decodes ${dec.frames.length} frames of its first segment with the key`);
  const cbcs = await text(switched('container/fmp4/encryption/cbcs/index.m3u8'));
  t.equal(cbcs.status, 200);
  t.match(cbcs.body, /#EXT-X-MAP:URI="init-v1-a1\.mp4"/);
  t.match(cbcs.body, /#EXT-X-KEY:METHOD=SAMPLE-AES,/, 'cbcs');

  const refused: Array<[string, RegExp]> = [
    ['encryption/cbcs/index.m3u8', /encryption cbcs is for fMP4 HLS, DASH and Smooth Streaming; HLS over MPEG-TS takes aes-128 or sample-aes \(for fMP4 HLS, \/container\/fmp4\/ before it\)/],
    ['encryption/cenc/index.m3u8', /encryption cenc is for fMP4 HLS/],
    ['container/fmp4/encryption/sample-aes/index.m3u8', /encryption sample-aes is HLS over MPEG-TS's; fMP4 HLS takes cenc or cbcs/],
    ['container/mkv/index.m3u8', /container "mkv" is not fmp4, mpegts or ts/],
  ];
  for (const [tail, why] of refused) {
    const r = await text(switched(tail));
    t.equal(r.status, 400, `${tail}: 400`);
    t.match(r.body, why, `${tail}: ${r.body.slice(0, 200)}`);
  }
  const dash = (await fetch(pm(kd, '1_cenc0001', `format/mpegdash/protocol/http/ks/${cencKs}/a.mpd`), { redirect: 'manual' })).headers.get('location')!;
  const dashRefused = await text(dash.replace(/\/manifest\.mpd$/, '/encryption/sample-aes/manifest.mpd'));
  t.equal(dashRefused.status, 400, 'sample-aes on DASH: 400');
  t.match(dashRefused.body, /encryption sample-aes is HLS over MPEG-TS's; DASH takes cenc or cbcs/);
  t.equal((await text(dash.replace(/\/manifest\.mpd$/, '/container/mpegts/manifest.mpd'))).status, 400, 'DASH in MPEG-TS: 400');
});

t.test('progressive, raw and download of an encrypted entry: admin KS only', async (t) => {
  const user = await fetch(pm(kd, '1_cenc0001', `format/url/protocol/http/ks/${cencKs}/a.mp4`), { redirect: 'manual' });
  t.equal(user.status, 403);
  t.equal(errorCode(user), 'error-3');
  // the sample partner has no PlayReady profile, so Smooth Streaming is not offered as a way to play it
  t.match(await user.text(), /is encrypted: it plays as HLS or DASH from the built-in packager; url needs an admin KS/);
  const admin = ks({ type: 2, privileges: '' });
  const ok = await fetch(pm(kd, '1_cenc0001', `format/url/protocol/http/ks/${admin}/a.mp4`), { redirect: 'manual' });
  t.equal(ok.status, 302);
  const loc = ok.headers.get('location')!;
  t.match(loc, /\/serveFlavor\/.*\/ks\/[^/]+\/.*name\/a\.mp4$/, 'the admin KS rides in the serveFlavor URL');
  const file = await fetch(loc, { headers: { range: 'bytes=0-15' } });
  t.equal(file.status, 206, 'served to the admin');
  await file.arrayBuffer();
  // the same URL signed without the admin KS
  const path = new URL(loc).pathname.replace(/\/ks\/[^/]+/, '').replace(/\/exp\/\d+\/sig\/[^/]+/, '');
  const plain = await fetch(kd.url + signMediaUrl(path, kd.config.mediaUrlSecret, Math.floor(Date.now() / 1000)));
  t.equal(plain.status, 403, 'serveFlavor without the admin KS');
  t.equal(errorCode(plain), 'error-3');
  await plain.text();
  const raw = await fetch(`${kd.url}/p/309/sp/30900/raw/entry_id/1_cenc0001/ks/${cencKs}`);
  t.equal(raw.status, 403, 'raw with a user KS');
  await raw.text();
  const rawAdmin = await fetch(`${kd.url}/p/309/sp/30900/raw/entry_id/1_cenc0001/ks/${admin}`, { headers: { range: 'bytes=0-15' } });
  t.equal(rawAdmin.status, 206, 'raw with an admin KS');
  await rawAdmin.arrayBuffer();
  const dl = await fetch(`${kd.url}/p/309/sp/30900/download/entry_id/1_aeshls01/ks/${aesKs}`, { redirect: 'manual' });
  t.equal(dl.status, 403, 'download with a user KS');
  await dl.text();
  const clipPath = (k: string) => signMediaUrl(`/p/309/sp/30900/flvclipper/entry_id/1_cenc0001/ks/${k}/clip_to/2000/a.mp4`, kd.config.mediaUrlSecret, Math.floor(Date.now() / 1000));
  const adminClip = await fetch(kd.url + clipPath(admin.replace(/\+/g, '-').replace(/\//g, '_')));
  t.equal(adminClip.status, 200, 'flvclipper with an admin KS');
  await adminClip.arrayBuffer();
  const clip = await fetch(kd.url + clipPath(cencKs.replace(/\+/g, '-').replace(/\//g, '_')));
  t.equal(clip.status, 403, 'flvclipper with a user KS');
  t.equal(errorCode(clip), 'error-3');
  await clip.text();
  // the clear entry is untouched
  t.equal((await fetch(pm(kd, '1_rcit0qgs', 'format/url/protocol/http/a.mp4'), { redirect: 'manual' })).status, 302);
});

t.test('an external storage\'s packager would not encrypt: the encrypted entry is not handed to it', async (t) => {
  const kx = await start('storage');
  const db = (kx.app.catalog as unknown as { db: import('better-sqlite3').Database }).db;
  db.prepare(`INSERT INTO storage_profiles (id, partner_id, name, base_url, delivery_profile_ids) VALUES (601, 309, 'bucket', 'https://bucket.example/media', ?)`)
    .run(JSON.stringify({ applehttp: [1001] }));
  for (const f of await kx.app.catalog.listFlavors('1_aeshls01')) {
    db.prepare('INSERT INTO remote_files (flavor_asset_id, storage_profile_id, path) VALUES (?, 601, ?)').run(f.id, `/309/${f.id}.mp4`);
  }
  const viaStorage = await text(pm(kx, '1_aeshls01', `format/applehttp/protocol/http/storageId/601/ks/${aesKs}/a.m3u8`));
  t.equal(viaStorage.status, 403, 'the storage\'s HLS is refused');
  t.equal(errorCode(viaStorage.res), 'error-3');
  t.notMatch(viaStorage.body, /bucket\.example/, 'no URL of the storage');
  const here = await text(pm(kx, '1_aeshls01', `format/applehttp/protocol/http/ks/${aesKs}/a.m3u8`));
  t.equal(here.status, 200, 'this server\'s own packager still plays it');
});

t.test('getPlaybackContext lists the DRM data of the DASH source and the DRM policy action', async (t) => {
  const res = await fetch(`${kd.url}/api_v3/service/baseEntry/action/getPlaybackContext`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ format: 1, ks: cencKs, entryId: '1_cenc0001', contextDataParams: { objectType: 'KalturaContextDataParams' } }),
  });
  const pc = await res.json();
  const dash = pc.sources.find((s: any) => s.format === 'mpegdash');
  t.match(dash.drm, [{ objectType: 'KalturaDrmPlaybackPluginData', scheme: 'kdeliver.CLEAR_KEY', licenseURL: /\/p\/309\/sp\/30900\/clearKeyLicense\/entryId\/1_cenc0001\/ks\/.+\/license$/ }]);
  t.same(pc.sources.find((s: any) => s.format === 'applehttp').drm, [], 'HLS AES-128 needs no DRM data (its key URI is in the playlist)');
  t.notOk(pc.sources.some((s: any) => s.format === 'url'), 'no progressive source for a user KS');
  t.match(pc.actions, [{ objectType: 'KalturaAccessControlDrmPolicyAction', type: 'drm.DRM_POLICY', policyId: 1 }]);
  const clear = await (await fetch(`${kd.url}/api_v3/service/baseEntry/action/getPlaybackContext`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ format: 1, ks: cencKs, entryId: '1_rcit0qgs' }),
  })).json();
  t.ok(clear.sources.every((s: any) => s.drm.length === 0), 'a clear entry has none');
});

t.test('an external key service: its keys are used and cached; when it fails, 502 and no media', async (t) => {
  const K2 = 'a0a1a2a3a4a5a6a7a8a9aaabacadaeaf';
  const KID2 = 'b0b1b2b3b4b5b6b7b8b9babbbcbdbebf';
  const hits: string[] = [];
  const svc: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    if (req.url === '/drm/309/1_aeshls01') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify([{ pssh: [], key: Buffer.from(K2, 'hex').toString('base64'), key_id: Buffer.from(KID2, 'hex').toString('base64') }]));
    } else {
      res.writeHead(500);
      res.end('down');
    }
  });
  await new Promise<void>((r) => svc.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => svc.close(() => r())));
  const port = (svc.address() as { port: number }).port;
  clearKeyServiceCache();
  const ext = await start('ext', { KDELIVER_DRM_KEY_SERVICE_URL: `http://127.0.0.1:${port}/drm/{partnerId}/{entryId}` });

  const m = await text(pm(ext, '1_aeshls01', `format/applehttp/protocol/http/ks/${aesKs}/a.m3u8`));
  const v = m.body.split('\n').find((l) => l.startsWith('http'))!;
  const key = await fetch(new URL('encryption.key', v));
  t.equal(Buffer.from(await key.arrayBuffer()).toString('hex'), K2, "the service's key, not the catalog's");
  const dec = await framecrc(v);
  t.equal(dec.code, 0, `ffmpeg decodes with the service's key: ${dec.stderr}`);
  t.equal(hits.filter((h) => h === '/drm/309/1_aeshls01').length, 1, 'asked once: answers are cached');

  const r = await fetch(pm(ext, '1_cenc0001', `format/mpegdash/protocol/http/ks/${cencKs}/a.mpd`), { redirect: 'manual' });
  const mpdUrl = r.headers.get('location')!;
  const mpd = await fetch(mpdUrl);
  t.equal(mpd.status, 502, 'the manifest: 502');
  t.match(await mpd.text(), /key service failed \(HTTP 500\)/);
  for (const f of ['init-f1-v1.mp4', 'fragment-1-f1-v1.m4s']) {
    const seg = await fetch(new URL(f, mpdUrl));
    const body = Buffer.from(await seg.arrayBuffer());
    t.equal(seg.status, 502, `${f}: 502`);
    t.match(seg.headers.get('content-type'), /^text\/plain/, `${f}: a message, no media`);
    t.notOk(body.includes(Buffer.from('moof')) || body.includes(Buffer.from('ftyp')), `${f}: no box of media`);
  }
  svc.close();
  svc.closeAllConnections();
  // the service gone: a new entry's keys cannot be had
  clearKeyServiceCache();
  const gone = await fetch(new URL('encryption.key', v));
  t.equal(gone.status, 502, 'service unreachable: 502');
  await gone.text();
});

t.test('key and licence requests are counted in /metrics', async (t) => {
  const m = await (await fetch(`${kd.url}/metrics`)).text();
  t.match(m, /kdeliver_http_requests_total\{family="drmKey",method="GET",status="200"\} [1-9]/);
  t.match(m, /kdeliver_http_requests_total\{family="drmKey",method="GET",status="403"\} [1-9]/);
  t.match(m, /kdeliver_http_requests_total\{family="drmLicence",method="POST",status="200"\} [1-9]/);
  t.match(m, /kdeliver_http_requests_total\{family="drmLicence",method="POST",status="403"\} [1-9]/);
});

t.test('no content key and no KS in the server log', async (t) => {
  const all = [...kd.log].join('');
  t.ok(all.length > 10_000, `${all.length} bytes of log (debug level)`);
  t.match(all, /encryption\.key/, 'key requests were logged');
  t.match(all, /clearKeyLicense/, 'licence requests were logged');
  for (const hex of [AES_KEY, CENC_KEY]) {
    const b = Buffer.from(hex, 'hex');
    for (const form of [hex, hex.toUpperCase(), b.toString('base64'), b.toString('base64url'), b.toString('base64').replace(/=+$/, '')]) {
      t.notOk(all.includes(form), `key ${hex.slice(0, 4)}… not in the log as ${form.slice(0, 6)}…`);
    }
  }
  for (const k of [aesKs, cencKs]) t.notOk(all.includes(k) || all.includes(k.slice(20, 60)), 'the KS is not in the log');
});
