// serveFlavor, raw and download over HTTP: ranges, conditional requests, attachment names,
// entry types, access control, and paths that try to leave the data directory.
import t from 'tap';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { generateKs } from '../../src/access/ks.js';
import { sqliteDb } from '../helpers/sqlite.js';

const s = await startServer(t);
const get = (path: string, init: RequestInit = {}) => fetch(s.url + path, { redirect: 'manual', ...init });
const errorCode = (r: Response) => (r.headers.get('x-kaltura') ?? '').match(/error-(\d+)/)?.[1];
const SF = '/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId';
const file720 = readFileSync('fixtures/media/h264-720p.mp4');

t.test('serveFlavor: whole file, HEAD, ranges, 416, conditional requests, cache headers', async (t) => {
  const r = await get(`${SF}/1_f3rcit00/forceproxy/true/name/a.mp4`);
  t.equal(r.status, 200);
  t.same(Buffer.from(await r.arrayBuffer()), file720);
  t.equal(r.headers.get('accept-ranges'), 'bytes');
  t.equal(r.headers.get('cache-control'), 'public, max-age=8640000, max-stale=0');
  t.equal(r.headers.get('last-modified'), 'Sun, 19 Nov 2000 08:52:00 GMT');
  t.equal(r.headers.get('access-control-allow-origin'), '*');
  const etag = r.headers.get('etag')!;

  const head = await get(`${SF}/1_f3rcit00/name/a.mp4`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(head.headers.get('content-length'), String(file720.length));
  t.equal((await head.arrayBuffer()).byteLength, 0);

  const suffix = await get(`${SF}/1_f3rcit00/name/a.mp4`, { headers: { Range: 'bytes=-10' } });
  t.equal(suffix.status, 206);
  t.same(Buffer.from(await suffix.arrayBuffer()), file720.subarray(file720.length - 10));
  const open = await get(`${SF}/1_f3rcit00/name/a.mp4`, { headers: { Range: `bytes=${file720.length - 5}-` } });
  t.equal(open.headers.get('content-range'), `bytes ${file720.length - 5}-${file720.length - 1}/${file720.length}`);
  await open.arrayBuffer();
  for (const bad of [`bytes=${file720.length}-`, 'bytes=0-1,5-6', 'bytes=9-3', 'lines=1-2']) {
    const x = await get(`${SF}/1_f3rcit00/name/a.mp4`, { headers: { Range: bad } });
    t.equal(x.status, 416, bad);
    t.equal(x.headers.get('content-range'), `bytes */${file720.length}`);
  }
  const headRange = await get(`${SF}/1_f3rcit00/name/a.mp4`, { method: 'HEAD', headers: { Range: 'bytes=0-99' } });
  t.equal(headRange.status, 206);
  t.equal(headRange.headers.get('content-length'), '100');

  t.equal((await get(`${SF}/1_f3rcit00/name/a.mp4`, { headers: { 'If-None-Match': etag } })).status, 304);
  const ifRange = await get(`${SF}/1_f3rcit00/name/a.mp4`, { headers: { Range: 'bytes=0-9', 'If-Range': '"stale"' } });
  t.equal(ifRange.status, 200, 'a stale If-Range gets the whole file');
  await ifRange.arrayBuffer();
});

t.test('serveFlavor: content types by extension and file names', async (t) => {
  const g3p = await get(`${SF}/1_f4rcit00/forceproxy/true/name/a.3gp`, { method: 'HEAD' });
  t.equal(g3p.headers.get('content-type'), 'video/3gpp');
  const named = await get(`${SF}/1_f1rcit00/fileName/my%20clip.mp4/name/a.mp4`, { method: 'HEAD' });
  t.equal(named.headers.get('content-disposition'), 'attachment; filename="my clip.mp4"');
  const evil = await get(`${SF}/1_f1rcit00/fileName/a%22%0d%0aX-Evil:1/name/a.mp4`, { method: 'HEAD' });
  t.notOk(evil.headers.get('x-evil'));
});

t.test('serveFlavor: wrong flavor, wrong entry, deleted entry, traversal', async (t) => {
  t.equal(errorCode(await get(`${SF}/1_nothing0/name/a.mp4`)), '6');
  t.equal(errorCode(await get('/p/309/sp/30900/serveFlavor/entryId/1_alt0audi/v/1/flavorId/1_f3rcit00/name/a.mp4')), '6', 'flavor of another entry');
  t.equal(errorCode(await get('/p/309/sp/30900/serveFlavor/entryId/1_deleted0/v/1/flavorId/1_f3rcit00/name/a.mp4')), '1');
  for (const p of ['/p/309/sp/30900/serveFlavor/entryId/..%2f..%2fetc/flavorId/passwd', '/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/flavorId/..%2F..%2Fcatalog.sqlite']) {
    const r = await get(p);
    t.ok(r.status >= 400 && r.status < 500, `${p} → ${r.status}`);
  }
});

t.test('serveFlavor: the partner in the path must be the entry\'s, as on the packager and flvclipper', async (t) => {
  // 1_secure01 belongs to partner 310
  const own = await get('/p/310/sp/31000/serveFlavor/entryId/1_secure01/v/1/flavorId/1_f1secur0/name/a.mp4', { method: 'HEAD' });
  t.equal(own.status, 200, 'through its own partner');
  for (const p of ['/p/309/sp/30900/serveFlavor/entryId/1_secure01/v/1/flavorId/1_f1secur0/name/a.mp4', '/p/309/serveFlavor/entryId/1_secure01/v/1/flavorId/1_f1secur0/name/a.mp4']) {
    for (const method of ['GET', 'HEAD']) {
      const r = await get(p, { method });
      t.equal(r.status, 404, `${method} ${p}`);
      t.equal(errorCode(r), '1', 'ENTRY_NOT_FOUND, as the packager answers');
      t.not(r.headers.get('content-type'), 'video/mp4', 'no media');
    }
  }
  const packager = await get('/hls/p/309/sp/30900/serveFlavor/entryId/1_secure01/v/1/flavorId/1_f1secur0/name/a.mp4/index.m3u8');
  t.equal(errorCode(packager), '1', 'the packager gives the same error');
});

t.test('serveFlavor: a catalog path pointing outside the media folder is refused', async (t) => {
  sqliteDb(s.app.catalog).prepare("UPDATE flavor_assets SET file_path = '../catalog.sqlite' WHERE id = '1_f4rcit00'").run();
  t.teardown(() => sqliteDb(s.app.catalog).prepare("UPDATE flavor_assets SET file_path = '309/1_rcit0qgs/mobile-144p.3gp' WHERE id = '1_f4rcit00'").run());
  const r = await get(`${SF}/1_f4rcit00/name/a.3gp`);
  t.equal(r.status, 404);
  t.equal(errorCode(r), '5');
});

t.test('raw: video redirects to a named URL then serves the original; image and document served directly', async (t) => {
  const r = await get('/p/309/sp/30900/raw/entry_id/1_rcit0qgs');
  t.equal(r.status, 302);
  const loc = r.headers.get('location')!;
  t.match(loc, /^\/p\/309\/sp\/30900\/raw\/entry_id\/1_rcit0qgs\/Sample-video\.mp4\?relocate=f\.mp4$/);
  const file = await get(loc);
  t.equal(file.status, 200);
  t.same(Buffer.from(await file.arrayBuffer()), readFileSync('fixtures/media/source-720p.mp4'), 'the original flavor');
  t.equal(file.headers.get('content-disposition'), 'attachment; filename="Sample video.mp4"');

  const img = await get('/p/309/sp/30900/raw/entry_id/1_image000');
  t.equal(img.status, 200);
  t.equal(img.headers.get('content-type'), 'image/png');
  t.same(Buffer.from(await img.arrayBuffer()), readFileSync('fixtures/media/image-320x240.png'));

  const doc = await get('/p/309/sp/30900/raw/entry_id/1_document/direct_serve/1');
  t.equal(doc.status, 200);
  t.equal(doc.headers.get('access-control-allow-origin'), '*');
  t.equal(doc.headers.get('content-type'), 'application/pdf');
  t.notOk(doc.headers.get('content-disposition'), 'direct_serve: inline');
  t.match(Buffer.from(await doc.arrayBuffer()).toString('latin1', 0, 8), /^%PDF-1\./);

  const byExt = await get('/p/309/raw/entry_id/1_rcit0qgs/type/download/format/3gp');
  t.equal(byExt.headers.get('content-type'), 'video/3gpp');
  await byExt.arrayBuffer();
  t.equal(errorCode(await get('/p/309/raw/entry_id/1_rcit0qgs/type/download/format/flv')), '6');
});

t.test('raw: a name with a dot in it still gets the file\'s extension, and keeps its dot', async (t) => {
  // 1_siteonly is named "Only from example.com": ".com" is not its extension (the file is an mp4)
  const referrer = Buffer.from('https://www.example.com/page').toString('base64');
  const proxied = await get(`/p/309/raw/entry_id/1_siteonly/referrer/${referrer}/forceproxy/true`, { method: 'HEAD' });
  t.equal(proxied.headers.get('content-disposition'), 'attachment; filename="Only from example.com.mp4"', 'forceproxy');
  const r = await get(`/p/309/raw/entry_id/1_siteonly/referrer/${referrer}`);
  const loc = r.headers.get('location')!;
  t.equal(loc, `/p/309/raw/entry_id/1_siteonly/referrer/${referrer}/Only-from-examplecom.mp4?relocate=f.mp4`, 'the safe name of the whole name');
  const relocated = await get(loc, { method: 'HEAD' });
  t.equal(relocated.headers.get('content-disposition'), 'attachment; filename="Only from example.com.mp4"', 'after the relocate redirect');
  const named = async (fileName: string) => (await get(`/p/309/raw/entry_id/1_rcit0qgs/file_name/${fileName}/forceproxy/true`, { method: 'HEAD' })).headers.get('content-disposition');
  t.equal(await named('talk.v2'), 'attachment; filename="talk.v2.mp4"', 'file_name with a dot');
  t.equal(await named('clip.mp4'), 'attachment; filename="clip.mp4"', 'file_name that has the extension already');
  t.equal(await named('clip.MP4'), 'attachment; filename="clip.MP4"', 'in any case');
  t.equal((await get('/p/309/raw/entry_id/1_image000', { method: 'HEAD' })).headers.get('content-disposition'), 'attachment; filename="Sample image.png"', 'an image as before');
});

t.test('a name outside ASCII is the attachment\'s UTF-8 name (RFC 6266 filename*), never a 500', async (t) => {
  // "Été ☃": é fits a Latin-1 header byte but would be sent as one, and ☃ does not fit at all
  // (Node refused the header and the download answered a 500); the ASCII name, for clients that
  // read only that one (curl -J), drops the accents
  const utf8 = "filename*=UTF-8''%C3%89t%C3%A9%20%E2%98%83.mp4";
  const fallback = 'filename="Ete _.mp4"';
  const expect = async (path: string, what: string) => {
    const r = await get(path, { method: 'HEAD' });
    t.equal(r.status, 200, what);
    t.equal(r.headers.get('content-disposition'), `attachment; ${fallback}; ${utf8}`, what);
  };
  await expect('/p/309/raw/entry_id/1_rcit0qgs/file_name/%C3%89t%C3%A9%20%E2%98%83/forceproxy/true', 'raw file_name');
  await expect('/p/309/sp/30900/download/entry_id/1_rcit0qgs/file_name/%C3%89t%C3%A9%20%E2%98%83/relocate/x', 'download file_name');
  await expect(`${SF}/1_f1rcit00/fileName/%C3%89t%C3%A9%20%E2%98%83.mp4/name/a.mp4`, 'serveFlavor fileName');
  // an entry named so: raw after its relocate redirect, and download's own name for it
  const db = sqliteDb(s.app.catalog);
  db.prepare("UPDATE entries SET name = 'Été ☃' WHERE id = '1_alt0audi'").run();
  t.teardown(() => db.prepare("UPDATE entries SET name = 'Video with alternate audio and captions' WHERE id = '1_alt0audi'").run());
  const raw = await get('/p/309/raw/entry_id/1_alt0audi/forceproxy/true', { method: 'HEAD' });
  t.equal(raw.status, 200, 'raw of an entry with such a name');
  t.equal(raw.headers.get('content-disposition'), `attachment; ${fallback}; ${utf8}`);
  const first = await get('/p/309/sp/30900/download/entry_id/1_alt0audi');
  t.equal(first.status, 302);
  const file = await get(first.headers.get('location')!, { method: 'HEAD' });
  t.equal(file.status, 200, 'download of an entry with such a name');
  t.match(file.headers.get('content-disposition'), /^attachment; filename="Ete _ \(.*\)\.mp4"; filename\*=UTF-8''%C3%89t%C3%A9%20%E2%98%83%20%28.*%29\.mp4$/);
  // plain ASCII names are sent as before, without filename*
  const plain = await get(`${SF}/1_f1rcit00/fileName/it's%20(1).mp4/name/a.mp4`, { method: 'HEAD' });
  t.equal(plain.headers.get('content-disposition'), 'attachment; filename="it\'s (1).mp4"');
});

t.test('a deleted entry is error 1 naming ENTRY_DELETED_MODERATED on every media route, as on playManifest; /thumbnail (and the storyboard) answer 9 as Kaltura does', async (t) => {
  for (const path of [
    '/p/309/sp/30900/raw/entry_id/1_deleted0', '/p/309/sp/30900/download/entry_id/1_deleted0',
    '/p/309/sp/30900/serveFlavor/entryId/1_deleted0/v/1/flavorId/1_f1del000/name/a.mp4',
    '/p/309/sp/30900/flvclipper/entry_id/1_deleted0',
  ]) {
    const r = await get(path);
    t.equal(r.status, 404, path);
    t.equal(errorCode(r), '1', path);
    t.match(r.headers.get('x-kaltura-app'), /ENTRY_DELETED_MODERATED/, path);
    t.match(await r.text(), /ENTRY_DELETED_MODERATED: the entry is deleted/, path);
  }
  // Kaltura's thumbnail action finds deleted entries and answers ENTRY_DELETED_MODERATED itself;
  // the storyboard (pictures too, under the same THUMBNAIL rules) answers as /thumbnail does
  for (const path of ['/p/309/sp/30900/thumbnail/entry_id/1_deleted0', '/p/309/sp/30900/storyboard/entry_id/1_deleted0/storyboard.vtt']) {
    const r = await get(path);
    t.equal(r.status, 404, path);
    t.equal(errorCode(r), '9', path);
    t.match(r.headers.get('x-kaltura-app'), /error 9 - requested entry is deleted or rejected/, path);
    t.match(await r.text(), /the entry is deleted/, path);
  }
  const missing = await get('/p/309/sp/30900/raw/entry_id/0_nosuch00');
  t.notMatch(await missing.text(), /DELETED/, 'an entry that never was is only not found');
});

t.test('raw and download honour access control in the DOWNLOAD context', async (t) => {
  t.equal(errorCode(await get('/p/309/sp/30900/raw/entry_id/1_kssecure')), '3');
  const admin = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 600, now: Math.floor(Date.now() / 1000), version: 2 });
  t.equal((await get(`/p/309/sp/30900/raw/entry_id/1_kssecure/ks/${admin}`)).status, 302);
  const dl = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 600, privileges: 'download:1_kssecure', now: Math.floor(Date.now() / 1000), version: 2 });
  t.equal((await get(`/p/309/sp/30900/download/entry_id/1_kssecure/ks/${dl}`)).status, 302);
  t.equal(errorCode(await get('/p/309/sp/30900/download/entry_id/1_iponly00')), '3');
});

t.test('download: relocate redirect, then the web flavor as an attachment; preview truncates', async (t) => {
  const r = await get('/p/309/sp/30900/download/entry_id/1_rcit0qgs');
  t.equal(r.status, 302);
  t.equal(r.headers.get('access-control-allow-origin'), '*');
  const loc = r.headers.get('location')!;
  t.equal(loc, '/p/309/sp/30900/download/entry_id/1_rcit0qgs/relocate/Sample_video_(Basic_Small_(H264)_240p).mp4');
  const f = await get(loc);
  t.equal(f.status, 200);
  t.equal(f.headers.get('content-disposition'), 'attachment; filename="Sample video (Basic/Small (H264) 240p).mp4"');
  t.same(Buffer.from(await f.arrayBuffer()), readFileSync('fixtures/media/h264-240p.mp4'));

  const chosen = await get('/p/309/sp/30900/download/entry_id/1_rcit0qgs/flavor/1_f3rcit00/file_name/clip.mp4/relocate/clip.mp4');
  t.equal(chosen.headers.get('content-disposition'), 'attachment; filename="clip.mp4"');
  t.equal(Number(chosen.headers.get('content-length')), file720.length);
  await chosen.arrayBuffer();
  t.equal(errorCode(await get('/p/309/sp/30900/download/entry_id/1_rcit0qgs/flavor/1_f1alt000/relocate/x')), '6');

  const preview = await get('/p/309/sp/30900/download/entry_id/1_preview1/relocate/x.mp4');
  t.equal(preview.status, 200);
  const size = readFileSync('fixtures/media/h264-240p.mp4').length;
  t.equal(Number(preview.headers.get('content-length')), Math.floor(size * 5 / 12 * 1.2), 'size × preview / duration × 1.2');
  await preview.arrayBuffer();
  // raw too (Kaltura's raw action reads no preview: the whole original went to anyone there)
  const source = readFileSync('fixtures/media/source-720p.mp4').length;
  const rawPreview = await get('/p/309/sp/30900/raw/entry_id/1_preview1/forceproxy/true');
  t.equal(rawPreview.status, 200);
  t.equal(Number(rawPreview.headers.get('content-length')), Math.floor(source * 5 / 12 * 1.2), 'raw: the original cut to the preview');
  t.equal((await rawPreview.arrayBuffer()).byteLength, Math.floor(source * 5 / 12 * 1.2), 'raw: that many bytes');
  const admin = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 600, now: Math.floor(Date.now() / 1000), version: 2 });
  const rawWhole = await get(`/p/309/sp/30900/raw/entry_id/1_preview1/forceproxy/true/ks/${admin}`);
  t.equal(Number(rawWhole.headers.get('content-length')), source, 'raw with an admin KS: the whole original');
  await rawWhole.arrayBuffer();
});

t.test('a file missing from disk gives error 5, not a crash', async (t) => {
  const victim = join(s.config.mediaRoot, '309/1_rcit0qgs/h264-360p.mp4');
  const saved = readFileSync(victim);
  const { rmSync } = await import('node:fs');
  rmSync(victim);
  t.teardown(() => writeFileSync(victim, saved));
  const r = await get(`${SF}/1_f2rcit00/name/a.mp4`);
  t.equal(r.status, 404);
  t.equal(errorCode(r), '5');
});

t.test('format/url with seekFrom/clipTo: a real, smaller MP4 of just that span, with ranges', async (t) => {
  const { requireCommands } = await import('../helpers/system.js');
  const { ffprobeJson } = await import('../helpers/media-tools.js');
  requireCommands(t, ['ffprobe'], 'ffmpeg');
  const r = await get('/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/url/flavorParamId/301971/seekFrom/4000/clipTo/8000/a.mp4');
  t.equal(r.status, 302);
  const loc = r.headers.get('location')!;
  t.match(loc, /\/entryId\/1_rcit0qgs\/clipTo\/8000\/clipFrom\/4000\/v\/1\/flavorId\/1_f3rcit00\/name\/a\.mp4$/);
  const head = await fetch(loc, { method: 'HEAD' });
  const size = Number(head.headers.get('content-length'));
  t.ok(size > 0 && size < file720.length / 2, `clipped size ${size} is well under the whole file's ${file720.length}`);
  const part = await fetch(loc, { headers: { Range: 'bytes=0-99' } });
  t.equal(part.status, 206);
  t.equal(part.headers.get('content-range'), `bytes 0-99/${size}`);
  await part.arrayBuffer();
  const probe = await ffprobeJson(loc);
  t.equal(probe.code, 0, probe.stderr);
  t.ok(Math.abs(Number(probe.json.format.duration) - 4) < 0.1, `duration ${probe.json.format.duration} ≈ 4 s (the key frame at 4 s to 8 s)`);
  const bad = await fetch(loc.replace('clipTo/8000', 'clipTo/1000'));
  t.equal(bad.status, 400, 'clipTo before clipFrom');
  t.equal(errorCode(bad), '25');
});

t.test('raw and download: the partner in the path must be the entry\'s, as on serveFlavor', async (t) => {
  t.equal((await get('/p/309/sp/30900/raw/entry_id/1_document', { method: 'HEAD' })).status, 200, 'raw through its own partner');
  for (const p of ['/p/999/sp/99900/raw/entry_id/1_document', '/p/310/raw/entry_id/1_document', '/p/999/sp/99900/download/entry_id/1_audio001', '/p/abc/sp/0/raw/entry_id/1_document']) {
    for (const method of ['GET', 'HEAD']) {
      const r = await get(p, { method });
      t.equal(r.status, 404, `${method} ${p}`);
      t.equal(errorCode(r), '1', 'ENTRY_NOT_FOUND');
    }
  }
  t.equal((await get('/index.php/extwidget/raw/entry_id/1_document', { method: 'HEAD' })).status, 200, 'the /extwidget form names no partner');
});

t.test('flvclipper: an unsigned URL is judged by the PLAY rules with its own KS and referrer', async (t) => {
  const { requireCommands } = await import('../helpers/system.js');
  const { ffprobeJson } = await import('../helpers/media-tools.js');
  requireCommands(t, ['ffprobe'], 'ffmpeg');
  const now = Math.floor(Date.now() / 1000);
  const user = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 600, privileges: 'sview:*', now, version: 2 });
  const admin = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 600, now, version: 2 });
  const clip = '/p/309/sp/30900/flvclipper/entry_id/1_kssecure/clip_from/2000/clip_to/6000';
  const anon = await get(clip);
  t.equal(anon.status, 403, 'no KS: the entry\'s session rule refuses');
  t.equal(errorCode(anon), '3');
  t.not(anon.headers.get('content-type'), 'video/mp4');
  const bad = await get(`${clip}/ks/not-a-ks`);
  t.equal(errorCode(bad), '7', 'an unreadable KS');
  for (const [what, path, init] of [
    ['a user KS with sview:* in the path', `${clip}/ks/${user}`, {}],
    ['an admin KS as ?ks=', `${clip}?ks=${admin}`, {}],
    ['a user KS in X-Kaltura-Ks', clip, { headers: { 'X-Kaltura-Ks': user } }],
  ] as const) {
    const r = await get(path, init);
    t.equal(r.status, 200, what);
    t.equal(r.headers.get('content-type'), 'video/mp4', what);
    t.equal(r.headers.get('cache-control'), 'private, no-store', `${what}: judged by the session, so no shared cache keeps it`);
    await r.arrayBuffer();
  }
  t.match((await get('/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/clip_to/2000', { method: 'HEAD' })).headers.get('cache-control'), /^public/, 'an entry without rules stays public');
  const cenc = '/p/309/sp/30900/flvclipper/entry_id/1_cenc0001/clip_to/2000';
  t.equal((await get(cenc, { headers: { 'X-Kaltura-Ks': admin } })).status, 200, 'an encrypted entry\'s clear clip for an admin KS in X-Kaltura-Ks');
  t.equal(errorCode(await get(cenc, { headers: { 'X-Kaltura-Ks': user } })), '3', '... and not for a user KS');
  const dl = await get(`/p/309/sp/30900/raw/entry_id/1_kssecure/ks/${admin}/relocate/a.mp4`, { method: 'HEAD' });
  t.equal(dl.status, 200);
  t.equal(dl.headers.get('cache-control'), 'private, no-store', 'raw of an entry with rules: private');
  t.match((await get('/p/309/sp/30900/raw/entry_id/1_document', { method: 'HEAD' })).headers.get('cache-control'), /^public/, 'raw of an entry without rules: public');
  // entries without rules held back by moderation or their schedule: what an admin gets is private
  for (const held of ['1_moderat0', '1_sched000']) {
    for (const [what, init] of [['KS in X-Kaltura-Ks', { method: 'HEAD', headers: { 'X-Kaltura-Ks': admin } }], ['KS in the path', { method: 'HEAD' }]] as const) {
      const r = await get(`/p/309/sp/30900/${what === 'KS in the path' ? `raw/entry_id/${held}/ks/${admin}` : `raw/entry_id/${held}`}/relocate/a.mp4`, init);
      t.equal(r.status, 200, `raw of ${held}, ${what}`);
      t.equal(r.headers.get('cache-control'), 'private, no-store', `raw of ${held}, ${what}: private`);
    }
    const clipped = await get(`/p/309/sp/30900/flvclipper/entry_id/${held}/clip_to/2000`, { method: 'HEAD', headers: { 'X-Kaltura-Ks': admin } });
    t.equal(clipped.headers.get('cache-control'), 'private, no-store', `flvclipper of ${held}: private`);
  }
  const probed = await ffprobeJson(`${s.url}${clip}/ks/${user}`);
  t.equal(probed.code, 0, probed.stderr);
  t.ok(Math.abs(Number(probed.json.format.duration) - 4) < 0.2, `the clip decodes, ${probed.json.format.duration} s`);
  const site = '/p/309/sp/30900/flvclipper/entry_id/1_siteonly';
  t.equal(errorCode(await get(site)), '3', 'a site rule without a referrer');
  t.equal((await get(`${site}/referrer/${Buffer.from('https://www.example.com/page').toString('base64url')}`, { method: 'HEAD' })).status, 200, 'with the allowed referrer');
  // the 5 s preview of 1_preview1 clips an anonymous clip, not a session's
  const preview = await ffprobeJson(`${s.url}/p/309/sp/30900/flvclipper/entry_id/1_preview1`);
  t.equal(preview.code, 0, preview.stderr);
  t.ok(Number(preview.json.format.duration) <= 5.1, `anonymous: the preview only, ${preview.json.format.duration} s`);
  const whole = await ffprobeJson(`${s.url}/p/309/sp/30900/flvclipper/entry_id/1_preview1/ks/${user}`);
  t.ok(Number(whole.json.format.duration) > 10, `with a KS: the whole entry, ${whole.json.format.duration} s`);
});

t.test('a malformed %-escape in the path is error 25 in kdeliver\'s form, not Fastify\'s JSON', async (t) => {
  for (const p of ['/p/309/sp/0/playManifest/entryId/%zz/format/url/a.mp4', '/p/309/sp/30900/raw/entry_id/%e0%a4%a']) {
    const r = await get(p);
    t.equal(r.status, 400, p);
    t.equal(errorCode(r), '25', p);
    t.match(r.headers.get('content-type') ?? '', /^text\/plain/);
    t.match(await r.text(), /malformed %-escape/);
  }
});
