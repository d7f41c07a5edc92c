// Hostile input on the library-management actions of api_v3 and on API v2, beyond the cases of
// test/e2e/api-write-kaltura-client.test.ts: URL resources that lead to files, to the cloud
// metadata address or round in circles; numbers too large to read back; uploads that are no media;
// ids that are paths, unicode or another partner's; characters XML cannot carry; and v2 answers
// that must never be kept for a caller without the session. Each refusal is the reference's error
// object at HTTP 200, and the catalog's tables are compared before and after.
import t from 'tap';
import { createServer, type Server } from 'node:http';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import Database from 'better-sqlite3';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import sharp from 'sharp';
import { startServer } from '../helpers/server.js';
import { requireCommands } from '../helpers/system.js';
import { repoPath } from '../helpers/repo.js';

const ENTRY = '1_rcit0qgs';
const FIXTURES = repoPath('fixtures/media/');
const SRT = '1\n00:00:01,000 --> 00:00:03,000\nFrom a URL\n';
const xml = new XMLParser({ parseTagValue: false });

/** A web server of the test's own: what URL resources point at. */
async function origin(t: { teardown(fn: () => unknown): void }): Promise<{ url: string; hits: string[] }> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => {
    hits.push(req.url ?? '');
    const to = (location: string) => res.writeHead(302, { location }).end();
    switch (req.url) {
      case '/ok.srt': return res.end(SRT);
      case '/to-ok': return to('/ok.srt');
      case '/to-file': return to('file:///etc/passwd');
      case '/to-metadata': return to('http://169.254.169.254/latest/meta-data/');
      case '/to-mapped': return to('http://[::ffff:169.254.169.254]/latest/meta-data/');
      case '/loop': return to('/loop');
      case '/huge': {
        // no Content-Length: the bound applies while reading
        res.writeHead(200, { 'content-type': 'text/plain' });
        const chunk = Buffer.alloc(1024 * 1024, 'x');
        let n = 0;
        const more = () => {
          while (n < 12 && !res.destroyed) {
            n++;
            if (!res.write(chunk)) return void res.once('drain', more);
          }
          res.end();
        };
        return more();
      }
      case '/declared-huge':
        res.writeHead(200, { 'content-length': String(50 * 1024 * 1024) });
        return res.write('1\n');
      default: return res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => { server.closeAllConnections(); server.close(); });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, hits };
}

t.test('hostile input on the write actions and API v2', async (t) => {
  const s = await startServer(t);
  const api = `${s.url}/api_v3`;
  const P = `${s.url}/index.php/partnerservices2`;
  const web = await origin(t);
  const start = async (secret: string, type: number, pid = 309, user = '') => JSON.parse(await (await fetch(`${api}/service/session/action/start?format=1&secret=${secret}&partnerId=${pid}&type=${type}&userId=${user}`)).text()) as string;
  const admin = await start('sample-admin-secret-309', 2);
  const user = await start('sample-user-secret-309', 0, 309, 'u1');
  const other = await start('sample-admin-secret-310', 2, 310);
  const post = async (path: string, body: Record<string, unknown>, ks: string | null = admin) => {
    const res = await fetch(`${api}/service/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ...(ks ? { ks } : {}), format: 1, ...body }) });
    t.equal(res.status, 200, `${path}: HTTP 200`);
    return JSON.parse(await res.text());
  };
  const refused = async (what: string, path: string, body: Record<string, unknown>, code: string, ks: string | null = admin) => {
    const r = await post(path, body, ks);
    t.match(r, { objectType: 'KalturaAPIException', code }, `${what}: ${code}`);
    t.notMatch(r.message ?? '', /at \w+ \(|node:internal|\/src\//, 'no stack or path in the message');
    return r;
  };
  const v2 = async (action: string, query: string, init?: RequestInit) => {
    const res = await fetch(`${P}/${action}?${query}`, init);
    t.equal(res.status, 200, `v2 ${action}: HTTP 200`);
    return JSON.parse(await res.text());
  };

  // assets to be refused things on, made before the snapshot
  const cap = await post('caption_captionasset/action/add', { entryId: ENTRY, captionAsset: { language: 'English' } });
  await post('caption_captionasset/action/setContent', { id: cap.id, contentResource: { objectType: 'KalturaStringResource', content: SRT } });
  const thumb = await post('thumbasset/action/add', { entryId: ENTRY, thumbAsset: {} });
  t.ok(cap.id && thumb.id);

  const db = new Database(s.config.dbFile, { readonly: true });
  t.teardown(() => db.close());
  const tables = ['entries', 'access_control_profiles', 'caption_assets', 'thumb_assets', 'flavor_assets', 'ingest_jobs'];
  const snapshot = () => JSON.stringify(tables.map((table) => db.prepare(`SELECT * FROM ${table} ORDER BY rowid`).all()));
  let before = snapshot();

  await t.test('URL resources reach only http(s) addresses outside link-local, on every redirect hop', async (t) => {
    const setContent = (url: string) => ({ id: cap.id, contentResource: { objectType: 'KalturaUrlResource', url } });
    const port = new URL(web.url).port;
    const bad: [string, string][] = [
      ['a file: URL', 'file:///etc/passwd'],
      ['a data: URL', `data:text/plain,${encodeURIComponent(SRT)}`],
      ['an ftp: URL', 'ftp://127.0.0.1/x.srt'],
      ['the cloud metadata address', 'http://169.254.169.254/latest/meta-data/'],
      ['the metadata address as IPv4-mapped IPv6', 'http://[::ffff:169.254.169.254]/latest/meta-data/'],
      ['the AWS IPv6 metadata address', 'http://[fd00:ec2::254]/latest/meta-data/'],
      ['an IPv6 link-local address', 'http://[fe80::1]/x.srt'],
      ['0.0.0.0 (this host, by another name)', `http://0.0.0.0:${port}/ok.srt`],
      ['the metadata address in decimal', 'http://2852039166/latest/meta-data/'],
      ['a redirect to a file', `${web.url}/to-file`],
      ['a redirect to the metadata address', `${web.url}/to-metadata`],
      ['a redirect to the IPv4-mapped metadata address', `${web.url}/to-mapped`],
      ['a redirect loop', `${web.url}/loop`],
      ['an endless body', `${web.url}/huge`],
      ['a body declared too large', `${web.url}/declared-huge`],
      ['a path outside the server', `${web.url}/../../../../etc/passwd`],
      ['not a URL', 'not a url at all'],
    ];
    for (const [what, url] of bad) {
      const started = Date.now();
      const r = await refused(what, 'caption_captionasset/action/setContent', setContent(url), 'CAPTION_ASSET_DOWNLOAD_FAILED');
      t.ok(Date.now() - started < 10_000, `${what}: answered at once, not after a timeout`);
      t.notMatch(JSON.stringify(r), /root:x:0/, 'no file content in the answer');
    }
    t.notOk(web.hits.includes('/ok.srt'), '0.0.0.0 never reached the web server');
    await refused('a thumbnail from a file: URL', 'thumbasset/action/setContent', { id: thumb.id, contentResource: { objectType: 'KalturaUrlResource', url: 'file:///etc/hostname' } }, 'THUMB_ASSET_DOWNLOAD_FAILED');
    await refused('a thumbnail through a redirect to the metadata address', 'thumbasset/action/setContent', { id: thumb.id, contentResource: { objectType: 'KalturaUrlResource', url: `${web.url}/to-metadata` } }, 'THUMB_ASSET_DOWNLOAD_FAILED');
    await refused('a URL with a user KS', 'caption_captionasset/action/setContent', setContent(`${web.url}/ok.srt`), 'INVALID_KS', user);
    t.equal(snapshot(), before, 'nothing changed');

    // what is allowed: an http URL on this network, through a redirect
    const set = await post('caption_captionasset/action/setContent', setContent(`${web.url}/to-ok`));
    t.match(set, { objectType: 'KalturaCaptionAsset', status: 2, format: '1' }, 'SRT from a URL, through a redirect');
    t.equal(await (await fetch(await post('caption_captionasset/action/getUrl', { id: cap.id }))).text(), SRT);
    before = snapshot();
  });

  await t.test('numbers that would not read back are refused', async (t) => {
    const upd = (baseEntry: Record<string, unknown>) => ({ entryId: ENTRY, baseEntry });
    await refused('startDate 1e300', 'baseentry/action/update', upd({ startDate: 1e300 }), 'INVALID_ENUM_VALUE');
    await refused('endDate past the year 9999', 'baseentry/action/update', upd({ endDate: 253402300800 }), 'INVALID_ENUM_VALUE');
    await refused('endDate of 400 digits', 'baseentry/action/update', upd({ endDate: '9'.repeat(400) }), 'INVALID_ENUM_VALUE');
    await refused('accessControlId 1e300', 'baseentry/action/update', upd({ accessControlId: 1e300 }), 'ACCESS_CONTROL_ID_NOT_FOUND');
    await refused('timeOffset 1e300', 'media/action/updateThumbnail', { entryId: ENTRY, timeOffset: 1e300 }, 'INVALID_ENUM_VALUE');
    await refused('a profile id 2^60', 'accesscontrolprofile/action/get', { id: 2 ** 60 }, 'INVALID_ENUM_VALUE');
    await refused('a preview of 1e300 seconds', 'accesscontrolprofile/action/add', { accessControlProfile: { name: 'x', rules: [{ objectType: 'KalturaRule', actions: [{ objectType: 'KalturaAccessControlPreviewAction', limit: 1e300 }] }] } }, 'INVALID_ENUM_VALUE');
    const r = await refused('a page size 1e300', 'thumbasset/action/list', { filter: { entryIdEqual: ENTRY }, pager: { pageSize: 1e300 } }, 'INVALID_ENUM_VALUE');
    t.ok(String(r.args?.ENUM_VAL ?? '').length <= 64, 'the value is not repeated at length');
    t.equal(snapshot(), before, 'nothing changed');
  });

  await t.test('ids that are paths, unicode, or another partner\'s', async (t) => {
    const ids = ['../../../../etc/passwd', '..%2F..%2Fetc', '\u2603\u{1F4A9}', 'a\u0000b', ' '.repeat(3), 'x'.repeat(5000)];
    for (const id of ids) {
      const tooLong = id.length > 64 ? 'PROPERTY_VALIDATION_MAX_LENGTH' : undefined;
      await refused(`caption get ${JSON.stringify(id.slice(0, 20))}`, 'caption_captionasset/action/get', { captionAssetId: id }, tooLong ?? 'CAPTION_ASSET_ID_NOT_FOUND');
      await refused(`thumb serve ${JSON.stringify(id.slice(0, 20))}`, 'thumbasset/action/serve', { thumbAssetId: id }, tooLong ?? 'THUMB_ASSET_ID_NOT_FOUND');
      await refused(`update ${JSON.stringify(id.slice(0, 20))}`, 'baseentry/action/update', { entryId: id, baseEntry: { name: 'x' } }, tooLong ?? 'ENTRY_ID_NOT_FOUND');
      const g = await v2('getentry', `ks=${admin}&entry_id=${encodeURIComponent(id)}&format=1`);
      t.equal(g.error?.[0]?.code, 'INVALID_ENTRY_ID', `v2 getentry ${JSON.stringify(id.slice(0, 20))}`);
      t.ok(g.error[0].desc.length < 100, 'the id is not repeated at length');
    }
    // another partner's admin reaches none of partner 309's assets, profiles or flavors
    await refused('another partner: caption get', 'caption_captionasset/action/get', { captionAssetId: cap.id }, 'CAPTION_ASSET_ID_NOT_FOUND', other);
    await refused('another partner: caption getUrl', 'caption_captionasset/action/getUrl', { id: cap.id }, 'CAPTION_ASSET_ID_NOT_FOUND', other);
    await refused('another partner: caption setContent', 'caption_captionasset/action/setContent', { id: cap.id, contentResource: { objectType: 'KalturaStringResource', content: SRT } }, 'CAPTION_ASSET_ID_NOT_FOUND', other);
    await refused('another partner: caption update', 'caption_captionasset/action/update', { id: cap.id, captionAsset: { label: 'x' } }, 'CAPTION_ASSET_ID_NOT_FOUND', other);
    await refused('another partner: caption setAsDefault', 'caption_captionasset/action/setAsDefault', { captionAssetId: cap.id }, 'CAPTION_ASSET_ID_NOT_FOUND', other);
    await refused('another partner: thumb get', 'thumbasset/action/get', { thumbAssetId: thumb.id }, 'THUMB_ASSET_ID_NOT_FOUND', other);
    await refused('another partner: thumb getUrl', 'thumbasset/action/getUrl', { id: thumb.id }, 'THUMB_ASSET_ID_NOT_FOUND', other);
    await refused('another partner: thumb update', 'thumbasset/action/update', { id: thumb.id, thumbAsset: { tags: 'x' } }, 'THUMB_ASSET_ID_NOT_FOUND', other);
    await refused('another partner: thumb setContent', 'thumbasset/action/setContent', { id: thumb.id, contentResource: { objectType: 'KalturaStringResource', content: 'x' } }, 'THUMB_ASSET_ID_NOT_FOUND', other);
    await refused('another partner: thumb delete', 'thumbasset/action/delete', { thumbAssetId: thumb.id }, 'THUMB_ASSET_ID_NOT_FOUND', other);
    await refused('another partner: profile update', 'accesscontrolprofile/action/update', { id: 1, accessControlProfile: { name: 'x' } }, 'ACCESS_CONTROL_ID_NOT_FOUND', other);
    await refused('another partner: flavor reconvert', 'flavorasset/action/reconvert', { id: '1_f1rcit00' }, 'FLAVOR_ASSET_ID_NOT_FOUND', other);
    t.same(await post('baseentry/action/getByIds', { entryIds: ENTRY }, other), [], 'another partner: getByIds leaves the entry out');
    const v2other = await v2('updateentrythumbnail', `ks=${other}&entry_id=${ENTRY}&time_offset=1&format=1`);
    t.equal(v2other.error?.[0]?.code, 'INVALID_ENTRY_ID', 'v2 updateentrythumbnail: another partner\'s entry is unknown');
    t.equal(snapshot(), before, 'nothing changed');
  });

  await t.test('characters XML cannot carry never break an XML answer', async (t) => {
    const name = 'ctl\u0001\u001b\ufffe end \u{1F4A9} caf\u00e9 <b>&';
    const r = await post('baseentry/action/update', { entryId: '1_audio001', baseEntry: { name } });
    t.equal(r.name, name, 'JSON carries the name as sent');
    for (const [what, url] of [
      ['api_v3 XML', `${api}/service/baseentry/action/get?ks=${admin}&entryId=1_audio001`],
      ['api_v3 XML list', `${api}/service/baseentry/action/list?ks=${admin}&filter:idEqual=1_audio001`],
      ['api_v3 XML error', `${api}/service/baseentry/action/get?ks=${admin}&entryId=x%01y`],
      ['v2 XML', `${P}/getentry?ks=${admin}&entry_id=1_audio001`],
    ]) {
      const body = await (await fetch(url)).text();
      t.equal(XMLValidator.validate(body), true, `${what}: well-formed`);
      t.notMatch(body, /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/, `${what}: no character XML 1.0 forbids`);
      if (what === 'api_v3 XML') t.equal(xml.parse(body).xml.result.name, 'ctl end \u{1F4A9} caf\u00e9 <b>&', 'the rest of the name, as sent');
    }
    before = snapshot(); // the rename above is a change asked for
  });

  await t.test('an upload that is no media: refused, the entry in ERROR with the reason and no file', async (t) => {
    requireCommands(t, ['ffprobe'], 'ffmpeg');
    // (the rule of test/e2e/upload-kaltura-client.test.ts: the refusal names the entry, which stays
    // in ERROR_IMPORTING to say why; nothing of the upload is kept)
    const png = readFileSync(`${FIXTURES}image-320x240.png`);
    const entryIds = () => (db.prepare('SELECT id FROM entries ORDER BY rowid').all() as { id: string }[]).map((e) => e.id);
    const inError = (id: string) => db.prepare('SELECT status FROM entries WHERE id = ?').get(id) as { status: number } | undefined;
    const noFiles = (id: string) => t.notOk(existsSync(join(s.config.mediaRoot, '309', id)) && readdirSync(join(s.config.mediaRoot, '309', id)).length > 0, `${id}: no file kept`);
    const token = await post('uploadtoken/action/add', { uploadToken: { fileName: 'picture.mp4' } });
    const form = new FormData();
    form.set('ks', admin);
    form.set('format', '1');
    form.set('uploadTokenId', token.id);
    form.set('fileData', new Blob([png]), 'picture.mp4');
    t.match(JSON.parse(await (await fetch(`${api}/service/uploadtoken/action/upload`, { method: 'POST', body: form })).text()), { status: 2 });
    const v3 = await refused('api_v3 addFromUploadedFile', 'media/action/addFromUploadedFile', { mediaEntry: { name: 'not a video' }, uploadTokenId: token.id }, 'INGEST_FAILED');
    t.match(inError(v3.args.ENTRY_ID), { status: -2 }, 'api_v3: the entry named in the error is in ERROR_IMPORTING');
    noFiles(v3.args.ENTRY_ID);

    const upload = async (alias: string) => {
      const f = new FormData();
      f.set('Filedata', new Blob([png]), 'picture.png');
      const r = await v2('upload', `ks=${user}&filename=${alias}&format=1`, { method: 'POST', body: f });
      t.ok(r.result?.result_ok?.token, `v2 upload ${alias}`);
    };
    await upload('pic-1');
    const entries = entryIds();
    const asImage = await v2('addentry', `ks=${user}&entry1_name=pic&entry1_filename=pic-1&entry1_mediaType=2&kshow_id=-1&format=1`);
    t.equal(asImage.error?.[0]?.code, 'INVALID_ENUM_VALUE', 'v2 addentry of an image entry: refused');
    t.same(entryIds(), entries, 'before anything is made');
    const asVideo = await v2('addentry', `ks=${user}&entry1_name=pic&entry1_filename=pic-1&entry1_mediaType=1&kshow_id=-1&format=1`);
    t.equal(asVideo.error?.[0]?.code, 'INGEST_FAILED', 'v2 addentry of a picture as a video: refused');
    const made = entryIds().filter((id) => !entries.includes(id));
    t.equal(made.length, 1, 'one entry, in ERROR');
    t.match(inError(made[0]), { status: -2 });
    t.match(asVideo.error[0].desc, made[0], 'the error names it');
    noFiles(made[0]);
    before = snapshot();
  });

  await t.test('bodies too large, binary or malformed: an error at HTTP 200', async (t) => {
    const huge = Buffer.alloc(65 * 1024 * 1024, 0x41);
    const v3 = await fetch(`${api}/service/baseentry/action/update?format=1&ks=${admin}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: huge });
    t.equal(v3.status, 200, 'api_v3: HTTP 200');
    t.match(JSON.parse(await v3.text()), { objectType: 'KalturaAPIException', code: 'INTERNAL_SERVERL_ERROR', message: /: the request body is over 64 MB; upload a larger file in chunks \(uploadToken\.upload with resume and resumeAt\)$/ }, 'api_v3 says why, and what works');
    const big = await fetch(`${P}/updateentry?ks=${admin}&entry_id=${ENTRY}&entry_name=x`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: huge });
    t.equal(big.status, 200, 'v2: HTTP 200');
    t.match(await big.text(), /<code>INTERNAL_SERVER_ERROR<\/code><desc>Internal server error the request body is over \d+ bytes<\/desc>/);
    // in the format the query names, as every other v2 answer (the legacy PHP client reads only 3)
    const bigJson = await fetch(`${P}/updateentry?ks=${admin}&entry_id=${ENTRY}&format=1`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: huge });
    t.match(JSON.parse(await bigJson.text()), { result: { serverTime: Number }, error: [{ code: 'INTERNAL_SERVER_ERROR', desc: /the request body is over \d+ bytes/ }] }, 'v2, format=1: JSON');
    const bigPhp = await fetch(`${P}/updateentry?ks=${admin}&entry_id=${ENTRY}&format=3`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: huge });
    t.match(await bigPhp.text(), /^a:\d+:\{s:6:"result";.*s:4:"code";s:21:"INTERNAL_SERVER_ERROR"/, 'v2, format=3: PHP serialize');
    const png = readFileSync(`${FIXTURES}image-320x240.png`);
    for (const ct of ['application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/json']) {
      const r = await fetch(`${P}/updateentry?ks=${admin}&entry_id=${ENTRY}&format=1`, { method: 'POST', headers: { 'content-type': ct }, body: png });
      t.equal(r.status, 200, `v2, a picture sent as ${ct}: HTTP 200`);
      t.ok('result' in JSON.parse(await r.text()), 'an answer in the envelope (the bytes name no field to change)');
      const r3 = await fetch(`${api}/service/baseentry/action/update?format=1&ks=${admin}&entryId=${ENTRY}`, { method: 'POST', headers: { 'content-type': ct }, body: png });
      t.equal(r3.status, 200, `api_v3, a picture sent as ${ct}: HTTP 200`);
      t.match(JSON.parse(await r3.text()), { objectType: 'KalturaAPIException' });
    }
    // a real picture too large to decode: said to be so
    const bomb = await sharp({ create: { width: 12000, height: 12000, channels: 3, background: '#000' } }).png({ compressionLevel: 9 }).toBuffer();
    const form = new FormData();
    form.set('ks', admin);
    form.set('format', '1');
    form.set('entryId', ENTRY);
    form.set('fileData', new Blob([bomb]), 'huge.png');
    const r = JSON.parse(await (await fetch(`${api}/service/media/action/updateThumbnailJpeg`, { method: 'POST', body: form })).text());
    t.match(r, { code: 'FILE_TYPE_NOT_SUPPORTED', message: /over 100 megapixels/ }, 'a 144-megapixel PNG');
    t.equal(snapshot(), before, 'nothing changed');
  });

  await t.test('API v2 keeps no answer: what an admin was told is never replayed without the session', async (t) => {
    const q = `partner_id=309&entry_id=${ENTRY}&format=1`;
    t.equal((await v2('getentry', `ks=${admin}&${q}`)).result.entry.id, ENTRY, 'the admin gets the entry');
    t.same((await v2('getentry', q)).error, [{ code: 'INVALID_ENTRY_ID', desc: `Unknown entry [${ENTRY}]` }], 'the same request without the KS does not');
    t.ok((await v2('listentries', `ks=${admin}&partner_id=309&format=1`)).result.count > 0);
    t.equal((await v2('listentries', 'partner_id=309&format=1')).error[0].code, 'MISSING_KS', 'listentries without the KS');
    const bad = await v2('getentry', `ks=${admin.slice(0, -4)}AAAA&${q}`);
    t.equal(bad.error?.[0]?.code, 'INTERNAL_SERVER_ERROR', 'a forged KS gets nothing either');
  });
});
