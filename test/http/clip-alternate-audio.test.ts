// A clipped entry with alternate audio stays in sync. The video of a clip starts at the key frame
// at or before clipFrom (2 s for seekFrom/3000 on the sample's 2 s GOPs); an alternate audio
// flavor, a file of its own, used to start at clipFrom itself, so its time 0 was another moment
// of the source than the video's and the sound ran a second ahead of the pictures in every
// player. Checked on the bytes: the first sample of each rendition's first segment is found in its
// source file (mp4box.js), and source time minus output time must be the same offset for video and
// audio, within one AAC frame. DASH (the urlset playManifest redirects to, video flavors in the
// same request) and HLS fMP4 (playManifest's master gives the audio flavor a URL of its own).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { startServer } from '../helpers/server.js';
import { sampleFlavorFile } from '../helpers/media-tools.js';
import { mp4boxParse } from '../media/helpers.js';

const srv = await startServer(t);
const AAC_FRAME_S = 1024 / 48000;

async function fetchOk(url: string): Promise<Buffer> {
  const r = await fetch(url.startsWith('http') ? url : `${srv.url}${url}`);
  if (r.status !== 200) throw new Error(`${url}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

interface Timed {
  bytes: Buffer;
  /** Presentation time, seconds: the output's own, or the source's after its edit list. */
  time: number;
}

/** Each sample of a file's only track (or its track of a kind) with its presentation time and bytes. */
function samplesOf(file: Buffer, kind: 'video' | 'audio'): Timed[] {
  const { file: f, info } = mp4boxParse(file);
  const track = info.tracks.find((x: any) => (kind === 'video' ? x.video : x.audio));
  const trak = f.getTrackById(track.id);
  // a progressive source's edit list shifts its times (ffmpeg: the B-frame delay, AAC priming)
  const mediaTime = trak.edts?.elst?.entries?.[0]?.media_time ?? 0;
  return f.getTrackSamplesInfo(track.id).map((s: any) => ({
    bytes: file.subarray(s.offset, s.offset + s.size),
    time: (s.cts - Math.max(0, mediaTime)) / s.timescale,
  }));
}

/** Source time minus output time of the first sample of a segment, found in its source by its bytes. */
function offsetOf(init: Buffer, segment: Buffer, source: string, kind: 'video' | 'audio'): number {
  const out = samplesOf(Buffer.concat([init, segment]), kind);
  const src = samplesOf(readFileSync(source), kind);
  const first = out.reduce((a, b) => (b.time < a.time ? b : a));
  const match = src.filter((s) => s.bytes.equals(first.bytes));
  if (match.length !== 1) throw new Error(`${kind}: the first sample is found ${match.length} times in ${source}`);
  return match[0].time - first.time;
}

const B = '/p/309/sp/0/playManifest/entryId/1_alt0audi';

t.test('DASH: the audio adaptation set starts where the video does', async (t) => {
  const r = await fetch(`${srv.url}${B}/format/mpegdash/protocol/http/seekFrom/3000/clipTo/9000/a.mpd`, { redirect: 'manual' });
  const mpdUrl = r.headers.get('location')!;
  const mpd = (await fetchOk(mpdUrl)).toString();
  const templates = [...mpd.matchAll(/initialization="([^"]+)" media="([^"]+)"/g)].map((m) => ({ init: m[1], media: m[2] }));
  const video = templates.find((x) => x.init.endsWith('init-f1-v1.mp4'))!;
  const audio = templates.find((x) => x.init.endsWith('init-f3-a1.mp4'))!;
  t.ok(video && audio, 'the 240p video and the English audio');
  const v = offsetOf(await fetchOk(video.init), await fetchOk(video.media.replace('$Number$', '1')), sampleFlavorFile('1_alt0audi', '1_f1alt000'), 'video');
  const a = offsetOf(await fetchOk(audio.init), await fetchOk(audio.media.replace('$Number$', '1')), sampleFlavorFile('1_alt0audi', '1_a1alt000'), 'audio');
  t.ok(Math.abs(v - 2) < 0.001, `the video starts at the key frame before 3 s (output 0 is source ${v.toFixed(3)} s)`);
  t.ok(Math.abs(a - v) < AAC_FRAME_S, `audio output 0 is source ${a.toFixed(3)} s, the video's ${v.toFixed(3)} s within a frame`);
});

t.test('HLS fMP4: an audio flavor asked for alone starts where the entry\'s video does', async (t) => {
  const master = (await fetchOk(`${B}/format/applehttp/protocol/http/seekFrom/3000/clipTo/9000/a.m3u8`)).toString();
  const videoUrl = master.split('\n').find((l) => l.startsWith('http') && l.includes('/flavorId/1_f1alt000/'))!;
  const audioUrl = /TYPE=AUDIO[^\n]*LANGUAGE="en"[^\n]*URI="([^"]+)"/.exec(master)![1];
  const fmp4 = (u: string): string => u.replace('/hls/', '/hls/container/fmp4/').replace(/index\.m3u8$/, '');
  const v = offsetOf(await fetchOk(`${fmp4(videoUrl)}init-v1-a1.mp4`), await fetchOk(`${fmp4(videoUrl)}seg-1-v1-a1.m4s`), sampleFlavorFile('1_alt0audi', '1_f1alt000'), 'video');
  const a = offsetOf(await fetchOk(`${fmp4(audioUrl)}init-a1.mp4`), await fetchOk(`${fmp4(audioUrl)}seg-1-a1.m4s`), sampleFlavorFile('1_alt0audi', '1_a1alt000'), 'audio');
  t.ok(Math.abs(v - 2) < 0.001, `the video starts at the key frame before 3 s (output 0 is source ${v.toFixed(3)} s)`);
  t.ok(Math.abs(a - v) < AAC_FRAME_S, `audio output 0 is source ${a.toFixed(3)} s, the video's ${v.toFixed(3)} s within a frame`);
});
