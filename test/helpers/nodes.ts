// Several `kdeliver serve` processes as an operator runs them behind a load balancer: the built
// command (package.json's bin, through a `kdeliver` link on PATH), each on a free loopback port,
// all on one PostgreSQL catalog (KDELIVER_DATABASE_URL) and one media store, with the same server
// secrets. Here the shared media store is one data directory on local disk: the nodes also share
// its staging folders, as nodes on a shared filesystem would.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedCommand, type Installed, type Served } from './command.js';

interface Tap {
  teardown(fn: () => unknown): void;
}

export interface Nodes {
  /** The shared data directory (media/, tmp/). */
  dataDir: string;
  /** The environment every node gets. */
  env: Record<string, string>;
  /** Starts one more node (resolves once it listens), with `extra` added to its environment. */
  start(extra?: Record<string, string>): Promise<Served>;
  command: Installed;
}

/** The same secrets on every node: a `kt` URL or a signed media URL made by one is checked by another. */
export const NODE_SECRETS = {
  KDELIVER_URL_TOKEN_SECRET: 'multinode-url-token-secret-0123456789',
  KDELIVER_MEDIA_URL_SECRET: 'multinode-media-url-secret-0123456789',
};

export function kdeliverNodes(t: Tap, databaseUrl: string, extra: Record<string, string> = {}): Nodes {
  const work = mkdtempSync(join(tmpdir(), 'kdeliver-nodes-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const dataDir = join(work, 'data');
  const command = installedCommand(t, work);
  const env = {
    KDELIVER_DATA_DIR: dataDir, KDELIVER_DATABASE_URL: databaseUrl, KDELIVER_LOG_LEVEL: 'info', ...NODE_SECRETS, ...extra,
  };
  return { dataDir, env, command, start: (more = {}) => command.serve({ ...env, ...more }) };
}

/**
 * Two nodes A and B on a fresh database of `cluster`, started together (one seeds the sample
 * library, the other waits for it: src/catalog/pg/open.ts), stopped when the test ends.
 */
export async function twoNodes(t: Tap, cluster: { createDatabase(): Promise<string> }): Promise<{ A: Served; B: Served; nodes: Nodes }> {
  const nodes = kdeliverNodes(t, await cluster.createDatabase());
  const [A, B] = await Promise.all([nodes.start(), nodes.start()]);
  t.teardown(async () => {
    await A.stop();
    await B.stop();
  });
  return { A, B, nodes };
}
