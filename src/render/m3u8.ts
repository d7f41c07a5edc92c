// The HLS master body of VOD_PACKAGER_HLS (Kaltura's kM3U8ManifestRenderer).
import type { CaptionAsset } from '../catalog/types.js';
import type { FlavorInfo } from './types.js';

export interface M3u8Input {
  flavors: FlavorInfo[];
  /** WebVTT subtitle renditions: the subtitle playlist URL of each caption. */
  subtitles: { caption: CaptionAsset; url: string }[];
  preferredBitrate: number | null;
}

/** The reference's BANDWIDTH: kbit/s scaled to TS overhead, plus four PES packets per frame. */
export const bandwidth = (f: FlavorInfo) => Math.floor(f.bitrate * 1024 * (188 / 184) + f.frameRate * 188 * 4);

const isAudioRendition = (f: FlavorInfo) => f.audioLanguage !== null || f.audioLabel !== null;
const quote = (s: string) => s.replace(/["\r\n]/g, '');

/** Variant order (sortFlavors): audio last, default audio first among audio, preferred bitrate first, then bitrate. */
export function sortForMaster(flavors: FlavorInfo[], preferredBitrate: number | null): FlavorInfo[] {
  const video = flavors.filter((f) => f.width > 0 || f.height > 0);
  const audio = flavors.filter((f) => !(f.width > 0 || f.height > 0));
  video.sort((a, b) => a.bitrate - b.bitrate);
  if (preferredBitrate !== null && video.length) {
    const closest = video.reduce((best, f) => (Math.abs(f.bitrate - preferredBitrate) < Math.abs(best.bitrate - preferredBitrate) ? f : best));
    video.splice(video.indexOf(closest), 1);
    video.unshift(closest);
  }
  audio.sort((a, b) => Number(b.defaultAudio) - Number(a.defaultAudio));
  return [...video, ...audio];
}

export function renderM3u8(input: M3u8Input): string {
  const flavors = sortForMaster(input.flavors, input.preferredBitrate);
  const audio = flavors.filter(isAudioRendition);
  const variants = flavors.filter((f) => !isAudioRendition(f));
  const lines: string[] = ['#EXTM3U'];

  input.subtitles.forEach(({ caption, url }, i) => {
    const name = caption.label || caption.language || `Track${i + 1}`;
    const lang = caption.languageCode ? `LANGUAGE="${quote(caption.languageCode)}",` : '';
    lines.push(`#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="${quote(name)}",DEFAULT=${caption.isDefault ? 'YES' : 'NO'},AUTOSELECT=YES,FORCED=NO,${lang}URI="${url}"`);
  });

  audio.forEach((f, i) => {
    const yes = i === 0 ? 'YES' : 'NO';
    lines.push(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",LANGUAGE="${quote(f.audioLanguage ?? 'und')}",NAME="${quote(f.audioLabel || f.audioLanguageName || 'Undefined')}",AUTOSELECT=${yes},DEFAULT=${yes},URI="${f.url}"`);
  });
  if (audio.length) lines.push('');

  // an audio-only entry still needs one variant: its first audio rendition
  const items = variants.length === 0 && audio.length ? [audio[0]] : variants;
  for (const f of items) {
    const attrs = [`PROGRAM-ID=1`, `BANDWIDTH=${bandwidth(f)}`];
    if (f.width && f.height) attrs.push(`RESOLUTION=${f.width}x${f.height}`);
    if (f.frameRate > 0) attrs.push(`FRAME-RATE=${f.frameRate.toFixed(3)}`);
    const codecs = f.codecs || (bandwidth(f) <= 66960 ? 'mp4a.40.2' : '');
    if (codecs) attrs.push(`CODECS="${codecs}"`);
    if (audio.length) attrs.push('AUDIO="audio"');
    if (input.subtitles.length) attrs.push('SUBTITLES="subs"');
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, f.url);
  }
  return lines.join('\n') + '\n';
}
