// Property-based tests (fast-check), 31,500 cases in all: the KS parser (its envelope against a reference decoder), the playManifest URL
// parser and the rule evaluator never throw anything but their expected error types, and the
// linear-time regex engine agrees with JavaScript's RegExp on the syntax both share.
import t from 'tap';
import fc from 'fast-check';
import { KsError, generateKs, parseKs, verifyKs } from '../../src/access/ks.js';
import { evaluateAccessRules, type AccessScope } from '../../src/access/evaluate.js';
import { compileSafeRegex } from '../../src/access/regex.js';
import { verifyKt } from '../../src/access/kt.js';
import type { AccessRule, Condition, RuleAction } from '../../src/catalog/types.js';
import { parsePlayRequest } from '../../src/request/play-request.js';
import { DeliveryError } from '../../src/errors.js';

const NOW = 1_700_000_000;
const P = { id: 309, adminSecret: 'sample-admin-secret-309' };
const expectOnly = (fn: () => unknown, ...types: (new (...a: never[]) => Error)[]): boolean => {
  try { fn(); return true; } catch (e) {
    if (types.some((T) => e instanceof T)) return true;
    throw e;
  }
};

t.test('KS parser: random text and mutated real KSs give a KS or a KsError', async (t) => {
  const real = [1, 2].flatMap((version) => [0, 2].map((type) =>
    generateKs({ partnerId: 309, secret: P.adminSecret, type: type as 0 | 2, userId: 'u', expiry: 60, privileges: 'sview:*', version: version as 1 | 2, now: NOW })));
  const b64chars = fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_='.split(''));
  const arbitraryKs = fc.oneof(
    fc.string({ maxLength: 300 }),
    fc.stringOf(b64chars, { maxLength: 400 }),
    fc.uint8Array({ maxLength: 300 }).map((b) => Buffer.from(b).toString('base64')),
    fc.tuple(fc.constantFrom('v2|309|', 'v2|', '309;309;', 'abc|309;309;1;2'), fc.uint8Array({ maxLength: 200 }))
      .map(([head, b]) => Buffer.concat([Buffer.from(head), Buffer.from(b)]).toString('base64')),
    fc.tuple(fc.constantFrom(...real), fc.nat(), fc.nat(255)).map(([ks, i, c]) => {
      const b = Buffer.from(ks);
      b[i % b.length] = c;
      return b.toString('latin1');
    }),
  );
  fc.assert(fc.property(arbitraryKs, (s) =>
    expectOnly(() => verifyKs(parseKs(s), P, { now: NOW, clientIp: '1.2.3.4', uri: '/x', isRevoked: () => false }), KsError)), { numRuns: 4000 });
  // a one-byte change to a real KS is never accepted (unless it is the same digit in the other alphabet)
  fc.assert(fc.property(fc.constantFrom(...real), fc.nat(), fc.constantFrom(...'ABCabc0189xyzXYZ!'.split('')), (ks, i, c) => {
    const at = i % ks.length;
    if (ks[at] === c) return true;
    const bad = ks.slice(0, at) + c + ks.slice(at + 1);
    try { verifyKs(parseKs(bad), P, { now: NOW }); return false; } catch (e) { return e instanceof KsError; }
  }), { numRuns: 1000 });
  t.pass('5000 cases');
});

t.test('KS envelope: exactly canonical base64, in either alphabet, with or without padding', async (t) => {
  // the reference: rewritten to the standard alphabet, checked by form, then decoded and encoded
  // again by Node, which must give back the same digits (no stray bits in the last one)
  const canonical = (s: string): boolean => {
    const std = s.replace(/-/g, '+').replace(/_/g, '/').replace(/ /g, '+');
    const m = /^([A-Za-z0-9+/]*)(={0,2})$/.exec(std);
    if (!m) return false;
    const [, body, pad] = m;
    if (body.length % 4 === 1 || (pad && (body.length + pad.length) % 4 !== 0)) return false;
    const bytes = Buffer.from(body, 'base64');
    return bytes.length > 0 && bytes.toString('base64').replace(/=+$/, '') === body;
  };
  const notBase64 = (s: string): boolean => {
    try { parseKs(s); return false; } catch (e) {
      if (!(e instanceof KsError)) throw e;
      return e.message === 'KS is not base64';
    }
  };
  // digits whose low bits are 0000, 0100, 1000 and 0001, of both alphabets, and some not digits
  const digit = fc.constantFrom(...'AQgwEIYo4BRhx09+/-_ =zZ.'.split(''));
  fc.assert(fc.property(fc.stringOf(digit, { minLength: 1, maxLength: 14 }), (s) => notBase64(s) === !canonical(s)), { numRuns: 20000 });
  t.pass('20000 cases');
});

t.test('playManifest URL parser: a PlayRequest or a DeliveryError', async (t) => {
  const names = ['entryId', 'format', 'protocol', 'flavorId', 'flavorIds', 'flavorParamId', 'flavorParamIds', 'tags', 'maxBitrate',
    'minBitrate', 'preferredBitrate', 'seekFrom', 'clipTo', 'ks', 'kt', 'expiry', 'referrer', 'hashes', 'deliveryProfileIds',
    'storageId', 'sequence', 'responseFormat', 'playbackContext', 'cdnHost', 'e', 'f', 'pt', 'mb', 'ex', 'r', 'x', ''];
  const value = fc.oneof(fc.string({ maxLength: 40 }), fc.integer().map(String), fc.constantFrom('-1', '0', '1e309', 'NaN', '%', '%zz', '..', '\r\n', 'a,b,,c', '=', '/'));
  const segment = fc.tuple(fc.constantFrom(...names), value).map(([k, v]) => `/${k}/${encodeURIComponent(v)}`);
  const path = fc.oneof(fc.array(segment, { maxLength: 12 }).map((s) => s.join('')), fc.string({ maxLength: 200 }));
  const query = fc.dictionary(fc.constantFrom(...names, 'callback', 'referrer'), value, { maxKeys: 5 });
  const headers = fc.record({ referer: fc.option(fc.string({ maxLength: 100 }), { nil: undefined }), 'x-kaltura-ks': fc.option(fc.string({ maxLength: 50 }), { nil: undefined }), 'user-agent': fc.option(fc.string(), { nil: undefined }) });
  fc.assert(fc.property(path, query, headers, fc.constantFrom('GET', 'POST', 'HEAD'), (p, q, h, method) =>
    expectOnly(() => {
      const r = parsePlayRequest(p, { method, rawUrl: `/p/309/playManifest${p}`, query: q, headers: h, isHttps: false, clientIp: '127.0.0.1', country: () => null, regexBudget: { left: 2_000_000 } });
      if (/[\r\n]/.test(r.referrer)) throw new Error('CR/LF reached the referrer');
    }, DeliveryError)), { numRuns: 3000 });
  t.pass('3000 cases');
});

t.test('rule evaluator: any rules, any scope, a decision (never an exception)', async (t) => {
  const str = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('10.0.0.0/8', '::1', '1.1.1.1-2.2.2.2', '1.2.3.4/255.255.0.0', 'example.com', '(a+)+$', '[', '\\', 'a{2,1}', '(?=x)', '*', 'GB'));
  const leaf: fc.Arbitrary<Condition> = fc.oneof(
    fc.record({ type: fc.constant('authenticated' as const), not: fc.boolean(), privileges: fc.array(fc.constantFrom('sview', 'widget', 'edit', 'download'), { maxLength: 3 }) }),
    fc.record({ type: fc.constant('ip' as const), not: fc.boolean(), values: fc.array(str, { maxLength: 4 }), httpHeader: fc.option(fc.constantFrom('x-forwarded-for', 'X-Real-IP'), { nil: undefined }), acceptInternalIps: fc.boolean() }),
    fc.record({ type: fc.constant('country' as const), not: fc.boolean(), values: fc.array(str, { maxLength: 3 }) }),
    fc.record({ type: fc.constant('site' as const), not: fc.boolean(), values: fc.array(str, { maxLength: 3 }) }),
    fc.record({ type: fc.constant('userAgent' as const), not: fc.boolean(), values: fc.array(str, { maxLength: 3 }) }),
    fc.record({ type: fc.constant('httpHeader' as const), not: fc.boolean(), headerName: fc.constantFrom('x-a', 'X-B', ''), values: fc.array(str, { maxLength: 3 }) }),
    fc.record({ type: fc.constant('sessionType' as const), not: fc.boolean(), sessionType: fc.integer({ min: -1, max: 3 }) }),
    fc.record({ type: fc.constant('fieldCompare' as const), not: fc.boolean(), field: fc.constant('time' as const), offset: fc.integer(), value: fc.integer(), comparison: fc.integer({ min: 0, max: 7 }) }),
    fc.record({ type: fc.constant('entryScheduled' as const), not: fc.boolean() }),
    fc.record({ type: fc.constant('assetProperties' as const), not: fc.boolean(), properties: fc.dictionary(fc.constantFrom('bitrate', 'width', 'id', 'x'), fc.oneof(fc.string(), fc.integer())) }),
    fc.record({ type: fc.constant('hash' as const), not: fc.boolean(), hashName: fc.constantFrom('h', 'x'), hashSecret: fc.string() }),
  );
  const cond = fc.oneof({ depthSize: 'small' }, leaf, fc.record({ type: fc.constant('or' as const), not: fc.boolean(), conditions: fc.array(leaf, { maxLength: 3 }) }));
  const action: fc.Arbitrary<RuleAction> = fc.oneof(
    fc.constant({ type: 'block' as const }),
    fc.record({ type: fc.constant('preview' as const), limit: fc.oneof(fc.integer(), fc.double()) }),
    fc.record({ type: fc.constant('limitFlavors' as const), flavorParamsIds: fc.array(fc.integer(), { maxLength: 3 }), isBlockedList: fc.boolean() }),
    fc.record({ type: fc.constant('limitDeliveryProfiles' as const), deliveryProfileIds: fc.array(fc.integer(), { maxLength: 3 }), isBlockedList: fc.boolean() }),
    fc.record({ type: fc.constant('requestHostRegex' as const), pattern: fc.string(), replacement: fc.string() }),
  );
  const rule: fc.Arbitrary<AccessRule> = fc.record({
    message: fc.option(fc.string({ maxLength: 20 }), { nil: undefined }),
    contexts: fc.option(fc.subarray(['PLAY', 'DOWNLOAD', 'THUMBNAIL', 'SERVE'] as const).map((a) => [...a]), { nil: undefined }),
    conditions: fc.array(cond, { maxLength: 3 }),
    actions: fc.array(action, { maxLength: 3 }),
    stopProcessing: fc.boolean(),
    forceAdminValidation: fc.boolean(),
  });
  const ks = generateKs({ partnerId: 309, secret: P.adminSecret, type: 0, expiry: 60, privileges: 'sview:1_a', now: NOW });
  const userKs = verifyKs(parseKs(ks), P, { now: NOW });
  const scope: fc.Arbitrary<AccessScope> = fc.record({
    contexts: fc.subarray(['PLAY', 'DOWNLOAD', 'SERVE'] as const).map((a) => [...a]),
    ks: fc.constantFrom(null, userKs, { ...userKs, type: 2 }),
    ksString: fc.constantFrom(null, ks),
    clientIp: fc.oneof(fc.ipV4(), fc.ipV6(), fc.string({ maxLength: 20 })),
    referrer: fc.oneof(fc.webUrl(), fc.string({ maxLength: 60 })),
    userAgent: fc.string({ maxLength: 200 }),
    headers: fc.dictionary(fc.constantFrom('x-a', 'x-b', 'x-forwarded-for', 'x-real-ip'), fc.oneof(fc.string(), fc.array(fc.ipV4()).map((a) => a.join(', ')))),
    hashes: fc.dictionary(fc.constantFrom('h', 'x'), fc.string()),
    entryId: fc.constantFrom('1_a', '1_b'),
    entry: fc.option(fc.record({ startDate: fc.option(fc.integer(), { nil: null }), endDate: fc.option(fc.integer(), { nil: null }) }), { nil: null }),
    readyAssets: fc.array(fc.record({ id: fc.string(), bitrate: fc.integer(), width: fc.integer() }), { maxLength: 3 }),
    now: fc.integer({ min: 0, max: 2 ** 32 }),
  });
  fc.assert(fc.property(fc.array(rule, { maxLength: 5 }), scope, (rules, s) => {
    const d = evaluateAccessRules(rules, { ...s, country: () => (s.clientIp.startsWith('1') ? 'GB' : null) });
    return Array.isArray(d.firedRules) && typeof d.blocked === 'boolean' && (d.previewSeconds === null || Number.isFinite(d.previewSeconds));
  }), { numRuns: 3000 });
  t.pass('3000 cases');
});

t.test('linear-time regex agrees with RegExp on their common syntax', async (t) => {
  const atom = fc.constantFrom('a', 'b', '.', '[ab]', '[^a]', '\\w', '\\d', 'x', '(a|b)', '(ab|a)', '(?:b)', '');
  const quant = fc.constantFrom('', '*', '+', '?', '{2}', '{1,2}', '{0,}', '*?');
  const piece = fc.tuple(atom, quant).map(([a, q]) => (a === '' ? '' : a + q));
  const pattern = fc.tuple(fc.boolean(), fc.array(piece, { minLength: 1, maxLength: 5 }), fc.boolean(), fc.option(fc.array(piece, { maxLength: 3 }), { nil: null }))
    .map(([start, body, end, alt]) => `${start ? '^' : ''}${body.join('')}${alt ? `|${alt.join('')}` : ''}${end ? '$' : ''}`);
  const input = fc.stringOf(fc.constantFrom('a', 'b', 'x', '1', 'A', ' '), { maxLength: 12 });
  fc.assert(fc.property(pattern, input, fc.boolean(), (p, s, ci) => {
    const native = new RegExp(p, ci ? 'i' : '').test(s);
    return compileSafeRegex(p, ci).test(s) === native;
  }), { numRuns: 1500 });
  t.pass('1500 cases');
});

t.test('kt verifier never throws', async (t) => {
  fc.assert(fc.property(fc.string(), fc.string(), fc.string(), (uri, kt, secret) => typeof verifyKt(uri, kt, secret) === 'boolean'), { numRuns: 500 });
  t.pass('500 cases');
});
