// What a media file holds, read with ffprobe: the facts the ladder planner, the catalog's flavor
// records (codecs, size, bitrate) and the "is this media at all" check need.
import { stat } from 'node:fs/promises';
import { runMediaTool } from '../ffmpeg/media-tool.js';

export interface VideoStreamInfo {
  codec: string;
  width: number;
  height: number;
  frameRate: number;
  bitrateKbps: number;
  /** RFC 6381, e.g. avc1.64001f; empty when unknown. */
  codecString: string;
  /** Degrees clockwise the file turns the picture for display (0, 90, 180, 270); width and height are as shown. */
  rotation: number;
}

export interface AudioStreamInfo {
  codec: string;
  channels: number;
  sampleRate: number;
  bitrateKbps: number;
  codecString: string;
  language: string;
}

export interface MediaProbe {
  /** ffprobe's format_name, e.g. "mov,mp4,m4a,3gp,3g2,mj2". */
  formatName: string;
  /** The ISO BMFF major brand (isom, mp42, 3gp5 …) or the format's first name. */
  container: string;
  durationSec: number;
  sizeBytes: number;
  bitrateKbps: number;
  video: VideoStreamInfo | null;
  audio: AudioStreamInfo | null;
}

/** The file cannot be used as media; `message` says why in words a person can act on. */
export class ProbeError extends Error {}

export interface Tools {
  ffmpeg: string;
  ffprobe: string;
}
export const defaultTools: Tools = { ffmpeg: 'ffmpeg', ffprobe: 'ffprobe' };

// Formats ffprobe opens that are still pictures, not a clip to transcode.
const IMAGE_FORMATS = /(^|,)(image2|[a-z0-9]+_pipe|gif|apng|webp)(,|$)/;

const num = (v: unknown): number => {
  const n = typeof v === 'string' ? Number(v) : typeof v === 'number' ? v : NaN;
  return Number.isFinite(n) ? n : 0;
};

function rational(s: unknown): number {
  if (typeof s !== 'string') return 0;
  const [a, b] = s.split('/').map(Number);
  return b ? a / b : a || 0;
}

/** avc1.PPCCLL from the avcC record ffprobe prints as a hex dump; else from profile and level. */
function avcCodecString(stream: Record<string, any>): string {
  const hex = typeof stream.extradata === 'string'
    ? stream.extradata.split('\n').map((l: string) => l.replace(/^[0-9a-f]+:\s*/i, '').slice(0, 40).replace(/\s+/g, '')).join('')
    : '';
  if (/^01[0-9a-f]{6}/i.test(hex)) return `avc1.${hex.slice(2, 8).toLowerCase()}`;
  const profiles: Record<string, string> = { 'Constrained Baseline': '42e0', Baseline: '4200', Main: '4d40', High: '6400' };
  const p = profiles[stream.profile];
  const level = num(stream.level);
  return p && level > 0 ? `avc1.${p}${level.toString(16).padStart(2, '0')}` : '';
}

function aacCodecString(stream: Record<string, any>): string {
  if (stream.codec_name === 'mp3') return 'mp4a.40.34';
  if (stream.codec_name !== 'aac') return '';
  if (stream.profile === 'HE-AAC') return 'mp4a.40.5';
  if (stream.profile === 'HE-AACv2') return 'mp4a.40.29';
  return 'mp4a.40.2';
}

/**
 * The display turn, degrees clockwise to the nearest quarter: an older file's `rotate` tag says it
 * clockwise; a display matrix's `rotation` (ffprobe's, from libavutil's display.h) counterclockwise.
 */
function turnOf(stream: Record<string, any>): number {
  const side = (stream.side_data_list ?? []) as Record<string, unknown>[];
  const tag = num(stream.tags?.rotate);
  const clockwise = tag || -num(side.find((d) => d.rotation !== undefined)?.rotation);
  return ((Math.round(clockwise / 90) % 4) + 4) % 4 * 90;
}

/** Reads a media file's streams. Throws ProbeError when it is empty, unreadable or not audio/video. */
export async function probeMedia(file: string, tools: Tools = defaultTools, timeoutMs = 60_000): Promise<MediaProbe> {
  let size: number;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new ProbeError(`${file} is not a regular file`);
    size = st.size;
  } catch (e) {
    if (e instanceof ProbeError) throw e;
    throw new ProbeError(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (size === 0) throw new ProbeError('the file is empty (0 bytes): upload or pass the complete media file');
  const res = await runMediaTool(tools.ffprobe, ['-v', 'error', '-show_data', '-show_format', '-show_streams', '-of', 'json', file], { timeoutMs });
  if (res.error?.code === 'ENOENT') throw new ProbeError(`ffprobe is not installed: run \`apt-get install -y ffmpeg\` (or put ffprobe on PATH)`);
  let parsed: { format?: Record<string, any>; streams?: Record<string, any>[] } = {};
  try {
    parsed = JSON.parse(res.stdout.toString('utf8') || '{}');
  } catch { /* reported below */ }
  const stderr = res.error ? res.error.message : res.stderr;
  const firstError = stderr.trim().split('\n').pop()?.replace(/^.*?:\s*/, '') ?? '';
  if (res.code !== 0 || !parsed.format) {
    throw new ProbeError(`not a media file ffmpeg can read${firstError ? ` (${firstError})` : ''}: upload a video or audio file such as MP4, MOV, MKV, WebM or MP3`);
  }
  const format = parsed.format;
  const formatName = String(format.format_name ?? '');
  const streams = parsed.streams ?? [];
  const v = streams.find((s) => s.codec_type === 'video' && !(s.disposition?.attached_pic));
  const a = streams.find((s) => s.codec_type === 'audio');
  if (IMAGE_FORMATS.test(formatName) || (!v && !a)) {
    throw new ProbeError(`not a video or audio file (ffprobe sees ${formatName || 'no known format'} with ${streams.length} stream(s) and no audio/video track): upload a video or audio file`);
  }
  const durationSec = num(format.duration) || num(v?.duration) || num(a?.duration);
  if (!(durationSec > 0)) throw new ProbeError('the media has no duration (an empty or truncated file?): upload the complete file');
  const major = String(format.tags?.major_brand ?? '').trim();
  const turn = v ? turnOf(v) : 0;
  // turned a quarter either way: shown taller than stored, or wider
  const sideways = turn % 180 === 90;
  return {
    formatName,
    container: major || formatName.split(',')[0],
    durationSec,
    sizeBytes: size,
    bitrateKbps: Math.round(num(format.bit_rate) / 1000) || Math.round((size * 8) / durationSec / 1000),
    video: v ? {
      codec: String(v.codec_name ?? ''),
      // ffmpeg turns rotated video (phones) upright when decoding: report the upright size
      width: sideways ? num(v.height) : num(v.width),
      height: sideways ? num(v.width) : num(v.height),
      rotation: turn,
      frameRate: Math.round((rational(v.avg_frame_rate) || rational(v.r_frame_rate)) * 1000) / 1000,
      bitrateKbps: Math.round(num(v.bit_rate) / 1000),
      codecString: v.codec_name === 'h264' ? avcCodecString(v) : '',
    } : null,
    audio: a ? {
      codec: String(a.codec_name ?? ''),
      channels: num(a.channels),
      sampleRate: num(a.sample_rate),
      bitrateKbps: Math.round(num(a.bit_rate) / 1000),
      codecString: aacCodecString(a),
      language: typeof a.tags?.language === 'string' && a.tags.language !== 'und' ? a.tags.language : '',
    } : null,
  };
}

/** RFC 6381 codecs of the whole file, comma-joined, as the catalog stores them. */
export function codecsOf(p: MediaProbe): string {
  return [p.video?.codecString, p.audio?.codecString].filter(Boolean).join(',');
}

/** H.264 video (if any) and AAC audio (if any) in an MP4: plays in every browser as it is. */
export function isWebPlayable(p: MediaProbe): boolean {
  const mp4 = /(^|,)mp4(,|$)/.test(p.formatName) && !/^3g/.test(p.container);
  return mp4 && (!p.video || p.video.codec === 'h264') && (!p.audio || p.audio.codec === 'aac') && !!(p.video || p.audio);
}
