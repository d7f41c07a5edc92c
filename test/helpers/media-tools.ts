// Reading media with Debian's ffmpeg, a client nobody here wrote. One decode per URL gives
// everything the packager proofs need: whether it decodes to the end without error, each
// stream's decoded duration, and a checksum of every decoded frame (so a clipped output can be
// matched, picture for picture, against the source frame it should start with).
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { repoPath } from './repo.js';

export interface DecodedFrame {
  /** Presentation time, seconds, as the decoder saw it (-copyts: the stream's own timestamps). */
  pts: number;
  duration: number;
  /** murmur3 hash of the decoded picture or audio samples */
  hash: string;
}

export interface DecodedStream {
  index: number;
  mediaType: string;
  frames: DecodedFrame[];
  /** first pts, seconds */
  start: number;
  /** last pts + last frame duration - first pts, seconds */
  duration: number;
}

export interface DecodeResult {
  code: number | null;
  stderr: string;
  streams: DecodedStream[];
}

export function run(cmd: string, args: string[], timeoutMs = 120_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      stderr += `\n[killed after ${timeoutMs} ms]`;
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

function parseRational(s: string): number {
  const [n, d] = s.split('/').map(Number);
  return n / (d || 1);
}

/** Parses ffmpeg's framemd5 output (version 2; the hash column is whatever -hash chose). */
export function parseFrameMd5(text: string): DecodedStream[] {
  const tb = new Map<number, number>();
  const types = new Map<number, string>();
  const frames = new Map<number, DecodedFrame[]>();
  for (const line of text.split('\n')) {
    let m = /^#tb (\d+): (\S+)/.exec(line);
    if (m) {
      tb.set(Number(m[1]), parseRational(m[2]));
      continue;
    }
    m = /^#media_type (\d+): (\S+)/.exec(line);
    if (m) {
      types.set(Number(m[1]), m[2]);
      continue;
    }
    if (line.startsWith('#') || !line.trim()) continue;
    const parts = line.split(',').map((p) => p.trim());
    if (parts.length < 6) continue;
    const idx = Number(parts[0]);
    const unit = tb.get(idx) ?? 1;
    const list = frames.get(idx) ?? [];
    list.push({ pts: Number(parts[2]) * unit, duration: Number(parts[3]) * unit, hash: parts[5] });
    frames.set(idx, list);
  }
  return [...types.keys()].sort((a, b) => a - b).map((index) => {
    const list = (frames.get(index) ?? []).slice().sort((a, b) => a.pts - b.pts);
    const first = list[0];
    const last = list[list.length - 1];
    return {
      index,
      mediaType: types.get(index) ?? 'unknown',
      frames: list,
      start: first ? first.pts : 0,
      duration: first && last ? last.pts + last.duration - first.pts : 0,
    };
  });
}

/**
 * Decodes every stream of `input` (a URL or a file) to the end. `-xerror` stops at the first
 * decoding error, and with `-v error` any line on stderr is an error worth failing on.
 */
export async function decodeAll(input: string, opts: { map?: string[] } = {}): Promise<DecodeResult> {
  const maps = (opts.map ?? ['0']).flatMap((m) => ['-map', m]);
  const res = await run('ffmpeg', [
    '-nostdin', '-hide_banner', '-v', 'error', '-xerror', '-copyts',
    '-i', input,
    // murmur3 hashes a 720p picture at half the CPU cost of MD5, and is as good for identity
    ...maps, '-fps_mode', 'passthrough', '-f', 'framemd5', '-hash', 'murmur3', '-',
  ]);
  return { code: res.code, stderr: res.stderr.trim(), streams: parseFrameMd5(res.stdout) };
}

export function streamOf(result: DecodeResult, mediaType: 'video' | 'audio'): DecodedStream | undefined {
  return result.streams.find((s) => s.mediaType === mediaType);
}

/** Presentation times (seconds) of the key frames of the first video stream of a file. */
export async function keyFrameTimes(input: string): Promise<number[]> {
  const res = await run('ffprobe', [
    '-v', 'error', '-select_streams', 'v:0', '-skip_frame', 'nokey',
    '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', input,
  ]);
  if (res.code !== 0) throw new Error(`ffprobe failed on ${input}: ${res.stderr}`);
  return res.stdout.split('\n').map((l) => parseFloat(l)).filter((n) => Number.isFinite(n)).sort((a, b) => a - b);
}

export async function ffprobeJson(input: string, entries = 'format:stream'): Promise<{ code: number | null; stderr: string; json: any }> {
  const res = await run('ffprobe', ['-v', 'error', '-show_entries', entries, '-of', 'json', input]);
  let json: any = null;
  try {
    json = JSON.parse(res.stdout);
  } catch {
    json = null;
  }
  return { code: res.code, stderr: res.stderr.trim(), json };
}

// --- the sample library, read from its own description file --------------------------------

interface LibraryFlavor {
  id: string;
  file: string;
  flavorParamsId: number;
  codecs?: string;
  language?: string;
}
interface LibraryEntry {
  id: string;
  partnerId: number;
  flavors?: LibraryFlavor[];
  captions?: { id: string; file: string; languageCode?: string }[];
}

let library: { mediaDir: string; entries: LibraryEntry[] } | undefined;

export function sampleEntry(entryId: string): LibraryEntry {
  library ??= JSON.parse(readFileSync(repoPath('fixtures', 'sample-library.json'), 'utf8'));
  const entry = library!.entries.find((e) => e.id === entryId);
  if (!entry) throw new Error(`no entry ${entryId} in fixtures/sample-library.json`);
  return entry;
}

/** Path of a sample flavor's committed media file (the server links the same file into its data dir). */
export function sampleFlavorFile(entryId: string, flavorId: string): string {
  const entry = sampleEntry(entryId);
  const flavor = entry.flavors?.find((f) => f.id === flavorId);
  if (!flavor) throw new Error(`no flavor ${flavorId} in ${entryId}`);
  return repoPath('fixtures', library!.mediaDir, flavor.file);
}
