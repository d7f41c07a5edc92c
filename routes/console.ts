// The test console: a static page (console/), the player bundles it uses, and its JSON API
// (login, the partner's catalog, the decision trace of a playManifest URL). Every API call but
// login needs an admin KS in X-Kaltura-Ks.
import { existsSync } from 'node:fs';
import { stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { authenticateKs, login } from '../src/console/auth.js';
import { tracePlayManifest, tracedUrl } from '../src/console/trace.js';
import { isKeyRequestUrl, traceKeyRequest } from '../src/console/key-trace.js';
import { partnerView } from '../src/console/views.js';
import { headerValue } from '../src/request/http-facts.js';
import { requestEnv } from './http.js';

/** The console's static folder: console/ at the project root (from routes/ or dist/routes/). */
export function consoleDir(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..']) {
    const p = resolve(here, up, 'console');
    if (existsSync(join(p, 'index.html'))) return p;
  }
  throw new Error('console/index.html not found next to kdeliver');
}

const PAGE_FILES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'console.js': 'text/javascript; charset=utf-8',
  'console.css': 'text/css; charset=utf-8',
};

// Browser players, served from node_modules so the page needs no internet and no build step.
export const VENDOR_FILES: Record<string, string> = {
  'hls.js': 'hls.js/dist/hls.min.js',
  'dash.js': 'dashjs/dist/modern/umd/dash.all.min.js',
  // Smooth Streaming (format sl): dash.js 5 ships it apart; it adds itself to the loaded dash.js
  'dash.mss.js': 'dashjs/dist/modern/umd/dash.mss.min.js',
  'kaltura-ovp-player.js': '@playkit-js/kaltura-player-js/dist/kaltura-ovp-player.js',
};

/**
 * A console file or player bundle through @fastify/static (ranges, ETag and Last-Modified for
 * conditional requests), with the content types above: its own table calls .js
 * application/javascript. A bundle missing from node_modules (installed without the development
 * packages) is named in a 404 rather than left to Fastify's bare one.
 */
async function sendConsoleFile(reply: FastifyReply, root: string, file: string, type: string, cacheSeconds: number) {
  try {
    await stat(join(root, file));
  } catch {
    return reply.code(404).header('cache-control', 'no-store').send({ message: `not installed: ${file} (run npm install)` });
  }
  reply.header('content-type', type).header('x-content-type-options', 'nosniff');
  return reply.sendFile(file, root, { contentType: false, maxAge: cacheSeconds * 1000 });
}

export default async function consoleRoutes(app: FastifyInstance): Promise<void> {
  const dir = consoleDir();
  const modules = join(dirname(dir), 'node_modules');
  // serve: false: no wildcard route, only the files named above, through reply.sendFile
  await app.register(fastifyStatic, { root: dir, serve: false });

  app.get('/console', async (_req, reply) => reply.redirect('/console/', 302));
  app.get('/console/', async (_req, reply) => sendConsoleFile(reply, dir, 'index.html', PAGE_FILES['index.html'], 0));
  app.get<{ Params: { file: string } }>('/console/:file', async (req, reply) => {
    const type = PAGE_FILES[req.params.file];
    if (!type) return reply.code(404).send({ message: 'no such console file' });
    return sendConsoleFile(reply, dir, req.params.file, type, 0);
  });
  app.get<{ Params: { file: string } }>('/console/vendor/:file', async (req, reply) => {
    const rel = VENDOR_FILES[req.params.file];
    if (!rel) return reply.code(404).send({ message: 'no such player bundle' });
    return sendConsoleFile(reply, modules, rel, 'text/javascript; charset=utf-8', 3600);
  });

  const api = { logLevel: 'info' as const };
  const noStore = (reply: FastifyReply) => reply.header('cache-control', 'no-store');
  const admin = async (req: FastifyRequest, reply: FastifyReply) => {
    const auth = await authenticateKs(app.catalog, headerValue(req.headers, 'x-kaltura-ks'), app.now(), req.ip);
    if (!auth.ok) {
      noStore(reply).code(auth.status).send({ message: auth.message });
      return null;
    }
    return auth;
  };

  app.post<{ Body: { partnerId?: unknown; secret?: unknown } }>('/console/api/login', { ...api, bodyLimit: 4096 }, async (req, reply) => {
    noStore(reply);
    const body = req.body && typeof req.body === 'object' ? req.body : {};
    const res = await login(app.catalog, body.partnerId, body.secret, app.now());
    if ('status' in res) return reply.code(res.status).send({ message: res.message });
    return res;
  });

  app.get('/console/api/session', api, async (req, reply) => {
    const auth = await admin(req, reply);
    if (!auth) return reply;
    return noStore(reply).send({ partnerId: auth.partner.id, partnerName: auth.partner.name, userId: auth.userId, expiry: auth.expiry });
  });

  app.get('/console/api/catalog', api, async (req, reply) => {
    const auth = await admin(req, reply);
    if (!auth) return reply;
    return noStore(reply).send(await partnerView(app.catalog, auth.partner));
  });

  // a playManifest URL, or an encrypted entry's key URI or licence URL (with the licence request's kids, optional)
  const trace = async (req: FastifyRequest, reply: FastifyReply, url: unknown, kids?: unknown) => {
    const auth = await admin(req, reply);
    if (!auth) return reply;
    noStore(reply);
    if (typeof url !== 'string' || url === '') return reply.code(400).send({ message: 'url: expected the playManifest, key or licence path and query to explain' });
    const path = tracedUrl(url);
    const env = requestEnv(req);
    const res = isKeyRequestUrl(path)
      ? await traceKeyRequest({ ...env, partnerId: auth.partner.id }, { ...env.http, url: path, kids })
      : await tracePlayManifest({ ...env, partnerId: auth.partner.id }, { ...env.http, url: path });
    if (res.status !== 200) return reply.code(res.status).send({ message: res.message });
    return reply.send(res);
  };
  app.get<{ Querystring: { url?: unknown } }>('/console/api/trace', api, async (req, reply) => trace(req, reply, req.query.url));
  // POST keeps a URL that carries a KS out of access logs and browser history
  app.post<{ Body: { url?: unknown; kids?: unknown } }>('/console/api/trace', { ...api, bodyLimit: 16384 }, async (req, reply) =>
    req.body && typeof req.body === 'object' ? trace(req, reply, req.body.url, req.body.kids) : trace(req, reply, undefined));
}
