// Managing the library with the official Node client (npm kaltura-client), unchanged: every write
// action of api_v3 is called as a Kaltura user would call it, and each change is seen by the very
// next delivery request (playManifest, its answer cache, the packager's HLS master, /thumbnail).
// Then bad input on every new action: the reference's error object, HTTP 200, nothing changed in
// the catalog (its tables compared row by row before and after).
import t from 'tap';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import kaltura from 'kaltura-client';
import { startServer } from '../helpers/server.js';
import { requireCommands } from '../helpers/system.js';
import { repoPath } from '../helpers/repo.js';

const ADMIN_SECRET = 'sample-admin-secret-309';
const ENTRY = '1_rcit0qgs';
const FIXTURES = repoPath('fixtures/media/');
const TTML = repoPath('test/media/fixtures/');

const SRT = '1\n00:00:01,000 --> 00:00:03,000\nHello from kdeliver\n\n2\n00:00:04,000 --> 00:00:06,000\nSecond line\n';

t.test('api_v3 write actions through kaltura-client', async (t) => {
  const s = await startServer(t);
  const config = new kaltura.Configuration();
  config.serviceUrl = s.url;
  config.setLogger({ log() {}, error() {}, debug() {} });
  const client = new kaltura.Client(config);
  const ks: string = await kaltura.services.session.start(ADMIN_SECRET, 'editor', kaltura.enums.SessionType.ADMIN, 309).execute(client);
  client.setKs(ks);
  const call = (req: { execute(c: unknown): Promise<any> }) => req.execute(client);
  const refusal = (req: { execute(c: unknown): Promise<any> }, c: unknown = client) => req.execute(c).then(() => null, (e: any) => e);
  const manifest = (entry: string, tail: string, init: RequestInit = {}) =>
    fetch(`${s.url}/p/309/sp/30900/playManifest/entryId/${entry}/${tail}`, { redirect: 'manual', ...init });
  const master = async (entry: string) => (await manifest(entry, 'format/applehttp/protocol/http/a.m3u8')).text();

  await t.test('rename: media.update and baseEntry.update, read back at once', async (t) => {
    const updated = await call(kaltura.services.media.update(ENTRY, new kaltura.objects.MediaEntry({ name: 'Renamed by the client', description: 'edited', tags: 'a,b' })));
    t.match(updated, { objectType: 'KalturaMediaEntry', id: ENTRY, name: 'Renamed by the client', description: 'edited', tags: 'a,b' });
    const listed = await call(kaltura.services.baseEntry.listAction(new kaltura.objects.BaseEntryFilter({ nameLike: 'Renamed by' })));
    t.same(listed.objects.map((e: any) => e.id), [ENTRY], 'the list filters on the new name');
    await call(kaltura.services.baseEntry.update(ENTRY, new kaltura.objects.BaseEntry({ adminTags: 'reviewed', referenceId: 'ref-1' })));
    const got = await call(kaltura.services.baseEntry.get(ENTRY));
    t.match(got, { name: 'Renamed by the client', adminTags: 'reviewed', referenceId: 'ref-1' });
    const byIds = await call(kaltura.services.baseEntry.getByIds(`${ENTRY},1_audio001,1_nosuch00,1_secure01`));
    t.same(byIds.map((e: any) => e.id), [ENTRY, '1_audio001'], 'getByIds: unknown and other partners\' ids left out');
  });

  await t.test('a KS rule assigned: the next anonymous playManifest is refused with error 3', async (t) => {
    // an anonymous answer first, so the answer cache holds it
    const before = await manifest(ENTRY, 'format/url/a.mp4');
    t.equal(before.status, 302, 'plays before');
    t.equal((await manifest(ENTRY, 'format/url/a.mp4')).status, 302, 'twice (kept in the answer cache)');
    const rule = new kaltura.objects.Rule({
      message: 'a KS is required', code: 'KS_REQUIRED',
      contexts: [new kaltura.objects.AccessControlContextTypeHolder({ type: 1 }), new kaltura.objects.AccessControlContextTypeHolder({ type: 2 })],
      conditions: [new kaltura.objects.AuthenticatedCondition({ not: true, privileges: [new kaltura.objects.StringValue({ value: 'sview' })] })],
      actions: [new kaltura.objects.AccessControlBlockAction()],
    });
    const profile = await call(kaltura.services.accessControlProfile.add(new kaltura.objects.AccessControlProfile({ name: 'Needs a KS', systemName: 'needs_ks', rules: [rule] })));
    t.match(profile, { objectType: 'KalturaAccessControlProfile', name: 'Needs a KS', systemName: 'needs_ks', partnerId: 309, isDefault: 0 });
    t.match(profile.rules[0], {
      objectType: 'KalturaRule', message: 'a KS is required', code: 'KS_REQUIRED',
      conditions: [{ objectType: 'KalturaAuthenticatedCondition', not: true, privileges: [{ value: 'sview' }] }],
      actions: [{ objectType: 'KalturaAccessControlBlockAction' }], contexts: [{ type: '1' }, { type: '2' }],
    }, 'the rule reads back as written');
    t.same(await call(kaltura.services.accessControlProfile.get(profile.id)), profile, 'get');
    const listed = await call(kaltura.services.accessControlProfile.listAction(new kaltura.objects.AccessControlProfileFilter({ systemNameEqual: 'needs_ks' })));
    t.same(listed.objects.map((p: any) => p.id), [profile.id], 'list by systemName');

    await call(kaltura.services.baseEntry.update(ENTRY, new kaltura.objects.BaseEntry({ accessControlId: profile.id })));
    const refused = await manifest(ENTRY, 'format/url/a.mp4');
    t.equal(refused.status, 403, 'the very next request is refused');
    t.match(refused.headers.get('x-kaltura'), /error-3/);
    const userKs: string = await kaltura.services.session.start(ADMIN_SECRET, 'viewer', 0, 309, 600, `sview:${ENTRY}`).execute(client);
    t.equal((await manifest(ENTRY, `format/url/ks/${userKs}/a.mp4`)).status, 302, 'with a KS it plays');
    const ctx = await call(kaltura.services.baseEntry.getPlaybackContext(ENTRY, new kaltura.objects.PlaybackContextOptions({})));
    t.ok(ctx.sources.length > 0, 'the admin session still gets sources');

    // the rule changed: every entry behind the profile follows at once
    const open = new kaltura.objects.Rule({ actions: [new kaltura.objects.AccessControlLimitFlavorsAction({ flavorParamsIds: '301961', isBlockedList: false })] });
    await call(kaltura.services.accessControlProfile.update(profile.id, new kaltura.objects.AccessControlProfile({ rules: [open] })));
    const limited = await (await manifest(ENTRY, 'format/applehttp/protocol/http/a.m3u8')).text();
    t.equal((limited.match(/#EXT-X-STREAM-INF/g) ?? []).length, 1, 'the limit-flavors rule leaves one variant');

    // deleting a profile in use: refused while the partner has no default to move the entry to
    const inUse = await refusal(kaltura.services.accessControlProfile.deleteAction(profile.id));
    t.match(inUse, { code: 'CANNOT_TRANSFER_ENTRIES_TO_ANOTHER_ACCESS_CONTROL_OBJECT', objectType: 'KalturaAPIException' });
    const def = await call(kaltura.services.accessControlProfile.add(new kaltura.objects.AccessControlProfile({ name: 'Default', isDefault: 1 })));
    t.match(await refusal(kaltura.services.accessControlProfile.deleteAction(def.id)), { code: 'CANNOT_DELETE_DEFAULT_ACCESS_CONTROL' });
    await call(kaltura.services.accessControlProfile.deleteAction(profile.id));
    t.equal((await call(kaltura.services.baseEntry.get(ENTRY))).accessControlId, def.id, 'the entry moved to the default profile');
    t.match(await refusal(kaltura.services.accessControlProfile.get(profile.id)), { code: 'ACCESS_CONTROL_ID_NOT_FOUND' });
    t.equal((await manifest(ENTRY, 'format/url/a.mp4')).status, 302, 'the default profile has no rule: it plays');
  });

  await t.test('a caption added: a SUBTITLES group in the HLS master; changed and removed at once', async (t) => {
    t.notMatch(await master(ENTRY), /TYPE=SUBTITLES/, 'no captions to begin with');
    const cap = await call(kaltura.services.captionAsset.add(ENTRY, new kaltura.objects.CaptionAsset({ language: 'French', label: 'Français', format: '1' })));
    t.match(cap, { objectType: 'KalturaCaptionAsset', entryId: ENTRY, language: 'French', languageCode: 'fr', status: 0 });
    t.notMatch(await master(ENTRY), /TYPE=SUBTITLES/, 'a caption without content is not offered');
    const set = await call(kaltura.services.captionAsset.setContent(cap.id, new kaltura.objects.StringResource({ content: SRT })));
    t.match(set, { status: 2, format: '1', version: 1 });
    const m = await master(ENTRY);
    t.match(m, /#EXT-X-MEDIA:TYPE=SUBTITLES[^\n]*LANGUAGE="fr"/, 'the next master has the caption');
    const url = await call(kaltura.services.captionAsset.getUrl(cap.id));
    t.equal(await (await fetch(url)).text(), SRT, 'getUrl serves the file');

    // new content from an upload token, as WebVTT: a new version, served at once
    const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'fr.vtt' })));
    const vtt = 'WEBVTT\n\n00:00:01.000 --> 00:00:02.500\nBonjour\n';
    await call(kaltura.services.uploadToken.upload(token.id, Buffer.from(vtt)));
    const replaced = await call(kaltura.services.captionAsset.setContent(cap.id, new kaltura.objects.UploadedFileTokenResource({ token: token.id })));
    t.match(replaced, { format: '3', version: 2 });
    // segmentIndex -1: the whole file (without one, serveWebVTT answers Kaltura's HLS playlist of its segments)
    const webvtt = await (await fetch(`${s.url}/api_v3/index.php/service/caption_captionasset/action/serveWebVTT/captionAssetId/${cap.id}/segmentIndex/-1`)).text();
    t.match(webvtt, /Bonjour/);

    // TTML/DFXP from a URL resource (this server's own caption of another entry, as TTML text)
    const dfxp = readFileSync(join(TTML, 'styled.dfxp'), 'utf8');
    const dcap = await call(kaltura.services.captionAsset.add(ENTRY, new kaltura.objects.CaptionAsset({ language: 'German', format: '2' })));
    await call(kaltura.services.captionAsset.setContent(dcap.id, new kaltura.objects.StringResource({ content: dfxp })));
    const fromUrl = await call(kaltura.services.captionAsset.add(ENTRY, new kaltura.objects.CaptionAsset({ language: 'Spanish' })));
    await call(kaltura.services.captionAsset.setContent(fromUrl.id, new kaltura.objects.UrlResource({ url: `${s.url}/api_v3/index.php/service/caption_captionasset/action/serve/captionAssetId/${dcap.id}` })));
    t.match(await call(kaltura.services.captionAsset.get(fromUrl.id)), { format: '2', status: 2, language: 'Spanish' }, 'a URL resource, TTML');
    t.equal((( await master(ENTRY)).match(/TYPE=SUBTITLES/g) ?? []).length, 3, 'three caption tracks');

    await call(kaltura.services.captionAsset.update(cap.id, new kaltura.objects.CaptionAsset({ label: 'French (edited)' })));
    await call(kaltura.services.captionAsset.setAsDefault(dcap.id));
    const list = await call(kaltura.services.captionAsset.listAction(new kaltura.objects.AssetFilter({ entryIdEqual: ENTRY })));
    t.same(list.objects.map((c: any) => [c.id, c.isDefault]).sort(), [[cap.id, 0], [dcap.id, 1], [fromUrl.id, 0]].sort(), 'one default');
    t.match(await master(ENTRY), /NAME="French \(edited\)"/, 'the new label in the next master');
    for (const c of [cap.id, dcap.id, fromUrl.id]) await call(kaltura.services.captionAsset.deleteAction(c));
    t.notMatch(await master(ENTRY), /TYPE=SUBTITLES/, 'deleted: gone from the next master');
  });

  await t.test('a thumbnail set as default is what /thumbnail serves', async (t) => {
    const before = await call(kaltura.services.media.get(ENTRY));
    const size = async (url: string) => {
      const r = await fetch(url);
      t.equal(r.status, 200, url);
      const meta = await sharp(Buffer.from(await r.arrayBuffer())).metadata();
      return `${meta.width}x${meta.height}`;
    };
    // the picture at its stored size: a thumbnail URL without a size answers Kaltura's 120 x 90
    const stored = (url: string) => size(`${url}/width/0/height/0`);
    t.equal(await stored(before.thumbnailUrl), '640x360', 'the sample thumbnail');
    const jpeg = readFileSync(join(FIXTURES, 'image-320x240.png'));
    const after = await call(kaltura.services.media.updateThumbnailJpeg(ENTRY, jpeg));
    t.not(after.thumbnailUrl, before.thumbnailUrl, 'the thumbnail URL moves to a new version');
    t.equal(await stored(after.thumbnailUrl), '320x240', 'updateThumbnailJpeg: served by the next request');

    const red = await sharp({ create: { width: 200, height: 100, channels: 3, background: '#ff0000' } }).jpeg().toBuffer();
    const asset = await call(kaltura.services.thumbAsset.addFromImage(ENTRY, red));
    t.match(asset, { objectType: 'KalturaThumbAsset', entryId: ENTRY, width: 200, height: 100, status: 2 });
    t.notMatch(asset.tags ?? '', /default_thumb/);
    const served = Buffer.from(await (await fetch(await call(kaltura.services.thumbAsset.getUrl(asset.id)))).arrayBuffer());
    t.same(served, red, 'getUrl serves the picture as stored');
    await call(kaltura.services.thumbAsset.setAsDefault(asset.id));
    const entry = await call(kaltura.services.media.get(ENTRY));
    t.equal(await stored(entry.thumbnailUrl), '200x100', 'setAsDefault: /thumbnail serves it');
    t.equal(await size(entry.thumbnailUrl), '120x60', 'without a size, fitted inside 120 x 90');
    t.equal(await size(`${entry.thumbnailUrl}/width/100`), '100x50', 'resized from it');
    const listed = await call(kaltura.services.thumbAsset.listAction(new kaltura.objects.ThumbAssetFilter({ entryIdEqual: ENTRY })));
    t.equal(listed.totalCount, 3, 'the library\'s picture, the updateThumbnailJpeg one and this one');
    t.ok(listed.objects.some((a: any) => a.width === 640 && a.height === 360), 'the replaced library picture was kept as an asset');
    t.same(listed.objects.filter((a: any) => /default_thumb/.test(a.tags)).map((a: any) => a.id), [asset.id], 'one default, tagged default_thumb');
    t.match(await refusal(kaltura.services.thumbAsset.deleteAction(asset.id)), { code: 'THUMB_ASSET_IS_DEFAULT' });
    const other = listed.objects.find((a: any) => a.id !== asset.id);
    await call(kaltura.services.thumbAsset.deleteAction(other.id));
    t.match(await refusal(kaltura.services.thumbAsset.get(other.id)), { code: 'THUMB_ASSET_ID_NOT_FOUND' });

    // an asset made empty, then given its picture from an upload token, then retagged
    const blank = await call(kaltura.services.thumbAsset.add(ENTRY, new kaltura.objects.ThumbAsset({ tags: 'poster' })));
    t.match(blank, { status: 0, tags: 'poster' });
    const green = await sharp({ create: { width: 96, height: 54, channels: 3, background: '#00ff00' } }).png().toBuffer();
    const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'green.png' })));
    await call(kaltura.services.uploadToken.upload(token.id, green));
    const filled = await call(kaltura.services.thumbAsset.setContent(blank.id, new kaltura.objects.UploadedFileTokenResource({ token: token.id })));
    t.match(filled, { status: 2, width: 96, height: 54, fileExt: 'png' });
    const retagged = await call(kaltura.services.thumbAsset.update(blank.id, new kaltura.objects.ThumbAsset({ tags: 'poster,green', description: 'a green one' })));
    t.match(retagged, { tags: 'poster,green', description: 'a green one' });
    const viaBase = await call(kaltura.services.baseEntry.updateThumbnailJpeg(ENTRY, green));
    t.equal(await stored(viaBase.thumbnailUrl), '96x54', 'baseEntry.updateThumbnailJpeg: the new default');
    await call(kaltura.services.thumbAsset.setAsDefault(asset.id));

    await t.test('a frame of the video (ffmpeg)', async (t) => {
      requireCommands(t, ['ffmpeg'], 'ffmpeg');
      const framed = await call(kaltura.services.media.updateThumbnail(ENTRY, 5));
      t.equal(await stored(framed.thumbnailUrl), '1280x720', 'the source frame is the new default');
    });
  });

  await t.test('moderation, flavor deletion and the read-only services', async (t) => {
    await call(kaltura.services.media.reject(ENTRY));
    const rejected = await manifest(ENTRY, 'format/url/a.mp4');
    t.equal(rejected.headers.get('x-kaltura'), 'error-13', 'rejected: refused at once');
    await call(kaltura.services.baseEntry.approve(ENTRY));
    t.equal((await manifest(ENTRY, 'format/url/a.mp4')).status, 302, 'approved: plays');

    const location = async () => (await manifest(ENTRY, 'format/url/flavorId/1_f4rcit00/a.3gp')).headers.get('location') ?? '';
    t.match(await location(), /\/flavorId\/1_f4rcit00\//, 'the 3gp flavor plays');
    await call(kaltura.services.flavorAsset.deleteAction('1_f4rcit00'));
    // asked for a flavor it does not have, playManifest falls back to its tags, as Kaltura does
    t.notMatch(await location(), /1_f4rcit00/, 'deleted: the next playManifest does not offer it');
    t.match(await refusal(kaltura.services.flavorAsset.get('1_f4rcit00')), { code: 'FLAVOR_ASSET_ID_NOT_FOUND' });
    t.match(await refusal(kaltura.services.flavorAsset.reconvert('1_f0rcit00')), { code: 'FLAVOR_ASSET_RECONVERT_ORIGINAL' });

    const dp = await call(kaltura.services.deliveryProfile.get(2001));
    t.match(dp, { objectType: 'KalturaDeliveryProfile', id: 2001, streamerType: 'applehttp', url: 'https://cdn.example.com/hls' });
    t.notMatch(JSON.stringify(dp), /sample-akamai-key/, 'the tokenizer key is never sent');
    const dps = await call(kaltura.services.deliveryProfile.listAction(new kaltura.objects.DeliveryProfileFilter({ streamerTypeEqual: 'applehttp' })));
    t.same(dps.objects.map((d: any) => d.id).sort(), [1001, 1006, 2001]);
    const partner = await call(kaltura.services.partner.get());
    t.match(partner, { objectType: 'KalturaPartner', id: 309, name: 'Sample Partner' });
    t.notMatch(JSON.stringify(partner), /secret/i, 'no secret in partner.get');
    const ui = await call(kaltura.services.uiConf.get(48502));
    t.match(ui, { objectType: 'KalturaUiConf', id: 48502, objType: 2 });
    t.match(ui.confFile, /<limits [^>]*maxUploads=/);
    t.match(await call(kaltura.services.widget.get('_309')), { objectType: 'KalturaWidget', id: '_309', partnerId: 309 });
  });

  await t.test('deleting the entry removes its thumbnail assets and every file of its folder', async (t) => {
    const thumbs = await call(kaltura.services.thumbAsset.getByEntryId(ENTRY));
    t.ok(thumbs.length > 0, `${thumbs.length} thumbnail assets`);
    const cap = await call(kaltura.services.captionAsset.add(ENTRY, new kaltura.objects.CaptionAsset({ language: 'English' })));
    await call(kaltura.services.captionAsset.setContent(cap.id, new kaltura.objects.StringResource({ content: SRT })));
    await call(kaltura.services.media.deleteAction(ENTRY));
    for (const a of thumbs) t.match(await refusal(kaltura.services.thumbAsset.get(a.id)), { code: 'THUMB_ASSET_ID_NOT_FOUND' });
    const dir = join(s.config.mediaRoot, '309', ENTRY);
    t.notOk(existsSync(dir), `the entry's folder is gone${existsSync(dir) ? `: ${readdirSync(dir).join(', ')}` : ''}`);
  });
});

t.test('bad input on every new action: the reference\'s error, HTTP 200, nothing changed', async (t) => {
  const s = await startServer(t);
  const api = `${s.url}/api_v3`;
  const start = async (secret: string, type: number, user = '', pid = 309) => JSON.parse(await (await fetch(`${api}/service/session/action/start?format=1&secret=${secret}&partnerId=${pid}&type=${type}&userId=${user}`)).text()) as string;
  const admin = await start(ADMIN_SECRET, 2, 'editor');
  const user = await start('sample-user-secret-309', 0, 'u1');
  const widget = (JSON.parse(await (await fetch(`${api}/service/session/action/startWidgetSession?format=1&widgetId=_309`)).text()) as { ks: string }).ks;
  const otherAdmin = await start('sample-admin-secret-310', 2, 'x', 310);
  // a user session allowed to edit every entry (Kaltura's edit:* privilege)
  const editor = JSON.parse(await (await fetch(`${api}/service/session/action/start?format=1&secret=${ADMIN_SECRET}&partnerId=309&type=0&userId=ed&privileges=edit:*`)).text()) as string;
  const png = readFileSync(join(FIXTURES, 'image-320x240.png'));

  // the state every bad call must leave as it was
  const db = new Database(s.config.dbFile, { readonly: true });
  t.teardown(() => db.close());
  const snapshot = () => JSON.stringify(['entries', 'access_control_profiles', 'caption_assets', 'thumb_assets', 'flavor_assets', 'upload_tokens', 'ingest_jobs']
    .map((table) => db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all()));

  // a caption and a thumbnail asset to be refused things on, made before the snapshot
  const made = async (path: string, body: Record<string, unknown>) => JSON.parse(await (await fetch(`${api}/service/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ks: admin, format: 1, ...body }) })).text());
  const cap = await made('caption_captionasset/action/add', { entryId: ENTRY, captionAsset: { language: 'English' } });
  const thumb = await made('thumbasset/action/add', { entryId: ENTRY, thumbAsset: {} });
  t.ok(cap.id && thumb.id);
  const before = snapshot();

  const post = async (path: string, ks: string | null, body: Record<string, unknown>, file?: Buffer) => {
    let res: Response;
    if (file) {
      const form = new FormData();
      form.set('json', JSON.stringify({ ...(ks ? { ks } : {}), format: 1, ...body }));
      form.set('fileData', new Blob([new Uint8Array(file)]), 'file.bin');
      res = await fetch(`${api}/service/${path}`, { method: 'POST', body: form });
    } else {
      res = await fetch(`${api}/service/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...(ks ? { ks } : {}), format: 1, ...body }) });
    }
    t.equal(res.status, 200, `${path}: HTTP 200`);
    return JSON.parse(await res.text());
  };
  const expectError = async (what: string, path: string, ks: string | null, body: Record<string, unknown>, code: string, args?: Record<string, string>, file?: Buffer) => {
    const r = await post(path, ks, body, file);
    t.match(r, { objectType: 'KalturaAPIException', code, ...(args ? { args } : {}) }, `${what}: ${code}`);
    t.type(r.message, 'string');
  };
  const rule = (extra: Record<string, unknown>) => ({ objectType: 'KalturaRule', actions: [{ objectType: 'KalturaAccessControlBlockAction' }], ...extra });
  const FORBIDDEN = 'SERVICE_FORBIDDEN';
  const NOT_EDITOR = 'INVALID_KS';

  const cases: [string, string, string | null, Record<string, unknown>, string, Record<string, string>?, Buffer?][] = [
    // entries
    ['update: unknown entry', 'baseentry/action/update', admin, { entryId: '1_nosuch00', baseEntry: { name: 'x' } }, 'ENTRY_ID_NOT_FOUND', { ENTRY_ID: '1_nosuch00' }],
    ['update: another partner\'s entry', 'baseentry/action/update', admin, { entryId: '1_secure01', baseEntry: { name: 'x' } }, 'ENTRY_ID_NOT_FOUND'],
    ['update: a user KS that does not own the entry', 'media/action/update', user, { entryId: ENTRY, mediaEntry: { name: 'x' } }, NOT_EDITOR],
    ['update: the widget session', 'media/action/update', widget, { entryId: ENTRY, mediaEntry: { name: 'x' } }, NOT_EDITOR],
    ['update: no KS', 'media/action/update', null, { entryId: ENTRY, mediaEntry: { name: 'x' } }, 'MISSING_KS'],
    ['update: a read-only property', 'baseentry/action/update', admin, { entryId: ENTRY, baseEntry: { status: 3 } }, 'PROPERTY_VALIDATION_NOT_UPDATABLE'],
    ['update: a property not kept', 'baseentry/action/update', admin, { entryId: ENTRY, baseEntry: { categories: 'x' } }, 'PROPERTY_IS_NOT_DEFINED'],
    ['update: an unknown profile', 'baseentry/action/update', admin, { entryId: ENTRY, baseEntry: { accessControlId: 999 } }, 'ACCESS_CONTROL_ID_NOT_FOUND'],
    ['update: dates the wrong way round', 'baseentry/action/update', admin, { entryId: ENTRY, baseEntry: { startDate: 2000000000, endDate: 1000000000 } }, 'INVALID_ENTRY_SCHEDULE_DATES'],
    ['update: a name too long', 'baseentry/action/update', admin, { entryId: ENTRY, baseEntry: { name: 'n'.repeat(300) } }, 'PROPERTY_VALIDATION_MAX_LENGTH'],
    ['approve: a user KS', 'baseentry/action/approve', user, { entryId: ENTRY }, FORBIDDEN],
    ['reject: another partner', 'media/action/reject', otherAdmin, { entryId: ENTRY }, 'ENTRY_ID_NOT_FOUND'],
    ['updateThumbnailJpeg: not a picture', 'media/action/updateThumbnailJpeg', admin, { entryId: ENTRY }, 'FILE_TYPE_NOT_SUPPORTED', undefined, Buffer.from('not a picture')],
    ['updateThumbnailJpeg: a user KS', 'baseentry/action/updateThumbnailJpeg', user, { entryId: ENTRY }, NOT_EDITOR, undefined, png],
    ['updateThumbnail: an image entry', 'media/action/updateThumbnail', admin, { entryId: '1_image000', timeOffset: 1 }, 'INVALID_ENTRY_MEDIA_TYPE'],
    ['updateThumbnail: an audio entry', 'media/action/updateThumbnail', admin, { entryId: '1_audio001', timeOffset: 1 }, 'INVALID_ENTRY_MEDIA_TYPE'],
    ['updateThumbnail: past the end', 'media/action/updateThumbnail', admin, { entryId: ENTRY, timeOffset: 999 }, 'INVALID_ENUM_VALUE'],
    // access-control profiles
    ['acp.add: a user KS', 'accesscontrolprofile/action/add', user, { accessControlProfile: { name: 'x' } }, FORBIDDEN],
    ['acp.list: a user KS', 'accesscontrolprofile/action/list', user, {}, FORBIDDEN],
    ['acp.add: no name', 'accesscontrolprofile/action/add', admin, { accessControlProfile: { systemName: 'x' } }, 'PROPERTY_VALIDATION_CANNOT_BE_NULL'],
    ['acp.add: a system name taken', 'accesscontrolprofile/action/add', admin, { accessControlProfile: { name: 'x', systemName: 'require_ks' } }, 'SYSTEM_NAME_ALREADY_EXISTS'],
    ['acp.add: rules that are a string', 'accesscontrolprofile/action/add', admin, { accessControlProfile: { name: 'x', rules: '[{"bad json' } }, 'INVALID_OBJECT_TYPE'],
    ['acp.add: an unknown condition class', 'accesscontrolprofile/action/add', admin, { accessControlProfile: { name: 'x', rules: [rule({ conditions: [{ objectType: 'KalturaNoSuchCondition' }] })] } }, 'INVALID_OBJECT_TYPE'],
    ['acp.add: an unknown action class', 'accesscontrolprofile/action/add', admin, { accessControlProfile: { name: 'x', rules: [{ objectType: 'KalturaRule', actions: [{ objectType: 'KalturaAccessControlServeRemoteEdgeServerAction' }] }] } }, 'INVALID_OBJECT_TYPE'],
    ['acp.add: a context Kaltura does not have', 'accesscontrolprofile/action/add', admin, { accessControlProfile: { name: 'x', rules: [rule({ contexts: [{ type: '9' }] })] } }, 'INVALID_ENUM_VALUE'],
    ['acp.add: a preview without a length', 'accesscontrolprofile/action/add', admin, { accessControlProfile: { name: 'x', rules: [{ objectType: 'KalturaRule', actions: [{ objectType: 'KalturaAccessControlPreviewAction', limit: 'abc' }] }] } }, 'INVALID_ENUM_VALUE'],
    ['acp.add: an IP range that is not one', 'accesscontrolprofile/action/add', admin, { accessControlProfile: { name: 'x', rules: [rule({ conditions: [{ objectType: 'KalturaIpAddressCondition', values: [{ value: '10.0.0.0/99' }] }] })] } }, 'PROPERTY_VALIDATION_WRONG_FORMAT'],
    ['acp.add: a read-only property', 'accesscontrolprofile/action/add', admin, { accessControlProfile: { name: 'x', id: 5 } }, 'PROPERTY_VALIDATION_NOT_UPDATABLE'],
    ['acp.get: another partner\'s profile', 'accesscontrolprofile/action/get', otherAdmin, { id: 1 }, 'ACCESS_CONTROL_ID_NOT_FOUND', { ID: '1' }],
    ['acp.update: unknown', 'accesscontrolprofile/action/update', admin, { id: 999, accessControlProfile: { name: 'x' } }, 'ACCESS_CONTROL_ID_NOT_FOUND'],
    ['acp.update: malformed rules', 'accesscontrolprofile/action/update', admin, { id: 1, accessControlProfile: { rules: [{ objectType: 'KalturaRule', conditions: 7 }] } }, 'INVALID_OBJECT_TYPE'],
    ['acp.delete: in use, no default', 'accesscontrolprofile/action/delete', admin, { id: 1 }, 'CANNOT_TRANSFER_ENTRIES_TO_ANOTHER_ACCESS_CONTROL_OBJECT'],
    ['acp.delete: another partner', 'accesscontrolprofile/action/delete', otherAdmin, { id: 2 }, 'ACCESS_CONTROL_ID_NOT_FOUND'],
    ['acp.list: a malformed filter name', 'accesscontrolprofile/action/list', admin, { 'filter.idEqual': 1 }, 'PROPERTY_IS_NOT_DEFINED'],
    // captions
    ['caption.add: unknown entry', 'caption_captionasset/action/add', admin, { entryId: '1_nosuch00', captionAsset: {} }, 'ENTRY_ID_NOT_FOUND'],
    ['caption.add: another partner', 'caption_captionasset/action/add', otherAdmin, { entryId: ENTRY, captionAsset: {} }, 'ENTRY_ID_NOT_FOUND'],
    ['caption.add: a user KS', 'caption_captionasset/action/add', user, { entryId: ENTRY, captionAsset: {} }, NOT_EDITOR],
    ['caption.add: CAP format', 'caption_captionasset/action/add', admin, { entryId: ENTRY, captionAsset: { format: '4' } }, 'CAPTION_ASSET_UNSUPPORTED_FORMAT'],
    ['caption.setContent: plain text', 'caption_captionasset/action/setContent', admin, { id: cap.id, contentResource: { objectType: 'KalturaStringResource', content: 'just some words' } }, 'CAPTION_ASSET_PARSING_FAILED'],
    ['caption.setContent: WebVTT without cues', 'caption_captionasset/action/setContent', admin, { id: cap.id, contentResource: { objectType: 'KalturaStringResource', content: 'WEBVTT\n\nnothing\n' } }, 'CAPTION_ASSET_PARSING_FAILED'],
    ['caption.setContent: malformed TTML', 'caption_captionasset/action/setContent', admin, { id: cap.id, contentResource: { objectType: 'KalturaStringResource', content: readFileSync(join(TTML, 'broken.dfxp'), 'utf8') } }, 'CAPTION_ASSET_PARSING_FAILED'],
    ['caption.setContent: an unknown upload token', 'caption_captionasset/action/setContent', admin, { id: cap.id, contentResource: { objectType: 'KalturaUploadedFileTokenResource', token: '0_nosuchtok' } }, 'UPLOAD_TOKEN_NOT_FOUND'],
    ['caption.setContent: a URL that answers 404', 'caption_captionasset/action/setContent', admin, { id: cap.id, contentResource: { objectType: 'KalturaUrlResource', url: `${s.url}/no/such/file.srt` } }, 'CAPTION_ASSET_DOWNLOAD_FAILED'],
    ['caption.setContent: a file: URL', 'caption_captionasset/action/setContent', admin, { id: cap.id, contentResource: { objectType: 'KalturaUrlResource', url: 'file:///etc/passwd' } }, 'CAPTION_ASSET_DOWNLOAD_FAILED'],
    ['caption.setContent: a URL, with a user KS that may edit the entry', 'caption_captionasset/action/setContent', editor, { id: cap.id, contentResource: { objectType: 'KalturaUrlResource', url: `${s.url}/api_v3/service/system/action/ping` } }, FORBIDDEN],
    ['update: adminTags with a user KS that may edit the entry', 'media/action/update', editor, { entryId: ENTRY, mediaEntry: { adminTags: 'x' } }, 'PROPERTY_VALIDATION_ADMIN_PROPERTY'],
    ['caption.setContent: a resource type not taken', 'caption_captionasset/action/setContent', admin, { id: cap.id, contentResource: { objectType: 'KalturaServerFileResource', localFilePath: '/etc/passwd' } }, 'RESOURCE_TYPE_NOT_SUPPORTED'],
    ['caption.setContent: unknown caption', 'caption_captionasset/action/setContent', admin, { id: '0_nosuchcap', contentResource: { objectType: 'KalturaStringResource', content: SRT } }, 'CAPTION_ASSET_ID_NOT_FOUND'],
    ['caption.update: a read-only property', 'caption_captionasset/action/update', admin, { id: cap.id, captionAsset: { entryId: '1_other' } }, 'PROPERTY_VALIDATION_NOT_UPDATABLE'],
    ['caption.delete: another partner', 'caption_captionasset/action/delete', otherAdmin, { captionAssetId: cap.id }, 'CAPTION_ASSET_ID_NOT_FOUND'],
    ['caption.getUrl: no content yet', 'caption_captionasset/action/getUrl', admin, { id: cap.id }, 'CAPTION_ASSET_IS_NOT_READY'],
    // thumbnails
    ['thumb.addFromImage: not a picture', 'thumbasset/action/addFromImage', admin, { entryId: ENTRY }, 'FILE_TYPE_NOT_SUPPORTED', undefined, Buffer.from('%PDF-1.4 nope')],
    ['thumb.add: a user KS', 'thumbasset/action/add', user, { entryId: ENTRY, thumbAsset: {} }, NOT_EDITOR],
    ['thumb.setContent: not a picture', 'thumbasset/action/setContent', admin, { id: thumb.id, contentResource: { objectType: 'KalturaStringResource', content: 'hello' } }, 'FILE_TYPE_NOT_SUPPORTED'],
    ['thumb.setAsDefault: no content yet', 'thumbasset/action/setAsDefault', admin, { thumbAssetId: thumb.id }, 'THUMB_ASSET_IS_NOT_READY'],
    ['thumb.setAsDefault: another partner', 'thumbasset/action/setAsDefault', otherAdmin, { thumbAssetId: thumb.id }, 'THUMB_ASSET_ID_NOT_FOUND'],
    ['thumb.delete: unknown', 'thumbasset/action/delete', admin, { thumbAssetId: '0_nosuchthm' }, 'THUMB_ASSET_ID_NOT_FOUND'],
    ['thumb.serve: no content yet', 'thumbasset/action/serve', admin, { thumbAssetId: thumb.id }, 'THUMB_ASSET_IS_NOT_READY'],
    ['thumb.list: a property not applied', 'thumbasset/action/list', admin, { filter: { tagsLike: 'x' } }, 'PROPERTY_IS_NOT_DEFINED'],
    // flavors and the rest
    ['flavor.delete: a user KS', 'flavorasset/action/delete', user, { id: '1_f1rcit00' }, FORBIDDEN],
    ['flavor.delete: another partner', 'flavorasset/action/delete', otherAdmin, { id: '1_f1rcit00' }, 'FLAVOR_ASSET_ID_NOT_FOUND'],
    ['flavor.reconvert: the source', 'flavorasset/action/reconvert', admin, { id: '1_f0rcit00' }, 'FLAVOR_ASSET_RECONVERT_ORIGINAL'],
    ['flavor.reconvert: a user KS', 'flavorasset/action/reconvert', user, { id: '1_f1rcit00' }, FORBIDDEN],
    ['deliveryProfile.get: a user KS', 'deliveryprofile/action/get', user, { id: 1001 }, FORBIDDEN],
    ['deliveryProfile.get: unknown', 'deliveryprofile/action/get', admin, { id: 424242 }, 'DELIVERY_ID_NOT_FOUND'],
    ['partner.get: another partner', 'partner/action/get', admin, { id: 310 }, 'INVALID_PARTNER_ID'],
    ['uiConf.get: unknown', 'uiconf/action/get', admin, { id: 424242 }, 'UICONF_ID_NOT_FOUND'],
    ['uiConf.get: another partner\'s', 'uiconf/action/get', otherAdmin, { id: 48501 }, 'UICONF_ID_NOT_FOUND'],
    ['widget.get: another partner\'s', 'widget/action/get', admin, { id: '_310' }, 'INVALID_WIDGET_ID'],
    ['widget.get: not a widget', 'widget/action/get', admin, { id: 'nope' }, 'INVALID_WIDGET_ID'],
  ];
  for (const [what, path, ks, body, code, args, file] of cases) await expectError(what, path, ks, body, code, args, file);
  t.equal(snapshot(), before, 'the catalog is exactly as it was');

  // and what the edit privilege does allow: the entry's own fields
  const renamed = await post('media/action/update', editor, { entryId: ENTRY, mediaEntry: { name: 'Edited with edit:*' } });
  t.match(renamed, { objectType: 'KalturaMediaEntry', name: 'Edited with edit:*' }, 'a user KS with edit:* renames the entry');
});
