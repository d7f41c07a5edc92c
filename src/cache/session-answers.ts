// Kept answers of requests that carry a KS (the third tier, after the answer cache and the
// decision store of src/cache/manifest-cache.ts and src/playback.ts). A protected entry is asked
// by every viewer with a KS of their own: the same URL but for the KS, under session facts
// (partner, type, privileges) that most viewers share. Its answer is then the same for all of
// them but for the KS's own text, the second, and kdeliver's media signatures made of the two
// (/ks/{ks}/exp/{t}/sig/{hmac}, src/delivery/tokenizers/kaltura.ts). So such an answer is kept as
// a template with those places open, per URL without its KS and per session facts, and filled
// for each request: its KS verified first (signature, expiry, IP and URI restrictions,
// revocation: src/playback.ts keptSessionFacet, the session check of the pipeline itself), then
// one HMAC per signed URL. Which answers may be kept is src/playback.ts finish's
// (Playback.keptSession): a kept decision, no rule reading the referrer, no tokenizer, no kt or
// expiry, a non-admin KS in the URL. An answer is kept only when its template, filled with the
// request's own KS and second, is that answer byte for byte; a catalog change drops them all.
import { signExpSig } from '../delivery/tokenizers/kaltura.js';
import type { CachedAnswer, SessionAnswerStore } from '../env.js';
import type { PlayAnswer } from '../playback.js';
import type { KeptSession } from '../types/playback.js';
import { OrderedMap } from '../ordered-map.js';
import { createAskedOnce } from './asked-once.js';
import { generationGate } from './generation-gate.js';

/**
 * The KS text a kept answer may be given to: what a KS looks like in a URL (base64url and `=`),
 * with no character the URL parsers would read differently (`%`, `+`, `/`, `&`) and no `.` (a
 * file name's), so that two URLs that differ only in it are the same request for every other
 * parameter.
 */
const KS_TEXT = /^[A-Za-z0-9_=-]{1,8192}$/;
const PATH_KS = /\/ks\/([^/?#]*)/g;
const QUERY_KS = /[?&]ks=([^&#]*)/g;

/** The request's key without its KS, and the KS; null when the request is not one a kept session answer may serve. */
export interface SessionKey {
  key: string;
  ks: string;
}

/**
 * The key of a GET or HEAD whose only KS is one in its URL (a path pair or the query, not the
 * X-Kaltura-Ks header): the URL with the KS's place marked, without the parameters no answer
 * depends on (`keyUrl`).
 */
export function sessionKeyOf(method: string, isHttps: boolean, baseUrl: string, rawUrl: string, ksHeader: unknown, keyUrl: (raw: string) => string): SessionKey | null {
  if ((method !== 'GET' && method !== 'HEAD') || ksHeader !== undefined) return null;
  const q = rawUrl.indexOf('?');
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
  let found: { at: number; text: string } | null = null;
  for (const [re, from, text] of [[PATH_KS, 0, path], [QUERY_KS, q, q < 0 ? '' : rawUrl.slice(q)]] as const) {
    re.lastIndex = 0;
    for (let m = re.exec(text); m; m = re.exec(text)) {
      if (found) return null; // more than one: which one the parser reads is its business
      found = { at: from + m.index + m[0].length - m[1].length, text: m[1] };
    }
  }
  if (!found || !KS_TEXT.test(found.text)) return null;
  const marked = `${rawUrl.slice(0, found.at)}\u0000${rawUrl.slice(found.at + found.text.length)}`;
  return { key: `${method} ${isHttps ? 's' : ''}${baseUrl} ${keyUrl(marked)}`, ks: found.text };
}

/** A text with the session's places open: `parts` around `slots`; a slot is the signed segment of a path, or (null) the KS alone. */
interface Template {
  parts: string[];
  slots: (string | null)[];
}

/** A kept answer of a KS-bearing request, to be filled per request (fill). */
export interface SessionAnswer {
  status: number;
  /** Header names and values, content-length aside; the values in `openHead` are templates. */
  head: string[];
  openHead: [index: number, value: Template][];
  timedAt: CachedAnswer['timedAt'];
  body: Template;
  /** The body goes out as bytes (routes/http.ts payloadOf: JSON), not as a string. */
  asBytes: boolean;
  /** Seconds from the answer's second to the expiry its signatures carry. */
  expAhead: number;
  cacheAge: number;
  format: string;
  /** The body's text length, what the store's byte bound counts it as. */
  bytes: number;
}

const escapeRe = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * The fill of one request: a signed segment per path (`/ks/{ks}/exp/{t}/sig/{hmac}`, made as the
 * tokenizer makes it), each made once.
 */
function filler(ks: string, expiry: number, secret: string): (t: Template) => string {
  const made = new Map<string, string>();
  const segment = (path: string) => {
    let s = made.get(path);
    if (s === undefined) {
      s = signExpSig(`${path}/ks/${ks}`, '', secret, expiry).slice(path.length);
      made.set(path, s);
    }
    return s;
  };
  return (t) => {
    let out = t.parts[0];
    for (let i = 0; i < t.slots.length; i++) {
      const slot = t.slots[i];
      out += (slot === null ? ks : segment(slot)) + t.parts[i + 1];
    }
    return out;
  };
}

/** The answer for this request's KS and second, as the route sends a kept answer. */
export function fillSessionAnswer(a: SessionAnswer, ks: string, now: number, secret: string, generation: number): CachedAnswer {
  const fill = filler(ks, now + a.expAhead, secret);
  const text = fill(a.body);
  const body = a.asBytes ? Buffer.from(text) : text;
  const bytes = typeof body === 'string' ? Buffer.byteLength(body) : body.length;
  const head = a.head.slice();
  for (const [i, t] of a.openHead) head[i] = fill(t);
  head.push('content-length', String(bytes));
  return { status: a.status, head, timedAt: a.timedAt, body, bytes, cacheAge: a.cacheAge, format: a.format, generation };
}

/**
 * The template of a fresh answer, or null when it cannot be shown to be one: every signed segment
 * in it must be one of the answer's own signed URLs (their paths are what a fill signs again), all
 * with one expiry; none of their signatures may be left in it as text; and the template filled
 * with this very request's KS and second must give the answer byte for byte, headers and body.
 */
export function makeSessionAnswer(fresh: PlayAnswer, kept: { status: number; head: string[]; timedAt: CachedAnswer['timedAt'] }, body: string | Buffer, ks: string, now: number, secret: string): SessionAnswer | null {
  const pb = fresh.playback;
  const segmentRe = `/ks/${escapeRe(ks)}/exp/(\\d{1,12})/sig/([A-Za-z0-9_-]{43})`;
  // the path each signature was made of, from the answer's URLs
  const pathOf = new Map<string, string>();
  let expiry: number | null = null;
  const inUrl = new RegExp(`^(?:[a-z][a-z0-9+.-]*://[^/]+)?(/.*?)${segmentRe}`, 'i');
  for (const u of [...pb.urls, ...pb.subtitleUrls]) {
    const m = inUrl.exec(u);
    if (!m) continue;
    const [, path, exp, sig] = m;
    if (expiry !== null && Number(exp) !== expiry) return null;
    expiry = Number(exp);
    pathOf.set(sig, path);
  }
  const anywhere = new RegExp(segmentRe, 'g');
  // parts.length is always slots.length + 1: a slot is followed by the part after it
  const open = (text: string): Template | null => {
    const t: Template = { parts: [''], slots: [] };
    let last = 0;
    anywhere.lastIndex = 0;
    for (let m = anywhere.exec(text); m; m = anywhere.exec(text)) {
      const path = pathOf.get(m[2]);
      if (path === undefined || Number(m[1]) !== expiry) return null;
      openKs(text.slice(last, m.index), t);
      t.slots.push(path);
      t.parts.push('');
      last = m.index + m[0].length;
    }
    openKs(text.slice(last), t);
    return t;
  };
  // the KS alone (an api_v3 subtitle URL carries it unsigned)
  const openKs = (text: string, t: Template) => {
    const pieces = text.split(ks);
    t.parts[t.parts.length - 1] += pieces[0];
    for (let i = 1; i < pieces.length; i++) {
      t.slots.push(null);
      t.parts.push(pieces[i]);
    }
  };
  const text = typeof body === 'string' ? body : body.toString();
  const bodyTemplate = open(text);
  if (!bodyTemplate) return null;
  const openHead: SessionAnswer['openHead'] = [];
  for (let i = 1; i < kept.head.length; i += 2) {
    const t = open(kept.head[i]);
    if (!t) return null;
    if (t.slots.length) openHead.push([i, t]);
  }
  // a signature left as text would be handed to every other KS: each must have become a slot
  // (a renderer that escapes URLs, as JSON's `\/` does, leaves them unmatched: not kept)
  const opened = new Set(openHead.map(([i]) => i));
  const literal = [bodyTemplate, ...openHead.map(([, t]) => t)].flatMap((t) => t.parts).concat(kept.head.filter((_, i) => !opened.has(i))).join('\n');
  for (const sig of pathOf.keys()) if (literal.includes(sig)) return null;
  const answer: SessionAnswer = {
    status: kept.status, head: kept.head, openHead, timedAt: kept.timedAt, body: bodyTemplate, asBytes: typeof body !== 'string',
    expAhead: expiry === null ? 0 : expiry - now, cacheAge: pb.cacheAge, format: pb.requestedFormat, bytes: text.length,
  };
  // the proof: filled for this request, the template is this request's answer
  const again = fillSessionAnswer(answer, ks, now, secret, 0);
  const want = [...kept.head, 'content-length', String(typeof body === 'string' ? Buffer.byteLength(body) : body.length)];
  if (again.head.length !== want.length || again.head.some((v, i) => v !== want[i])) return null;
  if (typeof body === 'string' ? again.body !== body : !Buffer.isBuffer(again.body) || !again.body.equals(body)) return null;
  return answer;
}

/** At most `maxEntries` answers (0: none) and `maxBytes` of them; the oldest put goes first. */
export function createSessionAnswerStore(maxEntries: number, maxBytes: number): SessionAnswerStore<KeptSession, SessionAnswer> & { stats(): { hits: number; entries: number } } {
  const sessions = new OrderedMap<{ generation: number; session: KeptSession }>();
  const answers = new OrderedMap<{ generation: number; answer: SessionAnswer }>();
  const askedOnce = createAskedOnce(maxEntries);
  let bytes = 0;
  let hits = 0;
  const sizeOf = (key: string, a: SessionAnswer) => key.length + a.bytes + 64 * (a.body.slots.length + a.head.length) + 200;
  const remove = (key: string) => {
    const a = answers.get(key);
    if (!a) return;
    answers.delete(key);
    bytes -= sizeOf(key, a.answer);
  };
  // every answer of an older generation goes; its key is remembered as asked, so that asked again
  // it keeps at once. What is kept is then of the newest generation only.
  const current = generationGate((newest) => {
    sessions.deleteWhere((s) => s.generation < newest, () => {});
    answers.deleteWhere((a) => a.generation < newest, (k, a) => {
      bytes -= sizeOf(k, a.answer);
      askedOnce.note(k);
    });
  });
  return {
    session(key, generation) {
      return current(generation) ? sessions.get(key)?.session : undefined;
    },
    answer(key, facet, generation) {
      return current(generation) ? answers.get(`${key}\n${facet}`)?.answer : undefined;
    },
    askedBefore: (key, facet) => askedOnce.askedBefore(`${key}\n${facet}`),
    put(key, facet, session, generation, answer) {
      if (maxEntries <= 0 || !current(generation)) return;
      const k = `${key}\n${facet}`;
      const size = sizeOf(k, answer);
      if (size > maxBytes) return;
      remove(k);
      while (answers.size >= maxEntries || bytes + size > maxBytes) remove(answers.oldest()!);
      answers.set(k, { generation, answer });
      bytes += size;
      sessions.setWithin(key, { generation, session }, maxEntries);
    },
    hit() {
      hits++;
    },
    stats: () => ({ hits, entries: answers.size }),
  };
}
