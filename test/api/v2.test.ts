// The legacy API v2 (/index.php/partnerservices2/{action}) over HTTP: the ten worked examples of the
// API v2 facts (section 7) answer as written there (structure, codes and types; serverTime and
// debug aside), each format's envelope, the other actions, multirequest, and bad input answered
// with v2's error at HTTP 200 and nothing changed in the catalog.
import t from 'tap';
import { readFileSync } from 'node:fs';
import { get as httpGet } from 'node:http';
import { gunzipSync } from 'node:zlib';
import Database from 'better-sqlite3';
import { XMLParser } from 'fast-xml-parser';
import { generateKs } from '../../src/access/ks.js';
import { startServer } from '../helpers/server.js';
import { repoPath } from '../helpers/repo.js';

const FIXTURES = repoPath('fixtures/media/');
const xml = new XMLParser({ parseTagValue: false, trimValues: false, processEntities: true });

/** PHP's unserialize, for the format=3 answers (strings, integers, floats, booleans, null, arrays). */
function unserialize(s: string): unknown {
  let i = 0;
  const read = (): unknown => {
    const type = s[i];
    if (type === 'N') { i += 2; return null; }
    const colon = s.indexOf(':', i + 2);
    if (type === 'i' || type === 'd' || type === 'b') {
      const end = s.indexOf(';', i + 2);
      const v = s.slice(i + 2, end);
      i = end + 1;
      return type === 'b' ? v === '1' : Number(v);
    }
    if (type === 's') {
      const len = Number(s.slice(i + 2, colon));
      const start = Buffer.byteLength(s.slice(0, colon + 2));
      const value = Buffer.from(s).subarray(start, start + len).toString();
      i = colon + 2 + value.length + 2;
      return value;
    }
    if (type === 'a') {
      const n = Number(s.slice(i + 2, colon));
      i = colon + 2;
      const out: Record<string, unknown> = {};
      for (let k = 0; k < n; k++) out[String(read())] = read();
      i += 1;
      return out;
    }
    throw new Error(`cannot read PHP serialize at ${i}: ${s.slice(i, i + 20)}`);
  };
  return read();
}

t.test('API v2 (partnerservices2)', async (t) => {
  const s = await startServer(t);
  const P = `${s.url}/index.php/partnerservices2`;
  const api = `${s.url}/api_v3`;
  const v3ks = async (secret: string, type: number, user = '') => JSON.parse(await (await fetch(`${api}/service/session/action/start?format=1&secret=${secret}&partnerId=309&type=${type}&userId=${user}`)).text()) as string;
  const KSA = await v3ks('sample-admin-secret-309', 2, 'admin');
  const KSU = await v3ks('sample-user-secret-309', 0, 'u1');
  const get = async (action: string, query: string) => {
    const r = await fetch(`${P}/${action}?${query}`);
    t.equal(r.status, 200, `${action}: HTTP 200`);
    return { type: r.headers.get('content-type'), text: await r.text() };
  };
  const post = async (action: string, body: string, query = '') => {
    const r = await fetch(`${P}/${action}${query ? `?${query}` : ''}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body });
    t.equal(r.status, 200, `${action}: HTTP 200`);
    return { type: r.headers.get('content-type'), text: await r.text() };
  };
  const X = (text: string) => {
    t.ok(text.startsWith('<?xml version="1.0" encoding="ISO-8859-1"?><xml><result>'), 'the v2 XML prolog and envelope');
    return xml.parse(text).xml;
  };
  const session = async (ks: string) => JSON.parse(await (await fetch(`${api}/service/session/action/get?format=1&ks=${encodeURIComponent(ks)}`)).text());

  await t.test('1. startsession, admin, JSON', async (t) => {
    const r = await post('startsession', 'partner_id=309&secret=sample-admin-secret-309&admin=2&format=1');
    t.equal(r.type, 'text/html; charset=utf-8', 'JSON is sent as text/html, as the reference does');
    const j = JSON.parse(r.text);
    t.same(Object.keys(j), ['result', 'debug'], 'no error key on success');
    t.same(Object.keys(j.result), ['ks', 'partner_id', 'serverTime'], 'no subp_id, no uid (empty values are dropped)');
    t.equal(j.result.partner_id, '309', 'partner_id echoes the request, as a string');
    t.type(j.result.serverTime, 'number');
    const info = await session(j.result.ks);
    t.match(info, { sessionType: 2, partnerId: 309 }, 'the KS is an admin KS valid on api_v3');
  });

  await t.test('2. startsession with a wrong secret, XML', async (t) => {
    const r = await get('startsession', 'partner_id=309&secret=wrong');
    t.equal(r.type, 'text/xml; charset=utf-8');
    t.match(r.text, /<error><num_0><code>START_SESSION_ERROR<\/code><desc>Error while starting session for partner \[309\]<\/desc><\/num_0><\/error>/);
    const x = X(r.text);
    t.same(Object.keys(x.result), ['serverTime'], 'result has only serverTime');
  });

  await t.test('3. startwidgetsession', async (t) => {
    const r = await get('startwidgetsession', 'widget_id=_309');
    t.match(r.text, /<result><ks>[^<]+<\/ks><partner_id>309<\/partner_id><subp_id>30900<\/subp_id><uid>0<\/uid><serverTime>/);
    const info = await session(X(r.text).result.ks);
    t.match(info, { sessionType: 0, partnerId: 309, privileges: 'view:*,widget:1' }, 'a type 0 KS with the widget privileges');
    const bad = X((await get('startwidgetsession', 'widget_id=_999')).text);
    t.same(bad.error, { num_0: { code: 'INVALID_WIDGET_ID', desc: 'Unknown widget [_999]' } });
  });

  await t.test('4. getentry, XML', async (t) => {
    const r = await get('getentry', `ks=${KSA}&entry_id=1_rcit0qgs`);
    t.equal(r.type, 'text/xml; charset=utf-8');
    t.match(r.text, /^<\?xml version="1.0" encoding="ISO-8859-1"\?><xml><result><entry><id>1_rcit0qgs<\/id>/);
    t.match(r.text, /<\/entry><serverTime>\d+<\/serverTime><\/result><error><\/error><debug>/);
    const e = X(r.text).result.entry;
    t.match(e, { id: '1_rcit0qgs', partnerId: '309', status: '2', type: '1', mediaType: '1' });
    t.match(e.dataUrl, /\/p\/309\/sp\/30900\/playManifest\/entryId\/1_rcit0qgs\/format\/url\/protocol\/http$/);
    t.equal((await fetch(e.dataUrl, { redirect: 'manual' })).status, 302, 'the dataUrl plays');
    t.notOk('moderationStatus' in e, 'regular fields only');
    t.ok('moderationStatus' in X((await get('getentry', `ks=${KSA}&entry_id=1_rcit0qgs&detailed=1`)).text).result.entry, 'detailed=1 adds the moderation fields');
  });

  await t.test('5. getEntry of a deleted or unknown entry, JSON', async (t) => {
    for (const id of ['1_deleted0', '1_nosuch00']) {
      const j = JSON.parse((await get('getEntry', `ks=${KSA}&entry_id=${id}&format=1`)).text);
      t.same(Object.keys(j.result), ['serverTime']);
      t.same(j.error, [{ code: 'INVALID_ENTRY_ID', desc: `Unknown entry [${id}]` }]);
    }
  });

  await t.test('6. getentry without a KS', async (t) => {
    t.same(X((await get('getentry', 'partner_id=309&entry_id=1_rcit0qgs')).text).error.num_0, { code: 'INVALID_ENTRY_ID', desc: 'Unknown entry [1_rcit0qgs]' }, 'only Kaltura-Network entries without a KS: none here');
    t.match(X((await get('getentry', 'entry_id=1_rcit0qgs')).text).error.num_0, { code: 'UNKNOWN_PARTNER_ID' }, 'without partner_id');
  });

  await t.test('7. listentries with the wrong sessions', async (t) => {
    t.match(X((await get('listentries', `ks=${KSU}`)).text).error.num_0, { code: 'INVALID_KS', desc: /Error \[-4,INVALID_TYPE\]$/ }, 'a user KS where an admin KS is needed');
    const expired = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 60, now: Math.floor(Date.now() / 1000) - 3600 });
    t.match(X((await get('listentries', `ks=${expired}`)).text).error.num_0, { code: 'INVALID_KS', desc: /Error \[-5,EXPIRED\]$/ });
    t.same(X((await get('listentries', 'ks=garbage')).text).error.num_0, { code: 'INTERNAL_SERVER_ERROR', desc: 'Internal server error INVALID_STR' });
    t.match(X((await get('listentries', '')).text).error.num_0, { code: 'MISSING_KS', desc: 'Missing KS. Session not established' });
  });

  await t.test('8. listentries with filters, page size capped at 30', async (t) => {
    const r = X((await get('listentries', `ks=${KSA}&filter__eq_status=2&filter__order_by=%2Bcreated_at&page_size=100`)).text).result;
    const ready = JSON.parse(await (await fetch(`${api}/service/baseEntry/action/list?format=1&ks=${KSA}&filter:statusEqual=2&filter:moderationStatusIn=1,2,3,4,5,6`)).text()).totalCount;
    // v2 lists entries pending moderation or rejected (api_v3 does not, unless asked)
    t.equal(r.count, String(ready), 'count: every match');
    t.equal(r.page_size, '30');
    t.equal(r.page, '1');
    t.equal(r.user, '', '<user></user>');
    const entries = Object.keys(r.entries);
    t.same(entries, entries.map((_, i) => `num_${i}`), 'items num_0, num_1, ...');
    const created = entries.map((k) => Number(r.entries[k].createdAtAsInt));
    t.same(created, [...created].sort((a, b) => a - b), '+created_at: oldest first');
    for (const k of entries) t.equal(r.entries[k].status, '2');
    const page2 = X((await get('listentries', `ks=${KSA}&page_size=2&page=2`)).text).result;
    t.equal(Object.keys(page2.entries).length, 2);
    const my = X((await get('listmyentries', `ks=${KSU}`)).text).result;
    t.equal(my.count, '0', 'listmyentries: the caller\'s entries only (u1 has none yet)');
    t.match(X((await get('listentries', `ks=${KSA}&filter__eq_partner_id=310`)).text).error.num_0, { code: 'INVALID_FILTER' }, 'a filter this server does not apply is refused, never skipped');
  });

  await t.test('9. getentries, PHP serialize', async (t) => {
    const r = await post('getentries', `ks=${KSA}&entry_ids=1_rcit0qgs,%201_audio001,1_nosuch00&format=3`);
    const php = unserialize(r.text) as any;
    t.same(Object.keys(php), ['result', 'debug']);
    const entries = Object.values(php.result.entries) as any[];
    t.same(entries.map((e) => e.id), ['1_rcit0qgs', '1_audio001']);
    t.same(entries.map((e) => e.mediaType), [1, 5], 'database integers stay integers');
    const none = unserialize((await post('getentries', `ks=${KSA}&entry_ids=1_nosuch00,1_nosuch01&format=3`)).text) as any;
    t.same(none.error, { 0: { code: 'INVALID_ENTRY_IDS', desc: 'Unknown entry ids [1_nosuch00,1_nosuch01]' } });
  });

  await t.test('10. upload and addEntry with a user KS; another KS cannot take the file', async (t) => {
    const form = new FormData();
    form.set('Filedata', new Blob([readFileSync(`${FIXTURES}h264-240p.mp4`)]), 'clip.mp4');
    const up = await fetch(`${P}/upload?ks=${KSU}&partner_id=309&subp_id=30900&uid=u1&filename=1700000000001`, { method: 'POST', body: form });
    const ok = X(await up.text()).result.result_ok;
    t.match(ok, { filename: '1700000000001', origFilename: 'clip.mp4' });
    t.ok(ok.token);
    const add = `partner_id=309&uid=u1&kshow_id=-1&entry1_name=clip.mp4&entry1_filename=1700000000001&entry1_realFilename=clip.mp4&entry1_source=1&entry1_type=1&entry1_mediaType=1`;
    const other = await v3ks('sample-user-secret-309', 0, 'u2');
    t.same(X((await get('addEntry', `ks=${other}&${add}`)).text).error.num_0, { code: 'INVALID_FILE_NAME', desc: 'Cannot find file 1700000000001' });
    const r = await get('addEntry', `ks=${KSU}&${add}`);
    t.match(r.text, /<entries><entry1_><id>[^<]+<\/id>.*<\/entry1_><\/entries><new_entry_count>1<\/new_entry_count>/);
    const e = X(r.text).result.entries.entry1_;
    t.match(e, { name: 'clip.mp4', partnerId: '309', puserId: 'u1', type: '1' });
    t.match(X((await get('addEntry', `ks=${KSU}&${add}`)).text).error.num_0, { code: 'INVALID_FILE_NAME' }, 'an upload is used once');
    const mine = X((await get('listmyentries', `ks=${KSU}`)).text).result;
    t.equal(mine.count, '1', 'listmyentries now finds it');

    // a long file name as the name: cut to the entry's 256 characters, as v2 always did (api_v3 refuses it)
    const long = `${'l'.repeat(300)}.mp4`;
    const up2 = new FormData();
    up2.set('Filedata', new Blob([readFileSync(`${FIXTURES}h264-240p.mp4`)]), long);
    await (await fetch(`${P}/upload?ks=${KSU}&partner_id=309&subp_id=30900&uid=u1&filename=1700000000002`, { method: 'POST', body: up2 })).text();
    const named = await get('addEntry', `ks=${KSU}&partner_id=309&uid=u1&kshow_id=-1&entry1_filename=1700000000002&entry1_realFilename=${long}&entry1_type=1&entry1_mediaType=1`);
    t.equal(X(named.text).result?.entries?.entry1_?.name, long.slice(0, 256), `a 304-character realFilename names the entry, cut to 256: ${named.text.slice(0, 200)}`);
  });

  await t.test('an unknown action: the reference\'s plain text', async (t) => {
    const r = await get('nosuchaction', '');
    t.equal(r.text, 'Error: Invalid service [nosuchaction]');
    const hostile = await get('%3Cscript%3E', '');
    t.equal(hostile.text, 'Error: Invalid service []', 'a name that is not plain is not repeated back');
    t.match(hostile.type, /^text\/plain/);
  });

  await t.test("the old API wiki's URL form, /api/{method}, is the same API", async (t) => {
    // the wiki page's "http://www.kaltura.com/api/methodname": with only the host changed, it must answer
    const viaApi = async (path: string, init?: RequestInit) => {
      const r = await fetch(`${s.url}/api/${path}`, init);
      t.equal(r.status, 200, `/api/${path.split('?')[0]}: HTTP 200`);
      return { type: r.headers.get('content-type'), text: await r.text() };
    };
    const started = JSON.parse((await viaApi('startsession', { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'partner_id=309&secret=sample-admin-secret-309&admin=2&format=1' })).text);
    t.match(await session(started.result.ks), { sessionType: 2, partnerId: 309 }, 'startsession: an admin KS');
    const e = X((await viaApi(`getentry?ks=${KSA}&entry_id=1_rcit0qgs`)).text).result.entry;
    t.match(e, { id: '1_rcit0qgs', partnerId: '309', status: '2' }, 'getentry: the entry, in the v2 envelope');
    t.ok((await viaApi('list_entries?ks=' + KSA)).text.includes('<entries>'), 'any spelling of an action, as at partnerservices2');
    // /api/ is api_v3's in today's Kaltura: only v2's own names are taken there
    for (const path of ['nosuchaction', 'service', 'service/session/action/start']) {
      const r = await fetch(`${s.url}/api/${path}`);
      t.equal(r.status, 404, `/api/${path}: not v2, a 404`);
      t.notMatch(await r.text(), /Invalid service/);
    }
  });

  await t.test('the other actions', async (t) => {
    const ui = X((await get('getuiconf', 'partner_id=309&ui_conf_id=48502')).text).result.ui_conf;
    t.match(ui, { id: '48502', objType: '2' });
    const conf = xml.parse(ui.confFile);
    t.ok(conf.kcw.limits !== undefined && conf.kcw.fileFilters !== undefined, 'confFile is the document, as text');
    t.match(X((await get('getuiconf', 'partner_id=309&ui_conf_id=4242')).text).error.num_0, { code: 'INVALID_UI_CONF_ID', desc: 'Unknown uiConf [4242]' });
    t.match(X((await get('getwidget', 'widget_id=_309')).text).result.widget, { id: '_309', partnerId: '309' });
    t.match(X((await get('getdefaultwidget', `ks=${KSA}`)).text).result.widget, { id: '_309' });
    t.match(X((await get('getdefaultwidget', `ks=${KSU}`)).text).error.num_0, { code: 'INVALID_KS' }, 'getdefaultwidget takes an admin KS');
    t.match(X((await get('executeplaylist', 'partner_id=309&playlist_id=1_nosuch00')).text).error.num_0, { code: 'INVALID_ENTRY_ID', desc: 'Unknown playlist [1_nosuch00]' });

    const updated = X((await get('updateentry', `ks=${KSA}&entry_id=1_audio001&entry_name=Renamed%20by%20v2&entry_tags=v2&entry_mediaDate=ignored`)).text).result.entry;
    t.match(updated, { id: '1_audio001', name: 'Renamed by v2', tags: 'v2' });
    t.equal(JSON.parse(await (await fetch(`${api}/service/baseEntry/action/get?format=1&ks=${KSA}&entryId=1_audio001`)).text()).name, 'Renamed by v2', 'seen through api_v3');
    t.match(X((await get('updateentry', `ks=${KSU}&entry_id=1_audio001&entry_name=x`)).text).error.num_0, { code: 'INTERNAL_SERVER_ERROR', desc: /privlieges/ }, 'a user KS may not change another\'s entry');

    const thumb = X((await get('updateentrythumbnail', `ks=${KSA}&entry_id=1_document&time_offset=1`)).text).error.num_0;
    t.match(thumb, { code: 'INVALID_ENTRY_TYPE' }, 'no frame from a document');

    t.match(X((await get('deleteentry', `ks=${KSU}&entry_id=1_iponly00`)).text).error.num_0, { code: 'INVALID_KS' }, 'deleteentry takes an admin KS');
    const deleted = X((await get('deleteentry', `ks=${KSA}&entry_id=1_iponly00`)).text).result.deleted_entry;
    t.match(deleted, { id: '1_iponly00', status: '3' });
    t.match(X((await get('getentry', `ks=${KSA}&entry_id=1_iponly00`)).text).error.num_0, { code: 'INVALID_ENTRY_ID' });
    t.equal((await fetch(`${s.url}/p/309/sp/0/playManifest/entryId/1_iponly00/format/url/a.mp4`, { redirect: 'manual' })).status, 404, 'playManifest: gone at once');
  });

  await t.test('multirequest: a later request reads an earlier answer; it stops at the first error', async (t) => {
    const r = X((await get('multirequest', 'request1_service=startwidgetsession&request1_widget_id=_309&request2_service=getentry&request2_ks={response1.result.ks}&request2_entry_id=1_rcit0qgs&request3_service=getentry&request3_ks={response1.result.ks}&request3_entry_id=1_nosuch00&request4_service=startwidgetsession&request4_widget_id=_309')).text);
    t.ok(r.result.response1.result.ks, 'response1');
    t.equal(r.result.response2.result.entry.id, '1_rcit0qgs', 'the widget KS of response1 reached request 2');
    t.match(r.result.response3.error.num_0, { code: 'INVALID_ENTRY_ID' });
    t.notOk('response4' in r.result, 'nothing runs after the first error');
    t.match(r.error, { num_0: { code: 'INVALID_ENTRY_ID' }, num_1: { errornos_request: '3' } });
  });

  await t.test('bad input: v2\'s errors at HTTP 200, nothing changed', async (t) => {
    const db = new Database(s.config.dbFile, { readonly: true });
    t.teardown(() => db.close());
    const snapshot = () => JSON.stringify(['entries', 'caption_assets', 'thumb_assets', 'flavor_assets', 'upload_tokens', 'access_control_profiles'].map((table) => db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all()));
    const before = snapshot();
    const otherKs = generateKs({ partnerId: 310, secret: 'sample-admin-secret-310', type: 2, expiry: 600, now: Math.floor(Date.now() / 1000) });
    const cases: [string, string, string][] = [
      ['getentry', `ks=${otherKs}&entry_id=1_rcit0qgs`, 'INVALID_ENTRY_ID'],
      ['getentry', `ks=${KSA}&partner_id=310&entry_id=1_rcit0qgs`, 'PARTNER_ACCESS_FORBIDDEN'],
      ['getentry', `ks=${KSA}`, 'MANDATORY_PARAMETER_MISSING'],
      ['updateentry', `ks=${otherKs}&entry_id=1_rcit0qgs&entry_name=x`, 'INVALID_ENTRY_ID'],
      ['updateentry', `ks=${KSA}&entry_id=1_nosuch00&entry_name=x`, 'INVALID_ENTRY_ID'],
      ['updateentry', `entry_id=1_rcit0qgs&entry_name=x&partner_id=309`, 'MISSING_KS'],
      ['deleteentry', `ks=${KSA}&entry_id=1_nosuch00`, 'INVALID_ENTRY_ID'],
      ['deleteentry', `ks=${otherKs}&entry_id=1_rcit0qgs`, 'INVALID_ENTRY_ID'],
      ['updateentrythumbnail', `ks=${KSU}&entry_id=1_rcit0qgs&time_offset=1`, 'INTERNAL_SERVER_ERROR'],
      ['updateentrythumbnail', `ks=${KSA}&entry_id=1_nosuch00`, 'INVALID_ENTRY_ID'],
      ['addentry', `ks=${KSU}&entry1_name=x&entry1_filename=never-uploaded`, 'INVALID_FILE_NAME'],
      ['addentry', `ks=${KSU}`, 'NO_ENTRIES_ADDED'],
      ['upload', `ks=${KSU}&filename=x`, 'MANDATORY_PARAMETER_MISSING'],
      ['listentries', `ks=${KSA}&filter__order_by=%2Bviews`, 'INVALID_FILTER'],
      ['startsession', 'partner_id=999&secret=x', 'START_SESSION_ERROR'],
      ['startsession', 'secret=x', 'UNKNOWN_PARTNER_ID'],
      ['getwidget', 'widget_id=nope', 'INVALID_WIDGET_ID'],
      ['getuiconf', 'partner_id=310&ui_conf_id=48501', 'INVALID_UI_CONF_ID'],
    ];
    for (const [action, query, code] of cases) {
      for (const format of ['2', '1', '3']) {
        const r = await get(action, `${query}&format=${format}`);
        const error = format === '2' ? X(r.text).error.num_0 : format === '1' ? JSON.parse(r.text).error[0] : (unserialize(r.text) as any).error[0];
        t.equal(error?.code, code, `${action} ${query.replace(/ks=[^&]+/, 'ks=…')} format ${format}: ${code}`);
        t.type(error?.desc, 'string');
      }
    }
    t.equal(snapshot(), before, 'the catalog is exactly as it was');
  });

  t.test('gzipped when the client accepts it, as the old API wiki page says; a trailing slash is the same URL', async (t) => {
    const url = `${P}/getentry?ks=${KSA}&entry_id=1_rcit0qgs&format=1`;
    const plain = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
    const plainBody = Buffer.from(await plain.arrayBuffer());
    t.equal(plain.headers.get('content-encoding'), null, 'not asked: not gzipped');
    t.equal(plain.headers.get('vary'), 'Accept-Encoding', 'Vary either way');
    // node's fetch asks for gzip and undoes it; the raw bytes are read through node:http
    const zipped = await new Promise<{ headers: import('node:http').IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
      httpGet(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) })).on('error', reject);
      }).on('error', reject);
    });
    t.equal(zipped.headers['content-encoding'], 'gzip', 'gzip asked: gzipped');
    const entry = (b: Buffer) => JSON.parse(b.toString()).result.entry;
    t.same(entry(gunzipSync(zipped.body)), entry(plainBody), 'the same answer');
    for (const path of [`${P}/getentry/`, `${s.url}/api/getentry/`]) {
      const r = await fetch(`${path}?ks=${KSA}&entry_id=1_rcit0qgs&format=1`);
      t.equal(r.status, 200, `${path.slice(s.url.length)}: 200`);
      t.same(entry(Buffer.from(await r.arrayBuffer())), entry(plainBody), `${path.slice(s.url.length)}: the entry`);
    }
  });
});
