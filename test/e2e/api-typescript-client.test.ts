// kaltura-typescript-client (npm 6.0.0), used as a black box: it rejects any response object
// without a valid objectType and builds typed instances from the rest, so listing entries and
// flavors through it proves the server's objects are typed as Kaltura's are. The library talks
// through XMLHttpRequest; Node has none, so a small transport over fetch stands in for the
// browser's (it only moves bytes: the library parses and checks everything itself).
import t from 'tap';
import { createRequire } from 'node:module';
import sharp from 'sharp';
import { startServer } from '../helpers/server.js';

const require = createRequire(import.meta.url);
const lib = require('kaltura-typescript-client');
const type = (name: string) => require(`kaltura-typescript-client/types/${name}`)[name];

class FetchXhr {
  readyState = 0;
  status = 0;
  response = '';
  responseText = '';
  onreadystatechange: (() => void) | null = null;
  upload = { addEventListener() {} };
  private method = 'GET';
  private url = '';
  private headers: Record<string, string> = {};
  open(method: string, url: string) { this.method = method; this.url = url; this.readyState = 1; }
  setRequestHeader(k: string, v: string) { this.headers[k] = v; }
  send(body?: string) {
    fetch(this.url, { method: this.method, headers: this.headers, body }).then(async (r) => {
      this.status = r.status;
      this.response = this.responseText = await r.text();
    }, (e) => { this.status = 0; this.responseText = String(e); }).finally(() => { this.readyState = 4; this.onreadystatechange?.(); });
  }
}

t.test('kaltura-typescript-client against kdeliver', async (t) => {
  const s = await startServer(t);
  const saved = (globalThis as any).XMLHttpRequest;
  (globalThis as any).XMLHttpRequest = FetchXhr;
  const warnings: string[] = [];
  const warn = console.warn;
  console.warn = (...a: unknown[]) => { warnings.push(a.join(' ')); };
  t.teardown(() => { (globalThis as any).XMLHttpRequest = saved; console.warn = warn; });

  // A typed application imports the classes it uses, which registers them with the library's type
  // factory; here every class the server's schema declares is loaded, so an objectType the
  // library does not know shows up as a warning (checked at the end).
  const schema = await (await fetch(`${s.url}/api_v3/api_schema.php`)).text();
  const declared = [...schema.matchAll(/<class name="(Kaltura\w+)"/g)].map((m) => m[1]);
  t.ok(declared.length > 20, 'the schema declares the classes');
  const unknownToLibrary = declared.filter((name) => { try { type(name); return false; } catch { return true; } });
  // base and exception classes have no module of their own; the caption playback data and three
  // condition classes are newer than 6.0.0
  t.same(unknownToLibrary.sort(), ['KalturaAPIException', 'KalturaCaptionPlaybackPluginData', 'KalturaEntryScheduledCondition', 'KalturaHttpHeaderCondition', 'KalturaObjectBase', 'KalturaSessionTypeCondition']);

  const client = new lib.KalturaBrowserHttpClient({ endpointUrl: s.url, clientTag: 'kdeliver-test' });
  const SessionStartAction = type('SessionStartAction');
  const ks: string = await client.request(new SessionStartAction({ secret: 'sample-admin-secret-309', partnerId: 309, type: 2 }));
  t.type(ks, 'string');
  client.ks = ks;

  await t.test('lists entries as typed objects', async (t) => {
    const list = await client.request(new (type('BaseEntryListAction'))({ filter: new (type('KalturaBaseEntryFilter'))({ statusIn: '2' }), pager: new (type('KalturaFilterPager'))({ pageSize: 100 }) }));
    t.ok(list instanceof type('KalturaBaseEntryListResponse'));
    t.ok(list.totalCount >= 10, 'the sample entries of partner 309');
    const video = list.objects.find((e: any) => e.id === '1_rcit0qgs');
    t.ok(video instanceof type('KalturaMediaEntry'), 'a KalturaMediaEntry instance');
    t.equal(video.name, 'Sample video');
    t.equal(video.duration, 12);
    t.equal(video.msDuration, 12000);
    t.ok(video.createdAt instanceof Date, 'times parse as dates (numeric Unix seconds)');
    t.match(video.thumbnailUrl, /\/p\/309\/sp\/30900\/thumbnail\/entry_id\/1_rcit0qgs\/version\/\d+$/);
    t.match(video.downloadUrl, /\/playManifest\/entryId\/1_rcit0qgs\/format\/download\//);
    const doc = list.objects.find((e: any) => e.id === '1_document');
    t.ok(doc instanceof type('KalturaDocumentEntry'), 'a document is a KalturaDocumentEntry');
    const media = await client.request(new (type('MediaListAction'))({ filter: new (type('KalturaMediaEntryFilter'))({ mediaTypeEqual: 5 }) }));
    t.same(media.objects.map((e: any) => e.id), ['1_audio001']);
  });

  await t.test('lists flavors as typed objects', async (t) => {
    const list = await client.request(new (type('FlavorAssetListAction'))({ filter: new (type('KalturaFlavorAssetFilter'))({ entryIdEqual: '1_alt0audi' }) }));
    t.ok(list instanceof type('KalturaFlavorAssetListResponse'));
    t.equal(list.totalCount, 4);
    for (const f of list.objects) t.ok(f instanceof type('KalturaFlavorAsset'), `${f.id} is a KalturaFlavorAsset`);
    const spa = list.objects.find((f: any) => f.language === 'Spanish' || f.language === 'spa' || /spa/i.test(f.label ?? ''));
    t.ok(spa, 'language travels');
    const withParams = await client.request(new (type('FlavorAssetGetFlavorAssetsWithParamsAction'))({ entryId: '1_rcit0qgs' }));
    t.equal(withParams.length, 5);
    for (const wp of withParams) {
      t.ok(wp instanceof type('KalturaFlavorAssetWithParams'));
      t.ok(wp.flavorAsset instanceof type('KalturaFlavorAsset'));
      t.ok(wp.flavorParams instanceof type('KalturaFlavorParams'));
      t.equal(wp.flavorParams.id, wp.flavorAsset.flavorParamsId);
    }
    const params = await client.request(new (type('FlavorParamsListAction'))({}));
    t.ok(params.objects.some((p: any) => p.id === 301951 && p.width === 640));
  });

  await t.test('playback context and captions', async (t) => {
    const ctx = await client.request(new (type('BaseEntryGetPlaybackContextAction'))({ entryId: '1_alt0audi', contextDataParams: new (type('KalturaPlaybackContextOptions'))({}) }));
    t.ok(ctx instanceof type('KalturaPlaybackContext'));
    t.same(ctx.sources.map((x: any) => x.format), ['applehttp', 'mpegdash', 'url']);
    for (const src of ctx.sources) t.ok(src instanceof type('KalturaPlaybackSource'));
    const caps = await client.request(new (type('CaptionAssetListAction'))({ filter: new (type('KalturaAssetFilter'))({ entryIdEqual: '1_alt0audi' }) }));
    t.equal(caps.totalCount, 2);
    for (const c of caps.objects) t.ok(c instanceof type('KalturaCaptionAsset'));
  });

  await t.test('multirequest with a dependency, and errors', async (t) => {
    const list = new (type('MediaListAction'))({ filter: new (type('KalturaMediaEntryFilter'))({ idEqual: '1_rcit0qgs' }) });
    const flavors = new (type('FlavorAssetGetByEntryIdAction'))({ entryId: '' }).setDependency(['entryId', 0, 'objects:0:id']);
    const missing = new (type('BaseEntryGetAction'))({ entryId: '1_missing' });
    const res = await client.multiRequest([list, flavors, missing]);
    t.equal(res.length, 3, 'exactly one item per request');
    t.ok(res[0].result instanceof type('KalturaMediaListResponse'));
    t.equal(res[1].result.length, 5, 'the dependency reached the second request');
    t.ok(res.hasErrors());
    t.ok(res[2].error instanceof lib.KalturaAPIException);
    t.equal(res[2].error.code, 'ENTRY_ID_NOT_FOUND');
    const err = await client.request(new (type('FlavorAssetGetAction'))({ id: 'nope' })).then(() => null, (e: any) => e);
    t.ok(err instanceof lib.KalturaAPIException, 'a single failed call rejects with KalturaAPIException');
    t.equal(err.code, 'FLAVOR_ASSET_ID_NOT_FOUND');
  });

  await t.test('write actions, each seen by the next playManifest', async (t) => {
    const entryId = '1_alt0audi';
    const manifest = (tail: string) => fetch(`${s.url}/p/309/sp/30900/playManifest/entryId/${entryId}/${tail}`, { redirect: 'manual' });
    const renamed = await client.request(new (type('MediaUpdateAction'))({ entryId, mediaEntry: new (type('KalturaMediaEntry'))({ name: 'Renamed (TS)', tags: 'ts' }) }));
    t.ok(renamed instanceof type('KalturaMediaEntry'));
    t.equal(renamed.name, 'Renamed (TS)');

    const rule = new (type('KalturaRule'))({
      message: 'KS needed',
      actions: [new (type('KalturaAccessControlBlockAction'))()],
      conditions: [new (type('KalturaAuthenticatedCondition'))({ not: true, privileges: [new (type('KalturaStringValue'))({ value: 'sview' })] })],
    });
    const profile = await client.request(new (type('AccessControlProfileAddAction'))({ accessControlProfile: new (type('KalturaAccessControlProfile'))({ name: 'TS rule', rules: [rule] }) }));
    t.ok(profile instanceof type('KalturaAccessControlProfile'));
    t.ok(profile.rules[0] instanceof type('KalturaRule'));
    t.ok(profile.rules[0].conditions[0] instanceof type('KalturaAuthenticatedCondition'), 'conditions read back typed');
    t.equal((await manifest('format/url/a.mp4')).status, 302, 'plays before');
    await client.request(new (type('BaseEntryUpdateAction'))({ entryId, baseEntry: new (type('KalturaBaseEntry'))({ accessControlId: profile.id }) }));
    const refused = await manifest('format/url/a.mp4');
    t.equal(refused.status, 403, 'refused by the next request');
    t.match(refused.headers.get('x-kaltura'), /error-3/);
    // (this library leaves an empty array out of a request, so a rule is narrowed rather than removed)
    const thumbnailsOnly = new (type('KalturaRule'))({
      actions: [new (type('KalturaAccessControlBlockAction'))()],
      contexts: [new (type('KalturaAccessControlContextTypeHolder'))({ type: type('KalturaContextType').thumbnail })],
    });
    const updated = await client.request(new (type('AccessControlProfileUpdateAction'))({ id: profile.id, accessControlProfile: new (type('KalturaAccessControlProfile'))({ rules: [thumbnailsOnly] }) }));
    t.equal(updated.rules[0].contexts[0].type.toString(), '3');
    t.equal((await manifest('format/url/a.mp4')).status, 302, 'the rule narrowed to thumbnails: plays again');

    const cap = await client.request(new (type('CaptionAssetAddAction'))({ entryId, captionAsset: new (type('KalturaCaptionAsset'))({ language: type('KalturaLanguage').fr, label: 'FR (TS)' }) }));
    t.ok(cap instanceof type('KalturaCaptionAsset'));
    await client.request(new (type('CaptionAssetSetContentAction'))({ id: cap.id, contentResource: new (type('KalturaStringResource'))({ content: '1\n00:00:01,000 --> 00:00:02,000\nSalut\n' }) }));
    const master = await (await manifest('format/applehttp/protocol/http/a.m3u8')).text();
    t.match(master, /TYPE=SUBTITLES[^\n]*NAME="FR \(TS\)"/, 'the new caption is in the next HLS master');

    const thumb = await client.request(new (type('ThumbAssetAddFromImageAction'))({ entryId, fileData: new Blob([await sharp({ create: { width: 48, height: 32, channels: 3, background: '#00f' } }).png().toBuffer()]) }));
    t.ok(thumb instanceof type('KalturaThumbAsset'));
    await client.request(new (type('ThumbAssetSetAsDefaultAction'))({ thumbAssetId: thumb.id }));
    const entry = await client.request(new (type('MediaGetAction'))({ entryId }));
    t.equal((await fetch(entry.thumbnailUrl)).status, 403, 'the profile\'s THUMBNAIL rule refuses the anonymous thumbnail');
    const thumbRes = await fetch(`${entry.thumbnailUrl}/width/0/height/0/ks/${ks}`);
    t.equal(thumbRes.status, 200, 'with the admin KS it is served');
    const pic = await sharp(Buffer.from(await thumbRes.arrayBuffer())).metadata();
    t.same([pic.width, pic.height], [48, 32], '/thumbnail serves the new default (width and height 0: as stored)');

    t.ok(await client.request(new (type('PartnerGetAction'))({})) instanceof type('KalturaPartner'));
    t.ok(await client.request(new (type('UiConfGetAction'))({ id: 48502 })) instanceof type('KalturaUiConf'));
    t.ok(await client.request(new (type('WidgetGetAction'))({ id: '_309' })) instanceof type('KalturaWidget'));
    t.ok(await client.request(new (type('DeliveryProfileGetAction'))({ id: 1001 })) instanceof type('KalturaDeliveryProfile'));
    const denied = await client.request(new (type('AccessControlProfileDeleteAction'))({ id: 1 })).then(() => null, (e: any) => e);
    t.ok(denied instanceof lib.KalturaAPIException);
    t.equal(denied.code, 'CANNOT_TRANSFER_ENTRIES_TO_ANOTHER_ACCESS_CONTROL_OBJECT');
  });

  await t.test('the other write actions through the typed client, and thumbAsset.serve under a THUMBNAIL rule', async (t) => {
    const entryId = '1_flavlim0';
    const call = (action: string, args: Record<string, unknown>) => client.request(new (type(action))(args));
    const refusal = (action: string, args: Record<string, unknown>) => call(action, args).then(() => null, (e: any) => e);
    const byIds = await call('BaseEntryGetByIdsAction', { entryIds: `${entryId},1_nosuch00` });
    t.same(byIds.map((e: any) => e.id), [entryId], 'getByIds');
    t.ok(byIds[0] instanceof type('KalturaMediaEntry'), 'typed as the entry\'s class');
    await call('MediaRejectAction', { entryId });
    t.equal((await fetch(`${s.url}/p/309/sp/0/playManifest/entryId/${entryId}/format/url/a.mp4`, { redirect: 'manual' })).headers.get('x-kaltura'), 'error-13', 'reject: refused at once');
    await call('BaseEntryApproveAction', { entryId });
    t.equal((await fetch(`${s.url}/p/309/sp/0/playManifest/entryId/${entryId}/format/url/a.mp4`, { redirect: 'manual' })).status, 302, 'approve: plays');

    const profiles = await call('AccessControlProfileListAction', { filter: new (type('KalturaAccessControlProfileFilter'))({ systemNameEqual: 'require_ks' }) });
    t.ok(profiles instanceof type('KalturaAccessControlProfileListResponse'));
    t.equal(profiles.objects.length, 1, 'list by system name');
    const got = await call('AccessControlProfileGetAction', { id: profiles.objects[0].id });
    t.ok(got instanceof type('KalturaAccessControlProfile'));
    t.equal(got.systemName, 'require_ks');

    const cap = await call('CaptionAssetAddAction', { entryId, captionAsset: new (type('KalturaCaptionAsset'))({ language: type('KalturaLanguage').de }) });
    await call('CaptionAssetSetContentAction', { id: cap.id, contentResource: new (type('KalturaStringResource'))({ content: 'WEBVTT\n\n00:00:01.000 --> 00:00:02.000\nHallo\n' }) });
    const relabelled = await call('CaptionAssetUpdateAction', { id: cap.id, captionAsset: new (type('KalturaCaptionAsset'))({ label: 'Deutsch (TS)' }) });
    t.equal(relabelled.label, 'Deutsch (TS)', 'caption update');
    await call('CaptionAssetSetAsDefaultAction', { captionAssetId: cap.id });
    t.equal((await call('CaptionAssetGetAction', { captionAssetId: cap.id })).isDefault, type('KalturaNullableBoolean').trueValue, 'setAsDefault');
    const capUrl = await call('CaptionAssetGetUrlAction', { id: cap.id });
    t.match(await (await fetch(capUrl)).text(), /Hallo/, 'getUrl serves it');
    await call('CaptionAssetDeleteAction', { captionAssetId: cap.id });
    t.match(await refusal('CaptionAssetGetAction', { captionAssetId: cap.id }), { code: 'CAPTION_ASSET_ID_NOT_FOUND' }, 'deleted');

    const green = await sharp({ create: { width: 64, height: 36, channels: 3, background: '#0f0' } }).jpeg().toBuffer();
    const token = await call('UploadTokenAddAction', { uploadToken: new (type('KalturaUploadToken'))({ fileName: 'poster.jpg' }) });
    await call('UploadTokenUploadAction', { uploadTokenId: token.id, fileData: new Blob([green]) });
    const blank = await call('ThumbAssetAddAction', { entryId, thumbAsset: new (type('KalturaThumbAsset'))({ tags: 'poster' }) });
    t.ok(blank instanceof type('KalturaThumbAsset'));
    const filled = await call('ThumbAssetSetContentAction', { id: blank.id, contentResource: new (type('KalturaUploadedFileTokenResource'))({ token: token.id }) });
    t.same([filled.width, filled.height], [64, 36], 'setContent from an upload token');
    // (KalturaAsset's description is read-only in Kaltura's schema: this library never sends it)
    t.equal((await call('ThumbAssetUpdateAction', { id: blank.id, thumbAsset: new (type('KalturaThumbAsset'))({ tags: 'poster,green' }) })).tags, 'poster,green', 'thumb update');
    t.equal((await call('ThumbAssetGetAction', { thumbAssetId: blank.id })).id, blank.id, 'thumb get');
    const thumbs = await call('ThumbAssetListAction', { filter: new (type('KalturaThumbAssetFilter'))({ entryIdEqual: entryId }) });
    t.ok(thumbs.objects.some((a: any) => a.id === blank.id), 'thumb list');
    t.same(Buffer.from(await (await fetch(await call('ThumbAssetGetUrlAction', { id: blank.id }))).arrayBuffer()), green, 'getUrl serves the picture as stored');

    // serve: the picture itself, under the entry's THUMBNAIL rules
    const serve = (ks?: string) => fetch(`${s.url}/api_v3/service/thumbasset/action/serve?thumbAssetId=${blank.id}${ks ? `&ks=${ks}` : ''}`);
    const served = await serve(ks);
    t.equal(served.headers.get('content-type'), 'image/jpeg');
    t.same(Buffer.from(await served.arrayBuffer()), green, 'serve answers the picture');
    const thumbnailRule = new (type('KalturaRule'))({
      message: 'no thumbnails', actions: [new (type('KalturaAccessControlBlockAction'))()],
      contexts: [new (type('KalturaAccessControlContextTypeHolder'))({ type: type('KalturaContextType').thumbnail })],
    });
    const blocking = await call('AccessControlProfileAddAction', { accessControlProfile: new (type('KalturaAccessControlProfile'))({ name: 'no thumbnails (TS)', rules: [thumbnailRule] }) });
    await call('MediaUpdateAction', { entryId, mediaEntry: new (type('KalturaMediaEntry'))({ accessControlId: blocking.id }) });
    const anonymous = await serve();
    t.equal(anonymous.status, 200, 'refused the api_v3 way, HTTP 200');
    t.match(await anonymous.text(), /<code>(ACCESS_CONTROL_RESTRICTED|MISSING_KS)<\/code>/, 'without a KS the THUMBNAIL rule refuses serve');
    await call('ThumbAssetDeleteAction', { thumbAssetId: blank.id });
    t.match(await refusal('ThumbAssetGetAction', { thumbAssetId: blank.id }), { code: 'THUMB_ASSET_ID_NOT_FOUND' }, 'thumb delete');

    const jpeg = await call('MediaUpdateThumbnailJpegAction', { entryId, fileData: new Blob([green]) });
    t.ok(jpeg instanceof type('KalturaMediaEntry'), 'media.updateThumbnailJpeg');
    const flavors = await call('FlavorAssetGetByEntryIdAction', { entryId });
    const rendition = flavors.find((f: any) => !f.isOriginal);
    t.equal(await call('FlavorAssetDeleteAction', { id: rendition.id }), null, 'flavorAsset.delete');
    t.match(await refusal('FlavorAssetGetAction', { id: rendition.id }), { code: 'FLAVOR_ASSET_ID_NOT_FOUND' });
    t.match(await refusal('FlavorAssetReconvertAction', { id: flavors.find((f: any) => f.isOriginal).id }), { code: 'FLAVOR_ASSET_RECONVERT_ORIGINAL' }, 'flavorAsset.reconvert reached');
    const dps = await call('DeliveryProfileListAction', { filter: new (type('KalturaDeliveryProfileFilter'))({ streamerTypeEqual: type('KalturaPlaybackProtocol').applehttp }) });
    t.ok(dps.objects.length > 0 && dps.objects.every((d: any) => d instanceof type('KalturaDeliveryProfile')), 'deliveryProfile.list');
  });

  t.same(warnings.filter((w) => /objectType|object type/i.test(w)), [], 'no object arrived with a missing or unknown objectType');
});
