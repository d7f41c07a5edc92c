// Packages the sample media through the writers into a temporary folder, as files a player reads
// (HLS playlists, segments and a key file; fMP4 fragments), encrypted or clear, and decodes them
// with ffmpeg into per-frame checksums so tests can compare encrypted with clear output.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { readBody } from '../../src/media/body.js';
import type { Encryption } from '../../src/media/crypto/encryption.js';
import { describeMediaSegment, initSegment } from '../../src/media/fmp4/writer.js';
import { openFileSource } from '../../src/media/source.js';
import { mediaPlaylist } from '../../src/media/hls/playlists.js';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import type { Rendition } from '../../src/media/presentation.js';
import { buildTimeline, flatPolicy, hlsPolicy, type Timeline } from '../../src/media/segment.js';
import { tsSegment } from '../../src/media/ts/writer.js';

export const KEY = Buffer.from('2e12bc8bbc726374d07ee3626f50108f', 'hex');
export const KEY_ID = Buffer.from('b0eb8a17323924b6d8d36875aacb0b48', 'hex');
export const BIG = { maxMoovBytes: 64 << 20 };

const rendition = (tl: Timeline): Rendition => ({ f: 1, clips: [tl], hasVideo: !!tl.video, hasAudio: !!tl.audio, width: 0, height: 0, frameRate: 0, language: '', label: '', isDefault: true });

export interface HlsPackage {
  dir: string;
  playlist: string;
  /** Segment file names in playlist order. */
  segments: string[];
  timeline: Timeline;
}

/**
 * Writes an HLS media playlist of `src` with its segments (and init segment for fMP4) into `dir`,
 * through the writers. With encryption, `key.bin` holds `keyFile` (the content key unless told
 * otherwise) and the description's keyUri should be "key.bin".
 */
export async function packageHls(src: string, dir: string, opts: { container: 'ts' | 'fmp4'; encryption?: Encryption; keyFile?: Buffer; use?: { video: boolean; audio: boolean } }): Promise<HlsPackage> {
  mkdirSync(dir, { recursive: true });
  const idx = await readMediaIndex(src, BIG);
  const tl = buildTimeline(idx, hlsPolicy(10000), undefined, opts.use ?? { video: true, audio: true });
  const video = !!tl.video;
  const audio = !!tl.audio;
  const enc = opts.encryption;
  const text = mediaPlaylist(rendition(tl), { container: opts.container, video, audio, f: null, encryption: enc });
  const playlist = join(dir, 'index.m3u8');
  writeFileSync(playlist, text);
  if (enc) writeFileSync(join(dir, 'key.bin'), opts.keyFile ?? enc.key);
  const segments = text.split('\n').filter((l) => l && !l.startsWith('#'));
  const suffix = `${video ? '-v1' : ''}${audio ? '-a1' : ''}`;
  const fh = await openFileSource(src);
  try {
    if (opts.container === 'fmp4') writeFileSync(join(dir, `init-${suffix.slice(1)}.mp4`), initSegment([tl.video?.track, tl.audio?.track].filter((t) => t !== undefined), enc));
    for (let i = 0; i < tl.segments.length; i++) {
      const body = opts.container === 'ts'
        ? tsSegment(tl, i, enc ? { encryption: enc, sequence: i + 1 } : undefined)
        : await describeMediaSegment(tl, tl.segments[i], { sequence: i + 1, dash: false, encryption: enc }, fh.source);
      const bytes = await readBody(src, body);
      if (bytes.length !== body.length) throw new Error(`segment ${i + 1}: ${bytes.length} bytes, described as ${body.length}`);
      writeFileSync(join(dir, segments[i]), bytes);
    }
  } finally {
    await fh.close();
  }
  return { dir, playlist, segments, timeline: tl };
}

export interface Fragment {
  /** The init segment followed by this one fragment: a file ffmpeg reads on its own. */
  file: Buffer;
  sequence: number;
}

/** Each fragment of `src` as init + fragment (DASH: one track, styp + sidx; HLS: muxed). */
export async function packageFragments(src: string, opts: { dash: boolean; use: { video: boolean; audio: boolean }; encryption?: Encryption }): Promise<{ fragments: Fragment[]; init: Buffer; timeline: Timeline }> {
  const idx = await readMediaIndex(src, BIG);
  const tl = buildTimeline(idx, opts.dash ? flatPolicy(4000) : hlsPolicy(10000), undefined, opts.use);
  const init = initSegment([tl.video?.track, tl.audio?.track].filter((t) => t !== undefined), opts.encryption);
  const fragments: Fragment[] = [];
  const fh = await openFileSource(src);
  try {
    for (let i = 0; i < tl.segments.length; i++) {
      const body = await describeMediaSegment(tl, tl.segments[i], { sequence: i + 1, dash: opts.dash, encryption: opts.encryption }, fh.source);
      const bytes = await readBody(src, body);
      if (bytes.length !== body.length) throw new Error(`fragment ${i + 1}: ${bytes.length} bytes, described as ${body.length}`);
      fragments.push({ file: Buffer.concat([init, bytes]), sequence: i + 1 });
    }
  } finally {
    await fh.close();
  }
  return { fragments, init, timeline: tl };
}

export interface Decoded {
  status: number | null;
  stderr: string;
  /** Frame checksums per stream index, in output order. */
  streams: Map<number, string[]>;
}

/** Decodes with ffmpeg into framemd5 lines (decoded frames, not packets). */
export function decode(input: string, before: string[] = []): Decoded {
  const r = spawnSync('ffmpeg', ['-nostdin', '-v', 'error', ...before, '-i', input, '-f', 'framemd5', '-'], { encoding: 'utf8', maxBuffer: 256 << 20 });
  const streams = new Map<number, string[]>();
  for (const line of (r.stdout ?? '').split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const cols = line.split(',').map((c) => c.trim());
    const s = Number(cols[0]);
    if (!streams.has(s)) streams.set(s, []);
    streams.get(s)!.push(`${cols[2]}:${cols[5]}`);
  }
  return { status: r.status, stderr: r.stderr ?? '', streams };
}

/** Options that let ffmpeg's HLS demuxer read local segment and key files. */
export const HLS_LOCAL = ['-allowed_extensions', 'ALL'];
