// HLS playlists: the master (variants, AUDIO and SUBTITLES groups) and media playlists with exact
// segment durations. URLs are relative: every file of a set lives in the same URL directory.
// Encrypted renditions carry EXT-X-KEY lines in every media playlist (crypto/signalling.ts).
import type { Encryption } from '../crypto/encryption.js';
import { hlsKeyLines } from '../crypto/signalling.js';
import { iframeRates, iframesOf } from '../iframes.js';
import { type CaptionTrack, type Presentation, type Rendition, averageBandwidth, codecsOf, peakBandwidth, trackSuffix } from '../presentation.js';

const q = (s: string): string => `"${s.replace(/["\r\n]/g, '')}"`;

/** Which tracks each rendition contributes in a master: alternate audio makes video variants video-only. */
function masterLayout(p: Presentation): { variants: Rendition[]; audio: Rendition[]; muxedAudio: boolean } {
  const video = p.renditions.filter((r) => r.hasVideo);
  const audioOnly = p.renditions.filter((r) => !r.hasVideo && r.hasAudio);
  if (!video.length) return { variants: audioOnly, audio: [], muxedAudio: true };
  return { variants: video, audio: audioOnly, muxedAudio: audioOnly.length === 0 };
}

/**
 * NAME and DEFAULT of each member of one EXT-X-MEDIA group, as RFC 8216 (4.3.4.1.1) wants them:
 * names unique in the group (a repeated one, two "English" captions or an English stereo and 5.1
 * track, gets " (2)", " (3)"; m3u8 parsers key renditions by NAME and lose the others), and at
 * most one DEFAULT=YES: the first member marked default, else the first.
 */
function groupMembers<T>(items: T[], nameOf: (x: T, i: number) => string, isDefault: (x: T) => boolean): Array<{ name: string; isDefault: boolean }> {
  const first = Math.max(0, items.findIndex(isDefault));
  const used = new Set<string>();
  return items.map((x, i) => {
    const base = nameOf(x, i);
    let name = base;
    for (let k = 2; used.has(name); k++) name = `${base} (${k})`;
    used.add(name);
    return { name, isDefault: i === first };
  });
}

export function masterPlaylist(p: Presentation): string {
  const { variants, audio, muxedAudio } = masterLayout(p);
  const lines = ['#EXTM3U', '#EXT-X-INDEPENDENT-SEGMENTS'];
  const audioGroup = audio.length > 0;
  const subs = p.captions.length > 0;
  // the group's heaviest rendition: a variant must carry whichever one the viewer picks
  let audioPeak = 0;
  let audioAverage = 0;
  if (audioGroup) {
    const members = groupMembers(audio, (r, i) => r.label || r.language || `Audio ${i + 1}`, (r) => r.isDefault);
    audio.forEach((r, i) => {
      audioPeak = Math.max(audioPeak, peakBandwidth(r.clips, false, true, p.container));
      audioAverage = Math.max(audioAverage, averageBandwidth(r.clips, false, true, p.container));
      const { name, isDefault } = members[i];
      // the track's own channel count (as the MPD's AudioChannelConfiguration): AVPlayer picks a
      // stereo or a surround rendition by it
      const channels = r.clips[0].audio?.track.channels;
      lines.push(`#EXT-X-MEDIA:TYPE=AUDIO,GROUP-ID="audio",NAME=${q(name)},${r.language ? `LANGUAGE=${q(r.language)},` : ''}AUTOSELECT=YES,DEFAULT=${isDefault ? 'YES' : 'NO'},${channels ? `CHANNELS="${channels}",` : ''}URI=${q(`index-f${r.f}${trackSuffix(false, true)}.m3u8`)}`);
    });
  }
  if (subs) {
    const members = groupMembers(p.captions, (c) => c.label || c.languageCode || `Subtitles ${c.n}`, (c) => c.isDefault);
    p.captions.forEach((c: CaptionTrack, i) => {
      const { name, isDefault } = members[i];
      lines.push(`#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME=${q(name)},${c.languageCode ? `LANGUAGE=${q(c.languageCode)},` : ''}AUTOSELECT=YES,DEFAULT=${isDefault ? 'YES' : 'NO'},FORCED=NO,URI=${q(`subtitles-${c.n}.m3u8`)}`);
    });
  }
  for (const r of variants) {
    const v = r.hasVideo;
    const a = r.hasAudio && muxedAudio;
    const tl = r.clips[0];
    // every format the variant may play: its own, and each one of the AUDIO group (RFC 8216
    // 4.3.4.2), so a player that checks CODECS before choosing an AC-3 or HE-AAC rendition finds it
    const codecs = [...new Set([codecsOf(tl, v, a), ...audio.map((r) => codecsOf(r.clips[0], false, true))].filter(Boolean))].join(',');
    const attrs = [
      `BANDWIDTH=${peakBandwidth(r.clips, v, a, p.container) + audioPeak}`,
      `AVERAGE-BANDWIDTH=${averageBandwidth(r.clips, v, a, p.container) + audioAverage}`,
    ];
    if (v && r.width && r.height) attrs.push(`RESOLUTION=${r.width}x${r.height}`);
    if (v && r.frameRate) attrs.push(`FRAME-RATE=${r.frameRate.toFixed(3)}`);
    if (codecs) attrs.push(`CODECS=${q(codecs)}`);
    if (audioGroup) attrs.push('AUDIO="audio"');
    if (subs) attrs.push('SUBTITLES="subs"');
    lines.push(`#EXT-X-STREAM-INF:${attrs.join(',')}`, `index-f${r.f}${trackSuffix(v, a)}.m3u8`);
  }
  if (p.iframes) {
    // one I-frame stream per video variant, as nginx-vod-module writes them (single clips only)
    for (const r of variants) {
      const tl = r.clips[0];
      if (!r.hasVideo || r.clips.length !== 1 || !tl.video) continue;
      const bw = iframeRates(tl, p.container);
      if (!bw) continue;
      const attrs = [`BANDWIDTH=${bw.peak}`, `AVERAGE-BANDWIDTH=${bw.average}`];
      if (r.width && r.height) attrs.push(`RESOLUTION=${r.width}x${r.height}`);
      const codecs = codecsOf(tl, true, false);
      if (codecs) attrs.push(`CODECS=${q(codecs)}`);
      attrs.push(`URI=${q(`iframes-f${r.f}${iframeTracks(p.container, r.hasAudio && muxedAudio)}.m3u8`)}`);
      lines.push(`#EXT-X-I-FRAME-STREAM-INF:${attrs.join(',')}`);
    }
  }
  const th = p.thumbnails;
  // the HLS Image Media Playlist extension (Roku): RESOLUTION is one tile's
  if (th) lines.push(`#EXT-X-IMAGE-STREAM-INF:BANDWIDTH=${th.bandwidth},RESOLUTION=${th.tileWidth}x${th.tileHeight},CODECS="jpeg",URI=${q(`${th.base}images.m3u8`)}`);
  return lines.join('\n') + '\n';
}

/**
 * Tracks in an I-frame playlist's name: MPEG-TS ranges point into the variant's own segments (so
 * a cache holding them serves both), fMP4 ranges into video-only key-frame resources.
 */
const iframeTracks = (container: 'ts' | 'fmp4', muxedAudio: boolean): string => trackSuffix(true, container === 'ts' && muxedAudio);

/** I-frame playlist of one rendition: every key frame as a byte range, lasting until the next one. */
export function iframePlaylist(r: Rendition, o: MediaPlaylistOptions): string {
  const tl = r.clips[0];
  const frames = iframesOf(tl, o.container);
  const f = o.f === null ? '' : `-f${o.f}`;
  const segSuffix = `${f}${trackSuffix(o.video, o.audio)}`;
  let target = 1;
  for (const fr of frames) target = Math.max(target, Math.ceil(fr.durationMs / 1000 - 1e-9));
  const lines = ['#EXTM3U', `#EXT-X-TARGETDURATION:${target}`, `#EXT-X-VERSION:${o.container === 'fmp4' ? 6 : 4}`, '#EXT-X-MEDIA-SEQUENCE:1', '#EXT-X-PLAYLIST-TYPE:VOD', '#EXT-X-I-FRAMES-ONLY'];
  if (o.container === 'fmp4') lines.push(`#EXT-X-MAP:URI="init${f}-v1.mp4"`);
  for (const fr of frames) {
    const uri = o.container === 'ts' ? `seg-${fr.seg + 1}${segSuffix}.ts` : `iframes-${fr.seg + 1}${f}-v1.m4s`;
    lines.push(`#EXTINF:${secs(fr.durationMs)},`, `#EXT-X-BYTERANGE:${fr.length}@${fr.offset}`, uri);
  }
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

export interface MediaPlaylistOptions {
  container: 'ts' | 'fmp4';
  video: boolean;
  audio: boolean;
  /** The "-f{n}" of the names; null for a single URL named without it. */
  f: number | null;
  /** The segments' encryption, announced by EXT-X-KEY (the key URI is the description's). */
  encryption?: Encryption;
}

const secs = (ms: number): string => (ms / 1000).toFixed(3);

/** Media playlist of one rendition; sequence clips are separated by discontinuities. */
export function mediaPlaylist(r: Rendition, o: MediaPlaylistOptions): string {
  const suffix = `${o.f === null ? '' : `-f${o.f}`}${trackSuffix(o.video, o.audio)}`;
  const ext = o.container === 'ts' ? 'ts' : 'm4s';
  let target = 1;
  for (const tl of r.clips) for (const s of tl.segments) target = Math.max(target, Math.round(s.durationMs / 1000));
  const key = o.encryption ? hlsKeyLines(o.encryption, o.container) : null;
  const lines = ['#EXTM3U', `#EXT-X-TARGETDURATION:${target}`, '#EXT-X-ALLOW-CACHE:YES', '#EXT-X-PLAYLIST-TYPE:VOD'];
  lines.push(`#EXT-X-VERSION:${Math.max(o.container === 'fmp4' ? 6 : 3, key?.version ?? 0)}`, '#EXT-X-MEDIA-SEQUENCE:1', '#EXT-X-INDEPENDENT-SEGMENTS');
  if (key && (o.container === 'ts' || key.beforeMap)) lines.push(...key.lines);
  let n = 1;
  r.clips.forEach((tl, c) => {
    if (c > 0) lines.push('#EXT-X-DISCONTINUITY');
    if (o.container === 'fmp4') {
      // AES-128 of fMP4: the key follows each EXT-X-MAP so that init segments stay clear
      const afterMap = key && !key.beforeMap;
      if (afterMap && c > 0) lines.push('#EXT-X-KEY:METHOD=NONE');
      lines.push(`#EXT-X-MAP:URI="init-${c > 0 ? `${c + 1}-` : ''}${suffix.slice(1)}.mp4"`);
      if (afterMap) lines.push(...key.lines);
    }
    for (const s of tl.segments) {
      lines.push(`#EXTINF:${secs(s.durationMs)},`, `seg-${n}${suffix}.${ext}`);
      n++;
    }
  });
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}

/** Subtitle playlist: one WebVTT segment per clip, each as long as the clip. */
export function subtitlePlaylist(clipDurationsMs: number[], n: number): string {
  const lines = ['#EXTM3U', `#EXT-X-TARGETDURATION:${Math.max(1, Math.ceil(Math.max(...clipDurationsMs, 0) / 1000))}`, '#EXT-X-VERSION:3', '#EXT-X-MEDIA-SEQUENCE:1', '#EXT-X-PLAYLIST-TYPE:VOD'];
  clipDurationsMs.forEach((d, c) => {
    if (c > 0) lines.push('#EXT-X-DISCONTINUITY');
    lines.push(`#EXTINF:${secs(d)},`, `subtitles-${n}${clipDurationsMs.length > 1 ? `-${c + 1}` : ''}.vtt`);
  });
  lines.push('#EXT-X-ENDLIST');
  return lines.join('\n') + '\n';
}
