// src/media/codecs.ts says which codecs MPEG-TS carries; the TS writer refuses the others and the
// delivery stage sends them as fMP4. The table and the writer agree for every sample entry the
// writers know, and the delivery stage's choice follows the table (HEVC aside: fMP4 for Apple).
import t from 'tap';
import { tsCarriesCodec, tsCarriesCodecName, tsCarriesCodecs, TS_AUDIO_ENTRIES, TS_VIDEO_ENTRIES } from '../../src/media/codecs.js';
import { tsCarries } from '../../src/media/ts/writer.js';
import type { Timeline } from '../../src/media/segment.js';
import { whyFmp4 } from '../../src/delivery/urls.js';

const needsFmp4 = (f: Parameters<typeof whyFmp4>[0]): boolean => whyFmp4(f) !== null;

// sample entries and the codec strings the MP4 reader gives them
const VIDEO: Array<[string, string]> = [
  ['avc1', 'avc1.64001f'], ['avc3', 'avc3.64001f'], ['hvc1', 'hvc1.1.6.L93.B0'], ['hev1', 'hev1.1.6.L93.B0'],
  ['vp09', 'vp09.00.10.08.01.02.02.02.00'], ['vp08', 'vp08'], ['av01', 'av01.0.04M.08'], ['mp4v', 'mp4v.20.3'],
];
const AUDIO: Array<[string, string]> = [
  ['mp4a', 'mp4a.40.2'], ['mp4a', 'mp4a.40.5'], ['mp4a', 'mp4a.6b'], ['mp4a', 'mp4a.69'], ['mp4a', 'mp4a.a5'], ['mp4a', 'mp4a.a9'], ['.mp3', '.mp3'], ['ac-3', 'ac-3'], ['ec-3', 'ec-3'],
  ['Opus', 'opus'], ['fLaC', 'fLaC'], ['alac', 'alac'],
];

const timeline = (kind: 'video' | 'audio', format: string, codecString: string): Timeline =>
  ({ [kind]: { track: { kind, format, codecString, nalLengthSize: 4 } } }) as unknown as Timeline;

t.test('the table and the TS writer agree, codec by codec', async (t) => {
  for (const [kind, list] of [['video', VIDEO], ['audio', AUDIO]] as const) {
    for (const [format, codec] of list) {
      const writer = tsCarries(timeline(kind, format, codec));
      t.equal(tsCarriesCodec(codec), writer, `${kind} ${codec}: the writer ${writer ? 'carries' : 'refuses'} it, and the table says so`);
    }
  }
  for (const codec of ['mp4a.a5', 'mp4a.a6', 'mp4a.a9']) t.notOk(tsCarries(timeline('audio', 'mp4a', codec)), `${codec} in an mp4a entry: refused, never sent as AAC's ADTS`);
  t.same([...TS_VIDEO_ENTRIES].sort(), ['avc1', 'avc3', 'hev1', 'hvc1']);
  t.same([...TS_AUDIO_ENTRIES].sort(), ['.mp3', 'ac-3', 'ec-3', 'mp4a']);
});

t.test('lists and names', async (t) => {
  t.ok(tsCarriesCodecs('avc1.64001f,mp4a.40.2'));
  t.ok(tsCarriesCodecs(''), 'unknown: nothing against');
  t.notOk(tsCarriesCodecs('vp09.00.10.08,opus'));
  t.notOk(tsCarriesCodecs('avc1.64001f,opus'));
  t.notOk(tsCarriesCodecs('vp09.00.10.08'));
  t.ok(tsCarriesCodecs('mp3'), 'a flavor name given as codecs');
  for (const n of ['h264', 'h265', 'hevc', 'aac', 'mp3', 'ac3', 'eac3', '', 'something']) t.ok(tsCarriesCodecName(n), n);
  for (const n of ['vp9', 'VP8', 'av1', 'opus', 'flac']) t.notOk(tsCarriesCodecName(n), n);
});

t.test('the delivery stage sends as fMP4 what MPEG-TS does not carry, and HEVC', async (t) => {
  const f = (codecs: string, videoCodec = '', audioCodec = '', rotation = 0) => ({ codecs, videoCodec, audioCodec, rotation });
  t.notOk(needsFmp4(f('avc1.64001f,mp4a.40.2', 'h264', 'aac')), 'H.264/AAC: TS, as before');
  t.notOk(needsFmp4(f('mp4a.40.2', '', 'aac')), 'AAC only: TS');
  t.notOk(needsFmp4(f('avc1.64001f,ac-3')), 'AC-3: TS');
  t.notOk(needsFmp4(f('', 'h264', 'aac')), 'names only: TS');
  t.ok(needsFmp4(f('hvc1.1.6.L93.B0,mp4a.40.2')), 'HEVC: fMP4');
  t.ok(needsFmp4(f('', 'h265', 'aac')), 'HEVC by name: fMP4');
  t.ok(needsFmp4(f('av01.0.04M.08,mp4a.40.2')), 'AV1');
  t.ok(needsFmp4(f('vp09.00.10.08.01.02.02.02.00,opus', 'vp9', 'opus')), 'VP9 + Opus');
  t.ok(needsFmp4(f('vp09.00.10.08.01.02.02.02.00', 'vp9')), 'VP9 alone');
  t.ok(needsFmp4(f('avc1.64001f,opus', 'h264', 'opus')), 'H.264 + Opus');
  t.ok(needsFmp4(f('avc1.64001f,fLaC')), 'H.264 + FLAC');
  t.ok(needsFmp4(f('', 'vp9', 'opus')), 'VP9 by name');
  t.ok(needsFmp4(f('', 'h264', 'opus')), 'Opus by name');
  t.ok(needsFmp4(f('avc1.64001f', 'h264', 'opus')), 'codecs for the video alone, Opus named: fMP4');
  t.notOk(needsFmp4(f('AVC1.64001F,MP4A.40.2', 'h264', 'aac')), 'codecs written in capitals: TS, as before');
  t.ok(needsFmp4(f('HVC1.1.6.L93.B0')), 'HEVC in capitals: fMP4');
  t.ok(needsFmp4(f('avc1.64001f,mp4a.a5')), 'AC-3 in an mp4a entry: fMP4 (TS would send it as AAC)');
  t.notOk(needsFmp4(f('avc1.64001f,MP4A.40.2')), 'AAC in capitals: TS');
  for (const turn of [90, 180, 270]) t.ok(needsFmp4(f('avc1.64001f,mp4a.40.2', 'h264', 'aac', turn)), `H.264/AAC turned ${turn}°: fMP4 (TS has no place for the turn)`);
  // the reason the decision trace gives
  t.equal(whyFmp4(f('avc1.64001f,mp4a.40.2', 'h264', 'aac')), null);
  t.equal(whyFmp4(f('avc1.64001f,mp4a.40.2', 'h264', 'aac', 90)), 'its picture is turned 90° clockwise, which MPEG-TS cannot carry');
  t.equal(whyFmp4(f('hvc1.1.6.L93.B0,mp4a.40.2', 'h265', 'aac')), 'it is HEVC, which Apple plays from fMP4 only');
  t.equal(whyFmp4(f('vp09.00.10.08,opus', 'vp9', 'opus')), 'MPEG-TS cannot carry its codecs (vp09.00.10.08,opus, vp9, opus)');
});
