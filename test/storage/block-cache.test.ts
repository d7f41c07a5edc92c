// The block cache's own rules: one fetch per missing block however many readers wait for it, a
// failed fetch not kept, the byte bound held, and a source's spans cut and joined across blocks.
import t from 'tap';
import { BLOCK_BYTES, blockSource, createBlockCache } from '../../src/storage/block-cache.js';

const object = Buffer.alloc(BLOCK_BYTES * 3 + 12345);
for (let i = 0; i < object.length; i++) object[i] = (i * 7 + (i >> 11)) & 0xff;

t.test('concurrent readers of a cold block share one fetch', async (t) => {
  const cache = createBlockCache(16 * BLOCK_BYTES);
  let fetches = 0;
  const fetch = async () => {
    fetches++;
    await new Promise((r) => setTimeout(r, 20));
    return object.subarray(0, BLOCK_BYTES);
  };
  const got = await Promise.all(Array.from({ length: 8 }, () => cache.get('o', 'v1', 0, fetch)));
  t.equal(fetches, 1);
  t.ok(got.every((b) => b === got[0]));
  t.match(cache.stats(), { misses: 1, joined: 7, hits: 0 });
  await cache.get('o', 'v1', 0, fetch);
  t.equal(cache.stats().hits, 1, 'then a hit');
  await cache.get('o', 'v2', 0, fetch);
  t.equal(fetches, 2, 'another version is another block');
});

t.test('a failed fetch is not kept', async (t) => {
  const cache = createBlockCache(16 * BLOCK_BYTES);
  await t.rejects(cache.get('o', 'v', 0, async () => { throw new Error('origin down'); }), /origin down/);
  const b = await cache.get('o', 'v', 0, async () => Buffer.from('ok'));
  t.equal(b.toString(), 'ok', 'the next reader fetches again');
});

t.test('the byte bound evicts the least recently used blocks', async (t) => {
  const cache = createBlockCache(2 * BLOCK_BYTES);
  const block = async () => Buffer.alloc(BLOCK_BYTES);
  for (let i = 0; i < 5; i++) await cache.get('o', 'v', i, block);
  t.equal(cache.stats().blocks, 2);
  t.ok(cache.stats().bytes <= 2 * BLOCK_BYTES);
});

t.test('a block source reads any span exactly, across block boundaries and at the end', async (t) => {
  const cache = createBlockCache(8 * BLOCK_BYTES);
  const asked: [number, number][] = [];
  const src = blockSource(cache, 'o', 'v', object.length, async (offset, length) => {
    asked.push([offset, length]);
    return Buffer.from(object.subarray(offset, offset + length));
  });
  for (const [offset, length] of [[0, 10], [BLOCK_BYTES - 5, 10], [BLOCK_BYTES * 3 + 12000, 345], [5, BLOCK_BYTES * 3], [BLOCK_BYTES * 3 + 12340, 100]]) {
    const got = Buffer.from(await src.read(offset, length));
    t.same(got, object.subarray(offset, Math.min(object.length, offset + length)), `${offset}+${length}`);
  }
  t.ok(asked.every(([o, l]) => o % BLOCK_BYTES === 0 && (l === BLOCK_BYTES || o + l === object.length)), 'only aligned whole blocks are fetched');
  t.equal(asked.length, 4, 'each block once');
  const into = Buffer.alloc(20);
  t.equal(await src.read(BLOCK_BYTES - 10, 20, into), into, 'into the caller\'s buffer');
});
