// The shared path key/value parser that every delivery route uses.
import t from 'tap';
import { DeliveryError } from '../../src/errors.js';
import { MAX_SEGMENT_LENGTH, mergeParams, readPairs, splitPath, splitUrl } from '../../src/request/path-params.js';

const code = (fn: () => unknown): number | string => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return e instanceof DeliveryError ? e.code : `${e}`;
  }
};

t.test('splitPath drops empty segments and decodes each one', async (t) => {
  t.same(splitPath('//a//b/%20c/'), ['a', 'b', ' c']);
  t.same(splitPath(''), []);
  t.same(splitPath('/'), []);
  t.same(splitPath('/a+b'), ['a+b'], 'a plus is not a space in a path');
  t.same(splitPath('/..'), ['..'], 'a dot-dot segment is only a word to the key/value reader');
});

t.test('splitPath refuses what could escape or confuse, with error 25', async (t) => {
  t.equal(code(() => splitPath('/a%2Fb')), 25);
  t.equal(code(() => splitPath('/a%5cb')), 25);
  t.equal(code(() => splitPath('/a%00')), 25);
  t.equal(code(() => splitPath('/a\u0000')), 25);
  t.equal(code(() => splitPath('/%E0%A4%A')), 25);
  t.equal(code(() => splitPath('/' + 'x'.repeat(MAX_SEGMENT_LENGTH))), 'ok', 'a segment at the limit');
  t.equal(code(() => splitPath('/' + 'x'.repeat(MAX_SEGMENT_LENGTH + 1))), 25, 'one byte over');
  t.equal(code(() => splitPath('/' + 'x'.repeat(10240))), 25, '10 kB');
});

t.test('readPairs: first occurrence wins, a key "0" stops, a lone last key has no value', async (t) => {
  const p = readPairs(['entryId', '1_a', 'format', 'url', 'entryId', '1_b', 'a.mp4']);
  t.same([...p], [['entryId', '1_a'], ['format', 'url'], ['a.mp4', undefined]]);
  t.same([...readPairs(['k', 'v', '0', 'x', 'y', 'z'])], [['k', 'v']]);
  t.same([...readPairs(['k', '0', 'y', 'z'])], [['k', '0'], ['y', 'z']], 'a value 0 does not stop');
  t.same([...readPairs(['extwidget', 'playManifest', 'entryId', 'e'])], [['extwidget', 'playManifest'], ['entryId', 'e']], 'the harmless first pair of the long form');
});

t.test('mergeParams: path over query; path keys without a value do not hide the query', async (t) => {
  const m = mergeParams(new Map<string, string | undefined>([['a', 'path'], ['tail', undefined]]), { a: 'query', b: 'q', tail: 'fromQuery', n: 5, arr: ['x', 'y'] });
  t.equal(m.get('a'), 'path');
  t.equal(m.get('b'), 'q');
  t.equal(m.get('tail'), 'fromQuery');
  t.equal(m.has('n'), false, 'non-string query values are ignored');
  t.equal(m.get('arr'), 'x');
});

t.test('splitUrl', async (t) => {
  t.same(splitUrl('/p/1/x?y=1&z=2'), { path: '/p/1/x', query: 'y=1&z=2' });
  t.same(splitUrl('/p/1/x'), { path: '/p/1/x', query: '' });
  t.same(splitUrl('/p?'), { path: '/p', query: '' });
  t.same(splitUrl('/p?a?b'), { path: '/p', query: 'a?b' });
});
