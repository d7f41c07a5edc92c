// The "why" of a playManifest URL: the decision trace of resolvePlayback for that URL as the
// console's caller would send it (same IP, country, user agent and referrer; the console's own
// credential removed), with the fired access-control rules spelled out.
import type { Catalog } from '../catalog/store.js';
import { DeliveryError } from '../errors.js';
import { resolvePlayback, type PlaybackContext, type TracedError } from '../playback.js';
import type { TraceStep } from '../types/playback.js';
import { publicRule } from './views.js';
import { parsePlayRequest } from '../request/play-request.js';
import type { HttpFacts } from '../request/http-facts.js';
import { splitUrl } from '../request/path-params.js';
import { newRegexBudget } from '../access/evaluate.js';

/**
 * The path and query of the URL to explain: as given, or cut from a whole http(s) URL (what the
 * console's URL field shows, the licence URL an MPD names). The trace reads the path only, so the
 * host does not matter; nothing is fetched.
 */
export function tracedUrl(url: string): string {
  const m = /^https?:\/\/[^/?#]*/i.exec(url);
  if (!m) return url;
  const rest = url.slice(m[0].length);
  return rest.startsWith('/') ? rest : `/${rest}`;
}

/** The console caller's HTTP facts (address, country, scheme, headers) and the URL to explain. */
export interface TraceInput extends Pick<HttpFacts, 'clientIp' | 'isHttps' | 'headers' | 'country'> {
  /** A playManifest path with its query, e.g. /p/309/sp/30900/playManifest/entryId/x/format/url/a.mp4 */
  url: string;
}

export type TraceResult =
  | { status: 400 | 403; message: string }
  | {
    status: 200;
    partnerId: number;
    plays: boolean;
    error: { code: number; name: string; message: string; httpStatus: number; headers: string[] } | null;
    result: { format: string; profile: { id: number; name: string; tokenizer: string | null }; flavors: string[]; urls: string[]; clipTo: number } | null;
    trace: TraceStep[];
    firedRules: { index: number; rule: unknown }[];
  };

// Headers that carry the console's own credential must not grant the traced request anything.
const CONSOLE_HEADERS = ['x-kaltura-ks', 'authorization', 'cookie', 'x-kdeliver-admin-secret'];

/** The traced request's HTTP facts: the console caller's, for `input.url`, without the console's own credential. */
export function tracedHttp(input: TraceInput, method: string): HttpFacts {
  const headers = Object.fromEntries(Object.entries(input.headers).filter(([k]) => !CONSOLE_HEADERS.includes(k.toLowerCase())));
  const q: Record<string, string> = {};
  for (const [k, v] of new URLSearchParams(splitUrl(input.url).query)) if (!(k in q)) q[k] = v;
  return { method, rawUrl: input.url, query: q, headers, isHttps: input.isHttps, clientIp: input.clientIp, country: input.country,
    // the trace judges one URL for the console caller: a budget of its own, as that request's would be
    regexBudget: newRegexBudget() };
}

/**
 * `ctx.partnerId` is the console user's partner: a URL of another partner is refused (403) before
 * anything of it is looked up, and so is a URL of this partner that names another partner's entry.
 */
export async function tracePlayManifest(ctx: PlaybackContext & { partnerId: number }, input: TraceInput): Promise<TraceResult> {
  if (input.url.length > 8192) return { status: 400, message: 'url: too long' };
  const { path } = splitUrl(input.url);
  const m = /^\/p\/(\d{1,10})\/(?:sp\/\d{1,12}\/)?playManifest(\/.*)?$/.exec(path);
  if (!m) return { status: 400, message: 'url: expected a playManifest path such as /p/309/sp/30900/playManifest/entryId/1_rcit0qgs/format/url/a.mp4, an HLS key URI (…/encryption.key) or a ClearKey licence URL' };
  const partnerId = Number(m[1]);
  if (partnerId !== ctx.partnerId) return { status: 403, message: `the URL names partner ${partnerId}; this KS is of partner ${ctx.partnerId}` };
  const http = tracedHttp(input, 'GET');

  let trace: TraceStep[] = [];
  let error: DeliveryError | null = null;
  let result: Extract<TraceResult, { status: 200 }>['result'] = null;
  let entryId: string | null = null;
  try {
    const req = parsePlayRequest(m[2] ?? '/', http);
    entryId = req.entryId;
    // playManifest finds the entry by id whatever partner the URL names (src/playback.ts's
    // entryStage): the trace of another partner's entry would show that partner's catalog and rules
    const named = entryId ? await ctx.catalog.getEntry(entryId) : undefined;
    if (named && named.partnerId !== ctx.partnerId) return { status: 403, message: `entry ${named.id} is not of partner ${ctx.partnerId}, whose KS this is` };
    const pb = await resolvePlayback(ctx, req);
    trace = pb.trace;
    result = {
      format: pb.format,
      profile: { id: pb.profile.id, name: pb.profile.name, tokenizer: pb.profile.tokenizer?.type ?? null },
      flavors: pb.flavors.map((f) => f.id), urls: pb.urls, clipTo: pb.clipTo,
    };
  } catch (e) {
    if (!(e instanceof DeliveryError)) throw e;
    error = e;
    trace = [...((e as TracedError).trace ?? [])];
  }
  return {
    status: 200,
    partnerId,
    plays: error === null,
    error: error && { code: error.code, name: error.errorName, message: error.message, httpStatus: error.httpStatus, headers: error.headers },
    result,
    trace,
    firedRules: await firedRules(ctx.catalog, entryId, trace),
  };
}

async function firedRules(catalog: Catalog, entryId: string | null, trace: TraceStep[]): Promise<{ index: number; rule: unknown }[]> {
  const entry = entryId ? await catalog.getEntry(entryId) : undefined;
  const acp = entry?.accessControlProfileId != null ? await catalog.getAccessControlProfile(entry.accessControlProfileId) : undefined;
  if (!acp) return [];
  const fired = new Set<number>();
  for (const s of trace) {
    const d = s.data as { firedRules?: unknown } | undefined;
    if (s.stage === 'access' && d && Array.isArray(d.firedRules)) for (const i of d.firedRules) if (typeof i === 'number') fired.add(i);
  }
  return [...fired].sort((a, b) => a - b).filter((i) => acp.rules[i]).map((i) => ({ index: i, rule: publicRule(acp.rules[i]) }));
}
