// The packager's kept answers over HTTP: per-flavor playlists kept per timeline and catalog
// generation (src/packaging/kept-playlists.ts) and segments answered from the segment answer cache
// as one buffer (routes/packager.ts). Every kept answer is byte for byte the one made with the
// caches off, including HEAD and Range; a catalog change is never answered from a kept playlist;
// an encrypted playlist is never kept; the bound holds; /metrics counts them.
import t from 'tap';
import { copyFileSync, mkdtempSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { buildServer, loggerOptions } from '../../src/server.js';
import { startServer } from '../helpers/server.js';
import { fetchAnswer, sameAnswer, withPackagerCachesOff, type Res } from '../helpers/packager-answers.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';
import { generateKs } from '../../src/access/ks.js';
import { clearKeptPlaylists, keptPlaylistStats, setKeptPlaylistBytes } from '../../src/packaging/kept-playlists.js';
import { clearSegmentCache, segmentCacheStats, setSegmentCacheBytes } from '../../src/media/body.js';
import { sqliteDb } from '../helpers/sqlite.js';

const srv = await startServer(t);
const P = '/p/309/sp/30900/serveFlavor';
const RCIT = `${P}/entryId/1_rcit0qgs/v/1/flavorId`;
const INDEX_TS = `/hls${RCIT}/1_f1rcit00/name/a.mp4/index.m3u8`;
const INDEX_FMP4 = `/hls/container/fmp4${RCIT}/1_f2rcit00/name/a.mp4/index.m3u8`;
const INDEX_120 = `/hls${RCIT}/1_f3rcit00/name/a.mp4/index.m3u8`;

const get = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> => fetchAnswer(srv.url + path, headers, method);
/** The answer made with every packager cache off (rendered, produced from the source). */
const made = (path: string, headers: Record<string, string> = {}, method = 'GET'): Promise<Res> => withPackagerCachesOff(() => get(path, headers, method));

t.test('a per-flavor playlist is rendered once, then sent from the kept playlists, byte-identical', async (t) => {
  clearKeptPlaylists();
  for (const path of [INDEX_TS, INDEX_FMP4]) {
    const reference = await made(path);
    t.equal(reference.status, 200);
    const s0 = keptPlaylistStats();
    const first = await get(path);
    const s1 = keptPlaylistStats();
    t.equal(s1.misses, s0.misses + 1, 'the first request renders');
    t.equal(s1.entries, s0.entries + 1, 'and keeps it');
    const again = await get(path);
    t.equal(keptPlaylistStats().hits, s1.hits + 1, 'the second is sent from the kept playlists');
    sameAnswer(t, first, reference, `${path}, first`);
    sameAnswer(t, again, reference, `${path}, kept`);
  }
  const metrics = (await get('/metrics')).body.toString();
  t.match(metrics, /kdeliver_packager_playlist_cache_hits_total \d+/);
  t.match(metrics, new RegExp(`kdeliver_packager_playlist_cache_entries ${keptPlaylistStats().entries + keptPlaylistStats().byUrl}\\b`));
  t.match(metrics, /kdeliver_packager_playlist_cache_bytes [1-9]\d*/);
});

t.test('a catalog change is never answered from a kept playlist', async (t) => {
  const db = sqliteDb(srv.app.catalog);
  const before = await get(INDEX_TS);
  await get(INDEX_TS);
  const audioFile = (db.prepare('SELECT file_path AS p FROM flavor_assets WHERE file_path LIKE ?').get('%audio-128k%') as { p: string }).p;
  const own = (db.prepare('SELECT file_path AS p FROM flavor_assets WHERE id = ?').get('1_f1rcit00') as { p: string }).p;
  db.prepare('UPDATE flavor_assets SET file_path = ? WHERE id = ?').run(audioFile, '1_f1rcit00');
  try {
    const misses = keptPlaylistStats().misses;
    const after = await get(INDEX_TS);
    t.equal(keptPlaylistStats().misses, misses + 1, 'rendered again after the change');
    t.not(after.body.toString(), before.body.toString(), 'the flavor now points at an audio-only file: another playlist');
    sameAnswer(t, after, await made(INDEX_TS), 'after the change');
    sameAnswer(t, await get(INDEX_TS), await made(INDEX_TS), 'kept after the change');
    // a rule change is a catalog change too: the entry is refused at once, not answered from the kept text
    const profile = (db.prepare('SELECT id FROM access_control_profiles WHERE partner_id = 309 AND id IN (SELECT access_control_profile_id FROM entries WHERE id = ?)').get('1_kssecure') as { id: number }).id;
    const old = (db.prepare('SELECT access_control_profile_id AS p FROM entries WHERE id = ?').get('1_rcit0qgs') as { p: number | null }).p;
    db.prepare('UPDATE entries SET access_control_profile_id = ? WHERE id = ?').run(profile, '1_rcit0qgs');
    try {
      t.equal((await get(INDEX_TS)).status, 403, 'a rule that needs a KS refuses the kept playlist\'s URL');
    } finally {
      db.prepare('UPDATE entries SET access_control_profile_id = ? WHERE id = ?').run(old, '1_rcit0qgs');
    }
  } finally {
    db.prepare('UPDATE flavor_assets SET file_path = ? WHERE id = ?').run(own, '1_f1rcit00');
  }
  sameAnswer(t, await get(INDEX_TS), before, 'restored');
  // any catalog write: what was kept before it is not sent after it
  await get(INDEX_TS);
  const name = (db.prepare('SELECT name FROM entries WHERE id = ?').get('1_rcit0qgs') as { name: string }).name;
  db.prepare('UPDATE entries SET name = ? WHERE id = ?').run(name, '1_rcit0qgs');
  const m = keptPlaylistStats().misses;
  sameAnswer(t, await get(INDEX_TS), before, 'after a catalog write');
  t.equal(keptPlaylistStats().misses, m + 1, 'rendered again: a catalog write drops what was kept');
});

t.test('encrypted playlists are never kept', async (t) => {
  clearKeptPlaylists();
  const ks = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId: 'viewer', expiry: 3600, privileges: 'sview:1_aeshls01', version: 2, now: Math.floor(Date.now() / 1000) });
  const master = await get(`/p/309/sp/30900/playManifest/entryId/1_aeshls01/format/applehttp/protocol/http/ks/${ks}/a.m3u8`);
  t.equal(master.status, 200);
  const variant = new URL(master.body.toString().split('\n').find((l) => l.startsWith('http'))!);
  for (let i = 0; i < 2; i++) {
    const idx = await get(variant.pathname + variant.search);
    t.equal(idx.status, 200);
    t.match(idx.body.toString(), /#EXT-X-KEY:METHOD=AES-128/, 'the encrypted variant playlist');
  }
  t.equal(keptPlaylistStats().entries, 0, 'is not kept');
  // its AES-128 segment wraps a kept clear answer: the clear bytes never go out, the second time either
  const idx = (await get(variant.pathname + variant.search)).body.toString();
  const seg = new URL(idx.split('\n').find((l) => l.endsWith('.ts'))!, variant);
  const answers = [await get(seg.pathname + seg.search), await get(seg.pathname + seg.search)];
  const hits = segmentCacheStats().hits;
  const third = await get(seg.pathname + seg.search);
  t.ok(segmentCacheStats().hits > hits, 'the clear answer under it is kept');
  for (const a of [...answers, third]) {
    t.equal(a.status, 200);
    t.equal(a.body.length % 16, 0, 'whole AES blocks');
    t.notOk([0, 188, 376, 564].every((at) => a.body[at] === 0x47), 'not clear MPEG-TS (no sync bytes every 188)');
    t.ok(a.body.equals(answers[0].body), 'the same ciphertext each time');
  }
});

t.test('the bound: at most the byte bound, no playlist over an eighth of it, 0 turns keeping off', async (t) => {
  const { maxBytes } = keptPlaylistStats();
  t.teardown(() => setKeptPlaylistBytes(maxBytes));
  clearKeptPlaylists();
  const one = (await get(INDEX_TS)).body.length;
  await get(INDEX_FMP4);
  await get(INDEX_120);
  const { entries, bytes } = keptPlaylistStats();
  t.equal(entries, 3);
  setKeptPlaylistBytes(bytes - 1);
  t.ok(keptPlaylistStats().bytes <= bytes - 1, 'lowering the bound evicts');
  t.equal(keptPlaylistStats().entries, 2, 'the oldest');
  const h = keptPlaylistStats().hits;
  await get(INDEX_FMP4);
  t.equal(keptPlaylistStats().hits, h + 1, 'a newer one is still kept');
  setKeptPlaylistBytes(one * 8 - 8);
  clearKeptPlaylists();
  await get(INDEX_TS);
  t.equal(keptPlaylistStats().entries, 0, 'a playlist over an eighth of the bound is not kept');
  setKeptPlaylistBytes(0);
  await get(INDEX_TS);
  t.equal(keptPlaylistStats().entries, 0, 'off keeps nothing');
});

t.test('a kept segment goes out whole, by range and by HEAD exactly as a made one', async (t) => {
  const { maxBytes } = segmentCacheStats();
  t.teardown(() => setSegmentCacheBytes(maxBytes));
  setSegmentCacheBytes(64 << 20);
  for (const seg of [`/hls${RCIT}/1_f2rcit00/name/a.mp4/seg-2-v1-a1.ts`, `/hls/container/fmp4${RCIT}/1_f2rcit00/name/a.mp4/seg-2-v1-a1.m4s`, `/dash${RCIT}/1_f2rcit00/name/a.mp4/fragment-2-a1.m4s`, `/dash${RCIT}/1_f2rcit00/name/a.mp4/init-v1.mp4`]) {
    clearSegmentCache();
    const reference = await made(seg);
    t.equal(reference.status, 200, seg);
    const first = await get(seg);
    const hits = segmentCacheStats().hits;
    const kept = await get(seg);
    if (!seg.includes('init')) t.equal(segmentCacheStats().hits, hits + 1, `${seg}: answered from the segment cache`);
    sameAnswer(t, first, reference, `${seg}, made and kept`);
    sameAnswer(t, kept, reference, `${seg}, from the cache`);
    const n = reference.body.length;
    for (const range of ['bytes=0-187', `bytes=100-${n - 1}`, 'bytes=-500', `bytes=${n - 1}-`]) {
      const a = await get(seg, { range });
      const b = await made(seg, { range });
      t.equal(a.status, 206, `${range}`);
      sameAnswer(t, a, b, `${seg} ${range}`);
    }
    const unsatisfiable = await get(seg, { range: `bytes=${n + 10}-` });
    t.equal(unsatisfiable.status, 416);
    const head = await get(seg, {}, 'HEAD');
    t.equal(head.status, 200);
    t.equal(head.headers['content-length'], String(n), 'HEAD says the length');
    t.equal(head.body.length, 0, 'and sends no body');
  }
});

t.test('answers sent past Fastify are still counted in /metrics, bytes included', async (t) => {
  const served = async (): Promise<{ answers: number; bytes: number }> => {
    const m = (await get('/metrics')).body.toString();
    const sum = (re: RegExp): number => [...m.matchAll(re)].reduce((n, x) => n + Number(x[1]), 0);
    return { answers: sum(/^kdeliver_http_requests_total\{[^}]*family="hls"[^}]*\} (\d+)/gm), bytes: sum(/^kdeliver_http_response_bytes_total\{[^}]*family="hls"[^}]*\} (\d+)/gm) };
  };
  await get(INDEX_TS);
  const seg = `/hls${RCIT}/1_f2rcit00/name/a.mp4/seg-3-v1-a1.ts`;
  await get(seg);
  const before = await served();
  const a = await get(INDEX_TS);
  const b = await get(seg);
  const after = await served();
  t.equal(after.answers - before.answers, 2, 'two HLS answers counted');
  t.equal(after.bytes - before.bytes, a.body.length + b.body.length, 'with their bytes');
});

t.test('a playlist kept by URL is sent before routing: identical, within its second, never for a protected entry', async (t) => {
  clearKeptPlaylists();
  const reference = await made(INDEX_120);
  await get(INDEX_120);
  t.equal(keptPlaylistStats().byUrl, 1, 'the route keeps a clear playlist of an entry without rules by URL');
  const s0 = keptPlaylistStats();
  const early = await get(INDEX_120);
  const head = await get(INDEX_120, {}, 'HEAD');
  const s1 = keptPlaylistStats();
  t.equal(s1.hits, s0.hits + 2, 'both answered from the kept text');
  sameAnswer(t, early, reference, 'before routing');
  t.equal(head.status, 200);
  t.equal(head.headers['content-length'], String(reference.body.length));
  t.equal(head.body.length, 0);
  t.same(Object.keys(early.headers).sort(), Object.keys(reference.headers).sort(), 'the same header names as the route');

  // a protected entry (signed URL, rules): answered by the route each time, never kept by URL
  const set = `${P}/entryId/1_kssecure/v/1/flavorId/1_f,1kssec0,2kssec0,3kssec0,/name/a.mp4.urlset`;
  const signed = signMediaUrl(`/hls${set}/index-f1-v1-a1.m3u8`, srv.config.mediaUrlSecret, Math.floor(Date.now() / 1000));
  for (let i = 0; i < 2; i++) t.equal((await get(signed)).status, 200, 'signed playlist');
  t.equal(keptPlaylistStats().byUrl, 1, 'not kept by URL');
  t.equal((await get(`/hls${set}/index-f1-v1-a1.m3u8`)).status, 403, 'and the unsigned URL is refused');

  // the file replaced on disk (same path, no catalog change): noticed within the index cache's second
  const db = sqliteDb(srv.app.catalog);
  const own = (db.prepare('SELECT file_path AS p FROM flavor_assets WHERE id = ?').get('1_f3rcit00') as { p: string }).p;
  const path = srv.app.media.locate(own);
  const audio = srv.app.media.locate((db.prepare('SELECT file_path AS p FROM flavor_assets WHERE file_path LIKE ?').get('%audio-128k%') as { p: string }).p);
  const saved = `${path}.kept-test`;
  renameSync(path, saved); // the sample media are hard links into fixtures: move, never write into them
  try {
    copyFileSync(audio, path);
    await new Promise((r) => setTimeout(r, 1100));
    const after = await get(INDEX_120);
    t.not(after.body.toString(), reference.body.toString(), 'another file, another playlist');
    sameAnswer(t, after, await made(INDEX_120), 'after the file changed');
  } finally {
    rmSync(path, { force: true });
    renameSync(saved, path);
  }
  await new Promise((r) => setTimeout(r, 1100));
  sameAnswer(t, await get(INDEX_120), reference, 'the file back');
});

t.test('before routing means before routing: Fastify sees the first request only, and the log still has each', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-kept-pl-'));
  const config = loadConfig({ KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'info' });
  let out = '';
  const stream = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } });
  const app = await buildServer({ config, logger: { ...(loggerOptions(config) as object), stream } });
  let routed = 0;
  app.addHook('onRequest', (request, _reply, done) => {
    // this playlist's requests only (the server's own warm-up request is a playlist too: routes/warm-up.ts)
    if (request.url === INDEX_TS) routed++;
    done();
  });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  clearKeptPlaylists();
  const bodies = [];
  for (let i = 0; i < 3; i++) bodies.push(Buffer.from(await (await fetch(base + INDEX_TS)).arrayBuffer()));
  t.equal(routed, 1, 'the first request was routed; the two others went out before routing');
  t.ok(bodies[1].equals(bodies[0]) && bodies[2].equals(bodies[0]), 'the same playlist');
  const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { msg?: string; req?: { url?: string }; reqId?: string });
  const incoming = lines.filter((l) => l.msg === 'incoming request' && l.req?.url === INDEX_TS);
  t.equal(incoming.length, 3, 'each request is logged as coming in');
  t.equal(new Set(incoming.map((l) => l.reqId)).size, 3, 'each with its own id');
  t.equal(lines.filter((l) => l.msg === 'request completed').length >= 3, true, 'and as completed');
});

t.test('a playlist kept by URL is sent only for the catalog it was kept for, not another server\'s in the same process', async (t) => {
  // two fresh servers (their catalogs at the same generation), the second's 1_f3rcit00 another
  // file: the same URL, another playlist (the second once got the first's kept text)
  const [one, two] = [await startServer(t), await startServer(t)];
  const db = sqliteDb(two.app.catalog);
  const own = two.app.media.locate((db.prepare('SELECT file_path AS p FROM flavor_assets WHERE id = ?').get('1_f3rcit00') as { p: string }).p);
  const audio = two.app.media.locate((db.prepare('SELECT file_path AS p FROM flavor_assets WHERE file_path LIKE ?').get('%audio-128k%') as { p: string }).p);
  rmSync(own); // a hard link into fixtures: unlinked, never written into
  copyFileSync(audio, own);
  t.equal(one.app.catalog.generation(), two.app.catalog.generation(), 'both catalogs at the same generation');
  clearKeptPlaylists();
  await fetchAnswer(one.url + INDEX_120, {}, 'GET');
  const kept = await fetchAnswer(one.url + INDEX_120, {}, 'GET');
  t.equal(keptPlaylistStats().byUrl, 1, 'the first server\'s playlist kept by URL');
  const theirs = await fetchAnswer(two.url + INDEX_120, {}, 'GET');
  t.equal(theirs.status, 200);
  t.not(theirs.body.toString(), kept.body.toString(), 'the other server answers its own file\'s playlist');
  sameAnswer(t, theirs, await withPackagerCachesOff(() => fetchAnswer(two.url + INDEX_120, {}, 'GET')), 'as made with the caches off');
});
