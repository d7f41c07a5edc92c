// playManifest answers Kaltura's error 7 (INVALID_KS, "ks is not valid") for several different
// refusals of a KS; the message says which, so a person can tell a KS restricted to other URLs
// (urirestrict) from one that was ended (session.end), one that made all its actions
// (actionslimit), one that cannot be read and one that its partner did not sign.
import t from 'tap';
import { generateKs } from '../../src/access/ks.js';
import { startServer } from '../helpers/server.js';

const srv = await startServer(t);
const ks = (privileges: string, secret = 'sample-admin-secret-309') =>
  generateKs({ partnerId: 309, secret, type: 0, userId: `viewer-${privileges.length}-${Math.random()}`, expiry: 3600, privileges, version: 2, now: Math.floor(Date.now() / 1000) });
const manifest = (k: string) => `/p/309/sp/30900/playManifest/entryId/1_kssecure/format/applehttp/protocol/http/ks/${k}/a.m3u8`;

async function refusal(path: string): Promise<{ status: number; code: string | null; body: string }> {
  const r = await fetch(srv.url + path);
  return { status: r.status, code: r.headers.get('x-kaltura-error-code') ?? r.headers.get('x-kaltura')?.match(/error-(\d+)/)?.[1] ?? null, body: await r.text() };
}

t.test('each error 7 says why the KS was refused', async (t) => {
  const cases: Array<[string, string, RegExp]> = [
    ['a KS restricted to other URLs', ks('sview:1_kssecure,urirestrict:/p/309/sp/30900/raw/*'), /ks is not valid, the KS may be used only at other URLs \(its urirestrict privilege\)/],
    ['a KS that cannot be read', 'not-a-ks', /ks is not valid, the KS cannot be read/],
    ['a KS its partner did not sign', ks('sview:1_kssecure', 'not-the-secret'), /ks is not valid, the KS is not signed by its partner/],
  ];
  for (const [what, k, why] of cases) {
    const r = await refusal(manifest(k));
    t.equal(r.status, 403, `${what}: 403`);
    t.equal(r.code, '7', `${what}: error 7`);
    t.match(r.body, why, `${what}: ${r.body.slice(0, 160)}`);
  }
});

t.test('a KS ended with session.end is refused as ended', async (t) => {
  const k = ks('sview:1_kssecure');
  t.equal((await refusal(manifest(k))).status, 200, 'it plays before');
  const end = await fetch(`${srv.url}/api_v3/service/session/action/end?format=1&ks=${k}`);
  t.equal(end.status, 200);
  await end.arrayBuffer();
  const r = await refusal(manifest(k));
  t.equal(r.status, 403);
  t.equal(r.code, '7');
  t.match(r.body, /ks is not valid, the KS was ended \(session\.end\) or revoked/, r.body.slice(0, 160));
});
