// Orchestrator probes. /healthz: the process answers. /readyz: the catalog answers a query and the
// media storage is readable (the data directory, and with KDELIVER_MEDIA_URL the remote store
// every read goes to), so traffic may be routed here.
import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { storeUnreachable } from '../src/storage/media-store.js';

export interface ReadinessCheck {
  name: string;
  ok: boolean;
  error?: string;
}

/**
 * How long /readyz waits for a dependency. A store or database that takes the connection and never
 * answers is otherwise bounded only by its own timeouts (the media timeout, 10 s by default), past
 * what a probe waits (Docker's thirty seconds; Kubernetes' default of one second needs raising,
 * README): the answer says what is slow, while the check it started goes on and its verdict is
 * kept as usual. Shorter, a loaded machine's healthy catalog would be called slow.
 */
const READY_WAIT_MS = 2000;

/** The check's outcome, or `late`'s when it has not settled within READY_WAIT_MS. */
function within<T>(check: Promise<T>, late: () => T): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const waited = new Promise<T>((resolve) => {
    timer = setTimeout(() => resolve(late()), READY_WAIT_MS);
  });
  return Promise.race([check, waited]).finally(() => clearTimeout(timer));
}
const lateMessage = (what: string) => `${what} did not answer within ${READY_WAIT_MS / 1000} s`;

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  const noStore = { 'cache-control': 'no-store' };
  // The catalog's ping queries a catalog table each time: a catalog that cannot answer (closed,
  // its schema broken, its server gone) makes /readyz a 503, never stops the server from starting.

  app.get('/healthz', { logLevel: 'warn' }, async (_req, reply) => {
    reply.headers(noStore);
    return { status: 'ok' };
  });

  app.get('/readyz', { logLevel: 'warn' }, async (_req, reply) => {
    // both at once: a slow catalog does not delay the storage check's answer, nor the reverse
    const checks: ReadinessCheck[] = await Promise.all([catalogCheck(), storageCheck()]);
    const ready = checks.every((c) => c.ok);
    reply.code(ready ? 200 : 503).headers(noStore);
    return { status: ready ? 'ready' : 'not ready', checks };
  });

  async function catalogCheck(): Promise<ReadinessCheck> {
    try {
      const late = await within(app.catalog.ping().then(() => null), () => lateMessage('the catalog'));
      return late === null ? { name: 'catalog', ok: true } : { name: 'catalog', ok: false, error: late };
    } catch (e) {
      return { name: 'catalog', ok: false, error: (e as Error).message };
    }
  }

  async function storageCheck(): Promise<ReadinessCheck> {
    try {
      await access(app.config.mediaRoot, constants.R_OK | constants.X_OK);
      await access(app.config.dataDir, constants.R_OK | constants.W_OK);
    } catch (e) {
      // the path is the operator's own configuration, not a secret, and helps them fix it
      return { name: 'storage', ok: false, error: (e as NodeJS.ErrnoException).code ?? 'unreachable' };
    }
    // with media on S3 or an HTTP origin the local media folder is not what players read
    const unreachable = await within(storeUnreachable(app.media), () => lateMessage(app.media.describe));
    return unreachable === null ? { name: 'storage', ok: true } : { name: 'storage', ok: false, error: unreachable };
  }
}
