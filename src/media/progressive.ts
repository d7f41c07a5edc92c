// A clipped progressive MP4 made on the fly: a new moov for just the sample range (starting at the
// key frame at or before fromMs, ending at toMs), then the samples' bytes streamed from the
// source in source order. Its size is known before any media byte is read, so byte ranges and
// HEAD cost only the index.
import type { Readable } from 'node:stream';
import { bodyStream, partsBody, type MediaBody, type Part } from './body.js';
import { box, fullBox, u32, u64 } from './fmp4/boxes.js';
import type { IndexCache } from './index-cache.js';
import type { SourceStore } from './source.js';
import { dtsAt } from './mp4/index-types.js';
import { buildTimeline, type TrackTiming } from './segment.js';
import { mdatHeader, mdiaBox, mvhdBox, stsdBox, tkhdBox } from './fmp4/track-boxes.js';

export interface ClippedMp4 {
  /** Total bytes of the clipped file. */
  size: number;
  contentType: string;
  /** Duration of the clip actually produced (key-frame start to clipTo). */
  durationMs: number;
  /** Where the output's time 0 is in the source, ms (the key frame at or before fromMs). */
  startMs: number;
  body: MediaBody;
  /** Streams bytes [start, endInclusive] of the clipped file, through the handle cache when given one. */
  read(start?: number, endInclusive?: number): Readable;
}

interface TrackPlan {
  timing: TrackTiming;
  first: number;
  end: number;
  id: number;
}

/** Run-length pairs (count, value) of a sequence. */
function runs(n: number, value: (i: number) => number): Buffer {
  const out: number[] = [];
  let prev = NaN;
  let count = 0;
  for (let i = 0; i < n; i++) {
    const v = value(i);
    if (v === prev) count++;
    else {
      if (count) out.push(count, prev);
      prev = v;
      count = 1;
    }
  }
  if (count) out.push(count, prev);
  const b = Buffer.alloc(4 + out.length * 4);
  b.writeUInt32BE(out.length / 2, 0);
  for (let i = 0; i < out.length; i += 2) {
    b.writeUInt32BE(out[i], 4 + i * 4);
    b.writeInt32BE(out[i + 1] | 0, 8 + i * 4);
  }
  return b;
}

function trakBox(p: TrackPlan, chunkOffsets: Float64Array, wide: boolean, movieDurationMs: number): Buffer {
  const t = p.timing.track;
  const n = p.end - p.first;
  const video = t.kind === 'video';
  const mediaDuration = dtsAt(t, p.end) - t.dts[p.first];
  const movieDur = Math.round(movieDurationMs);
  // the composition delay of the first frame is removed with an edit, as encoders write it
  const mediaTime = video && t.cto ? p.timing.ctoBase : 0;
  const elst = box('edts', fullBox('elst', 0, 0, u32(1), u32(movieDur), u32(mediaTime), u32(0x10000)));
  const stts = fullBox('stts', 0, 0, runs(n, (k) => dtsAt(t, p.first + k + 1) - t.dts[p.first + k]));
  const boxes: Buffer[] = [stsdBox(t), stts];
  if (video && t.cto) boxes.push(fullBox('ctts', 1, 0, runs(n, (k) => t.cto![p.first + k])));
  if (t.sync) {
    const keys: number[] = [];
    for (const k of t.sync) if (k >= p.first && k < p.end) keys.push(k - p.first + 1);
    const b = Buffer.alloc(4 + keys.length * 4);
    b.writeUInt32BE(keys.length, 0);
    keys.forEach((k, i) => b.writeUInt32BE(k, 4 + i * 4));
    boxes.push(fullBox('stss', 0, 0, b));
  }
  const sizes = Buffer.alloc(8 + n * 4);
  sizes.writeUInt32BE(0, 0);
  sizes.writeUInt32BE(n, 4);
  for (let k = 0; k < n; k++) sizes.writeUInt32BE(t.size[p.first + k], 8 + k * 4);
  boxes.push(fullBox('stsz', 0, 0, sizes));
  // one sample per chunk: simple, and the offsets are exact whatever the interleaving
  boxes.push(fullBox('stsc', 0, 0, u32(1), u32(1), u32(1), u32(1)));
  const co = Buffer.alloc(4 + n * (wide ? 8 : 4));
  co.writeUInt32BE(n, 0);
  for (let k = 0; k < n; k++) {
    if (wide) u64(chunkOffsets[k]).copy(co, 4 + k * 8);
    else co.writeUInt32BE(chunkOffsets[k], 4 + k * 4);
  }
  boxes.push(fullBox(wide ? 'co64' : 'stco', 0, 0, co));
  return box('trak', tkhdBox(t, p.id, movieDur), elst, mdiaBox(t, mediaDuration, ...boxes));
}

/** Plans the clipped file from an index already read. */
export function planClippedMp4(index: Parameters<typeof buildTimeline>[0], fromMs: number, toMs: number): { body: MediaBody; durationMs: number; startMs: number } {
  const tl = buildTimeline(index, { durationMs: 1e12, bootstrapMs: [] }, { fromMs, toMs });
  const seg = tl.segments[0];
  const plans: TrackPlan[] = [];
  if (tl.video && seg.video) plans.push({ timing: tl.video, first: seg.video.first, end: seg.video.end, id: 1 });
  if (tl.audio && seg.audio && seg.audio.end > seg.audio.first) plans.push({ timing: tl.audio, first: seg.audio.first, end: seg.audio.end, id: plans.length + 1 });

  // samples in source order, so the body is a few long sequential reads
  const order: Array<{ p: number; i: number; off: number }> = [];
  for (let pi = 0; pi < plans.length; pi++) {
    const { timing, first, end } = plans[pi];
    for (let i = first; i < end; i++) order.push({ p: pi, i, off: timing.track.offset[i] });
  }
  order.sort((a, b) => a.off - b.off);
  let dataBytes = 0;
  for (const s of order) dataBytes += plans[s.p].timing.track.size[s.i];

  const ftyp = box('ftyp', Buffer.from('isom', 'latin1'), u32(0x200), Buffer.from('isomiso2avc1mp41', 'latin1'));
  const mvhd = mvhdBox(Math.round(tl.durationMs), plans.length + 1);
  const build = (wide: boolean, mdatStart: number): Buffer => {
    const offsets = plans.map((p) => new Float64Array(p.end - p.first));
    let pos = mdatStart + (wide ? 16 : 8);
    for (const s of order) {
      offsets[s.p][s.i - plans[s.p].first] = pos;
      pos += plans[s.p].timing.track.size[s.i];
    }
    return box('moov', mvhd, ...plans.map((p, k) => trakBox(p, offsets[k], wide, tl.durationMs)));
  };
  // size the moov once with 32-bit offsets; switch to co64 when the file would pass 4 GB
  let moov = build(false, 0);
  const wide = ftyp.length + moov.length + 16 + dataBytes > 0xffffffff;
  moov = build(wide, ftyp.length + (wide ? build(true, 0).length : moov.length));
  const mdatHead = mdatHeader(dataBytes, wide);
  const spans: Part[] = order.map((s) => ({ offset: s.off, length: plans[s.p].timing.track.size[s.i] }));
  const hasVideo = plans.some((p) => p.timing.track.kind === 'video');
  return { body: partsBody([ftyp, moov, mdatHead, ...spans], hasVideo ? 'video/mp4' : 'audio/mp4'), durationMs: tl.durationMs, startMs: tl.originMs };
}

/**
 * Opens a clipped MP4 of filePath from fromMs (snapped back to a key frame) to toMs (exclusive;
 * Infinity or undefined for the end). Throws MediaError for unreadable files or a bad clip.
 */
export async function openClippedMp4(filePath: string, fromMs: number, toMs: number | undefined, cache: IndexCache, handles?: SourceStore): Promise<ClippedMp4> {
  const index = await cache.get(filePath);
  const { body, durationMs, startMs } = planClippedMp4(index, fromMs, toMs ?? Infinity);
  return {
    size: body.length,
    contentType: body.contentType,
    durationMs,
    startMs,
    body,
    read: (start = 0, endInclusive = body.length - 1) => bodyStream(filePath, body, start, endInclusive, handles, index),
  };
}
