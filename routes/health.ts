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

export default async function healthRoutes(app: FastifyInstance): Promise<void> {
  const noStore = { 'cache-control': 'no-store' };
  // The catalog's ping queries a catalog table each time: a catalog that cannot answer (closed,
  // its schema broken, its server gone) makes /readyz a 503, never stops the server from starting.

  app.get('/healthz', { logLevel: 'warn' }, async (_req, reply) => {
    reply.headers(noStore);
    return { status: 'ok' };
  });

  app.get('/readyz', { logLevel: 'warn' }, async (_req, reply) => {
    const checks: ReadinessCheck[] = [];
    try {
      await app.catalog.ping();
      checks.push({ name: 'catalog', ok: true });
    } catch (e) {
      checks.push({ name: 'catalog', ok: false, error: (e as Error).message });
    }
    try {
      await access(app.config.mediaRoot, constants.R_OK | constants.X_OK);
      await access(app.config.dataDir, constants.R_OK | constants.W_OK);
      // with media on S3 or an HTTP origin the local media folder is not what players read
      const unreachable = await storeUnreachable(app.media);
      checks.push(unreachable === null ? { name: 'storage', ok: true } : { name: 'storage', ok: false, error: unreachable });
    } catch (e) {
      // the path is the operator's own configuration, not a secret, and helps them fix it
      checks.push({ name: 'storage', ok: false, error: (e as NodeJS.ErrnoException).code ?? 'unreachable' });
    }
    const ready = checks.every((c) => c.ok);
    reply.code(ready ? 200 : 503).headers(noStore);
    return { status: ready ? 'ready' : 'not ready', checks };
  });
}
