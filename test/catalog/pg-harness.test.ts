// The throwaway cluster of test/helpers/postgres.ts: it starts, takes connections with the
// password of its URL, gives each caller its own database, and survives a kill and restart.
import t from 'tap';
import pg from 'pg';
import { startPostgres } from '../helpers/postgres.js';

t.test('a cluster with a database per caller', async (t) => {
  const cluster = await startPostgres(t);
  const a = await cluster.createDatabase();
  const b = await cluster.createDatabase();
  t.not(a, b);
  const c = new pg.Client({ connectionString: a });
  await c.connect();
  const r = await c.query('SELECT current_database() AS db, version() AS v');
  t.match(r.rows[0].v, /^PostgreSQL \d+/);
  t.equal(`${cluster.url(r.rows[0].db)}`, a);
  await c.end();
  const wrong = new pg.Client({ connectionString: a.replace(cluster.password, 'wrong') });
  await t.rejects(wrong.connect(), /password authentication failed/);
});
