// Upload with the official Node client (kaltura-client): a generated video goes up in chunks,
// the entry turns READY in the background, and plays through playManifest (read with ffprobe).
// Then the bad inputs: a token used twice, a chunk out of order, a zero-byte upload, a file that
// is not media, deletion, and a restart in the middle of transcoding.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { requireCommands } from '../helpers/system.js';
import { loadConfig } from '../../src/config.js';
import { buildServer } from '../../src/server.js';
import { makeSource, filesUnder } from '../ingest/helpers.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
const kaltura = createRequire(import.meta.url)('kaltura-client');

const work = mkdtempSync(join(tmpdir(), 'kdeliver-upload-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const config = loadConfig({ KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_LOG_LEVEL: 'silent' });

async function start() {
  const app = await buildServer({ config });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  return { app, url: `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}` };
}

let srv = await start();
t.teardown(() => srv.app.close());

function clientFor(url: string, ks?: string) {
  const cfg = new kaltura.Configuration();
  cfg.serviceUrl = url;
  // the client logs every request with its KS: keep test output free of secrets
  cfg.setLogger({ log() {}, error() {}, debug() {} });
  const client = new kaltura.Client(cfg);
  if (ks) client.setKs(ks);
  return client;
}
const anon = clientFor(srv.url);
const ks: string = await kaltura.services.session.start('sample-admin-secret-309', 'uploader', kaltura.enums.SessionType.ADMIN, 309).execute(anon);
let client = clientFor(srv.url, ks);
const call = (req: { execute(c: unknown): Promise<any> }) => req.execute(client);
/** The API error a call was refused with (kaltura-client rejects with the raw error object). */
const refusal = async (req: { execute(c: unknown): Promise<any> }) => {
  try {
    await req.execute(client);
  } catch (e) {
    return e as { code: string; message: string; args?: Record<string, string> };
  }
  return null;
};

/** ffprobe -of json, asynchronously: the server it reads from runs in this very process. */
function ffprobe(args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn('ffprobe', ['-v', 'error', '-of', 'json', ...args]);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

async function waitForStatus(entryId: string, done: (s: number) => boolean, ms = 60_000) {
  const until = Date.now() + ms;
  for (;;) {
    const e = await call(kaltura.services.media.get(entryId));
    if (done(Number(e.status))) return e;
    if (Date.now() > until) throw new Error(`entry ${entryId} stuck in status ${e.status}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

const video = join(work, 'upload.mp4');
makeSource(video, { seconds: 4, width: 640, height: 360 });
const bytes = readFileSync(video);

t.test('chunked upload, media.add + addContent, READY, playable through playManifest', async (t) => {
  const profiles = await call(kaltura.services.conversionProfile.listAction());
  t.ok(profiles.objects.some((p: any) => p.flavorParamsIds === '0,301961,301951,301971' && p.isDefault === 1), 'the default ladder');
  const params = await call(kaltura.services.flavorParams.listAction());
  t.ok(params.objects.some((p: any) => p.id === 301981));

  const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'my clip.mp4', fileSize: bytes.length })));
  t.equal(Number(token.status), 0, 'PENDING');
  const third = Math.floor(bytes.length / 3);
  let after = await call(kaltura.services.uploadToken.upload(token.id, bytes.subarray(0, third), false, false));
  t.equal(Number(after.status), 1, 'PARTIAL_UPLOAD');
  // a retried chunk (same bytes again) is harmless
  after = await call(kaltura.services.uploadToken.upload(token.id, bytes.subarray(0, third), true, false, 0));
  t.equal(after.uploadedFileSize, third);
  after = await call(kaltura.services.uploadToken.upload(token.id, bytes.subarray(third, 2 * third), true, false, -1));
  after = await call(kaltura.services.uploadToken.upload(token.id, bytes.subarray(2 * third), true, true, 2 * third));
  t.equal(Number(after.status), 2, 'FULL_UPLOAD');
  t.equal(after.uploadedFileSize, bytes.length);

  const entry = await call(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'Uploaded', mediaType: kaltura.enums.MediaType.VIDEO })));
  t.equal(Number(entry.status), 7, 'NO_CONTENT until content arrives');
  const resource = new kaltura.objects.UploadedFileTokenResource({ token: token.id });
  const converting = await call(kaltura.services.media.addContent(entry.id, resource));
  t.equal(Number(converting.status), 1, 'PRECONVERT while transcoding');
  const ready = await waitForStatus(entry.id, (s) => s !== 1);
  t.equal(Number(ready.status), 2, 'READY');
  t.match(ready.thumbnailUrl, new RegExp(`/p/309/sp/30900/thumbnail/entry_id/${entry.id}/version/\\d+$`));

  const flavors = await call(kaltura.services.flavorAsset.listAction(new kaltura.objects.AssetFilter({ entryIdEqual: entry.id })));
  t.same(flavors.objects.map((f: any) => f.flavorParamsId).sort(), [0, 301951, 301961]);
  t.ok(flavors.objects.every((f: any) => Number(f.status) === 2));

  // play it the way the documentation says, and read what arrives with ffprobe
  const manifest = `${srv.url}/p/309/sp/0/playManifest/entryId/${entry.id}/format/url/protocol/http/flavorParamId/301951/a.mp4`;
  const res = await fetch(manifest, { redirect: 'manual' });
  t.equal(res.status, 302);
  const location = new URL(res.headers.get('location')!, srv.url).toString();
  t.match(location, /\/serveFlavor\//);
  const probe = await ffprobe(['-show_entries', 'stream=codec_name,width,height', location]);
  t.equal(probe.status, 0, probe.stderr);
  const streams = JSON.parse(probe.stdout).streams;
  t.same(streams.map((s: any) => s.codec_name).sort(), ['aac', 'h264']);
  t.equal(streams.find((s: any) => s.codec_name === 'h264').height, 360);
  // the ladder plays as HLS through the built-in packager: both renditions, to the end
  const master = `${srv.url}/p/309/sp/30900/playManifest/entryId/${entry.id}/format/applehttp/protocol/http/a.m3u8`;
  const body = await (await fetch(master)).text();
  t.equal(body.match(/#EXT-X-STREAM-INF/g)?.length, 2, 'two variants (240p, 360p)');
  const hls = await ffprobe(['-show_entries', 'format=duration', master]);
  t.equal(hls.status, 0, hls.stderr);
  t.ok(Math.abs(Number(JSON.parse(hls.stdout).format.duration) - 4) < 0.5, 'the whole clip');
  const thumb = await fetch(`${ready.thumbnailUrl}/width/160`);
  t.equal(thumb.status, 200);
  t.equal(thumb.headers.get('content-type'), 'image/jpeg');

  // a token used twice: neither another chunk nor another entry
  const again = await refusal(kaltura.services.uploadToken.upload(token.id, bytes.subarray(0, 10), false, true));
  t.equal(again?.code, 'UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD');
  const reuse = await refusal(kaltura.services.media.addFromUploadedFile(new kaltura.objects.MediaEntry({ name: 'again', mediaType: 1 }), token.id));
  t.equal(reuse?.code, 'UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY');
  t.match(reuse?.message, /already used for entry/);
  // the refused call left no empty entry behind (it used to make one, status NO_CONTENT, first)
  const named = await call(kaltura.services.media.listAction(new kaltura.objects.MediaEntryFilter({ nameLike: 'again' })));
  t.equal(named.totalCount, 0, 'no entry "again"');

  // deletion: catalog first, then the files
  const files = filesUnder(join(config.mediaRoot, '309', entry.id));
  t.equal(files.length, 4, 'source, two flavors, thumbnail');
  await call(kaltura.services.media.deleteAction(entry.id));
  t.same(filesUnder(join(config.mediaRoot, '309', entry.id)), []);
  const gone = await refusal(kaltura.services.media.get(entry.id));
  t.equal(gone?.code, 'ENTRY_ID_NOT_FOUND');
  t.equal((await fetch(manifest, { redirect: 'manual' })).status, 404);
});

t.test('bad uploads end in a clear error; the entry in ERROR with the reason', async (t) => {
  // a final chunk before the bytes it follows
  const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'x.mp4' })));
  const gap = await refusal(kaltura.services.uploadToken.upload(token.id, bytes.subarray(1000, 2000), true, true, 1000));
  t.equal(gap?.code, 'UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE');
  t.match(gap?.message, /the final chunk starts at byte 1000 but the bytes before it have arrived only up to byte 0: send it again once the chunks before it are in/);
  const unknown = await refusal(kaltura.services.uploadToken.upload('0_nosuchtk', bytes.subarray(0, 10)));
  t.equal(unknown?.code, 'UPLOAD_TOKEN_NOT_FOUND');
  const early = await refusal(kaltura.services.media.addFromUploadedFile(new kaltura.objects.MediaEntry({ name: 'early', mediaType: 1 }), token.id));
  t.equal(early?.code, 'UPLOAD_TOKEN_INVALID_STATUS_FOR_ADD_ENTRY');
  t.match(early?.message, /not complete/);

  // a zero-byte upload
  const empty = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'empty.mp4' })));
  await call(kaltura.services.uploadToken.upload(empty.id, Buffer.alloc(0)));
  const zero = await refusal(kaltura.services.baseEntry.addFromUploadedFile(new kaltura.objects.MediaEntry({ name: 'empty', mediaType: 1 }), empty.id));
  t.equal(zero?.code, 'INGEST_FAILED');
  t.match(zero?.message, /the file is empty \(0 bytes\)/);
  const zeroEntry = await call(kaltura.services.media.get(zero!.args!.ENTRY_ID));
  t.equal(Number(zeroEntry.status), -2, 'ERROR_IMPORTING');

  // a file that is not media
  const text = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'notes.mp4' })));
  await call(kaltura.services.uploadToken.upload(text.id, Buffer.from('not a video at all\n'.repeat(50))));
  const entry = await call(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'notes', mediaType: 1 })));
  const notMedia = await refusal(kaltura.services.media.addContent(entry.id, new kaltura.objects.UploadedFileTokenResource({ token: text.id })));
  t.equal(notMedia?.code, 'INGEST_FAILED');
  t.match(notMedia?.message, /not a media file ffmpeg can read.*upload a video or audio file/);
  t.equal(Number((await call(kaltura.services.media.get(entry.id))).status), -2);
  t.same(filesUnder(join(config.mediaRoot, '309', entry.id)), [], 'nothing kept of it');
  t.same(filesUnder(join(config.dataDir, 'uploads')), [], 'used uploads removed (the out-of-order token never got a byte)');

  // an upload abandoned for a day times out, and its partial file goes
  const { expireUploadTokens, uploadPath } = await import('../../src/ingest/uploads.js');
  await call(kaltura.services.uploadToken.upload(token.id, bytes.subarray(0, 100), true, false, 0));
  t.ok(existsSync(uploadPath(config.dataDir, token.id)));
  t.equal(await expireUploadTokens({ catalog: srv.app.catalog, dataDir: config.dataDir, now: Math.floor(Date.now() / 1000) + 2 * 86400 }, 86400) >= 1, true);
  t.notOk(existsSync(uploadPath(config.dataDir, token.id)));
  t.equal(Number((await call(kaltura.services.uploadToken.get(token.id))).status), 4, 'TIMED_OUT');
  const late = await refusal(kaltura.services.uploadToken.upload(token.id, bytes.subarray(100, 200), true, false, -1));
  t.equal(late?.code, 'UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD');

  // only an admin KS writes: not a user KS, not the widget session any player can get
  const userKs: string = await kaltura.services.session.start('sample-admin-secret-309', 'viewer', kaltura.enums.SessionType.USER, 309).execute(anon);
  const widget = await kaltura.services.session.startWidgetSession('_309').execute(anon);
  for (const k of [userKs, widget.ks as string]) {
    const c = clientFor(srv.url, k);
    for (const req of [
      kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'x.mp4' })),
      kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'x', mediaType: 1 })),
      kaltura.services.media.deleteAction('1_rcit0qgs'),
      kaltura.services.baseEntry.deleteAction('1_rcit0qgs'),
    ]) {
      const err = await req.execute(c).then(() => null, (e: { code: string }) => e);
      t.equal(err?.code, 'SERVICE_FORBIDDEN');
    }
  }
  t.equal(Number((await call(kaltura.services.media.get('1_rcit0qgs'))).status), 2, 'still there');

  // the server keeps serving everything else
  const sample = await fetch(`${srv.url}/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/url/protocol/http/flavorParamId/301971/video.mp4`, { redirect: 'manual' });
  t.equal(sample.status, 302);
});

t.test('the whole upload in one multirequest: each sub-request gets its own file part', async (t) => {
  // the client names a sub-request's file `{index}:fileData`, as its parameters; before, no
  // sub-request found its file (MISSING_MANDATORY_PARAMETER fileData) and the entry stayed empty
  const results = await kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'batch.mp4' }))
    .add(kaltura.services.uploadToken.upload('{1:result:id}', video))
    .add(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'uploaded in one batch', mediaType: 1 })))
    .add(kaltura.services.media.addContent('{3:result:id}', new kaltura.objects.UploadedFileTokenResource({ token: '{1:result:id}' })))
    .execute(client);
  t.equal(results.length, 4);
  for (const r of results) t.notOk(r && r.code && r.message, `no error: ${r?.code ?? 'ok'}`);
  t.equal(Number(results[1].uploadedFileSize), bytes.length, 'the file reached uploadToken.upload');
  const ready = await waitForStatus(results[2].id, (s) => s !== 1 && s !== 7 && s !== 0, 120_000);
  t.equal(Number(ready.status), 2, 'and the entry is READY');

  // raw multipart bodies: numbered parts go to their sub-request only, 1-based keys as well
  const multirequest = async (fields: Array<[string, string]>, file: [string, number]) => {
    const form = new FormData();
    form.append('ks', ks);
    form.append('format', '1');
    for (const [k, v] of fields) form.append(k, v);
    form.append(file[0], new Blob([bytes.subarray(0, file[1])]), 'part.bin');
    return (await fetch(`${srv.url}/api_v3/service/multirequest`, { method: 'POST', body: form })).json();
  };
  const newToken = async () => (await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'part.bin' })))).id as string;
  const raw = await multirequest([['1:service', 'system'], ['1:action', 'ping'], ['2:service', 'uploadToken'], ['2:action', 'upload'], ['2:uploadTokenId', await newToken()]], ['2:fileData', 1000]);
  t.equal(raw[0], true, 'the first sub-request, given no file');
  t.equal(Number(raw[1].uploadedFileSize), 1000, 'the second, its part');
  // PHP's spelling of the same names
  const php = await multirequest([['1[service]', 'uploadToken'], ['1[action]', 'upload'], ['1[uploadTokenId]', await newToken()]], ['1[fileData]', 700]);
  t.equal(Number(php[0].uploadedFileSize), 700, '1[fileData]: its part too');
});

t.test('a restart in the middle of transcoding: the job is queued again and finishes', async (t) => {
  const long = join(work, 'long.mp4');
  makeSource(long, { seconds: 8, width: 1280, height: 720 });
  const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'long.mp4' })));
  await call(kaltura.services.uploadToken.upload(token.id, long));
  const entry = await call(kaltura.services.media.addFromUploadedFile(new kaltura.objects.MediaEntry({ name: 'long', mediaType: 1 }), token.id));
  t.equal(Number(entry.status), 1);
  // wait until ffmpeg is at work, then stop the server
  const staging = join(config.dataDir, 'tmp', 'ingest');
  const until = Date.now() + 20_000;
  while (filesUnder(staging).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
  t.ok(filesUnder(staging).length > 0, 'transcoding had started');
  await srv.app.close();

  srv = await start();
  client = clientFor(srv.url, ks);
  const ready = await waitForStatus(entry.id, (s) => s !== 1, 120_000);
  t.equal(Number(ready.status), 2, 'READY after the restart');
  const flavors = await call(kaltura.services.flavorAsset.listAction(new kaltura.objects.AssetFilter({ entryIdEqual: entry.id })));
  t.same(flavors.objects.map((f: any) => f.flavorParamsId).sort(), [0, 301951, 301961, 301971]);
  t.notOk(existsSync(join(staging, 'job-1')) && filesUnder(staging).length > 0, 'no staging files left');
});
