// Rendered playManifest answers kept in memory, as Kaltura keeps them (kPlayManifestCacher): a
// popular public entry is asked for the same manifest URL by every player, and the pipeline would
// build the same bytes each time. Only answers that are a pure function of the URL and the
// catalog are kept: no KS, kt or expiry in the request, no access-control rules, no tokenizer, no
// schedule dates on the entry (the pipeline says so by giving them a cache age > 0, and
// `storableAnswer` checks the rest); and, for their second only, anonymous answers that differ
// from one second to the next by kdeliver's own media signature alone (Playback.sameWithinSecond:
// an entry whose rules only the URL and the catalog decide, such as a flavor limit). An answer is
// dropped when the catalog changes (its generation). The route calls the pipeline through
// withAnswerCache. Both this cache and the decision store keep an answer from its key's second
// asking (src/cache/asked-once.ts says why). A request with a KS in its URL is answered, once its
// KS is verified, from the kept answers of KS-bearing requests (src/cache/session-answers.ts, the
// third tier) when the pipeline said its answer may be kept so (Playback.keptSession).
import type { PlayRequest } from '../request/play-request.js';
import type { PlayAnswer, PlayManifestEnv } from '../playback.js';
import type { KeptSession, Playback } from '../types/playback.js';
import type { Rendered } from '../render/types.js';
import { cachingHeaders } from '../render/caching.js';
import type { CachedAnswer, DecisionStore, ManifestCache, SessionAnswerStore } from '../env.js';
import { OrderedMap } from '../ordered-map.js';
import { createAskedOnce } from './asked-once.js';
import { generationGate } from './generation-gate.js';
import { createSessionAnswerStore, fillSessionAnswer, makeSessionAnswer, sessionKeyOf, type SessionAnswer, type SessionKey } from './session-answers.js';

/** Largest answer worth keeping; manifests are a few kB. */
const MAX_ANSWER_BYTES = 256 * 1024;

/**
 * Query parameters left out of the key, as Kaltura's cacher leaves them out (its
 * playmanifest_ignore_params): they feed only analytics, and players make a fresh playSessionId
 * for every viewing. Kaltura also ignores `callback`, but kdeliver's JSONP body carries it, so it
 * stays in the key. `referrer` (the query parameter; the Referer header was never in the key) is
 * read by access-control rules only (src/access/evaluate.ts, the site condition), and an answer
 * is kept only when its entry has no rules (cache age > 0; with a kt, storableAnswer refuses it):
 * so no kept answer depends on it. The player puts a new page URL in it for every viewing.
 */
const IGNORED_PARAMS = new Set(['playSessionId', 'clientTag', '_', 'referrer']);
const MAY_HOLD_IGNORED = /(?:^|&)(?:playSessionId|clientTag|_|referrer)(?:[=&]|$)/;

/**
 * A KS in the path or the query (src/request/play-request.ts reads it from either): an answer
 * with a KS is never kept (storableAnswer), so such a request gets no key and is not looked up.
 * Loose on purpose: a URL it matches without a KS only goes uncached.
 */
const CARRIES_KS = /\/ks\/|[?&]ks=/;

/** A kept answer, sent again as it is, or a fresh one with its payload (as the route sends it). */
export type KeptOrFresh = Kept | Fresh;
export type Kept = { kept: CachedAnswer; fresh?: undefined; body?: undefined };
export type Fresh = { kept?: undefined; fresh: PlayAnswer; body: string | Buffer };

/** What the cache key is made of: read off the request without building its environment. */
export interface AnswerKeyFacts {
  method: string;
  isHttps: boolean;
  baseUrl: string;
  rawUrl: string;
  ks: string | string[] | undefined;
  /** The request's Unix second (an answer kept for its second answers in that second only). */
  now: number;
  /** The client's address (a KS's IP restriction is checked against it before a kept session answer). */
  clientIp: string;
}

/** The answer cache around playManifest's one call, as the route and its before-routing answerer use it. */
export interface AnswerCache {
  /**
   * The route's call: the kept answer for this URL and catalog generation when there is one (a
   * KS-bearing request's once its KS is verified); else the call, whose answer is kept when it
   * may be. A kept answer comes back synchronously when no KS is to be verified (no promise per
   * request), a fresh answer as a promise (the catalog is asynchronous).
   */
  cachedAnswer(facts: AnswerKeyFacts, env: () => PlayManifestEnv): Kept | Promise<Kept | Fresh>;
  /**
   * A kept answer only, before the request is routed, or null when the route must answer (a miss
   * is not counted: the route asks again). `facts.clientIp` null: the client's address is not
   * known yet (behind a trusted proxy it is Fastify's to read), so no KS-bearing answer.
   */
  keptOnly(facts: Omit<AnswerKeyFacts, 'clientIp'> & { clientIp: string | null }): CachedAnswer | null | Promise<CachedAnswer | null>;
}

/**
 * The answer cache around playManifest's one call (src/playback.ts answerPlayManifest).
 * `payloadOf` makes the body as the route will send it, so a kept answer is that body byte for
 * byte. The request's environment is built only when the call runs: a kept answer is the hot
 * path of a popular entry, and needs only the key's few facts.
 */
export function withAnswerCache(
  cache: ManifestCache, generation: () => number, answer: (env: PlayManifestEnv) => Promise<PlayAnswer>, payloadOf: (r: Rendered) => string | Buffer,
  session: SessionCheck,
): AnswerCache {
  const sessions = cache.sessions as SessionAnswerStore<KeptSession, SessionAnswer>;
  const keepFresh = async (key: string | null, sk: SessionKey | null, gen: number, env: PlayManifestEnv, pending: Promise<PlayAnswer>): Promise<Fresh> => {
    const fresh = await pending;
    const body = payloadOf(fresh.rendered);
    const keep = key !== null && mayKeep(fresh.request, fresh.playback) && cache.askedBefore(key)
      ? storableAnswer(fresh.request, fresh.playback, fresh.rendered, body, env.now, gen) : null;
    if (keep) cache.put(key!, keep);
    if (sk) keepForSession(sessions, sk, fresh, body, env.now, gen, session.secret);
    return { fresh, body };
  };
  /** The request's key without its KS, when its URL carries one and such answers are kept. */
  const sessionKey = (facts: Omit<AnswerKeyFacts, 'clientIp'>) => sessionKeyOf(facts.method, facts.isHttps, facts.baseUrl, facts.rawUrl, facts.ks, keyUrl);
  /** The kept answer of a KS-bearing request, once its KS is verified and its session facts found kept. */
  const forSession = async (facts: Omit<AnswerKeyFacts, 'clientIp'>, clientIp: string, sk: SessionKey, kept: KeptSession, gen: number): Promise<CachedAnswer | null> => {
    const facet = await session.facetOf(sk.ks, clientIp, facts.rawUrl, facts.now, kept);
    const a = facet === null ? undefined : sessions.answer(sk.key, facet, gen);
    if (!a) return null;
    sessions.hit();
    return fillSessionAnswer(a, sk.ks, facts.now, session.secret, gen);
  };
  /**
   * The kept answer for these facts (a KS-bearing one as a promise, its KS verified first), or
   * null; with the key, the key without the KS and the generation the pipeline keeps under.
   * `counted`: a miss is counted (the route's asking; before routing, the route asks again).
   */
  function lookup(facts: Parameters<AnswerCache['keptOnly']>[0], counted: boolean) {
    const key = cache.keyOf(facts.method, facts.isHttps, facts.baseUrl, facts.rawUrl, facts.ks);
    // the generation before the catalog is read: an answer built while it changes is kept under
    // the older generation, and so never served after the change
    const gen = generation();
    if (key !== null) {
      const kept = counted ? cache.get(key, gen, facts.rawUrl, facts.now) : cache.peek(key, gen, facts.rawUrl, facts.now);
      return { key, sk: null, gen, kept: kept ?? null };
    }
    const sk = sessionKey(facts);
    const ip = facts.clientIp;
    const kept = sk && ip !== null ? sessions.session(sk.key, gen) : undefined;
    return { key, sk, gen, kept: sk && ip !== null && kept ? forSession(facts, ip, sk, kept, gen) : null };
  }
  function cachedAnswer(facts: AnswerKeyFacts, makeEnv: () => PlayManifestEnv): Kept | Promise<Kept | Fresh> {
    const { key, sk, gen, kept } = lookup(facts, true);
    if (kept instanceof Promise) {
      return kept.then<Kept | Fresh>((a) => {
        if (a) return { kept: a };
        const env = makeEnv();
        return keepFresh(key, sk, gen, env, answer(env));
      });
    }
    if (kept) return { kept };
    const env = makeEnv();
    return keepFresh(key, sk, gen, env, answer(env));
  }
  function keptOnly(facts: Parameters<AnswerCache['keptOnly']>[0]): CachedAnswer | null | Promise<CachedAnswer | null> {
    return lookup(facts, false).kept;
  }
  return { cachedAnswer, keptOnly };
}

/**
 * What the answer cache needs to give a kept answer of a KS-bearing request: the secret of
 * kdeliver's media signatures, and the session check (src/playback.ts keptSessionFacet): the
 * session facts of a verified, non-admin KS of the entry's partner, or null (the pipeline then
 * answers, or refuses, the request).
 */
export interface SessionCheck {
  secret: string;
  facetOf(ks: string, clientIp: string, rawUrl: string, now: number, kept: KeptSession): Promise<string | null>;
}

/** The raw URL without the query parameters no answer depends on. */
export function keyUrl(rawUrl: string): string {
  const q = rawUrl.indexOf('?');
  if (q < 0) return rawUrl;
  const query = rawUrl.slice(q + 1);
  if (!MAY_HOLD_IGNORED.test(query)) return rawUrl;
  const kept = query.split('&').filter((pair) => {
    const eq = pair.indexOf('=');
    return !IGNORED_PARAMS.has(eq < 0 ? pair : pair.slice(0, eq));
  });
  return kept.length ? `${rawUrl.slice(0, q)}?${kept.join('&')}` : rawUrl.slice(0, q);
}

/**
 * The answer to keep for this request, or null when it may depend on more than the URL, the
 * catalog and (for an answer the same within its second) the second: sessions, tokens and expiry
 * (time), rules that read the client (IP, referrer, country), tokenizers (time, IP), schedule
 * dates (time), extra X-Kaltura headers.
 */
export function storableAnswer(req: PlayRequest, pb: Playback, rendered: Rendered, body: string | Buffer, now: number, generation: number): CachedAnswer | null {
  if (!mayKeep(req, pb)) return null;
  const kept = keptHead(pb, rendered, now);
  if (!kept) return null;
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  if (bytes > MAX_ANSWER_BYTES) return null;
  const head = [...kept.head, 'content-length', String(bytes)];
  const answer: CachedAnswer = { status: rendered.status, head, timedAt: kept.timedAt, body, bytes, cacheAge: pb.cacheAge, format: pb.requestedFormat, generation };
  if (pb.cacheAge <= 0) answer.second = now;
  if (rendered.quotesRequestUrl) answer.exactUrl = req.rawUri;
  return answer;
}

/**
 * A kept answer's status and headers (content-length aside: the caller adds it), with where its
 * time-dependent caching headers sit; null when the answer is not one to keep (not a 200 or 302,
 * or headers the kept answer could not remake).
 */
function keptHead(pb: Playback, rendered: Rendered, now: number): { status: number; head: string[]; timedAt: [string, number][] } | null {
  if (rendered.status !== 200 && rendered.status !== 302) return null;
  // the caching headers must be exactly the ones remade on a hit
  const timed = cachingHeaders(pb.cacheAge, now);
  const head: string[] = [];
  const timedAt: [string, number][] = [];
  for (const [k, v] of Object.entries(rendered.headers)) {
    if (k.toLowerCase() === 'content-length') return null;
    if (k in timed) {
      if (timed[k] !== v) return null;
      timedAt.push([k, head.length + 1]);
    }
    for (const x of Array.isArray(v) ? v : [v]) head.push(k.toLowerCase(), x);
  }
  if (timedAt.length !== Object.keys(timed).length) return null;
  return { status: rendered.status, head, timedAt };
}

/**
 * A fresh answer of a KS-bearing request kept as a session answer (src/cache/session-answers.ts),
 * when its playback says it may be (Playback.keptSession), its KS is the one in its URL, and its
 * URL and session facts were asked before.
 */
function keepForSession(sessions: SessionAnswerStore<KeptSession, SessionAnswer>, sk: SessionKey, fresh: PlayAnswer, body: string | Buffer, now: number, generation: number, secret: string): void {
  const session = fresh.playback.keptSession;
  if (!session || fresh.request.ks !== sk.ks || fresh.rendered.quotesRequestUrl) return;
  if (!sessions.askedBefore(sk.key, session.facet)) return;
  const kept = keptHead(fresh.playback, fresh.rendered, now);
  if (!kept || body.length > MAX_ANSWER_BYTES) return;
  const answer = makeSessionAnswer(fresh, kept, body, sk.ks, now, secret);
  if (answer) sessions.put(sk.key, session.facet, session, generation, answer);
}

/** storableAnswer's checks of what the answer depends on, before it is built: cheap, asked first. */
function mayKeep(req: PlayRequest, pb: Playback): boolean {
  if ((pb.cacheAge <= 0 && !pb.sameWithinSecond) || (req.method !== 'GET' && req.method !== 'HEAD')) return false;
  if (req.ks || req.kt || req.expiry !== null || pb.ks || pb.kalturaHeaders.length) return false;
  return pb.entry.startDate === null && pb.entry.endDate === null;
}

/** The kept answer's headers as of `now` (Unix seconds). */
export function answerHead(a: CachedAnswer, now: number): string[] {
  const timed = cachingHeaders(a.cacheAge, now);
  const head = a.head.slice();
  for (const [k, i] of a.timedAt) head[i] = timed[k];
  return head;
}

/** At most `maxEntries` answers (0: keep none); the oldest stored goes first. */
export function createManifestCache(maxEntries: number, maxBytes = 64 * 1024 * 1024): ManifestCache {
  // OrderedMaps: on a big catalog nearly every answer is a new key, and the oldest goes for it
  // (src/ordered-map.ts says why not a plain Map)
  const answers = new OrderedMap<CachedAnswer>();
  const askedOnce = createAskedOnce(maxEntries);
  const decisions = createDecisionStore(maxEntries);
  // a session answer is a manifest too: the same bound of entries, and a quarter of the bytes
  const sessions = createSessionAnswerStore(maxEntries, maxBytes / 4);
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  const sizeOf = (key: string, a: CachedAnswer) => key.length + a.bytes + 200;
  const remove = (key: string) => {
    const a = answers.get(key);
    if (!a) return;
    answers.delete(key);
    bytes -= sizeOf(key, a);
  };
  // every answer of an older generation goes; its key is remembered as asked, so that asked again
  // it keeps at once. The gate keeps only answers of the newest generation, so a kept answer found
  // is of the request's generation, and goes stale only with its second.
  const current = generationGate((newest) => answers.deleteWhere((a) => a.generation < newest, (key, a) => {
    bytes -= sizeOf(key, a);
    askedOnce.note(key);
  }));
  const find = (key: string, generation: number, rawUrl: string | undefined, now: number): CachedAnswer | undefined => {
    if (!current(generation)) return undefined;
    const a = answers.get(key);
    if (a === undefined) return undefined;
    if (a.second !== undefined && a.second !== now) {
      remove(key);
      // asked again after it was kept: its fresh answer is kept at once
      askedOnce.note(key);
      return undefined;
    }
    return a.exactUrl === undefined || a.exactUrl === rawUrl ? a : undefined;
  };
  return {
    keyOf(method, isHttps, baseUrl, rawUrl, ksHeader) {
      // a POST's body is part of its request (routes/play-manifest.ts): its URL alone names no answer
      if (maxEntries <= 0 || (method !== 'GET' && method !== 'HEAD') || ksHeader !== undefined || CARRIES_KS.test(rawUrl)) return null;
      return `${method} ${isHttps ? 's' : ''}${baseUrl} ${keyUrl(rawUrl)}`;
    },
    get(key, generation, rawUrl, now) {
      const a = find(key, generation, rawUrl, now);
      if (a) hits++;
      else misses++;
      return a;
    },
    peek(key, generation, rawUrl, now) {
      const a = find(key, generation, rawUrl, now);
      if (a) hits++;
      return a;
    },
    askedBefore: (key) => askedOnce.askedBefore(key),
    put(key, answer) {
      if (maxEntries <= 0 || !current(answer.generation)) return;
      remove(key);
      const size = sizeOf(key, answer);
      if (size > maxBytes) return;
      while (answers.size >= maxEntries || bytes + size > maxBytes) remove(answers.oldest()!);
      answers.set(key, answer);
      bytes += size;
    },
    stats: () => ({
      entries: answers.size, bytes, hits, misses, firstAskings: askedOnce.size,
      decisionHits: decisions.hits, decisionEntries: decisions.size(), decisionFirstAskings: decisions.firstAskings(),
      sessionHits: sessions.stats().hits, sessionEntries: sessions.stats().entries,
    }),
    decisions,
    sessions,
  };
}

/**
 * At most `maxEntries` values (0: none), each valid for the catalog generation it was put with;
 * the oldest put goes first. What a value is, and when one may be kept, is src/playback.ts's.
 */
export function createDecisionStore(maxEntries: number): DecisionStore<unknown> & { hits: number; size(): number; firstAskings(): number } {
  const kept = new OrderedMap<{ generation: number; value: unknown }>();
  const askedOnce = createAskedOnce(maxEntries);
  // every decision of an older generation goes; its key is remembered as asked, so that asked
  // again it keeps at once. What is kept is then of the newest generation only.
  const current = generationGate((newest) => kept.deleteWhere((k) => k.generation < newest, (key) => askedOnce.note(key)));
  return {
    hits: 0,
    size: () => kept.size,
    firstAskings: () => askedOnce.size,
    askedBefore: (key) => askedOnce.askedBefore(key),
    get(key, generation) {
      return current(generation) ? kept.get(key)?.value : undefined;
    },
    put(key, generation, value) {
      if (current(generation)) kept.setWithin(key, { generation, value }, maxEntries);
    },
    hit() {
      this.hits++;
    },
  };
}
