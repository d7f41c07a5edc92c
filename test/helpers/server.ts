// Starts the real server on a loopback port, over a fresh data directory seeded with the sample
// library, for HTTP-level tests. Every test file that needs a server uses this one helper.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
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

export async function startServer(t: Tap, opts: { env?: Record<string, string>; now?: () => number } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-test-'));
  const config = loadConfig({ KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent', ...opts.env });
  const app = await buildServer({ config, now: opts.now });
  await app.listen({ host: '127.0.0.1', port: 0 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : 0;
  t.teardown(async () => {
    await app.close();
    rmSync(dataDir, { recursive: true, force: true });
  });
  return { app, url: `http://127.0.0.1:${port}`, config, dataDir };
}
