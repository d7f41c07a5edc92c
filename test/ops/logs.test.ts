// Logs are JSON lines with request ids; playManifest lines carry partner, entry and error code;
// and no secret (KS, kt, partner secrets, console credentials) ever reaches them, whichever way a
// request carries it. The server is the real one, with the production logger options, writing
// into a buffer this test reads.
import t from 'tap';
import type { Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { loadConfig } from '../../src/config.js';
import { buildServer, loggerOptions } from '../../src/server.js';
import { generateKs } from '../../src/access/ks.js';
import { signPlayManifestUrl } from '../../src/access/kt.js';

/** A real server with the production logger options, its log lines written to `log()`. */
async function loggingServer(t: Test) {
  const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-logs-'));
  const config = loadConfig({ KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'info' });
  let out = '';
  const stream = new Writable({ write(chunk, _enc, cb) { out += chunk.toString(); cb(); } });
  const app = await buildServer({ config, logger: { ...(loggerOptions(config) as object), stream } });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
  t.teardown(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { app, config, base, log: () => out };
}

t.test('request logs: fields present, secrets absent', async (t) => {
  const { app, config, base, log } = await loggingServer(t);

  const now = Math.floor(Date.now() / 1000);
  const adminKs = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 3600, now, version: 2, privileges: 'sview:*' });
  const userKs = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 0, userId: 'viewer', expiry: 3600, now, privileges: 'sview:1_kssecure' });
  const pm = '/p/309/sp/30900/playManifest/entryId';
  const signed = signPlayManifestUrl(`${pm}/1_rcit0qgs/format/url/protocol/http/a.mp4`, config.urlTokenSecret, now + 600);
  const kt = /\/kt\/([^/?]+)/.exec(signed)![1];
  const get = (path: string, headers: Record<string, string> = {}) => fetch(base + path, { redirect: 'manual', headers });

  const answers = [
    await get(`${pm}/1_kssecure/format/url/protocol/http/ks/${userKs}/a.mp4`),
    await get(`${pm}/1_kssecure/format/applehttp/protocol/http/a.m3u8?ks=${encodeURIComponent(adminKs)}`),
    await get(`${pm}/1_kssecure/format/url/protocol/http/a.mp4`, { 'X-Kaltura-Ks': adminKs }),
    await get(`${pm}/1_kssecure/format/url/protocol/http/a.mp4`, { authorization: `Bearer ${adminKs}`, cookie: `ks=${adminKs}` }),
    await get(`${pm}/1_kssecure/format/url/protocol/http/a.mp4`),
    await get(signed),
    await get(`${pm}/1_rcit0qgs/format/url/protocol/http/kt/${kt}x/a.mp4`),
    await get(`/api_v3/service/session/action/start/format/1?secret=sample-admin-secret-309&partnerId=309&type=2`),
    await fetch(`${base}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partnerId: 309, secret: 'sample-admin-secret-309' }) }),
    await fetch(`${base}/console/api/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ partnerId: 309, secret: 'sample-user-secret-309' }) }),
    await get(`/console/api/trace?url=${encodeURIComponent(`${pm}/1_kssecure/format/url/ks/${userKs}/a.mp4?kt=${kt}`)}`, { 'X-Kaltura-Ks': adminKs }),
  ];
  t.equal(answers[0].status, 302, 'a user KS with sview plays');
  t.equal(answers[2].status, 302, 'an admin KS in the header plays');
  t.equal(answers[4].status, 403, 'no KS: refused');
  t.equal(answers[5].status, 302, 'a kt-signed URL plays');
  t.equal(answers[6].status, 403, 'a bad kt is refused');
  t.equal(answers[8].status, 200, 'console login with the admin secret');
  const consoleKs = (await answers[8].json()).ks as string;
  t.equal(answers[9].status, 401, 'console login with the user secret is refused');
  t.equal(answers[10].status, 200, 'trace endpoint');
  // the console KS in use, too
  t.equal((await get('/console/api/session', { 'X-Kaltura-Ks': consoleKs })).status, 200);
  await app.close();

  const secrets = {
    adminKs, userKs, consoleKs, kt, 'signed kt': /\/kt\/([^/?]+)/.exec(signed)![1],
    'admin secret': 'sample-admin-secret-309', 'user secret': 'sample-user-secret-309',
    'url token secret': config.urlTokenSecret, 'media url secret': config.mediaUrlSecret,
  };
  for (const [name, value] of Object.entries(secrets)) {
    t.notOk(log().includes(value), `${name} is not in the log`);
    // also not in the url-encoded or url-safe/standard base64 respelling
    t.notOk(log().includes(encodeURIComponent(value)), `${name} (url-encoded) is not in the log`);
    t.notOk(log().includes(value.slice(0, 24)), `no 24-character prefix of ${name} in the log`);
  }

  const lines = log().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  t.ok(lines.length >= 20, `${lines.length} JSON log lines`);
  const reqLines = lines.filter((l) => l.reqId !== undefined);
  t.ok(reqLines.length >= 20, 'request lines carry a request id');
  const pmLines = reqLines.filter((l) => typeof (l.req as { url?: string } | undefined)?.url === 'string'
    ? (l.req as { url: string }).url.includes('/playManifest') : false);
  const pmIds = new Set(pmLines.map((l) => l.reqId));
  t.equal(pmIds.size, 7, 'seven playManifest requests');
  for (const l of reqLines.filter((x) => pmIds.has(x.reqId))) {
    t.equal(l.partnerId, 309, `partner on "${l.msg}"`);
    t.match(l.entryId, /^1_(kssecure|rcit0qgs)$/, `entry on "${l.msg}"`);
    if (l.msg === 'request completed') t.type(l.code, 'number', 'error code on the completion line');
  }
  const completed = reqLines.filter((l) => pmIds.has(l.reqId) && l.msg === 'request completed');
  t.same(completed.map((l) => l.code).sort(), [0, 0, 0, 0, 27, 3, 3].sort(), 'codes: four served, one bad kt (27), two refused (3)');
});

// A key name may reach the server percent-encoded (`k%73` is `ks`, `s%65cret` is `secret`: RFC 3986
// calls them the same name), and the server honours it so; the logged URL must hide its value as well.
t.test('secret names spelled with percent-escapes are redacted too', async (t) => {
  const { app, base, log } = await loggingServer(t);
  const now = Math.floor(Date.now() / 1000);
  const adminKs = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 3600, now, version: 2, privileges: 'sview:*' });
  const pm = '/p/309/sp/30900/playManifest/entryId/1_kssecure/format/url/protocol/http';
  const get = (path: string) => fetch(base + path, { redirect: 'manual' });

  t.equal((await get(`${pm}/k%73/${adminKs}/a.mp4`)).status, 302, 'a KS under /k%73/ plays');
  t.equal((await get(`${pm}/a.mp4?k%73=${encodeURIComponent(adminKs)}`)).status, 302, 'a KS as ?k%73= plays');
  const listed = await get(`/api_v3/service/baseEntry/action/list?format=1&%6B%73=${encodeURIComponent(adminKs)}`);
  t.equal(listed.status, 200);
  t.type((await listed.json()).totalCount, 'number', 'api_v3 reads a KS as ?%6B%73=');
  const started = await get('/api_v3/service/session/action/start?format=1&partnerId=309&type=2&s%65cret=sample-admin-secret-309');
  const startedKs = await started.json();
  t.match(startedKs, /^djJ8/, 'session.start takes the secret as ?s%65cret=');
  t.equal((await get('/api_v3/service/user/action/loginByLoginId?format=1&partnerId=309&loginId=a@b.c&password=my-cms-password-1')).status, 200);
  t.equal((await get('/api_v3/service/partner/action/getSecrets?format=1&partnerId=309&adminEmail=a@b.c&cmsPassword=my-cms-password-2')).status, 200);
  await app.close();

  for (const [name, value] of Object.entries({ adminKs, startedKs, 'admin secret': 'sample-admin-secret-309', 'password': 'my-cms-password-1', 'cmsPassword': 'my-cms-password-2' })) {
    t.notOk(log().includes(value.slice(0, 24)), `${name} is not in the log`);
  }
  t.match(log(), /\/k%73\/\[redacted\]|\/ks\/\[redacted\]/, 'the path pair is shown redacted');
});

// A playManifest POST may name its entry in the body only (src/request/body.ts): the lines logged
// once the body is read (the refusal, playManifest, request completed) carry the entry the request
// model resolved, where they used to say entryId null; "incoming request" is logged before the body
// is read, so it has only what the URL says.
t.test('playManifest POST: the entry of the body on the request\'s lines', async (t) => {
  const { app, base, log } = await loggingServer(t);
  const pm = '/p/309/sp/30900/playManifest';
  const post = (path: string, type: string, body: string) => fetch(base + path, { method: 'POST', redirect: 'manual', headers: { 'content-type': type }, body });
  const b = 'kdeliverLogBoundary';
  const cases: [string, Response, string, number][] = [
    ['form', await post(`${pm}/a.m3u8`, 'application/x-www-form-urlencoded', 'entryId=1_rcit0qgs&format=applehttp&protocol=http'), '1_rcit0qgs', 0],
    ['JSON, the short alias', await post(`${pm}/a.mp4`, 'application/json', '{"e":"1_audio001","f":"url"}'), '1_audio001', 0],
    ['multipart, refused (3)', await post(`${pm}/format/url/a.mp4`, `multipart/form-data; boundary=${b}`, `--${b}\r\nContent-Disposition: form-data; name="entryId"\r\n\r\n1_kssecure\r\n--${b}--\r\n`), '1_kssecure', 3],
    ['the URL\'s entry wins over the body\'s', await post(`${pm}/entryId/1_rcit0qgs/format/url/a.mp4`, 'application/x-www-form-urlencoded', 'entryId=1_audio001'), '1_rcit0qgs', 0],
  ];
  for (const [what, r] of cases) t.ok(r.status === 200 || r.status === 302 || r.status === 403, `${what}: answered (${r.status})`);
  await app.close();
  const lines = log().trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
  const byReq = new Map<unknown, Record<string, unknown>[]>();
  for (const l of lines) if (l.reqId !== undefined) byReq.set(l.reqId, [...(byReq.get(l.reqId) ?? []), l]);
  const requests = [...byReq.values()].filter((ls) => ls.some((l) => l.msg === 'incoming request' && (l.req as { method?: string }).method === 'POST'));
  t.equal(requests.length, cases.length, 'one set of lines per POST');
  requests.forEach((ls, i) => {
    const [what, , entry, code] = cases[i];
    const incoming = ls.find((l) => l.msg === 'incoming request')!;
    const after = ls.filter((l) => l.msg !== 'incoming request');
    t.ok(after.some((l) => l.msg === 'request completed'), `${what}: completed`);
    for (const l of after) {
      t.equal(l.entryId, entry, `${what}: entry on "${l.msg}"`);
      t.equal(l.partnerId, 309, `${what}: partner on "${l.msg}"`);
    }
    t.equal(after.find((l) => l.msg === 'request completed')!.code, code, `${what}: code ${code}`);
    t.equal(incoming.entryId, what.startsWith('the URL') ? entry : null, `${what}: incoming request: the URL's entry only`);
  });
  // each key once per line: a rebound logger does not repeat entryId
  for (const raw of log().trim().split('\n')) t.ok((raw.match(/"entryId":/g) ?? []).length <= 1, 'entryId once a line');
});

// The completion line names the request it completes (method and URL, secrets hidden as on the
// incoming line): an operator who finds it by its status (a 500, a 403) or its time sees what was
// asked without looking up its request id. It used to carry the status and the time only.
t.test('the completion line says which request it completes, without its secrets', async (t) => {
  const { base, log } = await loggingServer(t);
  const now = Math.floor(Date.now() / 1000);
  const adminKs = generateKs({ partnerId: 309, secret: 'sample-admin-secret-309', type: 2, expiry: 3600, now, version: 2, privileges: 'sview:*' });
  const pm = '/p/309/sp/30900/playManifest/entryId';
  const asked: [string, string][] = [
    ['GET', `${pm}/1_kssecure/format/url/protocol/http/ks/${adminKs}/a.mp4`],
    ['GET', `${pm}/1_kssecure/format/url/protocol/http/a.mp4`],
    // asked twice: the second is answered from the kept answers, before routing (routes/http.ts sendEarly)
    ['GET', `${pm}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`],
    ['GET', `${pm}/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`],
    ['HEAD', `/api_v3/service/baseEntry/action/list?format=1&ks=${encodeURIComponent(adminKs)}`],
    ['GET', `/no/such/route/secret/sample-admin-secret-309`],
  ];
  for (const [method, path] of asked) await (await fetch(base + path, { method, redirect: 'manual' })).arrayBuffer();
  const lines = log().trim().split('\n').map((l) => JSON.parse(l) as { msg: string; reqId?: string; req?: { method: string; url: string }; res?: { statusCode: number; method?: string; url?: string } });
  const incoming = new Map(lines.filter((l) => l.msg === 'incoming request').map((l) => [l.reqId, l.req!]));
  const completed = lines.filter((l) => l.msg === 'request completed');
  t.equal(completed.length, asked.length, 'one completion line per request');
  for (const l of completed) {
    const req = incoming.get(l.reqId)!;
    t.ok(req, `${l.reqId}: its incoming line`);
    t.same({ method: l.res!.method, url: l.res!.url }, { method: req.method, url: req.url }, `${req.method} ${req.url} (${l.res!.statusCode}): the same method and URL on its completion line`);
  }
  t.same(completed.map((l) => l.res!.statusCode), [302, 403, 200, 200, 200, 404], 'the statuses of the requests asked');
  t.notOk(log().includes(adminKs.slice(0, 24)), 'the KS is not in the log');
  t.notOk(log().includes('sample-admin-secret-309'), 'the secret is not in the log');
});
