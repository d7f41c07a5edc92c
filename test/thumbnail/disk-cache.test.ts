// The thumbnail disk cache's bound (KDELIVER_THUMBNAIL_CACHE_MB, src/thumbnail/disk-cache.ts)
// over the real server and the sample library: many different pictures keep it under its bound,
// an evicted picture is rendered again byte for byte, readers racing evictions always get the
// right picture, a restart scans what an earlier run left and trims it (never touching a file
// outside the cache folder), and /metrics counts it all.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer, testBackends, type TestServer } from '../helpers/server.js';
import { thumbnailCache } from '../../src/thumbnail/disk-cache.js';
import { thumbnailCacheRoot } from '../../src/storage/paths.js';

const MB = 1024 * 1024;
const ENTRIES = ['1_rcit0qgs', '1_alt0audi'];

const metricValue = (text: string, series: string): number | null => {
  const line = text.split('\n').find((l) => l.startsWith(series + ' '));
  return line ? Number(line.slice(series.length + 1)) : null;
};

async function metrics(s: TestServer): Promise<Record<string, number | null>> {
  const text = await (await fetch(`${s.url}/metrics`)).text();
  const out: Record<string, number | null> = {};
  for (const k of ['hits', 'misses', 'bytes', 'entries', 'evictions']) out[k] = metricValue(text, `kdeliver_thumbnail_cache_${k}${k === 'bytes' || k === 'entries' ? '' : '_total'}`);
  return out;
}

/** Every picture file under the cache folder, with its size. */
function onDisk(dataDir: string): Map<string, number> {
  const out = new Map<string, number>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const d of readdirSync(dir, { withFileTypes: true })) {
      const p = join(dir, d.name);
      if (d.isDirectory()) walk(p);
      else if (d.name.endsWith('.jpg')) out.set(p, statSync(p).size);
    }
  };
  walk(thumbnailCacheRoot(dataDir));
  return out;
}
const total = (files: Map<string, number>) => [...files.values()].reduce((a, b) => a + b, 0);

async function picture(s: TestServer, entryId: string, params: string) {
  const res = await fetch(`${s.url}/p/309/sp/30900/thumbnail/entry_id/${entryId}/${params}`);
  return { status: res.status, source: res.headers.get('x-kdeliver-thumbnail'), etag: res.headers.get('etag'), body: Buffer.from(await res.arrayBuffer()) };
}

/** A server on dataDir with the given bound, once its start-up scan is done. */
async function serverOn(t: { teardown(fn: () => unknown): void }, dataDir: string, mb: number): Promise<TestServer> {
  const s = await startServer(t, { env: { KDELIVER_DATA_DIR: dataDir, KDELIVER_THUMBNAIL_CACHE_MB: String(mb) } });
  await thumbnailCache(dataDir, s.config.thumbnailCacheBytes).ready;
  return s;
}

const dirs: string[] = [];
t.teardown(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'kdeliver-thumb-bound-'));
  dirs.push(d);
  return d;
};

// Large pictures (upscaled, quality 95), some 70-110 KB each: a few dozen are several times 1 MB
const many = (from: number, count: number) => Array.from({ length: count }, (_, i) => `width/${from + i * 8}/height/${Math.round((from + i * 8) * 0.75)}/type/5/quality/95`);

t.test('many different thumbnails stay under the bound; an evicted one is made again, the same bytes', async (t) => {
  const dataDir = freshDir();
  const s = await serverOn(t, dataDir, 1);
  const first = await picture(s, ENTRIES[0], 'width/1000/height/750/type/5/quality/95');
  t.equal(first.status, 200);
  t.equal(first.source, 'default', 'rendered');
  t.equal((await picture(s, ENTRIES[0], 'width/1000/height/750/type/5/quality/95')).source, 'cache', 'then read from the cache');
  const firstFile = [...onDisk(dataDir).keys()].find((f) => f.endsWith(`${first.etag!.slice(1, -1)}.jpg`));
  t.ok(firstFile, 'kept on disk under its key');

  let rendered = first.body.length;
  let largest = 0;
  for (const [i, params] of many(1008, 40).entries()) {
    const p = await picture(s, ENTRIES[i % 2], params);
    t.equal(p.status, 200);
    rendered += p.body.length;
    largest = Math.max(largest, total(onDisk(dataDir)));
  }
  t.ok(rendered > 2.5 * MB, `the pictures rendered (${rendered} bytes) are several times the bound`);
  t.ok(largest <= MB, `the folder never held more than the bound after an answer (at most ${largest} bytes)`);
  t.notOk(existsSync(firstFile!), 'the least recently used picture was removed');

  const m = await metrics(s);
  const disk = onDisk(dataDir);
  t.equal(m.bytes, total(disk), 'kdeliver_thumbnail_cache_bytes is what the folder holds');
  t.equal(m.entries, disk.size, 'kdeliver_thumbnail_cache_entries is its file count');
  t.equal(m.evictions, 41 - disk.size, 'kdeliver_thumbnail_cache_evictions_total counts the removed files');
  t.equal(m.hits, 1, 'one hit');
  t.equal(m.misses, 41, 'every other request a miss');

  const again = await picture(s, ENTRIES[0], 'width/1000/height/750/type/5/quality/95');
  t.equal(again.source, 'default', 'the evicted picture is rendered again');
  t.ok(again.body.equals(first.body), 'byte for byte the same');
  t.equal(again.etag, first.etag, 'under the same ETag');
  t.ok(existsSync(firstFile!), 'and kept again');
  const after = await metrics(s);
  t.equal(after.misses, m.misses! + 1, 'a miss counted');
  t.ok(total(onDisk(dataDir)) <= MB, 'still under the bound');
  t.equal(after.bytes, total(onDisk(dataDir)));
});

t.test('readers racing evictions get the right picture, never an error', async (t) => {
  const dataDir = freshDir();
  const s = await serverOn(t, dataDir, 1);
  const shapes = many(1200, 24);
  // each picture as rendered alone, as the reference (the cache then holds only the last few)
  const expected = new Map<string, Buffer>();
  for (const p of shapes) expected.set(p, (await picture(s, ENTRIES[0], p)).body);
  // every picture asked three times at once: renders, cache hits and removals interleave
  const asks = [...shapes, ...shapes, ...shapes].map((p) => picture(s, ENTRIES[0], p).then((r) => ({ p, r })));
  for (const { p, r } of await Promise.all(asks)) {
    t.equal(r.status, 200, `${p}: answered`);
    t.ok(r.body.equals(expected.get(p)!), `${p}: the same picture (${r.source})`);
  }
  t.ok(total(onDisk(dataDir)) <= MB, 'under the bound once every answer is sent');
  t.ok((await metrics(s)).evictions! > 0, 'files were removed meanwhile');
});

t.test('a restart scans what an earlier run left and trims it, oldest first, and nothing else', async (t) => {
  const dataDir = freshDir();
  const a = await serverOn(t, dataDir, 64);
  const shapes = many(900, 16);
  const root = thumbnailCacheRoot(dataDir);
  const entryDir = join(root, '309', ENTRIES[1]);
  // in the order they were made, which is the order of their ages below: the first the oldest
  const byAge: string[] = [];
  for (const p of shapes) {
    const r = await picture(a, ENTRIES[1], p);
    t.equal(r.status, 200);
    byAge.push(join(entryDir, `${r.etag!.slice(1, -1)}.jpg`));
  }
  await a.app.close();
  const left = onDisk(dataDir);
  t.same([...left.keys()].sort(), [...byAge].sort(), 'a generous bound kept them all');
  t.ok(total(left) > MB, `more than 1 MB left (${total(left)})`);
  const hourAgo = Date.now() / 1000 - 3600;
  byAge.forEach((f, i) => utimesSync(f, hourAgo - (byAge.length - i) * 3600, hourAgo - (byAge.length - i) * 3600));
  // a write interrupted long ago, and files that are not the cache's pictures
  const staleTmp = join(entryDir, 'deadbeef.jpg.0011.tmp');
  writeFileSync(staleTmp, Buffer.alloc(1000));
  utimesSync(staleTmp, hourAgo - 7200, hourAgo - 7200);
  const foreign = [join(root, 'stray.jpg'), join(root, '309', 'stray.jpg'), join(dataDir, 'cache', 'other.jpg'), join(entryDir, 'notes.txt')];
  mkdirSync(join(dataDir, 'cache'), { recursive: true });
  for (const f of foreign) writeFileSync(f, Buffer.alloc(2 * MB));

  const b = await serverOn(t, dataDir, 1);
  const kept = onDisk(dataDir);
  for (const f of foreign.filter((f) => f.endsWith('.jpg'))) kept.delete(f);
  t.ok(total(kept) <= MB, `trimmed to the bound at start (${total(kept)} bytes)`);
  t.ok(kept.size > 0 && kept.size < 16, `some pictures stay (${kept.size})`);
  const survivors = byAge.filter((f) => kept.has(f));
  t.same(survivors, byAge.slice(byAge.length - survivors.length), 'the most recently modified ones');
  t.notOk(existsSync(staleTmp), 'a stale temporary file is removed');
  for (const f of foreign) t.ok(existsSync(f), `${f.slice(dataDir.length)} is not the cache's: left alone`);
  const m = await metrics(b);
  t.equal(m.bytes, total(kept), 'the scan counted what stays');
  t.equal(m.entries, kept.size);
  t.equal(m.evictions, 16 - kept.size);
  const hit = await picture(b, ENTRIES[1], shapes[shapes.length - 1]);
  t.equal(hit.source, 'cache', 'what an earlier run made is answered from the cache');
  t.equal((await metrics(b)).hits, 1);
  const gone = await picture(b, ENTRIES[1], shapes[0]);
  t.not(gone.source, 'cache', 'what the restart removed is not found');
  // (on S3 the test helper gives the restarted server a fresh, empty media prefix: nothing to render from)
  if (testBackends.media === 'local') t.equal(gone.source, 'default', 'and is made again');
});
