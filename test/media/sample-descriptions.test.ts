// A track whose samples name more than one sample description: a recorder whose settings changed
// mid-file writes a second stsd entry (other parameter sets, another picture size) and points its
// later chunks (stsc) or fragments (tfhd, trex) at it. The packager writes every sample with the
// first entry's configuration, so such a track was sent under the wrong one: a broken picture.
// It is now refused with what is wrong (src/media/mp4/reader.ts refuseOtherDescriptions); a copy
// of the first entry, as some muxers write, is the same description and plays, as do avc3 and hev1
// samples, which carry their own parameter sets. Real files: ffmpeg makes them, and the boxes are
// edited as a muxer would have written them.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readMediaIndex } from '../../src/media/mp4/reader.js';
import { MediaError } from '../../src/media/errors.js';
import { requireCommands } from '../helpers/system.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-stsd-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

function make(name: string, movflags: string[]): Buffer {
  const out = join(dir, name);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=160x96:rate=25', '-f', 'lavfi', '-i', 'sine=sample_rate=48000',
    '-t', '4', '-c:v', 'libx264', '-preset', 'ultrafast', '-g', '25', '-c:a', 'aac', ...movflags, out]);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  return readFileSync(out);
}
// the moov after the media (ffmpeg's default): growing it moves no sample
const progressive = make('progressive.mp4', []);
// every sample in moofs whose data is counted from the moof itself: moving them moves nothing
const fragmented = make('fragmented.mp4', ['-movflags', 'frag_keyframe+empty_moov+default_base_moof']);

interface At { type: string; at: number; size: number }
/** The boxes under `b[from, to)`, one level. */
function boxes(b: Buffer, from: number, to: number): At[] {
  const out: At[] = [];
  for (let o = from; o + 8 <= to;) {
    const size = b.readUInt32BE(o);
    out.push({ type: b.toString('latin1', o + 4, o + 8), at: o, size });
    o += size;
  }
  return out;
}
const inside = (b: Buffer, box: At, type: string, skip = 0) => boxes(b, box.at + 8 + skip, box.at + box.size).find((x) => x.type === type)!;

/** The video track's stsd, and the boxes that hold it (outermost first). */
function videoStsd(b: Buffer): { path: At[]; stsd: At } {
  const moov = boxes(b, 0, b.length).find((x) => x.type === 'moov')!;
  for (const trak of boxes(b, moov.at + 8, moov.at + moov.size).filter((x) => x.type === 'trak')) {
    const mdia = inside(b, trak, 'mdia');
    if (b.toString('latin1', inside(b, mdia, 'hdlr').at + 16, inside(b, mdia, 'hdlr').at + 20) !== 'vide') continue;
    const minf = inside(b, mdia, 'minf');
    const stbl = inside(b, minf, 'stbl');
    return { path: [moov, trak, mdia, minf, stbl], stsd: inside(b, stbl, 'stsd') };
  }
  throw new Error('no video track');
}

/** The file with a second entry in the video track's stsd: a copy of the first, changed by `change`. */
function withSecondEntry(b: Buffer, change: (entry: Buffer) => void): Buffer {
  const { path, stsd } = videoStsd(b);
  const first = boxes(b, stsd.at + 16, stsd.at + stsd.size)[0];
  const entry = Buffer.from(b.subarray(first.at, first.at + first.size));
  change(entry);
  const out = Buffer.concat([b.subarray(0, stsd.at + stsd.size), entry, b.subarray(stsd.at + stsd.size)]);
  for (const box of [...path, stsd]) out.writeUInt32BE(box.size + entry.length, box.at);
  out.writeUInt32BE(out.readUInt32BE(stsd.at + 12) + 1, stsd.at + 12);
  return out;
}
/** The avcC's level byte changed: another configuration. */
const otherLevel = (entry: Buffer) => {
  const avcC = entry.indexOf('avcC');
  entry[avcC + 4 + 3] ^= 1;
};

/** Every stsc entry of the video track names `index`. */
function stscNames(b: Buffer, index: number): Buffer {
  const out = Buffer.from(b);
  const { path } = videoStsd(out);
  const stsc = inside(out, path[4], 'stsc');
  for (let k = 0, n = out.readUInt32BE(stsc.at + 12); k < n; k++) out.writeUInt32BE(index, stsc.at + 16 + 12 * k + 8);
  return out;
}
/** The video track's trex names `index` as every fragment's description. */
function trexNames(b: Buffer, index: number): Buffer {
  const out = Buffer.from(b);
  const { path } = videoStsd(out);
  const id = out.readUInt32BE(inside(out, path[1], 'tkhd').at + 20);
  for (let i = out.indexOf('trex'); i >= 0; i = out.indexOf('trex', i + 4)) if (out.readUInt32BE(i + 8) === id) out.writeUInt32BE(index, i + 12);
  return out;
}

const read = async (b: Buffer, name: string) => {
  writeFileSync(join(dir, name), b);
  return readMediaIndex(join(dir, name), { maxMoovBytes: 64 << 20 }).then((x) => x, (e: unknown) => e);
};
const samples = (x: unknown) => (x as { tracks: { count: number; size: Uint32Array }[] }).tracks.map((tr) => [tr.count, Array.from(tr.size)]);

for (const [layout, file, names] of [['progressive (stsc)', progressive, stscNames], ['fragmented (trex)', fragmented, trexNames]] as const) {
  t.test(`${layout}: samples of another description are refused with what is wrong; of a copy of the first, read as before`, async (t) => {
    const original = await read(file, `${layout}-original.mp4`);
    t.notOk(original instanceof Error, 'the file as ffmpeg wrote it is read');
    const changed = await read(names(withSecondEntry(file, otherLevel), 2), `${layout}-changed.mp4`);
    t.ok(changed instanceof MediaError && changed.kind === 'UNSUPPORTED' && /track \d+: its samples change sample description \(entry 2 of 2/.test(changed.message), String(changed));
    const copy = await read(names(withSecondEntry(file, () => undefined), 2), `${layout}-copy.mp4`);
    t.notOk(copy instanceof Error, 'a copy of the first entry is read');
    t.same(samples(copy), samples(original), 'a copy of the first entry: the same samples');
    // a second entry no sample names changes nothing
    const unused = await read(withSecondEntry(file, otherLevel), `${layout}-unused.mp4`);
    t.same(samples(unused), samples(original), 'an entry no sample names: the same samples');
  });
}

t.test('avc3 (parameter sets in the samples, which decoders follow): another description is read', async (t) => {
  const avc3 = make('avc3.mp4', ['-tag:v', 'avc3']);
  t.ok(avc3.includes('avc3'), 'the sample entry is avc3');
  const original = await read(avc3, 'avc3-original.mp4');
  const changed = await read(stscNames(withSecondEntry(avc3, otherLevel), 2), 'avc3-changed.mp4');
  t.notOk(changed instanceof Error, 'read');
  t.same(samples(changed), samples(original), 'the same samples');
});
