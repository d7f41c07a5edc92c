// The external key service's answers that are not keys (src/drm/key-service.ts), asked over real
// HTTP: each one is a KeyServiceError (502, code 5) whose reason tells the operator what is wrong,
// and none costs the server more memory than the bound of an answer.
import t, { type Test } from 'tap';
import { createServer, type Server, type ServerResponse } from 'node:http';
import { clearKeyServiceCache, KeyServiceError, serviceKeys } from '../../src/drm/key-service.js';
import type { Entry } from '../../src/catalog/types.js';

const entry = { id: '1_cenc0001', partnerId: 309 } as Entry;
const KEY = Buffer.alloc(16, 7).toString('base64');
const good = JSON.stringify([{ pssh: [], key: KEY, key_id: KEY }]);

async function service(t: Test, answer: (res: ServerResponse) => void): Promise<{ url: string; sent: () => number }> {
  let sent = 0;
  const svc: Server = createServer((req, res) => {
    const write = res.write.bind(res);
    res.write = ((chunk: Buffer | string, ...rest: never[]) => { sent += Buffer.byteLength(chunk); return write(chunk, ...rest); }) as typeof res.write;
    answer(res);
  });
  await new Promise<void>((r) => svc.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { svc.closeAllConnections(); svc.close(() => r()); }));
  clearKeyServiceCache();
  return { url: `http://127.0.0.1:${(svc.address() as { port: number }).port}/drm/{partnerId}/{entryId}`, sent: () => sent };
}

async function failure(p: Promise<unknown>): Promise<KeyServiceError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof KeyServiceError) return e;
    throw e;
  }
  throw new Error('the key service answer was taken as keys');
}

t.test('a service that redirects is named as such, not as unreachable', async (t) => {
  const svc = await service(t, (res) => { res.writeHead(301, { location: 'https://keys.example.com/drm/309/1_cenc0001' }); res.end(); });
  const e = await failure(serviceKeys(svc.url, entry));
  t.equal(e.httpStatus, 502);
  t.match(e.message, /HTTP 301/, e.message);
  t.match(e.message, /redirect/, e.message);
  t.notMatch(e.message, /cannot be reached/, e.message);
  t.notMatch(e.message, /keys\.example\.com/, 'where it points is not told to the client');
});

t.test('an answer longer than the bound is refused without reading it all', async (t) => {
  // 64 MiB of one never-ending JSON array, written as fast as the reader takes it
  const chunk = Buffer.alloc(1 << 20, 0x20);
  const svc = await service(t, (res) => {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.write('[');
    let left = 64;
    const more = (): void => {
      while (left > 0) {
        left--;
        if (!res.write(chunk)) { res.once('drain', more); return; }
      }
      res.end(good.slice(1));
    };
    res.on('error', () => {});
    more();
  });
  const e = await failure(serviceKeys(svc.url, entry));
  t.match(e.message, /too long/, e.message);
  t.ok(svc.sent() < 16 << 20, `the reader stopped early: ${(svc.sent() / (1 << 20)).toFixed(1)} MiB sent of 64`);
});

t.test('a good answer is read', async (t) => {
  const svc = await service(t, (res) => { res.writeHead(200, { 'content-type': 'application/json' }); res.end(good); });
  const k = await serviceKeys(svc.url, entry);
  t.equal(k.key.toString('base64'), KEY);
});
