// The official Node client library (npm kaltura-client), used as a black box against a real
// server: sessions, flavors, getUrl whose URL really serves the flavor's bytes, the documented
// download recipe as written, multirequest dependencies, and errors as the library reports them.
import t from 'tap';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import net from 'node:net';
import kaltura from 'kaltura-client';
import { startServer } from '../helpers/server.js';

const ADMIN_SECRET = 'sample-admin-secret-309';
const USER_SECRET = 'sample-user-secret-309';

t.test('kaltura-client against kdeliver', async (t) => {
  const s = await startServer(t);
  const config = new kaltura.Configuration();
  config.serviceUrl = s.url; // the host root: the library appends /api_v3/service
  // the library logs every request body (secrets included) to the console unless given a logger
  config.setLogger({ log() {}, error() {}, debug() {} });
  const client = new kaltura.Client(config);
  const mediaFile = (rel: string) => join(s.config.mediaRoot, rel);

  const ks: string = await kaltura.services.session.start(ADMIN_SECRET, 'api-test', kaltura.enums.SessionType.ADMIN, 309).execute(client);
  t.type(ks, 'string');
  t.ok(ks.length > 40, 'a KS string');
  client.setKs(ks);

  await t.test('session.start refuses a bad secret and ADMIN with the user secret', async (t) => {
    const bad = await kaltura.services.session.start('wrong', '', 2, 309).execute(client).then(() => null, (e: any) => e);
    t.match(bad, { code: 'START_SESSION_ERROR', objectType: 'KalturaAPIException', args: { PID: '309' } });
    const userAdmin = await kaltura.services.session.start(USER_SECRET, '', 2, 309).execute(client).then(() => null, (e: any) => e);
    t.match(userAdmin, { code: 'START_SESSION_ERROR' }, 'the user secret gives USER sessions only');
    const userKs = await kaltura.services.session.start(USER_SECRET, 'u1', 0, 309).execute(client);
    t.type(userKs, 'string');
    const c2 = new kaltura.Client(config);
    c2.setKs(userKs);
    const info = await kaltura.services.session.get().execute(c2);
    t.match(info, { objectType: 'KalturaSessionInfo', sessionType: 0, partnerId: 309, userId: 'u1' });
  });

  let flavors: any[] = [];
  await t.test('flavorAsset.list then getUrl, and the URL serves the flavor', async (t) => {
    const filter = new kaltura.objects.AssetFilter({ entryIdEqual: '1_rcit0qgs' });
    const list = await kaltura.services.flavorAsset.listAction(filter).execute(client);
    t.equal(list.objectType, 'KalturaFlavorAssetListResponse');
    t.equal(list.totalCount, 5);
    flavors = list.objects;
    t.same(flavors.map((f: any) => f.id).sort(), ['1_f0rcit00', '1_f1rcit00', '1_f2rcit00', '1_f3rcit00', '1_f4rcit00']);
    for (const f of flavors) t.match(f, { objectType: 'KalturaFlavorAsset', entryId: '1_rcit0qgs', status: 2, partnerId: 309 });
    const f360 = flavors.find((f: any) => f.flavorParamsId === 301951);
    const url: string = await kaltura.services.flavorAsset.getUrl(f360.id).execute(client);
    t.match(url, new RegExp(`^${s.url}/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/flavorId/${f360.id}/protocol/http/format/download`));
    const res = await fetch(url);
    t.equal(res.status, 200);
    const bytes = Buffer.from(await res.arrayBuffer());
    const flavor = (await s.app.catalog.getFlavor(f360.id))!;
    t.equal(bytes.length, statSync(mediaFile(flavor.filePath)).size, 'the whole flavor file');
    t.ok(bytes.equals(readFileSync(mediaFile(flavor.filePath))), 'byte for byte');
  });

  await t.test('a filter property the server does not apply is an error, never a longer list', async (t) => {
    // the library sends every property it knows; tagsLike and orderBy are Kaltura's, not applied here
    const tagged = new kaltura.objects.MediaEntryFilter({ tagsLike: 'no-such-tag' });
    const err = await kaltura.services.media.listAction(tagged).execute(client).then(() => null, (e: any) => e);
    t.same(err, { code: 'PROPERTY_IS_NOT_DEFINED', message: 'The property "tagsLike" is not defined on type "KalturaMediaEntryFilter"', objectType: 'KalturaAPIException', args: { PROP: 'tagsLike', TYPE: 'KalturaMediaEntryFilter' } });
    const ordered = new kaltura.objects.AssetFilter({ entryIdEqual: '1_rcit0qgs', orderBy: '+createdAt' });
    t.match(await kaltura.services.flavorAsset.listAction(ordered).execute(client).then(() => null, (e: any) => e), { code: 'PROPERTY_IS_NOT_DEFINED', args: { PROP: 'orderBy' } });
    const pager = new kaltura.objects.FilterPager({ pageSize: 2, pageIndex: 2 });
    const page = await kaltura.services.flavorAsset.listAction(new kaltura.objects.AssetFilter({ entryIdEqual: '1_rcit0qgs', statusEqual: 2 }), pager).execute(client);
    t.equal(page.totalCount, 5, 'the properties it does apply still work, pager included');
    t.equal(page.objects.length, 2);
  });

  await t.test('the documented download recipe, as written', async (t) => {
    // startMultiRequest; getwebplayablebyentryid; geturl('{1:result:0:id}'); doMultiRequest
    const results = await kaltura.services.flavorAsset.getWebPlayableByEntryId('1_rcit0qgs')
      .add(kaltura.services.flavorAsset.getUrl('{1:result:0:id}'))
      .execute(client);
    t.equal(results.length, 2);
    t.ok(Array.isArray(results[0]));
    t.ok(results[0].every((f: any) => f.isWeb === true && f.tags.split(',').includes('web')), 'web flavors only');
    const downloadUrl: string = results[1];
    t.match(downloadUrl, `/flavorId/${results[0][0].id}/`);
    const res = await fetch(downloadUrl);
    t.equal(res.status, 200);
    t.equal(Number((await res.arrayBuffer()).byteLength), (await s.app.catalog.getFlavor(results[0][0].id))!.size);
  });

  await t.test('multirequest with {1:result:objects:0:id}', async (t) => {
    const filter = new kaltura.objects.MediaEntryFilter({ nameLike: 'Sample video' });
    const results = await kaltura.services.media.listAction(filter)
      .add(kaltura.services.media.get('{1:result:objects:0:id}'))
      .add(kaltura.services.flavorAsset.getByEntryId('{1:result:objects:0:id}'))
      .execute(client);
    t.equal(results.length, 3);
    t.equal(results[0].objectType, 'KalturaMediaListResponse');
    t.ok(results[0].totalCount >= 1);
    t.equal(results[1].id, results[0].objects[0].id, 'the dependency resolved');
    t.match(results[1], { objectType: 'KalturaMediaEntry', type: 1, mediaType: 1, status: 2 });
    t.ok(results[2].length > 0);
  });

  await t.test('an unknown entry is the library\'s error object', async (t) => {
    const err = await kaltura.services.baseEntry.get('1_doesnotexist').execute(client).then(() => null, (e: any) => e);
    t.same(err, { code: 'ENTRY_ID_NOT_FOUND', message: 'Entry id "1_doesnotexist" not found', objectType: 'KalturaAPIException', args: { ENTRY_ID: '1_doesnotexist' } });
    let cbSuccess: boolean | null = null;
    let cbResult: any = null;
    await new Promise<void>((resolve) => {
      kaltura.services.media.get('0_nope').execute(client, (success: boolean, r: any) => { cbSuccess = success; cbResult = r; resolve(); });
    });
    t.equal(cbSuccess, false, 'the completion callback reports failure');
    t.equal(cbResult?.code, 'ENTRY_ID_NOT_FOUND');
    const inBatch = await kaltura.services.baseEntry.get('1_rcit0qgs').add(kaltura.services.baseEntry.get('nope')).add(kaltura.services.system.ping()).execute(client);
    t.equal(inBatch[0].id, '1_rcit0qgs');
    t.match(inBatch[1], { code: 'ENTRY_ID_NOT_FOUND', objectType: 'KalturaAPIException' }, 'the error stays in its slot');
    t.equal(inBatch[2], true, 'later requests still run');
  });

  await t.test("errors name their arguments as Kaltura's do, so args read by name are found", async (t) => {
    const fails = (request: any, c = client) => request.execute(c).then(() => null, (e: any) => e);
    const anonymous = new kaltura.Client(config);
    const badKs = new kaltura.Client(config);
    badKs.setKs('not-a-ks');
    // Kaltura's KalturaErrors/APIErrors: INVALID_KS;KSID,ERR_CODE,ERR_DESC / START_SESSION_ERROR;PID / ...
    t.same(await fails(kaltura.services.baseEntry.get('1_rcit0qgs'), badKs),
      { code: 'INVALID_KS', message: 'Invalid KS "INVALID_STR", Error "-1,INVALID_STR"', objectType: 'KalturaAPIException', args: { KSID: 'INVALID_STR', ERR_CODE: '-1', ERR_DESC: 'INVALID_STR' } });
    t.same(await fails(kaltura.services.session.start('wrong', '', 2, 309), anonymous),
      { code: 'START_SESSION_ERROR', message: 'Error while starting session for partner [309]', objectType: 'KalturaAPIException', args: { PID: '309' } });
    t.same(await fails(kaltura.services.baseEntry.get('x'.repeat(100))),
      { code: 'PROPERTY_VALIDATION_MAX_LENGTH', message: 'The property "entryId" cannot have more than 64 characters', objectType: 'KalturaAPIException', args: { PROP_NAME: 'entryId', MAX_LEN: '64' } });
    t.same(await fails(kaltura.services.media.listAction(new kaltura.objects.MediaEntryFilter({ mediaTypeEqual: 'video' }))),
      { code: 'INVALID_ENUM_VALUE', message: 'Invalid enumeration value "video" for parameter "mediaTypeEqual", expecting enumeration type "KalturaMediaType"', objectType: 'KalturaAPIException', args: { ENUM_VAL: 'video', PARAM_NAME: 'mediaTypeEqual', ENUM_TYPE: 'KalturaMediaType' } });
    t.same(await fails(kaltura.services.session.startWidgetSession('_999'), anonymous),
      { code: 'INVALID_WIDGET_ID', message: 'Unknown widget [_999]', objectType: 'KalturaAPIException', args: { WIDGET_ID: '_999' } });
    t.same(await fails(kaltura.services.flavorAsset.getUrl('1_f3rcit00', 999)),
      { code: 'STORAGE_PROFILE_ID_NOT_FOUND', message: 'Storage profile id 999 not found', objectType: 'KalturaAPIException', args: { ID: '999' } });
    const captions = await kaltura.services.captionAsset.listAction(new kaltura.objects.AssetFilter({ entryIdEqual: '1_alt0audi' })).execute(client);
    t.same(await fails(kaltura.services.captionAsset.setContent(captions.objects[0].id, new kaltura.objects.ServerFileResource({ localFilePath: '/etc/passwd' }))),
      { code: 'RESOURCE_TYPE_NOT_SUPPORTED', message: 'Resource type "KalturaServerFileResource" not supported', objectType: 'KalturaAPIException', args: { RES_TYPE: 'KalturaServerFileResource' } });
    // the library always sends entryId; a raw call leaves it out
    const res = await fetch(`${s.url}/api_v3/service/baseEntry/action/get`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ks, format: 1 }) });
    t.same(await res.json(), { code: 'MISSING_MANDATORY_PARAMETER', message: 'Missing parameter "entryId"', objectType: 'KalturaAPIException', args: { PARAM_NAME: 'entryId' } });
    const noService = await fetch(`${s.url}/api_v3/service/nosuch/action/get?format=1`);
    t.same(await noService.json(), { code: 'SERVICE_DOES_NOT_EXISTS', message: 'Service "nosuch" does not exists', objectType: 'KalturaAPIException', args: { SRV_NAME: 'nosuch' } });
  });

  await t.test('a KS of one partner never sees another partner\'s entries', async (t) => {
    const ks310: string = await kaltura.services.session.start('sample-admin-secret-310', '', 2, 310).execute(client);
    const c310 = new kaltura.Client(config);
    c310.setKs(ks310);
    const err = await kaltura.services.baseEntry.get('1_rcit0qgs').execute(c310).then(() => null, (e: any) => e);
    t.match(err, { code: 'ENTRY_ID_NOT_FOUND' });
    const flv = await kaltura.services.flavorAsset.getUrl('1_f0rcit00').execute(c310).then(() => null, (e: any) => e);
    t.match(flv, { code: 'FLAVOR_ASSET_ID_NOT_FOUND' });
    const list = await kaltura.services.baseEntry.listAction().execute(c310);
    t.same(list.objects.map((e: any) => e.id), ['1_secure01']);
    const fl = await kaltura.services.flavorAsset.listAction().execute(c310);
    t.ok(fl.objects.every((f: any) => f.partnerId === 310));
    // the same id with partner 309's own KS is found
    t.equal((await kaltura.services.baseEntry.get('1_rcit0qgs').execute(client)).partnerId, 309);
  });

  await t.test('getUrl honours the DOWNLOAD context', async (t) => {
    const userKs: string = await kaltura.services.session.start(USER_SECRET, 'viewer', 0, 309).execute(client);
    const cu = new kaltura.Client(config);
    cu.setKs(userKs);
    const err = await kaltura.services.flavorAsset.getUrl('1_f1kssec0').execute(cu).then(() => null, (e: any) => e);
    t.match(err, { code: 'ACCESS_CONTROL_RESTRICTED', objectType: 'KalturaAPIException', args: { ENTRY_ID: '1_kssecure' } }, 'a USER KS without sview is refused');
    const url: string = await kaltura.services.flavorAsset.getUrl('1_f1kssec0').execute(client);
    t.match(url, '/ks/', 'with the admin KS the URL carries the KS it needs');
    const res = await fetch(url);
    t.equal(res.status, 200);
    t.equal((await res.arrayBuffer()).byteLength, (await s.app.catalog.getFlavor('1_f1kssec0'))!.size);
    const plain: string = await kaltura.services.flavorAsset.getUrl('1_f1rcit00').execute(client);
    t.notMatch(plain, '/ks/', 'an open entry needs no KS in the URL');
  });

  await t.test('session.end revokes the KS', async (t) => {
    const tmpKs: string = await kaltura.services.session.start(ADMIN_SECRET, 'tmp', 2, 309).execute(client);
    const ct = new kaltura.Client(config);
    ct.setKs(tmpKs);
    t.equal((await kaltura.services.baseEntry.get('1_rcit0qgs').execute(ct)).id, '1_rcit0qgs');
    await kaltura.services.session.end().execute(ct);
    const after = await kaltura.services.baseEntry.get('1_rcit0qgs').execute(ct).then(() => null, (e: any) => e);
    t.match(after, { code: 'INVALID_KS', args: { KSID: 'LOGOUT', ERR_CODE: '-6' } });
  });

  await t.test('the library asks for gzip and reads every answer gzipped, errors included', async (t) => {
    // a byte-for-byte relay in front of the server shows what really travels
    const responses: string[] = [];
    const relay = net.createServer((down) => {
      const up = net.connect(Number(new URL(s.url).port), '127.0.0.1');
      down.pipe(up);
      up.on('data', (d: Buffer) => responses.push(d.toString('latin1')));
      up.pipe(down);
      up.on('error', () => down.destroy());
      down.on('error', () => up.destroy());
    });
    await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
    t.teardown(() => new Promise<void>((r) => relay.close(() => r())));
    const viaRelay = Object.assign(new kaltura.Configuration(), { serviceUrl: `http://127.0.0.1:${(relay.address() as net.AddressInfo).port}` });
    viaRelay.setLogger({ log() {}, error() {}, debug() {} });
    const c = new kaltura.Client(viaRelay);
    c.setKs(ks);
    t.equal(await kaltura.services.system.ping().execute(c), true, 'a four-byte answer');
    const err = await kaltura.services.baseEntry.get('1_nope').execute(c).then(() => null, (e: any) => e);
    t.match(err, { code: 'ENTRY_ID_NOT_FOUND', objectType: 'KalturaAPIException' }, 'an error');
    const list = await kaltura.services.flavorAsset.listAction(new kaltura.objects.AssetFilter({ entryIdEqual: '1_rcit0qgs' })).execute(c);
    t.equal(list.totalCount, 5, 'a list');
    const heads = responses.join('').split(/(?=HTTP\/1\.1 )/).filter((x) => x.startsWith('HTTP/1.1 '));
    t.equal(heads.length, 3, 'three answers went through the relay');
    for (const h of heads) {
      t.match(h, /\r\ncontent-encoding: gzip\r\n/i, 'gzipped');
      t.match(h, /\r\nvary: Accept-Encoding\r\n/i);
    }
  });

  await t.test('HTTP details: CORS preflight, gzip, XML default', async (t) => {
    const pre = await fetch(`${s.url}/api_v3/service/multirequest`, { method: 'OPTIONS', headers: { origin: 'http://other.example', 'access-control-request-method': 'POST' } });
    t.equal(pre.status, 200);
    t.equal(pre.headers.get('access-control-allow-origin'), '*');
    t.match(pre.headers.get('access-control-allow-headers') ?? '', /Content-Type/);
    const raw = await new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      import('node:http').then(({ request }) => {
        const req = request(`${s.url}/api_v3/service/baseentry/action/list?format=1&ks=${encodeURIComponent(ks)}`, { method: 'POST', headers: { 'accept-encoding': 'gzip' } }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c) => chunks.push(c));
          res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
        });
        req.on('error', reject);
        req.end();
      });
    });
    t.equal(raw.headers['content-encoding'], 'gzip');
    t.equal(JSON.parse(gunzipSync(raw.body).toString()).objectType, 'KalturaBaseEntryListResponse');
    const xml = await (await fetch(`${s.url}/api_v3/index.php?service=system&action=ping`)).text();
    t.match(xml, /^<\?xml version="1.0" encoding="utf-8"\?><xml><result>1<\/result><executionTime>/);
    const schema = await (await fetch(`${s.url}/api_v3/api_schema.php`)).text();
    t.match(schema, /<xml apiVersion="[\d.]+" generatedDate="\d+">/);
    for (const svc of ['session', 'baseentry', 'media', 'flavorasset', 'flavorparams', 'caption_captionasset', 'metadata_metadata', 'user', 'system']) {
      t.match(schema, new RegExp(`<service id="${svc}" `), `schema lists ${svc}`);
    }
  });
});
