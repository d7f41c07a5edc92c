// The packager's kept answers for a protected entry (1_kssecure, "Require KS"), over HTTP with real
// KSs: the segment answer cache (src/media/body.ts) and the kept per-flavor playlists
// (src/packaging/kept-playlists.ts) save making the same bytes for every viewer, and never stand in
// for the decision. A viewer with its own KS and signed URL is answered from them, byte for byte
// what the packager makes with them off; a KS for another entry, an expired KS or signature, a
// revoked KS and a changed rule are refused though the answer is kept; a catalog change empties
// both (the packager sees the catalog's generation move: src/packaging/packager.ts).
import t, { type Test } from 'tap';
import { generateKs } from '../../src/access/ks.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';
import { clearSegmentCache, segmentCacheStats } from '../../src/media/body.js';
import { clearKeptPlaylists, keptPlaylistStats } from '../../src/packaging/kept-playlists.js';
import { startServer } from '../helpers/server.js';
import { fetchAnswer, sameAnswer, withPackagerCachesOff, type Res } from '../helpers/packager-answers.js';
import { sqliteDb } from '../helpers/sqlite.js';

let clock = Math.floor(Date.now() / 1000);
const srv = await startServer(t, { now: () => clock });
const secret = srv.config.mediaUrlSecret;

const FLAVOR = '/p/309/sp/30900/serveFlavor/entryId/1_kssecure/v/1/flavorId/1_f2kssec0/name/a.mp4';
/** Every kind of kept answer of the protected entry, unsigned. */
const FILES = [
  `/hls${FLAVOR}/seg-2-v1-a1.ts`,
  `/hls/container/fmp4${FLAVOR}/seg-2-v1-a1.m4s`,
  `/dash${FLAVOR}/fragment-2-v1.m4s`,
  `/hls${FLAVOR}/index.m3u8`,
];
const isPlaylist = (path: string): boolean => path.endsWith('.m3u8');
/** Answers sent from the cache the path's kind is kept in. */
const keptHits = (path: string): number => (isPlaylist(path) ? keptPlaylistStats().hits : segmentCacheStats().hits);

const userKs = (userId: string, o: { privileges?: string; expiry?: number } = {}): string => generateKs({
  partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId, expiry: o.expiry ?? 3600,
  privileges: o.privileges ?? 'sview:1_kssecure', version: 2, now: clock,
});
const adminKs = (): string => generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, userId: 'admin', expiry: 3600, privileges: '', version: 2, now: clock });
/** The media URL playManifest gives this KS (src/delivery/index.ts signs it so, the KS under the signature). */
const signed = (path: string, ks: string | null, at = clock): string => signMediaUrl(path, secret, at, undefined, ks);

const get = (path: string): Promise<Res> => fetchAnswer(srv.url + path);
/** The answer made with both packager caches off (which empties them). */
const made = (path: string): Promise<Res> => withPackagerCachesOff(() => get(path));
/** Asked for `path` when it is kept: refused, and not from the cache. */
async function refused(t: Test, path: string, asked: string, why: string, code = /error-/): Promise<void> {
  const hits = keptHits(path);
  const r = await get(asked);
  t.equal(r.status, 403, `${path}, ${why}: refused`);
  t.match(r.headers['x-kaltura'], code, `${why}: an error code`);
  t.equal(keptHits(path), hits, `${why}: nothing sent from the cache`);
}
async function api(service: string, action: string, params: Record<string, unknown>): Promise<unknown> {
  const r = await fetch(`${srv.url}/api_v3/service/${service}/action/${action}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...params }),
  });
  return JSON.parse(await r.text());
}

// what each file is, made with the caches off, for a rightful viewer
const reference = new Map<string, Res>();
for (const path of FILES) reference.set(path, await made(signed(path, userKs('ref'))));

/** Makes `path` kept, for `ks`, and checks it is the reference answer. */
async function keep(t: Test, path: string, ks: string): Promise<void> {
  sameAnswer(t, await get(signed(path, ks)), reference.get(path)!, `${path}: made`);
  const hits = keptHits(path);
  sameAnswer(t, await get(signed(path, ks)), reference.get(path)!, `${path}: kept`);
  t.equal(keptHits(path), hits + 1, `${path}: sent from the cache`);
}

t.test('the reference answers are the protected media', async (t) => {
  for (const [path, r] of reference) t.equal(r.status, 200, path);
  t.equal((await get(FILES[0])).status, 403, 'unsigned: refused');
});

t.test('another viewer, with a KS and signed URL of its own, is answered from the cache, byte for byte', async (t) => {
  clearSegmentCache();
  clearKeptPlaylists();
  for (const path of FILES) {
    await keep(t, path, userKs('alice'));
    const hits = keptHits(path);
    sameAnswer(t, await get(signed(path, userKs('bob'))), reference.get(path)!, `${path}: bob`);
    t.equal(keptHits(path), hits + 1, `${path}: bob's from the cache`);
  }
  const metrics = await (await fetch(`${srv.url}/metrics`)).text();
  t.match(metrics, new RegExp(`^kdeliver_packager_segment_cache_entries ${segmentCacheStats().entries}$`, 'm'), '/metrics counts the kept segments');
  t.match(metrics, new RegExp(`^kdeliver_packager_segment_cache_hits_total ${segmentCacheStats().hits}$`, 'm'));
});

t.test('a KS for another entry never gets a kept answer', async (t) => {
  const other = userKs('mallory', { privileges: 'sview:1_rcit0qgs' });
  const playManifest = await fetch(`${srv.url}/p/309/sp/30900/playManifest/entryId/1_kssecure/protocol/http/format/applehttp/ks/${other}/a.m3u8`);
  t.equal(playManifest.status, 403, 'playManifest gives it no media URL');
  // the only signed URLs it can have: those of other entries (1_preview1 gives anonymous viewers a 5 s preview)
  const preview = await (await fetch(`${srv.url}/p/309/sp/30900/playManifest/entryId/1_preview1/protocol/http/format/applehttp/ks/${other}/a.m3u8`)).text();
  const previewUrl = new URL(preview.split('\n').find((l) => l.startsWith('http'))!);
  const grant = /\/(?:ks\/[^/]+\/)?exp\/\d+\/sig\/[^/]+\//.exec(previewUrl.pathname)![0];
  for (const path of FILES) {
    await keep(t, path, userKs('alice'));
    await refused(t, path, path.replace('/name/a.mp4/', `/name/a.mp4/ks/${other}/`), 'its KS in the path, unsigned', /error-27/);
    await refused(t, path, signed(path, userKs('alice')).replace(/\/ks\/[^/]+\//, `/ks/${other}/`), 'its KS in place of a viewer\'s under the signature', /error-27/);
    await refused(t, path, path.replace('/name/a.mp4/', `/name/a.mp4${grant.slice(0, -1)}/`), 'another entry\'s signature', /error-27/);
  }
});

t.test('an expired KS, or an expired signature, never gets a kept answer', async (t) => {
  const start = clock;
  t.teardown(() => { clock = start; });
  const k = userKs('dave', { expiry: 600 });
  const before: string[] = [];
  for (const path of FILES) {
    await keep(t, path, k);
    before.push(signed(path, k));
  }
  clock = start + 601;
  for (const [i, path] of FILES.entries()) {
    await refused(t, path, signed(path, k), 'signed after its KS expired');
    // by design the signature's window, not the KS's end, bounds a URL signed while the KS held
    // (a player goes on fetching segments of a long video: src/serve/media-access.ts)
    sameAnswer(t, await get(before[i]), reference.get(path)!, `${path}: signed while the KS held`);
  }
  clock = start + 2 * 86400;
  for (const [i, path] of FILES.entries()) await refused(t, path, before[i], 'its signature expired', /error-28/);
});

t.test('a revoked KS never gets a kept answer; other sessions still do', async (t) => {
  const k = userKs('erin');
  for (const path of FILES) await keep(t, path, k);
  t.equal(await api('session', 'end', { ks: k }), null, 'session.end');
  for (const path of FILES) {
    const r = await get(signed(path, k));
    t.equal(r.status, 403, `${path}: the revoked KS is refused`);
    await keep(t, path, userKs('frank'));
  }
});

t.test('a changed rule is applied to a kept answer at once', async (t) => {
  const db = sqliteDb(srv.app.catalog);
  const rules = db.prepare('SELECT rules FROM access_control_profiles WHERE id = 1').pluck().get() as string;
  for (const path of FILES) await keep(t, path, userKs('gina'));
  // a rule for every context (the media routes' SERVE among them) that blocks everyone
  db.prepare('UPDATE access_control_profiles SET rules = ? WHERE id = 1').run(JSON.stringify([...JSON.parse(rules), { message: 'closed', actions: [{ type: 'block' }] }]));
  try {
    for (const path of FILES) await refused(t, path, signed(path, userKs('gina')), 'blocked by the new rule', /error-3$/);
  } finally {
    db.prepare('UPDATE access_control_profiles SET rules = ? WHERE id = 1').run(rules);
  }
  for (const path of FILES) await keep(t, path, userKs('gina'));
});

t.test('a catalog change empties both caches: what follows is made again, the same bytes', async (t) => {
  const k = userKs('henry');
  for (const path of FILES) await keep(t, path, k);
  t.ok(segmentCacheStats().entries >= 3 && keptPlaylistStats().entries >= 1, 'kept');
  // a change to another entry: whatever changed, nothing kept before it is sent after it
  const renamed = await api('baseEntry', 'update', { ks: adminKs(), entryId: '1_rcit0qgs', baseEntry: { objectType: 'KalturaBaseEntry', name: 'renamed by the segment cache test' } }) as { name?: string };
  t.equal(renamed.name, 'renamed by the segment cache test');
  const seg = segmentCacheStats();
  const pl = keptPlaylistStats();
  sameAnswer(t, await get(signed(FILES[0], k)), reference.get(FILES[0])!, 'the first segment after the change');
  t.equal(segmentCacheStats().hits, seg.hits, 'not from the cache');
  t.equal(segmentCacheStats().entries, 1, 'the cache started over: the one answer just made');
  t.equal(keptPlaylistStats().entries, 0, 'the kept playlists too');
  t.equal(keptPlaylistStats().misses, pl.misses, '(no playlist asked yet)');
  for (const path of FILES) await keep(t, path, k);
});
