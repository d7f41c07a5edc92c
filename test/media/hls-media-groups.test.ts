// The packager master's EXT-X-MEDIA groups follow RFC 8216 (4.3.4.1.1): every NAME unique within
// its group, and no more than one member with DEFAULT=YES. Two audio flavors of one language (a
// stereo and a 5.1 English, both the entry's default, or both named by defaultAudioLang) and two
// captions with the same label gave two "en" / "English" members, both DEFAULT=YES: m3u8-parser
// (video.js) keys renditions by NAME and kept one of each, and which default a player takes was
// left to it.
import t from 'tap';
import { Parser as M3u8Parser, type Manifest } from 'm3u8-parser';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { buildTimeline, hlsPolicy } from '../../src/media/segment.js';
import { masterPlaylist } from '../../src/media/hls/playlists.js';
import type { Presentation, Rendition } from '../../src/media/presentation.js';
import { sample } from './helpers.js';

const BIG = { maxMoovBytes: 64 << 20 };
const rendition = (f: number, clips: Rendition['clips'], extra: Partial<Rendition> = {}): Rendition => ({
  f, clips, hasVideo: !!clips[0].video, hasAudio: !!clips[0].audio, width: 426, height: 240, frameRate: 25, language: '', label: '', isDefault: false, ...extra,
});
const parse = (text: string): Manifest => {
  const p = new M3u8Parser();
  p.push(text);
  p.end();
  return p.manifest;
};

t.test('same-language audio and same-label captions: unique NAMEs, one DEFAULT each', async (t) => {
  const hls = hlsPolicy(10000);
  const video = await readMediaIndex(sample('h264-240p.mp4'), BIG);
  const eng = await readMediaIndex(sample('alt-audio-eng.mp4'), BIG);
  const spa = await readMediaIndex(sample('alt-audio-spa.mp4'), BIG);
  const p: Presentation = {
    container: 'ts',
    captions: [
      { n: 1, languageCode: 'en', label: 'English', isDefault: true },
      { n: 2, languageCode: 'en', label: 'English', isDefault: true },
      { n: 3, languageCode: 'es', label: 'Español', isDefault: false },
    ],
    renditions: [
      rendition(1, [buildTimeline(video, hls, undefined, { video: true, audio: false })]),
      rendition(2, [buildTimeline(eng, hls)], { language: 'en', isDefault: true }),
      rendition(3, [buildTimeline(eng, hls)], { language: 'en', isDefault: true }),
      rendition(4, [buildTimeline(spa, hls)], { language: 'es', label: 'Español' }),
    ],
  };
  const text = masterPlaylist(p);
  const media = text.split('\n').filter((l) => l.startsWith('#EXT-X-MEDIA:'));
  for (const type of ['AUDIO', 'SUBTITLES']) {
    const group = media.filter((l) => l.includes(`TYPE=${type},`));
    const names = group.map((l) => /NAME="([^"]*)"/.exec(l)![1]);
    t.equal(group.length, 3, `${type}: three members`);
    t.equal(new Set(names).size, 3, `${type}: unique NAMEs ${JSON.stringify(names)}`);
    t.equal(group.filter((l) => l.includes('DEFAULT=YES')).length, 1, `${type}: one DEFAULT=YES`);
    t.ok(group[0].includes('DEFAULT=YES'), `${type}: the first marked default`);
  }
  const m = parse(text);
  t.equal(Object.keys(m.mediaGroups.AUDIO.audio).length, 3, 'm3u8-parser sees three audio renditions');
  t.equal(Object.keys(m.mediaGroups.SUBTITLES.subs).length, 3, 'and three subtitle renditions');
  t.same(Object.values(m.mediaGroups.AUDIO.audio).map((x) => x.uri), ['index-f2-a1.m3u8', 'index-f3-a1.m3u8', 'index-f4-a1.m3u8']);
});
