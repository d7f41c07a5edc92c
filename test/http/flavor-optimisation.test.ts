// The partner setting that turns off redundant-flavor optimisation (Kaltura's
// FEATURE_DISABLE_FLAVORS_OPTIMIZATION, `disableFlavorsOptimization` in the library file): with it
// playManifest keeps a flavor that a larger one within 5 % of its bitrate makes redundant, and a
// change of the setting reaches answers the cache kept.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { importLibrary } from '../../src/catalog/library.js';
import { describeCatalog } from '../../src/catalog/export.js';
import { sqliteDb } from '../helpers/sqlite.js';

const s = await startServer(t);
const db = sqliteDb(s.app.catalog);
const PM = `${s.url}/p/309/sp/0/playManifest/entryId/1_rcit0qgs`;

// a near twin of the 720p flavor (1335 kbps): same frame size, 1300 kbps, within 5 %
const row = db.prepare("SELECT * FROM flavor_assets WHERE id = '1_f3rcit00'").get() as Record<string, unknown>;
const twin = { ...row, id: '1_f5rcit00', bitrate: 1300 };
const cols = Object.keys(twin);
db.prepare(`INSERT INTO flavor_assets (${cols.join(',')}) VALUES (${cols.map((c) => `@${c}`).join(',')})`).run(twin);

const variants = async (path: string) => {
  const r = await fetch(PM + path);
  t.equal(r.status, 200, path);
  return (await r.text()).split('\n').filter((l) => l.startsWith('http')).map((l) => /flavorId\/([^/]+)/.exec(l)?.[1]);
};
const setting = (on: boolean) => db.prepare('UPDATE partners SET disable_flavors_optimization = ? WHERE id = 309').run(on ? 1 : 0);

t.test('by default the redundant twin is dropped', async (t) => {
  t.same(await variants('/format/applehttp/protocol/http/a.m3u8'), ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00']);
});

t.test('with the partner setting on, every flavor stays; off again, the twin goes', async (t) => {
  setting(true);
  t.same(await variants('/format/applehttp/protocol/http/a.m3u8'), ['1_f1rcit00', '1_f2rcit00', '1_f5rcit00', '1_f3rcit00'], 'applehttp');
  const json = await (await fetch(`${PM}/format/mpegdash/protocol/http/responseFormat/json/a.json`)).json() as { flavors: { url: string }[] };
  t.match(json.flavors.map((f) => f.url).join(' '), /flavorId\/1_f,1,2,5,3,rcit00\//, 'mpegdash: the twin in the urlset');
  setting(false);
  t.same(await variants('/format/applehttp/protocol/http/a.m3u8'), ['1_f1rcit00', '1_f2rcit00', '1_f3rcit00'], 'the kept answer did not outlive the change');
});

t.test('the console trace says the optimisation is off', async (t) => {
  setting(true);
  t.teardown(() => setting(false));
  const ks = await (await fetch(`${s.url}/api_v3/service/session/action/start`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ format: 1, secret: 'sample-admin-secret-309', partnerId: 309, type: 2 }),
  })).json() as string;
  const url = '/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8';
  const trace = await (await fetch(`${s.url}/console/api/trace?url=${encodeURIComponent(url)}`, { headers: { 'x-kaltura-ks': ks } })).json() as { trace: { message: string }[] };
  t.ok(trace.trace.some((st) => /redundant-flavor optimisation off/.test(st.message)));
});

t.test('the library file sets it and an export keeps it', async (t) => {
  await importLibrary(s.app.catalog, {
    version: 1,
    partners: [{ id: 311, name: 'No optimisation', adminSecret: 'admin-secret-311', userSecret: 'user-secret-311', disableFlavorsOptimization: true }],
  }, s.config.mediaRoot, s.config.mediaRoot);
  t.equal((await s.app.catalog.getPartner(311))?.disableFlavorsOptimization, true);
  t.equal((await s.app.catalog.getPartner(309))?.disableFlavorsOptimization, false);
  const exported = (await describeCatalog(s.app.catalog, s.config.mediaRoot)).library.partners ?? [];
  t.equal(exported.find((p) => p.id === 311)?.disableFlavorsOptimization, true, 'exported');
  t.notOk(exported.find((p) => p.id === 309)?.disableFlavorsOptimization, 'not written when off');
});
