// Media on S3 and on an HTTP origin (KDELIVER_MEDIA_URL), with real parts started here: s3rver
// through the real AWS SDK, nginx serving a media folder, ffmpeg decoding what is served. The
// same sample library is served by a kdeliver on local disk (the reference) and by kdeliver
// servers whose local media folder is removed, so every byte they answer came from the origin.
import t from 'tap';
import { cpSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { filesUnder, sha256, startNginx, startS3 } from '../helpers/media-origins.js';
import { decodeAll } from '../helpers/media-tools.js';
import { requireCommands } from '../helpers/system.js';
import { SAMPLE, hlsIndex, playManifest } from '../helpers/packager-urls.js';
import { generateKs } from '../../src/access/ks.js';
import { CreateBucketCommand, DeleteBucketCommand, DeleteObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

const ref = await startServer(t);
const libraryFiles = filesUnder(ref.config.mediaRoot);

// --- the origins ---------------------------------------------------------------------------
const s3 = await startS3(t);
for (const f of libraryFiles) await s3.put(`lib/${f}`, readFileSync(join(ref.config.mediaRoot, f)));

const originRoot = mkdtempSync(join(tmpdir(), 'kdeliver-origin-'));
t.teardown(() => rmSync(originRoot, { recursive: true, force: true }));
cpSync(ref.config.mediaRoot, join(originRoot, 'media'), { recursive: true, dereference: true });
const ALT_DIR = '309/1_alt0audi';
const AUDIO_DIR = '309/1_audio001';
const nginx = await startNginx(t, `
    location /media/ { alias ${originRoot}/media/; }
    location /faults/ { alias ${originRoot}/media/; }
    location /faults/${ALT_DIR}/ { return 500; }
    location /faults/${AUDIO_DIR}/ { alias ${originRoot}/media/${AUDIO_DIR}/; limit_rate 2k; }
`);

/** A kdeliver on remote media, its own local media folder removed. */
async function remoteServer(env: Record<string, string>): Promise<TestServer> {
  const srv = await startServer(t, { env: { KDELIVER_MEDIA_TIMEOUT_MS: '3000', KDELIVER_MEDIA_CACHE_MB: '64', ...env } });
  rmSync(srv.config.mediaRoot, { recursive: true, force: true });
  return srv;
}
const onS3 = await remoteServer(s3.env('lib'));
const onHttp = await remoteServer({ KDELIVER_MEDIA_URL: `${nginx.url}/media` });
const onFaults = await remoteServer({ KDELIVER_MEDIA_URL: `${nginx.url}/faults` });

const get = async (url: string, headers: Record<string, string> = {}) => {
  const r = await fetch(url, { headers, signal: AbortSignal.timeout(30_000) });
  return { status: r.status, headers: r.headers, body: Buffer.from(await r.arrayBuffer()) };
};
const text = async (url: string) => (await get(url)).body.toString('utf8');
const adminKs = () => generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 600, now: Math.floor(Date.now() / 1000), version: 2 });
const uris = (playlist: string) => playlist.split('\n').filter((l) => l && !l.startsWith('#'));

t.test('what the SDK puts in s3rver is byte-identical to the file (no aws-chunked framing stored)', async (t) => {
  for (const f of libraryFiles) {
    const local = readFileSync(join(ref.config.mediaRoot, f));
    t.equal(sha256(await s3.get(`lib/${f}`)), sha256(local), f);
  }
});

for (const [name, srv] of [['s3', onS3], ['http origin', onHttp]] as const) {
  t.test(`${name}: playManifest HLS segments decode and equal local disk's`, async (t) => {
    const master = await get(`${srv.url}${playManifest(SAMPLE.entryId, 'applehttp')}`);
    t.equal(master.status, 200);
    const variant = new URL(uris(master.body.toString())[0], `${srv.url}/`);
    const playlist = await text(variant.toString());
    const segs = uris(playlist);
    t.ok(segs.length >= 2, 'a playlist of segments');
    const dir = mkdtempSync(join(tmpdir(), 'kdeliver-remote-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const chunks: Buffer[] = [];
    for (const s of segs) {
      const u = new URL(s, variant);
      const remote = await get(u.toString());
      const local = await get(`${ref.url}${u.pathname}`);
      t.equal(remote.status, 200, `${u.pathname.split('/').pop()} answered`);
      t.equal(sha256(remote.body), sha256(local.body), `${u.pathname.split('/').pop()} is local disk's bytes`);
      chunks.push(remote.body);
    }
    writeFileSync(join(dir, 'all.ts'), Buffer.concat(chunks));
    const decoded = await decodeAll(join(dir, 'all.ts'));
    t.equal(decoded.code, 0, 'ffmpeg decodes every segment');
    t.equal(decoded.stderr, '', 'without an error');
    t.ok(decoded.streams.some((s) => s.mediaType === 'video' && s.frames.length > 0), 'video frames');
  });

  t.test(`${name}: DASH init and fragments decode and equal local disk's`, async (t) => {
    const mpdAnswer = await get(`${srv.url}${playManifest(SAMPLE.entryId, 'mpegdash', '', 'a.mpd')}`);
    t.equal(mpdAnswer.status, 200);
    const base = `/dash/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/${SAMPLE.p240}/forceproxy/true/name/a.mp4`;
    const parts: Buffer[] = [];
    for (const file of ['init-v1.mp4', 'fragment-1-v1.m4s', 'fragment-2-v1.m4s', 'fragment-3-v1.m4s']) {
      const remote = await get(`${srv.url}${base}/${file}`);
      const local = await get(`${ref.url}${base}/${file}`);
      t.equal(remote.status, 200, `${file} answered`);
      t.equal(sha256(remote.body), sha256(local.body), `${file} is local disk's bytes`);
      parts.push(remote.body);
    }
    const dir = mkdtempSync(join(tmpdir(), 'kdeliver-remote-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    writeFileSync(join(dir, 'v.mp4'), Buffer.concat(parts));
    const decoded = await decodeAll(join(dir, 'v.mp4'));
    t.equal(decoded.code, 0, 'ffmpeg decodes init + fragments');
    t.equal(decoded.stderr, '');
  });

  t.test(`${name}: serveFlavor and raw, whole and in ranges, are the file's bytes`, async (t) => {
    // 720p: larger than a block, so ranges cross the block cache's boundaries
    const path = `/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/${SAMPLE.p720}`;
    const file = readFileSync(join(ref.config.mediaRoot, '309', SAMPLE.entryId, 'h264-720p.mp4'));
    const whole = await get(`${srv.url}${path}`);
    t.equal(whole.status, 200);
    t.equal(whole.headers.get('content-length'), String(file.length));
    t.equal(sha256(whole.body), sha256(file), 'whole file');
    for (const range of ['bytes=0-0', 'bytes=100-200000', 'bytes=1048570-1048600', 'bytes=-5000', `bytes=${file.length - 10}-`]) {
      const remote = await get(`${srv.url}${path}`, { Range: range });
      const local = await get(`${ref.url}${path}`, { Range: range });
      t.equal(remote.status, 206, range);
      t.equal(remote.headers.get('content-range'), local.headers.get('content-range'), `${range}: Content-Range`);
      t.equal(sha256(remote.body), sha256(local.body), `${range}: bytes`);
    }
    t.equal((await get(`${srv.url}${path}`, { Range: `bytes=${file.length + 5}-` })).status, 416, 'past the end: 416');
    const raw = `/p/309/sp/30900/raw/entry_id/${SAMPLE.entryId}/forceproxy/true`;
    const r1 = await get(`${srv.url}${raw}`);
    const r0 = await get(`${ref.url}${raw}`);
    t.equal(r1.status, 200);
    t.equal(sha256(r1.body), sha256(r0.body), 'raw: the same original file');
  });

  t.test(`${name}: thumbnails are grabbed from the remote video`, async (t) => {
    const path = `/p/309/sp/30900/thumbnail/entry_id/${SAMPLE.entryId}/vid_sec/3/width/160`;
    const remote = await get(`${srv.url}${path}`);
    const local = await get(`${ref.url}${path}`);
    t.equal(remote.status, 200);
    t.match(remote.headers.get('content-type') ?? '', /^image\/jpeg/);
    t.equal(sha256(remote.body), sha256(local.body), 'the same frame as from local disk');
  });
}

t.test('api_v3 serves caption files from the store it is given: S3 and a read-only HTTP origin', async (t) => {
  // captionAsset.serve and serveWebVTT read through the media store as the packager does (on an
  // HTTP origin, which has no writer, they read an empty local folder and said "not found")
  const local = await text(`${ref.url}/api_v3/service/caption_captionAsset/action/serve?captionAssetId=1_c1alt000&ks=${adminKs()}`);
  t.match(local, /^WEBVTT/, 'the reference: the caption on local disk');
  for (const [name, srv] of [['s3', onS3], ['http origin', onHttp]] as const) {
    t.equal(await text(`${srv.url}/api_v3/service/caption_captionAsset/action/serve?captionAssetId=1_c1alt000&ks=${adminKs()}`), local, `${name}: serve`);
    t.match(await text(`${srv.url}/api_v3/service/caption_captionAsset/action/serveWebVTT?captionAssetId=1_c1alt000&segmentIndex=1&ks=${adminKs()}`), /^WEBVTT/, `${name}: serveWebVTT`);
  }
});

t.test('a cold object read by many requests at once is fetched once per block', async (t) => {
  const srv = await remoteServer({ KDELIVER_MEDIA_URL: `${nginx.url}/media` });
  const path = `/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/${SAMPLE.p720}`;
  const file = readFileSync(join(ref.config.mediaRoot, '309', SAMPLE.entryId, 'h264-720p.mp4'));
  const answers = await Promise.all(Array.from({ length: 6 }, () => get(`${srv.url}${path}`)));
  t.ok(answers.every((a) => a.status === 200 && sha256(a.body) === sha256(file)), 'every answer is the file');
  const metrics = await text(`${srv.url}/metrics`);
  const value = (name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(metrics)?.[1]);
  const blocks = Math.ceil(file.length / (1024 * 1024));
  t.equal(value('kdeliver_media_cache_misses_total'), blocks, `${blocks} blocks fetched from the origin, once each`);
  // 6 * blocks reads: those that did not fetch shared a fetch (a block fetched ahead of its first
  // read, src/storage/media-store.ts stream, is a fetch no read made)
  const shared = value('kdeliver_media_cache_hits_total') + value('kdeliver_media_cache_joined_total');
  t.ok(shared >= 6 * blocks - blocks && shared <= 6 * blocks, `every other read shared them (${shared} of ${6 * blocks})`);
});

t.test('http origin faults: 500 → 502, slow → 504, naming the source; other entries still served', async (t) => {
  const altIndex = `${onFaults.url}/hls/p/309/sp/30900/serveFlavor/entryId/1_alt0audi/v/1/flavorId/1_f1alt000/name/a.mp4/index.m3u8`;
  const failed = await get(altIndex);
  t.equal(failed.status, 502, 'an origin answering 500 is a 502');
  t.match(failed.body.toString(), /media origin failed.*http origin http:\/\/127\.0\.0\.1:\d+\/faults \(309\/1_alt0audi\/[^)]+\): answered 500/);
  t.notMatch(failed.body.toString(), /at .*\.js|Error:/, 'no stack');
  t.equal(failed.headers.get('cache-control'), 'no-store', 'not kept by a CDN');

  const started = Date.now();
  const slow = await get(`${onFaults.url}/p/309/sp/30900/serveFlavor/entryId/1_audio001/v/1/flavorId/1_f1audio0`);
  t.equal(slow.status, 504, 'an origin too slow to answer is a 504');
  t.ok(Date.now() - started < 10_000, `bounded by KDELIVER_MEDIA_TIMEOUT_MS (${Date.now() - started} ms)`);
  t.match(slow.body.toString(), /media origin timed out.*no complete answer within 3000 ms/);

  const other = await get(`${onFaults.url}/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/${SAMPLE.p240}`);
  t.equal(other.status, 200, 'another entry of the same origin is still served');
  const pm = await get(`${onFaults.url}${playManifest(SAMPLE.entryId, 'applehttp')}`);
  t.equal(pm.status, 200, 'and playManifest');
});

t.test('an object replaced under the same key: the new bytes and a new index are served', async (t) => {
  const index = (srv: TestServer, flavorId: string, entryId = SAMPLE.entryId) => text(`${srv.url}/hls/p/309/sp/30900/serveFlavor/entryId/${entryId}/v/1/flavorId/${flavorId}/name/a.mp4/index.m3u8`);
  const durations = (p: string) => p.split('\n').filter((l) => l.startsWith('#EXTINF')).join('|');
  const before: Record<string, string> = { s3: await index(onS3, SAMPLE.p240), 'http origin': await index(onHttp, SAMPLE.p240) };
  const donor = readFileSync(join(ref.config.mediaRoot, AUDIO_DIR, 'audio-128k.mp4'));
  const expected = await index(ref, '1_f1audio0', '1_audio001');
  t.not(durations(before.s3), durations(expected), 'the two files have different timelines');
  // the audio file is another MP4 with another timeline: a stale index would show at once
  await s3.put(`lib/309/${SAMPLE.entryId}/h264-240p.mp4`, donor);
  const dest = join(originRoot, 'media', '309', SAMPLE.entryId, 'h264-240p.mp4');
  writeFileSync(`${dest}.new`, donor);
  renameSync(`${dest}.new`, dest);
  await new Promise((r) => setTimeout(r, 1200)); // the stores look at an object again after a second
  for (const [name, srv] of [['s3', onS3], ['http origin', onHttp]] as const) {
    const served = await get(`${srv.url}/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/${SAMPLE.p240}`);
    t.equal(sha256(served.body), sha256(donor), `${name}: serveFlavor serves the new bytes`);
    const after = await index(srv, SAMPLE.p240);
    t.not(durations(after), durations(before[name]), `${name}: the index was read again`);
    t.equal(durations(after), durations(expected), `${name}: the new file's timeline`);
  }
});

t.test('S3: a missing bucket is a 502 naming it, a missing object in a bucket that is there a 404', async (t) => {
  // a HEAD of either is a bare 404; before, a misspelled bucket made every file a 404 "file missing"
  const flavor = `/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/${SAMPLE.p240}`;
  // the server seeds its library into a bucket of its own, which then goes away (deleted, or a
  // configuration moved to another account): what a misspelled bucket looks like to the reads
  await s3.client.send(new CreateBucketCommand({ Bucket: 'no-such-bucket' }));
  const noBucket = await remoteServer({ ...s3.env('lib'), KDELIVER_MEDIA_URL: 's3://no-such-bucket/lib' });
  const listed = await s3.client.send(new ListObjectsV2Command({ Bucket: 'no-such-bucket' }));
  for (const o of listed.Contents ?? []) await s3.client.send(new DeleteObjectCommand({ Bucket: 'no-such-bucket', Key: o.Key }));
  await s3.client.send(new DeleteBucketCommand({ Bucket: 'no-such-bucket' }));
  // what the store's probe said while the bucket was there stands two seconds (src/storage/media-store.ts)
  await new Promise((r) => setTimeout(r, 2100));
  for (const path of [flavor, hlsIndex({ entryId: SAMPLE.entryId, flavorId: SAMPLE.p240 }), `/p/309/sp/30900/thumbnail/entry_id/${SAMPLE.entryId}/width/100`]) {
    const r = await get(`${noBucket.url}${path}`);
    t.equal(r.status, 502, `${path}: 502`);
    t.match(r.body.toString(), /s3 store s3:\/\/no-such-bucket\/lib \(309\/.*\): has no bucket no-such-bucket/, 'names the store, the object and the missing bucket');
    t.notMatch(r.body.toString(), /S3RVER/, 'no credential in the answer');
  }
  const other = await remoteServer(s3.env('other'));
  await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `other/309/${SAMPLE.entryId}/h264-240p.mp4` }));
  const missing = await get(`${other.url}${flavor}`);
  t.equal(missing.status, 404, 'the bucket is there, the object is not: 404');
  t.equal(missing.body.toString(), 'error 5 FILE_NOT_FOUND: required file was not found\n', 'Kaltura\'s missing-file answer');
});

t.test('the origin stopped: mid-answer and refused connections are 502s, nothing hangs', async (t) => {
  // the slow entry's answer is under way when nginx stops (fast shutdown closes its connections)
  const pending = get(`${onFaults.url}/p/309/sp/30900/serveFlavor/entryId/1_audio001/v/1/flavorId/1_f1audio0`, { Range: 'bytes=1000-2000' });
  await new Promise((r) => setTimeout(r, 500));
  await nginx.stop();
  const midway = await pending;
  t.equal(midway.status, 502, 'an origin gone mid-answer is a 502');
  t.match(midway.body.toString(), /http origin .*(closed the connection|reset|could not be reached|refused)/);
  const refused = await get(`${onHttp.url}/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/1_f4rcit00`);
  t.equal(refused.status, 502, 'a refused connection is a 502');
  t.match(refused.body.toString(), /refused the connection/);
  await s3.stop();
  const s3down = await get(`${onS3.url}/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/1_f4rcit00`);
  t.equal(s3down.status, 502, 's3 store down is a 502');
  t.match(s3down.body.toString(), /s3 store s3:\/\/media\/lib/);
  t.notMatch(s3down.body.toString(), /S3RVER/, 'no credential in the answer');
  const pm = await get(`${onS3.url}${playManifest(SAMPLE.entryId, 'applehttp')}`);
  t.equal(pm.status, 200, 'playManifest is still answered');
  // a caption the store cannot give now: a store failure, not a missing asset (which a client stops asking for)
  const caption = JSON.parse(await text(`${onS3.url}/api_v3/service/caption_captionAsset/action/serve?captionAssetId=1_c2alt000&format=1&ks=${adminKs()}`));
  t.match(caption, { code: 'INTERNAL_SERVERL_ERROR', message: /the media store failed \(s3 store s3:\/\/media\/lib .*\); try again shortly/ }, 'captionAsset.serve with the store down');
  t.notMatch(JSON.stringify(caption), /S3RVER/, 'no credential in the answer');
  await nginx.start();
  const back = await get(`${onHttp.url}/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/1_f4rcit00`);
  t.equal(back.status, 200, 'served again once the origin is back');
});
