// The importer's downloads (src/import/download.ts) against a real HTTP server of the test's own
// that can drop a connection half-way, change the file between attempts, stall, lie about the
// MD5 or refuse: a partial file resumes with a ranged GET, a changed file starts again from zero,
// bad bytes never get the complete name, a refusal is not asked again.
import t from 'tap';
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { download, RefusedError, VerifyError } from '../../src/import/download.js';
import { importProgress } from '../../src/import/progress.js';

interface Behaviour {
  body: Buffer;
  etag: string;
  /** Drop the connection after this many bytes of the next answer. */
  cutAfter?: number;
  /** Send this many bytes of the next answer, then nothing more. */
  stallAfter?: number;
  status?: number;
  contentMd5?: string;
}

const dir = mkdtempSync(join(tmpdir(), 'kdeliver-download-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const seen: { range?: string; ifRange?: string; status: number }[] = [];
const b: Behaviour = { body: randomBytes(300_000), etag: '"v1"' };

const server = createServer((req: IncomingMessage, res: ServerResponse) => {
  const h: Record<string, string> = { etag: b.etag, 'accept-ranges': 'bytes' };
  if (b.contentMd5) h['content-md5'] = b.contentMd5;
  if (b.status) {
    seen.push({ status: b.status });
    res.writeHead(b.status).end();
    return;
  }
  let start = 0;
  let status = 200;
  const m = /^bytes=(\d+)-$/.exec(req.headers.range ?? '');
  // a range only if the validator still holds (If-Range), as RFC 9110 says
  if (m && (!req.headers['if-range'] || req.headers['if-range'] === b.etag)) {
    start = Number(m[1]);
    status = 206;
    h['content-range'] = `bytes ${start}-${b.body.length - 1}/${b.body.length}`;
  }
  seen.push({ range: req.headers.range, ifRange: req.headers['if-range'] as string | undefined, status });
  const part = b.body.subarray(start);
  res.writeHead(status, { ...h, 'content-length': String(part.length) });
  if (b.cutAfter !== undefined) {
    const n = b.cutAfter;
    b.cutAfter = undefined;
    // the connection drops once the client has kept some of the bytes: a drop while they are
    // still in its stream's buffer would lose them (the next attempt then starts again from zero,
    // rightly, but what these tests check is the resumption)
    res.write(part.subarray(0, n), () => void partKept().then(() => res.destroy()));
    return;
  }
  if (b.stallAfter !== undefined) {
    res.write(part.subarray(0, b.stallAfter));
    b.stallAfter = undefined;
    return;
  }
  res.end(part);
});
/** Resolves once a part file in `dir` holds bytes (at most 5 s: a client that keeps none fails its test). */
async function partKept(): Promise<void> {
  for (let waited = 0; waited < 5000; waited += 5) {
    if (readdirSync(dir).some((f) => f.endsWith('.part') && statSync(join(dir, f)).size > 0)) return;
    await new Promise((r) => setTimeout(r, 5));
  }
}
await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
t.teardown(() => { server.closeAllConnections(); server.close(); });
const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/file.mp4`;
const md5 = (x: Buffer) => createHash('md5').update(x).digest('base64');

t.test('a dropped connection: the next attempt asks for the rest (Range and If-Range) and completes', async (t) => {
  seen.length = 0;
  b.body = randomBytes(300_000);
  b.cutAfter = 100_000;
  const first = await download({ url, dir, key: 'a', attempts: 1 }).then(() => null, (e: Error) => e);
  t.match(first?.message, /the transfer stopped after/, 'the first attempt fails');
  t.ok(existsSync(join(dir, 'a.part')), 'the partial file stays');
  t.notOk(existsSync(join(dir, 'a')), 'and has not the complete name');
  const got = await download({ url, dir, key: 'a', expectedSize: b.body.length });
  t.equal(got.resumedFrom > 0, true, `resumed at ${got.resumedFrom}`);
  t.equal(got.downloaded, b.body.length - got.resumedFrom, 'only the rest was fetched');
  t.same(seen[1], { range: `bytes=${got.resumedFrom}-`, ifRange: '"v1"', status: 206 });
  t.ok(readFileSync(got.path).equals(b.body), 'the file is byte-identical');
  t.same(readdirSync(dir).filter((f) => f.startsWith('a')), ['a'], 'no .part nor .json left');
});

t.test('retries within one call resume too', async (t) => {
  seen.length = 0;
  b.cutAfter = 50_000;
  const got = await download({ url, dir, key: 'b' });
  t.ok(readFileSync(got.path).equals(b.body));
  t.equal(seen.length, 2);
  t.equal(seen[1].status, 206);
});

t.test('the file changed at the source between attempts: its new bytes from zero', async (t) => {
  seen.length = 0;
  b.cutAfter = 100_000;
  await download({ url, dir, key: 'c', attempts: 1 }).catch(() => null);
  b.body = randomBytes(250_000);
  b.etag = '"v2"';
  const got = await download({ url, dir, key: 'c' });
  t.equal(seen[1].status, 200, 'If-Range no longer holds: the whole file');
  t.equal(got.resumedFrom, 0);
  t.ok(readFileSync(got.path).equals(b.body), 'the new version, whole');
});

t.test('checks: a wrong size or Content-MD5 never gets the complete name', async (t) => {
  const size = await download({ url, dir, key: 'd', expectedSize: b.body.length + 1 }).then(() => null, (e: Error) => e);
  t.type(size, VerifyError);
  t.match(size?.message, /size check failed/);
  b.contentMd5 = md5(randomBytes(8));
  const bad = await download({ url, dir, key: 'e' }).then(() => null, (e: Error) => e);
  t.type(bad, VerifyError);
  t.match(bad?.message, /MD5 check failed/);
  t.same(readdirSync(dir).filter((f) => /^[de](\.|$)/.test(f)), [], 'nothing of them is kept');
  b.contentMd5 = md5(b.body);
  const good = await download({ url, dir, key: 'f' });
  t.ok(readFileSync(good.path).equals(b.body), 'a right Content-MD5 passes');
  b.contentMd5 = undefined;
});

t.test('a refusal is not asked again; a stalled answer is given up', async (t) => {
  seen.length = 0;
  b.status = 404;
  const refused = await download({ url, dir, key: 'g', attempts: 3 }).then(() => null, (e: Error) => e);
  t.type(refused, RefusedError);
  t.equal(seen.length, 1, 'one request');
  b.status = undefined;
  b.stallAfter = 10_000;
  const stalled = await download({ url, dir, key: 'h', attempts: 1, idleTimeoutMs: 300 }).then(() => null, (e: Error) => e);
  t.match(stalled?.message, /no data for too long/);
  const resumed = await download({ url, dir, key: 'h' });
  t.equal(resumed.resumedFrom, 10_000, 'and resumed later');
  t.ok(readFileSync(resumed.path).equals(b.body));
});

t.test('progress: a bar on a terminal, a line per file elsewhere, never a URL', async (t) => {
  const lines: string[] = [];
  const plain = importProgress({ write: (s: string) => lines.push(s) });
  const f = plain.file('1_abc flavor 1_f1 (params 301971)');
  f.update(10, 100);
  f.done(2_000_000, 'resumed at 10 bytes');
  plain.file('1_abc caption 1_c1').failed('the source answered HTTP 404');
  t.same(lines, ['1_abc flavor 1_f1 (params 301971): 1.9 MB (resumed at 10 bytes)\n', '1_abc caption 1_c1: failed: the source answered HTTP 404\n']);
  const tty: string[] = [];
  const bar = importProgress({ write: (s: string) => tty.push(s), isTTY: true, columns: 80 });
  const g = bar.file('1_abc flavor 1_f2');
  g.update(50, 100);
  g.done(100);
  bar.close();
  t.ok(tty.every((s) => s.startsWith('\r')), 'redrawn in place');
  t.match(tty.join(''), /\[#+-*\] 1 file, 100 B/);
});
