// A fragmented MP4 (a recorder's frag_keyframe output) on S3 or an HTTP origin. Its moofs lie one
// before each fragment's media, and the remote stores read whole 1 MB blocks
// (src/storage/block-cache.ts): walking the file box by box fetched nearly all of it, one block
// after another, before its first playlist (a 2-hour recording: gigabytes). A finished recording
// ends with an mfra naming its moofs; they are now read at once, just their bytes, and what the
// reader makes of them is what the walk makes (src/media/mp4/reader.ts readFragments). Real parts:
// nginx serving the file with byte ranges (its access log counts what was fetched), s3rver through
// the AWS SDK, the block cache itself, ffmpeg making the recordings.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, type TestServer } from '../helpers/server.js';
import { startS3 } from '../helpers/media-origins.js';
import { startNginxWith } from '../helpers/nginx.js';
import { requireCommands } from '../helpers/system.js';
import { importLibrary } from '../../src/catalog/library.js';
import { readSourceIndex } from '../../src/media/mp4/reader.js';
import { BLOCK_BYTES, blockSource, createBlockCache } from '../../src/storage/block-cache.js';
import type { MediaIndex } from '../../src/media/mp4/index-types.js';

requireCommands(t, ['ffmpeg'], 'ffmpeg');
const dir = mkdtempSync(join(tmpdir(), 'kdeliver-fragmented-remote-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

/** 24 s of noisy 640x360 H.264 and AAC, a fragment a second: about 1 MB of media per fragment. */
function record(name: string, movflags: string): string {
  const out = join(dir, name);
  const r = spawnSync('ffmpeg', ['-v', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc2=size=640x360:rate=25,noise=alls=60:allf=t', '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000',
    '-t', '24', '-c:v', 'libx264', '-preset', 'ultrafast', '-b:v', '7M', '-maxrate', '7M', '-bufsize', '7M', '-g', '25', '-c:a', 'aac', '-movflags', movflags, out]);
  if (r.status !== 0) throw new Error(`ffmpeg: ${r.stderr}`);
  return out;
}
const obs = record('obs.mp4', 'frag_keyframe+empty_moov+default_base_moof');
const size = statSync(obs).size;

/** The mfra's tfra entries: where each names a moof, and how wide that offset is. */
function tfraOffsets(bytes: Buffer): { at: number; wide: boolean }[] {
  const mfra = bytes.length - bytes.readUInt32BE(bytes.length - 4);
  const out: { at: number; wide: boolean }[] = [];
  for (let o = mfra + 8; o < bytes.length - 16;) {
    const boxSize = bytes.readUInt32BE(o);
    const wide = bytes[o + 8] === 1;
    const lengths = bytes.readUInt32BE(o + 16);
    const entryBytes = (wide ? 16 : 8) + ((lengths >> 4) & 3) + ((lengths >> 2) & 3) + (lengths & 3) + 3;
    for (let k = 0, e = o + 24; k < bytes.readUInt32BE(o + 20); k++, e += entryBytes) out.push({ at: e + (wide ? 8 : 4), wide });
    o += boxSize;
  }
  return out;
}
const readOffset = (b: Buffer, x: { at: number; wide: boolean }) => (x.wide ? Number(b.readBigUInt64BE(x.at)) : b.readUInt32BE(x.at));
const writeOffset = (b: Buffer, x: { at: number; wide: boolean }, v: number) => (x.wide ? b.writeBigUInt64BE(BigInt(v), x.at) : b.writeUInt32BE(v, x.at));

const bytes = readFileSync(obs);
const entries = tfraOffsets(bytes);
// an mfra naming every other fragment's moof (as a muxer naming only some may): the walk reads the rest
const someListed = Buffer.from(bytes);
entries.forEach((x, k) => k % 2 === 1 && writeOffset(someListed, x, readOffset(bytes, entries[k - 1])));
writeFileSync(join(dir, 'some-listed.mp4'), someListed);
// an mfra of another file: its offsets point into media, not at moofs
const wrongList = Buffer.from(bytes);
for (const x of entries) writeOffset(wrongList, x, readOffset(bytes, x) + 4097);
writeFileSync(join(dir, 'wrong-list.mp4'), wrongList);
// an mfra whose first tfra claims more entries than its box holds: not read at all
const badCount = Buffer.from(bytes);
badCount.writeUInt32BE(0xffffff, entries[0].at - (entries[0].wide ? 8 : 4) - 4);
writeFileSync(join(dir, 'bad-count.mp4'), badCount);

/** Each track's samples as the reader gives them. */
const samples = (index: MediaIndex) => index.tracks.map((tr) => ({ kind: tr.kind, offset: Array.from(tr.offset), size: Array.from(tr.size), dts: Array.from(tr.dts), sync: tr.sync ? Array.from(tr.sync) : null }));

/**
 * The file's index read through the block cache, as S3 and the HTTP origin read it: the bytes it
 * fetched, in how many reads, and the most under way at once.
 */
async function readRemotely(file: string) {
  const fh = await open(file, 'r');
  try {
    let fetched = 0;
    let fetches = 0;
    let running = 0;
    let atOnce = 0;
    const { size: fileSize } = await fh.stat();
    const source = blockSource(createBlockCache(64 << 20), file, 'v1', fileSize, async (offset, length) => {
      fetches++;
      fetched += length;
      atOnce = Math.max(atOnce, ++running);
      const buf = Buffer.alloc(length);
      // an origin's round trip, so that reads under way together overlap
      await new Promise((r) => setTimeout(r, 2));
      await fh.read(buf, 0, length, offset);
      running--;
      return buf;
    });
    return { index: await readSourceIndex(source, { maxMoovBytes: 64 << 20 }), fetched, fetches, atOnce };
  } finally {
    await fh.close();
  }
}

/** The index a local file gives (its moofs walked, or listed: the same). */
async function readLocally(file: string) {
  const fh = await open(file, 'r');
  try {
    const read = async (o: number, n: number, into?: Uint8Array) => {
      const b = into ?? Buffer.alloc(n);
      const { bytesRead } = await fh.read(b, 0, n, o);
      return b.subarray(0, bytesRead);
    };
    return await readSourceIndex({ size: (await fh.stat()).size, read }, { maxMoovBytes: 64 << 20 });
  } finally {
    await fh.close();
  }
}

t.test('through the block cache, a finished recording\'s moofs are fetched alone, and read as a walk reads them', async (t) => {
  t.ok(size > 15 << 20, `the recording is ${size} bytes`);
  t.ok(entries.length >= 48, `its mfra names ${entries.length} moofs (two tracks, 24 fragments)`);
  // the walk, as it was: the same file with its mfra's last box renamed, so no mfra is found
  const unlisted = Buffer.from(bytes);
  unlisted.write('free', unlisted.length - 12, 'latin1');
  writeFileSync(join(dir, 'unlisted.mp4'), unlisted);
  const walked = await readRemotely(join(dir, 'unlisted.mp4'));
  const listed = await readRemotely(obs);
  t.same(samples(listed.index), samples(walked.index), 'the same samples as the walk');
  t.same(samples(listed.index), samples(await readLocally(obs)), 'the same samples as from local disk');
  t.ok(walked.fetched > size * 0.9, `walked: ${walked.fetched} of ${size} bytes fetched in ${walked.fetches} reads, one after another`);
  t.equal(walked.atOnce, 1, 'walked, one read at a time');
  // the first block holds the moov (and the first segment's media): every file's index fetches it;
  // past it, only the moofs (and the box headers after them), not the media between
  t.ok(listed.fetched - BLOCK_BYTES < size * 0.05, `listed: ${listed.fetched} of ${size} bytes fetched in ${listed.fetches} reads`);
  t.ok(listed.atOnce > 4, `listed, ${listed.atOnce} reads under way at once`);
  for (const name of ['some-listed.mp4', 'wrong-list.mp4', 'bad-count.mp4']) {
    const r = await readRemotely(join(dir, name));
    t.same(samples(r.index), samples(walked.index), `${name}: the same samples as the walk (${r.fetched} bytes fetched)`);
  }
});

// --- over HTTP and S3, through kdeliver -----------------------------------------------------
t.test('over HTTP and S3, the first playlist fetches the moofs, not the media, and every answer is local disk\'s', async (t) => {
  const originRoot = join(dir, 'origin');
  const nginx = await startNginxWith(t, (port, prefix) => `
    sendfile on;
    log_format fetched '$status $body_bytes_sent';
    server {
      listen 127.0.0.1:${port};
      location /media/ { alias ${originRoot}/; access_log ${prefix}/logs/fetched.log fetched; }
    }`);
  const fetchedLog = join(nginx.prefix, 'logs', 'fetched.log');
  const s3 = await startS3(t);

  const ENTRY = '1_fragrec1';
  const FLAVOR = '1_fragrec2';
  const library = { version: 1 as const, entries: [{ id: ENTRY, partnerId: 309, name: 'OBS recording', flavors: [{ id: FLAVOR, flavorParamsId: 301951, file: 'obs.mp4' }] }] };

  /** A server with the recording imported: its media on local disk, or moved to the origin given. */
  async function serving(env: Record<string, string> | null): Promise<TestServer> {
    const s = await startServer(t, { env: { KDELIVER_MEDIA_CACHE_MB: '64', ...env } });
    await importLibrary(s.app.catalog, library, dir, s.config.mediaRoot);
    if (env) {
      cpSync(s.config.mediaRoot, originRoot, { recursive: true });
      const rel = `309/${ENTRY}`;
      const file = readdirMp4(join(s.config.mediaRoot, rel));
      await s3.put(`rec/${rel}/${file}`, readFileSync(join(s.config.mediaRoot, rel, file)));
      rmSync(s.config.mediaRoot, { recursive: true, force: true });
    }
    return s;
  }
  const readdirMp4 = (d: string) => readdirSync(d).find((f) => f.endsWith('.mp4'))!;

  const local = await serving(null);
  const onHttp = await serving({ KDELIVER_MEDIA_URL: `${nginx.url}/media` });
  const onS3 = await serving(s3.env('rec'));

  const playlistPath = `/p/309/sp/30900/playManifest/entryId/${ENTRY}/flavorId/${FLAVOR}/format/applehttp/protocol/http/a.m3u8`;
  async function get(url: string) {
    const r = await fetch(url, { signal: AbortSignal.timeout(30_000) });
    return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
  }

  const want = await get(`${local.url}${playlistPath}`);
  t.equal(want.status, 200, 'local disk answers the flavor\'s playlist');
  const variant = want.body.toString().split('\n').find((l) => l.startsWith('http'))!;
  t.ok(variant, 'the flavor\'s playlist lists its media playlist');
  const index = await get(variant);
  t.equal(index.status, 200);
  const segments = index.body.toString().split('\n').filter((l) => l && !l.startsWith('#'));
  t.ok(segments.length >= 2, `${segments.length} segments`);

  writeFileSync(fetchedLog, '');
  for (const [name, s] of [['HTTP origin', onHttp], ['S3', onS3]] as const) {
    const swap = (u: string) => u.replace(local.url, s.url);
    const got = await get(swap(variant));
    t.equal(got.status, 200, `${name}: the media playlist`);
    t.equal(got.body.toString().replaceAll(s.url, local.url), index.body.toString(), `${name}: the same media playlist`);
    if (name === 'HTTP origin') {
      const lines = readFileSync(fetchedLog, 'utf8').trim().split('\n');
      const fetched = lines.reduce((n, l) => n + Number(l.split(' ')[1]), 0);
      t.ok(fetched - BLOCK_BYTES < size * 0.05, `the first playlist fetched ${fetched} of ${size} bytes in ${lines.length} requests`);
    }
    for (const seg of [segments[0], segments[segments.length - 1]]) {
      const [a, b] = [await get(new URL(seg, variant).href), await get(swap(new URL(seg, variant).href))];
      t.equal(b.status, 200, `${name}: ${seg}`);
      t.ok(a.body.equals(b.body), `${name}: ${seg} as local disk answers it`);
    }
  }
});
