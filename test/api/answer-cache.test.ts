// The api_v3 answer cache (src/api/answer-cache.ts) over real HTTP: the Kaltura web player's
// first call (its anonymous multirequest, as the player sends it) answered again byte for byte
// with X-Kaltura: cached-dispatcher; a catalog change, an access-control rule on the referrer or
// the client's address, a KS that is refused (revoked, expired, another partner's, forged,
// another address's), a write or session.start are never answered from it; a valid KS of the
// caller's own is, under that KS, until it is revoked or expires; every answer is kept from its
// second asking (a request asked once leaves no answer and no alias); its bounds, its expiry
// (never past the carried widget KS's expiry minus the margin) and its /metrics.
import t from 'tap';
import { request } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { generateKs } from '../../src/access/ks.js';
import { KS_MARGIN_SECONDS } from '../../src/api/answer-cache.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { sqliteDb } from '../helpers/sqlite.js';

const ENTRY = '1_rcit0qgs';
const PATH = '/api_v3/service/multirequest';

/** The player's first call (bench/lib/player.mjs multirequestFromSource; the e2e test checks the real player sends it). */
const playerCall = (entryId: string, ks = '{1:result:ks}', widget: Record<string, unknown> = {}) => ({
  1: { service: 'session', action: 'startWidgetSession', widgetId: '_309', ...widget },
  2: {
    service: 'baseEntry', action: 'list', ks, filter: { redirectFromEntryId: entryId },
    responseProfile: { type: 1, fields: 'id,referenceId,name,description,thumbnailUrl,dataUrl,duration,msDuration,flavorParamsIds,mediaType,type,tags,dvrStatus,externalSourceType,status,createdAt,updatedAt,endDate,plays,views,downloadUrl,creatorId,userId,rootEntryId,capabilities,adminTags' },
  },
  3: { service: 'baseEntry', action: 'getPlaybackContext', entryId: '{2:result:objects:0:id}', ks, contextDataParams: { objectType: 'KalturaContextDataParams', flavorTags: 'all' } },
  4: { service: 'metadata_metadata', action: 'list', filter: { objectType: 'KalturaMetadataFilter', objectIdEqual: '{2:result:objects:0:id}', metadataObjectTypeEqual: '1' }, ks },
  apiVersion: '3.3.0', format: 1, ks: '', clientTag: 'html5:v3.17.78', partnerId: 309,
});

interface Raw { status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }
/** The bytes as they travel (fetch would undo the gzip). */
const post = (s: TestServer, body: unknown, headers: Record<string, string> = {}, path = PATH): Promise<Raw> =>
  new Promise((resolve, reject) => {
    const req = request(`${s.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end(typeof body === 'string' ? body : JSON.stringify(body));
  });
const json = (r: Raw) => JSON.parse((r.headers['content-encoding'] === 'gzip' ? gunzipSync(r.body) : r.body).toString('utf8'));
const mark = (r: Raw) => r.headers['x-kaltura'] as string | undefined;
const metric = async (s: TestServer, name: string) => Number(new RegExp(`^${name} (\\d+)`, 'm').exec(await (await fetch(`${s.url}/metrics`)).text())?.[1]);
const errorsOf = (items: any[]) => items.filter((x) => x?.objectType === 'KalturaAPIException').map((x) => x.code);
const api = async (s: TestServer, service: string, action: string, params: Record<string, unknown>) =>
  json(await post(s, { format: 1, ...params }, {}, `/api_v3/service/${service}/action/${action}`));

t.test('the player first call: kept, sent again byte for byte, dropped on a catalog change', async (t) => {
  const s = await startServer(t);
  const first = await post(s, playerCall(ENTRY));
  t.equal(first.status, 200);
  t.equal(mark(first), undefined, 'the first answer is made');
  const items = json(first);
  t.same(errorsOf(items), [], 'no error in it');
  t.equal(items[2].objectType, 'KalturaPlaybackContext');
  t.ok(items[2].sources.length > 0);
  const second = await post(s, playerCall(ENTRY));
  t.equal(mark(second), undefined, 'made again on its second asking, and kept');

  const again = await post(s, playerCall(ENTRY));
  t.match(mark(again), /^cached-dispatcher,[0-9a-f]{32}$/, 'X-Kaltura: cached-dispatcher on a hit');
  t.same(again.body, second.body, 'the same bytes (the executionTime it was made with included)');
  const { 'x-kaltura': _m, date: _d, ...againHeaders } = again.headers;
  const { date: _d1, ...secondHeaders } = second.headers;
  t.same(againHeaders, secondHeaders, 'the same headers but X-Kaltura');
  t.same(json(again), json(first), 'the answer the first asking made');

  // clientTag and kalsig are not in the key; a client that takes gzip gets the kept bytes gzipped
  const zipped = await post(s, { ...playerCall(ENTRY), clientTag: 'html5:v3.17.79', kalsig: 'abc' }, { 'accept-encoding': 'gzip' });
  t.match(mark(zipped), /^cached-dispatcher,/);
  t.equal(zipped.headers['content-encoding'], 'gzip');
  t.same(zipped.body, gzipSync(second.body), 'the gzip of the same bytes');
  t.equal(zipped.headers.vary, 'Accept-Encoding');

  // another entry, another answer
  const other = await post(s, playerCall('1_alt0audi'));
  t.equal(mark(other), undefined);
  t.equal(json(other)[1].objects[0].id, '1_alt0audi');

  // a catalog change (the entry renamed through the API) drops the kept answer
  const adminKs = await api(s, 'session', 'start', { secret: 'sample-admin-secret-309', partnerId: 309, type: 2, userId: 'admin' });
  const renamed = await api(s, 'baseEntry', 'update', { ks: adminKs, entryId: ENTRY, baseEntry: { objectType: 'KalturaBaseEntry', name: 'Renamed for the cache test' } });
  t.equal(renamed.name, 'Renamed for the cache test');
  const after = await post(s, playerCall(ENTRY));
  t.equal(mark(after), undefined, 'made again after the change');
  t.equal(json(after)[1].objects[0].name, 'Renamed for the cache test', 'with the new name');
  t.equal(mark(await post(s, playerCall(ENTRY))), undefined, 'made again at its second asking after the change');
  t.match(mark(await post(s, playerCall(ENTRY))), /^cached-dispatcher,/, 'and kept again');
});

t.test('rules on the referrer or the client address: each its own answer', async (t) => {
  const s = await startServer(t, { env: { KDELIVER_TRUST_PROXY: 'true' } });
  const db = sqliteDb(s.app.catalog);
  const rules = JSON.stringify([
    { message: 'only on example.com', conditions: [{ type: 'site', not: true, values: ['example.com'] }], actions: [{ type: 'block' }] },
  ]);
  db.prepare("INSERT INTO access_control_profiles (id, partner_id, name, rules, created_at, updated_at) VALUES (951, 309, 'site', ?, 0, 0)").run(rules);
  db.prepare('UPDATE entries SET access_control_profile_id = 951 WHERE id = ?').run(ENTRY);
  const ipRules = JSON.stringify([
    { message: 'not from 10/8', conditions: [{ type: 'ip', values: ['10.0.0.0/8'] }], actions: [{ type: 'block' }] },
  ]);
  db.prepare("INSERT INTO access_control_profiles (id, partner_id, name, rules, created_at, updated_at) VALUES (952, 309, 'ip', ?, 0, 0)").run(ipRules);
  db.prepare("UPDATE entries SET access_control_profile_id = 952 WHERE id = '1_alt0audi'").run();

  const blocked = (items: any[]) => items[2].actions.some((a: { type: number }) => a.type === 1) && items[2].sources.length === 0;
  const sites = [['https://www.example.com/page', false], ['https://evil.test/page', true], ['', true], ['https://example.com/', false]] as const;
  // each answer kept at the second asking of its key with the facts read (rounds 0 and 1 make it)
  for (let round = 0; round < 4; round++) {
    for (const [referer, isBlocked] of sites) {
      const r = await post(s, playerCall(ENTRY), referer ? { referer } : {});
      t.equal(blocked(json(r)), isBlocked, `round ${round}, referrer ${JSON.stringify(referer)}: ${isBlocked ? 'blocked' : 'played'}`);
      // www.example.com and example.com are different hosts: each has its own answer
      if (round > 1) t.match(mark(r), /^cached-with-extra-fields,/, 'from the cache, keyed on the referrer host');
      else t.equal(mark(r), undefined);
    }
  }
  const addresses = [['10.1.2.3', true], ['192.168.7.7', false], ['10.200.0.1', true]] as const;
  for (let round = 0; round < 4; round++) {
    for (const [ip, isBlocked] of addresses) {
      const r = await post(s, playerCall('1_alt0audi'), { 'x-forwarded-for': ip });
      t.equal(blocked(json(r)), isBlocked, `round ${round}, client ${ip}: ${isBlocked ? 'blocked' : 'played'}`);
      if (round > 1) t.match(mark(r), /^cached-with-extra-fields,/);
      else t.equal(mark(r), undefined);
    }
  }
  // a changed rule is a catalog change: the kept answers go
  db.prepare('UPDATE access_control_profiles SET rules = ? WHERE id = 952').run('[]');
  const r = await post(s, playerCall('1_alt0audi'), { 'x-forwarded-for': '10.1.2.3' });
  t.equal(mark(r), undefined);
  t.equal(blocked(json(r)), false, 'the changed rule decides');
});

t.test('a KS of the caller: a refused one never from the cache; a valid one kept under that KS only, from its second asking, while it verifies', async (t) => {
  const s = await startServer(t);
  t.equal(mark(await post(s, playerCall(ENTRY))), undefined);
  t.equal(mark(await post(s, playerCall(ENTRY))), undefined);
  t.match(mark(await post(s, playerCall(ENTRY))), /^cached-dispatcher,/, 'the anonymous call is kept');

  const now = Math.floor(Date.now() / 1000);
  const adminKs = (type: 0 | 2, userId: string, privileges = '', expiry = 3600) =>
    generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type, userId, expiry, privileges, version: 2, now });
  const revoked = await api(s, 'session', 'start', { secret: 'sample-user-secret-309', partnerId: 309, type: 0, userId: 'leaver' });
  t.equal(await api(s, 'session', 'end', { ks: revoked }), null);
  const expired = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId: 'old', expiry: 10, privileges: '', version: 2, now: now - 3600 });
  const forged = generateKs({ partnerId: 309, secret: 'not-the-secret', type: 0, userId: 'x', expiry: 3600, privileges: '', version: 2, now });
  const foreign = generateKs({ partnerId: 310, secret: 'sample-admin-secret-310', type: 0, userId: 'x', expiry: 3600, privileges: '', version: 2, now });
  const elsewhere = adminKs(0, 'roamer', 'iprestrict:10.1.2.3');
  for (const [name, ks, refusal] of [['revoked', revoked, 'INVALID_KS'], ['expired', expired, 'INVALID_KS'], ['forged', forged, 'INVALID_KS'],
    ['another partner\'s', foreign, 'ENTRY_ID_NOT_FOUND'], ['other address\'s', elsewhere, 'INVALID_KS']] as const) {
    for (let i = 0; i < 3; i++) {
      const r = await post(s, playerCall(ENTRY, ks));
      t.equal(mark(r), undefined, `a ${name} KS: never from the cache`);
      const items = json(r);
      t.ok(errorsOf(items).includes(refusal) || (name === 'another partner\'s' && items[1].totalCount === 0), `a ${name} KS: refused (${errorsOf(items).join(',')})`);
    }
    // also as the top-level ks the sub-requests inherit (they carry none of their own)
    const inherited: Record<string | number, any> = { ...playerCall(ENTRY), ks };
    for (const k of [2, 3, 4]) inherited[k] = { ...inherited[k], ks: undefined };
    for (let i = 0; i < 3; i++) {
      const r = await post(s, inherited);
      t.equal(mark(r), undefined, `a ${name} KS at the top: not from the cache`);
      t.ok(errorsOf(json(r)).length > 0, `a ${name} KS at the top: refused (${errorsOf(json(r)).join(',')})`);
    }
  }

  // a valid KS: made on its first and second asking, then sent again under that KS only
  const userKs = await api(s, 'session', 'start', { secret: 'sample-user-secret-309', partnerId: 309, type: 0, userId: 'viewer' });
  const widgetKs = (await api(s, 'session', 'startWidgetSession', { widgetId: '_309' })).ks;
  const sview = adminKs(0, 'y', 'sview:1_kssecure');
  const here = adminKs(0, 'local', 'iprestrict:127.0.0.1');
  for (const [name, ks] of [['user', userKs], ['widget', widgetKs], ['sview of another entry', sview], ['this address\'s', here]] as const) {
    const made = [await post(s, playerCall(ENTRY, ks)), await post(s, playerCall(ENTRY, ks))];
    t.same(made.map(mark), [undefined, undefined], `a ${name} KS: made on its first two askings`);
    t.same(errorsOf(json(made[0])), []);
    const third = await post(s, playerCall(ENTRY, ks));
    t.match(mark(third), name === 'this address\'s' ? /^cached-with-extra-fields,/ : /^cached-dispatcher,/, `a ${name} KS: its third asking from the cache${name === 'this address\'s' ? ', keyed on the address' : ''}`);
    t.equal(third.body.toString(), made[1].body.toString(), 'byte for byte the second answer');
  }
  // each KS its own answer: the user KS's kept answer is not the widget KS's
  t.not((await post(s, playerCall(ENTRY, userKs))).body.toString(), (await post(s, playerCall(ENTRY, widgetKs))).body.toString(), 'answers quote their own KS');
  // a KS restricted to URIs: its check reads the raw URL, which the key leaves clientTag out of
  const uriKs = adminKs(0, 'pathy', 'urirestrict:/api_v3/*');
  for (let i = 0; i < 3; i++) t.equal(mark(await post(s, playerCall(ENTRY, uriKs))), undefined, 'a URI-restricted KS: made each time');
  // an admin KS's list, as a site's back end asks it on every page view
  const admin = adminKs(2, 'backend');
  const list = { format: 1, ks: admin, filter: { objectType: 'KalturaMediaEntryFilter', mediaTypeEqual: 1 }, pager: { pageSize: 5, pageIndex: 1 } };
  const listed = [];
  for (let i = 0; i < 3; i++) listed.push(await post(s, list, {}, '/api_v3/service/baseEntry/action/list'));
  t.same(listed.map(mark).map((m) => m?.split(',')[0]), [undefined, undefined, 'cached-dispatcher'], 'an admin list: kept on its second asking');
  t.ok(json(listed[2]).totalCount > 0);

  // the kept user KS answer goes when the KS is revoked (a revocation is a catalog change)
  t.equal(await api(s, 'session', 'end', { ks: userKs }), null);
  const afterEnd = await post(s, playerCall(ENTRY, userKs));
  t.equal(mark(afterEnd), undefined, 'a KS revoked after its answer was kept: not from the cache');
  t.ok(errorsOf(json(afterEnd)).includes('INVALID_KS'), 'refused');
  // and a changed catalog drops the rest: asked twice again before it is sent from the cache
  const changed = await post(s, { format: 1, ks: admin, entryId: ENTRY, baseEntry: { objectType: 'KalturaBaseEntry', name: 'Renamed for the cache test' } }, {}, '/api_v3/service/baseEntry/action/update');
  t.equal(json(changed).name, 'Renamed for the cache test');
  const relisted = await post(s, list, {}, '/api_v3/service/baseEntry/action/list');
  t.equal(mark(relisted), undefined, 'after a write, the admin list is made again');
  t.ok(JSON.stringify(json(await post(s, playerCall(ENTRY, sview)))).includes('Renamed for the cache test'), 'and so is the sview KS\'s call, with the new name');

  // a KS that expires while its answer is kept: refused from its expiry on, never sent from the cache
  // (issued at the start of a second, so its three askings fall well within its five seconds)
  await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 20));
  const briefFrom = Math.floor(Date.now() / 1000);
  const brief = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId: 'brief', expiry: 5, privileges: '', version: 2, now: briefFrom });
  const briefMade = [await post(s, playerCall(ENTRY, brief)), await post(s, playerCall(ENTRY, brief))];
  t.same(errorsOf(json(briefMade[1])), []);
  t.match(mark(await post(s, playerCall(ENTRY, brief))), /^cached-dispatcher,/, 'a 5-second KS: kept while it lives');
  await new Promise((r) => setTimeout(r, Math.max(0, (briefFrom + 5) * 1000 - Date.now() + 50)));
  const late = await post(s, playerCall(ENTRY, brief));
  t.equal(mark(late), undefined, 'an expired KS: not from the cache');
  t.ok(errorsOf(json(late)).includes('INVALID_KS'), 'refused as expired');
});

t.test('writes, session.start and other actions are never kept', async (t) => {
  const s = await startServer(t);
  const start = { secret: 'sample-user-secret-309', partnerId: 309, type: 0, userId: 'viewer' };
  const a = await post(s, { format: 1, ...start }, {}, '/api_v3/service/session/action/start');
  const b = await post(s, { format: 1, ...start }, {}, '/api_v3/service/session/action/start');
  t.equal(mark(b), undefined, 'session.start: made each time');
  t.not(a.body.toString(), b.body.toString(), 'a new session each time');
  // a multirequest with one action outside the list is not kept as a whole
  const mixed = { ...playerCall(ENTRY), 5: { service: 'session', action: 'start', ...start } };
  await post(s, mixed);
  await post(s, mixed);
  t.equal(mark(await post(s, mixed)), undefined, 'a multirequest with session.start: made each time');
  const adminKs = await api(s, 'session', 'start', { secret: 'sample-admin-secret-309', partnerId: 309, type: 2, userId: 'admin' });
  for (const name of ['first', 'second']) {
    const r = await post(s, { format: 1, ks: adminKs, entryId: ENTRY, baseEntry: { objectType: 'KalturaBaseEntry', name: `write ${name}` } }, {}, '/api_v3/service/baseEntry/action/update');
    t.equal(mark(r), undefined, `the ${name} write runs`);
    t.equal(json(r).name, `write ${name}`);
  }
  // an anonymous call of a listed action that fails (no KS) is not kept either
  await post(s, { format: 1, partnerId: 309, filter: {} }, {}, '/api_v3/service/baseEntry/action/list');
  await post(s, { format: 1, partnerId: 309, filter: {} }, {}, '/api_v3/service/baseEntry/action/list');
  t.equal(mark(await post(s, { format: 1, partnerId: 309, filter: {} }, {}, '/api_v3/service/baseEntry/action/list')), undefined, 'an answer with an error: made each time');
});

t.test('bounds, expiry, the widget KS expiry and /metrics', async (t) => {
  const s = await startServer(t, { env: { KDELIVER_API_CACHE_ENTRIES: '2' } });
  const entries = ['1_rcit0qgs', '1_alt0audi', '1_audio001'];
  // asked once each: nothing kept, not even the alias of the request's bytes
  for (const e of entries) t.equal(mark(await post(s, playerCall(e))), undefined);
  t.equal(await metric(s, 'kdeliver_api_cache_entries'), 0, 'a request asked once: its answer not kept');
  t.equal(await metric(s, 'kdeliver_api_cache_bytes'), 0, 'nor its alias');
  t.equal(await metric(s, 'kdeliver_api_cache_first_askings'), 2, 'their first askings remembered, at most KDELIVER_API_CACHE_ENTRIES');
  // on a new server, each asked twice in a row: kept at its second asking, the oldest kept going first
  const b = await startServer(t, { env: { KDELIVER_API_CACHE_ENTRIES: '2', KDELIVER_API_CACHE_SECONDS: '1' } });
  for (const e of entries) {
    t.equal(mark(await post(b, playerCall(e))), undefined, `${e}: made at its first asking`);
    t.equal(mark(await post(b, playerCall(e))), undefined, `${e}: made and kept at its second`);
  }
  t.equal(await metric(b, 'kdeliver_api_cache_entries'), 2, 'three kept, at most KDELIVER_API_CACHE_ENTRIES held');
  t.ok(await metric(b, 'kdeliver_api_cache_bytes') > 0);
  t.match(mark(await post(b, playerCall('1_audio001'))), /^cached-dispatcher,/, 'the newest is kept');
  t.match(mark(await post(b, playerCall('1_alt0audi'))), /^cached-dispatcher,/, 'and the one before it');
  t.equal(mark(await post(b, playerCall('1_rcit0qgs'))), undefined, 'the oldest went first');
  t.equal(await metric(b, 'kdeliver_api_cache_hits_total'), 2);
  t.equal(await metric(b, 'kdeliver_api_cache_misses_total'), 7);
  t.equal(mark(await post(b, playerCall('1_rcit0qgs'))), undefined, 'pushed out: kept again at its second asking after it went');
  t.match(mark(await post(b, playerCall('1_rcit0qgs'))), /^cached-dispatcher,/);
  // an answer that expires: the asking that finds it expired makes it and keeps it again
  await new Promise((r) => setTimeout(r, 1100));
  t.equal(mark(await post(b, playerCall('1_rcit0qgs'))), undefined, 'KDELIVER_API_CACHE_SECONDS: expired');
  t.match(mark(await post(b, playerCall('1_rcit0qgs'))), /^cached-dispatcher,/, 'an expired answer asked again: kept again at once');
  // the same for an answer kept per request fact (a rule on the referrer): found through its
  // expired facts, and kept again at once
  const db = sqliteDb(b.app.catalog);
  db.prepare("INSERT INTO access_control_profiles (id, partner_id, name, rules, created_at, updated_at) VALUES (953, 309, 'site', ?, 0, 0)")
    .run(JSON.stringify([{ message: 'only on example.com', conditions: [{ type: 'site', not: true, values: ['example.com'] }], actions: [{ type: 'block' }] }]));
  db.prepare('UPDATE entries SET access_control_profile_id = 953 WHERE id = ?').run('1_audio001');
  const fromSite = { referer: 'https://www.example.com/page' };
  const siteMarks: (string | undefined)[] = [];
  for (let i = 0; i < 3; i++) siteMarks.push(mark(await post(b, playerCall('1_audio001'), fromSite))?.split(',')[0]);
  t.same(siteMarks, [undefined, undefined, 'cached-with-extra-fields'], 'kept per referrer host at its second asking');
  await new Promise((r) => setTimeout(r, 1100));
  t.equal(mark(await post(b, playerCall('1_audio001'), fromSite)), undefined, 'expired');
  t.match(mark(await post(b, playerCall('1_audio001'), fromSite)), /^cached-with-extra-fields,/, 'asked again: kept again at once');
  // requests under a KS asked once: counted, and bounded as the answers are
  const viewerKs = (userId: string) => generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId, expiry: 3600, privileges: '', version: 2, now: Math.floor(Date.now() / 1000) });
  const viewers = ['v1', 'v2', 'v3'].map(viewerKs);
  for (const ks of viewers) await post(s, playerCall(ENTRY, ks));
  t.equal(await metric(s, 'kdeliver_api_cache_first_askings'), 2, 'three KSs asked once: at most KDELIVER_API_CACHE_ENTRIES remembered');
  await post(s, playerCall(ENTRY, viewers[2]));
  t.equal(await metric(s, 'kdeliver_api_cache_first_askings'), 1, 'a second asking: its answer kept, its first asking forgotten');
  t.match(mark(await post(s, playerCall(ENTRY, viewers[2]))), /^cached-dispatcher,/);

  // a widget KS that expires within the margin: its answer is not kept
  const s2 = await startServer(t);
  const short = playerCall(ENTRY, '{1:result:ks}', { expiry: KS_MARGIN_SECONDS - 10 });
  t.equal(mark(await post(s2, short)), undefined);
  t.equal(mark(await post(s2, short)), undefined);
  t.equal(mark(await post(s2, short)), undefined, 'a widget KS shorter than the margin: made each time');
  const long = playerCall(ENTRY, '{1:result:ks}', { expiry: KS_MARGIN_SECONDS + 3600 });
  await post(s2, long);
  await post(s2, long);
  t.match(mark(await post(s2, long)), /^cached-dispatcher,/);

  // a server whose clock is not the wall clock (tests, a skewed host): the KS's remaining life counts
  const past = await startServer(t, { now: () => 1_700_000_000 });
  await post(past, playerCall(ENTRY));
  await post(past, playerCall(ENTRY));
  t.match(mark(await post(past, playerCall(ENTRY))), /^cached-dispatcher,/, 'kept by the life its KS has left on the server clock');

  // off
  const off = await startServer(t, { env: { KDELIVER_API_CACHE_ENTRIES: '0' } });
  await post(off, playerCall(ENTRY));
  await post(off, playerCall(ENTRY));
  t.equal(mark(await post(off, playerCall(ENTRY))), undefined, 'KDELIVER_API_CACHE_ENTRIES=0: nothing kept');
  t.equal(await metric(off, 'kdeliver_api_cache_hits_total'), 0);

  // the widget session handed out again (the cache off: each call runs), and a new one once it is ended
  const w1 = (await api(off, 'session', 'startWidgetSession', { widgetId: '_309' })).ks;
  const w2 = (await api(off, 'session', 'startWidgetSession', { widgetId: '_309' })).ks;
  t.equal(w2, w1, 'the same widget KS for the same partner and lifetime');
  t.not((await api(off, 'session', 'startWidgetSession', { widgetId: '_309', expiry: 7200 })).ks, w1, 'another lifetime, another KS');
  t.equal(await api(off, 'session', 'end', { ks: w1 }), null);
  const w3 = (await api(off, 'session', 'startWidgetSession', { widgetId: '_309' })).ks;
  t.not(w3, w1, 'an ended widget KS is not handed out again');
  t.same(errorsOf(json(await post(off, playerCall(ENTRY, w3)))), [], 'the new one works');
  t.same(errorsOf(json(await post(off, playerCall(ENTRY, w1)))), ['INVALID_KS', 'INVALID_KS', 'INVALID_KS'], 'the ended one is refused');
});

t.test('a popular answer outlives requests asked once (kept from the second asking)', async (t) => {
  const s = await startServer(t, { env: { KDELIVER_API_CACHE_ENTRIES: '4' } });
  const popular = playerCall('1_alt0audi');
  await post(s, popular);
  await post(s, popular);
  t.match(mark(await post(s, popular)), /^cached-dispatcher,/, 'the popular call is kept');
  // twelve calls asked once each, in a cache of four: the player's fields, fewer each time
  const fields = (playerCall(ENTRY)[2].responseProfile.fields as string).split(',');
  for (let i = 0; i < 12; i++) {
    const once = playerCall(ENTRY);
    once[2] = { ...once[2], responseProfile: { type: 1, fields: fields.slice(0, fields.length - 1 - i).join(',') } };
    const r = await post(s, once);
    t.equal(mark(r), undefined);
    t.same(errorsOf(json(r)), [], `call ${i} answered`);
  }
  t.equal(await metric(s, 'kdeliver_api_cache_entries'), 1, 'none of them kept');
  t.match(mark(await post(s, popular)), /^cached-dispatcher,/, 'the popular call is still kept');
  t.equal(await metric(s, 'kdeliver_api_cache_first_askings'), 4, 'the calls asked once: at most KDELIVER_API_CACHE_ENTRIES remembered');
});

t.test('the byte bound (the store itself)', async (t) => {
  const { createApiAnswerCache, newFactReads } = await import('../../src/api/answer-cache.js');
  const cache = createApiAnswerCache({ maxEntries: 1000, maxBytes: 20_000, maxSeconds: 600 });
  const now = Date.now();
  const fact = () => '';
  cache.get('k0', 7, now, fact); // the generation seen
  const body = Buffer.alloc(4000, 'x');
  // kept at the second put of a key
  const keep = (key: string, b: Buffer) => {
    t.equal(cache.put(key, 7, now, 0, newFactReads(), fact, { status: 200, headers: {}, body: b }), null, `${key}: not kept at its first asking`);
    return cache.put(key, 7, now, 0, newFactReads(), fact, { status: 200, headers: {}, body: b });
  };
  for (let i = 0; i < 10; i++) t.ok(keep(`k${i}`, body), `answer ${i} kept`);
  const s = cache.stats();
  t.ok(s.bytes <= 20_000, `${s.bytes} bytes held, at most 20000`);
  t.ok(s.entries < 10 && s.entries >= 3, `${s.entries} answers: the oldest went`);
  t.equal(cache.get('k0', 7, now, fact), undefined, 'the first is gone');
  const last = cache.get('k9', 7, now, fact)!;
  t.ok(last);
  cache.gzipped(last);
  t.ok(cache.stats().bytes > s.bytes, 'a gzipped copy counts');
  t.equal(keep('big', Buffer.alloc(10_000)), null, 'an answer over a quarter of the bound is not kept');
  t.equal(cache.get('k9', 8, now, fact), undefined, 'another generation: nothing');
  t.equal(cache.stats().entries, 0, 'and everything dropped');
});
