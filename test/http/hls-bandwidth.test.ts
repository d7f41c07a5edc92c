// The packager's HLS masters state what their segments really weigh: BANDWIDTH is the peak and
// AVERAGE-BANDWIDTH the average bit rate of the segment files a player downloads (RFC 8216
// 4.3.4.2), headers and all, with the heaviest rendition of an AUDIO group added. Each is checked
// here against the bytes of every segment fetched, MPEG-TS and fMP4, muxed, alternate audio and
// audio-only. Stated too low, AVPlayer and ExoPlayer pick a variant the link cannot carry (Apple's
// validator fails a peak over 110% of BANDWIDTH).
import t from 'tap';
import { Parser as M3u8Parser, type Manifest } from 'm3u8-parser';
import { startServer } from '../helpers/server.js';

const srv = await startServer(t);
const P = '/p/309/sp/30900/serveFlavor';

const m3u8 = (text: string): Manifest => {
  const p = new M3u8Parser();
  p.push(text);
  p.end();
  return p.manifest;
};
const rel = (base: string, ref: string): string => new URL(ref, `http://x${base}`).pathname;

async function fetchOk(path: string): Promise<Buffer> {
  const r = await fetch(`${srv.url}${path}`);
  if (r.status !== 200) throw new Error(`${path}: ${r.status}`);
  return Buffer.from(await r.arrayBuffer());
}

/** Peak and average bit rate of a media playlist's segments as fetched (bits/s). */
async function measured(playlist: string): Promise<{ peak: number; average: number }> {
  const idx = m3u8((await fetchOk(playlist)).toString());
  let peak = 0;
  let bytes = 0;
  let seconds = 0;
  for (const s of idx.segments) {
    const n = (await fetchOk(rel(playlist, s.uri))).length;
    peak = Math.max(peak, (n * 8) / s.duration);
    bytes += n;
    seconds += s.duration;
  }
  return { peak, average: (bytes * 8) / seconds };
}

const masters: Array<[string, string]> = [
  ['MPEG-TS, muxed audio', `/hls${P}/entryId/1_rcit0qgs/v/1/flavorId/1_f,1rcit00,2rcit00,3rcit00,/name/a.mp4.urlset/master.m3u8`],
  ['fMP4, muxed audio', `/hls/container/fmp4${P}/entryId/1_rcit0qgs/v/1/flavorId/1_f,1rcit00,2rcit00,3rcit00,/name/a.mp4.urlset/master.m3u8`],
  ['MPEG-TS, alternate audio', `/hls${P}/entryId/1_alt0audi/v/1/flavorId/,1_f1alt000,1_f2alt000,1_a1alt000,1_a2alt000,/name/a.mp4.urlset/master.m3u8`],
  ['fMP4, alternate audio', `/hls/container/fmp4${P}/entryId/1_alt0audi/v/1/flavorId/,1_f1alt000,1_f2alt000,1_a1alt000,1_a2alt000,/name/a.mp4.urlset/master.m3u8`],
  ['MPEG-TS, audio only', `/hls${P}/entryId/1_audio001/v/1/flavorId/1_f1audio0/name/a.mp4/master.m3u8`],
];

for (const [what, master] of masters) {
  t.test(`${what}: BANDWIDTH and AVERAGE-BANDWIDTH are the segments' own`, async (t) => {
    const m = m3u8((await fetchOk(master)).toString());
    const audio = Object.values(m.mediaGroups.AUDIO.audio ?? {});
    let audioPeak = 0;
    let audioAverage = 0;
    for (const r of audio) {
      const a = await measured(rel(master, r.uri!));
      audioPeak = Math.max(audioPeak, a.peak);
      audioAverage = Math.max(audioAverage, a.average);
    }
    t.ok(m.playlists?.length, 'variants');
    for (const v of m.playlists ?? []) {
      const own = await measured(rel(master, v.uri));
      const peak = own.peak + audioPeak;
      const average = own.average + audioAverage;
      const bw = v.attributes.BANDWIDTH!;
      const avg = v.attributes['AVERAGE-BANDWIDTH']!;
      // EXTINF has 3 decimals: a few bits/s of slack either way, none for a wrong weighing
      t.ok(bw >= peak * 0.999, `${v.uri}: BANDWIDTH ${bw} covers the peak ${Math.round(peak)}`);
      t.ok(bw <= peak * 1.01, `${v.uri}: BANDWIDTH ${bw} is the peak ${Math.round(peak)}, not more`);
      t.ok(avg >= average * 0.999, `${v.uri}: AVERAGE-BANDWIDTH ${avg} covers the average ${Math.round(average)}`);
      t.ok(avg <= average * 1.01, `${v.uri}: AVERAGE-BANDWIDTH ${avg} is the average ${Math.round(average)}, not more`);
    }
  });
}
