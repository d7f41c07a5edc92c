// Which renditions to make of a source, from the partner's conversion profile: a plain function
// of the profile's flavor params and the probed source, so every rule is testable without ffmpeg.
import type { FlavorParams } from '../catalog/types.js';
import type { MediaProbe } from './probe.js';

/** The sample library's ladder, used when a partner has no conversion profile. */
export const DEFAULT_LADDER_PARAMS = [301961, 301951, 301971];
/** Audio-only sources get these instead of video flavors when their profile names none. */
export const DEFAULT_AUDIO_PARAMS = [301981];

export interface Rendition {
  params: FlavorParams;
  kind: 'video' | 'audio';
  /** Output frame size (even numbers, never above the source); 0 for audio. */
  width: number;
  height: number;
  /** Output frame rate: the source's, capped at the params' rate. */
  frameRate: number;
  videoBitrateKbps: number;
  audioBitrateKbps: number;
  /** Whether the output carries an audio track (the source has one). */
  withAudio: boolean;
}

export interface LadderPlan {
  renditions: Rendition[];
  /** Params of the profile left out, and why (shown to people in traces and the CLI). */
  skipped: { paramsId: number; reason: string }[];
}

const isAudioParams = (p: FlavorParams) => p.tags.includes('audio_only') || (p.width === 0 && p.height === 0 && !p.videoCodec);
const even = (n: number) => Math.max(2, 2 * Math.floor(n / 2));

/** Fits the source into the params' box, keeping its aspect ratio and never enlarging it. */
export function fitFrame(srcW: number, srcH: number, boxW: number, boxH: number): { width: number; height: number } {
  const w = boxW > 0 ? boxW : Infinity;
  const h = boxH > 0 ? boxH : Infinity;
  const scale = Math.min(1, w / srcW, h / srcH);
  // Nearest even size, but never past the box or the source
  const fit = (n: number, limit: number) => Math.min(Math.max(2, 2 * Math.round(n / 2)), even(limit));
  return { width: fit(srcW * scale, Math.min(w, srcW)), height: fit(srcH * scale, Math.min(h, srcH)) };
}

/**
 * Plans the ladder. `profileParams` are the conversion profile's flavor params other than the
 * source (0), in profile order; `audioParams` are used for an audio-only source when the profile
 * has no audio flavor of its own.
 */
export function planLadder(source: MediaProbe, profileParams: FlavorParams[], audioParams: FlavorParams[]): LadderPlan {
  const renditions: Rendition[] = [];
  const skipped: LadderPlan['skipped'] = [];
  const wanted = profileParams.filter((p) => p.id !== 0 && !p.tags.includes('alt_audio'));
  const audioBitrate = (p: FlavorParams) => p.audioBitrate || 128;

  if (!source.video) {
    // An audio source: the profile's audio flavors, or the default audio flavor
    const audio = wanted.filter(isAudioParams);
    for (const p of wanted.filter((x) => !isAudioParams(x))) skipped.push({ paramsId: p.id, reason: 'video flavor of an audio-only source' });
    for (const p of audio.length ? audio : audioParams) {
      renditions.push({ params: p, kind: 'audio', width: 0, height: 0, frameRate: 0, videoBitrateKbps: 0, audioBitrateKbps: audioBitrate(p), withAudio: true });
    }
    return { renditions, skipped };
  }

  const { width: sw, height: sh } = source.video;
  const video = wanted.filter((p) => !isAudioParams(p));
  for (const p of wanted.filter(isAudioParams)) {
    if (!source.audio) { skipped.push({ paramsId: p.id, reason: 'audio flavor of a source without audio' }); continue; }
    renditions.push({ params: p, kind: 'audio', width: 0, height: 0, frameRate: 0, videoBitrateKbps: 0, audioBitrateKbps: audioBitrate(p), withAudio: true });
  }
  // Never upscale: a rung whose frame box would have to enlarge the source (in the dimension that
  // limits it, so portrait sources work too) is left out; 2 % of slack keeps a 1278x718 source's
  // 720p rung. When every rung is larger, the smallest one is kept at the source's own size.
  const scaleOf = (p: FlavorParams) => Math.min(p.width ? p.width / sw : Infinity, p.height ? p.height / sh : Infinity);
  const fits = video.filter((p) => scaleOf(p) <= 1.02);
  for (const p of video) if (!fits.includes(p)) skipped.push({ paramsId: p.id, reason: `larger than the source (${sw}x${sh}); never upscaled` });
  let chosen = fits;
  if (chosen.length === 0 && video.length) {
    const smallest = [...video].sort((a, b) => a.height * a.width - b.height * b.width || a.videoBitrate - b.videoBitrate)[0];
    chosen = [smallest];
    const i = skipped.findIndex((s) => s.paramsId === smallest.id);
    skipped.splice(i, 1);
  }
  const srcFps = source.video.frameRate || 25;
  for (const p of chosen) {
    const frame = fitFrame(sw, sh, p.width, p.height);
    const frameRate = p.frameRate > 0 ? Math.min(srcFps, p.frameRate) : srcFps;
    // A rung kept at a smaller size than its params gets a proportionally smaller bitrate
    const area = p.width && p.height ? Math.min(1, (frame.width * frame.height) / (p.width * p.height)) : 1;
    const videoBitrateKbps = Math.max(64, Math.round((p.videoBitrate || 1000) * Math.max(area, 0.25)));
    renditions.push({
      params: p, kind: 'video', width: frame.width, height: frame.height, frameRate, videoBitrateKbps,
      audioBitrateKbps: audioBitrate(p), withAudio: !!source.audio,
    });
  }
  return { renditions, skipped };
}
