// api_v3 answers compressed for clients that accept gzip, and only for them: every answer (any
// format, errors, files, the schema, HEAD) when Accept-Encoding allows gzip, none when it does not
// (no header, identity, gzip;q=0, *;q=0, ...), always with Vary: Accept-Encoding. The schema
// (compressed once and kept) and a long list come out as the very bytes a one-shot gzip of the
// plain answer gives, with the same headers as before.
import t from 'tap';
import { request } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { apiSchemaXml } from '../../src/api/schema.js';
import { SERVICES } from '../../src/api/services/index.js';
import { acceptsGzip } from '../../src/request/accept-encoding.js';
import { startServer } from '../helpers/server.js';
import { rawRequest } from '../helpers/raw-http.js';

const GZIP_ALLOWED = ['gzip', 'gzip, deflate, br', 'GZIP', 'x-gzip', '*', 'br;q=1, gzip;q=0.5', 'deflate, *;q=0.1', 'gzip;q=0.5, identity;q=0.4', 'identity;q=0, gzip', ' gzip ; q=1.000 '];
const GZIP_REFUSED = [undefined, '', 'identity', 'br', 'deflate, br', 'gzip;q=0', 'gzip;q=0.000, *', '*;q=0', 'gzip;q=0.5, identity', 'gzip;q=0.2, identity;q=0.9', 'gzip;q=abc', 'gzip;q=2', 'identity;q=0'];

t.test('Accept-Encoding: what allows gzip', async (t) => {
  for (const h of GZIP_ALLOWED) t.equal(acceptsGzip(h), true, JSON.stringify(h));
  for (const h of GZIP_REFUSED) t.equal(acceptsGzip(h), false, JSON.stringify(h));
  t.equal(acceptsGzip(['br', 'gzip']), true, 'a header sent twice');
});

const GENERATED = 1_700_000_000;

t.test('gzip of the schema and of long lists', async (t) => {
  const s = await startServer(t, { now: () => GENERATED });
  // fetch() would undo the gzip: read the bytes as they travel
  const raw = (method: string, path: string, headers: Record<string, string> = {}, body?: string) =>
    new Promise<{ headers: Record<string, string | string[] | undefined>; body: Buffer }>((resolve, reject) => {
      const req = request(`${s.url}${path}`, { method, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });
  const gzip = { 'accept-encoding': 'gzip, deflate' };

  await t.test('the schema', async (t) => {
    const expected = Buffer.from(apiSchemaXml(SERVICES, GENERATED), 'utf8');
    const plain = await raw('GET', '/api_v3/api_schema.php');
    t.same(plain.body, expected);
    t.equal(plain.headers['content-encoding'], undefined);
    t.equal(plain.headers.vary, 'Accept-Encoding');
    t.equal(plain.headers['content-length'], String(expected.length));
    for (const round of ['first', 'second', 'third']) {
      const zipped = await raw('GET', '/api_v3/api_schema.php', gzip);
      t.equal(zipped.headers['content-encoding'], 'gzip', `${round} request`);
      t.equal(zipped.headers.vary, 'Accept-Encoding');
      t.equal(zipped.headers['content-type'], 'text/xml; charset=utf-8');
      t.equal(zipped.headers['access-control-allow-origin'], '*');
      t.equal(zipped.headers['content-length'], String(zipped.body.length));
      t.same(zipped.body, gzipSync(expected), `${round} request: the bytes a one-shot gzip gives`);
      t.same(gunzipSync(zipped.body), expected);
    }
    const head = await raw('HEAD', '/api_v3/api_schema.php', gzip);
    t.equal(head.headers['content-encoding'], 'gzip', 'HEAD: the headers of GET');
    t.equal(head.headers.vary, 'Accept-Encoding');
    t.equal(head.body.length, 0);
  });

  await t.test('a long list (a multirequest of lists)', async (t) => {
    const ksAnswer = await raw('POST', '/api_v3/service/session/action/start', { 'content-type': 'application/json' },
      JSON.stringify({ format: 1, secret: 'sample-admin-secret-309', partnerId: 309, type: 2, userId: 'admin' }));
    const ks = JSON.parse(ksAnswer.body.toString()) as string;
    const calls: Record<string, unknown> = { format: 1, ks };
    for (let i = 1; i <= 30; i++) calls[i] = { service: 'baseEntry', action: 'list', pager: { pageSize: 500 } };
    const body = JSON.stringify(calls);
    const json = { 'content-type': 'application/json' };
    const plain = await raw('POST', '/api_v3/service/multirequest', json, body);
    t.ok(plain.body.length > 200_000, `a long answer (${plain.body.length} bytes)`);
    t.equal(JSON.parse(plain.body.toString()).length, 30);
    t.equal(plain.headers['content-encoding'], undefined);
    const zipped = await raw('POST', '/api_v3/service/multirequest', { ...json, ...gzip }, body);
    t.equal(zipped.headers['content-encoding'], 'gzip');
    t.equal(zipped.headers.vary, 'Accept-Encoding');
    t.equal(zipped.headers['content-type'], 'application/json');
    t.equal(zipped.headers['cache-control'], 'no-cache, no-store, must-revalidate');
    t.equal(zipped.headers['content-length'], String(zipped.body.length));
    t.same(gunzipSync(zipped.body), plain.body, 'decodes to the plain answer');
    t.same(zipped.body, gzipSync(plain.body), 'the bytes a one-shot gzip gives');
  });

  await t.test('small answers are gzipped too', async (t) => {
    const ping = await raw('GET', '/api_v3/service/system/action/ping?format=1', gzip);
    t.equal(ping.headers['content-encoding'], 'gzip');
    t.equal(ping.headers.vary, 'Accept-Encoding');
    t.equal(gunzipSync(ping.body).toString(), 'true');
    t.equal(ping.headers['content-length'], String(ping.body.length));
  });
});

t.test('every api_v3 answer, gzipped exactly when Accept-Encoding allows it', async (t) => {
  const s = await startServer(t);
  const api = `${s.url}/api_v3`;
  const ks = JSON.parse((await rawRequest(`${api}/service/session/action/start?format=1&secret=sample-admin-secret-309&partnerId=309&type=2`)).body.toString()) as string;
  const ksq = `ks=${encodeURIComponent(ks)}`;
  const json = { 'content-type': 'application/json' };
  const ANSWERS: { what: string; path: string; method?: string; headers?: Record<string, string>; body?: string; expect: RegExp; type: RegExp }[] = [
    { what: 'JSON', path: '/service/system/action/ping?format=1', expect: /^true$/, type: /^application\/json/ },
    { what: 'XML (no format)', path: '/service/system/action/ping', expect: /^<\?xml .*<result>1<\/result>/, type: /^text\/xml/ },
    { what: 'PHP', path: '/service/system/action/ping?format=3', expect: /^b:1;$/, type: /^text\/plain/ },
    { what: 'JSONP', path: '/service/system/action/ping?format=9&callback=cb', expect: /^cb\(true\);$/, type: /^application\/javascript/ },
    { what: 'an API error in JSON', path: '/service/nope/action/x?format=1', expect: /"code":"SERVICE_DOES_NOT_EXISTS"/, type: /^application\/json/ },
    { what: 'an API error in XML', path: '/service/baseentry/action/get?entryId=1_nope&' + ksq, expect: /<error><code>ENTRY_ID_NOT_FOUND<\/code>/, type: /^text\/xml/ },
    { what: 'a rejected JSONP callback', path: '/service/system/action/ping?format=9&callback=a(1)', expect: /"objectType":"KalturaAPIException"/, type: /^application\/json/ },
    { what: 'a list', path: `/service/baseentry/action/list?format=1&${ksq}`, expect: /"objectType":"KalturaBaseEntryListResponse"/, type: /^application\/json/ },
    { what: 'a multirequest (JSON body)', path: '/service/multirequest', method: 'POST', headers: json, body: JSON.stringify({ format: 1, 1: { service: 'system', action: 'ping' }, 2: { service: 'nope', action: 'x' } }), expect: /^\[true,\{"code":"SERVICE_DOES_NOT_EXISTS"/, type: /^application\/json/ },
    { what: 'a file (caption serve)', path: '/service/caption_captionasset/action/serve?captionAssetId=1_c1alt000', expect: /-->/, type: /^text\// },
    { what: 'the schema', path: '/api_schema.php', expect: /^<\?xml version="1.0" encoding="utf-8"\?>\s*<xml apiVersion=/, type: /^text\/xml/ },
    { what: 'an unreadable body', path: '/service/system/action/ping?format=1', method: 'POST', headers: json, body: '{broken}', expect: /"code":"INVALID_REQUEST_BODY"/, type: /^application\/json/ },
  ];
  for (const a of ANSWERS) {
    const plain = await rawRequest(`${api}${a.path}`, { method: a.method, headers: a.headers, body: a.body });
    t.equal(plain.status, 200, `${a.what}: HTTP 200`);
    t.match(plain.body.toString(), a.expect, `${a.what}: the plain answer`);
    t.match(String(plain.headers['content-type']), a.type, `${a.what}: its type`);
    for (const accept of GZIP_ALLOWED) {
      const r = await rawRequest(`${api}${a.path}`, { method: a.method, headers: { ...a.headers, 'accept-encoding': accept }, body: a.body });
      t.equal(r.headers['content-encoding'], 'gzip', `${a.what}, Accept-Encoding ${JSON.stringify(accept)}: gzipped`);
      t.equal(r.headers.vary, 'Accept-Encoding');
      t.equal(r.headers['content-length'], String(r.body.length));
      t.match(String(r.headers['content-type']), a.type);
      t.match(gunzipSync(r.body).toString(), a.expect, `${a.what}: decodes to the answer`);
    }
    for (const accept of GZIP_REFUSED) {
      const headers = accept === undefined ? { ...a.headers } : { ...a.headers, 'accept-encoding': accept };
      const r = await rawRequest(`${api}${a.path}`, { method: a.method, headers, body: a.body });
      t.equal(r.headers['content-encoding'], undefined, `${a.what}, Accept-Encoding ${JSON.stringify(accept)}: plain`);
      t.equal(r.headers.vary, 'Accept-Encoding');
      t.match(r.body.toString(), a.expect);
    }
  }
  const head = await rawRequest(`${api}/service/system/action/ping?format=1`, { method: 'HEAD', headers: { 'accept-encoding': 'gzip' } });
  t.equal(head.headers['content-encoding'], 'gzip', 'HEAD: the headers of GET');
  t.equal(head.body.length, 0);
  // a body over the limit never reaches the front controller: Fastify's own refusal, still an API answer
  const tooLarge = await rawRequest(`${api}/service/system/action/ping?format=1`, { method: 'POST', headers: { ...json, 'content-length': String(65 * 1024 * 1024), 'accept-encoding': 'gzip' }, body: '{}' }).catch((e: Error) => e);
  if (tooLarge instanceof Error) t.fail(`a refused body: ${tooLarge.message}`);
  else {
    t.equal(tooLarge.status, 200, 'a refused body: HTTP 200');
    t.equal(tooLarge.headers['content-encoding'], 'gzip', 'a refused body: gzipped');
    t.equal(tooLarge.headers.vary, 'Accept-Encoding');
    t.match(JSON.parse(gunzipSync(tooLarge.body).toString()), { code: 'INTERNAL_SERVERL_ERROR', objectType: 'KalturaAPIException' });
  }
});
