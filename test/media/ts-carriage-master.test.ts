// A rendition MPEG-TS cannot carry (Opus audio) stays listed in an HLS TS master, weighed by its
// samples, as before the master weighed TS segments (it failed the whole master, a 404 for the
// entry); its own segments still refuse it. fragmentLength (an fMP4 segment's length for the
// master, counted without making its boxes) equals the writer's body. SAMPLE-AES refuses MP3
// carried in an mp4a sample entry (it wrote a stream labelled AAC that held MP3), and the media
// facts an import reads name that audio mp3. Real files made by ffmpeg.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, hlsPolicy, type Timeline } from '../../src/media/segment.js';
import { masterPlaylist } from '../../src/media/hls/playlists.js';
import type { Presentation, Rendition } from '../../src/media/presentation.js';
import { tsSegment } from '../../src/media/ts/writer.js';
import { fragmentLength, mediaSegment } from '../../src/media/fmp4/writer.js';
import { mediaFacts } from '../../src/media/facts.js';
import { projectRoot } from '../helpers/repo.js';
import { requireCommands } from '../helpers/system.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-carriage-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const BIG = { maxMoovBytes: 64 << 20 };
const SAMPLE = join(projectRoot, 'fixtures/media/h264-240p.mp4');
const make = (name: string, audio: string[]) => {
  const out = join(dir, name);
  const r = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', '-y', '-i', SAMPLE, '-map', '0:v', '-map', '0:a', '-c:v', 'copy', ...audio, out]);
  if (r.status !== 0) throw new Error(`ffmpeg ${name}: ${r.stderr}`);
  return out;
};
const opus = make('opus.mp4', ['-c:a', 'libopus', '-b:a', '64k']);
const mp3 = make('mp3.mp4', ['-c:a', 'libmp3lame', '-b:a', '128k']);
const timeline = async (file: string): Promise<Timeline> => buildTimeline(await readMediaIndex(file, BIG), hlsPolicy(4000));
const rendition = (f: number, tl: Timeline): Rendition => ({
  f, clips: [tl], hasVideo: true, hasAudio: true, width: 426, height: 240, frameRate: 25, language: '', label: '', isDefault: f === 1,
});

t.test('an HLS TS master lists a rendition MPEG-TS cannot carry; its segments refuse it', async (t) => {
  const aac = await timeline(SAMPLE);
  const withOpus = await timeline(opus);
  for (const container of ['ts', 'fmp4'] as const) {
    const p: Presentation = { renditions: [rendition(1, aac), rendition(2, withOpus)], captions: [], container, iframes: true };
    const master = masterPlaylist(p);
    t.match(master, /index-f2-v1-a1\.m3u8/, `${container}: the Opus rendition is listed`);
    t.match(master, /CODECS="avc1\.[0-9a-f]+,[Oo]pus"/, `${container}: with its codecs`);
    t.equal((master.match(/#EXT-X-STREAM-INF/g) ?? []).length, 2, `${container}: both variants`);
  }
  t.throws(() => tsSegment(withOpus, 0), /MPEG-TS carries AAC, MP3, AC-3 and E-AC-3 audio, not/, 'its TS segment is refused, saying why');
});

t.test('fragmentLength is the length of the fMP4 segment the writer makes', async (t) => {
  for (const file of [SAMPLE, opus, mp3, join(projectRoot, 'fixtures/media/audio-128k.mp4')]) {
    const tl = await timeline(file);
    const counted = tl.segments.map((s) => fragmentLength(tl, s));
    const made = tl.segments.map((s) => mediaSegment(tl, s, { sequence: 1, dash: false }).length);
    t.same(counted, made, `${file.split('/').pop()}: every segment`);
  }
});

t.test('MP3 in an mp4a sample entry: no SAMPLE-AES, and named mp3', async (t) => {
  const tl = await timeline(mp3);
  t.equal(tl.audio?.track.format, 'mp4a', 'ffmpeg wrote it as mp4a');
  const key = Buffer.alloc(16, 7);
  t.throws(() => tsSegment(tl, 0, { encryption: { scheme: 'sample-aes', key, keyUri: 'k' }, sequence: 1 }), /SAMPLE-AES MPEG-TS carries AAC only \(this audio is mp4a\.6b\)/);
  t.ok(tsSegment(tl, 0).length > 0, 'clear TS carries it as MPEG audio');
  t.match(await mediaFacts(mp3, BIG.maxMoovBytes), { audioCodec: 'mp3', videoCodec: 'h264' });
});
