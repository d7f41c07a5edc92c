// api_v3 services over HTTP against a real server and the sample library: entry objects, list
// filters, playback contexts (open, blocked, preview, limited, captions, scheduled, encrypted
// partner), captions as served, sessions and errors, formats. Source and download URLs are
// fetched, so what the API offers is checked against what the server really serves.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';

t.test('api_v3 services', async (t) => {
  const s = await startServer(t);
  const api = async (service: string, action: string, params: Record<string, unknown> = {}): Promise<any> => {
    const res = await fetch(`${s.url}/api_v3/service/${service}/action/${action}`, {
      method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...params }),
    });
    t.equal(res.status, 200, `${service}.${action} answers HTTP 200`);
    t.equal(res.headers.get('access-control-allow-origin'), '*');
    return res.json();
  };
  const adminKs: string = await api('session', 'start', { secret: 'sample-admin-secret-309', partnerId: 309, type: 2, userId: 'admin' });
  const widget = await api('session', 'startWidgetSession', { widgetId: '_309' });
  const widgetKs: string = widget.ks;
  const noNulls = (v: unknown, where = 'result'): void => {
    if (v === null) t.fail(`null at ${where}`);
    else if (Array.isArray(v)) v.forEach((x, i) => noNulls(x, `${where}[${i}]`));
    else if (typeof v === 'object') {
      if (!('objectType' in (v as object))) t.fail(`no objectType at ${where}`);
      for (const [k, x] of Object.entries(v as object)) if (k !== 'args') noNulls(x, `${where}.${k}`);
    }
  };

  await t.test('sessions', async (t) => {
    t.match(widget, { objectType: 'KalturaStartWidgetSessionResponse', partnerId: 309, userId: '0' });
    t.match(await api('session', 'get', { ks: widgetKs }), { objectType: 'KalturaSessionInfo', sessionType: 0, partnerId: 309, privileges: /widget:1/ });
    t.match(await api('session', 'startWidgetSession', { widgetId: '_999' }), { code: 'INVALID_WIDGET_ID', args: { WIDGET_ID: '_999' } });
    t.match(await api('session', 'start', { secret: 'x', partnerId: 309, type: 5 }), { code: 'INVALID_ENUM_VALUE', message: 'Invalid enumeration value "5" for parameter "type", expecting enumeration type "KalturaSessionType"' });
    t.match(await api('session', 'start', { partnerId: 309 }), { code: 'MISSING_MANDATORY_PARAMETER', message: 'Missing parameter "secret"' });
    t.match(await api('session', 'start', { secret: 'sample-admin-secret-309', partnerId: 'abc' }), { code: 'INVALID_PARTNER_ID', message: 'Invalid partner id "abc"' });
    t.match(await api('session', 'start', { secret: 'sample-admin-secret-309', partnerId: 4242 }), { code: 'START_SESSION_ERROR', args: { PID: '4242' } });
    t.match(await api('baseEntry', 'get', { entryId: '1_rcit0qgs', ks: 'not-a-ks' }), { code: 'INVALID_KS', message: 'Invalid KS "INVALID_STR", Error "-1,INVALID_STR"', args: { KSID: 'INVALID_STR', ERR_CODE: '-1' } });
    t.match(await api('baseEntry', 'get', { entryId: '1_rcit0qgs' }), { code: 'MISSING_KS', message: 'Missing KS, session not established', args: [] });
    t.match(await api('baseEntry', 'get', { entryId: '1_rcit0qgs', partnerId: 'x' }), { code: 'MISSING_KS' });
    t.equal(await api('system', 'ping'), true, 'ping needs nothing');
    t.match(await api('system', 'ping', { partnerId: 'x' }), { code: 'INVALID_PARTNER_ID' }, 'a malformed partner id is refused wherever it appears');
    t.match(await api('metadata_metadata', 'list', { ks: widgetKs, partnerId: 'nope' }), { objectType: 'KalturaMetadataListResponse', totalCount: 0, objects: [] });
    t.match(await api('baseEntry', 'list', { ks: '', partnerId: 'x1' }), { code: 'MISSING_KS' });
    t.match(await api('user', 'get', { ks: adminKs }), { objectType: 'KalturaUser', id: 'admin', partnerId: 309 });
    t.match(await api('user', 'get', { ks: widgetKs }), { objectType: 'KalturaUser', id: '0' }, 'the player only reads id; "0" means anonymous');
    t.match(await api('user', 'get', { ks: widgetKs, userId: 'someone-else' }), { code: 'INVALID_USER_ID', message: 'Invalid user id' });
    t.match(await api('user', 'get', { ks: adminKs, userId: 'someone-else' }), { code: 'INVALID_USER_ID' }, 'users are not stored: no other user is invented');
    const ks310: string = await api('session', 'start', { secret: 'sample-admin-secret-310', partnerId: 310, type: 2 });
    t.match(await api('session', 'get', { ks: adminKs, session: ks310 }), { code: 'INVALID_KS', args: { KSID: 'INVALID_PARTNER' } }, 'another partner\'s session is not inspectable');
    t.match(await api('media', 'get', { ks: adminKs, entryId: '1_rcit0qgs', 'filter:x': 1 }), { id: '1_rcit0qgs' }, 'unknown params are ignored');
    t.match(await api('baseEntry', 'list', { ks: adminKs, filter: 'scalar' }), { code: 'INVALID_OBJECT_TYPE' });
    t.match(await api('baseEntry', 'get', { ks: adminKs, entryId: 'x'.repeat(100) }), { code: 'PROPERTY_VALIDATION_MAX_LENGTH', args: { PROP_NAME: 'entryId', MAX_LEN: '64' } });
  });

  await t.test('entry objects carry what the player reads', async (t) => {
    const e = await api('baseEntry', 'get', { ks: adminKs, entryId: '1_rcit0qgs' });
    noNulls(e);
    t.match(e, {
      objectType: 'KalturaMediaEntry', id: '1_rcit0qgs', partnerId: 309, type: 1, mediaType: 1, status: 2, duration: 12, msDuration: 12000,
      name: 'Sample video', referenceId: 'sample-video', createdAt: 1735689600, flavorParamsIds: /301951/,
    });
    for (const k of ['type', 'mediaType', 'status', 'createdAt', 'updatedAt', 'duration', 'msDuration']) t.type(e[k], 'number', `${k} is a number`);
    t.equal(e.thumbnailUrl, `${s.url}/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/version/${e.version}`);
    t.equal(e.downloadUrl, `${s.url}/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/download/protocol/http/flavorParamIds/0`);
    t.equal(e.dataUrl, `${s.url}/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/url/protocol/http`);
    t.same(e.flavorParamsIds.split(',').map(Number).sort(), [0, 301951, 301961, 301971, 301991]);
    const thumb = await fetch(e.thumbnailUrl);
    t.equal(thumb.status, 200, 'thumbnailUrl serves');
    t.match(thumb.headers.get('content-type') ?? '', /^image\//);
    const dl = await fetch(e.downloadUrl);
    t.equal(dl.status, 200, 'downloadUrl serves the source flavor');
    t.equal((await dl.arrayBuffer()).byteLength, (await s.app.catalog.getFlavor('1_f0rcit00'))!.size);
    const data = await fetch(e.dataUrl);
    t.equal(data.status, 200, 'dataUrl serves');
    const audio = await api('media', 'get', { ks: adminKs, entryId: '1_audio001' });
    t.match(audio, { mediaType: 5 });
    t.notMatch(audio.downloadUrl, 'flavorParamIds', 'no source flavor: playManifest picks the download');
    const audioDl = await fetch(audio.downloadUrl);
    t.equal(audioDl.status, 200, 'the audio entry downloads');
    t.equal((await audioDl.arrayBuffer()).byteLength, (await s.app.catalog.getFlavor('1_f1audio0'))!.size);
    t.match(await api('media', 'get', { ks: adminKs, entryId: '1_image000' }), { objectType: 'KalturaMediaEntry', mediaType: 2, dataUrl: /\/raw\/entry_id\/1_image000\// });
    const doc = await api('baseEntry', 'get', { ks: adminKs, entryId: '1_document' });
    t.match(doc, { objectType: 'KalturaDocumentEntry', type: 10, documentType: 13 }, 'a PDF document');
    const pdf = await fetch(doc.downloadUrl);
    t.equal(pdf.status, 200, 'the document downloads');
    t.equal(Buffer.from(await pdf.arrayBuffer()).subarray(0, 5).toString(), '%PDF-');
    t.match(await api('media', 'get', { ks: adminKs, entryId: '1_document' }), { code: 'ENTRY_ID_NOT_FOUND' }, 'a document is not a media entry');
    t.match(await api('baseEntry', 'get', { ks: adminKs, entryId: '1_deleted0' }), { code: 'ENTRY_ID_NOT_FOUND' });
  });

  await t.test('list filters and pager', async (t) => {
    const ids = async (filter: Record<string, unknown>, pager?: Record<string, unknown>) =>
      (await api('baseEntry', 'list', { ks: adminKs, filter, ...(pager ? { pager } : {}) })).objects.map((e: any) => e.id).sort();
    t.same(await ids({ idEqual: '1_audio001' }), ['1_audio001']);
    t.same(await ids({ idIn: '1_audio001,1_kssecure,1_secure01' }), ['1_audio001', '1_kssecure'], 'another partner\'s id is invisible');
    t.same(await ids({ redirectFromEntryId: '1_preview1' }), ['1_preview1']);
    t.same(await ids({ referenceIdEqual: 'sample-video' }), ['1_rcit0qgs']);
    t.same(await ids({ nameLike: 'alternate audio' }), ['1_alt0audi']);
    t.same(await ids({ mediaTypeEqual: 2 }), ['1_image000']);
    t.same(await ids({ statusIn: '1' }), ['1_convert0']);
    t.same(await ids({ statusIn: '3' }), ['1_deleted0']);
    t.notOk((await ids({})).includes('1_deleted0'), 'deleted entries are not listed by default');
    t.same(await ids({ redirectFromEntryId: '1_deleted0' }), ['1_deleted0'], 'a named entry is returned whatever its status, as Kaltura does');
    // Kaltura's defaults: without a status field only READY entries, without a moderation field
    // none pending moderation or rejected; idEqual and redirectFromEntryId skip them, idIn does not
    const all = await ids({});
    t.notOk(all.includes('1_convert0'), 'an entry still converting is not listed by default');
    t.notOk(all.includes('1_moderat0'), 'an entry pending moderation is not listed by default');
    t.ok(all.includes('1_rcit0qgs') && all.includes('1_sched000'), 'ready, approved entries are');
    t.same(await ids({ idIn: '1_convert0,1_moderat0,1_rcit0qgs' }), ['1_rcit0qgs'], 'idIn keeps the defaults');
    t.same(await ids({ idEqual: '1_convert0' }), ['1_convert0'], 'idEqual skips them');
    t.same(await ids({ idEqual: '1_moderat0' }), ['1_moderat0']);
    t.same(await ids({ moderationStatusEqual: 1 }), ['1_moderat0'], 'a moderation field replaces its default (the status default stays)');
    t.same(await ids({ moderationStatusIn: '1,3', statusIn: '1,2' }), ['1_moderat0']);
    t.ok((await ids({ moderationStatusNotIn: '3' })).includes('1_moderat0'));
    t.same(await ids({ statusNotEqual: 2 }), ['1_convert0'], 'statusNotEqual: deleted entries still left out');
    t.same(await ids({ statusNotIn: '2,1' }), []);
    t.same((await api('media', 'list', { ks: adminKs, filter: { objectType: 'KalturaMediaEntryFilter', statusIn: '1,2' } })).objects.map((e: any) => e.id).includes('1_convert0'), true, 'media.list too');
    t.match(await api('baseEntry', 'list', { ks: adminKs, filter: { moderationStatusEqual: 'pending' } }), { code: 'INVALID_ENUM_VALUE', args: { PARAM_NAME: 'moderationStatusEqual' } });
    const page1 = await api('media', 'list', { ks: adminKs, pager: { pageSize: 3, pageIndex: 1 } });
    const page2 = await api('media', 'list', { ks: adminKs, pager: { pageSize: 3, pageIndex: 2 } });
    t.equal(page1.objects.length, 3);
    t.equal(page1.totalCount, page2.totalCount);
    t.notOk(page2.objects.some((e: any) => page1.objects.some((f: any) => f.id === e.id)), 'pages do not overlap');
    t.match(await api('baseEntry', 'list', { ks: adminKs, filter: { mediaTypeEqual: 'video' } }), { code: 'INVALID_ENUM_VALUE', args: { PARAM_NAME: 'mediaTypeEqual' } });
    const trimmed = await api('baseEntry', 'list', { ks: adminKs, filter: { idEqual: '1_rcit0qgs' }, responseProfile: { type: 1, fields: 'id,duration' } });
    t.same(trimmed.objects, [{ objectType: 'KalturaMediaEntry', id: '1_rcit0qgs', duration: 12 }], 'responseProfile include fields');
  });

  await t.test('playback context: open entry, sources that really play', async (t) => {
    const pc = await api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId: '1_rcit0qgs', contextDataParams: { objectType: 'KalturaContextDataParams', flavorTags: 'all' } });
    noNulls(pc);
    t.same(pc.actions, []);
    t.same(pc.messages, []);
    t.same(pc.sources.map((x: any) => x.format), ['applehttp', 'mpegdash', 'url']);
    for (const src of pc.sources) {
      t.match(src, { objectType: 'KalturaPlaybackSource', protocols: 'http,https', drm: [] });
      t.match(src.deliveryProfileId, /^\d+$/);
      t.equal(src.url.split('/format/')[0], `${s.url}/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/flavorIds/${src.flavorIds}/deliveryProfileId/${src.deliveryProfileId}/protocol/http`, 'canonical playManifest form');
      const r = await fetch(src.url, { redirect: 'manual' });
      t.ok(r.status === 200 || r.status === 302, `${src.format} source URL answers (${r.status})`);
    }
    const only = await api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId: '1_rcit0qgs', contextDataParams: { streamerType: 'mpegdash', mediaProtocol: 'https' } });
    t.same(only.sources.map((x: any) => x.format), ['mpegdash'], 'streamerType picks one format');
    t.match(only.sources[0].url, '/protocol/https/', 'mediaProtocol sets the protocol of the URLs');
    const hls = await (await fetch(pc.sources[0].url)).text();
    t.match(hls, /^#EXTM3U/);
    const flavorIds = pc.flavorAssets.map((f: any) => f.id);
    t.notOk(flavorIds.includes('1_f4rcit00'), 'the 3gp flavor is not offered to a web player');
    for (const f of pc.flavorAssets) t.match(f, { objectType: 'KalturaFlavorAsset', status: 2, fileExt: 'mp4' });
  });

  await t.test('playback context: access control as actions and messages', async (t) => {
    const blocked = await api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId: '1_kssecure' });
    t.same(blocked.sources, []);
    t.same(blocked.actions, [{ objectType: 'KalturaAccessControlBlockAction', type: 1 }]);
    t.same(blocked.messages, [{ objectType: 'KalturaAccessControlMessage', message: 'a session (KS) is required', code: 'SESSION_RESTRICTED' }]);
    const userKs: string = await api('session', 'start', { secret: 'sample-user-secret-309', partnerId: 309, type: 0, privileges: 'sview:1_kssecure' });
    const allowed = await api('baseEntry', 'getPlaybackContext', { ks: userKs, entryId: '1_kssecure' });
    t.equal(allowed.sources.length, 3, 'a KS with sview:1_kssecure gets sources');
    t.same(allowed.actions, []);

    const preview = await api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId: '1_preview1' });
    t.same(preview.actions, [{ objectType: 'KalturaAccessControlPreviewAction', type: 2, limit: 5 }]);
    for (const src of preview.sources) t.match(src.url, '/clipTo/5000/', `${src.format} URL carries the clip`);
    const full = await api('baseEntry', 'getPlaybackContext', { ks: adminKs, entryId: '1_preview1' });
    t.same(full.actions, [], 'an admin KS sees the whole entry');

    const limited = await api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId: '1_flavlim0' });
    t.same(limited.flavorAssets.map((f: any) => f.flavorParamsId), [301961], 'only the 240p flavor');
    t.match(limited.actions, [{ objectType: 'KalturaAccessControlLimitFlavorsAction', type: 3, flavorParamsIds: '301961' }]);

    const sched = await api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId: '1_sched000' });
    t.same(sched.sources, []);
    t.match(sched.messages, [{ code: 'SCHEDULED_RESTRICTED' }], 'the code the player turns into SCHEDULED_RESTRICTED');
    t.equal((await api('baseEntry', 'getPlaybackContext', { ks: adminKs, entryId: '1_sched000' })).sources.length, 3, 'an admin KS plays it');

    const site = await api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId: '1_siteonly', contextDataParams: { referrer: 'https://www.example.com/page' } });
    t.equal(site.sources.length, 3, 'the referrer of contextDataParams satisfies the site rule');
    t.same((await api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId: '1_siteonly' })).actions, [{ objectType: 'KalturaAccessControlBlockAction', type: 1 }]);

    const w310 = (await api('session', 'startWidgetSession', { widgetId: '_310' })).ks;
    const enc = await api('baseEntry', 'getPlaybackContext', { ks: w310, entryId: '1_secure01' });
    t.same(enc.sources, [], 'partner 310 over plain HTTP: no sources');
    t.match(enc.actions, [{ type: 1 }]);
    t.match(await api('baseEntry', 'getPlaybackContext', { ks: w310, entryId: '1_rcit0qgs' }), { code: 'ENTRY_ID_NOT_FOUND' }, 'another partner\'s entry');
    const none = await api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId: '1_convert0' });
    t.same([none.sources, none.actions], [[], []], 'nothing playable is no sources, not a block');
  });

  await t.test('captions: context entries, serve and serveWebVTT', async (t) => {
    const pc = await api('baseEntry', 'getPlaybackContext', { ks: widgetKs, entryId: '1_alt0audi' });
    t.equal(pc.playbackCaptions.length, 2);
    const eng = pc.playbackCaptions.find((c: any) => c.languageCode === 'en');
    const spa = pc.playbackCaptions.find((c: any) => c.languageCode === 'es');
    t.match(eng, { objectType: 'KalturaCaptionPlaybackPluginData', format: '3', isDefault: true, label: 'English' });
    t.match(spa, { format: '1', isDefault: false, label: 'Español' });
    const srt = await fetch(spa.url.replace(/\/ks\/[^/]+/, ''));
    t.equal(srt.status, 200);
    t.equal(await srt.text(), readFileSync(join(s.config.mediaRoot, (await s.app.catalog.getCaption('1_c2alt000'))!.filePath), 'utf8'), 'serve gives the stored SRT');
    const vtt = await fetch(spa.webVttUrl);
    t.match(vtt.headers.get('content-type') ?? '', /^text\/vtt/);
    const text = await vtt.text();
    t.match(text, /^WEBVTT\n/);
    t.match(text, /\d\d:\d\d:\d\d\.\d\d\d --> \d\d:\d\d:\d\d\.\d\d\d/, 'SRT times became WebVTT times');
    t.notMatch(text, /\d,\d\d\d/, 'no SRT commas left');
    const list = await api('caption_captionAsset', 'list', { ks: adminKs, filter: { entryIdEqual: '1_alt0audi' } });
    t.equal(list.totalCount, 2);
    t.match(list.objects[0], { objectType: 'KalturaCaptionAsset', entryId: '1_alt0audi' });
    const xmlErr = await (await fetch(`${s.url}/api_v3/index.php/service/caption_captionasset/action/serve/captionAssetId/1_nope`)).text();
    t.match(xmlErr, '<code>CAPTION_ASSET_ID_NOT_FOUND</code>');
  });

  await t.test('formats and URL forms over HTTP', async (t) => {
    const php = await (await fetch(`${s.url}/api_v3/index.php?service=system&action=ping&format=3`)).text();
    t.equal(php, 'b:1;');
    const jsonp = await fetch(`${s.url}/api_v3/service/system/action/ping?format=9&callback=cb_1`);
    t.equal(jsonp.headers.get('content-type'), 'application/javascript');
    t.equal(await jsonp.text(), 'cb_1(true);');
    const form = await fetch(`${s.url}/api_v3/index.php?service=multirequest&action=null`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ ks: adminKs, format: '1', '1:service': 'media', '1:action': 'list', '1:filter:nameLike': 'Sample video', '2:service': 'media', '2:action': 'get', '2:entryId': '{1:result:objects:0:id}' }),
    });
    const arr = await form.json();
    t.equal(arr[1].id, '1_rcit0qgs', 'the documented flat multirequest');
    const mp = new FormData();
    mp.set('json', JSON.stringify({ ks: adminKs, entryId: '1_audio001', format: 1 }));
    t.equal((await (await fetch(`${s.url}/api_v3/service/baseEntry/action/get`, { method: 'POST', body: mp })).json()).id, '1_audio001', 'multipart with a json field');
    const path = await (await fetch(`${s.url}/api_v3/index.php/service/BASEENTRY/action/Get/entryId/1_audio001/format/1?ks=${encodeURIComponent(adminKs)}`)).json();
    t.equal(path.id, '1_audio001', 'path pairs, mixed case');
    const big = await fetch(`${s.url}/api_v3/service/system/action/ping?format=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":"' + 'x'.repeat(70 * 1024 * 1024) + '"}' });
    t.equal(big.status, 200, 'an oversized body is still an API answer');
    t.match(await big.json(), { objectType: 'KalturaAPIException' });
    // the format as a path pair (the player's form): the body that might say otherwise is not read
    const bigPath = await fetch(`${s.url}/api_v3/service/system/action/ping/format/1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":"' + 'x'.repeat(70 * 1024 * 1024) + '"}' });
    t.match(await bigPath.json(), { code: 'INTERNAL_SERVERL_ERROR', objectType: 'KalturaAPIException' }, 'in the format of the path');
  });
});
