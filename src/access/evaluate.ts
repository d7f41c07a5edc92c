// Access-control rule evaluation: rules in order, each gated by its
// contexts, its conditions AND-ed (each inverted by `not`), actions of fulfilled rules collected,
// stopProcessing honoured; an admin KS skips every rule that does not force admin validation.
// Documented deviations from the reference, all stricter or safer:
// - site: the referrer host must equal a value or be a true subdomain of it (ends with
//   ".value"); the reference's substring test would let `example.com.evil.net` through;
// - user agent / HTTP header: patterns run on a linear-time engine (./regex.ts); back-references
//   and look-around are refused (the value then only matches by equality);
// - privileges compare whole names and values (no `sview:1_ab` ⊂ `sview:1_abc` prefix match);
// - IP conditions understand IPv6 as well; fieldCompare NOT_EQUAL (6) means "not equal" (the
//   reference falls through to EQUAL).
import { createHash, timingSafeEqual } from 'node:crypto';
import type { AccessContext, AccessRule, Condition, Entry, RuleAction } from '../catalog/types.js';
import { DeliveryError } from '../errors.js';
import { NoCountryDatabaseError } from './geo.js';
import { firstAcceptableIp, ipInRangeSet, ipRangeSet, parseIp, parseIpRangeList, type IpRange, type IpRangeSet } from './ip.js';
import { ksHasPrivilege, type Ks } from './ks.js';
import { compileValue, RegexBudgetError, type RegexBudget, type SafeRegex } from './regex.js';
import type { AccessDecision } from './types.js';

export interface AccessScope {
  /** Empty: every context. playManifest: [PLAY] or [DOWNLOAD]; media routes: [SERVE]. */
  contexts: AccessContext[];
  /** The verified KS, or null. */
  ks: Ks | null;
  /** The KS exactly as sent (the hash condition signs it), or null. */
  ksString: string | null;
  clientIp: string;
  /** Decoded referrer URL, '' when none. */
  referrer: string;
  userAgent: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
  hashes: Record<string, string>;
  entryId: string;
  /** For entryScheduled. */
  entry?: Pick<Entry, 'startDate' | 'endDate'> | null;
  /** READY assets of the entry, for assetProperties. */
  readyAssets?: readonly object[];
  /** Unix seconds. */
  now: number;
  /**
   * The client's country (ISO 3166-1 alpha-2), asked only by country conditions; absent or null:
   * unknown. Throws NoCountryDatabaseError where no database is configured: the rule then blocks.
   */
  country?(): string | null;
  /**
   * The regex work the whole HTTP request may still spend (newRegexBudget, made once per request
   * by routes/http.ts httpFacts): every evaluation the request makes (each source format and
   * THUMBNAIL of a playback context, every sub-request of a multirequest, flvclipper's two
   * contexts, each entry of a sequence) draws on the same one. Absent: this evaluation's own.
   */
  regexBudget?: RegexBudget;
}

export interface EvaluatedDecision extends AccessDecision {
  /** One line per rule looked at, for traces (no secrets). */
  trace: string[];
}

/** The values of one condition that are tested; the API refuses a condition with more (src/api/rules.ts). */
export const MAX_VALUES = 10_000;

/**
 * The regex work (./regex.ts RegexBudget) one HTTP request may spend on the client's user agent
 * and headers, over every evaluation it makes: some 70 ms of the event loop on this engine (about 35 ns a step), far
 * above what real rules cost (a few states active per character: a list of a hundred bot names
 * over a 300-character user agent is some 30 000 steps), far below what a rule of many large
 * patterns costs on a long user agent (seconds). A request that would spend more is refused as a
 * broken rule is (fail closed).
 */
const REGEX_WORK = 2_000_000;

/** A request's regex budget (AccessScope.regexBudget): one per HTTP request, shared by all it evaluates. */
export const newRegexBudget = (): RegexBudget => ({ left: REGEX_WORK });

const md5Hex = (s: string): string => createHash('md5').update(s, 'utf8').digest('hex');

/** Host of a referrer as the reference reads it; null when there is none. */
export function referrerHost(referrer: string): string | null {
  if (!referrer || /[\u0000-\u001f\u007f]/.test(referrer)) return null;
  let host: string;
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(referrer);
  if (m) host = m[1];
  else host = referrer.split('/')[0];
  host = host.split(/[?#&]/)[0];
  host = host.replace(/^[^@]*@/, ''); // user:pass@
  host = host.startsWith('[') ? host.replace(/^(\[[^\]]*\]).*$/, '$1') : host.replace(/:\d*$/, '');
  host = host.replace(/\.$/, '').toLowerCase();
  return host === '' ? null : host;
}

function siteMatches(host: string, value: string): boolean {
  const v = value.trim().toLowerCase().replace(/^\*?\./, '').replace(/\.$/, '');
  if (!v) return false;
  return host === v || host.endsWith('.' + v);
}

function looseEqual(a: unknown, b: unknown): boolean {
  if (a === null || a === undefined) return false;
  if (typeof a === 'boolean') a = a ? 1 : 0;
  const an = Number(a), bn = Number(b);
  if (String(a).trim() !== '' && String(b).trim() !== '' && Number.isFinite(an) && Number.isFinite(bn)) return an === bn;
  return String(a) === String(b);
}

function assetProperty(asset: object, name: string): unknown {
  const rec = asset as Record<string, unknown>;
  if (name in rec) return rec[name];
  const lower = name.toLowerCase();
  for (const k of Object.keys(rec)) if (k.toLowerCase() === lower) return rec[k];
  return undefined;
}

function compare(field: number, value: number, comparison: number): boolean {
  switch (comparison) {
    case 2: return field > value;
    case 3: return field >= value;
    case 4: return field < value;
    case 5: return field <= value;
    case 6: return field !== value;
    default: return field === value;
  }
}

const values = (v: unknown): string[] =>
  (Array.isArray(v) ? v.slice(0, MAX_VALUES).map(String) : typeof v === 'string' ? v.split(',').slice(0, MAX_VALUES) : []);

/**
 * An IP condition's ranges, parsed and made searchable once per condition object: the catalog keeps
 * its profiles between requests (src/catalog/read-memo.ts), so a block list of ten thousand ranges
 * is not parsed again, nor walked, for every request (20 such rules were some 650 ms each).
 */
const ipRangesKept = new WeakMap<object, IpRangeSet>();
let ipRangeSetsMade = 0;
/** IP conditions parsed so far in this process (for tests: a kept condition is parsed once). */
export const ipRangeSetsParsed = (): number => ipRangeSetsMade;

function ipRangesOf(c: { values?: unknown }): IpRangeSet {
  let set = ipRangesKept.get(c);
  if (!set) {
    const ranges = values(c.values).flatMap((v) => parseIpRangeList(v).filter((r): r is IpRange => r !== null));
    set = ipRangeSet(ranges);
    ipRangesKept.set(c, set);
    ipRangeSetsMade++;
  }
  return set;
}

/**
 * A user-agent or header condition's values, compiled once per condition object and lazily (a
 * request stops at its first match): as for ipRangesOf, the catalog keeps its profiles between
 * requests and replaces the objects when a profile changes. Compiling is not charged to request
 * budgets: a kept list of thousands of plain names was compiled again on every request once it
 * outgrew a shared cache, and that cost alone refused every viewer. Only testing is charged.
 */
const patternsKept = new WeakMap<object, { values: string[]; compiled: (SafeRegex | null | undefined)[] }>();

/**
 * What a condition answered on an input, per request budget: one request evaluates the same
 * conditions on the same user agent many times (each format and THUMBNAIL of a playback context,
 * every sub-request of a multirequest), and with one budget per request, testing a long list of
 * names again each time would spend it on ordinary viewers.
 */
const judged = new WeakMap<RegexBudget, WeakMap<object, Map<string, boolean>>>();

function anyPatternMatches(c: { values?: unknown }, input: string, work: RegexBudget): boolean {
  let byCondition = judged.get(work);
  if (!byCondition) judged.set(work, (byCondition = new WeakMap()));
  let answers = byCondition.get(c);
  if (!answers) byCondition.set(c, (answers = new Map()));
  let answer = answers.get(input);
  if (answer === undefined) answers.set(input, (answer = testPatterns(c, input, work)));
  return answer;
}

function testPatterns(c: { values?: unknown }, input: string, work: RegexBudget): boolean {
  let kept = patternsKept.get(c);
  if (!kept) {
    const vs = values(c.values);
    kept = { values: vs, compiled: new Array(vs.length) };
    patternsKept.set(c, kept);
  }
  const { values: vs, compiled } = kept;
  for (let i = 0; i < vs.length; i++) {
    if (vs[i] === input) return true;
    let re = compiled[i];
    if (re === undefined) re = compiled[i] = compileValue(vs[i]);
    if (re !== null && re.test(input, work)) return true;
  }
  return false;
}

/** Match conditions (kMatchCondition): no values configured is fulfilled; a null field is not. */
const MATCH_TYPES = new Set(['ip', 'country', 'site', 'userAgent', 'httpHeader']);

function internalFulfilled(c: Condition, s: AccessScope, work: RegexBudget): boolean {
  if (MATCH_TYPES.has(c.type) && values((c as { values?: unknown }).values).length === 0) return true;
  switch (c.type) {
    case 'authenticated': {
      if (!s.ks) return false;
      if (s.ks.type >= 1) return true;
      const privs = c.privileges && c.privileges.length ? c.privileges : ['sview', 'sviewplaylist'];
      return privs.some((p) => (p === 'widget' ? ksHasPrivilege(s.ks!, 'widget', '1') : ksHasPrivilege(s.ks!, p, s.entryId)));
    }
    case 'ip': {
      let text: string | null = s.clientIp;
      if (c.httpHeader || c.acceptInternalIps) {
        // the first acceptable address of the header the rule names. acceptInternalIps alone
        // names none: the field is empty, as in the reference, never a header the client writes
        // (X-Forwarded-For's left entries), which would let anyone claim an allowed address
        const h = c.httpHeader ? s.headers[c.httpHeader.toLowerCase()] : undefined;
        text = h === undefined ? null : firstAcceptableIp(h, !!c.acceptInternalIps);
      }
      const ip = text === null ? null : parseIp(text);
      if (!ip) return false;
      return ipInRangeSet(ip, ipRangesOf(c));
    }
    case 'country': {
      const country = s.country ? s.country() : null;
      if (!country) return false;
      const want = country.trim().toUpperCase();
      return values(c.values).some((v) => v.split(',').some((x) => x.trim().toUpperCase() === want));
    }
    case 'site': {
      const host = referrerHost(s.referrer);
      if (host === null) return false;
      return values(c.values).some((v) => siteMatches(host, v));
    }
    case 'userAgent':
      return anyPatternMatches(c, s.userAgent, work);
    case 'httpHeader': {
      const h = s.headers[String(c.headerName ?? '').toLowerCase()];
      if (h === undefined) return false;
      return anyPatternMatches(c, h, work);
    }
    case 'sessionType':
      // handled in conditionFulfilled: never true without a KS, whatever `not` says
      return !!s.ks && s.ks.type === Number(c.sessionType);
    case 'fieldCompare': {
      if (c.value === null || c.value === undefined) return true;
      const field = s.now + Number(c.offset ?? 0);
      if (!field) return false;
      return compare(field, Number(c.value), Number(c.comparison));
    }
    case 'entryScheduled': {
      const e = s.entry;
      if (!e) return true;
      return (e.startDate === null || e.startDate <= s.now) && (e.endDate === null || e.endDate >= s.now);
    }
    case 'assetProperties': {
      const props = Object.entries(c.properties ?? {});
      if (props.length === 0) return true;
      return (s.readyAssets ?? []).some((a) => props.every(([k, v]) => looseEqual(assetProperty(a, k), v)));
    }
    case 'hash': {
      // fulfilled when the named hash is missing or wrong: pair it with BLOCK
      const got = s.hashes[c.hashName];
      if (got === undefined) return true;
      const want = md5Hex(String(c.hashSecret ?? '') + (s.ksString ?? ''));
      return !(got.length === want.length && timingSafeEqual(Buffer.from(got), Buffer.from(want)));
    }
    case 'or':
      return (c.conditions ?? []).some((child) => conditionFulfilled(child, s, work));
    default:
      // an unknown condition type never fulfils (and so never silently allows through `not`)
      throw new AccessRuleError(`unknown condition type ${JSON.stringify((c as { type: unknown }).type)}`);
  }
}

/** Whether any condition of these rules is of `type`, within `or` conditions too (the start-up warning of src/server.ts). */
export function rulesRead(rules: readonly AccessRule[], type: Condition['type']): boolean {
  const reads = (c: Condition): boolean => c.type === type || (c.type === 'or' && (c.conditions ?? []).some(reads));
  return rules.some((r) => (Array.isArray(r.conditions) ? r.conditions : []).some(reads));
}

export class AccessRuleError extends Error {
  override name = 'AccessRuleError';
}

export function conditionFulfilled(c: Condition, s: AccessScope, work: RegexBudget = s.regexBudget ?? newRegexBudget()): boolean {
  if (c.type === 'sessionType' && (!s.ks || ksHasPrivilege(s.ks, 'disablesessiontypecheck'))) return false;
  return internalFulfilled(c, s, work) !== !!c.not;
}

/** Whether a rule is evaluated in any of `contexts` (a rule that names none is evaluated in all). */
export function appliesTo(rule: AccessRule, contexts: AccessContext[]): boolean {
  if (!rule.contexts || rule.contexts.length === 0 || contexts.length === 0) return true;
  return rule.contexts.some((c) => contexts.includes(c));
}

export function evaluateAccessRules(rules: AccessRule[], scope: AccessScope): EvaluatedDecision {
  const d: EvaluatedDecision = {
    firedRules: [], messages: [], codedMessages: [], blocked: false, previewSeconds: null,
    limitFlavors: null, limitDeliveryProfiles: null, requestHostRegex: null, actions: [], trace: [],
  };
  const admin = !!scope.ks && scope.ks.type >= 1;
  const work = scope.regexBudget ?? newRegexBudget();
  for (let i = 0; i < rules.length; i++) {
    const rule = rules[i];
    if (admin && !rule.forceAdminValidation) {
      d.trace.push(`rule ${i}: skipped for an admin KS`);
      continue;
    }
    if (!appliesTo(rule, scope.contexts)) {
      d.trace.push(`rule ${i}: not for context ${scope.contexts.join(',')}`);
      continue;
    }
    if (work.left < 0) {
      // an earlier evaluation of this request spent its regex work: refused at once, as it was
      d.trace.push(`rule ${i}: the request's regex work is spent; treated as a block`);
      return refusedForRegexWork(d, i);
    }
    let fulfilled = true;
    for (const c of Array.isArray(rule.conditions) ? rule.conditions : []) {
      let ok: boolean;
      try {
        ok = conditionFulfilled(c, scope, work);
      } catch (e) {
        if (e instanceof NoCountryDatabaseError && c.type === 'country') {
          // A country condition on a server without a country database (src/access/geo.ts) holds,
          // whichever way it is written: the rule applies its own actions (a block list and an
          // allow list both block, a preview previews), never letting a viewer past it
          d.trace.push(`rule ${i}: ${e.message}; the condition is taken as fulfilled`);
          continue;
        }
        // A broken rule blocks rather than silently letting a request through; so does a country
        // condition within an `or` on a server without a country database (its `not` could turn
        // "fulfilled" into "let through"), and a request the rules' regular expressions would
        // take too long to judge (and nothing more is judged)
        d.trace.push(`rule ${i}: ${(e as Error).message}; treated as a block`);
        if (e instanceof RegexBudgetError) return refusedForRegexWork(d, i);
        d.blocked = true;
        d.firedRules.push(i);
        d.messages.push(e instanceof NoCountryDatabaseError ? 'country rules cannot be decided on this server' : 'invalid access-control rule');
        fulfilled = false;
        break;
      }
      if (!ok) {
        fulfilled = false;
        d.trace.push(`rule ${i}: condition ${c.not ? 'not ' : ''}${c.type} not fulfilled`);
        break;
      }
    }
    if (!fulfilled) continue;
    d.firedRules.push(i);
    const actions = Array.isArray(rule.actions) ? rule.actions : [];
    d.trace.push(`rule ${i}: fulfilled${actions.length ? `, actions ${actions.map((a) => a.type).join(',')}` : ''}`);
    if (rule.message) d.messages.push(rule.message);
    if (rule.code) d.codedMessages.push({ code: rule.code, message: rule.message ?? '' });
    for (const a of actions) applyAction(d, a);
    if (rule.stopProcessing) {
      d.trace.push(`rule ${i}: stopProcessing`);
      break;
    }
  }
  return d;
}

function refusedForRegexWork(d: EvaluatedDecision, rule: number): EvaluatedDecision {
  d.blocked = true;
  d.firedRules.push(rule);
  d.messages.push('the request is too long for the access-control rules to judge');
  return d;
}

function applyAction(d: AccessDecision, a: RuleAction): void {
  d.actions.push(a);
  switch (a.type) {
    case 'block': d.blocked = true; break;
    case 'preview': {
      const limit = Number(a.limit);
      if (Number.isFinite(limit) && limit >= 0) d.previewSeconds = d.previewSeconds === null ? limit : Math.min(d.previewSeconds, limit);
      break;
    }
    case 'limitFlavors': d.limitFlavors ??= { flavorParamsIds: [...a.flavorParamsIds], isBlockedList: !!a.isBlockedList }; break;
    case 'limitDeliveryProfiles': d.limitDeliveryProfiles ??= { deliveryProfileIds: [...a.deliveryProfileIds], isBlockedList: !!a.isBlockedList }; break;
    case 'requestHostRegex':
      d.requestHostRegex ??= { pattern: a.pattern, replacement: a.replacement, ...(a.checkAliveTimeoutMs !== undefined ? { checkAliveTimeoutMs: a.checkAliveTimeoutMs } : {}) };
      break;
    case 'drmPolicy': break; // read from d.actions (src/drm/policy.ts)
  }
}

/**
 * LIMIT_FLAVORS for one asset: an allow list keeps only the listed params, a block list drops
 * them; a `downloadasset:<assetId>` privilege lets that one asset through.
 */
export function isFlavorAllowed(
  limit: AccessDecision['limitFlavors'], flavor: { id: string; flavorParamsId: number }, ks: Ks | null,
): boolean {
  if (!limit) return true;
  if (ks && ksHasPrivilege(ks, 'downloadasset', flavor.id)) return true;
  const listed = limit.flavorParamsIds.includes(flavor.flavorParamsId);
  return limit.isBlockedList ? !listed : listed;
}

/**
 * The `X-Kaltura-ACP` value Kaltura's accessControl::applyContext sends each time it evaluates an
 * entry's profile: the profile's id, a space and the zero-based indexes of the rules fulfilled
 * (skipped ones, e.g. for an admin KS, are not), comma-separated; just the id when none was (PHP
 * drops the trailing space). Null without a profile or without an evaluation (`d` null: a session
 * that skips the rules, a refusal before them), when Kaltura sends none either. Only the profile's
 * id and rule positions: never a rule's contents.
 */
export function acpHeader(profileId: number | null, d: Pick<AccessDecision, 'firedRules'> | null): string | null {
  if (profileId === null || d === null) return null;
  return d.firedRules.length ? `${profileId} ${d.firedRules.join(',')}` : String(profileId);
}

/** A header-safe rule message (messages come from the catalog, but never trust a header value). */
const headerSafe = (m: string): string => m.replace(/[\u0000-\u001f\u007f]+/g, ' ').slice(0, 512);

/**
 * BLOCK → error 3 with one `X-Kaltura: access-control: <message>` value per rule message, and the
 * rules' messages with their codes for the playback context: each coded rule's own code (a rule
 * with a code and no message too, as Kaltura lists it), ACCESS_CONTROL_RESTRICTED for the others.
 */
export function accessBlockedError(d: AccessDecision): DeliveryError {
  const msgs = d.messages.map(headerSafe);
  const uncoded = [...d.messages];
  for (const c of d.codedMessages) {
    const i = uncoded.indexOf(c.message);
    if (i >= 0) uncoded.splice(i, 1);
  }
  return new DeliveryError('ACCESS_CONTROL_RESTRICTED', msgs.length ? `, ${msgs.join('; ')}` : '', {
    headers: msgs.map((m) => `access-control: ${m}`),
    ruleMessages: [...d.codedMessages, ...uncoded.map((message) => ({ code: 'ACCESS_CONTROL_RESTRICTED', message }))],
  });
}
