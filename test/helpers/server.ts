// Starts the real server on a loopback port, over a fresh data directory seeded with the sample
// library, for HTTP-level tests. Every test file that needs a server uses this one helper.
//
// The catalog and media backends the servers run on are chosen for the whole test run by
// environment switches, so that the same HTTP suites run on every backend
// (test/multinode/suites-on-postgres.test.ts runs a part of them so in CI):
// - KDELIVER_TEST_CATALOG=postgres: each server on a database of its own in a throwaway PostgreSQL
//   cluster (test/helpers/postgres.ts: one per test process, installed or refused with the command
//   to run when PostgreSQL is missing), seeded with the sample library as the SQLite file is;
//   unset or `sqlite`: the SQLite file in the data directory.
// - KDELIVER_TEST_MEDIA=s3: each server's media in an s3rver bucket under a prefix of its own
//   (test/helpers/media-origins.ts), holding the sample library's files (seeded there by the
//   server, as any node on S3 seeds it); unset or `local`: the data directory's media folder.
// A test that sets KDELIVER_DATABASE_URL or KDELIVER_MEDIA_URL itself keeps what it set.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import tap from 'tap';
import { loadConfig, type Config } from '../../src/config.js';
import { buildServer } from '../../src/server.js';

export interface TestServer {
  app: FastifyInstance;
  /** http://127.0.0.1:PORT */
  url: string;
  config: Config;
  dataDir: string;
}

interface Tap {
  teardown(fn: () => unknown): void;
}

const CATALOGS = ['sqlite', 'postgres'] as const;
const MEDIA = ['local', 's3'] as const;

function choice<T extends string>(name: string, values: readonly T[]): T {
  const v = process.env[name] || values[0];
  if (!(values as readonly string[]).includes(v)) throw new Error(`${name}=${JSON.stringify(v)}: expected one of ${values.join(', ')} (or unset: ${values[0]})`);
  return v as T;
}

/** The backends the servers of this test run use (KDELIVER_TEST_CATALOG, KDELIVER_TEST_MEDIA). */
export const testBackends = { catalog: choice('KDELIVER_TEST_CATALOG', CATALOGS), media: choice('KDELIVER_TEST_MEDIA', MEDIA) };

// a server started again on a data directory finds its catalog again, as with the SQLite file
const databaseOf = new Map<string, string>();
const prefixOf = new Map<string, string>();
let s3: Promise<import('./media-origins.js').S3Store> | undefined;
let servers = 0;

export async function startServer(t: Tap, opts: { env?: Record<string, string>; now?: () => number } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-test-'));
  const backend: Record<string, string> = {};
  if (testBackends.catalog === 'postgres' && !opts.env?.KDELIVER_DATABASE_URL) {
    const used = opts.env?.KDELIVER_DATA_DIR ?? dataDir;
    let url = databaseOf.get(used);
    if (!url) {
      const { pgDatabase } = await import('./postgres.js');
      // the root test's: the cluster outlives the subtest that happens to start it
      url = await pgDatabase(tap);
      databaseOf.set(used, url);
    }
    backend.KDELIVER_DATABASE_URL = url;
  }
  const onS3 = testBackends.media === 's3' && !opts.env?.KDELIVER_MEDIA_URL;
  if (onS3) {
    const { startS3 } = await import('./media-origins.js');
    s3 ??= startS3(tap, 'suite-media');
    // on S3 the sample library is seeded into the bucket under the prefix (src/catalog/open.ts),
    // where the server reads it from; a server started again on a data directory keeps its prefix
    const used = opts.env?.KDELIVER_DATA_DIR ?? dataDir;
    let prefix = prefixOf.get(used);
    if (!prefix) {
      prefix = `server-${process.pid}-${++servers}`;
      prefixOf.set(used, prefix);
    }
    Object.assign(backend, (await s3).env(prefix));
  }
  const config = loadConfig({ KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent', ...backend, ...opts.env });
  const app = await buildServer({ config, now: opts.now });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  t.teardown(async () => {
    // By now the test has what it asked for; a response whose body it never read (a fetch of a
    // download URL checked by its headers) would hold close() until the client drops it, which
    // undici does only when the Response is collected, tens of seconds later.
    const closed = app.close();
    app.server.closeAllConnections();
    await closed;
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { app, url: `http://127.0.0.1:${port}`, config, dataDir };
}

/**
 * A server with the production logger options at level info, writing its log into a string the
 * test reads (`log()`), over a fresh data directory with the sample library (or `dataDir`, another
 * server's, which stays the caller's): for tests of what is and is not logged (a KS, a secret).
 */
export async function startLoggingServer(t: Tap, opts: { dataDir?: string } = {}): Promise<{ url: string; log: () => string }> {
  const { Writable } = await import('node:stream');
  const { loggerOptions } = await import('../../src/server.js');
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'kdeliver-log-'));
  const config = loadConfig({ KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'info' });
  let log = '';
  const stream = new Writable({ write(chunk, _enc, done) { log += chunk.toString(); done(); } });
  const app = await buildServer({ config, logger: { ...(loggerOptions(config) as object), stream } as never });
  await app.listen({ host: '127.0.0.1', port: 0 });
  t.teardown(async () => {
    await app.close();
    if (!opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
  });
  return { url: `http://127.0.0.1:${(app.server.address() as { port: number }).port}`, log: () => log };
}
