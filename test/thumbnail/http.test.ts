// Thumbnails over HTTP against the real server and the sample library: default thumbnail,
// resize types, frame grabs and sprites through ffmpeg, the disk cache, errors, THUMBNAIL access control.
import t from 'tap';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { requireCommands } from '../helpers/system.js';
import { startServer } from '../helpers/server.js';
import { generateKs } from '../../src/access/ks.js';
import { sqliteDb } from '../helpers/sqlite.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');

const srv = await startServer(t);
const base = `${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs`;

async function image(url: string, init?: RequestInit) {
  const res = await fetch(url, init);
  const body = Buffer.from(await res.arrayBuffer());
  const meta = res.status === 200 && body.length ? await sharp(body).metadata() : null;
  return { res, body, meta };
}

/** Pixels of a region, raw RGB. */
async function pixels(body: Buffer, region: { left: number; top: number; width: number; height: number }): Promise<Buffer> {
  return sharp(body).extract(region).removeAlpha().raw().toBuffer();
}

/** Mean colour of a region, to tell pictures apart without trusting their bytes. */
async function meanOf(body: Buffer, region: { left: number; top: number; width: number; height: number }) {
  const px = await pixels(body, region);
  const sum = [0, 0, 0];
  for (let i = 0; i < px.length; i += 3) for (let c = 0; c < 3; c++) sum[c] += px[i + c];
  return sum.map((v) => Math.round(v / (px.length / 3)));
}

t.test('the default thumbnail, as stored and resized', async (t) => {
  const a = await image(base);
  t.equal(a.res.status, 200);
  t.equal(a.res.headers.get('content-type'), 'image/jpeg');
  t.equal(a.res.headers.get('access-control-allow-origin'), '*');
  t.match(a.res.headers.get('cache-control'), /public, max-age=\d+/);
  t.equal(`${a.meta?.width}x${a.meta?.height}`, '120x68', "no size: Kaltura's 120 x 90, fitted (test/thumbnail/default-size.test.ts)");
  const stored = await image(`${base}/width/0/height/0`);
  t.equal(`${stored.meta?.width}x${stored.meta?.height}`, '640x360', 'width and height 0: as stored');

  const w = await image(`${base}/version/100002/width/320`);
  t.equal(`${w.meta?.width}x${w.meta?.height}`, '320x180', 'width alone keeps the aspect ratio');
  const h = await image(`${srv.url}/p/309/thumbnail/entry_id/1_rcit0qgs/height/90`);
  t.equal(`${h.meta?.width}x${h.meta?.height}`, '160x90', 'the /p/{pid}/thumbnail form too');
  const jpg = await image(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs.jpg/width/200/height/90.jpg`);
  t.equal(jpg.res.status, 200, 'values ending in .jpg, as partners write them');
  t.equal(`${jpg.meta?.width}x${jpg.meta?.height}`, '160x90');
  const bang = await image(`${base}/width/200!/height/90`);
  t.equal(`${bang.meta?.width}x${bang.meta?.height}`, '200x90', 'a width ending in ! stretches');
  const t1 = await image(`${base}/width/200/height/200/type/1`);
  t.equal(`${t1.meta?.width}x${t1.meta?.height}`, '200x113', 'type 1 fits inside');
  const t2 = await image(`${base}/width/200/height/200/type/2/bgcolor/ff0000`);
  t.equal(`${t2.meta?.width}x${t2.meta?.height}`, '200x200', 'type 2 pads');
  const [r, g, b] = await meanOf(t2.body, { left: 0, top: 0, width: 200, height: 30 });
  t.ok(r > 200 && g < 60 && b < 60, `type 2 pads with bgcolor (${r},${g},${b})`);
  const white = await image(`${base}/width/200/height/200/type/2`);
  const [wr, wg, wb] = await meanOf(white.body, { left: 0, top: 0, width: 200, height: 30 });
  t.ok(wr > 240 && wg > 240 && wb > 240, `without bgcolor type 2 pads white, Kaltura's default (${wr},${wg},${wb})`);
  const t3 = await image(`${base}/width/200/height/200/type/3`);
  t.equal(`${t3.meta?.width}x${t3.meta?.height}`, '200x200', 'type 3 crops to fill');
  // Kaltura's crop types take a missing side from the other: a square, where type 1 keeps the ratio
  const sq = await image(`${base}/width/120/type/3`);
  t.equal(`${sq.meta?.width}x${sq.meta?.height}`, '120x120', 'type 3 with a width only: a square crop');
  const sqTop = await image(`${base}/height/90/type/4`);
  t.equal(`${sqTop.meta?.width}x${sqTop.meta?.height}`, '90x90', 'type 4 with a height only: a square crop');
  const frame = await image(`${base}/vid_sec/3/width/64/type/3`);
  t.equal(`${frame.meta?.width}x${frame.meta?.height}`, '64x64', 'a frame grab too');
  const one = await image(`${base}/width/120/type/5`);
  t.equal(`${one.meta?.width}x${one.meta?.height}`, '120x68', 'type 5 with one side keeps the ratio, as Kaltura resizes it');
  const t5 = await image(`${base}/width/100/height/300/type/5`);
  t.equal(`${t5.meta?.width}x${t5.meta?.height}`, '100x300', 'type 5 stretches');
  const q = await image(`${base}/width/320/quality/10`);
  t.ok(q.body.length < w.body.length, 'a lower quality is a smaller file');

  const head = await fetch(`${base}/width/320`, { method: 'HEAD' });
  t.equal(head.status, 200);
  t.equal(head.headers.get('content-length'), String(w.body.length));
  const etag = w.res.headers.get('etag')!;
  const again = await fetch(`${base}/version/100002/width/320`, { headers: { 'if-none-match': etag } });
  t.equal(again.status, 304);
  t.ok(existsSync(join(srv.dataDir, 'cache', 'thumbnails', '309', '1_rcit0qgs')), 'cached under the data directory');
});

t.test('frames at vid_sec come from the video, and are cached', async (t) => {
  const f1 = await image(`${base}/vid_sec/1/width/320`);
  const f9 = await image(`${base}/vid_sec/9/width/320`);
  t.equal(f1.res.status, 200);
  t.equal(f1.res.headers.get('x-kdeliver-thumbnail'), 'frame');
  t.equal(`${f1.meta?.width}x${f1.meta?.height}`, '320x180');
  t.not(f1.body.equals(f9.body), true, 'different seconds, different frames');
  const full = await image(`${base}/vid_sec/3/width/0/height/0`);
  t.equal(`${full.meta?.width}x${full.meta?.height}`, '1280x720', 'width and height 0: the source frame size');
  const small = await image(`${base}/vid_sec/3`);
  t.equal(`${small.meta?.width}x${small.meta?.height}`, '120x68', 'no size: within 120 x 90');
  const cached = await image(`${base}/vid_sec/1/width/320`);
  t.equal(cached.res.headers.get('x-kdeliver-thumbnail'), 'cache');
  t.ok(cached.body.equals(f1.body));
  const past = await image(`${base}/vid_sec/500/width/64`);
  t.equal(past.res.status, 200, 'a second past the end gives the last frame');
});

t.test('vid_slices: the seek-bar sprite the player asks for, and single slices', async (t) => {
  const sprite = await image(`${base}/version/100002/width/164/vid_slices/100`);
  t.equal(sprite.res.status, 200);
  t.equal(sprite.res.headers.get('x-kdeliver-thumbnail'), 'sprite');
  t.equal(`${sprite.meta?.width}x${sprite.meta?.height}`, '16400x92');
  const few = await image(`${base}/width/100/vid_slices/4/start_sec/2/end_sec/10`);
  t.equal(`${few.meta?.width}x${few.meta?.height}`, '400x56');
  // slices of a moving test pattern differ from one another
  const a = await pixels(few.body, { left: 0, top: 0, width: 100, height: 56 });
  const d = await pixels(few.body, { left: 300, top: 0, width: 100, height: 56 });
  t.notOk(a.equals(d), 'first and last slice differ');
  const one = await image(`${base}/width/100/vid_slices/4/vid_slice/2`);
  t.equal(`${one.meta?.width}x${one.meta?.height}`, '100x56');
});

t.test('image entries show their picture; audio entries without one show the audio picture', async (t) => {
  const img = await image(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_image000/width/160`);
  t.equal(img.res.status, 200);
  t.equal(`${img.meta?.width}x${img.meta?.height}`, '160x120');
  // as Kaltura answers its template picture (entry::getThumbnail), resized as any other picture
  const stored = await image(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_audio001/width/0/height/0`);
  t.equal(stored.res.status, 200);
  t.equal(`${stored.meta?.width}x${stored.meta?.height}`, '640x360', 'the audio picture at its own size');
  // dark ground at the corner, a light bar of the waveform at the centre
  const corner = await pixels(stored.body, { left: 0, top: 0, width: 1, height: 1 });
  const centre = await pixels(stored.body, { left: 325, top: 180, width: 1, height: 1 });
  t.ok(corner[0] < 60 && centre[0] > 110, `a waveform on a dark ground (corner ${corner[0]}, centre ${centre[0]})`);
  const small = await image(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_audio001`);
  t.equal(`${small.meta?.width}x${small.meta?.height}`, '120x68', 'without a size: within 120 x 90');
  const square = await image(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_audio001/width/100/height/100/type/3`);
  t.equal(`${square.meta?.width}x${square.meta?.height}`, '100x100', 'cropped like any picture');
  const sprite = await image(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_audio001/width/164/vid_slices/4`);
  t.equal(`${sprite.meta?.width}x${sprite.meta?.height}`, '656x92', 'a sprite repeats it');
});

t.test('bad requests: 4xx with the reference codes, never a 500', async (t) => {
  const cases: [string, number, string][] = [
    ['/p/309/sp/30900/thumbnail/entry_id/0_nosuch00', 404, 'error-1'],
    ['/p/310/sp/31000/thumbnail/entry_id/1_rcit0qgs', 404, 'error-1'],
    // as Kaltura's thumbnail action answers a deleted entry (KExternalErrors::ENTRY_DELETED_MODERATED)
    ['/p/309/sp/30900/thumbnail/entry_id/1_deleted0', 404, 'error-9'],
    ['/p/310/sp/31000/thumbnail/entry_id/1_deleted0', 404, 'error-1'],
    ['/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/width/abc', 400, 'error-25'],
    ['/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/width/99999', 400, 'error-25'],
    ['/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/vid_slices/100/width/1000', 400, 'error-25'],
    ['/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/type/9', 400, 'error-25'],
    ['/p/309/sp/30900/thumbnail/width/100', 400, 'error-20'],
    ['/p/309/sp/30900/thumbnail/entry_id/..%2f..%2fetc', 400, 'error-25'],
    ['/p/abc/sp/0/thumbnail/entry_id/1_rcit0qgs', 400, 'error-25'],
    [`/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/ks/garbage`, 403, 'error-7'],
  ];
  for (const [path, status, code] of cases) {
    const res = await fetch(srv.url + path);
    t.equal(res.status, status, path);
    t.equal(res.headers.get('x-kaltura'), code, path);
    t.notMatch(await res.text(), /at .*\.ts:\d+/, 'no stack trace');
  }
});

t.test('the THUMBNAIL access-control context', async (t) => {
  const db = sqliteDb(srv.app.catalog);
  const now = Math.floor(Date.now() / 1000);
  db.prepare(`INSERT INTO access_control_profiles (id, partner_id, name, rules, created_at, updated_at) VALUES (901, 309, 'thumbs need a KS', ?, ?, ?)`)
    .run(JSON.stringify([{ message: 'thumbnails need a session', contexts: ['THUMBNAIL'], conditions: [{ type: 'authenticated', not: true }], actions: [{ type: 'block' }] }]), now, now);
  db.prepare(`INSERT INTO access_control_profiles (id, partner_id, name, rules, created_at, updated_at) VALUES (902, 309, 'play needs a KS', ?, ?, ?)`)
    .run(JSON.stringify([{ contexts: ['PLAY'], conditions: [{ type: 'authenticated', not: true }], actions: [{ type: 'block' }] }]), now, now);
  db.prepare('UPDATE entries SET access_control_profile_id = 901 WHERE id = ?').run('1_siteonly');
  db.prepare('UPDATE entries SET access_control_profile_id = 902 WHERE id = ?').run('1_iponly00');

  const anon = await fetch(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_siteonly/width/100`);
  t.equal(anon.status, 403);
  t.match(anon.headers.get('x-kaltura'), /access-control: thumbnails need a session, error-3/);
  const ks = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 600, now, privileges: 'sview:*' });
  const withKs = await fetch(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_siteonly/width/100/ks/${encodeURIComponent(ks)}`);
  t.equal(withKs.status, 200, 'a session lets it through');
  t.match(withKs.headers.get('cache-control'), /^private/);
  const header = await fetch(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_siteonly/width/100`, { headers: { 'x-kaltura-ks': ks } });
  t.equal(header.status, 200, 'the KS may come in the X-Kaltura-Ks header');
  const playOnly = await fetch(`${srv.url}/p/309/sp/30900/thumbnail/entry_id/1_iponly00/width/100`);
  t.equal(playOnly.status, 200, 'a PLAY-only rule does not guard thumbnails');
  // the server still serves everything else
  t.equal((await fetch(`${base}/width/50`)).status, 200);
  t.ok(readdirSync(join(srv.dataDir, 'cache', 'thumbnails', '309')).length >= 2);
});

t.test('a frame that cannot be taken is an error, never the poster kept under the frame\'s name', async (t) => {
  // Kaltura's capture failure is an error too. Before, an entry with a poster answered it for the
  // frame asked, cached a day under that frame's key, and kept answering it once the video was back
  const own = await startServer(t);
  const dir = join(own.config.mediaRoot, '309', '1_rcit0qgs');
  const videos = readdirSync(dir).filter((f) => /\.(mp4|3gp)$/.test(f));
  const saved = new Map(videos.map((f) => [f, readFileSync(join(dir, f))]));
  // the sample media are hard links into fixtures: unlinked before they are written
  for (const f of videos) {
    rmSync(join(dir, f));
    writeFileSync(join(dir, f), Buffer.from('not a video, the origin answered something else'));
  }
  const url = `${own.url}/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/vid_sec/4/width/200`;
  const broken = await fetch(url);
  t.equal(broken.status, 404, 'the frame cannot be taken: an error');
  t.equal(broken.headers.get('x-kaltura'), 'error-5');
  t.match(await broken.text(), /no frame could be taken from the video/);
  for (const [f, bytes] of saved) {
    rmSync(join(dir, f));
    writeFileSync(join(dir, f), bytes);
  }
  const back = await image(url);
  t.equal(back.res.status, 200, 'the video is back: the frame');
  t.equal(back.res.headers.get('x-kdeliver-thumbnail'), 'frame', 'taken from the video, not a kept answer');

  // the video's files gone: the same error, naming the file, not the poster (it answered 200, kept a day)
  const moved = join(own.dataDir, 'moved');
  mkdirSync(moved);
  for (const f of videos) renameSync(join(dir, f), join(moved, f));
  for (const asked of [`${own.url}/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/vid_sec/11/width/75`, `${own.url}/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/vid_slices/4/width/75`]) {
    const gone = await fetch(asked);
    t.equal(gone.status, 404, `${asked}: an error`);
    t.equal(gone.headers.get('x-kaltura'), 'error-5');
    t.match(await gone.text(), /the video file of flavor 1_f\w+ is missing/);
  }
  t.equal((await fetch(`${own.url}/p/309/sp/30900/thumbnail/entry_id/1_rcit0qgs/width/75`)).status, 200, 'the poster still answers for itself');
  for (const f of videos) renameSync(join(moved, f), join(dir, f));
});
