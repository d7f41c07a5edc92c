// A fresh server's first request paid for V8's first compilation of the request path (Node's and
// Fastify's request handling, the hooks, the packager's route, its refusal): about 20 ms of a
// fresh server's first playlist of a long file (bench/README.md, session 28), on top of what
// src/media/warm-up.ts already does for the media code. So once the server listens, it asks
// itself one packager playlist, in-process (Fastify's inject: no socket), that names no entry: it
// is refused before the catalog or the media store is read. That request is neither counted in
// /metrics nor logged (isWarmUpRequest, read by routes/metrics.ts): it marks itself with a header
// whose value is this process's own random token, so no client can pass for it.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { FastifyInstance } from 'fastify';

const HEADER = 'x-kdeliver-warm-up';
const TOKEN = randomBytes(16).toString('hex');
/** A per-flavor playlist URL without an entry id: refused (ENTRY_NOT_FOUND) before any read. */
const WARM_UP_URL = '/hls/p/0/sp/0/serveFlavor/name/a.mp4/index.m3u8';

/** Whether a request is the server's own warm-up request. */
export function isWarmUpRequest(raw: IncomingMessage): boolean {
  return raw.headers[HEADER] === TOKEN;
}

let done = 0;
/** Warm-up requests answered in this process (for tests). */
export const requestWarmUpsDone = (): number => done;

export default async function warmUpRoutes(app: FastifyInstance): Promise<void> {
  app.addHook('onListen', async () => {
    try {
      await app.inject({ method: 'GET', url: WARM_UP_URL, headers: { [HEADER]: TOKEN } });
      done++;
    } catch {
      // a warm-up that fails (the server closing already) costs the first request its compilation, nothing more
    }
  });
}
