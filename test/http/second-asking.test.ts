// playManifest's caches keep an answer (and a decision) from its key's second asking
// (src/cache/asked-once.ts): a long tail of URLs asked once each is never kept, so it cannot push
// out an answer that is asked again, and costs its requests no storing.
import t from 'tap';
import { createAskedOnce } from '../../src/cache/asked-once.js';
import { createDecisionStore } from '../../src/cache/manifest-cache.js';
import { generateKs, ksRevocationKeys, parseKs, verifyKs } from '../../src/access/ks.js';
import { startServer } from '../helpers/server.js';

t.test('asked once, asked before: the second asking says so, and is forgotten', async (t) => {
  const asked = createAskedOnce(3);
  t.equal(asked.askedBefore('a'), false, 'first asking');
  t.equal(asked.askedBefore('a'), true, 'second asking');
  t.equal(asked.askedBefore('a'), false, 'forgotten once it said so (the caller keeps the answer then)');
  for (const k of ['b', 'c', 'd']) asked.askedBefore(k);
  t.equal(asked.size, 3, 'at most its bound');
  t.equal(asked.askedBefore('a'), false, 'the oldest first asking went first');
  const none = createAskedOnce(0);
  t.equal(none.askedBefore('x'), false);
  t.equal(none.askedBefore('x'), false, 'a bound of 0 remembers nothing: never asked before');
  t.equal(none.size, 0);
  const decisions = createDecisionStore(10);
  t.equal(decisions.askedBefore('shape'), false);
  t.equal(decisions.firstAskings(), 1);
  t.equal(decisions.askedBefore('shape'), true);
  t.equal(decisions.firstAskings(), 0);
});

const PM = '/p/309/sp/0/playManifest/entryId';
let clock = Math.floor(Date.now() / 1000);
const ks = (user: string, privileges = 'sview:1_kssecure') => generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId: user, expiry: 3600, privileges, version: 2, now: clock });
const server = await startServer(t, { now: () => clock, env: { KDELIVER_MANIFEST_CACHE_ENTRIES: '4' } });
const stats = () => server.app.manifestCache.stats();
/** Requests answered from a kept decision, or from the KS-bearing answer kept with it (src/cache/session-answers.ts). */
const keptHits = () => stats().decisionHits + stats().sessionHits;
const ask = async (path: string) => {
  const r = await fetch(server.url + path, { redirect: 'manual' });
  await r.arrayBuffer();
  return r.status;
};

t.test('URLs asked once each do not push out an answer asked again', async (t) => {
  const popular = `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`;
  for (let i = 0; i < 2; i++) t.equal(await ask(`${popular}?playSessionId=${i}`), 200);
  t.equal(stats().entries, 1, 'kept at its second asking');
  // more one-off URLs than the cache holds (another query parameter is another key)
  for (let i = 0; i < 12; i++) t.equal(await ask(`${popular}?v=${i}`), 200);
  t.equal(stats().entries, 1, 'none of the one-off answers was kept');
  t.ok(stats().firstAskings > 0 && stats().firstAskings <= 4, `their first askings are remembered, at most the bound (${stats().firstAskings})`);
  const before = stats().hits;
  t.equal(await ask(`${popular}?playSessionId=9`), 200);
  t.equal(stats().hits, before + 1, 'the popular answer is still a hit');
});

t.test('a decision asked once is not kept; asked again, it is', async (t) => {
  const path = (user: string, privileges = 'sview:1_kssecure') => `${PM}/1_kssecure/ks/${ks(user, privileges)}/format/applehttp/protocol/http/a.m3u8`;
  const entries = stats().decisionEntries;
  t.equal(await ask(path('one')), 200);
  t.equal(stats().decisionEntries, entries, 'the first asking keeps nothing');
  t.ok(stats().decisionFirstAskings > 0, 'it is remembered');
  t.equal(await ask(path('two')), 200);
  t.ok(stats().decisionEntries > entries, 'the second asking (another viewer, same privileges) keeps the decision');
  const hits = keptHits();
  t.equal(await ask(path('three')), 200);
  t.equal(keptHits(), hits + 1, 'the third is answered from it');
  // the same shape, other session facts (other privileges): their own second asking
  const asked = keptHits();
  t.equal(await ask(path('four', 'sview:*')), 200);
  t.equal(await ask(path('five', 'sview:*')), 200);
  t.equal(keptHits(), asked, 'a KS of other privileges: not from the kept decision, asked once, nor at its second asking');
  t.equal(await ask(path('six', 'sview:*')), 200);
  t.equal(keptHits(), asked + 1, 'kept at that second asking: the third is answered from it');
  // one asking each of two more session facts: neither is kept by the other's asking
  t.equal(await ask(path('seven', 'sview:1_kssecure,x:1')), 200);
  t.equal(await ask(path('eight', 'sview:1_kssecure,x:2')), 200);
  const before = keptHits();
  t.equal(await ask(path('nine', 'sview:1_kssecure,x:2')), 200);
  t.equal(keptHits(), before, 'its second asking keeps, and is not answered from a kept decision');
  const text = await (await fetch(`${server.url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  t.equal(value('kdeliver_playmanifest_cache_first_askings'), stats().firstAskings);
  t.equal(value('kdeliver_playmanifest_decision_first_askings'), stats().decisionFirstAskings);
});

t.test('a kept answer or decision gone stale is kept again at its next asking', async (t) => {
  // an answer kept for its second (1_flavlim0's, signed by kdeliver alone)
  const limited = `${PM}/1_flavlim0/format/applehttp/protocol/http/a.m3u8`;
  for (let i = 0; i < 2; i++) t.equal(await ask(`${limited}?playSessionId=s${i}`), 200);
  let hits = stats().hits;
  t.equal(await ask(`${limited}?playSessionId=s2`), 200);
  t.equal(stats().hits, hits + 1, 'kept for its second');
  clock += 1;
  t.equal(await ask(`${limited}?playSessionId=s3`), 200);
  hits = stats().hits;
  t.equal(await ask(`${limited}?playSessionId=s4`), 200);
  t.equal(stats().hits, hits + 1, 'the next second: kept again at its first asking there');

  // a decision, across a catalog change (a revocation of another session)
  const path = (user: string) => `${PM}/1_kssecure/ks/${ks(user)}/format/mpegdash/protocol/http/a.mpd`;
  for (const user of ['s6', 's7']) t.equal(await ask(path(user)), 302);
  let decisions = keptHits();
  t.equal(await ask(path('s8')), 302);
  t.equal(keptHits(), decisions + 1, 'kept');
  const other = verifyKs(parseKs(ks('someone-else')), { id: 309, adminSecret: 'sample-admin-secret-309' }, { now: clock });
  for (const key of ksRevocationKeys(other)) await server.app.catalog.revokeSession(key, other.expiry);
  t.equal(await ask(path('s9')), 302, 'after the change: the pipeline, kept again at once');
  decisions = keptHits();
  t.equal(await ask(path('s10')), 302);
  t.equal(keptHits(), decisions + 1, 'the next asking is answered from it');
});
