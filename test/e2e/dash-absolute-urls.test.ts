// The packager's MPD names its init segments and fragments by absolute URLs (as nginx-vod-module
// does by default, vod_dash_absolute_manifest_urls): a client that resolves relative names against
// the URL it first asked for (Debian 12's ffmpeg 5.1 resolves them against playManifest's URL, not
// the 302's target, and gets the redirect back for every segment) still finds the segments. The
// base is the server's public base URL and the MPD's own directory, signed path segments included,
// so protected and encrypted entries still play. Proof by Debian's ffprobe on the playManifest URL.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { requireCommands } from '../helpers/system.js';
import { run } from '../helpers/media-tools.js';
import { SAMPLE, playManifest } from '../helpers/packager-urls.js';
import { generateKs } from '../../src/access/ks.js';

requireCommands(t, ['ffprobe'], 'ffmpeg');

const ks = (privileges: string): string => generateKs({
  partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 3600, userId: 'viewer', now: Math.floor(Date.now() / 1000), privileges,
});

/** The codec types ffprobe finds in the streams of `url`, with its exit status and errors. */
async function probe(url: string): Promise<{ code: number | null; types: string[]; stderr: string }> {
  const r = await run('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type', '-of', 'csv=p=0', url]);
  return { code: r.code, types: r.stdout.split('\n').map((s) => s.split(',')[0].trim()).filter(Boolean), stderr: r.stderr };
}

/** The segment URLs of an MPD (template attributes and BaseURL elements), entities undone. */
const urlsOf = (mpd: string): string[] => [
  ...[...mpd.matchAll(/(?:initialization|media)="([^"]+)"/g)].map((m) => m[1]),
  ...[...mpd.matchAll(/<BaseURL>([^<]+)<\/BaseURL>/g)].map((m) => m[1]),
].map((u) => u.replace(/&amp;/g, '&'));

t.test('DASH MPD segment URLs are absolute', async (t) => {
  const server = await startServer(t);

  await t.test('ffprobe -show_streams on the playManifest mpegdash URL finds video and audio', async (t) => {
    const url = server.url + playManifest(SAMPLE.entryId, 'mpegdash', '', 'manifest.mpd').replace('/sp/0/', '/sp/30900/');
    const res = await fetch(url, { redirect: 'manual' });
    t.equal(res.status, 302, 'playManifest answers with a redirect to the packager');
    const p = await probe(url);
    t.equal(p.code, 0, 'ffprobe exits 0', { stderr: p.stderr });
    t.equal(p.stderr.trim(), '', 'no error');
    t.ok(p.types.includes('video'), `a video stream (${p.types.join(',')})`);
    t.ok(p.types.includes('audio'), 'an audio stream');
  });

  await t.test('every URL of the MPD is absolute, under the MPD\'s directory, and answers 200', async (t) => {
    const res = await fetch(server.url + playManifest(SAMPLE.entryId, 'mpegdash', '', 'a.mpd'), { redirect: 'manual' });
    const mpdUrl = new URL(res.headers.get('location')!, server.url).href;
    const dir = mpdUrl.slice(0, mpdUrl.lastIndexOf('/') + 1);
    const mpd = await (await fetch(mpdUrl)).text();
    const urls = urlsOf(mpd);
    t.ok(urls.length >= 8, `${urls.length} URLs`);
    for (const u of urls) {
      // the storyboard's sheets are served at the entry's thumbnail path, on the same base URL
      if (u.includes('/storyboard/')) t.ok(u.startsWith(`${server.url}/p/309/`), `${u} is absolute`);
      else t.ok(u.startsWith(dir), `${u} is under ${dir}`);
    }
    for (const u of new Set(urls.map((x) => x.replace('$Number$', '1')))) t.equal((await fetch(u)).status, 200, u);
  });

  await t.test('the base is the Host the request came with (and X-Forwarded-* only when trusted)', async (t) => {
    const path = new URL((await fetch(server.url + playManifest(SAMPLE.entryId, 'mpegdash', '', 'a.mpd'), { redirect: 'manual' })).headers.get('location')!, server.url).pathname;
    const viaHost = (await server.app.inject({ url: path, headers: { host: 'media.example.com:8080' } })).body;
    t.match(viaHost, 'initialization="http://media.example.com:8080/dash/p/309/', 'the Host header names the base');
    const forwarded = (await server.app.inject({ url: path, headers: { host: '127.0.0.1:9', 'x-forwarded-host': 'evil.example', 'x-forwarded-proto': 'https' } })).body;
    t.match(forwarded, 'initialization="http://127.0.0.1:9/dash/p/309/', 'the Host and the scheme of the connection');
    t.notMatch(forwarded, 'evil.example', 'untrusted forwarded headers are not read');
  });

  await t.test('behind a trusted proxy (KDELIVER_TRUST_PROXY) X-Forwarded-Proto and -Host name the base', async (t) => {
    const proxied = await startServer(t, { env: { KDELIVER_TRUST_PROXY: 'true' } });
    const loc = (await fetch(proxied.url + playManifest(SAMPLE.entryId, 'mpegdash', '', 'a.mpd'), { redirect: 'manual' })).headers.get('location')!;
    const path = new URL(loc, proxied.url).pathname;
    const mpd = (await proxied.app.inject({ url: path, headers: { 'x-forwarded-host': 'media.example.com', 'x-forwarded-proto': 'https' } })).body;
    t.match(mpd, `initialization="https://media.example.com${path.slice(0, path.lastIndexOf('/') + 1)}init-f1-v1.mp4"`);
  });

  await t.test('KDELIVER_PUBLIC_URL names the base', async (t) => {
    const pub = await startServer(t, { env: { KDELIVER_PUBLIC_URL: 'https://cdn.example.com/kd' } });
    const loc = (await fetch(pub.url + playManifest(SAMPLE.entryId, 'mpegdash', '', 'a.mpd'), { redirect: 'manual' })).headers.get('location')!;
    const path = loc.slice(loc.indexOf('/dash/'));
    const mpd = await (await fetch(pub.url + path)).text();
    const urls = urlsOf(mpd).filter((u) => !u.includes('/storyboard/'));
    t.ok(urls.length > 0);
    const dir = `https://cdn.example.com/kd${path.slice(0, path.lastIndexOf('/') + 1)}`;
    for (const u of urls) t.ok(u.startsWith(dir), `${u} is under ${dir}`);
  });

  await t.test('a protected entry (1_kssecure) with a KS: the signed directory is in every URL, ffprobe plays it', async (t) => {
    const url = `${server.url}/p/309/sp/30900/playManifest/entryId/1_kssecure/format/mpegdash/protocol/http/ks/${ks('sview:1_kssecure')}/a.mpd`;
    const res = await fetch(url, { redirect: 'manual' });
    t.equal(res.status, 302);
    const mpdUrl = new URL(res.headers.get('location')!, server.url).href;
    t.match(mpdUrl, /\/exp\/\d+\/sig\/|\/ks\//, 'the MPD URL carries its signature');
    const dir = mpdUrl.slice(0, mpdUrl.lastIndexOf('/') + 1);
    const urls = urlsOf(await (await fetch(mpdUrl)).text()).filter((u) => !u.includes('/storyboard/'));
    for (const u of urls) t.ok(u.startsWith(dir), `${u} keeps the signed path`);
    const p = await probe(url);
    t.equal(p.code, 0, 'ffprobe exits 0', { stderr: p.stderr });
    t.ok(p.types.includes('video') && p.types.includes('audio'), `video and audio (${p.types.join(',')})`);
    // without the signed directory the same segment is refused
    const first = urls[0].replace('$Number$', '1');
    t.match(first, /\/exp\/\d+\/sig\//, 'the segment URL carries the signature');
    t.equal((await fetch(first.replace(/\/exp\/\d+\/sig\/[^/]+/, ''))).status, 403, 'the unsigned segment URL is refused');
  });

  await t.test('KDELIVER_DASH_ABSOLUTE_URLS=false keeps them relative to the MPD, which still plays from its own URL', async (t) => {
    const rel = await startServer(t, { env: { KDELIVER_DASH_ABSOLUTE_URLS: 'false' } });
    const url = rel.url + playManifest(SAMPLE.entryId, 'mpegdash', '', 'manifest.mpd').replace('/sp/0/', '/sp/30900/');
    const mpdUrl = (await fetch(url, { redirect: 'manual' })).headers.get('location')!;
    const urls = urlsOf(await (await fetch(mpdUrl)).text());
    t.ok(urls.length > 0);
    // the storyboard's sheets are host-absolute paths, as before
    for (const u of urls.filter((x) => !x.includes('/storyboard/'))) t.notMatch(u, /^https?:|^\//, `${u} is relative`);
    const p = await probe(mpdUrl);
    t.equal(p.code, 0, 'ffprobe exits 0 on the MPD\'s own URL', { stderr: p.stderr });
    t.ok(p.types.includes('video') && p.types.includes('audio'), `video and audio (${p.types.join(',')})`);
  });

  await t.test('an encrypted entry (1_cenc0001) with a KS: ffprobe finds its streams', async (t) => {
    const url = `${server.url}/p/309/sp/30900/playManifest/entryId/1_cenc0001/format/mpegdash/protocol/http/ks/${ks('sview:1_cenc0001')}/a.mpd`;
    const p = await probe(url);
    t.equal(p.code, 0, 'ffprobe exits 0', { stderr: p.stderr });
    t.ok(p.types.includes('video') && p.types.includes('audio'), `video and audio (${p.types.join(',')})`);
  });
});
