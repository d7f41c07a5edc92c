// The console's static files and JSON API on the real server: who may use it, what it shows, and
// the decision trace of playManifest URLs (served, blocked by a rule, limited, malformed).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { generateKs } from '../../src/access/ks.js';
import { loadConfig } from '../../src/config.js';
import { openCatalog } from '../../src/catalog/open.js';
import { tracePlayManifest } from '../../src/console/trace.js';
import { sqliteDb } from '../helpers/sqlite.js';

t.test('console files and API', async (t) => {
  const s = await startServer(t);
  const now = Math.floor(Date.now() / 1000);
  const get = (path: string, headers: Record<string, string> = {}) => fetch(s.url + path, { redirect: 'manual', headers });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    fetch(s.url + path, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

  t.test('static page and player bundles', async (t) => {
    const r = await get('/console');
    t.equal(r.status, 302);
    t.equal(r.headers.get('location'), '/console/');
    const page = await get('/console/');
    t.equal(page.status, 200);
    t.equal(page.headers.get('content-type'), 'text/html; charset=utf-8');
    t.equal(page.headers.get('cache-control'), 'public, max-age=0');
    t.equal(page.headers.get('x-content-type-options'), 'nosniff');
    t.match(await page.text(), /<script src="\/console\/console\.js">/);
    for (const [f, type] of [['console.js', 'text/javascript; charset=utf-8'], ['console.css', 'text/css; charset=utf-8']]) {
      const r = await get(`/console/${f}`);
      t.equal(r.status, 200, f);
      t.equal(r.headers.get('content-type'), type, f);
      t.equal(r.headers.get('cache-control'), 'public, max-age=0', f);
      t.equal(r.headers.get('x-content-type-options'), 'nosniff', f);
      t.equal(Number(r.headers.get('content-length')), (await r.arrayBuffer()).byteLength, `${f} length`);
    }
    for (const f of ['hls.js', 'dash.js', 'dash.mss.js', 'kaltura-ovp-player.js']) {
      const v = await get(`/console/vendor/${f}`);
      t.equal(v.status, 200, `vendor ${f}`);
      t.equal(v.headers.get('content-type'), 'text/javascript; charset=utf-8');
      t.equal(v.headers.get('cache-control'), 'public, max-age=3600');
      t.equal(v.headers.get('x-content-type-options'), 'nosniff');
      t.ok(Number(v.headers.get('content-length')) > 50_000, `${f} is the real bundle`);
      await v.arrayBuffer();
    }
    // a page that is never kept fresh is revalidated: unchanged, it costs a 304 and no body
    const js = await get('/console/console.js');
    const etag = js.headers.get('etag');
    await js.arrayBuffer();
    t.ok(etag, 'an ETag to revalidate with');
    // (fetch would add no-cache to a conditional request; a browser revalidating sends max-age=0)
    const again = await get('/console/console.js', { 'if-none-match': etag!, 'cache-control': 'max-age=0' });
    t.equal(again.status, 304);
    t.equal((await again.arrayBuffer()).byteLength, 0);
    const head = await fetch(s.url + '/console/', { method: 'HEAD' });
    t.equal(head.status, 200);
    t.equal(head.headers.get('content-type'), 'text/html; charset=utf-8');
    t.equal((await head.arrayBuffer()).byteLength, 0);
    for (const bad of ['/console/package.json', '/console/vendor/..%2Fpackage.json', '/console/vendor/hls.light.js', '/console/..%2F..%2Fpackage.json']) {
      const b = await get(bad);
      t.equal(b.status, 404, bad);
    }
  });

  t.test('authentication', async (t) => {
    t.equal((await get('/console/api/catalog')).status, 401, 'no credential');
    t.equal((await get('/console/api/catalog', { 'x-kaltura-ks': 'garbage' })).status, 401, 'malformed KS');
    const userKs = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, expiry: 600, now, privileges: 'sview:*' });
    const u = await get('/console/api/catalog', { 'x-kaltura-ks': userKs });
    t.equal(u.status, 403, 'a user KS is not enough');
    t.match((await u.json()).message, /admin KS/);
    const expired = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: -10, now });
    t.equal((await get('/console/api/catalog', { 'x-kaltura-ks': expired })).status, 401, 'expired admin KS');
    const forged = generateKs({ partnerId: 309, secret: 'not-the-secret', type: 2, expiry: 600, now });
    t.equal((await get('/console/api/catalog', { 'x-kaltura-ks': forged })).status, 401, 'wrongly signed KS');
    t.equal((await post('/console/api/login', { partnerId: 309, secret: 'sample-user-secret-309' })).status, 401, 'the user secret does not log in');
    t.equal((await post('/console/api/login', { partnerId: 999, secret: 'sample-admin-secret-309' })).status, 401, 'unknown partner');
    t.equal((await post('/console/api/login', { partnerId: 'x', secret: 3 })).status, 400, 'bad body');
    t.equal((await fetch(s.url + '/console/api/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{' })).status, 400, 'broken JSON');
    const ok = await post('/console/api/login', { partnerId: '309', secret: 'sample-admin-secret-309' });
    t.equal(ok.status, 200);
    t.equal(ok.headers.get('cache-control'), 'no-store');
    const { ks, partnerId, expiry } = await ok.json();
    t.equal(partnerId, 309);
    t.ok(expiry > now + 3600);
    const session = await (await get('/console/api/session', { 'x-kaltura-ks': ks })).json();
    t.match(session, { partnerId: 309, partnerName: 'Sample Partner', userId: 'kdeliver-console' });
  });

  const login = async (partnerId: number) => (await (await post('/console/api/login', { partnerId, secret: `sample-admin-secret-${partnerId}` })).json()).ks as string;
  const ks309 = await login(309);

  t.test('catalog view: entries, flavors, rules, no secrets', async (t) => {
    const res = await get('/console/api/catalog', { 'x-kaltura-ks': ks309 });
    t.equal(res.status, 200);
    const text = await res.text();
    t.notMatch(text, /sample-(admin|user)-secret|sample-akamai-key|PRIVATE KEY/, 'no secrets in the view');
    const view = JSON.parse(text);
    t.match(view.partner, { id: 309, name: 'Sample Partner' });
    const byId = new Map(view.entries.map((e: { id: string }) => [e.id, e]));
    t.ok(byId.has('1_rcit0qgs') && byId.has('1_kssecure') && byId.has('1_deleted0'), 'partner 309 entries, deleted ones too');
    t.notOk(byId.has('1_secure01'), 'another partner\'s entry is not shown');
    const main = byId.get('1_rcit0qgs') as { flavors: { id: string; flavorParamsId: number }[] };
    t.same(main.flavors.map((f) => f.id).sort(), ['1_f0rcit00', '1_f1rcit00', '1_f2rcit00', '1_f3rcit00', '1_f4rcit00']);
    t.ok((byId.get('1_iponly00') as { accessControl: { rules: unknown[] } }).accessControl.rules.length > 0, 'access rules shown');
    t.ok(view.deliveryProfiles.some((d: { id: number }) => d.id === 1001));
  });

  const trace = async (url: string, ks = ks309) => {
    const r = await post('/console/api/trace', { url }, { 'x-kaltura-ks': ks });
    return { status: r.status, body: await r.json() };
  };
  const pm = '/p/309/sp/30900/playManifest/entryId';

  t.test('trace of a URL that plays', async (t) => {
    const { status, body } = await trace(`${pm}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`);
    t.equal(status, 200);
    t.equal(body.plays, true);
    t.equal(body.result.profile.id, 1001, 'the default HLS packager profile');
    t.ok(body.result.flavors.length >= 3);
    const stages = new Set(body.trace.map((s: { stage: string }) => s.stage));
    for (const st of ['request', 'entry', 'selection', 'render']) t.ok(stages.has(st), `stage ${st} in the trace`);
    const sel = body.trace.find((s: { stage: string; data?: unknown }) => s.stage === 'selection' && s.data);
    t.ok(sel, 'selection step with its data (flavors considered and dropped)');
    const get1 = await get(`/console/api/trace?url=${encodeURIComponent(`${pm}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`)}`, { 'x-kaltura-ks': ks309 });
    t.equal(get1.status, 200, 'GET form of the trace endpoint');
    t.equal((await get1.json()).plays, true);
  });

  t.test('trace of blocked entries names the rule; the console KS grants nothing', async (t) => {
    const ks = await trace(`${pm}/1_kssecure/format/applehttp/protocol/http/a.m3u8`);
    t.equal(ks.body.plays, false, 'the admin KS of the console is not used for the traced request');
    t.match(ks.body.error, { code: 3, name: 'ACCESS_CONTROL_RESTRICTED', httpStatus: 403 });
    t.equal(ks.body.firedRules.length, 1);
    t.match(JSON.stringify(ks.body.firedRules[0].rule), /authenticated/, 'the session rule');
    t.ok(ks.body.trace.some((s: { stage: string }) => s.stage === 'access'), 'an access step');

    const ip = await trace(`${pm}/1_iponly00/format/url/protocol/http/a.mp4`);
    t.equal(ip.body.plays, false);
    t.equal(ip.body.error.code, 3);
    t.match(JSON.stringify(ip.body.firedRules), /10\.0\.0\.0\/8/, 'the IP rule with its allow-list');

    const lim = await trace(`${pm}/1_flavlim0/format/applehttp/protocol/http/a.m3u8`);
    t.equal(lim.body.plays, true);
    t.equal(lim.body.result.flavors.length, 1, 'limit-flavors rule: one flavor left');

    const del = await trace(`${pm}/1_deleted0/format/url/a.mp4`);
    t.match(del.body.error, { code: 1 });
    const bad = await trace(`${pm}/1_rcit0qgs/format/url/maxBitrate/abc/a.mp4`);
    t.equal(bad.status, 200);
    t.equal(bad.body.plays, false);
  });

  t.test('trace refuses what it should', async (t) => {
    t.equal((await trace('/p/309/sp/30900/serveFlavor/entryId/x')).status, 400, 'not a playManifest URL');
    t.equal((await trace('')).status, 400, 'empty');
    t.equal((await trace('/p/309/playManifest/' + 'a/'.repeat(5000))).status, 400, 'too long');
    const other = await trace('/p/310/sp/31000/playManifest/entryId/1_secure01/format/url/a.mp4');
    t.equal(other.status, 403, 'a partner-309 KS cannot trace partner 310');
    t.same(other.body, { message: 'the URL names partner 310; this KS is of partner 309' });
    // the partner's own URL prefix with another partner's entry: playManifest finds the entry by id
    // alone, so the trace would show partner 310's entry, steps and rules to partner 309's admin
    const foreign = await trace('/p/309/sp/30900/playManifest/entryId/1_secure01/format/url/a.mp4');
    t.equal(foreign.status, 403, 'a partner-309 KS cannot trace partner 310\'s entry under /p/309');
    t.same(foreign.body, { message: 'entry 1_secure01 is not of partner 309, whose KS this is' });
    const ks310 = await login(310);
    const secure = await trace('/p/310/sp/31000/playManifest/entryId/1_secure01/format/url/protocol/http/a.mp4', ks310);
    t.equal(secure.status, 200);
    t.match(secure.body.error, { code: 3 }, 'enforce-encryption over plain HTTP');
    t.equal((await post('/console/api/trace', { url: `${pm}/1_rcit0qgs/format/url/a.mp4` })).status, 401, 'needs a KS');
    const r = await post('/console/api/trace', { url: 42 }, { 'x-kaltura-ks': ks309 });
    t.equal(r.status, 400, 'a URL that is not a string');
    const pct = await trace(`${pm}/1_rcit0qgs/format/%ZZ/a.mp4`);
    t.equal(pct.status, 200, 'malformed percent-encoding is explained, not a 500');
    t.match(pct.body.error, { code: 25 });
    const dots = await trace('/p/309/sp/30900/playManifest/entryId/..%2F..%2Fetc/format/url/a.mp4');
    t.equal(dots.status, 200);
    t.equal(dots.body.plays, false, 'an encoded slash is refused');
  });
});

t.test('another partner\'s URL is refused before the catalog is read', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-console-trace-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const config = loadConfig({ KDELIVER_DATA_DIR: dir, KDELIVER_LOG_LEVEL: 'silent' });
  const catalog = await openCatalog(config);
  // a closed catalog throws on any use: only a trace that never reaches it can answer
  sqliteDb(catalog).close();
  const ctx = { catalog, config, now: Math.floor(Date.now() / 1000), baseUrl: 'http://127.0.0.1', partnerId: 309 };
  const input = (url: string) => ({ url, clientIp: '127.0.0.1', isHttps: false, headers: {}, country: () => null });
  t.same(await tracePlayManifest(ctx, input('/p/310/sp/31000/playManifest/entryId/1_secure01/format/url/a.mp4')),
    { status: 403, message: 'the URL names partner 310; this KS is of partner 309' });
  await t.rejects(tracePlayManifest(ctx, input('/p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/url/a.mp4')), 'the own partner\'s URL is traced (and meets the closed catalog)');
});

t.test('a partner with more entries than the view lists is told how many there are', async (t) => {
  const s = await startServer(t);
  const now = Math.floor(Date.now() / 1000);
  const before = (await s.app.catalog.listEntries({ partnerId: 309, includeDeleted: true }, 1, 1)).totalCount;
  for (let i = 0; i < 500; i++) {
    await s.app.catalog.ingest.createEntry({ id: `0_many${String(i).padStart(4, '0')}`, partnerId: 309, name: `many ${i}`, status: 2, mediaType: 1, now });
  }
  const ks = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 600, now });
  const r = await fetch(`${s.url}/console/api/catalog`, { headers: { 'x-kaltura-ks': ks } });
  const view = (await r.json()) as { entries: unknown[]; entriesTotal: number };
  t.equal(view.entries.length, 500, 'the view lists 500');
  t.equal(view.entriesTotal, before + 500, 'and says how many there are');
});
