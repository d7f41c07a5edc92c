// An HTTP origin closes a kept-alive connection after its own idle timeout (Node's and Apache's
// 5 s), and a read that goes out on that connection as the close crosses it is reset before any
// answer: the origin is well, the connection was not. Such a read is asked again once, on a new
// connection; a reset on a new connection, or one that happens every time, is still the origin's
// failure, said as before. Real parts: kdeliver's HTTP origin client against a node:http origin
// that resets, on demand, the next request arriving on a connection it has answered before (the
// crossing made deterministic).
import t from 'tap';
import { createServer, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { httpOrigin } from '../../src/storage/http-origin.js';
import { SourceError } from '../../src/media/errors.js';

const BODY = Buffer.from('0123456789abcdefghijklmnopqrstuvwxyz');
type Mode = 'answer' | 'reset-reused' | 'reset-all';
let mode: Mode = 'answer';
let requests = 0;
let resets = 0;
const answeredOn = new WeakSet<Socket>();

const origin = createServer((req: IncomingMessage, res) => {
  requests++;
  const socket = req.socket;
  if (mode === 'reset-all' || (mode === 'reset-reused' && answeredOn.has(socket))) {
    resets++;
    socket.resetAndDestroy();
    return;
  }
  answeredOn.add(socket);
  const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? '');
  if (req.method === 'HEAD' || !m) {
    res.writeHead(200, { 'content-length': String(BODY.length), etag: '"v1"' }).end(req.method === 'HEAD' ? undefined : BODY);
    return;
  }
  const [start, end] = [Number(m[1]), Number(m[2])];
  res.writeHead(206, { 'content-length': String(end + 1 - start), 'content-range': `bytes ${start}-${end}/${BODY.length}`, etag: '"v1"' }).end(BODY.subarray(start, end + 1));
});
origin.keepAliveTimeout = 60_000;
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
t.teardown(() => origin.close());
const base = `http://127.0.0.1:${(origin.address() as { port: number }).port}/media`;

t.test('a read reset on a reused connection is asked again on a new one, and answered', async (t) => {
  const o = httpOrigin(base, { connectTimeoutMs: 2000, timeoutMs: 5000 });
  t.teardown(() => o.close());
  mode = 'answer';
  const meta = await o.head('a/file.mp4');
  t.equal(meta.size, BODY.length);
  mode = 'reset-reused';
  requests = resets = 0;
  const bytes = await o.read('a/file.mp4', meta, 3, 10);
  t.equal(bytes.toString(), BODY.subarray(3, 13).toString(), 'the bytes asked for');
  t.equal(resets, 1, 'the kept-alive connection was reset once');
  t.equal(requests, 2, 'and the read asked again once, on a new connection');
});

t.test('a reset on a new connection, or on every one, is the origin\'s failure: no endless asking', async (t) => {
  const o = httpOrigin(base, { connectTimeoutMs: 2000, timeoutMs: 5000 });
  t.teardown(() => o.close());
  mode = 'reset-all';
  requests = 0;
  // a first request: a new connection, reset; not asked again
  const first = await o.head('a/file.mp4').then(() => null, (e: unknown) => e);
  t.ok(first instanceof SourceError, 'a SourceError');
  t.match((first as SourceError).message, /reset the connection/);
  t.equal(requests, 1, 'a reset on a new connection is not asked again');

  mode = 'answer';
  const meta = await o.head('a/file.mp4');
  mode = 'reset-all';
  requests = 0;
  // on the kept-alive connection, then on the new one: asked twice, then the origin's failure
  const again = await o.read('a/file.mp4', meta, 0, 5).then(() => null, (e: unknown) => e);
  t.ok(again instanceof SourceError, 'a SourceError');
  t.match((again as SourceError).message, /reset the connection/);
  t.equal(requests, 2, 'asked once more, not again and again');
});
