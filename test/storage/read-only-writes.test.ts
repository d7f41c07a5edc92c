// Media writes on a read-only HTTP origin (KDELIVER_MEDIA_URL=http://...), with a real origin
// (nginx serving a copy of the sample library's media). Every api_v3 action that writes a media
// file is refused with UPLOAD_ERROR naming KDELIVER_MEDIA_URL, under every name the dispatcher
// takes for its service, and nothing is written to the local media folder, which such a server
// never reads. They were not all: the official client's `caption_captionasset.setContent` and
// `media.updateThumbnail`/`updateThumbnailJpeg` were accepted and wrote the file locally (the
// player's subtitle track then answered 404 "caption file is missing").
import t from 'tap';
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { startServer } from '../helpers/server.js';
import { filesUnder, startNginx } from '../helpers/media-origins.js';
import { requireCommands } from '../helpers/system.js';
import { kaltura, sampleAdminClient } from '../helpers/kaltura-client.js';
import { SERVICES } from '../../src/api/services/index.js';
import { removeEntryFile, writeMediaFile } from '../../src/api/services/thumb-asset.js';
import type { ApiContext } from '../../src/api/types.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');

const VIDEO = '1_rcit0qgs';
const CAPTION = '1_c1alt000';
const REFUSED = { code: 'UPLOAD_ERROR', message: /KDELIVER_MEDIA_URL=http:\/\/127\.0\.0\.1:\d+\/media is a read-only HTTP origin/ };

const ref = await startServer(t);
const originRoot = mkdtempSync(join(tmpdir(), 'kdeliver-ro-origin-'));
t.teardown(() => rmSync(originRoot, { recursive: true, force: true }));
cpSync(ref.config.mediaRoot, join(originRoot, 'media'), { recursive: true, dereference: true });
const nginx = await startNginx(t, `location /media/ { alias ${originRoot}/media/; }`);

const srv = await startServer(t, { env: { KDELIVER_MEDIA_URL: `${nginx.url}/media` } });
// the server's own media folder: never read with an HTTP origin, and never to be written either
rmSync(srv.config.mediaRoot, { recursive: true, force: true });
const localFiles = () => (existsSync(srv.config.mediaRoot) ? filesUnder(srv.config.mediaRoot) : []);

t.test('the official client\'s media writes are refused, naming KDELIVER_MEDIA_URL; nothing is written locally', async (t) => {
  const { call, refusal } = await sampleAdminClient(srv.url);
  // the origin is what the server reads: the caption and the video are there
  t.match(await call(kaltura.services.captionAsset.get(CAPTION)), { id: CAPTION }, 'the caption is the origin\'s');
  const jpeg = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#36c' } }).jpeg().toBuffer();

  const srt = new kaltura.objects.StringResource({ content: '1\n00:00:00,000 --> 00:00:01,000\nhello\n' });
  t.match(await refusal(kaltura.services.captionAsset.setContent(CAPTION, srt)), REFUSED, 'caption_captionasset.setContent (as the client sends it)');
  t.match(await refusal(kaltura.services.media.updateThumbnail(VIDEO, 1)), REFUSED, 'media.updateThumbnail');
  t.match(await refusal(kaltura.services.media.updateThumbnailJpeg(VIDEO, jpeg)), REFUSED, 'media.updateThumbnailJpeg');
  t.match(await refusal(kaltura.services.baseEntry.updateThumbnailJpeg(VIDEO, jpeg)), REFUSED, 'baseEntry.updateThumbnailJpeg');
  t.match(await refusal(kaltura.services.thumbAsset.addFromImage(VIDEO, jpeg)), REFUSED, 'thumbAsset.addFromImage');
  t.same(localFiles(), [], 'nothing written under the data directory\'s media folder');

  // the caption is still the origin's, and still served from there
  t.match(await call(kaltura.services.captionAsset.get(CAPTION)), { version: 1 }, 'the caption asset is unchanged');
  const vtt = await fetch(`${srv.url}/api_v3/service/caption_captionasset/action/serveWebVTT?captionAssetId=${CAPTION}&segmentIndex=1&ks=${(await sampleAdminClient(srv.url)).ks}`);
  t.match(await vtt.text(), /^WEBVTT/, 'serveWebVTT still reads the origin\'s caption');
});

t.test('every action marked as writing media is refused under every name of its service, before anything else', async (t) => {
  const { ks } = await sampleAdminClient(srv.url);
  const writers = SERVICES.flatMap((s) => Object.entries(s.actions).filter(([, a]) => a.writesMedia).map(([name]) => [s.name, name] as const));
  for (const expected of ['caption_captionAsset.setContent', 'media.updateThumbnail', 'media.updateThumbnailJpeg', 'baseEntry.updateThumbnailJpeg',
    'thumbAsset.add', 'caption_captionAsset.add', 'thumbAsset.addFromImage', 'thumbAsset.setContent', 'uploadToken.upload', 'media.addContent', 'flavorAsset.reconvert']) {
    t.ok(writers.some(([s, a]) => `${s}.${a}` === expected), `${expected} is marked as writing media`);
  }
  for (const [service, action] of writers) {
    // the wire name as declared, as the client library sends it (lower case), and in upper case
    for (const [svc, act] of [[service, action], [service.toLowerCase(), action.toLowerCase()], [service.toUpperCase(), action]]) {
      const r = await fetch(`${srv.url}/api_v3/service/${svc}/action/${act}?format=1&ks=${ks}`, { method: 'POST' });
      t.match(await r.json(), REFUSED, `${svc}.${act}`);
      // in a multirequest too
      const m = await fetch(`${srv.url}/api_v3/service/multirequest?format=1&ks=${ks}&1:service=${svc}&1:action=${act}`, { method: 'POST' });
      t.match(await m.json(), [REFUSED], `multirequest ${svc}.${act}`);
    }
  }
  const ping = await fetch(`${srv.url}/api_v3/service/system/action/ping?format=1`);
  t.equal(await ping.text(), 'true', 'other actions answer');
  t.same(localFiles(), [], 'nothing written under the data directory\'s media folder');
});

t.test('below the dispatcher, the API\'s media writer refuses a read-only store too (an action not marked cannot write locally)', async (t) => {
  const ctx = { config: srv.config, media: { readOnly: 'KDELIVER_MEDIA_URL=http://127.0.0.1:1/media is a read-only HTTP origin', writer: null, describe: 'x' } } as unknown as Pick<ApiContext, 'media' | 'config'>;
  await t.rejects(writeMediaFile(ctx, `309/${VIDEO}/x.vtt`, 'WEBVTT\n'), { code: 'UPLOAD_ERROR', message: /KDELIVER_MEDIA_URL=\S+ is a read-only HTTP origin/ }, 'writeMediaFile');
  await removeEntryFile(ctx, { partnerId: 309, id: VIDEO }, `309/${VIDEO}/x.vtt`);
  t.pass('removeEntryFile leaves the origin\'s files alone, without refusing');
  t.same(localFiles(), [], 'nothing written under the data directory\'s media folder');
});
