// What a downloaded flavor file says of itself, read with the packager's own MP4 reader: the
// RFC 6381 codecs (HLS masters list them), the codec names and the duration. The source's API
// gives none of these per flavor; a file the reader does not understand (not MP4) has none.
import { readMediaIndex } from '../media/mp4/reader.js';
import { audioTrack, videoTrack } from '../media/mp4/index-types.js';

export interface MediaFacts {
  codecs: string;
  videoCodec: string;
  audioCodec: string;
  durationMs: number;
}

const CODEC_NAMES: Record<string, string> = {
  avc1: 'h264', avc3: 'h264', hvc1: 'h265', hev1: 'h265', av01: 'av1', vp09: 'vp9', mp4a: 'aac', 'ac-3': 'ac3', 'ec-3': 'eac3', Opus: 'opus',
};

export async function mediaFacts(path: string, maxMoovBytes: number): Promise<MediaFacts | null> {
  try {
    const index = await readMediaIndex(path, { maxMoovBytes });
    const v = videoTrack(index);
    const a = audioTrack(index);
    return {
      codecs: [v?.codecString, a?.codecString].filter(Boolean).join(','),
      videoCodec: v ? CODEC_NAMES[v.format] ?? v.format : '',
      audioCodec: a ? CODEC_NAMES[a.format] ?? a.format : '',
      durationMs: Math.round(index.durationMs),
    };
  } catch {
    return null;
  }
}
