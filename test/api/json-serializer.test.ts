// format=1's withoutNulls (src/api/serializers/json.ts) answers a plain object or array with
// nothing to drop as it is, and copies otherwise: the JSON text must be what the copy-everything
// way (kept here as the reference) gives, for every shape an answer can take and the odd ones.
import t from 'tap';
import { toJson, withoutNulls } from '../../src/api/serializers/json.js';

/** The earlier serializer: every object copied, null and undefined properties dropped. */
function reference(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(reference);
  if (v !== null && typeof v === 'object' && !Buffer.isBuffer(v)) {
    const out: Record<string, unknown> = {};
    for (const [k, val] of Object.entries(v)) if (val !== null && val !== undefined) out[k] = reference(val);
    return out;
  }
  return v;
}
const referenceJson = (v: unknown) => (v === undefined || v === null ? 'null' : JSON.stringify(reference(v)));

class Thing {
  a = 1;
  b: null = null;
  get c() {
    return 3;
  }
}

/** A small seeded generator, so a failure is repeated by the same run. */
function random(seed: number) {
  let s = seed >>> 0;
  return () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32);
}

function value(r: () => number, depth: number): unknown {
  const pick = Math.floor(r() * (depth > 3 ? 7 : 12));
  switch (pick) {
    case 0: return null;
    case 1: return undefined;
    case 2: return Math.floor(r() * 1000) - 500;
    case 3: return `s${Math.floor(r() * 100)}`;
    case 4: return r() < 0.5;
    case 5: return '';
    case 6: return 0;
    case 7: case 8: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(r() * 6);
      for (let i = 0; i < n; i++) o[r() < 0.1 ? String(i) : `k${Math.floor(r() * 8)}`] = value(r, depth + 1);
      return o;
    }
    case 9: return Array.from({ length: Math.floor(r() * 5) }, () => value(r, depth + 1));
    case 10: return r() < 0.5 ? new Date(1_780_000_000_000) : new Thing();
    default: return r() < 0.5 ? Buffer.from('ab') : Object.assign(Object.create(null), { x: value(r, depth + 1), y: null });
  }
}

t.test('the same JSON as copying everything, over random answers', async (t) => {
  const r = random(17);
  let bad = 0;
  for (let i = 0; i < 20_000; i++) {
    const v = value(r, 0);
    const got = toJson(v);
    const want = referenceJson(v);
    if (got !== want && bad++ < 3) t.equal(got, want, `case ${i}`);
  }
  t.equal(bad, 0, '20,000 random answers');
});

t.test('the odd shapes', async (t) => {
  const holes = [1, , 3]; // eslint-disable-line no-sparse-arrays
  const withProto = JSON.parse('{"a":1,"__proto__":{"b":2},"c":null}');
  const ownToJson = { a: 1, toJSON: () => ({ z: null }) };
  const cases: [string, unknown][] = [
    ['a list page', { objectType: 'KalturaBaseEntryListResponse', objects: [{ id: 'a', x: undefined }, { id: 'b', y: null }], totalCount: 2 }],
    ['holes and undefined slots', [holes, [undefined, null]]],
    ['an own __proto__', withProto],
    ['an own __proto__, nothing to drop', JSON.parse('{"a":1,"__proto__":{"b":2}}')],
    ['an own toJSON', ownToJson],
    ['a Date and a class', { d: new Date(0), t: new Thing() }],
    ['a Buffer', { b: Buffer.from('xyz') }],
    ['integer-like keys first', { b: 1, 2: null, 1: 'x', a: { 10: 1, 9: null } }],
    ['null at the top', null],
    ['a string', 'plain'],
  ];
  for (const [name, v] of cases) t.equal(toJson(v), referenceJson(v), name);
});

t.test('nothing to drop: the answer itself, not a copy; something to drop: a copy, the input untouched', async (t) => {
  const page = Object.freeze({ objects: Object.freeze([Object.freeze({ id: 'a', n: 1, u: undefined })]), totalCount: 1 });
  t.equal(withoutNulls(page), page, 'the same object');
  const withNull = { objects: [{ id: 'a', n: null }, { id: 'b' }], totalCount: 2 };
  const out = withoutNulls(withNull) as typeof withNull;
  t.not(out, withNull, 'a copy');
  t.equal(out.objects[1], withNull.objects[1], 'the untouched part shared');
  t.same(withNull.objects[0], { id: 'a', n: null }, 'the input kept its null');
});
