import t from 'tap';
import { compileSafeRegex, regexValueMatches, RegexBudgetError } from '../../src/access/regex.js';

const m = (p: string, s: string, ci = true) => compileSafeRegex(p, ci).test(s);

t.test('syntax', async (t) => {
  t.ok(m('^Mozilla/5\\.0 \\(', 'Mozilla/5.0 (X11)'));
  t.notOk(m('^Mozilla/5\\.0', 'xMozilla/5.0'));
  t.ok(m('chrome/1[0-2][0-9]\\b', 'Chrome/120.0'));
  t.notOk(m('chrome/1[0-2][0-9]\\b', 'Chrome/1200'));
  t.ok(m('[^a-z]{3}$', 'abc123'));
  t.ok(m('\\Aabc\\z', 'ABC'));
  t.notOk(m('\\Aabc\\z', 'ABC\n'));
  t.ok(m('abc$', 'abc\n'), '$ matches before a final newline, as in PCRE');
  t.ok(m('abc\\Z', 'abc\n'));
  t.notOk(m('ABC', 'abc', false), 'case-sensitive when asked');
  t.ok(m('a{2,3}b', 'xaaab'));
  t.notOk(m('^a{2,3}b', 'aaaab'));
  t.ok(m('x{', 'x{'), 'a brace that is not a quantifier is literal');
  t.ok(m('(?<name>ab)+c', 'ababc'));
  t.ok(m('\\x41\\u0042', 'ab'));
  t.ok(m('[\\d.]+', '1.2'));
  t.ok(m('a||b', 'zzz'), 'an empty alternative matches the empty string');
});

t.test('refused: what cannot run in linear time, and oversized patterns', async (t) => {
  for (const p of ['(a)\\1', '(?=a)', '(?!a)', '(?<=a)b', '(?i)a', '\\p{L}', 'a**', '(a', 'a)', '[a', '*a', '(a{1000}){1000}', 'x'.repeat(2000)]) {
    t.throws(() => compileSafeRegex(p), { name: 'RegexError' }, p);
  }
  t.ok(regexValueMatches('(a)\\1', '(a)\\1'), 'a refused value still matches by equality');
  t.notOk(regexValueMatches('(a)\\1', 'aa'));
});

t.test('catastrophic patterns run in linear time', async (t) => {
  const input = 'a'.repeat(8192) + '!';
  for (const p of ['(a+)+$', '^(a|a)*$', '(a*)*b', '^(\\w+\\s?)*$', '^(a|aa)+$', '(.*){10}x']) {
    const t0 = process.hrtime.bigint();
    t.notOk(m(p, input), p);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    t.ok(ms < 1000, `${p}: ${ms.toFixed(1)} ms`);
  }
  t.ok(m('(a+)+$', 'x' + 'a'.repeat(50_000)), 'a 50 KB input is tested whole');
  t.notOk(m('a', 'a'.repeat(70_000)), 'past 64 KB nothing matches');
});

t.test('a budget bounds what tests cost together', async (t) => {
  // linear, but pattern size × input: 900 states active at every character of a long input
  const big = compileSafeRegex('[a-z]{0,900}q');
  const budget = { left: 1_000_000 };
  t.throws(() => big.test('a'.repeat(8000), budget), RegexBudgetError, 'a test past the budget gives up');
  t.ok(budget.left < 0);
  const small = { left: 1_000_000 };
  t.ok(compileSafeRegex('googlebot|bingbot').test('x'.repeat(5000) + 'Googlebot/2.1', small), 'an ordinary pattern over a long input stays within it');
  t.ok(small.left > 900_000, `${1_000_000 - small.left} steps`);
  t.ok(regexValueMatches('[a-z]{0,900}q', 'aq', { left: 1_000_000 }), 'regexValueMatches passes the budget on');
  t.throws(() => regexValueMatches('[a-z]{0,900}q', 'a'.repeat(5000), { left: 1000 }), RegexBudgetError);
});

t.test('compiling is not charged to a budget, only testing is', async (t) => {
  // a condition's values are compiled once and kept with the condition (src/access/evaluate.ts):
  // charging that to each request refused every viewer of a long list of plain names
  const names = { left: 1_000 };
  t.notOk(regexValueMatches('crawler1bot', 'Mozilla/5.0', names), 'a name that does not match');
  t.ok(names.left >= 1_000 - 3 * 12, `${1_000 - names.left} steps for an 11-character input (a few states a character)`);
  t.ok(compileSafeRegex('[a-z]{0,900}').states > 900, 'a compiled pattern tells its size');
});
