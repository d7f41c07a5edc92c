// A partner may have admin secrets besides its primary one (Kaltura's enabled additional admin
// secrets, migration 16): each verifies KSs and starts sessions, on every path that checks a KS
// (api_v3, API v2, playManifest, the console), and an ADMIN session started with one is signed
// with that one, as Kaltura's session.start signs it; a USER session is signed with the primary.
// Removing a secret stops the KSs it signed at the next request, though the server had verified
// and kept them (src/access/ks.ts keys its kept verifications on the secrets).
//
// And a KS whose privileges carry `downloadasset` comes back the same from session.start (api_v3
// and API v2's startsession) within a 5-minute window, so the URL it rides in can be cached.
import t from 'tap';
import { KsError, parseKs, verifyKs } from '../../src/access/ks.js';
import { startServer } from '../helpers/server.js';
import { kaltura } from '../helpers/kaltura-client.js';

const PRIMARY = 'sample-admin-secret-309';
const SECOND = 'second-admin-secret-309-rotation';
// a fixed clock one second into a 5-minute window (a KS's expiry is checked against it)
const WINDOW = Math.ceil(Date.now() / 1000 / 300) * 300;
let clock = WINDOW + 1;
const srv = await startServer(t, { now: () => clock });

const cfg = new kaltura.Configuration();
cfg.serviceUrl = srv.url;
cfg.setLogger({ log() {}, error() {}, debug() {} });
const client = new kaltura.Client(cfg);
const settle = <T>(p: Promise<T>): Promise<{ ok: T } | { code: string; message: string }> =>
  p.then((ok) => ({ ok }), (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
const start = (secret: string, type: number, userId = 'ops', privileges = '', expiry = 3600): Promise<string> =>
  kaltura.services.session.start(secret, userId, type, 309, expiry, privileges).execute(client);
/** baseEntry.get under `ks`: the entry id, or the API error. */
const getEntry = (ks: string) => {
  const c = new kaltura.Client(cfg);
  c.setKs(ks);
  return settle(kaltura.services.baseEntry.get('1_rcit0qgs').execute(c).then((e: { id: string }) => e.id));
};
const signedBy = (ks: string, secret: string): boolean => {
  try {
    verifyKs(parseKs(ks), { id: 309, adminSecret: secret }, { now: clock });
    return true;
  } catch (e) {
    if (e instanceof KsError) return false;
    throw e;
  }
};
const v2 = async (action: string, query: string): Promise<any> =>
  JSON.parse(await (await fetch(`${srv.url}/index.php/partnerservices2/${action}?format=1&${query}`)).text());
const playManifest = async (ks: string): Promise<string | null> => {
  const r = await fetch(`${srv.url}/p/309/sp/0/playManifest/entryId/1_kssecure/format/url/protocol/http/ks/${ks}/a.mp4`, { redirect: 'manual' });
  return r.status === 302 ? 'redirect' : r.headers.get('x-kaltura');
};

t.test('an additional admin secret starts sessions and its KSs pass every check, until it is removed', async (t) => {
  t.equal(await srv.app.catalog.addAdminSecret(309, { secret: SECOND }), SECOND);
  t.same((await srv.app.catalog.getPartner(309))?.additionalAdminSecrets, [SECOND]);

  const admin = await start(SECOND, kaltura.enums.SessionType.ADMIN);
  t.ok(signedBy(admin, SECOND) && !signedBy(admin, PRIMARY), 'an ADMIN session started with it is signed with it');
  const user = await start(SECOND, kaltura.enums.SessionType.USER, 'viewer', 'sview:1_kssecure');
  t.ok(signedBy(user, PRIMARY) && !signedBy(user, SECOND), 'a USER session is signed with the primary secret');
  const v2admin = (await v2('startsession', `partner_id=309&secret=${SECOND}&admin=2&uid=ops`)).result.ks as string;
  t.ok(signedBy(v2admin, SECOND), 'API v2 startsession: the same');
  const byPrimary = await start(PRIMARY, kaltura.enums.SessionType.ADMIN);
  t.ok(signedBy(byPrimary, PRIMARY), 'the primary secret signs its own sessions');

  t.same(await getEntry(admin), { ok: '1_rcit0qgs' }, 'api_v3 takes the KS it signed');
  t.same(await getEntry(admin), { ok: '1_rcit0qgs' }, 'again (a kept verification)');
  t.match(await v2('getentry', `ks=${encodeURIComponent(v2admin)}&entry_id=1_rcit0qgs`), { result: { entry: { id: '1_rcit0qgs' } } }, 'API v2 takes it');
  t.equal(await playManifest(admin), 'redirect', 'playManifest plays an entry with rules for it');
  const login = await fetch(`${srv.url}/console/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partnerId: 309, secret: SECOND }),
  });
  t.equal(login.status, 200, 'the console logs in with it');
  const consoleKs = ((await login.json()) as { ks: string }).ks;
  t.ok(signedBy(consoleKs, SECOND), "and signs the console's KS with it");

  await srv.app.catalog.removeAdminSecret(309, SECOND);
  t.same((await srv.app.catalog.getPartner(309))?.additionalAdminSecrets, []);
  t.match(await getEntry(admin), { code: 'INVALID_KS' }, 'removed: its KS is refused at once, kept verification or not');
  t.match(await v2('getentry', `ks=${encodeURIComponent(v2admin)}&entry_id=1_rcit0qgs`), { error: [{ code: 'INTERNAL_SERVER_ERROR', desc: 'Internal server error INVALID_STR' }] },
    'by API v2 too (its answer to a KS that does not verify)');
  t.equal(await playManifest(admin), 'error-7', 'and by playManifest (INVALID_KS)');
  t.match(await settle(start(SECOND, kaltura.enums.SessionType.ADMIN)), { code: 'START_SESSION_ERROR' }, 'it starts no session');
  const refusedLogin = await fetch(`${srv.url}/console/api/login`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partnerId: 309, secret: SECOND }),
  });
  t.equal(refusedLogin.status, 401, 'nor a console login');
  t.same(await getEntry(user), { ok: '1_rcit0qgs' }, 'the USER session it started was signed with the primary: it goes on');
  t.same(await getEntry(byPrimary), { ok: '1_rcit0qgs' }, "the primary secret's KSs go on");
});

t.test('rotation: a new primary secret signs from then on, the old one still verifies until removed', async (t) => {
  const before = await start(PRIMARY, kaltura.enums.SessionType.ADMIN);
  const fresh = await srv.app.catalog.addAdminSecret(309, { primary: true });
  t.match(fresh, /^[0-9a-f]{32}$/, 'a random secret');
  t.teardown(async () => {
    // the sample partner's secret is a contract of the other tests of this process
    await srv.app.catalog.addAdminSecret(309, { secret: PRIMARY, primary: true });
    await srv.app.catalog.removeAdminSecret(309, fresh);
  });
  const p = (await srv.app.catalog.getPartner(309))!;
  t.equal(p.adminSecret, fresh);
  t.same(p.additionalAdminSecrets, [PRIMARY], 'the old primary is an additional secret now');
  t.same(await getEntry(before), { ok: '1_rcit0qgs' }, 'a KS the old primary signed still verifies');
  const user = await start(PRIMARY, kaltura.enums.SessionType.USER);
  t.ok(signedBy(user, fresh), 'a USER session is signed with the new primary, whatever secret started it');
  await t.rejects(srv.app.catalog.removeAdminSecret(309, fresh), /primary admin secret/, 'the primary cannot be removed');
  await srv.app.catalog.removeAdminSecret(309, PRIMARY);
  t.match(await getEntry(before), { code: 'INVALID_KS' }, 'the old primary removed: its KSs are refused');
  t.same(await getEntry(user), { ok: '1_rcit0qgs' });
});

t.test('a downloadasset KS comes back the same within 5 minutes, from api_v3 and API v2, and verifies', async (t) => {
  clock = WINDOW + 1;
  const privileges = 'downloadasset:1_rcit0qgs';
  const first = await start(PRIMARY, kaltura.enums.SessionType.USER, 'dl', privileges);
  clock = WINDOW + 299;
  t.equal(await start(PRIMARY, kaltura.enums.SessionType.USER, 'dl', privileges), first, 'the same KS later in the window');
  const viaV2 = (await v2('startsession', `partner_id=309&secret=${PRIMARY}&uid=dl&expiry=3600&privileges=${privileges}`)).result.ks;
  t.equal(viaV2, first, 'and from API v2 startsession');
  const info = await (await fetch(`${srv.url}/api_v3/service/session/action/get?format=1&ks=${encodeURIComponent(first)}`)).json() as Record<string, unknown>;
  t.match(info, { partnerId: 309, sessionType: 0, userId: 'dl', privileges, expiry: WINDOW + 3900 }, 'it verifies; its expiry rounded up to 5 minutes');
  t.same(await getEntry(first), { ok: '1_rcit0qgs' }, 'and is taken by api_v3');
  clock = WINDOW + 301;
  t.not(await start(PRIMARY, kaltura.enums.SessionType.USER, 'dl', privileges), first, 'the next window: another KS');
  t.not(await start(PRIMARY, kaltura.enums.SessionType.USER, 'dl', 'download:1_rcit0qgs'), await start(PRIMARY, kaltura.enums.SessionType.USER, 'dl', 'download:1_rcit0qgs'),
    'without downloadasset each KS is new');
});
