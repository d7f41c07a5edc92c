// src/catalog/warm-file.ts: the catalog file read once into the page cache after start.
import t from 'tap';
import { mkdtempSync, readdirSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readIntoPageCache } from '../../src/catalog/warm-file.js';

const dir = mkdtempSync(join(tmpdir(), 'kd-warm-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const main = join(dir, 'catalog.sqlite');
const wal = join(dir, 'catalog.sqlite-wal');
writeFileSync(main, Buffer.alloc(3 * 1048576 + 17, 1));

t.test('reads every byte of the files that exist, a missing WAL is no error', async (t) => {
  const r = await readIntoPageCache([main, wal], { maxBytes: 10 * 1048576 });
  t.equal(r.bytes, 3 * 1048576 + 17);
  t.equal(r.stopped, undefined);
  // the files stay open until released (a close drops the process's locks on them: warm-file-locks.test.ts)
  const open = () => readdirSync('/proc/self/fd').filter((fd) => { try { return readlinkSync(`/proc/self/fd/${fd}`) === main; } catch { return false; } }).length;
  t.equal(open(), 1, 'the catalog file is still open');
  await r.release();
  t.equal(open(), 0, 'and closed by release()');
  writeFileSync(wal, Buffer.alloc(5000));
  const both = await readIntoPageCache([main, wal], { maxBytes: 10 * 1048576 });
  t.equal(both.bytes, 3 * 1048576 + 17 + 5000, 'the WAL too');
  await both.release();
  rmSync(wal);
});

t.test('files bigger than allowed together are left alone, with the reason', async (t) => {
  const r = await readIntoPageCache([main], { maxBytes: 1048576 });
  t.equal(r.bytes, 0);
  t.match(r.stopped, /^3145745 bytes, more than the 1048576 allowed$/);
});

t.test('stops when the server closes', async (t) => {
  const stop = new AbortController();
  stop.abort();
  const r = await readIntoPageCache([main], { maxBytes: 10 * 1048576, signal: stop.signal });
  t.equal(r.bytes, 0);
  t.equal(r.stopped, 'stopped: the server is closing');
});

t.test('a missing catalog file or a directory reads nothing and throws nothing', async (t) => {
  t.same((await readIntoPageCache([join(dir, 'none.sqlite'), dir], { maxBytes: 1 << 30 })).bytes, 0);
});
