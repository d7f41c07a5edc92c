// A variant's CODECS lists every format it may play (RFC 8216 4.3.4.2): its own video, and the
// audio of each rendition of its AUDIO group. The master listed only the first rendition's audio,
// so with an AAC and an AC-3 rendition it said "avc1…,mp4a.40.2": a player that checks CODECS
// before it switches (AVPlayer, ExoPlayer's track selection) takes the AC-3 rendition for
// unplayable or plays it undeclared.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, hlsPolicy } from '../../src/media/segment.js';
import { masterPlaylist } from '../../src/media/hls/playlists.js';
import type { Presentation, Rendition } from '../../src/media/presentation.js';
import { requireCommands } from '../helpers/system.js';
import { sample } from './helpers.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-group-codecs-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const rendition = (f: number, clips: Rendition['clips'], extra: Partial<Rendition> = {}): Rendition => ({
  f, clips, hasVideo: !!clips[0].video, hasAudio: !!clips[0].audio, width: 426, height: 240, frameRate: 25, language: '', label: '', isDefault: false, ...extra,
});

t.test('CODECS names the audio of every rendition of the group, once each', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const ac3 = join(dir, 'ac3.mp4');
  const made = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '4', '-ac', '2', '-c:a', 'ac3', ac3], { encoding: 'utf8' });
  t.equal(made.status, 0, made.stderr);
  const hls = hlsPolicy(10000);
  const p: Presentation = {
    container: 'ts',
    captions: [],
    renditions: [
      rendition(1, [buildTimeline(await readMediaIndex(sample('h264-240p.mp4'), BIG), hls, undefined, { video: true, audio: false })]),
      rendition(2, [buildTimeline(await readMediaIndex(sample('alt-audio-eng.mp4'), BIG), hls)], { language: 'en', label: 'English', isDefault: true }),
      rendition(3, [buildTimeline(await readMediaIndex(sample('alt-audio-spa.mp4'), BIG), hls)], { language: 'es', label: 'Español' }),
      rendition(4, [buildTimeline(await readMediaIndex(ac3, BIG), hls)], { language: 'en', label: 'English 5.1' }),
    ],
  };
  const inf = masterPlaylist(p).split('\n').find((l) => l.startsWith('#EXT-X-STREAM-INF:'))!;
  t.equal(/CODECS="([^"]*)"/.exec(inf)?.[1], 'avc1.640015,mp4a.40.2,ac-3');
});
