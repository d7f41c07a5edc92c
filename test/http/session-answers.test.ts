// playManifest's kept answers of KS-bearing requests (src/cache/session-answers.ts, the third
// tier): every answer is the one a server without caches gives (a second server, same secrets and
// clock), byte for byte, headers too, for many KSs of the same session facts (each answer carries
// its own KS and signatures), and the line is never crossed: a KS for another entry, without
// privileges, of another partner, forged, expired, revoked, IP-restricted elsewhere, an admin's,
// one in the X-Kaltura-Ks header, a changed rule and a changed catalog are never answered from a
// kept answer; and a kept answer is really used (its hit counter moves) where it may be. All of it
// twice: reached directly (a kept answer goes out before routing, the client's address the
// socket's) and behind a trusted proxy (the route gives it, the address from X-Forwarded-For).
import { request } from 'node:http';
import t, { type Test } from 'tap';
import { generateKs, ksRevocationKeys, parseKs, verifyKs, type GenerateKsOptions } from '../../src/access/ks.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { keyUrl } from '../../src/cache/manifest-cache.js';
import { sessionKeyOf } from '../../src/cache/session-answers.js';
import { sqliteDb } from '../helpers/sqlite.js';

let clock = 1_800_000_000;
const now = () => clock;
const env = { KDELIVER_MEDIA_URL_SECRET: 'session-answers-test-secret', KDELIVER_PUBLIC_URL: 'http://media.example.com' };

const ks = (o: { privileges?: string; userId?: string; expiry?: number; type?: GenerateKsOptions['type'] } = {}) => generateKs({
  partnerId: 309, secret: 'sample-admin-secret-309', type: o.type ?? 0, userId: o.userId ?? 'viewer', expiry: o.expiry ?? 3600,
  privileges: o.privileges ?? 'sview:1_kssecure', version: 2, now: clock,
});
const PM = '/p/309/sp/30900/playManifest/entryId';
let session = 0;
type Format = 'applehttp' | 'mpegdash';
const player = (entry: string, format: Format, k: string | null, o: { inQuery?: boolean; extra?: string; query?: string } = {}) =>
  `${PM}/${entry}/protocol/http/format/${format}${k && !o.inQuery ? `/ks/${k}` : ''}${o.extra ?? ''}/a.${format === 'applehttp' ? 'm3u8' : 'mpd'}`
  + `?playSessionId=${++session}-aaaa:${session}-bbbb&referrer=${Buffer.from(`https://site.example/page/${session}`).toString('base64')}&clientTag=html5:v3.17.78`
  + (k && o.inQuery ? `&ks=${k}` : '') + (o.query ?? '');

interface Answer { status: number; headers: string; body: string }
/** Where a request comes from: headers, and the local address it is sent from (127.0.0.1 unless said). */
interface From { headers?: Record<string, string>; localAddress?: string }
function ask(s: TestServer, path: string, from: From = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(s.url + path, { headers: from.headers, localAddress: from.localAddress, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c)).on('error', reject).on('end', () => {
        // every header but the connection's own and the date (the two servers may answer a second apart)
        const headers = Object.entries(res.headers).filter(([k]) => !['date', 'connection', 'keep-alive'].includes(k)).sort(([a], [b]) => a.localeCompare(b));
        resolve({ status: res.statusCode ?? 0, headers: headers.map(([k, v]) => `${k}: ${v}`).join('\n'), body: Buffer.concat(chunks).toString() });
      });
    });
    req.on('error', reject).end();
  });
}

let user = 0;
const anyone = () => ks({ userId: `viewer-${++user}${'x'.repeat(user % 5)}` });

t.test('which requests have a key without their KS', async (t) => {
  const key = (rawUrl: string, o: { method?: string; header?: string } = {}) => sessionKeyOf(o.method ?? 'GET', false, 'http://h', rawUrl, o.header, keyUrl);
  const a = key('/p/1/playManifest/entryId/x/ks/AAA-_=b/format/applehttp/a.m3u8?playSessionId=1');
  t.same(a, { key: 'GET http://h /p/1/playManifest/entryId/x/ks/\u0000/format/applehttp/a.m3u8', ks: 'AAA-_=b' }, 'a path KS, the session id left out');
  t.equal(key('/p/1/playManifest/entryId/x/ks/BBB/format/applehttp/a.m3u8?playSessionId=2')?.key, a?.key, 'another KS, the same key');
  t.same(key('/p/1/playManifest/entryId/x/a.m3u8?x=1&ks=CCC&clientTag=y'), { key: 'GET http://h /p/1/playManifest/entryId/x/a.m3u8?x=1&ks=\u0000', ks: 'CCC' }, 'a query KS');
  t.equal(key('/p/1/playManifest/entryId/x/ks/AAA/a.m3u8?ks=BBB'), null, 'two KSs: none');
  t.equal(key('/p/1/playManifest/entryId/x/ks/AAA/ks/BBB/a.m3u8'), null, 'two in the path: none');
  for (const odd of ['A%2FB', 'A+B', 'A%3D', 'a.m3u8', '']) t.equal(key(`/p/1/playManifest/entryId/x/a.m3u8?ks=${odd}`), null, `a KS the parsers could read otherwise (${JSON.stringify(odd)}): none`);
  t.equal(key('/p/1/playManifest/entryId/x/ks/AAA/a.m3u8', { header: 'BBB' }), null, 'with an X-Kaltura-Ks header: none');
  t.equal(key('/p/1/playManifest/entryId/x/ks/AAA/a.m3u8', { method: 'POST' }), null, 'a POST: none');
  t.equal(key('/p/1/playManifest/entryId/x/a.m3u8'), null, 'no KS: none');
});

for (const proxied of [false, true]) {
  t.test(proxied ? 'behind a trusted proxy (the route answers)' : 'reached directly (answered before routing)', async (t) => {
    // behind one trusted proxy, the client's address comes from X-Forwarded-For (a KS's iprestrict)
    const withProxy: Record<string, string> = proxied ? { KDELIVER_TRUST_PROXY: '1' } : {};
    const cached = await startServer(t, { now, env: { ...env, ...withProxy } });
    const plain = await startServer(t, { now, env: { ...env, ...withProxy, KDELIVER_MANIFEST_CACHE_ENTRIES: '0' } });
    await suite(t, cached, plain, proxied);
  });
}

async function suite(t: Test, cached: TestServer, plain: TestServer, proxied: boolean): Promise<void> {
  const sessionHits = () => cached.app.manifestCache.stats().sessionHits;

  /** Asks both servers; the answers must be the same, byte for byte; returns the cached server's. */
  async function same(t: Test, path: string, why: string, from?: From): Promise<Answer> {
    const a = await ask(cached, path, from);
    t.same(a, await ask(plain, path, from), `${why}: the answer a server without caches gives`);
    return a;
  }

  /** Asks until an answer is kept (a decision at the second asking, the session answer at the next one) and the next is a hit. */
  async function keep(t: Test, entry: string, format: Format, k: () => string, o: { inQuery?: boolean; extra?: string; query?: string } = {}, from?: From): Promise<Answer> {
    for (let i = 0; i < 3; i++) await same(t, player(entry, format, k(), o), `${entry} ${format}, asking ${i + 1}`, from);
    const before = sessionHits();
    const a = await same(t, player(entry, format, k(), o), `${entry} ${format}, kept`, from);
    t.equal(sessionHits(), before + 1, `${entry} ${format}: answered from the kept session answer`);
    return a;
  }

  t.test('many KSs of the same privileges: each its own answer, the one the pipeline gives', async (t) => {
    for (const format of ['applehttp', 'mpegdash'] as const) {
      await keep(t, '1_kssecure', format, anyone);
      const before = sessionHits();
      const seen = new Set<string>();
      for (let i = 0; i < 12; i++) {
        const k = anyone();
        const a = await same(t, player('1_kssecure', format, k), `${format}, KS ${i}`);
        t.ok(a.status === 200 || a.status === 302, `${format} plays (${a.status})`);
        const text = a.body + a.headers;
        t.ok(text.includes(`/ks/${k}/exp/`), 'its URLs carry its own KS under the signature');
        seen.add(text);
        // the same URL as the one before but for its KS and session id
      }
      t.equal(sessionHits(), before + 12, `${format}: all twelve from the kept answer`);
      t.equal(seen.size, 12, 'twelve different answers (each KS its own)');
      // the second moves: the signatures' expiry moves with it
      clock += 7;
      try {
        const later = await same(t, player('1_kssecure', format, anyone()), `${format}, seven seconds later`);
        t.match(later.body + later.headers, new RegExp(`/exp/${clock + 86400}/sig/`), 'signed for the new second');
      } finally {
        clock -= 7;
      }
    }
  });

  t.test('the KS in the query, a public entry with a KS, a preview entry, JSON and JSONP answers', async (t) => {
    await keep(t, '1_kssecure', 'applehttp', anyone, { inQuery: true });
    const pub = await keep(t, '1_rcit0qgs', 'applehttp', anyone);
    t.equal(pub.status, 200, 'a public entry with a KS plays');
    await keep(t, '1_preview1', 'applehttp', () => ks({ userId: `p${++user}`, privileges: '' }));
    // JSON escapes the URLs' slashes: their signatures cannot be found to open, so nothing is kept
    for (const [extra, query] of [['/responseFormat/json', ''], ['/responseFormat/jsonp', '&callback=cb7']]) {
      for (let i = 0; i < 3; i++) await same(t, player('1_kssecure', 'applehttp', anyone(), { extra, query }), `${extra}, asking ${i + 1}`);
      const before = sessionHits();
      const a = await same(t, player('1_kssecure', 'applehttp', anyone(), { extra, query }), `${extra}, asked again`);
      t.match(a.body, /"flavors"/);
      t.equal(sessionHits(), before, `${extra}: not kept (the pipeline answers each)`);
    }
    // captions under the signature: subtitle playlists are signed with the first flavor's path
    const db = (s: TestServer) => sqliteDb(s.app.catalog);
    const profile = (db(cached).prepare('SELECT access_control_profile_id AS p FROM entries WHERE id = ?').get('1_kssecure') as { p: number }).p;
    const old = (db(cached).prepare('SELECT access_control_profile_id AS p FROM entries WHERE id = ?').get('1_alt0audi') as { p: number | null }).p;
    for (const s of [cached, plain]) db(s).prepare('UPDATE entries SET access_control_profile_id = ? WHERE id = ?').run(profile, '1_alt0audi');
    try {
      const k = () => ks({ userId: `c${++user}`, privileges: 'sview:1_alt0audi' });
      const a = await keep(t, '1_alt0audi', 'applehttp', k);
      t.match(a.body, /TYPE=SUBTITLES[^\n]*\/exp\/\d+\/sig\//, 'the subtitle playlists are signed');
      t.match(a.body, /TYPE=AUDIO/);
      await keep(t, '1_alt0audi', 'mpegdash', k);
    } finally {
      for (const s of [cached, plain]) db(s).prepare('UPDATE entries SET access_control_profile_id = ? WHERE id = ?').run(old, '1_alt0audi');
    }
  });

  t.test('a kept answer is never given across the line', async (t) => {
    for (const format of ['applehttp', 'mpegdash'] as const) {
      await keep(t, '1_kssecure', format, anyone);
      const refused = async (k: string, why: string, from?: From, path = player('1_kssecure', format, k)) => {
        const before = sessionHits();
        const a = await same(t, path, `${format}, ${why}`, from);
        t.equal(a.status, 403, `${format}, ${why}: refused`);
        t.equal(sessionHits(), before, `${format}, ${why}: not from the kept answer`);
      };
      await refused(ks({ privileges: 'sview:1_rcit0qgs' }), 'a KS for another entry');
      await refused(ks({ privileges: '' }), 'a KS without privileges');
      await refused(generateKs({ partnerId: 310, secret: 'sample-admin-secret-310', type: 0, userId: 'x', expiry: 3600, privileges: 'sview:*', version: 2, now: clock }), 'another partner\'s KS');
      await refused(generateKs({ partnerId: 309, secret: 'not-the-secret', type: 0, userId: 'viewer', expiry: 3600, privileges: 'sview:1_kssecure', version: 2, now: clock }), 'a forged KS');
      await refused(ks({ privileges: 'sview:1_kssecure,iprestrict:198.51.100.7' }), 'a KS for another address');
      // the same session facts asked from the allowed address are kept; from another, refused
      const here = proxied ? '198.51.100.7' : '127.0.0.1';
      const fromHere: From = proxied ? { headers: { 'x-forwarded-for': here } } : {};
      const fromThere: From = proxied ? { headers: { 'x-forwarded-for': '203.0.113.9' } } : { localAddress: '127.0.0.2' };
      const restricted = (userId: string) => ks({ userId, privileges: `sview:1_kssecure,iprestrict:${here}` });
      await keep(t, '1_kssecure', format, () => restricted(`ip${++user}`), {}, fromHere);
      await refused(restricted('ip-elsewhere'), 'the same privileges from another address', fromThere);
      await refused(ks({ privileges: 'sview:1_kssecure,urirestrict:/p/309/sp/30900/raw/*' }), 'a KS for other URLs');
      // the KS in the header, another in the URL: the header's is read
      await refused(anyone(), 'an X-Kaltura-Ks header without privileges', { headers: { 'x-kaltura-ks': ks({ privileges: '' }) } });
      const expiring = ks({ userId: 'soon', expiry: 60 });
      t.equal((await same(t, player('1_kssecure', format, expiring), `${format}, a KS that expires in a minute`)).status === 403, false);
      clock += 61;
      try {
        await refused(expiring, 'the same KS a minute later (expired)');
      } finally {
        clock -= 61;
      }
      const revoked = anyone();
      t.not((await same(t, player('1_kssecure', format, revoked), `${format}, before its revocation`)).status, 403);
      const verified = verifyKs(parseKs(revoked), { id: 309, adminSecret: 'sample-admin-secret-309' }, { now: clock });
      for (const s of [cached, plain]) for (const key of ksRevocationKeys(verified)) await s.app.catalog.revokeSession(key, verified.expiry);
      await refused(revoked, 'a revoked KS');
      // an admin KS plays, through the pipeline (never kept: its answer is not the viewers')
      const before = sessionHits();
      t.equal((await same(t, player('1_kssecure', format, ks({ type: 2, privileges: '' })), `${format}, an admin KS`)).status === 403, false);
      t.equal(sessionHits(), before, 'an admin KS is not answered from the kept answer');
    }
  });

  t.test('a catalog change or a changed rule drops the kept answers', async (t) => {
    const db = (s: TestServer) => sqliteDb(s.app.catalog);
    const before = await keep(t, '1_kssecure', 'applehttp', anyone);
    await keep(t, '1_kssecure', 'mpegdash', anyone);
    const kept = cached.app.manifestCache.stats();
    t.ok(kept.sessionEntries >= 2 && kept.decisionEntries >= 4, `kept before the change: ${kept.sessionEntries} answers, ${kept.decisionEntries} request shapes and decisions`);
    for (const s of [cached, plain]) db(s).prepare('UPDATE flavor_assets SET status = 3 WHERE id = ?').run('1_f3kssec0');
    try {
      const hits = sessionHits();
      const after = await same(t, player('1_kssecure', 'applehttp', anyone()), 'a flavor deleted');
      t.equal(sessionHits(), hits, 'not from the kept answer');
      // what the change ended is gone from the counts at the first request after it: what is
      // counted is this request's shape, decision and answer, kept again at once (asked before)
      t.equal(cached.app.manifestCache.stats().sessionEntries, 1, '/metrics counts no answer kept before the change');
      t.equal(cached.app.manifestCache.stats().decisionEntries, 2, 'nor any request shape or decision');
      t.match(before.body, /1_f3kssec0/);
      t.notMatch(after.body, /1_f3kssec0/, 'the deleted flavor is gone at once');
    } finally {
      for (const s of [cached, plain]) db(s).prepare('UPDATE flavor_assets SET status = 2 WHERE id = ?').run('1_f3kssec0');
    }
    await keep(t, '1_kssecure', 'mpegdash', anyone);
    // the rule changes: the session restriction becomes a flavor limit, which a KS does not lift
    const profile = (db(cached).prepare('SELECT access_control_profile_id AS p FROM entries WHERE id = ?').get('1_kssecure') as { p: number }).p;
    const rules = (db(cached).prepare('SELECT rules FROM access_control_profiles WHERE id = ?').get(profile) as { rules: string }).rules;
    const limit = (db(cached).prepare('SELECT rules FROM access_control_profiles WHERE id = (SELECT access_control_profile_id FROM entries WHERE id = ?)').get('1_flavlim0') as { rules: string }).rules;
    for (const s of [cached, plain]) db(s).prepare('UPDATE access_control_profiles SET rules = ? WHERE id = ?').run(limit, profile);
    try {
      const hits = sessionHits();
      const a = await same(t, player('1_kssecure', 'applehttp', anyone()), 'the rule changed');
      t.equal(sessionHits(), hits, 'not from the kept answer');
      t.equal(a.body.match(/EXT-X-STREAM-INF/g)?.length, 1, 'one flavor now');
    } finally {
      for (const s of [cached, plain]) db(s).prepare('UPDATE access_control_profiles SET rules = ? WHERE id = ?').run(rules, profile);
    }
    t.equal((await same(t, player('1_kssecure', 'applehttp', null), 'the rule back, no KS')).status, 403);
  });

  t.test('the cache off keeps none; /metrics counts them', async (t) => {
    t.equal(plain.app.manifestCache.stats().sessionHits, 0);
    t.equal(plain.app.manifestCache.stats().sessionEntries, 0);
    const text = await (await fetch(`${cached.url}/metrics`)).text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
    t.equal(value('kdeliver_playmanifest_session_hits_total'), sessionHits());
    t.ok(value('kdeliver_playmanifest_session_entries') > 0);
  });
}
