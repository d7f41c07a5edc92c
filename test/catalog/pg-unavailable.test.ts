// A PostgreSQL catalog whose database goes away: every call rejects with CatalogUnavailableError
// (the HTTP layer's 503) within its timeouts, never hangs; while changes cannot be heard nothing
// is served from the read cache and generation() moves on every call; when the database is back
// the catalog answers again and says that anything may have changed.
import t, { type Test } from 'tap';
import { connect, createServer, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { openPgCatalog } from '../../src/catalog/pg/catalog.js';
import { CatalogUnavailableError, openPgDatabase } from '../../src/catalog/pg/pool.js';
import { startPostgres } from '../helpers/postgres.js';

async function unavailable(t: Test, p: Promise<unknown>, withinMs: number, what: string) {
  const start = performance.now();
  const e = await p.then(() => undefined, (e: Error) => e);
  const ms = performance.now() - start;
  t.type(e, CatalogUnavailableError, `${what}: CatalogUnavailableError (${e?.message})`);
  t.equal((e as CatalogUnavailableError | undefined)?.httpStatus, 503);
  t.ok(ms < withinMs, `${what}: within ${withinMs} ms (${ms.toFixed(0)} ms)`);
  t.notMatch(e?.message ?? '', 'kdeliver-test-pw', 'no password in the message');
}

t.test('a server that accepts connections and never answers: a timeout, not a hang', async (t) => {
  const sockets: Socket[] = [];
  const silent = createServer((s) => void sockets.push(s));
  await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
  const port = (silent.address() as { port: number }).port;
  t.teardown(() => {
    for (const s of sockets) s.destroy();
    silent.close();
  });
  const db = openPgDatabase(`postgres://u:kdeliver-test-pw@127.0.0.1:${port}/x`, { connectTimeoutMs: 400 });
  await unavailable(t, db.query('SELECT 1'), 3000, 'query');
  await unavailable(t, db.transaction(async (tx) => tx.query('SELECT 1')), 3000, 'transaction');
  await db.close();
  await unavailable(t, openPgCatalog(`postgres://u:kdeliver-test-pw@127.0.0.1:${port}/x`, { connectTimeoutMs: 400 }), 3000, 'open');
});

t.test('a statement that runs past the statement timeout is cut off', async (t) => {
  const cluster = await startPostgres(t);
  const db = openPgDatabase(await cluster.createDatabase(), { statementTimeoutMs: 300 });
  await unavailable(t, db.query('SELECT pg_sleep(5)'), 3000, 'pg_sleep(5)');
  t.same((await db.query('SELECT 1 AS one')).rows, [{ one: 1 }], 'the pool goes on');
  await db.close();
});

t.test('the database stops and comes back', async (t) => {
  const cluster = await startPostgres(t);
  const url = await cluster.createDatabase();
  const c = await openPgCatalog(url, { connectTimeoutMs: 1000 });
  t.teardown(() => c.close());
  const p = await c.addPartner({ name: 'survivor' });
  t.equal((await c.getPartner(p.id))!.name, 'survivor');
  const changes: string[] = [];
  c.subscribe((ch) => changes.push(ch.table));

  cluster.kill();
  await sleep(200);
  t.ok(changes.includes('*'), 'subscribers are told that changes may have been missed');
  const g1 = c.generation();
  t.ok(c.generation() > g1, 'while deaf, generation() moves on every call: no cached answer is reused');
  await unavailable(t, c.getPartner(p.id), 3000, 'getPartner (cached before, not trusted now)');
  await unavailable(t, c.listEntries({ partnerId: p.id }), 3000, 'listEntries');
  await unavailable(t, c.updateEntry('x', { name: 'y' }, 1), 3000, 'updateEntry');
  await unavailable(t, c.ingest.claimableJobs(0), 3000, 'claimableJobs');
  await unavailable(t, c.ping(), 3000, 'ping');

  changes.length = 0;
  cluster.restart();
  // the listener reconnects by itself
  for (let i = 0; i < 50 && !changes.includes('*'); i++) await sleep(100);
  t.ok(changes.includes('*'), 'back: subscribers are told again that anything may have changed');
  await c.ping();
  t.equal((await c.getPartner(p.id))!.name, 'survivor', 'reads work again');
  const g2 = c.generation();
  t.equal(c.generation(), g2, 'listening again: generation() is stable');
});

t.test('a connection cut without a word (a partition) is noticed by the heartbeat, not hours later', async (t) => {
  const cluster = await startPostgres(t);
  const url = new URL(await cluster.createDatabase());
  // a TCP relay to the database that can go silent: it stops passing bytes both ways, closing nothing
  let silent = false;
  const pairs: [Socket, Socket][] = [];
  const relay = createServer((client) => {
    const upstream = connect(cluster.port, '127.0.0.1');
    pairs.push([client, upstream]);
    client.on('data', (d) => void (!silent && upstream.write(d)));
    upstream.on('data', (d) => void (!silent && client.write(d)));
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
  });
  await new Promise<void>((r) => relay.listen(0, '127.0.0.1', r));
  url.port = String((relay.address() as { port: number }).port);
  const c = await openPgCatalog(url.toString(), { connectTimeoutMs: 500 });
  t.teardown(async () => {
    for (const [x, y] of pairs) {
      x.destroy();
      y.destroy();
    }
    relay.close();
    await c.close();
  });
  const changes: string[] = [];
  c.subscribe((ch) => changes.push(ch.table));
  const g = c.generation();
  t.equal(c.generation(), g, 'listening: generation() is stable');
  silent = true;
  const started = Date.now();
  while (!changes.includes('*') && Date.now() - started < 6000) await sleep(50);
  t.ok(changes.includes('*'), `the silent connection is given up after ${Date.now() - started} ms`);
  t.ok(c.generation() !== c.generation(), 'and nothing cached is trusted');
  silent = false;
  const back = Date.now();
  while (c.generation() !== c.generation() && Date.now() - back < 6000) await sleep(50);
  t.equal(c.generation(), c.generation(), `listening again after ${Date.now() - back} ms`);
});
