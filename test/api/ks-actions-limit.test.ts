// A KS with `actionslimit:N` (Kaltura's one-time and N-time sessions: its report download links
// carry one) makes N API actions and no more: each api_v3 call under it counts, each sub-request of
// a multirequest too, and so does each API v2 action that needs a ticket; the next is INVALID_KS
// with EXCEEDED_ACTIONS_LIMIT (-8). A value that is not a positive whole number is
// INVALID_ACTIONS_LIMIT. The answer cache never answers such a call from memory (it would go
// uncounted). playManifest does not count, as Kaltura's does not (/work/shared/reference/security.md
// 4.2: it checks a KS without its invalid_session row), so a player given such a KS still plays.
import t from 'tap';
import { startServer } from '../helpers/server.js';
import { kaltura, sampleAdminClient } from '../helpers/kaltura-client.js';

const ADMIN_SECRET = 'sample-admin-secret-309';

t.test('a KS with actionslimit makes that many API actions', async (t) => {
  const srv = await startServer(t);
  const { call } = await sampleAdminClient(srv.url);
  const limitedKs = (privileges: string, type = kaltura.enums.SessionType.USER): Promise<string> =>
    call(kaltura.services.session.start(ADMIN_SECRET, 'viewer', type, 309, 3600, privileges));
  const clientWith = (ks: string) => {
    const cfg = new kaltura.Configuration();
    cfg.serviceUrl = srv.url;
    cfg.setLogger({ log() {}, error() {}, debug() {} });
    const client = new kaltura.Client(cfg);
    client.setKs(ks);
    return (req: { execute(c: unknown): Promise<any> }): Promise<{ ok?: string; code?: string; message?: string }> => req.execute(client).then(
      (r: { id: string }) => ({ ok: r.id }),
      (e: { code: string; message: string }) => ({ code: e.code, message: e.message }));
  };

  await t.test('three calls, then EXCEEDED_ACTIONS_LIMIT; the same call asked again is counted each time', async (t) => {
    const use = clientWith(await limitedKs('actionslimit:3'));
    const get = () => use(kaltura.services.baseEntry.get('1_rcit0qgs'));
    t.same(await get(), { ok: '1_rcit0qgs' }, '1st');
    t.same(await get(), { ok: '1_rcit0qgs' }, '2nd (the answer cache would keep it now, for a KS without a limit)');
    t.same(await get(), { ok: '1_rcit0qgs' }, '3rd');
    const refused = await get();
    t.equal(refused.code, 'INVALID_KS', '4th: INVALID_KS');
    t.match(refused.message, /EXCEEDED_ACTIONS_LIMIT/);
    t.match(refused.message, /-8/);
    t.match(await get(), { code: 'INVALID_KS' }, 'and stays refused');
  });

  await t.test('an admin KS is counted too; another KS has its own count', async (t) => {
    const a = clientWith(await limitedKs('actionslimit:1', kaltura.enums.SessionType.ADMIN));
    const b = clientWith(await limitedKs('actionslimit:1', kaltura.enums.SessionType.ADMIN));
    t.same(await a(kaltura.services.baseEntry.get('1_rcit0qgs')), { ok: '1_rcit0qgs' });
    t.same(await b(kaltura.services.baseEntry.get('1_rcit0qgs')), { ok: '1_rcit0qgs' }, "b's count is not a's");
    t.match(await a(kaltura.services.baseEntry.get('1_rcit0qgs')), { code: 'INVALID_KS' });
    t.match(await b(kaltura.services.baseEntry.get('1_rcit0qgs')), { code: 'INVALID_KS' });
  });

  await t.test('each sub-request of a multirequest is an action', async (t) => {
    const ks = await limitedKs('actionslimit:2');
    const sub = { service: 'baseEntry', action: 'get', entryId: '1_rcit0qgs' };
    const r = await fetch(`${srv.url}/api_v3/service/multirequest?format=1`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ ks, 1: sub, 2: sub, 3: sub }),
    });
    const [one, two, three] = await r.json() as { id?: string; code?: string; message?: string }[];
    t.equal(one.id, '1_rcit0qgs');
    t.equal(two.id, '1_rcit0qgs');
    t.equal(three.code, 'INVALID_KS', 'the third sub-request is past the limit');
    t.match(three.message, /EXCEEDED_ACTIONS_LIMIT/);
  });

  await t.test('a limit that is not a positive whole number: INVALID_ACTIONS_LIMIT, on every call', async (t) => {
    for (const privileges of ['actionslimit:0', 'actionslimit:-2', 'actionslimit:two', 'actionslimit', 'sview:*,actionslimit:1.5']) {
      const use = clientWith(await limitedKs(privileges));
      t.same(await use(kaltura.services.baseEntry.get('1_rcit0qgs')), { code: 'INVALID_ACTIONS_LIMIT', message: 'Invalid actions limit' }, privileges);
      t.same(await use(kaltura.services.baseEntry.get('1_rcit0qgs')), { code: 'INVALID_ACTIONS_LIMIT', message: 'Invalid actions limit' }, `${privileges}, again`);
    }
  });

  await t.test('session.get of a limited KS is not an action under it', async (t) => {
    const { call: adminCall } = await sampleAdminClient(srv.url);
    const ks = await limitedKs('actionslimit:1');
    for (let i = 0; i < 3; i++) t.equal((await adminCall(kaltura.services.session.get(ks))).privileges, 'actionslimit:1');
    t.same(await clientWith(ks)(kaltura.services.baseEntry.get('1_rcit0qgs')), { ok: '1_rcit0qgs' }, 'its one action is still there');
  });

  await t.test('an API v2 action that needs a ticket is counted', async (t) => {
    const ks = await limitedKs('actionslimit:1', kaltura.enums.SessionType.ADMIN);
    const v2 = async () => (await fetch(`${srv.url}/index.php/partnerservices2/listentries?format=1&partner_id=309&ks=${encodeURIComponent(ks)}`)).json() as Promise<{ result: { count?: number }; error?: { code: string; desc: string }[] }>;
    const first = await v2();
    t.same(first.error ?? [], [], 'the first: no error (one action, though it lists through api_v3)');
    t.ok(Number(first.result.count) > 0, 'the first lists the entries');
    const second = await v2();
    t.equal(second.error?.[0]?.code, 'INVALID_KS');
    t.match(second.error?.[0]?.desc, /-8,EXCEEDED_ACTIONS_LIMIT/);
  });

  await t.test('an API v2 action that needs no ticket is counted too: its api_v3 calls run under the KS', async (t) => {
    const ks = await limitedKs('actionslimit:2', kaltura.enums.SessionType.ADMIN);
    // getuiconf (no ticket) reads a uiConf through api_v3 under the KS it is given
    for (let i = 0; i < 3; i++) await fetch(`${srv.url}/index.php/partnerservices2/getuiconf?format=1&partner_id=309&ui_conf_id=1&ks=${encodeURIComponent(ks)}`).then((r) => r.text());
    const use = clientWith(ks);
    t.match(await use(kaltura.services.baseEntry.get('1_rcit0qgs')), { code: 'INVALID_KS' }, 'its two actions were taken by getuiconf');
  });

  await t.test('playManifest does not count, as Kaltura does not', async (t) => {
    const ks = await limitedKs('sview:1_kssecure,actionslimit:1');
    t.same(await clientWith(ks)(kaltura.services.baseEntry.get('1_kssecure')), { ok: '1_kssecure' }, 'its one API action');
    for (let i = 0; i < 3; i++) {
      const r = await fetch(`${srv.url}/p/309/sp/30900/playManifest/entryId/1_kssecure/format/applehttp/protocol/http/ks/${ks}/a.m3u8`);
      t.equal(r.status, 200, `playManifest ${i + 1}`);
      t.match(await r.text(), /^#EXTM3U/);
    }
    t.match(await clientWith(ks)(kaltura.services.baseEntry.get('1_kssecure')), { code: 'INVALID_KS' }, 'the API still refuses it');
  });
});
