// Linear-time regular expressions for the user-agent and HTTP-header conditions.
//
// The reference runs each configured value as PCRE `/value/i`. A backtracking engine (PCRE, or
// JavaScript's RegExp) can take exponential time on patterns such as `(a+)+$`, and the input (a
// user agent, a header) is the attacker's. Rejecting "dangerous" patterns by inspection is
// incomplete (`(a|a)*`, `\d*\d*\d*x`, ...), so instead patterns are compiled to a Thompson NFA
// and run by simulating every state at once: time is O(pattern size × input length) whatever
// the pattern. The supported syntax is what such rules use in practice: literals, `.`, classes,
// `\d\w\s` and their negations, anchors `^ $ \b \B \A \z \Z`, groups, `|`, and the quantifiers
// `* + ? {n} {n,} {n,m}` (lazy and possessive suffixes accepted; they do not change whether a
// match exists). Back-references and look-around cannot run in linear time: such a pattern is
// refused (compileSafeRegex throws), and a condition value that does not compile only matches by
// exact equality (as a PCRE compile error does in the reference).

export class RegexError extends Error {
  override name = 'RegexError';
  /** NFA states built before the refusal (what it cost). */
  constructor(message: string, readonly states = 0) {
    super(message);
  }
}

/**
 * What a caller lets its regex tests cost together, in NFA states stepped over input characters.
 * Linear time is still pattern size × input length: a pattern of 2000 states over a 16 KB user
 * agent is 32 million steps, a fraction of a second, and a condition may hold many such values,
 * all run on the event loop for an anonymous request. A test that would go past the budget throws
 * RegexBudgetError instead of finishing (as PCRE gives up at its backtrack limit). Only testing is
 * charged: compiling is done once per kept condition (src/access/evaluate.ts), not per request, so
 * a long list of plain names costs a viewer nothing but its test.
 */
export interface RegexBudget {
  left: number;
}

export class RegexBudgetError extends Error {
  override name = 'RegexBudgetError';
}

const MAX_STATES = 2000;
const MAX_PATTERN = 1024;
/**
 * Longer inputs never match. HTTP header values are bounded well below this by the server's
 * header size limit (16 KB in Node), so in practice every real input is tested whole.
 */
export const MAX_REGEX_INPUT = 64 * 1024;

type CharTest = (c: number) => boolean;
type Assertion = 'bol' | 'eol' | 'wordb' | 'nwordb' | 'start' | 'end' | 'endnl';

type Node =
  | { t: 'char'; test: CharTest }
  | { t: 'assert'; a: Assertion }
  | { t: 'cat'; parts: Node[] }
  | { t: 'alt'; alts: Node[] }
  | { t: 'rep'; node: Node; min: number; max: number } // max -1: unbounded
  | { t: 'empty' };

const isWord = (c: number): boolean =>
  (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
const isDigit = (c: number): boolean => c >= 48 && c <= 57;
const isSpace = (c: number): boolean => c === 32 || (c >= 9 && c <= 13);

const lower = (c: number): number => String.fromCharCode(c).toLowerCase().charCodeAt(0);
const upper = (c: number): number => String.fromCharCode(c).toUpperCase().charCodeAt(0);

class Parser {
  private i = 0;
  constructor(private readonly src: string, private readonly ci: boolean) {}

  parse(): Node {
    const n = this.alternation();
    if (this.i < this.src.length) throw new RegexError(`unexpected ")" at ${this.i}`);
    return n;
  }

  private peek(): string | undefined {
    return this.src[this.i];
  }

  private alternation(): Node {
    const alts = [this.sequence()];
    while (this.peek() === '|') {
      this.i++;
      alts.push(this.sequence());
    }
    return alts.length === 1 ? alts[0] : { t: 'alt', alts };
  }

  private sequence(): Node {
    const parts: Node[] = [];
    while (this.i < this.src.length && this.peek() !== '|' && this.peek() !== ')') {
      parts.push(this.quantified());
    }
    return parts.length === 0 ? { t: 'empty' } : parts.length === 1 ? parts[0] : { t: 'cat', parts };
  }

  private quantified(): Node {
    const atom = this.atom();
    for (;;) {
      const c = this.peek();
      let min: number, max: number;
      if (c === '*') { min = 0; max = -1; this.i++; }
      else if (c === '+') { min = 1; max = -1; this.i++; }
      else if (c === '?') { min = 0; max = 1; this.i++; }
      else if (c === '{') {
        const m = /^\{(\d{1,4})(,(\d{0,4}))?\}/.exec(this.src.slice(this.i));
        if (!m) return atom; // PCRE: a "{" that is not a quantifier is a literal
        min = Number(m[1]);
        max = m[2] === undefined ? min : m[3] === '' ? -1 : Number(m[3]);
        if (max !== -1 && max < min) throw new RegexError('quantifier {n,m} with m < n');
        this.i += m[0].length;
      } else return atom;
      if (atom.t === 'assert') throw new RegexError('quantified assertion');
      if (this.peek() === '?' || this.peek() === '+') this.i++; // lazy / possessive: same match set
      return this.wrapRep(atom, min, max);
    }
  }

  private wrapRep(node: Node, min: number, max: number): Node {
    if (this.peek() === '*' || this.peek() === '+' || this.peek() === '?' || (this.peek() === '{' && /^\{\d/.test(this.src.slice(this.i)))) {
      throw new RegexError('nested quantifier');
    }
    return { t: 'rep', node, min, max };
  }

  private atom(): Node {
    const c = this.src[this.i++];
    switch (c) {
      case '(': {
        if (this.src.startsWith('?:', this.i)) this.i += 2;
        else if (this.src.startsWith('?<', this.i) && /^\?<[A-Za-z_]\w*>/.test(this.src.slice(this.i))) {
          this.i = this.src.indexOf('>', this.i) + 1;
        } else if (this.peek() === '?') throw new RegexError('look-around and inline options are not supported');
        const n = this.alternation();
        if (this.src[this.i++] !== ')') throw new RegexError('missing ")"');
        return n;
      }
      case ')': throw new RegexError('unmatched ")"');
      case '*': case '+': case '?': throw new RegexError('nothing to repeat');
      case '.': return { t: 'char', test: (x) => x !== 10 };
      case '^': return { t: 'assert', a: 'bol' };
      case '$': return { t: 'assert', a: 'eol' };
      case '[': return this.charClass();
      case '\\': return this.escape(false) as Node;
      default: return this.literal(c.charCodeAt(0));
    }
  }

  private literal(code: number): Node {
    if (!this.ci) return { t: 'char', test: (x) => x === code };
    const l = lower(code), u = upper(code);
    return { t: 'char', test: (x) => x === l || x === u || lower(x) === l };
  }

  /** In a class, returns a CharTest or a code point; outside, a Node. */
  private escape(inClass: boolean): Node | CharTest | number {
    const c = this.src[this.i++];
    if (c === undefined) throw new RegexError('trailing backslash');
    const cls = (test: CharTest): Node | CharTest => (inClass ? test : { t: 'char', test });
    switch (c) {
      case 'd': return cls(isDigit);
      case 'D': return cls((x) => !isDigit(x));
      case 'w': return cls(isWord);
      case 'W': return cls((x) => !isWord(x));
      case 's': return cls(isSpace);
      case 'S': return cls((x) => !isSpace(x));
      case 't': return this.code(9, inClass);
      case 'n': return this.code(10, inClass);
      case 'r': return this.code(13, inClass);
      case 'f': return this.code(12, inClass);
      case 'v': return this.code(11, inClass);
      case 'e': return this.code(27, inClass);
      case '0': return this.code(0, inClass);
      case 'x': {
        const m = /^(\{([0-9a-fA-F]{1,4})\}|[0-9a-fA-F]{2})/.exec(this.src.slice(this.i));
        if (!m) throw new RegexError('bad \\x escape');
        this.i += m[0].length;
        return this.code(parseInt(m[2] ?? m[1], 16), inClass);
      }
      case 'u': {
        const m = /^[0-9a-fA-F]{4}/.exec(this.src.slice(this.i));
        if (!m) throw new RegexError('bad \\u escape');
        this.i += 4;
        return this.code(parseInt(m[0], 16), inClass);
      }
      case 'b': if (inClass) return 8; return { t: 'assert', a: 'wordb' };
      case 'B': if (!inClass) return { t: 'assert', a: 'nwordb' }; break;
      case 'A': if (!inClass) return { t: 'assert', a: 'start' }; break;
      case 'z': if (!inClass) return { t: 'assert', a: 'end' }; break;
      case 'Z': if (!inClass) return { t: 'assert', a: 'endnl' }; break;
      default:
        if (/[0-9]/.test(c) || /[a-zA-Z]/.test(c)) break; // back-references, \p, \k, \G, ...
        return this.code(c.charCodeAt(0), inClass);
    }
    throw new RegexError(`unsupported escape \\${c}`);
  }

  private code(n: number, inClass: boolean): Node | number {
    return inClass ? n : this.literal(n);
  }

  private charClass(): Node {
    let negate = false;
    if (this.peek() === '^') { negate = true; this.i++; }
    const tests: CharTest[] = [];
    const ranges: [number, number][] = [];
    let first = true;
    for (;;) {
      const c = this.src[this.i];
      if (c === undefined) throw new RegexError('missing "]"');
      if (c === ']' && !first) { this.i++; break; }
      first = false;
      if (c === '[' && this.src[this.i + 1] === ':') throw new RegexError('POSIX classes are not supported');
      let lo: number;
      this.i++;
      if (c === '\\') {
        const e = this.escape(true);
        if (typeof e === 'function') { tests.push(e); continue; }
        lo = e as number;
      } else lo = c.charCodeAt(0);
      if (this.peek() === '-' && this.src[this.i + 1] !== undefined && this.src[this.i + 1] !== ']') {
        this.i++;
        const d = this.src[this.i++];
        let hi: number;
        if (d === '\\') {
          const e = this.escape(true);
          if (typeof e === 'function') throw new RegexError('a class escape cannot end a range');
          hi = e as number;
        } else hi = d.charCodeAt(0);
        if (hi < lo) throw new RegexError('range out of order');
        ranges.push([lo, hi]);
      } else ranges.push([lo, lo]);
    }
    const inSet = (x: number): boolean => ranges.some(([a, b]) => x >= a && x <= b) || tests.some((f) => f(x));
    const test: CharTest = this.ci ? (x) => inSet(x) || inSet(lower(x)) || inSet(upper(x)) : inSet;
    return { t: 'char', test: negate ? (x) => !test(x) : test };
  }
}

// NFA: states in flat arrays; SPLIT has two outs, CHAR/ASSERT one; MATCH none.
const CHAR = 0, SPLIT = 1, ASSERT = 2, MATCH = 3, JUMP = 4;

interface Nfa {
  kind: number[];
  out1: number[];
  out2: number[];
  test: (CharTest | null)[];
  assertion: (Assertion | null)[];
  start: number;
}

function compile(node: Node): Nfa {
  const nfa: Nfa = { kind: [], out1: [], out2: [], test: [], assertion: [], start: 0 };
  const add = (kind: number, test: CharTest | null = null, a: Assertion | null = null): number => {
    if (nfa.kind.length >= MAX_STATES) throw new RegexError('pattern too large', nfa.kind.length);
    nfa.kind.push(kind); nfa.out1.push(-1); nfa.out2.push(-1); nfa.test.push(test); nfa.assertion.push(a);
    return nfa.kind.length - 1;
  };
  // Each fragment: entry state and the list of dangling outs to patch ([state, which]).
  type Frag = { start: number; outs: [number, 1 | 2][] };
  const patch = (outs: Frag['outs'], to: number): void => {
    for (const [s, w] of outs) (w === 1 ? nfa.out1 : nfa.out2)[s] = to;
  };
  const build = (n: Node): Frag => {
    switch (n.t) {
      case 'empty': { const s = add(JUMP); return { start: s, outs: [[s, 1]] }; }
      case 'char': { const s = add(CHAR, n.test); return { start: s, outs: [[s, 1]] }; }
      case 'assert': { const s = add(ASSERT, null, n.a); return { start: s, outs: [[s, 1]] }; }
      case 'cat': {
        const frags = n.parts.map(build);
        for (let k = 0; k + 1 < frags.length; k++) patch(frags[k].outs, frags[k + 1].start);
        return { start: frags[0].start, outs: frags[frags.length - 1].outs };
      }
      case 'alt': {
        const frags = n.alts.map(build);
        let start = frags[frags.length - 1].start;
        for (let k = frags.length - 2; k >= 0; k--) {
          const s = add(SPLIT);
          nfa.out1[s] = frags[k].start; nfa.out2[s] = start;
          start = s;
        }
        return { start, outs: frags.flatMap((f) => f.outs) };
      }
      case 'rep': {
        const parts: Frag[] = [];
        for (let k = 0; k < n.min; k++) parts.push(build(n.node));
        if (n.max === -1) {
          const s = add(SPLIT);
          const body = build(n.node);
          nfa.out1[s] = body.start;
          patch(body.outs, s);
          parts.push({ start: s, outs: [[s, 2]] });
        } else {
          for (let k = n.min; k < n.max; k++) {
            const s = add(SPLIT);
            const body = build(n.node);
            nfa.out1[s] = body.start;
            parts.push({ start: s, outs: [[s, 2], ...body.outs] });
          }
        }
        if (parts.length === 0) return build({ t: 'empty' });
        for (let k = 0; k + 1 < parts.length; k++) patch(parts[k].outs, parts[k + 1].start);
        return { start: parts[0].start, outs: parts[parts.length - 1].outs };
      }
    }
  };
  const f = build(node);
  const m = add(MATCH);
  patch(f.outs, m);
  nfa.start = f.start;
  return nfa;
}

function assertionHolds(a: Assertion, s: string, i: number): boolean {
  const prev = i > 0 ? s.charCodeAt(i - 1) : -1;
  const next = i < s.length ? s.charCodeAt(i) : -1;
  switch (a) {
    case 'bol': case 'start': return i === 0;
    case 'end': return i === s.length;
    case 'eol': case 'endnl': return i === s.length || (i === s.length - 1 && next === 10);
    case 'wordb': return (prev >= 0 && isWord(prev)) !== (next >= 0 && isWord(next));
    case 'nwordb': return (prev >= 0 && isWord(prev)) === (next >= 0 && isWord(next));
  }
}

let stepsTaken = 0;

/**
 * The NFA steps every test of this process has taken, budgeted or not: what a test reads to tell
 * the regex work one HTTP request cost (test/e2e/acl-authoring.test.ts), without timing it.
 */
export const regexStepsTaken = (): number => stepsTaken;

export interface SafeRegex {
  source: string;
  /** Its NFA's size. */
  states: number;
  /** Unanchored search, as preg_match: true when the pattern matches anywhere in the input. */
  test(input: string, budget?: RegexBudget): boolean;
}

export function compileSafeRegex(pattern: string, caseInsensitive = true): SafeRegex {
  if (pattern.length > MAX_PATTERN) throw new RegexError('pattern too long');
  const nfa = compile(new Parser(pattern, caseInsensitive).parse());
  const n = nfa.kind.length;
  return {
    source: pattern,
    states: n,
    test(input: string, budget?: RegexBudget): boolean {
      if (input.length > MAX_REGEX_INPUT) return false;
      const s = input;
      let cur = new Int32Array(n), next = new Int32Array(n);
      let curLen = 0, nextLen = 0;
      const mark = new Int32Array(n).fill(-1);
      const stack = new Int32Array(n * 2 + 2);
      // Adds a state and everything reachable without consuming input at position i.
      const addAll = (list: Int32Array, len: number, st: number, i: number, gen: number): number => {
        let sp = 0;
        stack[sp++] = st;
        while (sp > 0) {
          const x = stack[--sp];
          if (x < 0 || mark[x] === gen) continue;
          mark[x] = gen;
          const k = nfa.kind[x];
          if (k === SPLIT) { stack[sp++] = nfa.out2[x]; stack[sp++] = nfa.out1[x]; }
          else if (k === JUMP) stack[sp++] = nfa.out1[x];
          else if (k === ASSERT) { if (assertionHolds(nfa.assertion[x]!, s, i)) stack[sp++] = nfa.out1[x]; }
          else list[len++] = x;
        }
        return len;
      };
      for (let i = 0; i <= s.length; i++) {
        const gen = i;
        // states carried from the previous step were added with generation i in the last round
        curLen = addAll(cur, curLen, nfa.start, i, gen);
        stepsTaken += curLen + 1;
        if (budget && (budget.left -= curLen + 1) < 0) throw new RegexBudgetError('the regular expressions of the rules cost too much on this input');
        for (let k = 0; k < curLen; k++) if (nfa.kind[cur[k]] === MATCH) return true;
        if (i === s.length) break;
        const c = s.charCodeAt(i);
        nextLen = 0;
        for (let k = 0; k < curLen; k++) {
          const x = cur[k];
          if (nfa.kind[x] === CHAR && nfa.test[x]!(c)) nextLen = addAll(next, nextLen, nfa.out1[x], i + 1, i + 1);
        }
        [cur, next] = [next, cur];
        curLen = nextLen;
      }
      return false;
    },
  };
}

/** A condition value as the reference runs it, `/value/i`; null when it does not compile (it then only matches by equality). */
export function compileValue(value: string): SafeRegex | null {
  try {
    return compileSafeRegex(value, true);
  } catch {
    return null;
  }
}

/**
 * The reference's regex condition value test: exact equality, or `/value/i` matches (within `budget`,
 * when given). `re` is the value compiled (compileValue): src/access/evaluate.ts keeps a condition's
 * compiled values with the condition, so a kept profile is compiled once, not once per request.
 */
export function regexValueMatches(value: string, input: string, budget?: RegexBudget, re: SafeRegex | null = compileValue(value)): boolean {
  if (value === input) return true;
  return re !== null && re.test(input, budget);
}
