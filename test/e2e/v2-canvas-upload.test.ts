// A Canvas-style media comment through API v2, as Canvas LMS's uploader sends it: getuiconf (read
// for its limits and file filters), a multipart upload with the session in the query, then
// addEntry with entry1_ fields and a user KS. The entry becomes READY through the ingest queue and
// plays (HLS master, a segment, the progressive file read by ffprobe). Then api_v3's
// flavorAsset.reconvert, called through the official kaltura-client, queues the ladder again, and
// the entry keeps playing while it runs.
import t from 'tap';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser } from 'fast-xml-parser';
import sharp from 'sharp';
import kaltura from 'kaltura-client';
import { requireCommands } from '../helpers/system.js';
import { startServer } from '../helpers/server.js';
import { makeSource } from '../ingest/helpers.js';

requireCommands(t, ['ffmpeg', 'ffprobe'], 'ffmpeg');
const xml = new XMLParser({ parseTagValue: false, ignoreAttributes: false, attributeNamePrefix: '' });

function ffprobe(url: string): Promise<{ status: number | null; stdout: string }> {
  return new Promise((resolve) => {
    const child = spawn('ffprobe', ['-v', 'error', '-of', 'json', '-show_format', '-show_streams', url]);
    let stdout = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.on('close', (status) => resolve({ status, stdout }));
  });
}

t.test('Canvas-style upload: getuiconf, multipart upload, addEntry, READY, plays', async (t) => {
  const s = await startServer(t);
  const work = mkdtempSync(join(tmpdir(), 'kdeliver-canvas-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const P = `${s.url}/index.php/partnerservices2`;
  const api = `${s.url}/api_v3`;
  const start = async (secret: string, type: number, user: string) => JSON.parse(await (await fetch(`${api}/service/session/action/start?format=1&secret=${secret}&partnerId=309&type=${type}&userId=${user}`)).text()) as string;
  // Canvas asks its own server for a KS: a USER session of the commenting user
  const ks = await start('sample-user-secret-309', 0, 'student1');
  const session = `ks=${encodeURIComponent(ks)}&subp_id=30900&partner_id=309&uid=student1`;
  const v2 = async (url: string, init?: RequestInit) => {
    const r = await fetch(url, init);
    t.equal(r.status, 200);
    const doc = xml.parse(await r.text()).xml;
    t.equal(doc.error, '', `no error: ${JSON.stringify(doc.error)}`);
    return doc.result;
  };

  // 1. the uploader's configuration: limits and the file filters the picker offers
  const ui = await v2(`${P}/getuiconf?${session}&ui_conf_id=48502`);
  const conf = xml.parse(ui.ui_conf.confFile);
  const limits = conf.kcw.limits;
  t.ok(Number(limits.maxUploads) >= 1 && Number(limits.maxFileSize) > 0, `limits: ${JSON.stringify(limits)}`);
  const filters = [conf.kcw.fileFilters.fileFilter].flat();
  const video = filters.find((f: any) => f.id === 'video');
  t.match(video, { entryType: '1', mediaType: '1' });
  t.match(video.extensions, /\*\.mp4/);

  // 2. the multipart upload, Canvas' fields and query
  const file = join(work, 'comment.mp4');
  makeSource(file, { seconds: 4, width: 640, height: 360 });
  const alias = String(Date.now());
  const form = new FormData();
  form.set('Filename', 'comment.mp4');
  form.set('Filedata', new Blob([readFileSync(file)], { type: 'video/mp4' }), 'comment.mp4');
  form.set('Upload', 'Submit Query');
  const uploaded = await v2(`${P}/upload?${session}&serverTime=${Math.floor(Date.now() / 1000)}&ui_conf_id=48502&filename=${alias}&kalsig=0123456789abcdef`, { method: 'POST', body: form });
  t.match(uploaded.result_ok, { filename: alias, origFilename: 'comment.mp4' });
  t.ok(uploaded.result_ok.token);

  // 3. addEntry, as Canvas sends it (a GET with entry1_ fields)
  const partnerData = JSON.stringify({ context: 'course_1', root_account_id: 1 });
  const add = new URLSearchParams({
    entry1_name: 'Media comment', entry1_filename: alias, entry1_realFilename: 'comment.mp4', entry1_type: '1', entry1_mediaType: '1',
    entry1_partnerData: partnerData, entry1_conversionProfile: '', entry1_source: '1', kshow_id: '-1', quick_edit: 'true',
  });
  const added = await v2(`${P}/addEntry?${session}&${add}`);
  t.equal(added.new_entry_count, '1');
  const entry = added.entries.entry1_;
  t.match(entry, { name: 'Media comment', type: '1', mediaType: '1', partnerData, puserId: 'student1' });
  t.ok(['1', '2'].includes(entry.status), 'converting (or already READY)');

  // 4. READY through the ingest queue
  let status = entry.status;
  const until = Date.now() + 120_000;
  while (status !== '2') {
    t.ok(Date.now() < until, 'READY within two minutes');
    if (Date.now() > until) return;
    await new Promise((r) => setTimeout(r, 500));
    status = (await v2(`${P}/getentry?${session}&entry_id=${entry.id}`)).entry.status;
    t.not(status, '-1', 'not in error');
  }

  // 5. it plays
  const manifest = `${s.url}/p/309/sp/30900/playManifest/entryId/${entry.id}`;
  const master = await (await fetch(`${manifest}/format/applehttp/protocol/http/a.m3u8`)).text();
  const variant = master.split('\n').find((l) => l && !l.startsWith('#'));
  t.ok(variant, `the HLS master lists variants:\n${master}`);
  const playlist = await (await fetch(new URL(variant!, `${s.url}/`).toString())).text();
  const segment = playlist.split('\n').find((l) => l && !l.startsWith('#'));
  const seg = await fetch(new URL(segment!, new URL(variant!, `${s.url}/`)).toString());
  t.equal(seg.status, 200, 'a segment is served');
  t.ok((await seg.arrayBuffer()).byteLength > 1000);
  const progressive = (await fetch(`${manifest}/format/url/protocol/http/a.mp4`, { redirect: 'manual' })).headers.get('location')!;
  const probe = await ffprobe(new URL(progressive, s.url).toString());
  t.equal(probe.status, 0, 'ffprobe reads the progressive file');
  const duration = Number(JSON.parse(probe.stdout).format.duration);
  t.ok(Math.abs(duration - 4) < 0.5, `duration ${duration} s`);

  // a frame as the thumbnail, through v2 (the user owns the entry)
  const framed = (await v2(`${P}/updateentrythumbnail?${session}&entry_id=${entry.id}&time_offset=2`)).entry;
  const shown = (await v2(`${P}/getentry?${session}&entry_id=${entry.id}`)).entry;
  t.equal(framed.thumbnailUrl, shown.thumbnailUrl);
  t.not(shown.thumbnailUrl, entry.thumbnailUrl, 'a new thumbnail version');
  // at its stored size: the thumbnailUrl alone answers Kaltura's 120 x 90
  const frame = await sharp(Buffer.from(await (await fetch(`${shown.thumbnailUrl}/width/0/height/0`)).arrayBuffer())).metadata();
  t.same([frame.width, frame.height], [640, 360], 'the video\'s frame');

  // 6. reconvert through api_v3: the ladder runs again; the entry plays all along
  const admin = await start('sample-admin-secret-309', 2, 'admin');
  const list = async () => JSON.parse(await (await fetch(`${api}/service/flavorAsset/action/list?format=1&ks=${admin}&filter:entryIdEqual=${entry.id}`)).text()).objects as { id: string; isOriginal: boolean }[];
  const before = (await list()).filter((f) => !f.isOriginal).map((f) => f.id).sort();
  t.ok(before.length >= 1, `renditions: ${before.join(', ')}`);
  // a poster chosen through the API first: reconversion must keep it
  const poster = new FormData();
  poster.set('json', JSON.stringify({ ks: admin, format: 1, entryId: entry.id }));
  poster.set('fileData', new Blob([await sharp({ create: { width: 64, height: 48, channels: 3, background: '#0f0' } }).jpeg().toBuffer()]), 'poster.jpg');
  const withPoster = JSON.parse(await (await fetch(`${api}/service/media/action/updateThumbnailJpeg`, { method: 'POST', body: poster })).text());
  const posterSize = async () => {
    const meta = await sharp(Buffer.from(await (await fetch(JSON.parse(await (await fetch(`${api}/service/media/action/get?format=1&ks=${admin}&entryId=${entry.id}`)).text()).thumbnailUrl + '/width/0/height/0')).arrayBuffer())).metadata();
    return `${meta.width}x${meta.height}`;
  };
  t.equal(await posterSize(), '64x48', `the chosen poster (${withPoster.thumbnailUrl})`);
  const config = new kaltura.Configuration();
  config.serviceUrl = s.url;
  config.setLogger({ log() {}, error() {}, debug() {} });
  const client = new kaltura.Client(config);
  client.setKs(admin);
  const reconvert = () => kaltura.services.flavorAsset.reconvert(before[0]).execute(client);
  t.equal(await reconvert(), null, 'reconvert queued (kaltura-client)');
  t.match(await reconvert().then(() => null, (e: any) => e), { code: 'INGEST_FAILED', message: /already being converted/ }, 'not twice at once');
  t.equal((await fetch(`${manifest}/format/url/protocol/http/a.mp4`, { redirect: 'manual' })).status, 302, 'plays while it runs');
  let after = before;
  const until2 = Date.now() + 120_000;
  while (after.join() === before.join() && Date.now() < until2) {
    await new Promise((res) => setTimeout(res, 500));
    after = (await list()).filter((f) => !f.isOriginal).map((f) => f.id).sort();
  }
  t.equal(after.length, before.length, 'the same ladder');
  t.notSame(after, before, 'new renditions replaced the old ones');
  t.equal((await fetch(`${manifest}/format/applehttp/protocol/http/a.m3u8`)).status, 200, 'and it plays');
  t.equal(await posterSize(), '64x48', 'the chosen poster survived the reconversion');
});
