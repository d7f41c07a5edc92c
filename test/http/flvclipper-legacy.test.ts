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
  // an entry without rules still gets its largest web flavor
  const plain = await ffprobeJson(`${s.url}/p/309/sp/30900/flvclipper/entry_id/1_rcit0qgs/clip_to/2000`);
  t.equal(plain.json.streams.find((x: { codec_type: string }) => x.codec_type === 'video')?.height, 720);
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
