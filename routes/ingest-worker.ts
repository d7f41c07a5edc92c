// The background transcoding worker of a running server: it takes jobs queued by api_v3 uploads
// (and jobs a stopped server or CLI left behind), and hands unfinished ones back to the queue on
// shutdown. It also times out uploads abandoned for a day. No URLs of its own.
import type { FastifyInstance } from 'fastify';
import { startIngestWorker } from '../src/ingest/queue.js';
import { expireUploadTokens } from '../src/ingest/uploads.js';
import { storeUnreachable } from '../src/storage/media-store.js';

const UPLOAD_MAX_AGE_SECONDS = 24 * 3600;

export default async function ingestWorker(app: FastifyInstance) {
  // a media store this build cannot write (KDELIVER_MEDIA_URL): no jobs run here, said once at start
  if (app.media.readOnly) {
    app.log.warn(`ingest worker not started: ${app.media.readOnly}`);
    return;
  }
  const worker = startIngestWorker(
    { catalog: app.catalog, dataDir: app.config.dataDir, mediaRoot: app.config.mediaRoot, media: app.media.writer, leaseSeconds: app.config.ingestLeaseSeconds },
    // the check /readyz makes (a verdict kept 2 s): a node whose store is down takes no jobs,
    // and a job that fails while it is down goes back to the queue
    { log: app.log, storeProblem: (opts) => storeUnreachable(app.media, opts) },
  );
  const expire = async () => {
    const n = await expireUploadTokens({ catalog: app.catalog, dataDir: app.config.dataDir, now: app.now(), media: app.media.writer }, UPLOAD_MAX_AGE_SECONDS);
    if (n) app.log.info({ uploadTokens: n }, 'abandoned uploads timed out');
  };
  app.addHook('onReady', async () => expire());
  // a catalog that fails now and then (its database restarting) is tried again in an hour
  const timer = setInterval(() => {
    expire().catch((e: unknown) => app.log.warn({ err: String(e) }, 'abandoned uploads could not be timed out'));
  }, 3600_000);
  timer.unref();
  // preClose: before the catalog database is closed
  app.addHook('preClose', async () => {
    clearInterval(timer);
    await worker.stop();
  });
}
