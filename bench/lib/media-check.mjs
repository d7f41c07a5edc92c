// "Same media?": two servers' answers for the same span are compared by what a player decodes
// from them, not by their bytes (muxers differ in timestamps and packaging): ffprobe counts the
// frames, and ffmpeg's framemd5 gives a checksum per decoded video picture and audio frame.
import { run } from './system.mjs';

/** Streams of a media file as ffprobe counts them (frames read, start, duration). */
export function probe(file) {
  const p = JSON.parse(run('ffprobe', ['-v', 'error', '-count_frames', '-show_streams', '-show_format', '-of', 'json', file]));
  const pick = (type) => {
    const s = p.streams.find((x) => x.codec_type === type);
    return s ? { frames: Number(s.nb_read_frames), start: Number(s.start_time), duration: Number(s.duration), codec: `${s.codec_name}${s.width ? ` ${s.width}x${s.height}` : ''}${s.sample_rate ? ` ${s.sample_rate} Hz` : ''}` } : null;
  };
  return { video: pick('video'), audio: pick('audio') };
}

/** MD5 of every decoded frame of the first stream of `type` ('v' or 'a'; it must exist), in order. */
export function frameMd5s(file, type) {
  return run('ffmpeg', ['-nostdin', '-v', 'error', '-i', file, '-map', `0:${type}:0`, '-f', 'framemd5', '-'])
    .split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',').pop().trim());
}

/**
 * How many frames of `xs` equal `ref`'s at the best offset within ±5 frames (segments of two
 * muxers may start one audio frame apart, and an AAC decoder's first frame depends on where it
 * started): { equal, total, offset }.
 */
export function matchFrames(xs, ref) {
  let best = { equal: -1, total: xs.length, offset: 0 };
  for (let k = -5; k <= 5; k++) {
    let equal = 0;
    for (let i = 0; i < xs.length; i++) if (ref[i + k] === xs[i]) equal++;
    if (equal > best.equal) best = { equal, total: xs.length, offset: k };
  }
  return best;
}

export const showMatch = (m) => `${m.equal}/${m.total}${m.offset ? ` @${m.offset > 0 ? '+' : ''}${m.offset}` : ''}`;
