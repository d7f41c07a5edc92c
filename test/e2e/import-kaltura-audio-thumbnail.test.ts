// `kdeliver import-kaltura` of an audio entry that has no picture of its own at the source (its
// thumbnail URL answers the source's audio picture: Kaltura's template, kdeliver's drawing) brings
// no thumbnail and says nothing about it, on the first run or on a later one that imports the
// entry again; once the entry has a picture of its own at the source, the next run brings that.
// A video entry whose thumbnail the source does not give is still warned about. The source is a
// real kdeliver serving the sample library, behind a proxy that answers 404 for 1_kssecure's
// thumbnail.
import t from 'tap';
import { createServer, request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import sharp from 'sharp';
import { installedCommand } from '../helpers/command.js';

const SOURCE_SECRET = 'sample-admin-secret-309';
const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-audio-thumb-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);

t.test('an audio entry without a picture of its own is imported without one and without a warning; with one, with it', async (t) => {
  const proxy = createServer((req, res) => {
    if (/\/thumbnail\/entry_id\/1_kssecure\//.test(req.url ?? '')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('no thumbnail');
      return;
    }
    const u = new URL(upstream);
    const up = httpRequest({ host: u.hostname, port: u.port, method: req.method, path: req.url, headers: { ...req.headers, host: u.host } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502).end(); else res.destroy(); });
    req.pipe(up);
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { proxy.closeAllConnections(); proxy.close(() => r()); }));
  const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
  const src = await cmd.serve({ KDELIVER_DATA_DIR: join(work, 'source'), KDELIVER_SAMPLE_LIBRARY: 'true', KDELIVER_PUBLIC_URL: proxyUrl, KDELIVER_LOG_LEVEL: 'warn' });
  t.teardown(() => src.stop());
  const upstream = src.url;

  const thumbnail = await fetch(`${src.url}/p/309/sp/30900/thumbnail/entry_id/1_audio001/width/0/height/0`);
  t.equal(thumbnail.status, 200, 'the source answers its audio picture for the audio entry');
  const sourcePicture = Buffer.from(await thumbnail.arrayBuffer());

  const env = { KDELIVER_DATA_DIR: join(work, 'imported'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const args = ['import-kaltura', '--service-url', proxyUrl, '--partner-id', '309', '--admin-secret', SOURCE_SECRET, '--entry-ids', '1_audio001,1_kssecure'];
  const first = await cmd.kdeliver(args, env);
  t.equal(first.code, 0, `${first.stdout}\n${first.stderr}`);
  t.match(first.stdout, /: 2 imported, /);
  t.notMatch(first.stderr, /1_audio001: warning/, 'no warning for the audio entry');
  t.match(first.stderr, /1_kssecure: warning: no default thumbnail: the source answered HTTP 404/, 'a video entry without one is warned about');
  t.equal(await storedThumbnailSize(env.KDELIVER_DATA_DIR, '1_audio001'), null, 'the audio entry has no thumbnail here either');

  // the entries change at the source: the next run imports them again, and asks for the thumbnails again
  const ks = (await (await fetch(`${src.url}/api_v3/service/session/action/start?format=1&secret=${SOURCE_SECRET}&partnerId=309&type=2`)).json()) as string;
  for (const id of ['1_audio001', '1_kssecure']) {
    const r = await fetch(`${src.url}/api_v3/service/baseEntry/action/update?format=1&ks=${ks}&entryId=${id}&baseEntry[name]=Renamed`);
    t.equal(((await r.json()) as { name?: string }).name, 'Renamed');
  }
  const again = await cmd.kdeliver(args, env);
  t.equal(again.code, 0, `${again.stdout}\n${again.stderr}`);
  t.match(again.stdout, /: 2 imported, /, 'both entries are imported again');
  t.notMatch(again.stderr, /1_audio001: warning/, 'still no warning for the audio entry');
  const unchanged = await cmd.kdeliver(args, env);
  t.match(unchanged.stdout, /: 0 imported, 2 unchanged, /);
  t.notMatch(unchanged.stderr, /warning/, 'a run that changes nothing says nothing');
  // served here, the entry shows this server's own audio picture, the same drawing as the source's
  const served = await cmd.serve(env);
  try {
    const here = await fetch(`${served.url}/p/309/sp/30900/thumbnail/entry_id/1_audio001/width/0/height/0`);
    t.equal(here.status, 200, 'the imported audio entry shows a picture');
    t.same(Buffer.from(await here.arrayBuffer()), sourcePicture, 'the audio picture, not a copy kept as the entry\'s own');
  } finally {
    await served.stop();
  }

  // a picture of its own at the source (uploaded, as a person gives an audio entry a cover): the
  // next run brings it, at its stored size
  const cover = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#c03030' } }).jpeg().toBuffer();
  const form = new FormData();
  form.set('ks', ks);
  form.set('format', '1');
  form.set('entryId', '1_audio001');
  form.set('fileData', new Blob([cover]), 'cover.jpg');
  const up = (await (await fetch(`${src.url}/api_v3/service/media/action/updateThumbnailJpeg`, { method: 'POST', body: form })).json()) as { id?: string; code?: string };
  t.equal(up.id, '1_audio001', `the source takes the cover (${up.code ?? 'ok'})`);
  const withCover = await cmd.kdeliver(args, env);
  t.equal(withCover.code, 0, `${withCover.stdout}\n${withCover.stderr}`);
  t.match(withCover.stdout, /: 1 imported, 1 unchanged, /, 'the audio entry changed at the source: imported again');
  t.notMatch(withCover.stderr, /warning/);
  t.equal(await storedThumbnailSize(env.KDELIVER_DATA_DIR, '1_audio001'), '300x300', 'the audio entry now has its own thumbnail here: the cover, at its stored size');

  // a video entry's thumbnail comes at its stored size (the source's thumbnailUrl alone answers
  // Kaltura's 120 x 90): 1_rcit0qgs's is 640x360
  const videoEnv = { KDELIVER_DATA_DIR: join(work, 'imported-video'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const video = await cmd.kdeliver(['import-kaltura', '--service-url', proxyUrl, '--partner-id', '309', '--admin-secret', SOURCE_SECRET, '--entry-ids', '1_rcit0qgs'], videoEnv);
  t.equal(video.code, 0, `${video.stdout}\n${video.stderr}`);
  t.equal(await storedThumbnailSize(videoEnv.KDELIVER_DATA_DIR, '1_rcit0qgs'), '640x360', 'the video entry has its thumbnail, at its stored size');
});

/** The size of the picture the imported catalog names as the entry's thumbnail ("WxH"), or null when it names none. */
async function storedThumbnailSize(dataDir: string, entryId: string): Promise<string | null> {
  const db = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true, fileMustExist: true });
  const file = db.prepare('SELECT thumbnail_file FROM entries WHERE id = ?').pluck().get(entryId) as string | null;
  db.close();
  if (!file) return null;
  const meta = await sharp(join(dataDir, 'media', file)).metadata();
  return `${meta.width}x${meta.height}`;
}
