// The background transcoding worker of a running server: it takes jobs queued by api_v3 uploads
// (and jobs a stopped server or CLI left behind), and hands unfinished ones back to the queue on
// shutdown. No URLs of its own.
import type { FastifyInstance } from 'fastify';
import { startIngestWorker } from '../src/ingest/queue.js';

export default async function ingestWorker(app: FastifyInstance) {
  const worker = startIngestWorker(
    { catalog: app.catalog, dataDir: app.config.dataDir, mediaRoot: app.config.mediaRoot },
    { log: app.log },
  );
  // preClose: before the catalog database is closed
  app.addHook('preClose', async () => {
    await worker.stop();
  });
}
