// src/ordered-map.ts against the plainest model of what it promises (an array of [key, value],
// oldest first, where set moves a key to the end): any sequence of set, delete, deleteOldest,
// get, has and clear leaves the same keys, values, size, oldest key and order; and a long churn
// (what the caches do) keeps its order queue near its number of keys. Its speed is a benchmark's
// (bench/README.md, target 5, session 8), not a test's.
import t from 'tap';
import fc from 'fast-check';
import { OrderedMap } from '../../src/ordered-map.js';

type Op =
  | { op: 'set'; key: string; value: number }
  | { op: 'delete'; key: string }
  | { op: 'deleteOldest' }
  | { op: 'clear' };

const key = fc.constantFrom(...Array.from({ length: 12 }, (_, i) => `k${i}`));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ op: fc.constant('set' as const), key, value: fc.integer() }) },
  { weight: 3, arbitrary: fc.record({ op: fc.constant('delete' as const), key }) },
  { weight: 2, arbitrary: fc.record({ op: fc.constant('deleteOldest' as const) }) },
  { weight: 1, arbitrary: fc.record({ op: fc.constant('clear' as const) }) },
);

t.test('any sequence of operations: the same keys, values and order as the model', async (t) => {
  fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
    const m = new OrderedMap<number>();
    let model: [string, number][] = [];
    for (const o of ops) {
      if (o.op === 'set') {
        m.set(o.key, o.value);
        model = model.filter(([k]) => k !== o.key).concat([[o.key, o.value]]);
      } else if (o.op === 'delete') {
        const had = model.some(([k]) => k === o.key);
        if (m.delete(o.key) !== had) return false;
        model = model.filter(([k]) => k !== o.key);
      } else if (o.op === 'deleteOldest') {
        if (m.deleteOldest() !== model[0]?.[0]) return false;
        model = model.slice(1);
      } else {
        m.clear();
        model = [];
      }
      if (m.size !== model.length || m.oldest() !== model[0]?.[0]) return false;
      for (let i = 0; i < 12; i++) {
        const k = `k${i}`;
        const want = model.find(([x]) => x === k);
        if (m.has(k) !== !!want || m.get(k) !== want?.[1]) return false;
      }
      if (JSON.stringify([...m.entries()]) !== JSON.stringify(model)) return false;
    }
    return true;
  }), { numRuns: 500 });
});

t.test('a long churn keeps the order queue near the number of keys', async (t) => {
  const m = new OrderedMap<number>();
  for (let i = 0; i < 200_000; i++) {
    if (m.size >= 1000) m.deleteOldest();
    m.set(`k${i}`, i);
    // a key asked again moves to the end (the read memo's LRU)
    if (i % 3 === 0) m.set(`k${i - 500}`, i);
  }
  t.ok(m.size <= 1001);
  const internals = m as unknown as { keys: string[]; head: number };
  t.ok(internals.keys.length <= 4 * 1001 + 64, `queue slots ${internals.keys.length} for ${m.size} keys`);
  t.equal(m.oldest(), [...m.entries()][0][0]);
});
