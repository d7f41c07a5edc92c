// Manifests say how many channels an AAC track really has: the HLS master's CHANNELS (RFC 8216
// 4.3.4.1), the MPD's AudioChannelConfiguration, Smooth Streaming's Channels. AVPlayer picks a
// stereo or a surround rendition by CHANNELS, and a mono or 5.1 track announced as "2" is chosen
// for the wrong speakers. The count is the codec configuration's (AAC's AudioSpecificConfig, AC-3's
// dac3, E-AC-3's dec3): ffmpeg writes channelcount 2 in the sample entry of mono and 5.1 tracks
// alike, and the master used to say "2" for every rendition.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { Parser as M3u8Parser, type Manifest } from 'm3u8-parser';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, hlsPolicy } from '../../src/media/segment.js';
import { masterPlaylist } from '../../src/media/hls/playlists.js';
import { buildMpd } from '../../src/media/dash/mpd.js';
import { mssManifest } from '../../src/media/mss/manifest.js';
import type { Presentation, Rendition } from '../../src/media/presentation.js';
import { requireCommands } from '../helpers/system.js';
import { sample } from './helpers.js';

const BIG = { maxMoovBytes: 64 << 20 };
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-channels-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const rendition = (f: number, clips: Rendition['clips'], extra: Partial<Rendition> = {}): Rendition => ({
  f, clips, hasVideo: !!clips[0].video, hasAudio: !!clips[0].audio, width: 426, height: 240, frameRate: 25, language: '', label: '', isDefault: false, ...extra,
});

const parseM3u8 = (text: string): Manifest => {
  const p = new M3u8Parser();
  p.push(text);
  p.end();
  return p.manifest;
};

t.test('CHANNELS of each AUDIO rendition is its track\'s channel count', async (t) => {
  requireCommands(t, ['ffmpeg'], 'ffmpeg');
  const made: Record<string, string> = {};
  const kinds = [['mono', 'mono', 'aac'], ['surround', '5.1', 'aac'], ['ac3', '5.1', 'ac3'], ['eac3', '5.1', 'eac3'], ['ac3stereo', 'stereo', 'ac3']] as const;
  for (const [name, layout, codec] of kinds) {
    const out = join(dir, `${name}.mp4`);
    const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', `sine=frequency=440:sample_rate=48000`, '-t', '4',
      '-af', `aformat=channel_layouts=${layout}`, '-c:a', codec, out], { encoding: 'utf8' });
    t.equal(r.status, 0, r.stderr);
    made[name] = out;
  }
  const hls = hlsPolicy(10000);
  const video = await readMediaIndex(sample('h264-240p.mp4'), BIG);
  const stereo = await readMediaIndex(sample('alt-audio-eng.mp4'), BIG);
  const mono = await readMediaIndex(made.mono, BIG);
  const surround = await readMediaIndex(made.surround, BIG);
  const p: Presentation = {
    container: 'ts',
    captions: [],
    renditions: [
      rendition(1, [buildTimeline(video, hls, undefined, { video: true, audio: false })]),
      rendition(2, [buildTimeline(stereo, hls)], { language: 'en', label: 'Stereo', isDefault: true }),
      rendition(3, [buildTimeline(mono, hls)], { language: 'en', label: 'Mono' }),
      rendition(4, [buildTimeline(surround, hls)], { language: 'en', label: 'Surround' }),
      rendition(5, [buildTimeline(await readMediaIndex(made.ac3, BIG), hls)], { language: 'en', label: 'AC-3 5.1' }),
      rendition(6, [buildTimeline(await readMediaIndex(made.eac3, BIG), hls)], { language: 'en', label: 'E-AC-3 5.1' }),
      rendition(7, [buildTimeline(await readMediaIndex(made.ac3stereo, BIG), hls)], { language: 'en', label: 'AC-3 stereo' }),
    ],
  };
  const text = masterPlaylist(p);
  const group = parseM3u8(text).mediaGroups.AUDIO.audio;
  t.same(Object.keys(group), ['Stereo', 'Mono', 'Surround', 'AC-3 5.1', 'E-AC-3 5.1', 'AC-3 stereo']);
  const channelsOf = (name: string): string | undefined => /CHANNELS="([^"]*)"/.exec(text.split('\n').find((l) => l.includes(`NAME="${name}"`)) ?? '')?.[1];
  t.equal(channelsOf('Stereo'), '2');
  t.equal(channelsOf('Mono'), '1');
  t.equal(channelsOf('Surround'), '6');
  t.equal(channelsOf('AC-3 5.1'), '6');
  t.equal(channelsOf('E-AC-3 5.1'), '6');
  t.equal(channelsOf('AC-3 stereo'), '2');
  // the MPD says the same of the same tracks
  const mpd = buildMpd({ ...p, container: 'fmp4' });
  t.same([...mpd.matchAll(/audio_channel_configuration:2011" value="(\d+)"/g)].map((m) => m[1]), ['2', '1', '6', '6', '6', '2']);
  t.same([...mssManifest({ ...p, container: 'fmp4' }).matchAll(/ Channels="(\d+)"/g)].map((m) => m[1]), ['2', '1', '6', '6', '6', '2']);
});
