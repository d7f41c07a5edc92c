// The ClearKey licence URL opened with GET (a browser, curl without -X POST, a player set up for
// the wrong method) says the licence is asked with POST, in kdeliver's error form (X-Kaltura code,
// plain text, Allow), instead of "not a kdeliver URL"; it repeats no KS of the URL. A body over
// the licence's limit is refused in the same form (413, error 25).
import t from 'tap';
import { generateKs, ksForPath } from '../../src/access/ks.js';
import { startServer } from '../helpers/server.js';

const srv = await startServer(t);
const ks = ksForPath(generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId: 'viewer', expiry: 3600, privileges: 'sview:1_cenc0001', version: 2, now: Math.floor(Date.now() / 1000) }));

for (const path of [`/p/309/sp/30900/clearKeyLicense/entryId/1_cenc0001/ks/${ks}/license`, '/p/309/clearKeyLicense/entryId/1_cenc0001/license']) {
  t.test(`GET and HEAD ${path.replace(ks, '{ks}')}`, async (t) => {
    const r = await fetch(srv.url + path);
    const body = await r.text();
    t.equal(r.status, 405, body);
    t.equal(r.headers.get('allow'), 'POST, OPTIONS');
    t.match(r.headers.get('x-kaltura') ?? '', /error-25/);
    t.match(body, /POST/);
    t.notMatch(body, /not a kdeliver URL/);
    t.notOk(body.includes(ks), 'the KS is not repeated');
    const h = await fetch(srv.url + path, { method: 'HEAD' });
    t.equal(h.status, 405);
    t.equal(h.headers.get('allow'), 'POST, OPTIONS');
  });
}

t.test('POST still answers the licence', async (t) => {
  const r = await fetch(`${srv.url}/p/309/sp/30900/clearKeyLicense/entryId/1_cenc0001/ks/${ks}/license`, {
    method: 'POST', body: JSON.stringify({ kids: [Buffer.from('b0eb8a17323924b6d8d36875aacb0b48', 'hex').toString('base64url')], type: 'temporary' }),
  });
  t.equal(r.status, 200);
  t.match(await r.json(), { keys: [{ kty: 'oct' }] });
});

t.test('a body over the limit: 413 with error 25', async (t) => {
  const r = await fetch(`${srv.url}/p/309/sp/30900/clearKeyLicense/entryId/1_cenc0001/ks/${ks}/license`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: 'a'.repeat(100 * 1024),
  });
  const body = await r.text();
  t.equal(r.status, 413, body);
  t.match(r.headers.get('x-kaltura') ?? '', /error-25/);
  t.match(body, /error 25 BAD_QUERY: .*too large/);
});
