// thumbAsset.serve with a KalturaThumbParams gives the picture at that size (as Kaltura's serve
// resizes it), and thumbAsset.getUrl with one answers a URL that does so; a property this server
// does not apply is refused rather than answering the picture as stored.
import t from 'tap';
import sharp from 'sharp';
import { startServer } from '../helpers/server.js';
import { kaltura, sampleAdminClient } from '../helpers/kaltura-client.js';


t.test('thumbAsset.serve and getUrl with thumbParams', async (t) => {
  const srv = await startServer(t);
  const { ks, call, refusal } = await sampleAdminClient(srv.url);

  // a 640x360 picture as the entry's thumbnail asset
  const picture = await sharp({ create: { width: 640, height: 360, channels: 3, background: '#3060c0' } }).jpeg().toBuffer();
  const thumb = await call(kaltura.services.thumbAsset.addFromImage('1_rcit0qgs', picture));
  const serve = (query: string) => fetch(`${srv.url}/api_v3/service/thumbAsset/action/serve?ks=${ks}&thumbAssetId=${thumb.id}${query}`);
  const size = async (r: Response) => {
    t.equal(r.headers.get('content-type'), 'image/jpeg');
    const m = await sharp(Buffer.from(await r.arrayBuffer())).metadata();
    return [m.width, m.height];
  };

  t.same(await size(await serve('')), [640, 360], 'as stored without thumbParams');
  t.same(await size(await serve('&thumbParams:objectType=KalturaThumbParams&thumbParams:width=160')), [160, 90], 'width: the aspect ratio kept');
  t.same(await size(await serve('&thumbParams:height=90')), [160, 90], 'height');
  t.same(await size(await serve('&thumbParams:width=100&thumbParams:height=100&thumbParams:cropType=3')), [100, 100], 'cropType 3 crops to fill');
  t.same(await size(await serve('&thumbParams:width=100&thumbParams:height=100')), [100, 56], 'by default it fits inside');
  // the action needs no session: a resize is made once and then read from the thumbnail cache
  const hits = async () => Number(/^kdeliver_thumbnail_cache_hits_total (\d+)/m.exec(await (await fetch(`${srv.url}/metrics`)).text())?.[1]);
  const before = await hits();
  t.same(await size(await serve('&thumbParams:width=160')), [160, 90], 'the same size asked again');
  t.equal(await hits(), before + 1, 'is read from the thumbnail cache, not resized again');

  for (const [query, code] of [
    ['&thumbParams:width=-5', 'INVALID_ENUM_VALUE'],
    ['&thumbParams:width=99999', 'INVALID_ENUM_VALUE'],
    ['&thumbParams:quality=0', 'INVALID_ENUM_VALUE'],
    ['&thumbParams:cropType=9', 'INVALID_ENUM_VALUE'],
    ['&thumbParams:density=300', 'PROPERTY_IS_NOT_DEFINED'],
  ]) {
    const r = await serve(`${query}&format=1`);
    t.equal(r.status, 200);
    t.equal((await r.json() as { code: string }).code, code, query);
  }

  const url: string = await call(kaltura.services.thumbAsset.getUrl(thumb.id, null, new kaltura.objects.ThumbParams({ width: 160 })));
  t.match(url, /\/service\/thumbAsset\/action\/serve\//);
  t.same(await size(await fetch(url)), [160, 90], 'getUrl: the URL serves the size asked for');
  t.same(await size(await fetch(await call(kaltura.services.thumbAsset.getUrl(thumb.id)))), [640, 360], 'getUrl without thumbParams: as stored');
  const bad = await refusal(kaltura.services.thumbAsset.getUrl(thumb.id, null, new kaltura.objects.ThumbParams({ density: 300 })));
  t.equal(bad?.code, 'PROPERTY_IS_NOT_DEFINED');
});
