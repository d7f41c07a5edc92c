// Secrets sent to api_v3 (admin secrets, KS strings) in any of its URL forms never reach the log,
// while the requests themselves are logged.
import t from 'tap';
import { startLoggingServer } from '../helpers/server.js';
import { redactApiUrl } from '../../src/api/redact.js';

t.test('redactApiUrl', async (t) => {
  t.equal(redactApiUrl('/api_v3/service/session/action/start/secret/S3CR3T/partnerId/309'), '/api_v3/service/session/action/start/secret/[redacted]/partnerId/309');
  t.equal(redactApiUrl('/api_v3/index.php?service=multirequest&1:ks=AAA&2%3Aks=BBB&ks=CCC&x=1'), '/api_v3/index.php?service=multirequest&1:ks=[redacted]&2%3Aks=[redacted]&ks=[redacted]&x=1');
  t.equal(redactApiUrl('/api_v3/service/baseentry/action/get/entryId/1_x/ks/KKK?format=1'), '/api_v3/service/baseentry/action/get/entryId/1_x/ks/[redacted]?format=1');
  t.equal(redactApiUrl('/api_v3/index.php?service=multirequest&1[ks]=AAA&2%5Bks%5D=BBB&3%5bks%5d=CCC&ks[]=DDD&kss=1'), '/api_v3/index.php?service=multirequest&1[ks]=[redacted]&2%5Bks%5D=[redacted]&3%5bks%5d=[redacted]&ks[]=[redacted]&kss=1', 'PHP bracket names');
  t.equal(redactApiUrl('/api_v3/service/multirequest/1:ks/AAA/2[ks]/BBB/kss/1'), '/api_v3/service/multirequest/1:ks/[redacted]/2[ks]/[redacted]/kss/1', 'flattened path pairs');
});

t.test('the access log of api_v3 carries no secret', async (t) => {
  const { url, log } = await startLoggingServer(t);

  const secret = 'sample-admin-secret-309';
  const ks = await (await fetch(`${url}/api_v3/service/session/action/start/secret/${secret}/partnerId/309/type/2/format/1`)).json();
  t.type(ks, 'string');
  await fetch(`${url}/api_v3/index.php?service=session&action=start&secret=${secret}&partnerId=309&format=1`);
  await fetch(`${url}/api_v3/index.php?service=multirequest&1:service=baseentry&1:action=get&1:entryId=1_rcit0qgs&1:ks=${encodeURIComponent(ks)}&format=1`);
  await fetch(`${url}/api_v3/index.php?service=multirequest&1%3Aservice=baseentry&1%3Aaction=get&1%3AentryId=1_rcit0qgs&1%3Aks=${encodeURIComponent(ks)}&format=1`);
  await fetch(`${url}/api_v3/service/baseentry/action/get/entryId/1_rcit0qgs/ks/${ks}/format/1`);
  await fetch(`${url}/api_v3/index.php?service=multirequest&1[service]=baseentry&1[action]=get&1[entryId]=1_rcit0qgs&1[ks]=${encodeURIComponent(ks)}&format=1`);
  await fetch(`${url}/api_v3/index.php?service=multirequest&1%5Bservice%5D=baseentry&1%5Baction%5D=get&1%5BentryId%5D=1_rcit0qgs&1%5Bks%5D=${encodeURIComponent(ks)}&format=1`);
  await fetch(`${url}/api_v3/service/baseentry/action/get`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ ks, entryId: '1_rcit0qgs', format: 1 }) });
  await new Promise((r) => setTimeout(r, 100));
  t.ok((log().match(/\/api_v3\//g) ?? []).length >= 6, 'the requests are logged');
  t.notOk(log().includes(secret), 'no admin secret in the log');
  t.notOk(log().includes(ks) || log().includes(encodeURIComponent(ks)), 'no KS in the log');
});

t.test("session.get's session, a whole KS, is not logged; the service named session still is", async (t) => {
  t.equal(redactApiUrl('/api_v3/service/session/action/get/session/KKK/format/1'), '/api_v3/service/session/action/get/session/[redacted]/format/1');
  t.equal(redactApiUrl('/api_v3/index.php?service=session&action=get&session=KKK&format=1'), '/api_v3/index.php?service=session&action=get&session=[redacted]&format=1');
  t.equal(redactApiUrl('/api_v3/service/multirequest/1:service/session/1:action/get/1:session/KKK'), '/api_v3/service/multirequest/1:service/session/1:action/get/1:session/[redacted]');
  t.equal(redactApiUrl('/api_v3/service/multirequest/1[service]/session/1[action]/get/1[session]/KKK'), '/api_v3/service/multirequest/1[service]/session/1[action]/get/1[session]/[redacted]');
  t.equal(redactApiUrl('/api_v3/index.php?service=multirequest&1[session]=KKK&2%3Asession=LLL'), '/api_v3/index.php?service=multirequest&1[session]=[redacted]&2%3Asession=[redacted]');

  const { url, log } = await startLoggingServer(t);
  const start = (user: string) => fetch(`${url}/api_v3/service/session/action/start`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ secret: 'sample-admin-secret-309', partnerId: 309, type: 2, userId: user, format: 1 }) }).then((r) => r.json());
  const ks: string = await start('caller');
  const described: string = await start('described');
  const q = `ks=${encodeURIComponent(ks)}&session=${encodeURIComponent(described)}&format=1`;
  t.match(await (await fetch(`${url}/api_v3/service/session/action/get?${q}`)).json(), { objectType: 'KalturaSessionInfo', userId: 'described' });
  await fetch(`${url}/api_v3/service/session/action/get/session/${described}/ks/${ks}/format/1`);
  await new Promise((r) => setTimeout(r, 100));
  t.ok((log().match(/\/api_v3\/service\/session\/action\/get/g) ?? []).length >= 2, 'the requests are logged, service and action named');
  t.notOk(log().includes(described) || log().includes(encodeURIComponent(described)), 'no KS given as session in the log');
});

t.test('a secret sent to a URL no route takes is not logged either', async (t) => {
  // API v2 reads no path pairs, so /startsession/secret/… is a 404: its log line still must not hold the secret
  const { url, log } = await startLoggingServer(t);

  const secret = 'sample-admin-secret-309';
  const unrouted = [
    `/index.php/partnerservices2/startsession/secret/${secret}?partner_id=309`,
    `/index.php/partnerservices2/startsession/partner_id/309/adminSecret/${secret}`,
    `/api/service/session/action/start/secret/${secret}/partnerId/309`,
    `/nothing/here?request1_secret=${secret}`,
  ];
  for (const path of unrouted) t.equal((await fetch(url + path)).status, 404, path);
  await new Promise((r) => setTimeout(r, 100));
  t.ok((log().match(/startsession|\/nothing\//g) ?? []).length >= 3, 'the requests are logged');
  t.notOk(log().includes(secret), 'no admin secret in the log');
});

// Spellings no route reads as a KS (a name with brackets, an `=` percent-encoded) still carry one
// a client sent: the delivery URLs' log hides them too.
t.test("a KS under a name kdeliver does not read (ks[0]=, ks%3D) is not logged either", async (t) => {
  const { redactUrl } = await import('../../src/log.js');
  t.equal(redactUrl('/p/309/a.m3u8?x=1&ks%3DdjJ8MzA5&y=2'), '/p/309/a.m3u8?x=1&ks%3D[redacted]&y=2');
  t.equal(redactUrl('/p/309/a.m3u8?ks[0]=djJ8&kt%5B%5D=abc&kss=1'), '/p/309/a.m3u8?ks[0]=[redacted]&kt%5B%5D=[redacted]&kss=1');
  const { url, log } = await startLoggingServer(t);
  const ks = await (await fetch(`${url}/api_v3/service/session/action/start/secret/sample-admin-secret-309/partnerId/309/type/0/format/1`)).json();
  const pm = `${url}/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`;
  await fetch(`${pm}?playSessionId=1&ks%3D${ks}`);
  await fetch(`${pm}?ks[0]=${ks}`);
  await new Promise((r) => setTimeout(r, 100));
  t.ok((log().match(/playManifest/g) ?? []).length >= 2, 'the requests are logged');
  t.notOk(log().includes(ks), 'no KS in the log');
});
