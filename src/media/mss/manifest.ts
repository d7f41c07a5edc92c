// Smooth Streaming: the client manifest (one video StreamIndex, one audio StreamIndex per
// language) and fragment lookup by QualityLevels(bitrate)/Fragments(kind=time). Fragments are the
// fMP4 writer's moof+mdat with times on the manifest's 10 MHz clock; there is no init segment,
// clients build one from CodecPrivateData.
// Encrypted (cenc only, as PlayReady plays it): the manifest ends with a Protection element when a
// PlayReady header is given, and fragments carry PIFF sample encryption (fmp4/writer.ts, piff).
import type { Encryption } from '../crypto/encryption.js';
import { mssProtection } from '../crypto/signalling.js';
import { MediaError } from '../errors.js';
import { dashAudioRenditions } from '../dash/mpd.js';
import type { FragmentOptions } from '../fmp4/writer.js';
import { type Presentation, type Rendition, averageBandwidth } from '../presentation.js';
import { dtsAt, type TrackIndex } from '../mp4/index-types.js';
import type { Segment, Timeline, TrackTiming } from '../segment.js';

const CLOCK = 10_000_000;
const hex = (b: Uint8Array): string => Buffer.from(b).toString('hex').toUpperCase();
const esc = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');

/** Chunk start times on the 10 MHz clock, one per segment of the track. */
function chunkTimes(tl: Timeline, timing: TrackTiming, kind: 'video' | 'audio'): Array<{ t: number; d: number; seg: number }> {
  const t = timing.track;
  const k = CLOCK / t.timescale;
  const out: Array<{ t: number; d: number; seg: number }> = [];
  tl.segments.forEach((s, seg) => {
    const r = kind === 'video' ? s.video : s.audio;
    if (!r || r.end <= r.first) return;
    const a = Math.round((dtsAt(t, r.first) - timing.dtsBase) * k);
    const b = Math.round((dtsAt(t, r.end) - timing.dtsBase) * k);
    out.push({ t: Math.max(0, a), d: b - a, seg });
  });
  return out;
}

interface Level {
  r: Rendition;
  bitrate: number;
}

/**
 * The FourCC a quality level names its codec by: H264 and HEVC video; AACL, and Dolby's AC-3 and
 * EC-3 (as Smooth Streaming's Dolby profiles name them), audio. Every video was announced as
 * H264 and every audio as AACL, so a client fed VP9, AV1, Opus or MP3 to the wrong decoder; a
 * track with no name here is refused, saying so.
 */
function fourCC(t: TrackIndex): string {
  if (t.kind === 'video') {
    if (t.format === 'avc1' || t.format === 'avc3') return 'H264';
    if (t.format === 'hvc1' || t.format === 'hev1') return 'HEVC';
    throw new MediaError('UNSUPPORTED', `Smooth Streaming carries H.264 and HEVC video, not ${t.codecString || t.format}; DASH carries it`);
  }
  if (t.format === 'mp4a' && t.codecString.startsWith('mp4a.40.')) return 'AACL';
  if (t.format === 'ac-3') return 'AC-3';
  if (t.format === 'ec-3') return 'EC-3';
  throw new MediaError('UNSUPPORTED', `Smooth Streaming carries AAC, AC-3 and E-AC-3 audio, not ${t.codecString || t.format}; DASH carries it`);
}

/** Bitrates name the quality levels in fragment URLs, so they are made unique per stream. */
function levels(rs: Rendition[], kind: 'video' | 'audio'): Level[] {
  const used = new Set<number>();
  return rs.map((r) => {
    let b = averageBandwidth(r.clips.slice(0, 1), kind === 'video', kind === 'audio', 'samples');
    while (used.has(b)) b++;
    used.add(b);
    return { r, bitrate: b };
  });
}

function streams(p: Presentation): { video: Level[]; audio: Level[] } {
  const video = p.renditions.filter((r) => r.hasVideo && r.clips[0].video);
  const audio = dashAudioRenditions(p).filter((r) => r.clips[0].audio);
  return { video: levels(video, 'video'), audio: levels(audio, 'audio') };
}

export function mssManifest(p: Presentation, encryption?: Encryption): string {
  if (encryption && encryption.scheme !== 'cenc') throw new MediaError('BAD_ENCRYPTION', `Smooth Streaming is encrypted with cenc, not ${encryption.scheme}`);
  const { video, audio } = streams(p);
  const ref = (video[0] ?? audio[0])?.r.clips[0];
  const duration = ref ? Math.round(ref.durationMs * (CLOCK / 1000)) : 0;
  const out = ['<?xml version="1.0" encoding="utf-8"?>', `<SmoothStreamingMedia MajorVersion="2" MinorVersion="0" TimeScale="${CLOCK}" Duration="${duration}">`];
  if (video.length) {
    const tl = video[0].r.clips[0];
    const chunks = chunkTimes(tl, tl.video!, 'video');
    const maxW = Math.max(...video.map((l) => l.r.clips[0].video!.track.width));
    const maxH = Math.max(...video.map((l) => l.r.clips[0].video!.track.height));
    out.push(`<StreamIndex Type="video" Name="video" Chunks="${chunks.length}" QualityLevels="${video.length}" Url="QualityLevels({bitrate})/Fragments(video={start time})" MaxWidth="${maxW}" MaxHeight="${maxH}" DisplayWidth="${maxW}" DisplayHeight="${maxH}">`);
    video.forEach((l, i) => {
      const t = l.r.clips[0].video!.track;
      const cpd = t.parameterSets.map((ps) => '00000001' + hex(ps)).join('');
      out.push(`<QualityLevel Index="${i}" Bitrate="${l.bitrate}" FourCC="${fourCC(t)}" MaxWidth="${t.width}" MaxHeight="${t.height}" CodecPrivateData="${cpd}"/>`);
    });
    chunks.forEach((c, i) => out.push(i === 0 ? `<c t="${c.t}" d="${c.d}"/>` : `<c d="${c.d}"/>`));
    out.push('</StreamIndex>');
  }
  const byLang = new Map<string, Level[]>();
  for (const l of audio) byLang.set(l.r.hasVideo ? '' : l.r.language, [...(byLang.get(l.r.hasVideo ? '' : l.r.language) ?? []), l]);
  for (const [lang, ls] of byLang) {
    const tl = ls[0].r.clips[0];
    const chunks = chunkTimes(tl, tl.audio!, 'audio');
    out.push(`<StreamIndex Type="audio" Name="audio${lang ? '_' + esc(lang) : ''}"${lang ? ` Language="${esc(lang)}"` : ''} Chunks="${chunks.length}" QualityLevels="${ls.length}" Url="QualityLevels({bitrate})/Fragments(audio={start time})">`);
    ls.forEach((l, i) => {
      const t = l.r.clips[0].audio!.track;
      out.push(`<QualityLevel Index="${i}" Bitrate="${l.bitrate}" FourCC="${fourCC(t)}" SamplingRate="${t.sampleRate || t.timescale}" Channels="${t.channels || 2}" BitsPerSample="16" PacketSize="4" AudioTag="255" CodecPrivateData="${hex(t.codecConfig)}"/>`);
    });
    chunks.forEach((c, i) => out.push(i === 0 ? `<c t="${c.t}" d="${c.d}"/>` : `<c d="${c.d}"/>`));
    out.push('</StreamIndex>');
  }
  const protection = encryption ? mssProtection(encryption) : '';
  if (protection) out.push(protection);
  out.push('</SmoothStreamingMedia>');
  return out.join('\n') + '\n';
}

/** The fragment a QualityLevels/Fragments URL names (rendition, one-track timeline, segment); null when there is none. */
export function mssLocate(p: Presentation, bitrate: number, kind: 'video' | 'audio', time: number): { f: number; timeline: Timeline; segment: Segment; sequence: number } | null {
  const s = streams(p);
  const level = (kind === 'video' ? s.video : s.audio).find((l) => l.bitrate === bitrate);
  if (!level) return null;
  const tl = level.r.clips[0];
  const timing = kind === 'video' ? tl.video : tl.audio;
  if (!timing) return null;
  const chunk = chunkTimes(tl, timing, kind).find((c) => c.t === time);
  if (!chunk) return null;
  // one track per fragment: a timeline view without the other track
  const only: Timeline = { ...tl, video: kind === 'video' ? tl.video : null, audio: kind === 'audio' ? tl.audio : null };
  return { f: level.r.f, timeline: only, segment: tl.segments[chunk.seg], sequence: chunk.seg + 1 };
}

/** Smooth Streaming's fragment options: times on the manifest's clock; encrypted, PIFF sample encryption. */
export const mssFragmentOptions = (sequence: number, encryption?: Encryption): FragmentOptions => ({ sequence, dash: false, timescale: CLOCK, encryption, piff: !!encryption });
