// A thumbnail's picture is taken only when it decodes whole. A JPEG or PNG cut off after its
// header (an interrupted upload, a truncated download) has a readable size, and was kept READY:
// made the default, the entry's thumbnail URL then answered 404 for every player.
import t from 'tap';
import sharp from 'sharp';
import { startServer } from '../helpers/server.js';
import { kaltura, sampleAdminClient } from '../helpers/kaltura-client.js';

const ENTRY = '1_rcit0qgs';

t.test('a cut-off picture is refused where it is given, and the thumbnail stays drawable', async (t) => {
  const s = await startServer(t);
  const { call, refusal } = await sampleAdminClient(s.url);
  // noise, so that the compressed data runs well past the header
  const pixels = Buffer.from(Array.from({ length: 320 * 240 * 3 }, (_, i) => (i * 7919) % 251));
  const jpeg = await sharp(pixels, { raw: { width: 320, height: 240, channels: 3 } }).jpeg().toBuffer();
  const png = await sharp(pixels, { raw: { width: 320, height: 240, channels: 3 } }).png().toBuffer();
  const cut = (b: Buffer) => b.subarray(0, Math.floor(b.length * 0.6));
  const thumbnail = async () => {
    const r = await fetch(`${s.url}/p/309/sp/30900/thumbnail/entry_id/${ENTRY}/width/160`);
    await r.arrayBuffer();
    return `${r.status} ${r.headers.get('content-type')}`;
  };
  const uploaded = async (data: Buffer) => {
    const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'poster.jpg' })));
    await call(kaltura.services.uploadToken.upload(token.id, data));
    return new kaltura.objects.UploadedFileTokenResource({ token: token.id });
  };
  t.equal(await thumbnail(), '200 image/jpeg');

  const asset = await call(kaltura.services.thumbAsset.add(ENTRY, new kaltura.objects.ThumbAsset({})));
  t.match(await refusal(kaltura.services.thumbAsset.setContent(asset.id, await uploaded(cut(jpeg)))), {
    code: 'FILE_TYPE_NOT_SUPPORTED', message: /JPEG \(the picture is cut off or damaged: upload the whole file\)/,
  }, 'thumbAsset.setContent: a JPEG cut off after its header');
  t.match(await call(kaltura.services.thumbAsset.get(asset.id)), { status: 0, sizeInBytes: 0 }, 'the asset has no picture yet');
  t.match(await refusal(kaltura.services.thumbAsset.setAsDefault(asset.id)), { code: 'THUMB_ASSET_IS_NOT_READY' }, 'and cannot become the default');

  t.match(await refusal(kaltura.services.media.updateThumbnailJpeg(ENTRY, cut(png))), { code: 'FILE_TYPE_NOT_SUPPORTED', message: /PNG \(the picture is cut off/ },
    'media.updateThumbnailJpeg: a cut-off PNG');
  t.match(await refusal(kaltura.services.thumbAsset.addFromImage(ENTRY, cut(jpeg))), { code: 'FILE_TYPE_NOT_SUPPORTED' }, 'thumbAsset.addFromImage likewise');
  t.equal(await thumbnail(), '200 image/jpeg', 'the entry keeps a thumbnail that draws');

  t.match(await call(kaltura.services.thumbAsset.setContent(asset.id, await uploaded(jpeg))), { status: 2, width: 320, height: 240, sizeInBytes: jpeg.length },
    'the whole picture is taken');
  await call(kaltura.services.thumbAsset.setAsDefault(asset.id));
  t.equal(await thumbnail(), '200 image/jpeg');
});
