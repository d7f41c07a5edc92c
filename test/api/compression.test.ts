// api_v3 answers compressed for clients that accept gzip: the schema (compressed once and kept)
// and a long list come out as the very bytes a one-shot gzip of the plain answer gives, with the
// same headers as before; small answers stay plain.
import t from 'tap';
import { request } from 'node:http';
import { gunzipSync, gzipSync } from 'node:zlib';
import { apiSchemaXml } from '../../src/api/schema.js';
import { SERVICES } from '../../src/api/services/index.js';
import { startServer } from '../helpers/server.js';

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

  await t.test('small answers stay plain', async (t) => {
    const ping = await raw('GET', '/api_v3/service/system/action/ping?format=1', gzip);
    t.equal(ping.body.toString(), 'true');
    t.equal(ping.headers['content-encoding'], undefined);
    t.equal(ping.headers.vary, 'Accept-Encoding');
    t.equal(ping.headers['content-length'], '4');
  });
});
