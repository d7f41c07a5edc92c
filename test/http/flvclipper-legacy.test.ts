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
