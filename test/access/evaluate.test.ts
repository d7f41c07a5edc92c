import t from 'tap';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { accessBlockedError, evaluateAccessRules, rulesRead, ipRangeSetsParsed, isFlavorAllowed, newRegexBudget, referrerHost, type AccessScope } from '../../src/access/evaluate.js';
import { regexStepsTaken } from '../../src/access/regex.js';
import { countryLookupFromBuffer, noCountryDatabase, openCountryLookup } from '../../src/access/geo.js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKs, parseKs, verifyKs, type Ks } from '../../src/access/ks.js';
import { normalizeAccessRules } from '../../src/catalog/legacy-rules.js';
import type { AccessRule, Condition } from '../../src/catalog/types.js';
import { writeMmdb } from './mmdb-writer.js';
import { repoPath } from '../helpers/repo.js';

const NOW = 1_700_000_000;
const P = { id: 309, adminSecret: 'sample-admin-secret-309' };
const ks = (type: 0 | 2, privileges = '', version: 1 | 2 = 2): Ks =>
  verifyKs(parseKs(generateKs({ partnerId: 309, secret: P.adminSecret, type, expiry: 60, privileges, version, now: NOW })), P, { now: NOW });
const scope = (over: Partial<AccessScope> = {}): AccessScope => ({
  contexts: ['PLAY'], ks: null, ksString: null, clientIp: '127.0.0.1', referrer: '', userAgent: 'Mozilla/5.0',
  headers: {}, hashes: {}, entryId: '1_kssecure', now: NOW, ...over,
});
const block = (...conditions: Condition[]): AccessRule[] => [{ message: 'no', conditions, actions: [{ type: 'block' }] }];
const blocked = (rules: AccessRule[], s: Partial<AccessScope> = {}) => evaluateAccessRules(rules, scope(s)).blocked;

const library = JSON.parse(readFileSync(repoPath('fixtures/sample-library.json'), 'utf8'));
const profile = (id: number): AccessRule[] => {
  const p = library.accessControlProfiles.find((x: { id: number }) => x.id === id);
  return normalizeAccessRules(p.rules ?? [], p.restrictions ?? []);
};

t.test('sample profile 1, Require KS', async (t) => {
  const rules = profile(1);
  const d = evaluateAccessRules(rules, scope());
  t.equal(d.blocked, true, 'anonymous is blocked');
  t.same(d.firedRules, [0]);
  t.same(d.messages, ['a session (KS) is required']);
  t.same(d.codedMessages, [{ code: 'SESSION_RESTRICTED', message: 'a session (KS) is required' }]);
  t.equal(blocked(rules, { ks: ks(0, 'sview:1_kssecure') }), false, 'sview of the entry');
  t.equal(blocked(rules, { ks: ks(0, 'sview:*') }), false, 'sview:*');
  t.equal(blocked(rules, { ks: ks(0, 'sview:1_kssecur') }), true, 'no prefix match');
  t.equal(blocked(rules, { ks: ks(0, 'sview:1_other') }), true, 'sview of another entry');
  t.equal(blocked(rules, { ks: ks(0, '') }), true, 'a KS without privileges');
  t.equal(blocked(rules, { ks: ks(2, '', 1) }), false, 'admin KS');
  t.equal(blocked(rules, { contexts: ['THUMBNAIL'] }), false, 'the rule is for PLAY and DOWNLOAD only');
  t.equal(blocked(rules, { contexts: [] }), true, 'a scope without contexts matches every rule');
  const e = accessBlockedError(d);
  t.equal(e.code, 3);
  t.same(e.headers, ['access-control: a session (KS) is required']);
});

t.test('sample profile 2, session + 5 s preview', async (t) => {
  const rules = profile(2);
  const d = evaluateAccessRules(rules, scope());
  t.equal(d.blocked, false);
  t.equal(d.previewSeconds, 5);
  t.equal(evaluateAccessRules(rules, scope({ ks: ks(0, 'sview:*') })).previewSeconds, null);
  const two: AccessRule[] = [...rules, { actions: [{ type: 'preview', limit: 3 }] }, { actions: [{ type: 'preview', limit: 8 }] }];
  t.equal(evaluateAccessRules(two, scope()).previewSeconds, 3, 'the minimum of every preview');
});

t.test('sample profile 3, site allow-list example.com (true subdomains only)', async (t) => {
  const rules = profile(3);
  for (const [ref, ok] of [
    ['https://www.example.com/page', true], ['https://example.com', true], ['http://EXAMPLE.com:8080/x', true],
    ['www.example.com/page', true], ['https://a.b.example.com/?q=1', true],
    ['https://example.com.evil.net/', false], ['https://notexample.com/', false], ['https://evil.net/?example.com', false],
    ['https://evil.net/#.example.com', false], ['', false], ['https://www.example.com\r\nX-Injected: 1', false],
    ['https://user@www.example.com/', true], ['https://www.example.com@evil.net/', false],
  ] as const) {
    t.equal(blocked(rules, { referrer: ref }), !ok, JSON.stringify(ref));
  }
  t.equal(referrerHost('https://[::1]:80/x'), '[::1]');
});

t.test('sample profile 4, IP allow-list 10.0.0.0/8, and every range form', async (t) => {
  const rules = profile(4);
  t.equal(blocked(rules, { clientIp: '127.0.0.1' }), true);
  t.equal(blocked(rules, { clientIp: '10.200.3.4' }), false);
  t.equal(blocked(rules, { clientIp: '::ffff:10.0.0.1' }), false, 'IPv4-mapped IPv6');
  const ipIn = (values: string[], ip: string) => blocked(block({ type: 'ip', values }), { clientIp: ip });
  t.ok(ipIn(['192.168.1.7'], '192.168.1.7'));
  t.notOk(ipIn(['192.168.1.7'], '192.168.1.8'));
  t.ok(ipIn(['192.168.0.0/255.255.0.0'], '192.168.44.1'), 'netmask');
  t.notOk(ipIn(['192.168.0.0/255.255.0.0'], '192.169.0.1'));
  t.ok(ipIn(['1.1.1.1-1.1.2.0'], '1.1.1.200'), 'range');
  t.notOk(ipIn(['1.1.1.1-1.1.2.0'], '1.1.2.1'));
  t.ok(ipIn(['8.8.8.8,2001:db8::/32'], '2001:db8:1::5'), 'a comma list in one value, IPv6 CIDR');
  t.notOk(ipIn(['2001:db8::/32'], '2001:db9::1'));
  t.ok(ipIn(['::1'], '::1'));
  t.notOk(ipIn(['0.0.0.0/0'], '::1'), 'families do not mix');
  t.notOk(ipIn(['not an ip', '1.2.3.4/99', '5.5.5.5/255.0.255.0'], '1.2.3.4'), 'bad values never match');
  t.notOk(ipIn(['10.0.0.0/8'], 'garbage'));
  t.ok(ipIn([], 'garbage'), 'no values configured: fulfilled (kMatchCondition)');
  t.notOk(blocked(block({ type: 'site', not: true, values: [] })), '... so an empty allow-list lets everyone in');
});

t.test('IP from a header: first public address, private ones only when accepted', async (t) => {
  const cond = (extra: Partial<Extract<Condition, { type: 'ip' }>>): Condition => ({ type: 'ip', values: ['203.0.113.0/24', '10.0.0.0/8'], httpHeader: 'X-Forwarded-For', ...extra });
  const xff = (v: string) => ({ headers: { 'x-forwarded-for': v } });
  t.ok(blocked(block(cond({})), xff('10.1.1.1, 203.0.113.9')), 'skips the private one');
  t.notOk(blocked(block(cond({ values: ['10.0.0.0/8'] })), xff('10.1.1.1, 198.51.100.1')));
  t.ok(blocked(block(cond({ values: ['10.0.0.0/8'], acceptInternalIps: true })), xff('10.1.1.1, 198.51.100.1')));
  t.notOk(blocked(block(cond({})), {}), 'no header: field null, not fulfilled');
  t.ok(blocked(block({ ...cond({}), not: true }), {}), '... so an allow-list blocks');
  const internalOnly: Condition = { type: 'ip', not: true, values: ['10.0.0.0/8'], acceptInternalIps: true };
  t.ok(blocked(block(internalOnly), { clientIp: '8.8.8.8', ...xff('10.1.1.1, 8.8.8.8') }), 'acceptInternalIps without httpHeader names no header: an X-Forwarded-For entry the client wrote is never the field');
  t.ok(blocked(block(internalOnly), { clientIp: '10.1.1.1', ...xff('10.1.1.1') }), '... the field is empty, as in the reference, so the allow list blocks');
  const huge = Array.from({ length: 200_000 }, (_, i) => `10.0.${(i >> 8) & 255}.${i & 255}`).join(', ') + ', 203.0.113.1';
  const t0 = process.hrtime.bigint();
  t.notOk(blocked(block(cond({ values: ['203.0.113.0/24'] })), xff(huge)), 'only the first items of a huge header are read');
  t.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 500, 'quickly');
});

t.test('country from a MaxMind database built here', async (t) => {
  const db = writeMmdb({
    '81.2.69.0/24': { country: { iso_code: 'GB', names: { en: 'United Kingdom' } } },
    '89.160.20.112/28': { country: { iso_code: 'SE' } },
    '2a02:cf40::/29': { registered_country: { iso_code: 'NO' } },
  });
  const geo = countryLookupFromBuffer(db);
  t.equal(geo.countryOf('81.2.69.142'), 'GB');
  t.equal(geo.countryOf('::ffff:81.2.69.1'), 'GB');
  t.equal(geo.countryOf('89.160.20.120'), 'SE');
  t.equal(geo.countryOf('89.160.20.140'), null);
  t.equal(geo.countryOf('2a02:cf40:1::1'), 'NO');
  t.equal(geo.countryOf('nonsense'), null);
  const rules = block({ type: 'country', not: true, values: [' gb ', 'se'] });
  // the scope carries the client's country as the request's HTTP facts give it
  const from = (clientIp: string) => ({ clientIp, country: () => geo.countryOf(clientIp) });
  t.notOk(blocked(rules, from('81.2.69.142')));
  t.ok(blocked(rules, from('2a02:cf40::5')));
  t.ok(blocked(rules, from('1.1.1.1')), 'unknown country fails an allow-list');
  t.ok(blocked(rules, { clientIp: '81.2.69.142' }), 'a scope without a country: unknown');
  // a server without a database: the lookup throws, and a block list blocks as an allow list does
  // (answering "unknown" let everyone past a block list)
  const noDatabase = { clientIp: '81.2.69.142', country: noCountryDatabase };
  t.ok(blocked(block({ type: 'country', values: ['US'] }), noDatabase), 'no database: a block list blocks');
  t.ok(blocked(rules, noDatabase), 'no database: an allow list blocks');
  t.ok(blocked([{ conditions: [{ type: 'or', not: true, conditions: [{ type: 'country', values: ['US'] }] }], actions: [{ type: 'block' }] }], noDatabase),
    'no database: under a negated or too');
  // the rule applies with its own actions and message; within an `or` (whose `not` could turn it
  // round) the rule blocks as a broken one does
  t.same(evaluateAccessRules(block({ type: 'country', values: ['US'] }), { ...scope(), ...noDatabase }).messages, ['no']);
  const preview = evaluateAccessRules([{ conditions: [{ type: 'country', values: ['DE'] }], actions: [{ type: 'preview', limit: 30 }] }], { ...scope(), ...noDatabase });
  t.same([preview.blocked, preview.previewSeconds], [false, 30], 'no database: a preview rule previews, it does not block');
  t.same(evaluateAccessRules([{ conditions: [{ type: 'or', conditions: [{ type: 'country', values: ['US'] }] }], actions: [{ type: 'preview', limit: 30 }] }], { ...scope(), ...noDatabase }).messages,
    ['country rules cannot be decided on this server'], 'no database, within an or: blocked, saying why');
  t.ok(rulesRead([{ conditions: [{ type: 'or', conditions: [{ type: 'country', values: ['US'] }] }], actions: [] }], 'country'), 'rulesRead looks into or');
  t.notOk(rulesRead(block({ type: 'site', values: ['example.com'] }), 'country'));
  t.throws(() => countryLookupFromBuffer(Buffer.from('not a database')));
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-geo-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  writeFileSync(join(dir, 'country.mmdb'), db);
  t.equal(openCountryLookup(join(dir, 'country.mmdb')).countryOf('81.2.69.9'), 'GB', 'read from a file');
  t.throws(() => openCountryLookup(join(dir, 'missing.mmdb')), /KDELIVER_GEOIP_FILE=.*missing\.mmdb: cannot read it/);
});

t.test('user agent and header regex, linear time', async (t) => {
  const ua = (values: string[], userAgent: string) => blocked(block({ type: 'userAgent', values }), { userAgent });
  t.ok(ua(['iphone'], 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0)'), 'case-insensitive search');
  t.ok(ua(['^Mozilla/5\\.0 \\((Windows|Mac)'], 'Mozilla/5.0 (Macintosh)'));
  t.notOk(ua(['^Mozilla/5\\.0 \\((Windows|Mac)'], 'Mozilla/5.0 (X11)'));
  t.ok(ua(['(foo'], '(foo'), 'a value that does not compile matches by equality only');
  t.notOk(ua(['(foo'], 'x (foo y'));
  t.ok(ua(['bot\\b'], 'Googlebot/2.1'));
  t.notOk(ua(['bot\\b'], 'robots'));
  const evil = '(a+)+$';
  const input = 'a'.repeat(8000) + '!';
  const t0 = process.hrtime.bigint();
  t.notOk(ua([evil, '(a|aa)*b', '(.*a){20}x', '(\\w+\\s?)*$!'], input), 'catastrophic patterns do not match');
  t.ok(Number(process.hrtime.bigint() - t0) / 1e6 < 2000, 'and finish quickly');
  t.ok(ua(['(a+)+$'], 'aaaa'), 'and still match when they should');
  t.notOk(ua(['(a)\\1'], 'aa'), 'back-references are refused');
  const hdr = (values: string[], headers: Record<string, string>) => blocked(block({ type: 'httpHeader', headerName: 'X-Tenant', values }), { headers });
  t.ok(hdr(['^blue-\\d+$'], { 'x-tenant': 'BLUE-42' }));
  t.notOk(hdr(['^blue-\\d+$'], { 'x-tenant': 'blue-42x' }));
  t.notOk(hdr(['.*'], {}), 'missing header: not fulfilled');
});

t.test('session type, time windows, schedule, asset properties, hash', async (t) => {
  const st: Condition = { type: 'sessionType', sessionType: 2 };
  const forcedBlock = (c: Condition): AccessRule[] => [{ forceAdminValidation: true, conditions: [c], actions: [{ type: 'block' }] }];
  t.ok(blocked(forcedBlock(st), { ks: ks(2) }));
  t.notOk(blocked(block(st), { ks: ks(2) }), 'without forceAdminValidation an admin KS skips the rule');
  t.notOk(blocked(block(st), { ks: ks(0) }));
  t.notOk(blocked(block({ ...st, not: true }), {}), 'no KS: false whatever not says');
  t.ok(blocked(block({ ...st, not: true }), { ks: ks(0) }));
  t.notOk(blocked(block({ ...st, sessionType: 0 }), { ks: ks(0, 'disablesessiontypecheck') }));

  const after = (v: number): Condition => ({ type: 'fieldCompare', field: 'time', value: v, comparison: 2 });
  const before = (v: number): Condition => ({ type: 'fieldCompare', field: 'time', value: v, comparison: 4 });
  const windowRules = block({ type: 'or', not: true, conditions: [] }, { type: 'or', conditions: [before(NOW - 10), after(NOW + 10)] });
  t.notOk(blocked(windowRules), 'inside the window');
  t.ok(blocked(windowRules, { now: NOW + 11 }), 'after it');
  t.ok(blocked(windowRules, { now: NOW - 11 }), 'before it');
  t.ok(blocked(block({ type: 'fieldCompare', field: 'time', offset: 100, value: NOW + 50, comparison: 3 })), 'offset');
  t.ok(blocked(block({ type: 'fieldCompare', field: 'time', value: NOW + 1, comparison: 6 })), 'NOT_EQUAL means not equal');

  const sched: Condition = { type: 'entryScheduled', not: true };
  t.ok(blocked(block(sched), { entry: { startDate: NOW + 5, endDate: null } }));
  t.ok(blocked(block(sched), { entry: { startDate: null, endDate: NOW - 1 } }));
  t.notOk(blocked(block(sched), { entry: { startDate: NOW - 5, endDate: NOW + 5 } }));

  const assets = [{ id: 'a', flavorParamsId: 301961, width: 426 }, { id: 'b', flavorParamsId: 301971, width: 1280 }];
  t.ok(blocked(block({ type: 'assetProperties', properties: { flavorParamsId: '301971', width: 1280 } }), { readyAssets: assets }));
  t.notOk(blocked(block({ type: 'assetProperties', properties: { flavorParamsId: 301971, width: 426 } }), { readyAssets: assets }), 'one asset must have every property');

  const ksString = 'djJ8MzA5fAbc';
  const good = createHash('md5').update('hash-secret' + ksString).digest('hex');
  const hash = block({ type: 'hash', hashName: 'h1', hashSecret: 'hash-secret' });
  t.notOk(blocked(hash, { ksString, hashes: { h1: good } }));
  t.ok(blocked(hash, { ksString, hashes: { h1: good.replace(/.$/, '0') } }));
  t.ok(blocked(hash, { ksString, hashes: {} }), 'missing hash');
  t.notOk(blocked(hash, { hashes: { h1: createHash('md5').update('hash-secret').digest('hex') } }), 'no KS: md5 of the secret alone');
});

t.test('not, or, stopProcessing, forceAdminValidation, first limits win', async (t) => {
  const never: Condition = { type: 'ip', values: ['192.0.2.1'] };
  t.notOk(blocked(block(never)));
  t.ok(blocked(block({ ...never, not: true })));
  t.ok(blocked(block({ type: 'or', conditions: [never, { ...never, not: true }] })));
  t.notOk(blocked(block({ type: 'or', conditions: [never] })));
  t.notOk(blocked(block({ type: 'or', conditions: [] })), 'an empty or is not fulfilled');
  t.ok(blocked(block()), 'no conditions: always');

  const rules: AccessRule[] = [
    { message: 'first', actions: [{ type: 'limitFlavors', flavorParamsIds: [1], isBlockedList: false }, { type: 'limitDeliveryProfiles', deliveryProfileIds: [1001], isBlockedList: true }] },
    { message: 'second', actions: [{ type: 'limitFlavors', flavorParamsIds: [2], isBlockedList: true }, { type: 'requestHostRegex', pattern: '^https?://([^/]+)/(.*)$', replacement: '$1://edge/$2' }], stopProcessing: true },
    { message: 'third', actions: [{ type: 'block' }] },
  ];
  const d = evaluateAccessRules(rules, scope());
  t.same(d.firedRules, [0, 1]);
  t.same(d.messages, ['first', 'second']);
  t.equal(d.blocked, false, 'stopProcessing stops before the block');
  t.same(d.limitFlavors, { flavorParamsIds: [1], isBlockedList: false });
  t.same(d.limitDeliveryProfiles, { deliveryProfileIds: [1001], isBlockedList: true });
  t.same(d.requestHostRegex, { pattern: '^https?://([^/]+)/(.*)$', replacement: '$1://edge/$2' });
  t.equal(d.actions.length, 4);

  const forced: AccessRule[] = [{ actions: [{ type: 'block' }] }, { forceAdminValidation: true, actions: [{ type: 'preview', limit: 2 }] }];
  const a = evaluateAccessRules(forced, scope({ ks: ks(2) }));
  t.same(a.firedRules, [1], 'an admin KS skips all but forced rules');
  t.equal(a.blocked, false);
  t.equal(a.previewSeconds, 2);

  t.ok(blocked([{ conditions: [{ type: 'nonsense' } as unknown as Condition], actions: [] }]), 'an unknown condition blocks');
  t.same(evaluateAccessRules([{ message: 'm' } as unknown as AccessRule], scope()).firedRules, [0], 'a stored rule without actions or conditions');
});

t.test('LIMIT_FLAVORS and the downloadasset privilege', async (t) => {
  const allow = { flavorParamsIds: [301961], isBlockedList: false };
  const f = (id: string, fp: number) => ({ id, flavorParamsId: fp });
  t.ok(isFlavorAllowed(allow, f('x', 301961), null));
  t.notOk(isFlavorAllowed(allow, f('y', 301971), null));
  t.ok(isFlavorAllowed(allow, f('y', 301971), ks(0, 'downloadasset:y')));
  t.notOk(isFlavorAllowed({ ...allow, isBlockedList: true }, f('x', 301961), null));
  t.ok(isFlavorAllowed(null, f('x', 1), null));
  const d = evaluateAccessRules(profile(5), scope());
  t.same(d.limitFlavors, allow, 'sample profile 5');
});

t.test('rule messages are header-safe', async (t) => {
  const d = evaluateAccessRules([{ message: 'bad\r\nX-Evil: 1', actions: [{ type: 'block' }] }], scope());
  t.same(accessBlockedError(d).headers, ['access-control: bad X-Evil: 1']);
});

t.test('long IP lists are parsed once per profile the catalog keeps, not on every request', async (t) => {
  // 20 rules of 10 000 values (two ranges each) were some 650 ms of every request that matched none
  const values = Array.from({ length: 10_000 }, (_, i) => `10.${(i >> 8) & 255}.${i & 255}.0/24,2001:db8:${i.toString(16)}::/48`);
  const rules: AccessRule[] = Array.from({ length: 20 }, () => ({ conditions: [{ type: 'ip', values: [...values] }], actions: [{ type: 'block' }] }));
  const before = ipRangeSetsParsed();
  t.notOk(blocked(rules, { clientIp: '198.51.100.1' }), 'the first request parses them');
  t.equal(ipRangeSetsParsed() - before, 20, 'each rule\'s list once');
  for (let i = 0; i < 10; i++) blocked(rules, { clientIp: '198.51.100.1' });
  t.equal(ipRangeSetsParsed() - before, 20, 'ten more requests parse nothing again');
  t.ok(blocked(rules, { clientIp: '10.39.15.7' }), 'an address of the list (10.39.15.0/24, the 10 000th value)');
  t.ok(blocked(rules, { clientIp: '2001:db8:270f::1' }), 'and of its IPv6 ranges');
  t.notOk(blocked(rules, { clientIp: '10.39.16.7' }), 'just past it');
  t.ok(blocked([{ conditions: [{ type: 'ip', values: ['1.1.1.0-1.1.1.9', '1.1.1.5/32', '1.1.1.10-1.1.1.20'] }], actions: [{ type: 'block' }] }], { clientIp: '1.1.1.15' }), 'overlapping and adjacent ranges merged');
});

t.test('one regex budget per request: once spent, every later evaluation of the request is refused at once', async (t) => {
  const rules: AccessRule[] = [{ conditions: [{ type: 'userAgent', values: Array.from({ length: 20 }, (_, i) => `[a-z]{0,900}q${i}`) }], actions: [{ type: 'block' }] }];
  const regexBudget = newRegexBudget();
  const s = scope({ userAgent: 'a'.repeat(8000), regexBudget });
  const first = evaluateAccessRules(rules, s);
  t.ok(first.blocked && /too long/.test(first.messages[0]), 'the first evaluation spends the budget and is refused');
  const before = regexStepsTaken();
  for (let i = 0; i < 50; i++) {
    const d = evaluateAccessRules(rules, s);
    t.ok(d.blocked && /too long/.test(d.messages[0]));
  }
  t.equal(regexStepsTaken() - before, 0, 'the later ones test nothing');
  t.ok(!evaluateAccessRules(rules, scope({ userAgent: 'Mozilla/5.0' })).blocked, 'another request has its own budget');
});

t.test('a kept list of 3000 names: an ordinary user agent fits one budget, evaluation after evaluation', async (t) => {
  const rules: AccessRule[] = [{ conditions: [{ type: 'userAgent', values: Array.from({ length: 3000 }, (_, i) => `crawler${i}bot`) }], actions: [{ type: 'block' }] }];
  const chrome = 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36 Edg/124.0.2478.51';
  for (let i = 0; i < 5; i++) t.notOk(evaluateAccessRules(rules, scope({ userAgent: chrome, regexBudget: newRegexBudget() })).blocked, `request ${i + 1} plays`);
  // a playback context evaluates the same rules per format: the same answer, tested once
  const regexBudget = newRegexBudget();
  evaluateAccessRules(rules, scope({ userAgent: chrome, regexBudget }));
  const left = regexBudget.left;
  for (let i = 0; i < 100; i++) t.notOk(evaluateAccessRules(rules, scope({ userAgent: chrome, regexBudget })).blocked);
  t.equal(regexBudget.left, left, 'the request tests the condition on its user agent once');
  t.ok(evaluateAccessRules(rules, scope({ userAgent: 'Crawler2999Bot/1.0' })).blocked, 'a listed bot is blocked');
});
