// The legacy flvclipper service as old embeds and feeds call it: which flavor a URL without one
// plays under access control, and the URL forms Kaltura routes to it.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { requireCommands } from '../helpers/system.js';
import { ffprobeJson } from '../helpers/media-tools.js';

const s = await startServer(t);
const get = (path: string, init: RequestInit = {}) => fetch(s.url + path, { redirect: 'manual', ...init });
const errorCode = (r: Response) => (r.headers.get('x-kaltura') ?? '').match(/error-(\d+)/)?.[1];

t.test('without a flavor, flvclipper plays the best flavor the entry\'s rules allow', async (t) => {
  requireCommands(t, ['ffprobe'], 'ffmpeg');
  // 1_flavlim0's rules allow only the 240p flavor (params 301961): the largest web flavor, the
  // 720p one, is not for this caller, so the clip is of the 240p one, not a 404
  const clip = '/p/309/sp/30900/flvclipper/entry_id/1_flavlim0/clip_to/4000';
  const r = await get(clip, { method: 'HEAD' });
  t.equal(r.status, 200, `${r.status} ${r.headers.get('x-kaltura-app') ?? ''}`);
  t.equal(r.headers.get('content-type'), 'video/mp4');
  const probed = await ffprobeJson(s.url + clip);
  t.equal(probed.code, 0, probed.stderr);
  const video = probed.json.streams.find((x: { codec_type: string }) => x.codec_type === 'video');
  t.same([video?.width, video?.height], [426, 240], 'the allowed 240p flavor');
  t.ok(Math.abs(Number(probed.json.format.duration) - 4) < 0.2, `4 s, ${probed.json.format.duration}`);
  // a flavor the rules do not allow, named, is still refused
  const named = await get('/p/309/sp/30900/flvclipper/entry_id/1_flavlim0/flavor/1_f3flim00');
  t.equal(named.status, 404);
  t.equal(errorCode(named), '6');
  t.match(named.headers.get('x-kaltura-app') ?? '', /not allowed by access control/);
  // an entry without rules gets Kaltura's play flavor: the lowest bitrate tagged mbr (its 240p),
  // as assetPeer::retrieveBestPlayByEntryId picks it; flavor/0 and flavor/edit the edit flavor,
  // which without an `edit` tag is the same one (flavor/0 is not the source)
  for (const flavor of ['', '/flavor/1', '/flavor/0', '/flavor/edit']) {
    const plain = await ffprobeJson(`${s.url}/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs${flavor}/clip_to/2000`);
    t.equal(plain.json.streams.find((x: { codec_type: string }) => x.codec_type === 'video')?.height, 240, `${flavor || 'no flavor'}: the 240p flavor`);
  }
});

t.test('every URL form Kaltura routes to flvclipper answers the clip', async (t) => {
  const tail = 'flvclipper/entry_id/1_rcit0qgs/clip_to/2000';
  const ref = await get(`/p/309/sp/30900/${tail}`, { method: 'HEAD' });
  t.equal(ref.status, 200);
  for (const prefix of ['/s/p/309/sp/30900', '/s/p/309', '', '/s', '/index.php/keditorservices']) {
    for (const method of ['HEAD', 'GET']) {
      const r = await get(`${prefix}/${tail}`, { method });
      t.equal(r.status, 200, `${method} ${prefix}/${tail}`);
      t.equal(r.headers.get('content-type'), 'video/mp4');
      t.equal(r.headers.get('content-length'), ref.headers.get('content-length'), 'the same clip');
      await r.arrayBuffer();
    }
  }
  // under a partner, still only that partner's entries (1_secure01 is partner 310's)
  for (const p of ['/s/p/309/sp/30900', '/s/p/309']) {
    const r = await get(`${p}/flvclipper/entry_id/1_secure01`);
    t.equal(r.status, 404, p);
    t.equal(errorCode(r), '1');
  }
  // without one, the entry's own partner
  t.equal((await get('/flvclipper/entry_id/1_secure01/clip_to/2000', { method: 'HEAD' })).status, 200);
  t.equal(errorCode(await get('/flvclipper/entry_id/1_nosuch00')), '1');
});

t.test('an image entry\'s flvclipper URL answers its picture, as its thumbnail would', async (t) => {
  const jpegSize = (b: Buffer) => {
    // the first SOFn segment's height and width
    for (let i = 2; i + 9 < b.length;) {
      const marker = b[i + 1];
      if (marker >= 0xc0 && marker <= 0xc3) return [b.readUInt16BE(i + 7), b.readUInt16BE(i + 5)];
      i += 2 + b.readUInt16BE(i + 2);
    }
    return null;
  };
  for (const [path, size] of [
    ['/p/309/sp/30900/flvclipper/entry_id/1_image000', [640, 480]],
    ['/flvclipper/entry_id/1_image000/width/100', [100, 75]],
    ['/p/309/flvclipper/entry_id/1_image000/width/100/height/100/type/2', [100, 100]],
  ] as const) {
    const r = await get(path);
    t.equal(r.status, 200, path);
    t.equal(r.headers.get('content-type'), 'image/jpeg', path);
    const body = Buffer.from(await r.arrayBuffer());
    t.same(jpegSize(body), size, `${path}: ${size.join('x')}`);
    const head = await get(path, { method: 'HEAD' });
    t.equal(head.headers.get('content-length'), String(body.length), 'HEAD: the same length');
    t.equal((await get(path, { headers: { 'If-None-Match': r.headers.get('etag')! } })).status, 304);
  }
  const bad = await get('/p/309/sp/30900/flvclipper/entry_id/1_image000/width/abc');
  t.equal(bad.status, 400);
  t.equal(errorCode(bad), '25');
  t.equal(errorCode(await get('/p/309/sp/30900/flvclipper/entry_id/1_image000/ks/garbage')), '7');
});

t.test('a clip has validators: conditional requests get 304, a stale If-Range the whole clip', async (t) => {
  const clip = '/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/clip_from/2000/clip_to/6000';
  const r = await get(clip);
  const body = Buffer.from(await r.arrayBuffer());
  const etag = r.headers.get('etag');
  t.ok(etag, 'an ETag');
  t.equal(r.headers.get('last-modified'), 'Sun, 19 Nov 2000 08:52:00 GMT', 'the media Last-Modified');
  t.equal(r.headers.get('accept-ranges'), 'bytes');
  for (const [what, headers] of [
    ['If-None-Match', { 'If-None-Match': etag! }],
    ['If-None-Match, weak', { 'If-None-Match': `W/${etag}` }],
    ['If-Modified-Since', { 'If-Modified-Since': r.headers.get('last-modified')! }],
  ] as const) {
    const c = await get(clip, { headers });
    t.equal(c.status, 304, what);
    t.equal((await c.arrayBuffer()).byteLength, 0);
  }
  t.not((await get('/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/clip_from/2000/clip_to/8000', { method: 'HEAD' })).headers.get('etag'), etag, 'another span, another ETag');
  const range = await get(clip, { headers: { Range: 'bytes=0-99', 'If-Range': etag! } });
  t.equal(range.status, 206, 'If-Range with the ETag: the range');
  t.same(Buffer.from(await range.arrayBuffer()), body.subarray(0, 100));
  const stale = await get(clip, { headers: { Range: 'bytes=0-99', 'If-Range': '"stale"' } });
  t.equal(stale.status, 200, 'a stale If-Range: the whole clip');
  t.equal(Buffer.from(await stale.arrayBuffer()).length, body.length);
});
