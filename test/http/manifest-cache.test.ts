// The playManifest answer cache against the real server: a kept answer is byte for byte what the
// pipeline gives (checked against a second server with the cache off), only URL-pure answers are
// kept, and a catalog change (own write or another process) drops them.
import t from 'tap';
import { request } from 'node:http';
import Database from 'better-sqlite3';
import { startServer, type TestServer } from '../helpers/server.js';
import { generateKs } from '../../src/access/ks.js';
import { signPlayManifestUrl } from '../../src/access/kt.js';
import { sqliteDb } from '../helpers/sqlite.js';

let clock = 1_800_000_000;
const now = () => clock;
const PUBLIC = 'http://media.example.com';
const cached = await startServer(t, { now, env: { KDELIVER_PUBLIC_URL: PUBLIC } });
const plain = await startServer(t, { now, env: { KDELIVER_PUBLIC_URL: PUBLIC, KDELIVER_MANIFEST_CACHE_ENTRIES: '0' } });

interface Answer {
  status: number;
  /** Raw header names and values in order, without Date (Node's own clock). */
  head: string[];
  body: string;
}

function ask(s: TestServer, path: string, opts: { method?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(s.url + path, { method: opts.method ?? 'GET', headers: opts.headers, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const head: string[] = [];
        for (let i = 0; i < res.rawHeaders.length; i += 2) {
          if (res.rawHeaders[i].toLowerCase() !== 'date') head.push(res.rawHeaders[i], res.rawHeaders[i + 1]);
        }
        resolve({ status: res.statusCode ?? 0, head, body: Buffer.concat(chunks).toString('latin1') });
      });
    });
    req.on('error', reject);
    req.end();
  });
}

const stats = () => cached.app.manifestCache.stats();
const ks = (partnerId = 309) => generateKs({
  partnerId, secret: `sample-admin-secret-${partnerId}`, type: 0, userId: 'tester', expiry: 3600, privileges: '', version: 2, now: clock,
});
const PM = '/p/309/sp/0/playManifest/entryId';

t.test('a kept answer is the answer the pipeline gives, byte for byte, for every format', async (t) => {
  const paths = [
    `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`,
    `${PM}/1_rcit0qgs/format/applehttp/protocol/https/flavorParamId/301971/video.mp4`,
    `${PM}/1_rcit0qgs/format/mpegdash/protocol/http/manifest.mpd`,
    `${PM}/1_rcit0qgs/format/url/flavorParamId/301971/video.mp4`,
    `${PM}/1_rcit0qgs/format/download/protocol/http/a.mp4`,
    `${PM}/1_rcit0qgs/format/hdnetworkmanifest/a.f4m`,
    `${PM}/1_rcit0qgs/format/http/responseFormat/smil/a.smil`,
    `${PM}/1_rcit0qgs/format/url/responseFormat/json/a.mp4`,
    `${PM}/1_rcit0qgs/format/url/responseFormat/jsonp/a.mp4?callback=cb_1`,
    `${PM}/1_rcit0qgs/format/sl/a.ism`,
    `${PM}/1_alt0audi/format/applehttp/protocol/http/a.m3u8`,
    `${PM}/1_audio001/format/applehttp/protocol/http/a.m3u8`,
    '/p/309/playManifest/e/1_rcit0qgs/f/applehttp/pt/http/a.m3u8?clientTag=x',
    '/index.php/extwidget/playManifest/entryId/1_rcit0qgs/format/applehttp/a.m3u8',
  ];
  for (const path of paths) {
    for (const method of ['GET', 'HEAD']) {
      const before = stats();
      // kept at the second asking (src/cache/asked-once.ts), a hit from the third
      const first = await ask(cached, path, { method });
      const second = await ask(cached, path, { method });
      t.equal(stats().hits, before.hits, `${method} ${path}: the second request is not a hit yet`);
      const third = await ask(cached, path, { method });
      const reference = await ask(plain, path, { method });
      t.equal(first.status < 400, true, `${method} ${path} answers (${first.status})`);
      t.same(third, reference, `${method} ${path}: the kept answer equals the pipeline's`);
      t.same(first, reference, `${method} ${path}: the first answer too`);
      t.same(second, reference, `${method} ${path}: and the second`);
      t.equal(stats().hits, before.hits + 1, `${method} ${path}: the third request was a hit`);
    }
  }
  t.equal(plain.app.manifestCache.stats().entries, 0, 'KDELIVER_MANIFEST_CACHE_ENTRIES=0 keeps nothing');
});

t.test('playSessionId, clientTag, _ and referrer are left out of the key (the first three as Kaltura\'s cacher leaves them out)', async (t) => {
  const base = `${PM}/1_rcit0qgs/format/applehttp/protocol/http/viewings.m3u8`;
  const ref = Buffer.from('https://sample.example.com/page').toString('base64url');
  // as the Kaltura web player asks: a fresh playSessionId for every viewing
  const viewings = [
    `${base}?playSessionId=11111111-1111:22222222-2222&referrer=${ref}&clientTag=html5:v3.17.95`,
    `${base}?playSessionId=33333333-3333:44444444-4444&referrer=${ref}&clientTag=html5:v3.17.95`,
    `${base}?referrer=${ref}&playSessionId=55555555-5555:66666666-6666&clientTag=html5:v3.17.96&_=1700000000000`,
    `${base}?referrer=${ref}`,
    // a kept answer's entry has no access-control rules, and nothing else reads the referrer
    `${base}?playSessionId=77777777-7777:88888888-8888&referrer=${Buffer.from('https://other.example.org/x').toString('base64url')}&clientTag=html5:v3.17.95`,
    base,
  ];
  const before = stats();
  for (const path of viewings) {
    const answer = await ask(cached, path);
    t.equal(answer.status, 200, path);
    t.same(answer, await ask(plain, path), `${path}: the answer the pipeline gives`);
  }
  t.equal(stats().hits, before.hits + viewings.length - 2, 'one answer kept at the second viewing, every later viewing a hit');

  const other = (q: string) => ask(cached, `${base}?referrer=${ref}&${q}`);
  const hits = stats().hits;
  await other('tags=mbr');
  await other('clientTagX=1');
  t.equal(stats().hits, hits, 'other parameters, and names that only start alike, are still part of the key');

  const jsonp = `${PM}/1_rcit0qgs/format/url/responseFormat/jsonp/a.mp4`;
  const a = await ask(cached, `${jsonp}?callback=cb_a&playSessionId=1`);
  const b = await ask(cached, `${jsonp}?callback=cb_b&playSessionId=2`);
  t.match(a.body, /^cb_a\(/);
  t.match(b.body, /^cb_b\(/, 'callback stays in the key: the JSONP body carries it');
});

t.test('an answer that quotes its own URL (hdnetwork) is reused for that exact URL only', async (t) => {
  const base = `${PM}/1_rcit0qgs/format/hdnetwork/a.f4m`;
  const one = `${base}?playSessionId=1:1`;
  const two = `${base}?playSessionId=2:2`;
  for (const path of [one, two, one, two, `${base}?clientTag=x`, base]) {
    const answer = await ask(cached, path);
    t.equal(answer.status, 200, path);
    t.same(answer, await ask(plain, path), `${path}: the answer the pipeline gives`);
    t.ok(answer.body.includes(path.replace('hdnetwork', 'hdnetworksmil').replace('f4m', 'smil').replace(/&/g, '&amp;')), `${path}: its own URL in the footer`);
  }
  await ask(cached, `${base}?clientTag=y`);
  const before = stats();
  await ask(cached, `${base}?clientTag=y`);
  t.equal(stats().hits, before.hits + 1, 'the same URL again is a hit');
});

t.test('the caching headers follow the clock on a hit', async (t) => {
  const path = `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8?clock=1`;
  await ask(cached, path);
  clock += 3600;
  try {
    const hit = await ask(cached, path);
    const header = (a: Answer, name: string) => a.head[a.head.indexOf(name) + 1];
    t.equal(header(hit, 'last-modified'), new Date(clock * 1000).toUTCString());
    t.equal(header(hit, 'expires'), new Date((clock + 60) * 1000).toUTCString());
    t.same(hit, await ask(plain, path));
  } finally {
    clock -= 3600;
  }
});

t.test('an anonymous answer signed by kdeliver alone (1_flavlim0: a flavor limit) is kept for its second only', async (t) => {
  const base = `${PM}/1_flavlim0/format/applehttp/protocol/http/a.m3u8`;
  const dash = `${PM}/1_flavlim0/format/mpegdash/protocol/http/a.mpd`;
  for (const [path, method] of [[base, 'GET'], [dash, 'GET'], [base, 'HEAD']]) {
    const start = clock;
    try {
      // asked once in an earlier second: kept at its second asking, a hit from the third
      clock -= 1;
      await ask(cached, `${path}?playSessionId=0:0`, { method });
      clock += 1;
      const before = stats();
      const first = await ask(cached, `${path}?playSessionId=1:1`, { method });
      t.equal(stats().hits, before.hits, `${method} ${path}: the second asking is not a hit (the first was a second earlier)`);
      const again = await ask(cached, `${path}?playSessionId=2:2&clientTag=html5:v3.17.78`, { method });
      t.equal(first.status < 400, true, `${method} ${path} answers (${first.status})`);
      t.same(first, await ask(plain, path, { method }), `${method} ${path}: the answer the pipeline gives`);
      t.same(again, first, `${method} ${path}: the same second, the same answer`);
      t.equal(stats().hits, before.hits + 1, `${method} ${path}: the second request of that second was a hit`);
      clock += 1;
      const next = await ask(cached, `${path}?playSessionId=3:3`, { method });
      t.equal(stats().hits, before.hits + 1, `${method} ${path}: the next second is not answered from the kept one`);
      t.same(next, await ask(plain, path, { method }), `${method} ${path}: the next second's answer is the pipeline's`);
      if (method === 'GET') t.not(next.body + next.head.join(), first.body + first.head.join(), `${method} ${path}: and it differs (the signature's expiry moved)`);
    } finally {
      clock = start;
    }
  }
  // a rule changed within the second: the kept answer goes with the catalog's generation
  const path = `${PM}/1_flavlim0/format/applehttp/protocol/http/a.m3u8`;
  await ask(cached, `${path}?playSessionId=r:0`);
  await ask(cached, `${path}?playSessionId=r:1`);
  const keptBefore = stats();
  await ask(cached, `${path}?playSessionId=r:1b`);
  t.equal(stats().hits, keptBefore.hits + 1, 'kept before the rule changes');
  const rules = (sqliteDb(cached.app.catalog).prepare('SELECT rules FROM access_control_profiles WHERE id = 5').pluck().get()) as string;
  try {
    for (const s of [cached, plain]) sqliteDb(s.app.catalog).prepare("UPDATE access_control_profiles SET rules = '[]' WHERE id = 5").run();
    const beforeChange = stats();
    const changed = await ask(cached, `${path}?playSessionId=r:2`);
    t.equal(stats().hits, beforeChange.hits, 'a changed rule in the same second: not answered from the kept answer');
    t.same(changed, await ask(plain, path), 'but by the pipeline, under the new rule');
    t.ok((changed.body.match(/EXT-X-STREAM-INF/g) ?? []).length > 1, 'every flavor, without the limit');
  } finally {
    for (const s of [cached, plain]) sqliteDb(s.app.catalog).prepare('UPDATE access_control_profiles SET rules = ? WHERE id = 5').run(rules);
  }

  const before = stats();
  for (let i = 0; i < 2; i++) {
    const path = `${PM}/1_flavlim0/ks/${ks()}/format/applehttp/protocol/http/a.m3u8`;
    t.same(await ask(cached, path), await ask(plain, path), 'with a KS: the pipeline\'s answer');
  }
  t.equal(stats().hits, before.hits, 'an answer with a KS is never kept, even for its second');
});

t.test('answers that depend on more than the URL are never kept', async (t) => {
  const signed = signPlayManifestUrl(`${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`, cached.config.urlTokenSecret, clock + 600);
  const cases: [string, string, Record<string, string>?][] = [
    ['a KS in the path', `${PM}/1_rcit0qgs/ks/${ks()}/format/applehttp/protocol/http/a.m3u8`],
    ['a KS in the header', `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`, { 'X-Kaltura-Ks': ks() }],
    ['a KS in the query', `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8?playSessionId=x&ks=${ks()}`],
    ['a kt token', signed],
    ['an expiry', `${PM}/1_rcit0qgs/expiry/${clock + 600}/format/applehttp/protocol/http/a.m3u8`],
    ['access-control rules', `${PM}/1_siteonly/format/applehttp/protocol/http/a.m3u8`, { Referer: 'https://sample.example.com/' }],
    ['a KS-protected entry with its KS', `${PM}/1_kssecure/ks/${ks()}/format/applehttp/protocol/http/a.m3u8`],
    ['schedule dates', `${PM}/1_sched000/format/applehttp/protocol/http/a.m3u8`],
    ['an error', `${PM}/1_nosuch00/format/applehttp/protocol/http/a.m3u8`],
    ['a deleted entry', `${PM}/1_deleted0/format/applehttp/protocol/http/a.m3u8`],
  ];
  // the test before changed a rule: a first asking lets the cache see the catalog's generation
  // (and drop what it kept before the change), so that the counts below move only for these cases
  await ask(cached, `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8?generation=seen`);
  for (const [why, path, headers] of cases) {
    const before = stats();
    const first = await ask(cached, path, { headers });
    const second = await ask(cached, path, { headers });
    t.same(second, first, `${why}: same answer twice`);
    t.same(first, await ask(plain, path, { headers }), `${why}: the answer the pipeline gives`);
    t.equal(stats().entries, before.entries, `${why}: nothing kept`);
    t.equal(stats().hits, before.hits, `${why}: no hit`);
    // a KS (path, query or header) is never kept, so such a request is not even looked up
    if (why.includes('KS')) t.equal(stats().misses, before.misses, `${why}: not looked up`);
  }
});

t.test('a kept public answer never answers a request carrying a KS header', async (t) => {
  const path = `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8?ksheader=1`;
  const open = await ask(cached, path);
  t.equal(open.status, 200);
  await ask(cached, path);
  const bad = await ask(cached, path, { headers: { 'X-Kaltura-Ks': 'garbage' } });
  t.same(bad, await ask(plain, path, { headers: { 'X-Kaltura-Ks': 'garbage' } }), 'same answer as without a cache');
  t.not(bad.status, 200, 'a garbage KS is refused even though the URL is kept');
});


t.test('a kept public answer never answers a KS for another entry, an expired or a revoked KS', async (t) => {
  const { ksRevocationKeys, parseKs, verifyKs } = await import('../../src/access/ks.js');
  const path = `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8?kscases=1`;
  const user = (o: { privileges?: string; expiry?: number; at?: number }) => generateKs({
    partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId: 'viewer', expiry: o.expiry ?? 3600, privileges: o.privileges ?? '', version: 2, now: o.at ?? clock,
  });
  const other = user({ privileges: 'sview:1_kssecure' });
  const expired = user({ expiry: 60, at: clock - 3600 });
  const revoked = user({});
  const v = verifyKs(parseKs(revoked), { id: 309, adminSecret: 'sample-admin-secret-309' }, { now: clock });
  for (const s of [cached, plain]) for (const key of ksRevocationKeys(v)) await s.app.catalog.revokeSession(key, v.expiry);
  t.equal((await ask(cached, path)).status, 200);
  await ask(cached, path);
  for (const [why, ks] of [['a KS for another entry', other], ['an expired KS', expired], ['a revoked KS', revoked]] as const) {
    for (const [where, asked, headers] of [
      ['header', path, { 'X-Kaltura-Ks': ks }],
      ['path', path.replace('/format/', `/ks/${ks}/format/`), {}],
      ['query', `${path}&ks=${ks}`, {}],
    ] as const) {
      const hits = stats().hits;
      const a = await ask(cached, asked, { headers });
      t.same(a, await ask(plain, asked, { headers }), `${why} (${where}): the answer a server without caches gives`);
      t.equal(stats().hits, hits, `${why} (${where}): not from the cache`);
      if (why !== 'a KS for another entry') t.not(a.status, 200, `${why} (${where}): refused`);
      else t.equal(a.status, 200, `${why} (${where}): plays (the entry has no rules), made for it`);
    }
  }
});
t.test('a catalog change drops kept answers: own writes at once, other processes within a moment', async (t) => {
  const path = `${PM}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8?change=1`;
  const v720 = '1_f3rcit00';
  const first = await ask(cached, path);
  t.equal(first.status, 200);
  t.match(first.body, /RESOLUTION=1280x720/);
  t.equal((await ask(cached, path)).body, first.body, 'kept');

  // a write through the server's own connection (as api_v3 does)
  const keptBefore = stats().entries;
  sqliteDb(cached.app.catalog).prepare('UPDATE flavor_assets SET status = 3 WHERE id = ?').run(v720);
  const after = await ask(cached, path);
  t.notMatch(after.body, /RESOLUTION=1280x720/, 'the deleted flavor is gone at once');
  // the answer asked after the change is kept again at once (it was asked before): the only one
  t.ok(keptBefore > 1, `answers kept before the change: ${keptBefore}`);
  t.equal(stats().entries, 1, 'the change dropped every answer kept before it, so /metrics counts none of them');

  // a write by another process (as `kdeliver ingest` does), seen through SQLite's data_version
  const other = new Database(cached.config.dbFile);
  t.teardown(() => other.close());
  other.prepare('UPDATE flavor_assets SET status = 2 WHERE id = ?').run(v720);
  await new Promise((r) => setTimeout(r, 5));
  const back = await ask(cached, path);
  t.match(back.body, /RESOLUTION=1280x720/, 'the restored flavor is back');
  t.equal(back.body, first.body);
  other.prepare('UPDATE entries SET status = 3 WHERE id = ?').run('1_rcit0qgs');
  await new Promise((r) => setTimeout(r, 5));
  const gone = await ask(cached, path);
  t.equal(gone.status, 404, 'a deleted entry is refused, not answered from the cache');
  other.prepare('UPDATE entries SET status = 2 WHERE id = ?').run('1_rcit0qgs');
});

t.test('the cache is bounded', async (t) => {
  const { createManifestCache } = await import('../../src/cache/manifest-cache.js');
  const c = createManifestCache(3);
  const answer = (n: number) => ({ status: 200, head: [], timedAt: [], body: 'x'.repeat(n), bytes: n, cacheAge: 60, format: 'applehttp', generation: 1 });
  // the answers are not for one second only (no `second`) nor for one URL only (no `exactUrl`):
  // any request URL and second finds them
  const now = Math.floor(Date.now() / 1000);
  for (let i = 0; i < 5; i++) c.put(`k${i}`, answer(10));
  t.equal(c.stats().entries, 3, 'at most maxEntries');
  t.equal(c.get('k0', 1, '/k0', now), undefined, 'the oldest went first');
  t.ok(c.get('k4', 1, '/k4', now));
  c.put('k5', { ...answer(10), generation: 0 });
  t.equal(c.get('k5', 1, '/k5', now), undefined, 'an answer made under an older generation than one seen is not kept');
  t.equal(c.get('k4', 2, '/k4', now), undefined, 'another generation is a miss');
  t.equal(c.stats().entries, 0, 'and a newer one drops every answer kept before it');
  t.equal(c.stats().bytes, 0, 'and their bytes');
  c.put('k4', { ...answer(10), generation: 2 });
  t.ok(c.get('k4', 2, '/k4', now), 'the next answer is kept');
  const small = createManifestCache(100, 1000);
  for (let i = 0; i < 10; i++) small.put(`k${i}`, answer(300));
  t.ok(small.stats().bytes <= 1000, `at most maxBytes (${small.stats().bytes})`);
});

t.test('/metrics reports the answer cache', async (t) => {
  // three answers kept now (the catalog changes above dropped what was kept before them)
  for (const f of ['applehttp', 'mpegdash', 'url']) for (let i = 0; i < 2; i++) await ask(cached, `${PM}/1_rcit0qgs/format/${f}/protocol/http/a.m3u8?metrics=1`);
  const text = await (await fetch(`${cached.url}/metrics`)).text();
  const value = (name: string) => Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
  const s = stats();
  t.equal(value('kdeliver_playmanifest_cache_hits_total'), s.hits);
  t.equal(value('kdeliver_playmanifest_cache_misses_total'), s.misses);
  t.equal(value('kdeliver_playmanifest_cache_entries'), s.entries);
  t.equal(value('kdeliver_playmanifest_cache_bytes'), s.bytes);
  t.ok(s.hits > 20 && s.entries >= 3, `hits ${s.hits}, entries ${s.entries}`);
});

t.test('KDELIVER_PLAYMANIFEST_CACHE_AGE=0 keeps no answer, not even for its second', async (t) => {
  const ageless = await startServer(t, { now, env: { KDELIVER_PUBLIC_URL: PUBLIC, KDELIVER_PLAYMANIFEST_CACHE_AGE: '0' } });
  for (const path of [`${PM}/1_rcit0qgs/format/applehttp/a.m3u8`, `${PM}/1_rcit0qgs/format/mpegdash/a.mpd`, `${PM}/1_flavlim0/format/applehttp/a.m3u8`]) {
    const first = await ask(ageless, path);
    const again = await ask(ageless, path);
    t.equal(first.status, again.status, path);
    t.equal(again.body, first.body, 'the same answer, made again');
    t.match(again.head.join('\n'), /no-store/, 'sent as not cacheable');
  }
  const s = ageless.app.manifestCache.stats();
  t.equal(s.entries, 0, 'nothing kept');
  t.equal(s.hits, 0, 'nothing answered from the cache');
});
