// playManifest's kept decisions (src/playback.ts, the answer cache's second tier) never cross a
// boundary: every answer is the one a server without caches gives (a second server, same secrets
// and clock), for KSs with other privileges, revoked, expired or forged KSs, referrers of a
// site-restricted entry, fresh playSessionIds, and across catalog changes; and a kept decision is
// really used (the hit counter moves) where it may be.
import t, { type Test } from 'tap';
import { generateKs, ksRevocationKeys, parseKs, verifyKs, type GenerateKsOptions } from '../../src/access/ks.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { sqliteDb } from '../helpers/sqlite.js';

let clock = 1_800_000_000;
const now = () => clock;
const env = { KDELIVER_MEDIA_URL_SECRET: 'decision-test-media-secret', KDELIVER_PUBLIC_URL: 'http://media.example.com' };
const cached = await startServer(t, { now, env });
const plain = await startServer(t, { now, env: { ...env, KDELIVER_MANIFEST_CACHE_ENTRIES: '0' } });

const ks = (o: { privileges?: string; userId?: string; expiry?: number; type?: GenerateKsOptions['type'] } = {}) => generateKs({
  partnerId: 309, secret: 'sample-admin-secret-309', type: o.type ?? 0, userId: o.userId ?? 'viewer', expiry: o.expiry ?? 3600,
  privileges: o.privileges ?? 'sview:1_kssecure', version: 2, now: clock,
});
const PM = '/p/309/sp/30900/playManifest/entryId';
let session = 0;
const player = (entry: string, format: 'applehttp' | 'mpegdash', o: { ks?: string; referrer?: string } = {}) =>
  `${PM}/${entry}/protocol/http/format/${format}${o.ks ? `/ks/${o.ks}` : ''}/a.${format === 'applehttp' ? 'm3u8' : 'mpd'}`
  + `?playSessionId=${++session}-aaaa:${session}-bbbb${o.referrer !== undefined ? `&referrer=${Buffer.from(o.referrer).toString('base64url')}` : ''}&clientTag=html5:v3.17.78`;

interface Answer { status: number; location: string | null; code: string | null; body: string }
async function ask(s: TestServer, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const r = await fetch(s.url + path, { redirect: 'manual', headers });
  return { status: r.status, location: r.headers.get('location'), code: r.headers.get('x-kaltura')?.match(/error-(\d+)/)?.[1] ?? null, body: await r.text() };
}
// answered from a kept decision, or from the session answer kept after it (a KS-bearing request's
// third asking: src/cache/session-answers.ts, tested in test/http/session-answers.test.ts)
const hits = () => {
  const s = cached.app.manifestCache.stats();
  return s.decisionHits + s.sessionHits;
};

/** Asks both servers; the answers must be the same; returns the cached server's. */
async function same(t: Test, path: string, why: string, headers?: Record<string, string>): Promise<Answer> {
  const a = await ask(cached, path, headers);
  t.same(a, await ask(plain, path, headers), `${why}: the answer a server without caches gives`);
  return a;
}

t.test('a KS-protected entry: a kept decision serves other KSs of the same privileges, each with its own KS in its URLs', async (t) => {
  const a = ks({ userId: 'alice' });
  const b = ks({ userId: 'bob' });
  for (const format of ['applehttp', 'mpegdash'] as const) {
    // a decision is kept at the second asking of its shape and session facts (src/cache/asked-once.ts)
    await same(t, player('1_kssecure', format, { ks: a }), `${format}, alice, the first asking`);
    const first = await same(t, player('1_kssecure', format, { ks: a }), `${format}, alice`);
    t.ok(first.status === 200 || first.status === 302, `${format} plays (${first.status})`);
    const before = hits();
    const again = await same(t, player('1_kssecure', format, { ks: a }), `${format}, alice, a new playSessionId`);
    t.equal(again.body, first.body, 'a new playSessionId changes nothing');
    t.equal(again.location, first.location);
    const other = await same(t, player('1_kssecure', format, { ks: b }), `${format}, bob`);
    t.equal(hits(), before + 2, 'both later requests came from the kept decision');
    const text = other.body + (other.location ?? '');
    t.ok(text.includes(`/ks/${b}/`), 'bob\'s URLs carry bob\'s KS');
    t.notOk(text.includes(a), 'and never alice\'s');
  }
});

t.test('KSs with other privileges get their own decisions', async (t) => {
  const viewer = ks({ userId: 'carol' });
  t.equal((await same(t, player('1_kssecure', 'applehttp', { ks: viewer }), 'sview:1_kssecure')).status, 200);
  await same(t, player('1_kssecure', 'applehttp', { ks: viewer }), 'kept');
  const none = await same(t, player('1_kssecure', 'applehttp', { ks: ks({ userId: 'carol', privileges: '' }) }), 'no privileges');
  t.equal(none.status, 403, 'a KS without sview is refused after a kept sview decision');
  t.equal(none.code, '3');
  const other = await same(t, player('1_kssecure', 'applehttp', { ks: ks({ privileges: 'sview:1_rcit0qgs' }) }), 'sview of another entry');
  t.equal(other.status, 403, 'a KS for another entry is refused');
  t.equal((await same(t, player('1_kssecure', 'applehttp'), 'no KS')).status, 403, 'no KS is refused');
  t.equal((await same(t, player('1_kssecure', 'applehttp', { ks: ks({ privileges: 'sview:*' }) }), 'sview:*')).status, 200, 'sview:* plays');
  const another = generateKs({ partnerId: 310, secret: 'sample-admin-secret-310', type: 0, userId: 'x', expiry: 3600, privileges: 'sview:*', version: 2, now: clock });
  t.equal((await same(t, player('1_kssecure', 'applehttp', { ks: another }), 'another partner\'s KS')).status, 403);
  const admin = await same(t, player('1_kssecure', 'applehttp', { ks: ks({ type: 2, privileges: '' }) }), 'an admin KS');
  t.equal(admin.status, 200, 'an admin KS plays (its decision is never kept)');
});

t.test('a revoked, an expired or a forged KS is refused even when its decision is kept', async (t) => {
  const k = ks({ userId: 'dave', expiry: 600 });
  t.equal((await same(t, player('1_kssecure', 'mpegdash', { ks: k }), 'dave')).status, 302);
  const before = hits();
  t.equal((await same(t, player('1_kssecure', 'mpegdash', { ks: k }), 'dave again')).status, 302);
  t.equal(hits(), before + 1, 'kept');

  // forged: the same privileges, a wrong signature
  const forged = generateKs({ partnerId: 309, secret: 'not-the-secret', type: 0, userId: 'dave', expiry: 600, privileges: 'sview:1_kssecure', version: 2, now: clock });
  const f = await same(t, player('1_kssecure', 'mpegdash', { ks: forged }), 'forged');
  t.not(f.status, 302, `a forged KS is refused (${f.status})`);

  // expired: the clock moves, the catalog does not
  clock += 601;
  try {
    const e = await same(t, player('1_kssecure', 'mpegdash', { ks: k }), 'expired');
    t.not(e.status, 302, `an expired KS is refused (${e.status}, error ${e.code})`);
  } finally {
    clock -= 601;
  }

  // revoked, as session.end does (both servers' catalogs)
  const verified = verifyKs(parseKs(k), { id: 309, adminSecret: 'sample-admin-secret-309' }, { now: clock });
  for (const s of [cached, plain]) for (const key of ksRevocationKeys(verified)) await s.app.catalog.revokeSession(key, verified.expiry);
  const r = await same(t, player('1_kssecure', 'mpegdash', { ks: k }), 'revoked');
  t.not(r.status, 302, `a revoked KS is refused (${r.status}, error ${r.code})`);
  const fresh = ks({ userId: 'erin' });
  t.equal((await same(t, player('1_kssecure', 'mpegdash', { ks: fresh }), 'another KS after the revocation')).status, 302, 'other sessions still play');
});

t.test('a site-restricted entry keys on the referrer\'s host', async (t) => {
  await same(t, player('1_siteonly', 'applehttp', { referrer: 'https://www.example.com/page/0' }), 'allowed site, the first asking');
  const ok = await same(t, player('1_siteonly', 'applehttp', { referrer: 'https://www.example.com/page/1' }), 'allowed site');
  t.equal(ok.status, 200);
  const before = hits();
  t.equal((await same(t, player('1_siteonly', 'applehttp', { referrer: 'https://www.example.com/another/page' }), 'same host, another page')).status, 200);
  t.equal(hits(), before + 1, 'another page of the same host is a kept decision');
  for (const [why, referrer] of [['another site', 'https://evil.example.org/x'], ['a look-alike', 'https://www.example.com.evil.org/'], ['no referrer', undefined], ['an empty one', '']] as const) {
    const a = await same(t, player('1_siteonly', 'applehttp', { referrer }), why);
    t.equal(a.status, 403, `${why}: refused`);
  }
  const header = await same(t, player('1_siteonly', 'applehttp'), 'the Referer header', { referer: 'https://evil.example.org/' });
  t.equal(header.status, 403, 'a Referer header of another site is refused');
  t.equal((await same(t, player('1_siteonly', 'applehttp'), 'the allowed Referer header', { referer: 'https://www.example.com/' })).status, 200);
});

t.test('a limit-flavors entry: anonymous viewings share a decision, signed per request', async (t) => {
  const answerHits = () => cached.app.manifestCache.stats().hits;
  for (const format of ['applehttp', 'mpegdash'] as const) {
    await same(t, player('1_flavlim0', format, { referrer: 'https://0.example.net/' }), `${format}, the first asking`);
    const first = await same(t, player('1_flavlim0', format, { referrer: 'https://a.example.net/' }), format);
    const before = { decisions: hits(), answers: answerHits() };
    await same(t, player('1_flavlim0', format, { referrer: 'https://b.example.net/' }), `${format}, another viewing`);
    t.equal(answerHits(), before.answers + 1, 'the same second: the answer kept for that second');
    clock += 5;
    try {
      const later = await same(t, player('1_flavlim0', format), `${format}, five seconds later`);
      t.equal(hits(), before.decisions + 1, 'five seconds later: the kept decision, signed for the new second');
      t.match(first.body + first.location, /\/exp\/\d+\/sig\//, 'the URLs are signed');
      t.not(later.body + later.location, first.body + first.location, 'and signed again for the current second');
    } finally {
      clock -= 5;
    }
  }
});

t.test('a catalog change drops kept decisions', async (t) => {
  const k = ks({ userId: 'frank' });
  t.equal((await same(t, player('1_kssecure', 'applehttp', { ks: k }), 'before')).status, 200);
  for (const s of [cached, plain]) sqliteDb(s.app.catalog).prepare('UPDATE flavor_assets SET status = 3 WHERE id = ?').run('1_f3kssec0');
  const after = await same(t, player('1_kssecure', 'applehttp', { ks: k }), 'a flavor deleted');
  t.notMatch(after.body, /1_f3kssec0/, 'the deleted flavor is gone at once');
  for (const s of [cached, plain]) sqliteDb(s.app.catalog).prepare('UPDATE flavor_assets SET status = 2 WHERE id = ?').run('1_f3kssec0');
  t.match((await same(t, player('1_kssecure', 'applehttp', { ks: k }), 'restored')).body, /1_f3kssec0/);
  // the rule goes: the entry's profile is taken away, anonymous viewers play
  const profile = sqliteDb(cached.app.catalog).prepare('SELECT access_control_profile_id AS p FROM entries WHERE id = ?').get('1_kssecure') as { p: number };
  for (const s of [cached, plain]) sqliteDb(s.app.catalog).prepare('UPDATE entries SET access_control_profile_id = NULL WHERE id = ?').run('1_kssecure');
  try {
    t.equal((await same(t, player('1_kssecure', 'applehttp', { ks: k }), 'no rules any more')).status, 200);
  } finally {
    for (const s of [cached, plain]) sqliteDb(s.app.catalog).prepare('UPDATE entries SET access_control_profile_id = ? WHERE id = ?').run(profile.p, '1_kssecure');
  }
  t.equal((await same(t, player('1_kssecure', 'applehttp'), 'the rule back, no KS')).status, 403);
});

t.test('getPlaybackContext shares the kept decisions: the same sources as without caches, each with its own KS', async (t) => {
  const context = async (s: TestServer, k: string) => {
    const r = await fetch(`${s.url}/api_v3/service/baseEntry/action/getPlaybackContext`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ format: 1, ks: k, entryId: '1_kssecure', contextDataParams: { objectType: 'KalturaPlaybackContextOptions' } }),
    });
    // the two servers seeded their catalogs a second apart
    return (await r.text()).replace(/"(createdAt|updatedAt)":\d+/g, '"$1":0');
  };
  const a = ks({ userId: 'gina' });
  const b = ks({ userId: 'hank' });
  t.equal(await context(cached, a), await context(plain, a), 'gina: the answer a server without caches gives');
  // her second asking keeps the decisions (src/cache/asked-once.ts), whatever the tests before kept
  t.equal(await context(cached, a), await context(plain, a), 'gina again: the same');
  const before = hits();
  const hers = await context(cached, b);
  t.equal(hers, await context(plain, b), 'hank: the same');
  t.ok(hits() > before, 'hank\'s sources came from kept decisions');
  t.match(hers, /KalturaPlaybackSource/);
  t.notOk(hers.includes(a), 'never gina\'s KS');
  const ivan = ks({ userId: 'ivan', privileges: '' });
  const none = await context(cached, ivan);
  t.equal(none, await context(plain, ivan), 'ivan, no sview: the same');
  t.notMatch(none, /KalturaPlaybackSource/, 'a KS without sview gets no sources');
});

t.test('the cache off keeps no decision; /metrics counts them', async (t) => {
  t.equal(plain.app.manifestCache.stats().decisionHits, 0);
  const text = await (await fetch(`${cached.url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  t.equal(value('kdeliver_playmanifest_decision_hits_total'), cached.app.manifestCache.stats().decisionHits);
  t.ok(value('kdeliver_playmanifest_decision_entries') > 0);
});
