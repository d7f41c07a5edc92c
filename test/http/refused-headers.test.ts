// An answer whose headers Node refuses (a character HTTP does not allow in a value) is answered
// 500 in the error handler's words and logged, by routes/http.ts sendRaw (a hijacked reply, which
// Fastify's error handler can no longer answer: the request was left without an answer) and
// sendEarly (before routing, where the throw left the server's request listener). The server
// goes on answering. Over real HTTP, with Fastify as kdeliver builds its routes on it.
import t from 'tap';
import Fastify from 'fastify';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { INTERNAL_ERROR_TEXT, sendEarly, sendRaw } from '../../routes/http.js';

const BAD = ['content-type', 'text/plain', 'x-kaltura-app', 'exiting on error 3 - Доступ\nзапрещён'];

t.test('a refused header gives a 500 that says so, not a request left unanswered', async (t) => {
  const logged: string[] = [];
  const app = Fastify({ logger: { level: 'error', stream: { write: (line: string) => logged.push(line) } } });
  app.decorate('metrics', { observe: () => {} } as never);
  app.get('/routed', (request, reply) => sendRaw(request, reply, 403, BAD, 2, 'no'));
  app.get('/fine', (request, reply) => sendRaw(request, reply, 200, ['content-type', 'text/plain'], 2, 'ok'));
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(() => app.close());
  // the early answerer's place: ahead of Fastify's own handler (src/server.ts does this with its EarlyAnswers)
  const routed = app.server.listeners('request')[0] as (req: IncomingMessage, res: ServerResponse) => void;
  app.server.removeAllListeners('request');
  app.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
    if (req.url === '/early') sendEarly(app, req, res, { family: 'other' as never, started: performance.now(), status: 403, head: BAD, body: 'no', bytes: 2 });
    else routed(req, res);
  });
  const port = (app.server.address() as { port: number }).port;
  for (const path of ['/routed', '/early']) {
    const r = await fetch(`http://127.0.0.1:${port}${path}`, { signal: AbortSignal.timeout(5000) });
    t.equal(r.status, 500, `${path}: answered`);
    t.equal(await r.text(), INTERNAL_ERROR_TEXT);
    const fine = await fetch(`http://127.0.0.1:${port}/fine`, { signal: AbortSignal.timeout(5000) });
    t.equal(await fine.text(), 'ok', `${path}: the server answers the next request`);
  }
  t.equal(logged.filter((l) => l.includes('the answer\'s headers were refused')).length, 2, 'each logged');
  t.notOk(logged.join('').includes('Доступ'), 'the refused value is not logged');
});
