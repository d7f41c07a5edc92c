// The packager's kept answers across two real `kdeliver serve` nodes on one PostgreSQL catalog:
// node B keeps a protected entry's segment (its segment answer cache, src/media/body.ts), its
// per-flavor playlist (src/packaging/kept-playlists.ts) and its playManifest decision for a user
// KS (src/playback.ts); a change made through node A over HTTP (any catalog write, a KS ended with
// session.end, a rule changed) reaches B within a second: B's segment cache and kept playlists
// start over, and B refuses the ended KS and applies the new rule though the answer and the
// decision are kept. (test/multinode/freshness.test.ts does the same for the
// answer caches and the catalog's read cache.)
import t, { type Test } from 'tap';
import { setTimeout as sleep } from 'node:timers/promises';
import { generateKs, type GenerateKsOptions } from '../../src/access/ks.js';
import { signMediaUrl } from '../../src/delivery/tokenizers/kaltura.js';
import { startPostgres } from '../helpers/postgres.js';
import { NODE_SECRETS, twoNodes } from '../helpers/nodes.js';
import type { Served } from '../helpers/command.js';

const FRESH_MS = 1000;
const SEGMENT = '/hls/p/309/sp/30900/serveFlavor/entryId/1_kssecure/v/1/flavorId/1_f2kssec0/name/a.mp4/seg-2-v1-a1.ts';
const PLAYLIST = SEGMENT.replace('seg-2-v1-a1.ts', 'index.m3u8');
const PLAY = '/p/309/sp/30900/playManifest/entryId/1_kssecure/protocol/http/format/applehttp';

const cluster = await startPostgres(t);
const { A, B } = await twoNodes(t, cluster);

const now = () => Math.floor(Date.now() / 1000);
const ksOf = (userId: string, type: GenerateKsOptions['type'] = 0) => generateKs({
  partnerId: 309, secret: 'sample-admin-secret-309', type, userId, expiry: 3600, privileges: type ? '' : 'sview:1_kssecure', version: 2, now: now(),
});
/** The segment URL playManifest gives this KS (signed with the nodes' shared secret). */
const segmentFor = (ks: string, path = SEGMENT) => signMediaUrl(path, NODE_SECRETS.KDELIVER_MEDIA_URL_SECRET, now(), undefined, ks);

async function get(node: Served, path: string): Promise<{ status: number; body: Buffer }> {
  const r = await fetch(node.url + path, { signal: AbortSignal.timeout(15_000) });
  return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
}
async function metric(node: Served, name: string): Promise<number> {
  const text = await (await fetch(`${node.url}/metrics`, { signal: AbortSignal.timeout(15_000) })).text();
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
}
async function api(node: Served, service: string, body: Record<string, unknown>): Promise<any> {
  const r = await fetch(`${node.url}/api_v3/service/${service}`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...body }), signal: AbortSignal.timeout(15_000),
  });
  const v = JSON.parse(await r.text());
  if (v && v.objectType === 'KalturaAPIException') throw new Error(`${service}: ${v.code} ${v.message}`);
  return v;
}
/** Asks until `check` holds: the milliseconds it took, or -1 after `ms`. */
async function within(ms: number, ask: () => Promise<boolean>): Promise<number> {
  const start = performance.now();
  for (;;) {
    if (await ask()) return Math.round(performance.now() - start);
    if (performance.now() - start > ms) return -1;
    await sleep(20);
  }
}
/** B sends the segment for `ks` from its segment cache (made first when it must be); its bytes. */
async function keptOnB(t: Test, ks: string): Promise<Buffer> {
  const made = await get(B, segmentFor(ks));
  t.equal(made.status, 200, 'B serves the segment');
  const hits = await metric(B, 'kdeliver_packager_segment_cache_hits_total');
  const again = await get(B, segmentFor(ks));
  t.equal(await metric(B, 'kdeliver_packager_segment_cache_hits_total'), hits + 1, 'from its segment cache');
  t.ok(again.body.equals(made.body), 'the same bytes');
  return made.body;
}

t.test('a catalog write through A: B\'s segment cache and kept playlists start over within a second, the same bytes made again', async (t) => {
  const ks = ksOf('viewer');
  const bytes = await keptOnB(t, ks);
  const fromA = await get(A, segmentFor(ks));
  t.ok(fromA.body.equals(bytes), 'A makes the same bytes');
  const playlist = await get(B, segmentFor(ks, PLAYLIST));
  t.equal(playlist.status, 200, 'B renders the playlist');
  const playlistHits = await metric(B, 'kdeliver_packager_playlist_cache_hits_total');
  t.ok((await get(B, segmentFor(ks, PLAYLIST))).body.equals(playlist.body), 'the same playlist');
  t.equal(await metric(B, 'kdeliver_packager_playlist_cache_hits_total'), playlistHits + 1, 'from its kept playlists');
  const misses = await metric(B, 'kdeliver_packager_segment_cache_misses_total');
  await api(A, 'baseentry/action/update', { ks: ksOf('admin', 2), entryId: '1_rcit0qgs', baseEntry: { objectType: 'KalturaBaseEntry', name: 'renamed on A' } });
  let last: Buffer = Buffer.alloc(0);
  const ms = await within(FRESH_MS, async () => {
    last = (await get(B, segmentFor(ks))).body;
    return await metric(B, 'kdeliver_packager_segment_cache_misses_total') > misses;
  });
  t.ok(ms >= 0, `B makes the segment again ${ms} ms after the change`);
  t.ok(last.equals(bytes), 'the same bytes');
  t.equal(await metric(B, 'kdeliver_packager_segment_cache_entries'), 1, 'B\'s cache holds that one answer: it started over');
  t.equal(await metric(B, 'kdeliver_packager_playlist_cache_entries'), 0, 'and its kept playlists are gone');
  const rendered = await metric(B, 'kdeliver_packager_playlist_cache_misses_total');
  t.ok((await get(B, segmentFor(ks, PLAYLIST))).body.equals(playlist.body), 'the playlist rendered again is the same');
  t.equal(await metric(B, 'kdeliver_packager_playlist_cache_misses_total'), rendered + 1, 'rendered, not kept');
});

t.test('a KS ended on A: B refuses its kept segment and its kept decision within a second', async (t) => {
  const ks = ksOf('leaver');
  await keptOnB(t, ks);
  const play = `${PLAY}/ks/${ks}/a.m3u8`;
  t.equal((await get(B, play)).status, 200, 'B plays it');
  t.equal((await get(B, play)).status, 200, 'and again: its decision kept at this second asking (src/cache/asked-once.ts)');
  // from the kept decision, or the KS-bearing answer kept with it (src/cache/session-answers.ts)
  const kept = async () => await metric(B, 'kdeliver_playmanifest_decision_hits_total') + await metric(B, 'kdeliver_playmanifest_session_hits_total');
  const decisions = await kept();
  t.equal((await get(B, play)).status, 200);
  t.equal(await kept(), decisions + 1, 'from a kept decision');
  const url = segmentFor(ks);
  t.equal(await api(A, 'session/action/end', { ks }), null, 'session.end on A');
  const segment = await within(FRESH_MS, async () => (await get(B, url)).status === 403);
  t.ok(segment >= 0, `B refuses the segment after ${segment} ms`);
  const manifest = await within(FRESH_MS, async () => (await get(B, play)).status === 403);
  t.ok(manifest >= 0, `B refuses playManifest after ${manifest} ms`);
  await keptOnB(t, ksOf('stayer'));
});

t.test('a rule changed through A: B applies it to the kept segment within a second', async (t) => {
  const admin = ksOf('admin', 2);
  const profiles = await api(A, 'accesscontrolprofile/action/list', { ks: admin, pager: { pageSize: 100 } });
  const profile = profiles.objects.find((p: any) => p.systemName === 'require_ks');
  t.ok(profile, 'the sample profile of 1_kssecure');
  const ks = ksOf('viewer2');
  await keptOnB(t, ks);
  const closed = [...profile.rules, { objectType: 'KalturaRule', message: 'closed', actions: [{ objectType: 'KalturaAccessControlBlockAction' }], conditions: [] }];
  await api(A, 'accesscontrolprofile/action/update', { ks: admin, id: profile.id, accessControlProfile: { objectType: 'KalturaAccessControlProfile', rules: closed } });
  try {
    const ms = await within(FRESH_MS, async () => (await get(B, segmentFor(ks))).status === 403);
    t.ok(ms >= 0, `B refuses the segment after ${ms} ms`);
  } finally {
    await api(A, 'accesscontrolprofile/action/update', { ks: admin, id: profile.id, accessControlProfile: { objectType: 'KalturaAccessControlProfile', rules: profile.rules } });
  }
  const back = await within(FRESH_MS, async () => (await get(B, segmentFor(ks))).status === 200);
  t.ok(back >= 0, `and serves it again after ${back} ms once the rule is back`);
});

for (const [name, node] of [['A', A], ['B', B]] as const) {
  t.test(`node ${name} logged no 500 and no secret`, async (t) => {
    t.notMatch(node.log(), /"statusCode":500|sample-admin-secret-309|multinode-url-token-secret|kdeliver-test-pw/);
  });
}
