// The api_v3 answer cache: the answer to a read-only request kept in memory and sent again, as
// Kaltura's response cacher keeps its answers. The case it is first for is the player's first
// call: the Kaltura web player's multirequest (session.startWidgetSession, baseEntry.list,
// baseEntry.getPlaybackContext, metadata_metadata.list) is the same bytes for every viewer of an
// entry, and making it runs a KS generation, three KS verifications, the playManifest pipeline
// three times and a serialisation. The second is a caller that asks the same thing again under one
// KS: a site's back end listing a gallery with its admin KS on every page view.
//
// What is kept (readKey says whether a request may be):
// - anonymous requests: no `ks`, an empty one, or (in a multirequest) a `{N:result...}` token,
//   which names an earlier sub-request's result and so a session the answer itself made (the
//   player's later calls carry `{1:result:ks}`);
// - requests with a KS of the caller's own, under that KS string only (it is in the key: the
//   answers quote it, so one session's answer is never another's), while it verifies as it did:
//   never past its expiry, dropped with everything else when any KS is revoked (a revocation is a
//   catalog change), keyed on the client's address too when it is restricted to addresses, and
//   never kept when it is restricted to URIs (its check reads the raw URL, whose ignored
//   parameters are not in the key) or to a number of actions (each call must be counted). A KS
//   that does not verify gets an API error, which is never kept;
// - read-only actions only (CACHEABLE_ACTIONS): never session.start, a write or an upload;
// - answers without an API error in them, HTTP 200, not a file;
// - from the second asking of its key with its request facts, as playManifest's answers
//   (src/cache/asked-once.ts says why; here a player's fresh KS per viewing is one more request
//   asked once). An answer that expires is kept again at its next asking; after a catalog change,
//   which drops every answer at once, at its second.
// The key: method, scheme and public host, the path, and the parameters (path pairs, query and
// body, as the front controller merges them) but for those no answer depends on (kalsig,
// clientTag); and, learned when the answer is made, as Kaltura learns its "extra fields", the request
// facts that the access-control rules of the entries the answer was made from read: the client
// address (and the forwarded header an IP condition trusts), its country, its user agent, the
// referrer's host, a named header (FactReads, filled by src/api/playback-context.ts). A rule on
// the time, the entry's schedule or a hash makes the answer unkept. An answer is kept under the
// catalog generation it was made in (any change, on any node, drops every answer) for at most
// KDELIVER_API_CACHE_SECONDS (600, Kaltura's anonymous expiry) and never past five minutes
// before the expiry of the widget KS it carries. It is sent as it was made, its executionTime
// included (Kaltura's cacher does the same), with `X-Kaltura: cached-dispatcher,…` (or
// `cached-with-extra-fields,…` when request facts are in its key).
import { createHash } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { referrerHost } from '../access/evaluate.js';
import { NoCountryDatabaseError } from '../access/geo.js';
import type { AccessRule, Condition, Entry } from '../catalog/types.js';
import type { Ks } from '../access/ks.js';
import { headerValue, type HttpFacts } from '../request/http-facts.js';
import { subRequests, MAX_SUB_REQUESTS } from './multirequest.js';
import { BodyError, mergeRequestParams, parseBody, pathPairs, queryParams, type Params } from './params.js';
import type { ParsedApiRequest } from './front-controller.js';
import { OrderedMap } from '../ordered-map.js';
import { createAskedOnce } from '../cache/asked-once.js';

/** service.action (lower case) whose answers may be kept: they read and never write. */
export const CACHEABLE_ACTIONS: ReadonlySet<string> = new Set([
  'session.startwidgetsession',
  'baseentry.get', 'baseentry.list', 'baseentry.getplaybackcontext',
  'media.get', 'media.list',
  'metadata_metadata.list',
  'flavorasset.get', 'flavorasset.list', 'flavorasset.getbyentryid', 'flavorasset.getwebplayablebyentryid',
  'flavorasset.getflavorassetswithparams', 'flavorasset.geturl',
  'system.ping',
]);

/** Parameters no answer depends on, left out of the key (as Kaltura's cacher leaves them out). */
const IGNORED_PARAMS = ['kalsig', 'clientTag'];
/** A kept answer is never sent later than this before the expiry of a KS it carries. */
export const KS_MARGIN_SECONDS = 300;

/** What the key of a request is made of, read off the HTTP request without building its environment. */
export interface ApiKeyFacts {
  method: string;
  isHttps: boolean;
  baseUrl: string;
  /** Path after /api_v3. */
  path: string;
  query: string;
  contentType: string | undefined;
  body: Buffer | undefined;
}

/** A ks parameter that is absent, empty, a result token or a KS string (any other shape is refused by the call, and not kept). */
const isKsParam = (ks: unknown): boolean => ks === undefined || ks === null || typeof ks === 'string';

const actionOf = (p: Params): string | null =>
  (typeof p.service === 'string' && typeof p.action === 'string' ? `${p.service.toLowerCase()}.${p.action.toLowerCase()}` : null);

/** The parameters without the ignored ones (top level and each sub-request). */
function keyParams(params: Params): Params {
  const out: Params = { ...params };
  for (const k of IGNORED_PARAMS) delete out[k];
  for (const k of Object.keys(out)) {
    const v = out[k];
    if (/^\d+$/.test(k) && v && typeof v === 'object' && !Array.isArray(v)) {
      const sub: Params = { ...(v as Params) };
      for (const i of IGNORED_PARAMS) delete sub[i];
      out[k] = sub;
    }
  }
  return out;
}

/**
 * The key of a read-only request, or null when its answer may not be kept: an action outside
 * CACHEABLE_ACTIONS, an upload, a body that does not parse, a ks that is not a string. A KS is in
 * the key as one of the parameters. With it the parameters as read (null for a body that does not
 * parse), so the front controller need not read them again (src/api/front-controller.ts
 * ApiHttpRequest.parsed).
 */
export interface ReadKey {
  key: string | null;
  parsed: ParsedApiRequest | null;
}
const NO_KEY: ReadKey = { key: null, parsed: null };
const digestOf = (text: string): string => createHash('md5').update(text).digest('hex');
export function readKey(f: ApiKeyFacts): ReadKey {
  if (f.method !== 'GET' && f.method !== 'POST') return NO_KEY;
  let parsed: ParsedApiRequest;
  try {
    const body = parseBody(f.contentType, f.body);
    parsed = { params: mergeRequestParams(pathPairs(f.path), queryParams(f.query), body.params), files: body.files };
  } catch (e) {
    if (e instanceof BodyError) return NO_KEY;
    throw e;
  }
  const { params } = parsed;
  const none = { key: null, parsed };
  if (parsed.files.length || !isKsParam(params.ks)) return none;
  if (typeof params.service === 'string' && params.service.toLowerCase() === 'multirequest') {
    const subs = subRequests(params);
    if (subs.length === 0 || subs.length > MAX_SUB_REQUESTS) return none;
    for (const { params: s } of subs) {
      const a = actionOf(s);
      if (a === null || !CACHEABLE_ACTIONS.has(a) || !isKsParam(s.ks)) return none;
    }
  } else if (!CACHEABLE_ACTIONS.has(actionOf(params) ?? '')) {
    return none;
  }
  return { key: `${f.method} ${f.isHttps ? 's' : ''}${f.baseUrl} ${f.path}\n${JSON.stringify(keyParams(params))}`, parsed };
}

/**
 * What making one answer read besides its parameters and the catalog: filled while the answer is
 * made (the rules of each entry it played, the KSs it issued, its errors), read when it is kept.
 */
export interface FactReads {
  /** Request facts the answer depends on: 'ip', 'country', 'userAgent', 'site', 'header:<name>'. */
  facts: Set<string>;
  /** Why the answer may not be kept, or null. */
  refused: string | null;
  /** Unix seconds, of the request's clock, after which the answer may not be sent (a KS it carries or was asked with expires soon after). */
  until: number;
}

export const newFactReads = (): FactReads => ({ facts: new Set(), refused: null, until: Infinity });

function noteCondition(reads: FactReads, c: Condition): void {
  switch (c.type) {
    case 'authenticated': case 'sessionType': case 'assetProperties': return; // the session, the catalog
    case 'ip':
      reads.facts.add('ip');
      if (c.httpHeader) reads.facts.add(`header:${c.httpHeader.toLowerCase()}`);
      return;
    case 'country': reads.facts.add('country'); return;
    case 'site': reads.facts.add('site'); return;
    case 'userAgent': reads.facts.add('userAgent'); return;
    case 'httpHeader': reads.facts.add(`header:${c.headerName.toLowerCase()}`); return;
    case 'or': for (const x of c.conditions ?? []) noteCondition(reads, x); return;
    default: reads.refused ??= `a ${c.type} condition`; // the time, the schedule, a hash
  }
}

/** An entry the answer was made from: what its rules read, and whether its schedule makes it time-dependent. */
export function noteEntryReads(reads: FactReads | undefined, rules: readonly AccessRule[], entry: Pick<Entry, 'startDate' | 'endDate'>): void {
  if (!reads) return;
  if (entry.startDate !== null || entry.endDate !== null) reads.refused ??= 'a scheduled entry';
  for (const r of rules) for (const c of r.conditions ?? []) noteCondition(reads, c);
}

/** A KS the answer carries, expiring at `expiry` (Unix seconds). */
export function noteIssuedKs(reads: FactReads | undefined, expiry: number): void {
  if (reads) reads.until = Math.min(reads.until, expiry - KS_MARGIN_SECONDS);
}

/**
 * A KS a call ran under, verified (src/api/dispatch.ts): the answer is not sent once it has
 * expired, depends on the client's address when the KS is restricted to addresses, and is not kept
 * when it is restricted to URIs (verifyKs in src/access/ks.ts reads the raw URL) or to a number of
 * actions.
 */
export function noteSessionKs(reads: FactReads | undefined, ks: Pick<Ks, 'expiry' | 'privileges'>): void {
  if (!reads) return;
  reads.until = Math.min(reads.until, ks.expiry - 1);
  if (ks.privileges.has('iprestrict')) reads.facts.add('ip');
  if (ks.privileges.has('urirestrict')) reads.refused ??= 'a KS restricted to URIs';
  // every call under it must be counted (src/api/session.ts), so none is answered from memory
  if (ks.privileges.has('actionslimit')) reads.refused ??= 'a KS limited to a number of actions';
}

/** The client's country as a key part: '' when unknown, and where no database is configured (every such answer is the same refusal). */
function countryFact(http: Pick<HttpFacts, 'country'>): string {
  try {
    return http.country() ?? '';
  } catch (e) {
    if (e instanceof NoCountryDatabaseError) return '';
    throw e;
  }
}

/** The value of a request fact, as the rules read it (src/request/play-request.ts, src/access/evaluate.ts). */
export function factValue(http: Pick<HttpFacts, 'clientIp' | 'headers' | 'country'>, fact: string): string {
  switch (fact) {
    case 'ip': return http.clientIp;
    case 'country': return countryFact(http);
    case 'userAgent': return headerValue(http.headers, 'user-agent') ?? '';
    case 'site': return referrerHost(headerValue(http.headers, 'referer') ?? '') ?? '';
    default: {
      const v = http.headers[fact.slice('header:'.length)];
      return Array.isArray(v) ? v.join(', ') : v ?? '';
    }
  }
}

export interface KeptApiAnswer {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
  /** The gzipped body, made once on the first answer to a client that takes gzip. */
  gzipped?: Buffer;
  /** The X-Kaltura header of a hit. */
  tag: string;
  generation: number;
  /** Date.now() after which it is not sent. */
  untilMs: number;
  /** Its key in the cache (with the request facts). */
  key: string;
  /** The route's flat header lists of a hit, plain and gzipped, made on the first hit of each. */
  head?: string[];
  gzipHead?: string[];
}

type Slot = { kind: 'facts'; facts: string[]; generation: number; untilMs: number } | (KeptApiAnswer & { kind: 'answer' });

export interface ApiCacheStats {
  entries: number;
  bytes: number;
  hits: number;
  misses: number;
  /** Requests asked once so far (fingerprints), whose answer is kept at their second asking. */
  firstAskings: number;
}

export interface ApiAnswerCache {
  /**
   * readKey, remembered per request bytes once its answer is kept: the player sends the same
   * bytes for every viewer of an entry, and reading its parameters again would cost more than the
   * answer's send. null when the cache is off or the request may not be kept.
   */
  keyOf(f: ApiKeyFacts): ReadKey;
  /** The kept answer for this key, generation and request facts (ms: Date.now()), or undefined. */
  get(key: string, generation: number, nowMs: number, fact: (name: string) => string): KeptApiAnswer | undefined;
  /**
   * Keeps an answer made under `generation` when what it read allows and its key (with the
   * request facts it read) was put once before; returns it, or null.
   * `clock`: the request's second (RequestEnv.now), which `reads.until` counts in.
   */
  put(key: string, generation: number, nowMs: number, clock: number, reads: FactReads, fact: (name: string) => string,
    answer: { status: number; headers: Record<string, string>; body: Buffer; gzipped?: Buffer }): KeptApiAnswer | null;
  /** The gzipped body of a kept answer (made and counted once). */
  gzipped(a: KeptApiAnswer): Buffer;
  stats(): ApiCacheStats;
}

export interface ApiCacheLimits {
  maxEntries: number;
  maxBytes: number;
  maxSeconds: number;
}

/** At most `maxEntries` answers and learned fact lists (0: none) in `maxBytes`; the oldest stored goes first. */
export function createApiAnswerCache({ maxEntries, maxBytes, maxSeconds }: ApiCacheLimits): ApiAnswerCache {
  // OrderedMaps: the oldest goes for each new key (src/ordered-map.ts says why not a plain Map)
  const slots = new OrderedMap<Slot>();
  // request bytes → key, of requests up to 16 kB whose answer (or its facts) is kept
  const aliases = new OrderedMap<string>();
  // keys asked once, whose answer is kept when asked again (the header says why)
  const askedOnce = createAskedOnce(maxEntries);
  let aliasBytes = 0;
  const MAX_ALIASED = 16 * 1024;
  const sizes = new Map<string, number>();
  let bytes = 0;
  let hits = 0;
  let misses = 0;
  let generationSeen = -1;
  const remove = (key: string) => {
    if (!slots.delete(key)) return;
    bytes -= sizes.get(key)!;
    sizes.delete(key);
  };
  const sizeOf = (key: string, s: Slot) => key.length * 2 + 200 + (s.kind === 'answer' ? s.body.length + (s.gzipped?.length ?? 0) : s.facts.join().length * 2);
  const store = (key: string, s: Slot): boolean => {
    remove(key);
    const size = sizeOf(key, s);
    if (size > maxBytes / 4) return false;
    while (slots.size > 0 && (slots.size >= maxEntries || bytes + size > maxBytes)) remove(slots.oldest()!);
    slots.set(key, s);
    sizes.set(key, size);
    bytes += size;
    return true;
  };
  // a catalog change drops everything at once (the memory too, not only at the next lookup)
  const sameGeneration = (generation: number) => {
    if (generation === generationSeen) return;
    slots.clear();
    sizes.clear();
    bytes = 0;
    generationSeen = generation;
  };
  const extended = (key: string, facts: readonly string[], fact: (name: string) => string) => {
    let k = key;
    for (const f of facts) k += `\n${f}=${fact(f)}`;
    return k;
  };
  const live = (s: Slot, key: string, generation: number, nowMs: number): boolean => {
    if (s.generation === generation && nowMs < s.untilMs) return true;
    remove(key);
    // an answer that expired was asked again: its next asking keeps it
    if (s.kind === 'answer') askedOnce.note(key);
    return false;
  };
  return {
    keyOf(f) {
      if (maxEntries <= 0) return NO_KEY;
      const bodyBytes = f.body?.length ?? 0;
      if (bodyBytes + f.query.length + f.path.length > MAX_ALIASED) return readKey(f);
      // latin1: one character per byte, so two different bodies never read as the same text
      const raw = `${f.method} ${f.isHttps ? 's' : ''}${f.baseUrl} ${f.path}?${f.query} ${f.contentType ?? ''}\n${f.body ? f.body.toString('latin1') : ''}`;
      const known = aliases.get(raw);
      if (known !== undefined) return { key: known, parsed: null };
      const read = readKey(f);
      // remembered from the third asking, the first after the answer was kept (or the kept answer
      // of another request with the same key): a request asked once costs no alias
      if (read.key === null || !slots.has(read.key)) return read;
      const size = (raw.length + read.key.length) * 2 + 100;
      while (aliases.size > 0 && (aliases.size >= maxEntries || aliasBytes + size > maxBytes / 4)) {
        const oldest = aliases.oldest()!;
        aliasBytes -= (oldest.length + aliases.get(oldest)!.length) * 2 + 100;
        aliases.delete(oldest);
      }
      aliases.set(raw, read.key);
      aliasBytes += size;
      return read;
    },
    get(key, generation, nowMs, fact) {
      if (maxEntries <= 0) return undefined;
      sameGeneration(generation);
      let k = key;
      let slot = slots.get(k);
      if (slot?.kind === 'facts') {
        // followed even when it has expired (it never expires before the answers it leads to): an
        // expired answer under it is then noted as asked (live), and kept again at its next asking
        k = extended(key, slot.facts, fact);
        live(slot, key, generation, nowMs);
        slot = slots.get(k);
      }
      if (slot && slot.kind === 'answer' && live(slot, k, generation, nowMs)) {
        hits++;
        return slot;
      }
      misses++;
      return undefined;
    },
    put(key, generation, nowMs, clock, reads, fact, answer) {
      // made under another generation than the last lookup's: the catalog changed meanwhile
      if (maxEntries <= 0 || reads.refused !== null || answer.status !== 200 || generation !== generationSeen) return null;
      const untilMs = nowMs + Math.min(maxSeconds, reads.until - clock) * 1000;
      if (untilMs <= nowMs) return null;
      const facts = [...reads.facts].sort();
      const k = facts.length ? extended(key, facts, fact) : key;
      if (!askedOnce.askedBefore(k)) return null;
      if (facts.length && !store(key, { kind: 'facts', facts, generation, untilMs: nowMs + maxSeconds * 1000 })) return null;
      const tag = `${facts.length ? 'cached-with-extra-fields' : 'cached-dispatcher'},${digestOf(k)}`;
      const kept: KeptApiAnswer & { kind: 'answer' } = { kind: 'answer', ...answer, tag, generation, untilMs, key: k };
      return store(k, kept) ? kept : null;
    },
    gzipped(a) {
      if (a.gzipped) return a.gzipped;
      a.gzipped = gzipSync(a.body);
      if (slots.get(a.key) === a) {
        sizes.set(a.key, sizes.get(a.key)! + a.gzipped.length);
        bytes += a.gzipped.length;
      }
      return a.gzipped;
    },
    stats: () => ({ entries: slots.size, bytes: bytes + aliasBytes, hits, misses, firstAskings: askedOnce.size }),
  };
}
