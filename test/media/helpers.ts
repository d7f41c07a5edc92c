// Shared bits of the media unit tests: the sample files, mp4box.js as an independent parser, and
// a rewriter that turns a moov-at-end file's stco boxes into co64 (ffmpeg only writes co64 past
// 4 GB, so the test makes one itself).
import MP4Box from 'mp4box';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { repoPath } from '../helpers/repo.js';

export const MEDIA = join(repoPath('fixtures/media'));
export const sample = (name: string): string => join(MEDIA, name);

export interface Mp4boxView {
  info: any;
  boxes: string[];
  samples(trackId: number): Array<{ offset: number; size: number; dts: number; cts: number; is_sync: boolean; duration: number }>;
}

/** Parses bytes with mp4box.js (an implementation nobody here wrote): its file object, and the onReady info. */
export function mp4boxParse(bytes: Uint8Array): { file: any; info: any } {
  const f = MP4Box.createFile();
  let info: any = null;
  let error: unknown = null;
  f.onReady = (i: any) => { info = i; };
  f.onError = (e: unknown) => { error = e; };
  const ab: any = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  ab.fileStart = 0;
  f.appendBuffer(ab);
  f.flush();
  if (error) throw new Error(`mp4box: ${String(error)}`);
  return { file: f, info };
}

export function mp4box(bytes: Uint8Array): Mp4boxView {
  const { file: f, info } = mp4boxParse(bytes);
  return { info, boxes: f.boxes.map((b: any) => b.type), samples: (id) => f.getTrackSamplesInfo(id) };
}

export const mp4boxFile = (path: string): Mp4boxView => mp4box(readFileSync(path));

const CONTAINERS = new Set(['moov', 'trak', 'mdia', 'minf', 'stbl', 'edts']);

/** Rewrites every stco under moov as co64 (same offsets). Only valid when moov follows mdat. */
export function stcoToCo64(file: Buffer): Buffer {
  const rewrite = (b: Buffer): Buffer => {
    const out: Buffer[] = [];
    let o = 0;
    while (o + 8 <= b.length) {
      const size = b.readUInt32BE(o);
      const type = b.toString('latin1', o + 4, o + 8);
      const body = b.subarray(o + 8, o + size);
      if (CONTAINERS.has(type)) {
        const inner = rewrite(body);
        const h = Buffer.alloc(8);
        h.writeUInt32BE(8 + inner.length, 0);
        h.write(type, 4, 'latin1');
        out.push(h, inner);
      } else if (type === 'stco') {
        const n = body.readUInt32BE(4);
        const nb = Buffer.alloc(8 + 8 + n * 8);
        nb.writeUInt32BE(nb.length, 0);
        nb.write('co64', 4, 'latin1');
        nb.writeUInt32BE(n, 12);
        for (let i = 0; i < n; i++) nb.writeBigUInt64BE(BigInt(body.readUInt32BE(8 + i * 4)), 16 + i * 8);
        out.push(nb);
      } else out.push(b.subarray(o, o + size));
      o += size;
    }
    return Buffer.concat(out);
  };
  return rewrite(file);
}
