// A media file replaced under a running server: the parsed index (src/media/index-cache.ts) and
// the open file the segment's bytes are read from (src/media/file-handles.ts) each look at the
// file at most once a second, each on its own clock. Right after a replacement (a new file renamed
// over the name, as the README advises, or rsync's, whose copy keeps the size and mtime) one could
// be new and the other old, and a segment was cut from one file by the other's sample offsets:
// garbage with a 200, kept by the segment answer cache, players and CDNs. Now a body reads only
// the bytes its index was read from (body.ts leaseFor): the right segment, or the store's
// "changed" error (502), never mixed bytes. A file cut short in place is that error too (it was
// an untyped error, a 500). The two caches are the server's own, driven by their clocks.
import t from 'tap';
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, truncateSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { createHandleCache } from '../../src/media/file-handles.js';
import { createIndexCache } from '../../src/media/index-cache.js';
import { localMediaStore } from '../../src/storage/media-store.js';
import { bodyStream } from '../../src/media/body.js';
import { hlsPolicy, timelineFor } from '../../src/media/segment.js';
import { tsSegment } from '../../src/media/ts/writer.js';
import { SourceError } from '../../src/media/errors.js';
import { asDeliveryError } from '../../src/errors.js';
import type { MediaIndex } from '../../src/media/mp4/index-types.js';
import { sample } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'kdeliver-replaced-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** The same media with its moov after the mdat: same size, every sample at another offset. */
function moovToEnd(file: Buffer): Buffer {
  const boxes: { type: string; bytes: Buffer }[] = [];
  for (let o = 0; o < file.length;) {
    const size = file.readUInt32BE(o);
    boxes.push({ type: file.toString('latin1', o + 4, o + 8), bytes: file.subarray(o, o + size) });
    o += size;
  }
  const moov = Buffer.from(boxes.find((b) => b.type === 'moov')!.bytes);
  const shift = moov.length;
  // every chunk offset moves back by the moov's size (stco entries, found by their box header)
  for (let at = moov.indexOf('stco'); at >= 0; at = moov.indexOf('stco', at + 4)) {
    const n = moov.readUInt32BE(at + 8);
    for (let i = 0; i < n; i++) moov.writeUInt32BE(moov.readUInt32BE(at + 12 + i * 4) - shift, at + 12 + i * 4);
  }
  return Buffer.concat([...boxes.filter((b) => b.type !== 'moov').map((b) => b.bytes), moov]);
}

const A = readFileSync(sample('h264-720p.mp4'));
const B = readFileSync(sample('source-720p.mp4'));
const A2 = moovToEnd(A);

/** The server's pair of caches over one media folder, each on a clock of its own. */
function caches() {
  const clock = { index: 0, handles: 0 };
  const handles = createHandleCache({ idleMs: 1e9, now: () => clock.handles });
  const store = localMediaStore(dir, handles);
  const index = createIndexCache({ maxBytes: 64 << 20, maxMoovBytes: 64 << 20, store, now: () => clock.index });
  return { clock, handles, store, index };
}

/** Segment `n` (from 0) made through the caches, as its md5 (a mismatch is no use printed whole). */
async function segment(c: ReturnType<typeof caches>, path: string, idx?: MediaIndex, n = 2): Promise<string> {
  const index = idx ?? await c.index.get(path);
  const hash = createHash('md5');
  for await (const b of bodyStream(path, tsSegment(timelineFor(index, hlsPolicy(10000)), n), undefined, undefined, c.store, index)) hash.update(b);
  return hash.digest('hex');
}

/** Segment SEG of these bytes, from a file and caches of its own. */
async function reference(name: string, bytes: Buffer, n = 2): Promise<string> {
  const path = join(dir, name);
  writeFileSync(path, bytes);
  const c = caches();
  const seg = await segment(c, path, undefined, n);
  await c.handles.close();
  return seg;
}

/** A whole second, as rsync -a and cp -p copy a file's mtime (Node's utimes cannot set nanoseconds). */
const MTIME = 1_700_000_000;

/** Puts `bytes` at path as a new file renamed over it (a new inode), optionally with the mtime MTIME. */
function replace(path: string, bytes: Buffer, sameMtime = false): void {
  writeFileSync(`${path}.new`, bytes);
  if (sameMtime) utimesSync(`${path}.new`, MTIME, MTIME);
  renameSync(`${path}.new`, path);
}

const refA = await reference('ref-a.mp4', A);
const refB = await reference('ref-b.mp4', B);
const refA2 = await reference('ref-a2.mp4', A2);
t.notSame(refA, refB, 'the two files give different segments');
t.same(refA2, refA, 'the moved moov gives the same segment (same samples)');

t.test('the index looked at the replaced file, the open handle not yet: the new file\'s segment, and the new file\'s index kept', async (t) => {
  const c = caches();
  const path = join(dir, 'one.mp4');
  copyFileSync(sample('h264-720p.mp4'), path);
  t.same(await segment(c, path), refA, 'before: the first file');
  replace(path, B);
  c.clock.index = 1500; // the index cache looks again; the handle is still trusted
  c.clock.handles = 500;
  t.same(await segment(c, path), refB, 'the new file\'s bytes under the new file\'s index');
  c.clock.handles = 3000;
  t.same(await segment(c, path, undefined, 3), await reference('ref-b3.mp4', B, 3), 'and after the handle is looked at again too');
  await c.handles.close();
});

t.test('the open handle looked at the replaced file, the index not yet: "changed", then the new file', async (t) => {
  const c = caches();
  const path = join(dir, 'two.mp4');
  copyFileSync(sample('h264-720p.mp4'), path);
  const before = await c.index.get(path);
  t.same(await segment(c, path, before), refA, 'before: the first file');
  replace(path, B);
  c.clock.handles = 1500; // the handle cache looks again; the index is still trusted
  c.clock.index = 500;
  const stale = await c.index.get(path);
  t.equal(stale, before, 'the index cache still gives the first file\'s index');
  const err = await segment(c, path, stale).then(() => null, (e: unknown) => e);
  t.ok(err instanceof SourceError && err.failure === 'changed', `refused as changed: ${String(err)}`);
  t.match(asDeliveryError(err), { httpStatus: 502, code: 5 }, 'answered 502 with code 5, as a changed remote object');
  t.same(await segment(c, path), refB, 'the next request, within the same second, reads the new file whole');
  await c.handles.close();
});

t.test('a file replaced by a copy with the same size and mtime (rsync -a) is a new file', async (t) => {
  const c = caches();
  const path = join(dir, 'three.mp4');
  writeFileSync(path, A);
  utimesSync(path, MTIME, MTIME);
  t.same(await segment(c, path), refA, 'before');
  const before = statSync(path);
  replace(path, A2, true);
  const after = statSync(path);
  t.match([after.size, after.mtimeMs], [before.size, before.mtimeMs], 'same size and mtime');
  c.clock.index = 1500;
  c.clock.handles = 1500;
  // segment 3: segment 2's answer for the first file's index is kept by the segment answer cache
  t.same(await segment(c, path, undefined, 3), await reference('ref-a2-3.mp4', A2, 3), 'the new file read with its own index (its samples moved)');
  await c.handles.close();
});

t.test('a file cut short in place: "changed" (502), then what the short file is', async (t) => {
  const c = caches();
  const path = join(dir, 'four.mp4');
  writeFileSync(path, A);
  const idx = await c.index.get(path);
  t.same(await segment(c, path, idx), refA, 'before');
  truncateSync(path, 200_000);
  // another segment: segment 2's answer is kept by the segment answer cache, and rightly sent again
  const err = await segment(c, path, idx, 3).then(() => null, (e: unknown) => e);
  t.ok(err instanceof SourceError && err.failure === 'changed', `refused as changed: ${String(err)}`);
  t.match(asDeliveryError(err), { httpStatus: 502, code: 5 }, 'a delivery error (not a 500)');
  const next = await c.index.get(path).then(() => null, (e: unknown) => e);
  t.match(asDeliveryError(next), { httpStatus: 404, code: 5 }, 'the next request reads the file again: it cannot be packaged (error 5)');
  await c.handles.close();
});
