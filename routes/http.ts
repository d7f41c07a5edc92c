// Glue between Fastify and the stages: the request's environment and HTTP facts (built here, once,
// for every route family), the public base URL, and sending a rendered answer. The only place
// route plugins share code.
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Socket } from 'node:net';
import { requestId } from '../src/log.js';
import type { RouteFamily } from '../src/metrics/request-facts.js';
import type { RequestEnv } from '../src/env.js';
import { countryOnce, flatHeaders, type HttpFacts } from '../src/request/http-facts.js';
import { referrerOf } from '../src/request/play-request.js';
import { pathAfter as pathAfterAction } from '../src/request/path-params.js';
import type { RequestFacts } from '../src/access/entry-check.js';
import { newRegexBudget } from '../src/access/evaluate.js';
import type { RegexBudget } from '../src/access/regex.js';
import type { Rendered } from '../src/render/types.js';
import { DeliveryError } from '../src/errors.js';
import { renderError } from '../src/render/error.js';
import type { FilePlan } from '../src/serve/file.js';
import { primed, recycleWhenSent } from '../src/media/body.js';
import type { MediaStore } from '../src/storage/media-store.js';
import type { Readable } from 'node:stream';
import { promisify } from 'node:util';
import { gzip, gzipSync } from 'node:zlib';
import { acceptsGzip } from '../src/request/accept-encoding.js';

/** The one function that makes a request's HttpFacts (the client's country from the server's lookup). */
export function httpFacts(request: FastifyRequest): HttpFacts {
  return {
    method: request.method,
    rawUrl: request.raw.url ?? request.url,
    query: (request.query ?? {}) as Record<string, unknown>,
    headers: request.headers,
    isHttps: request.protocol === 'https',
    clientIp: request.ip,
    country: countryOnce(request.ip, request.server.env.countryOf),
    regexBudget: regexBudgetOf(request),
    ...(Buffer.isBuffer(request.body) ? { body: { contentType: request.headers['content-type'], bytes: request.body } } : {}),
  };
}

/**
 * The request's one regex budget: httpFacts may be called more than once for a request (requestEnv,
 * the metrics hook), and every call must hand out the same budget.
 */
const regexBudgets = new WeakMap<object, RegexBudget>();
function regexBudgetOf(request: FastifyRequest): RegexBudget {
  let budget = regexBudgets.get(request.raw);
  if (!budget) regexBudgets.set(request.raw, (budget = newRegexBudget()));
  return budget;
}

/**
 * In this plugin's scope, every request body comes to the route as its bytes (request.body, a
 * Buffer), whatever its content type, up to `bodyLimit`: the route's own reader parses it (api_v3:
 * src/api/params.ts; playManifest: src/request/body.ts), and answers what it cannot read in its
 * own form instead of Fastify's. A body over the limit is Fastify's FST_ERR_CTP_BODY_TOO_LARGE.
 */
export function takeBodiesAsBytes(app: FastifyInstance, bodyLimit: number): void {
  app.removeAllContentTypeParsers();
  const asBytes = (_req: FastifyRequest, body: Buffer, done: (err: null, body: Buffer) => void) => done(null, body);
  // the types clients send named too: Fastify remembers the parser of a named type, while the
  // catch-all is looked for again (the header parsed) on every request
  app.addContentTypeParser(['application/json', 'application/x-www-form-urlencoded', 'multipart/form-data', 'text/plain'], { parseAs: 'buffer', bodyLimit }, asBytes);
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit }, asBytes);
}

/** drainRefusedBody's bounds: the bytes and time it reads for, and the quiet that ends its wait. */
const DRAIN_MAX_BYTES = 1 << 30;
const DRAIN_MAX_MS = 60_000;
const DRAIN_IDLE_MS = 1000;

/**
 * Reads and drops the rest of a body refused for its size before answering, and gives its first
 * `keepBytes` bytes (for the fields sent before a file). Node closes the connection under a
 * client still sending such a body, and a client that writes its whole body before reading (the
 * Node Kaltura client, on axios) then sees EPIPE instead of the answer that says what to do. A
 * client that declared a length it does not send is answered once it has been quiet a second.
 * Bounded: past 1 GiB more, or a minute, the answer goes anyway.
 */
export function drainRefusedBody(request: FastifyRequest, keepBytes: number): Promise<Buffer> {
  const raw = request.raw;
  if (raw.readableEnded || raw.destroyed) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve) => {
    const kept: Buffer[] = [];
    let seen = 0;
    let answered = false;
    const answer = () => {
      if (answered) return;
      answered = true;
      clearTimeout(idle);
      resolve(Buffer.concat(kept));
    };
    const stop = () => {
      clearTimeout(timer);
      raw.off('data', onData).off('end', stop).off('error', stop).off('close', stop);
      socket?.off('close', stop);
      answer();
    };
    const onData = (chunk: Buffer) => {
      if (seen < keepBytes) kept.push(chunk.subarray(0, keepBytes - seen));
      seen += chunk.length;
      idle.refresh();
      if (seen > DRAIN_MAX_BYTES) stop();
    };
    // once the answer is sent, Node no longer tells the request that its connection closed: the
    // connection's own close ends the drain (else its listeners and this timer stayed a minute,
    // and held a process that was stopping)
    const socket = raw.socket as Socket | null;
    const timer = setTimeout(stop, DRAIN_MAX_MS);
    const idle = setTimeout(answer, DRAIN_IDLE_MS);
    raw.on('data', onData).once('end', stop).once('error', stop).once('close', stop);
    socket?.once('close', stop);
    raw.resume();
  });
}

/**
 * The URLs of a Kaltura action under `prefix`: its path-pair form (`…/raw/entry_id/x`) and its
 * bare form (`…/raw?entry_id=x`, the parameters in the query; src/request/path-params.ts
 * routeParams reads either), as Kaltura's Symfony actions take both.
 */
export const actionUrls = (prefix: string, action: string): string[] => [`${prefix}/${action}`, `${prefix}/${action}/*`];

/**
 * The environment of this request: the server's Env with the request's second (`now`, when the
 * caller already read the clock for it), its base URL and its HTTP facts. Every stage a route
 * calls gets this, or a view of it.
 */
export function requestEnv(request: FastifyRequest, now = request.server.env.clock()): RequestEnv {
  return { ...request.server.env, now, baseUrl: baseUrl(request), http: httpFacts(request) };
}

/** scheme://host[:port] for URLs this server emits: configured, else from the request (forwarded headers only when trusted). */
export function baseUrl(request: FastifyRequest): string {
  return baseUrlOf(request.server.config.publicUrl, request.protocol, request.host);
}

/** The same from the configured URL (or null), the scheme and the Host the request came with. */
export function baseUrlOf(configured: string | null | undefined, protocol: string, requestHost: string): string {
  if (configured) return configured;
  const key = `${protocol} ${requestHost}`;
  let base = bases.get(key);
  if (base === undefined) {
    const host = (requestHost || 'localhost').replace(/[^A-Za-z0-9.:\-[\]]/g, '');
    base = `${protocol}://${host}`;
    // asked on every answer; a server is reached under a handful of names
    if (bases.size >= 1000) bases.clear();
    bases.set(key, base);
  }
  return base;
}
const bases = new Map<string, string>();

/**
 * The partner a media URL names (`/p/{pid}/...`), or undefined for the forms that name none
 * (`/extwidget`): under /p/{pid} an entry must be that partner's, on every media route.
 */
export function pathPartner(request: FastifyRequest): number | undefined {
  const { pid } = request.params as { pid?: string };
  return pid !== undefined ? Number(pid) : undefined;
}

/** The raw path after the given action segment, e.g. after "/playManifest" (src/request/path-params.ts pathAfter on this request's URL). */
export function pathAfter(request: FastifyRequest, action: string): string {
  return pathAfterAction(request.raw.url ?? request.url, action);
}

/**
 * Sends a rendered answer; `body` when the caller already made its payload (payloadOf). Its
 * headers and whole body are in hand, so it goes straight to Node (sendRaw), with the header
 * names in lower case as Fastify would send them.
 */
export function sendRendered(reply: FastifyReply, r: Rendered, body = payloadOf(r)): FastifyReply {
  const head: string[] = [];
  for (const [k, v] of Object.entries(r.headers)) {
    const name = k.toLowerCase();
    if (name === 'content-length') continue;
    if (Array.isArray(v)) for (const x of v) head.push(name, x);
    else head.push(name, v);
  }
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  head.push('content-length', String(bytes));
  return sendRaw(reply.request, reply, r.status, head, bytes, body);
}

/**
 * The body as Fastify should get it. A string goes out in the same write as the headers (a
 * Buffer costs a second, gathered write), but Fastify appends a charset to JSON content types
 * sent as strings, so those go as a Buffer and keep their type exactly as rendered.
 */
export function payloadOf(r: Rendered): string | Buffer {
  const type = r.headers['Content-Type'];
  return typeof type === 'string' && type.includes('json') ? Buffer.from(r.body) : r.body;
}

export function sendError(request: FastifyRequest, reply: FastifyReply, err: DeliveryError): FastifyReply {
  return sendRendered(reply, renderError(err, request.method, request.server.env.clock()));
}

/** Sends a planned file answer: headers, then the byte range streamed from the media store (never for HEAD or 304/416). */
export function sendFile(request: FastifyRequest, reply: FastifyReply, store: MediaStore, name: string, plan: FilePlan): Promise<FastifyReply> {
  return sendPlanned(request, reply, plan, (start, end) => store.stream(name, start, end), store);
}

/**
 * Sends a planned answer whose bytes come from `read` (a file, or a body written on the fly).
 * From a remote media store the first bytes are read before the status goes out, so a failing
 * origin is a 502/504 (routes/common.ts), not a 200 cut short; a failure later can only cut it.
 */
export async function sendPlanned(request: FastifyRequest, reply: FastifyReply, plan: FilePlan, read: (start: number, endInclusive: number) => Readable, store?: Pick<MediaStore, 'kind'>): Promise<FastifyReply> {
  if (request.method === 'HEAD' || !plan.range) return reply.code(plan.status).headers(plan.headers).send();
  let body = read(plan.range.start, plan.range.end);
  if (store && store.kind !== 'local') body = await primed(body);
  reply.code(plan.status).headers(plan.headers);
  // a media body's pooled buffers serve the next answer once this one is on the wire
  return reply.send(recycleWhenSent(body, reply.raw));
}

/**
 * The request facts the access checks read, for routes whose KS and referrer come as path
 * parameters (raw, download, thumbnail): the X-Kaltura-Ks header wins over `ks`, the `referrer`
 * parameter (url-safe base64) over the Referer header; address and country as in `http`.
 */
export function accessFacts(http: HttpFacts, params: { ks?: string | null; referrer?: string | null }): RequestFacts {
  const headers = flatHeaders(http.headers);
  return {
    ks: headers['x-kaltura-ks'] || params.ks || null,
    clientIp: http.clientIp,
    country: http.country,
    referrer: referrerOf(params.referrer, headers.referer ?? ''),
    userAgent: headers['user-agent'] ?? '',
    headers,
    hashes: {},
    rawUri: http.rawUrl,
    regexBudget: http.regexBudget,
  };
}

/**
 * An answer whose headers (Content-Length among them) and whole body are in hand: straight to
 * Node, past Fastify's send pipeline (kept and fresh answers, where that pipeline costs more than
 * the answer). Fastify's onResponse hooks still run; the metrics hook reads the length, and a
 * refusal's code (its X-Kaltura header), from Fastify's headers (Node keeps writeHead's own), so
 * they are set there too.
 */
export function sendRaw(request: FastifyRequest, reply: FastifyReply, status: number, head: OutgoingHttpHeaders | string[], length: number, body: string | Buffer | undefined): FastifyReply {
  reply.hijack();
  reply.header('content-length', String(length));
  if (status >= 400) {
    const code = headerIn(head, 'x-kaltura');
    if (code !== undefined) reply.header('x-kaltura', code);
  }
  if (writeHeadOr500(reply.raw, status, head, request.log)) reply.raw.end(request.method === 'HEAD' ? undefined : body);
  return reply;
}

/** The body of a 500: it says nothing of the failure (that is in the log). */
export const INTERNAL_ERROR_TEXT = 'internal error: the server could not answer this request (see its log)\n';

/**
 * writeHead, or where Node refuses a header (a character HTTP does not allow in a value, which a
 * stored text such as a rule's message could bring): a plain 500 with routes/common.ts's words,
 * and the failure logged. A hijacked reply cannot be answered by Fastify's error handler any
 * more, so the request would be left without an answer; before routing the throw would leave the
 * server's request listener.
 */
function writeHeadOr500(res: ServerResponse, status: number, head: OutgoingHttpHeaders | string[], log: { error(o: object, msg: string): void }): boolean {
  try {
    res.writeHead(status, head);
    return true;
  } catch (err) {
    log.error({ err }, 'the answer\'s headers were refused: answered 500');
    res.writeHead(500, { 'content-type': 'text/plain; charset=UTF-8', 'content-length': Buffer.byteLength(INTERNAL_ERROR_TEXT) });
    res.end(INTERNAL_ERROR_TEXT);
    return false;
  }
}

/**
 * Bodies from this size are compressed in zlib's thread pool: a long list compressed in the
 * request's own turn would hold up every other request. Smaller ones (most answers: a KS, an
 * entry, an error) take a few microseconds in place, less than the trip to the pool.
 */
const GZIP_OFF_LOOP_BYTES = 16 * 1024;
const gzipAsync = promisify(gzip);

/**
 * An API answer (api_v3's and v2's, errors included): gzipped when Accept-Encoding allows gzip and
 * never otherwise, with `Vary: Accept-Encoding` either way, so a cache keeps the two apart.
 * `gzipped` gives the compressed body when the caller keeps one, instead of compressing again.
 */
export async function sendApiAnswer(request: FastifyRequest, reply: FastifyReply, r: { status: number; headers: Record<string, string>; body: string | Buffer }, gzipped?: () => Promise<Buffer>): Promise<FastifyReply> {
  let body = typeof r.body === 'string' ? Buffer.from(r.body, 'utf8') : r.body;
  const headers: Record<string, string> = { ...r.headers, vary: 'Accept-Encoding' };
  if (acceptsGzip(request.headers['accept-encoding'])) {
    body = gzipped ? await gzipped() : body.length >= GZIP_OFF_LOOP_BYTES ? await gzipAsync(body) : gzipSync(body);
    headers['content-encoding'] = 'gzip';
  }
  reply.code(r.status).headers(headers);
  return reply.send(request.method === 'HEAD' ? undefined : body);
}

/** A header's value in writeHead's object or flat [name, value, ...] list, its name in any case. */
function headerIn(head: OutgoingHttpHeaders | string[], name: string): string | string[] | number | undefined {
  if (Array.isArray(head)) {
    const values: string[] = [];
    for (let i = 0; i < head.length; i += 2) if (head[i].toLowerCase() === name) values.push(head[i + 1]);
    return values.length > 1 ? values : values[0];
  }
  for (const [k, v] of Object.entries(head)) if (k.toLowerCase() === name) return v;
  return undefined;
}

/**
 * An answer given before routing (src/server.ts EarlyAnswer): sent, counted in /metrics and
 * logged as Fastify logs a routed request, with the route's own line between (`line`) and its
 * bindings on every line; the latency counted ends when the answer is handed to the socket.
 */
export function sendEarly(app: FastifyInstance, req: IncomingMessage, res: ServerResponse, a: {
  family: RouteFamily; started: number; status: number; head: OutgoingHttpHeaders | string[]; body: string | Buffer; bytes: number;
  log?: () => { bindings: Record<string, unknown>; line?: [Record<string, unknown>, string] };
}): true {
  const method = req.method ?? 'GET';
  if (!writeHeadOr500(res, a.status, a.head, app.log)) return true;
  res.end(method === 'HEAD' ? undefined : a.body);
  const elapsed = performance.now() - a.started;
  app.metrics.observe({ family: a.family, method, status: a.status, seconds: elapsed / 1000, bytes: method === 'HEAD' ? 0 : a.bytes, errorCode: null });
  if ((app.log as { isLevelEnabled?: (level: string) => boolean }).isLevelEnabled?.('info')) {
    const { bindings, line } = a.log?.() ?? { bindings: {} };
    const id = requestId();
    const log = app.log.child({ reqId: id, ...bindings });
    log.info({ req: { method, url: req.url, id } }, 'incoming request');
    if (line) log.info(line[0], line[1]);
    log.info({ res: { statusCode: a.status, method, url: req.url }, responseTime: elapsed, ...(line ? { code: 0 } : {}) }, 'request completed');
  }
  return true;
}
