// captionAsset.serveWebVTT as Kaltura answers it (CaptionAssetService::serveWebVTTAction): without a
// segmentIndex, an HLS subtitle playlist of the caption's segments (segmentIndex/{n}.vtt beside
// it); with -1 the whole file; with n the cues shown during segment n. kdeliver answered the
// whole WebVTT for all of them, so the URI playManifest writes into an HLS master for profiles
// other than its own packager (".../serveWebVTT/captionAssetId/{id}/segmentDuration/{n}/.../a.m3u8",
// playmanifest.md) gave HLS players a WebVTT file where a playlist belongs. Read here by
// m3u8-parser and webvtt-parser (nobody here wrote either).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { Parser as M3u8Parser } from 'm3u8-parser';
import webvtt from 'webvtt-parser';
import { startServer } from '../helpers/server.js';
import { generateKs } from '../../src/access/ks.js';
import { repoPath } from '../helpers/repo.js';

const ENTITIES = JSON.parse(readFileSync(repoPath('node_modules/webvtt-parser/html-entities.json'), 'utf8'));
const parseVtt = (vtt: string) => new webvtt.WebVTTParser(ENTITIES).parse(vtt, 'subtitles') as { errors: unknown[]; cues: Array<{ startTime: number; endTime: number; text: string }> };
const srv = await startServer(t);
const API = `${srv.url}/api_v3/index.php/service/caption_captionasset/action/serveWebVTT`;

t.test('no segmentIndex: an HLS playlist whose segments together hold every cue', async (t) => {
  const whole = parseVtt(await (await fetch(`${API}/captionAssetId/1_c1alt000/segmentIndex/-1`)).text());
  t.same(whole.errors, []);
  t.ok(whole.cues.length >= 2, 'the whole file (-1) has its cues');
  const entry = await srv.app.catalog.getEntry('1_alt0audi');
  const playlistUrl = `${API}/captionAssetId/1_c1alt000/segmentDuration/4/version/1/a.m3u8`;
  const res = await fetch(playlistUrl);
  t.equal(res.status, 200);
  t.match(res.headers.get('content-type'), /^application\/x-mpegurl/, 'a playlist, as HLS players expect at a SUBTITLES URI');
  const p = new M3u8Parser();
  p.push(await res.text());
  p.end();
  const seconds = Math.trunc(entry!.duration);
  t.equal(p.manifest.targetDuration, 4);
  t.equal(p.manifest.endList, true);
  t.equal(p.manifest.segments.length, Math.ceil(seconds / 4), 'a segment per 4 s of the entry');
  t.equal(p.manifest.segments.reduce((s, g) => s + g.duration, 0), seconds, 'covering the entry');
  const seen = new Map<string, { start: number; end: number; text: string }>();
  for (const [i, seg] of p.manifest.segments.entries()) {
    t.equal(seg.uri, `segmentIndex/${i + 1}.vtt`);
    const r = await fetch(new URL(seg.uri, playlistUrl));
    t.equal(r.status, 200, `${seg.uri}`);
    t.match(r.headers.get('content-type'), /^text\/vtt/);
    const parsed = parseVtt(await r.text());
    t.same(parsed.errors, [], `${seg.uri}: valid WebVTT`);
    for (const c of parsed.cues) {
      t.ok(c.startTime < (i + 1) * 4 && c.endTime >= i * 4, `${seg.uri}: a cue shown during it (${c.startTime}-${c.endTime})`);
      seen.set(`${c.startTime} ${c.endTime} ${c.text}`, { start: c.startTime, end: c.endTime, text: c.text });
    }
  }
  t.same([...seen.values()].sort((a, b) => a.start - b.start), whole.cues.map((c) => ({ start: c.startTime, end: c.endTime, text: c.text })), 'the segments hold every cue of the file, at its own time');
});

t.test('a segment with a local timestamp carries Kaltura\'s timestamp map; bad indexes are refused', async (t) => {
  const seg = await (await fetch(`${API}/captionAssetId/1_c1alt000/segmentIndex/1/localTimestamp/0`)).text();
  t.match(seg, /^WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00\.000\n/);
  t.notMatch(await (await fetch(`${API}/captionAssetId/1_c1alt000/segmentIndex/1`)).text(), /X-TIMESTAMP-MAP/, 'none at its default 10000');
  for (const bad of ['abc', '-2', '1.5']) {
    const r = await (await fetch(`${API}/captionAssetId/1_c1alt000/segmentIndex/${bad}?format=1`)).json();
    t.equal(r.code, 'INVALID_ENUM_VALUE', `segmentIndex ${bad}`);
  }
  const zero = await (await fetch(`${API}/captionAssetId/1_c1alt000/segmentDuration/0?format=1`)).json();
  t.equal(zero.code, 'INVALID_ENUM_VALUE', 'a playlist of 0 s segments');
});

t.test('the playlist\'s segments inherit the KS in its path', async (t) => {
  const admin = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 600, now: Math.floor(Date.now() / 1000) });
  const playlistUrl = `${API}/captionAssetId/1_c1alt000/segmentDuration/30/ks/${admin}/version/1/a.m3u8`;
  const text = await (await fetch(playlistUrl)).text();
  const first = new URL(text.split('\r\n').find((l) => l.endsWith('.vtt'))!, playlistUrl);
  t.match(first.pathname, new RegExp(`/ks/${admin}/version/1/segmentIndex/1\\.vtt$`));
  t.match(await (await fetch(first)).text(), /^WEBVTT/);
});
