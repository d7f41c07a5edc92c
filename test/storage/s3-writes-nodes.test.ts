// S3 media takes writes, across nodes: two kdeliver servers (A and B) on one PostgreSQL catalog and
// one s3rver bucket, each with its own data directory (nothing shared on disk). An upload whose
// chunks alternate between A and B (with a retried chunk) is assembled, ingested and played from
// B; a `kdeliver ingest` run as its own process (a third node) makes an entry B plays; and a store
// that fails under a chunk or an assembly answers 503 and leaves the upload to resume, nothing
// half-visible. Real parts: PostgreSQL, s3rver through the real AWS SDK, ffmpeg decoding.
import t, { type Test } from 'tap';
import { readFileSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { startPostgres } from '../helpers/postgres.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { sha256, startS3 } from '../helpers/media-origins.js';
import { decodeAll, sampleFlavorFile } from '../helpers/media-tools.js';
import { requireCommands } from '../helpers/system.js';
import { binTarget, run } from '../helpers/command.js';
import { playManifest } from '../helpers/packager-urls.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

const cluster = await startPostgres(t);
const dbUrl = await cluster.createDatabase();
const s3 = await startS3(t);
const s3env = s3.env('lib');
const nodeEnv = { ...s3env, KDELIVER_DATABASE_URL: dbUrl, KDELIVER_INGEST_LEASE_SECONDS: '30' };
const a = await startServer(t, { env: nodeEnv });
const b = await startServer(t, { env: nodeEnv });

const video = readFileSync(sampleFlavorFile('1_rcit0qgs', '1_f1rcit00'));

async function api(s: TestServer, service: string, action: string, params: Record<string, unknown> = {}): Promise<{ status: number; body: any }> {
  const res = await fetch(`${s.url}/api_v3/service/${service}/action/${action}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ks, ...params }),
    signal: AbortSignal.timeout(60_000),
  });
  return { status: res.status, body: await res.json() };
}
async function upload(s: TestServer, tokenId: string, data: Buffer, o: { resume: boolean; resumeAt: number; finalChunk: boolean }) {
  const form = new FormData();
  form.set('format', '1');
  form.set('ks', ks);
  form.set('uploadTokenId', tokenId);
  form.set('resume', o.resume ? '1' : '0');
  form.set('resumeAt', String(o.resumeAt));
  form.set('finalChunk', o.finalChunk ? '1' : '0');
  form.set('fileData', new Blob([new Uint8Array(data)]), 'chunk.bin');
  const res = await fetch(`${s.url}/api_v3/service/uploadToken/action/upload`, { method: 'POST', body: form, signal: AbortSignal.timeout(60_000) });
  return { status: res.status, body: await res.json() as any };
}
let ks = '';
ks = (await api(a, 'session', 'start', { secret: 'sample-admin-secret-309', partnerId: 309, type: 2, userId: 'uploader' })).body;

/** The keys under a prefix of the bucket. */
async function keysUnder(prefix: string): Promise<string[]> {
  const r = await s3.client.send(new ListObjectsV2Command({ Bucket: s3.bucket, Prefix: prefix }));
  return (r.Contents ?? []).map((o) => o.Key!);
}

async function waitReady(s: TestServer, entryId: string): Promise<any> {
  for (let i = 0; i < 240; i++) {
    const e = (await api(s, 'media', 'get', { entryId })).body;
    if (e.status === 2 || (typeof e.status === 'number' && e.status < 0)) return e;
    await sleep(500);
  }
  throw new Error(`entry ${entryId} did not become READY in 2 minutes`);
}

/** playManifest HLS from a node: the master, a variant, its first segment decoded by ffmpeg. */
async function playsFrom(t: Test, s: TestServer, entryId: string) {
  const master = await fetch(`${s.url}${playManifest(entryId, 'applehttp')}`);
  t.equal(master.status, 200, 'the HLS master answers');
  const variantUri = (await master.text()).split('\n').find((l) => l && !l.startsWith('#'))!;
  const variant = new URL(variantUri, `${s.url}/`);
  const playlist = await (await fetch(variant)).text();
  const seg = playlist.split('\n').find((l) => l && !l.startsWith('#'))!;
  const res = await fetch(new URL(seg, variant));
  t.equal(res.status, 200, 'a segment answers');
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-s3w-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'seg.ts'), Buffer.from(await res.arrayBuffer()));
  const decoded = await decodeAll(join(dir, 'seg.ts'));
  t.equal(decoded.code, 0, `ffmpeg decodes the segment${decoded.stderr ? `: ${decoded.stderr}` : ''}`);
  t.ok(decoded.streams.find((x) => x.mediaType === 'video')?.frames.length, 'video frames');
}

/** The entry's files are objects of the bucket, none on either node's disk. */
async function filesInStore(t: Test, entryId: string) {
  const keys = await keysUnder(`lib/309/${entryId}/`);
  t.ok(keys.some((k) => k.endsWith('.mp4')), `the entry's files are in the bucket (${keys.length})`);
  const flavors = await a.app.catalog.listFlavors(entryId);
  t.ok(flavors.length >= 2, 'a source and renditions');
  for (const f of flavors) t.ok(keys.includes(`lib/${f.filePath}`), `${f.filePath}: the catalog names an object that is there`);
  for (const n of [a, b]) t.notOk(existsSync(join(n.config.mediaRoot, '309', entryId)), 'nothing of it on a node\'s disk');
  return flavors;
}

t.test('an upload whose chunks alternate between A and B is assembled, ingested, and plays from B', async (t) => {
  const token = (await api(a, 'uploadToken', 'add', { uploadToken: { objectType: 'KalturaUploadToken', fileName: 'clip.mp4', fileSize: video.length } })).body.id as string;
  const q = Math.floor(video.length / 4);
  const cuts = [0, q, 2 * q, 3 * q, video.length];
  let r = await upload(a, token, video.subarray(cuts[0], cuts[1]), { resume: false, resumeAt: 0, finalChunk: false });
  t.equal(r.body.uploadedFileSize, q, 'chunk 1 at A');
  // Kaltura's parallel upload: chunk 3 arrives before chunk 2, and waits for it
  r = await upload(a, token, video.subarray(cuts[2], cuts[3]), { resume: true, resumeAt: 2 * q, finalChunk: false });
  t.equal(r.body.uploadedFileSize, q, 'chunk 3 at A, early: kept, not yet counted');
  // a final chunk with bytes missing before it is refused wherever it lands, and kept nowhere
  r = await upload(b, token, video.subarray(cuts[3], cuts[4]), { resume: true, resumeAt: 3 * q, finalChunk: true });
  t.equal(r.body.code, 'UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE', 'a final chunk before the rest is refused, to be sent again');
  r = await upload(b, token, video.subarray(cuts[1], cuts[2]), { resume: true, resumeAt: q, finalChunk: false });
  t.equal(r.body.uploadedFileSize, 3 * q, 'chunk 2 at B: chunks 1 to 3 are in');
  // a client that did not see B's answer sends chunk 2 again, to A: its bytes replace the same bytes
  r = await upload(a, token, video.subarray(cuts[1], cuts[2]), { resume: true, resumeAt: q, finalChunk: false });
  t.equal(r.body.uploadedFileSize, 3 * q, 'chunk 2 again at A: nothing added twice');
  r = await upload(a, token, video.subarray(cuts[3], cuts[4]), { resume: true, resumeAt: 3 * q, finalChunk: true });
  t.equal(r.body.status, 2, 'the final chunk at A completes the upload (FULL_UPLOAD)');
  t.equal(r.body.uploadedFileSize, video.length);
  t.equal((await keysUnder(`lib/.uploads/${token}/`)).length, 5, 'five chunks staged in the bucket (the refused one is not)');

  const entry = (await api(b, 'media', 'add', { entry: { objectType: 'KalturaMediaEntry', name: 'across nodes', mediaType: 1 } })).body;
  const added = await api(a, 'media', 'addContent', { entryId: entry.id, resource: { objectType: 'KalturaUploadedFileTokenResource', token } });
  t.equal(added.body.status, 1, `addContent at A: PRECONVERT${added.body.message ? ` (${added.body.message})` : ''}`);
  t.same(await keysUnder(`lib/.uploads/${token}/`), [], 'the staged chunks are removed once the upload is used');
  const ready = await waitReady(b, entry.id);
  t.equal(ready.status, 2, 'READY');

  const flavors = await filesInStore(t, entry.id);
  const source = flavors.find((f) => f.isOriginal)!;
  t.equal(sha256(await s3.get(`lib/${source.filePath}`)), sha256(video), 'the source object is the uploaded file, byte for byte');
  await playsFrom(t, b, entry.id);

  // a caption set at A is an object of the store, served by B
  const SRT = '1\n00:00:00,000 --> 00:00:01,000\nAcross nodes\n';
  const cap = (await api(a, 'caption_captionAsset', 'add', { entryId: entry.id, captionAsset: { objectType: 'KalturaCaptionAsset', language: 'English' } })).body;
  const set = (await api(a, 'caption_captionAsset', 'setContent', { id: cap.id, contentResource: { objectType: 'KalturaStringResource', content: SRT } })).body;
  t.equal(set.status, 2, `captionAsset.setContent at A${set.message ? `: ${set.message}` : ''}`);
  const served = await fetch(`${b.url}/api_v3/service/caption_captionAsset/action/serve`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ks, captionAssetId: cap.id }),
  });
  t.equal(await served.text(), SRT, 'served by B from the store');
  t.ok((await keysUnder(`lib/309/${entry.id}/`)).some((k) => k.endsWith('.srt')), 'the caption is an object of the bucket');

  // a thumbnail grabbed from the video at a time offset: ffmpeg reads the video from the store
  const thumbsBefore = (await keysUnder(`lib/309/${entry.id}/`)).filter((k) => /\.(jpg|jpeg|png)$/.test(k)).length;
  const updated = (await api(b, 'media', 'updateThumbnail', { entryId: entry.id, timeOffset: 1 })).body;
  t.equal(updated.id, entry.id, `media.updateThumbnail at B from the stored video${updated.message ? `: ${updated.message}` : ''}`);
  const thumbsAfter = (await keysUnder(`lib/309/${entry.id}/`)).filter((k) => /\.(jpg|jpeg|png)$/.test(k)).length;
  t.ok(thumbsAfter > thumbsBefore, 'the grabbed frame is a new picture object of the bucket');
});

t.test('an upload whose token names no file: the source is named by its probed type, not by the staged file\'s suffix', async (t) => {
  const token = (await api(a, 'uploadToken', 'add', { uploadToken: { objectType: 'KalturaUploadToken' } })).body.id as string;
  const r = await upload(a, token, video, { resume: false, resumeAt: 0, finalChunk: true });
  t.equal(r.body.status, 2, 'FULL_UPLOAD');
  const entry = (await api(a, 'media', 'add', { entry: { objectType: 'KalturaMediaEntry', name: 'no file name', mediaType: 1 } })).body;
  const added = await api(a, 'media', 'addContent', { entryId: entry.id, resource: { objectType: 'KalturaUploadedFileTokenResource', token } });
  t.equal(added.body.status, 1, `addContent: PRECONVERT${added.body.message ? ` (${added.body.message})` : ''}`);
  const source = (await a.app.catalog.listFlavors(entry.id)).find((f) => f.isOriginal)!;
  t.equal(source.fileExt, 'mp4', 'the probed type');
  t.match(source.filePath, /\.mp4$/, 'and the object\'s name');
  t.equal((await waitReady(a, entry.id)).status, 2, 'READY');
});

t.test('`kdeliver ingest` with S3 media, on a node of its own: the entry plays from B', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-cli-node-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const r = await run(process.execPath, [binTarget(), 'ingest', '--partner', '309', '--name', 'from the CLI', sampleFlavorFile('1_rcit0qgs', '1_f1rcit00')], {
    env: { ...nodeEnv, KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent' }, timeoutMs: 240_000,
  });
  t.equal(r.code, 0, `kdeliver ingest exits 0${r.code ? `: ${r.stderr}` : ''}`);
  const entryId = /entry (\S+): source/.exec(r.stdout)?.[1];
  t.ok(entryId, 'it names the entry');
  t.equal((await api(b, 'media', 'get', { entryId })).body.status, 2, 'B sees it READY');
  await filesInStore(t, entryId!);
  t.notOk(existsSync(join(dataDir, 'media', '309', entryId!)), 'nothing of it in the CLI node\'s media folder');
  await playsFrom(t, b, entryId!);
});

t.test('a store that fails under a chunk: 503, nothing kept, and the upload resumes at another node', async (t) => {
  // node C: the same catalog, and an S3 endpoint where nothing answers (its store is down). It
  // leaves before a job is queued: its ingest worker would take jobs and fail them (see README)
  const c = await startServer(t, { env: { ...nodeEnv, AWS_ENDPOINT_URL: 'http://127.0.0.1:9', KDELIVER_MEDIA_TIMEOUT_MS: '3000' } });
  const token = (await api(a, 'uploadToken', 'add', { uploadToken: { objectType: 'KalturaUploadToken', fileName: 'clip.mp4' } })).body.id as string;
  const half = Math.floor(video.length / 2);
  let r = await upload(a, token, video.subarray(0, half), { resume: false, resumeAt: 0, finalChunk: false });
  t.equal(r.body.uploadedFileSize, half);
  r = await upload(c, token, video.subarray(half), { resume: true, resumeAt: half, finalChunk: true });
  t.equal(r.status, 503, 'a store that does not answer: 503');
  t.equal(r.body.code, 'UPLOAD_ERROR');
  t.match(r.body.message, /s3 store s3:\/\/media\/lib \(\.uploads\/\S+\): the upload failed: .*nothing was kept: send this chunk again/);
  t.notMatch(r.body.message, /S3RVER/, 'no credential in the answer');
  const after = (await api(b, 'uploadToken', 'get', { uploadTokenId: token })).body;
  t.equal(after.uploadedFileSize, half, 'the token is as it was before the failed chunk');
  t.equal(after.status, 1, 'PARTIAL_UPLOAD');
  t.equal((await keysUnder(`lib/.uploads/${token}/`)).length, 1, 'only the first chunk is staged');

  r = await upload(b, token, video.subarray(half), { resume: true, resumeAt: half, finalChunk: true });
  t.equal(r.body.status, 2, 'the same chunk sent to B completes the upload');

  // the assembly at a node whose store is down: 503, and the token stays complete for another try
  const entry = (await api(a, 'media', 'add', { entry: { objectType: 'KalturaMediaEntry', name: 'after a fault', mediaType: 1 } })).body;
  const failed = await api(c, 'media', 'addContent', { entryId: entry.id, resource: { objectType: 'KalturaUploadedFileTokenResource', token } });
  t.equal(failed.status, 503, 'addContent where the store is down: 503');
  t.match(failed.body.message, /nothing was kept: use the upload token \S+ again/);
  t.equal((await api(a, 'uploadToken', 'get', { uploadTokenId: token })).body.status, 2, 'the token is still FULL_UPLOAD');
  t.equal((await api(a, 'media', 'get', { entryId: entry.id })).body.status, 7, 'the entry is still waiting for content (NO_CONTENT)');
  await c.app.close();
  const added = await api(b, 'media', 'addContent', { entryId: entry.id, resource: { objectType: 'KalturaUploadedFileTokenResource', token } });
  t.equal(added.body.status, 1, 'addContent at B takes it');
  t.equal((await waitReady(a, entry.id)).status, 2, 'READY');
  const source = (await a.app.catalog.listFlavors(entry.id)).find((f) => f.isOriginal)!;
  t.equal(sha256(await s3.get(`lib/${source.filePath}`)), sha256(video), 'byte for byte the file');
});
