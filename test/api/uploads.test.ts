// uploadToken.upload over HTTP: the chunk rules (resume, retries, gaps, sizes, a token used
// twice), and what writing a chunk must not do: hold up the rest of the server, interleave two
// chunks of one token, bring back a token deleted meanwhile, or leave a torn chunk when the disk
// is full.
//
// A chunk of 32 MB reaches the page cache in about 10 ms here, too short to catch a request in.
// So a helper process takes a read lease on the upload file (fcntl F_SETLEASE): the kernel then
// holds any open of it for writing until the lease is given back, as a slow disk would, and
// tells the holder when that happens, so the test knows the server is inside the chunk's write.
import t from 'tap';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createInterface } from 'node:readline';
import { appendFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { adminApiSession } from '../helpers/api-session.js';
import { startServer } from '../helpers/server.js';
import { requireCommands } from '../helpers/system.js';
import { kaltura, sampleAdminClient } from '../helpers/kaltura-client.js';
import { runnableArgs, runnableModule } from '../helpers/repo.js';

requireCommands(t, ['python3', 'bash'], 'python3');

const LEASE_HOLDER = `
import fcntl, os, select, signal, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
signal.signal(signal.SIGIO, lambda *_: print("broken", flush=True))
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_RDLCK)
print("held", flush=True)
# until the test closes stdin; never longer than the limit, so a server that blocks cannot hang the test
select.select([sys.stdin], [], [], float(sys.argv[2]))
fcntl.fcntl(fd, fcntl.F_SETLEASE, fcntl.F_UNLCK)
print("released", flush=True)
`;

interface Lease {
  /** Resolves when an open for writing waits on the lease. */
  broken: Promise<void>;
  /** Set once the holder gave the lease back, on request or at its own time limit. */
  released: boolean;
  release(): Promise<void>;
}

async function holdLease(t: { teardown(fn: () => unknown): void }, file: string, limitSeconds = 10): Promise<Lease> {
  const child: ChildProcessWithoutNullStreams = spawn('python3', ['-c', LEASE_HOLDER, file, String(limitSeconds)]);
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  t.teardown(() => { child.stdin.end(); return exited; });
  const waiters = new Map<string, () => void>();
  const seen = (line: string) => new Promise<void>((resolve, reject) => {
    waiters.set(line, resolve);
    void exited.then(() => reject(new Error(`lease holder exited before "${line}": ${stderr}`)));
  });
  const held = seen('held');
  const broken = seen('broken');
  broken.catch(() => {});
  const lease: Lease = {
    broken,
    released: false,
    release: async () => { child.stdin.end(); await exited; },
  };
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (line === 'released') lease.released = true;
    waiters.get(line)?.();
  });
  await held;
  return lease;
}

t.test('uploadToken.upload', async (t) => {
  const s = await startServer(t);
  const { ks, api, upload } = await adminApiSession(s.url);
  const newToken = async (fileSize?: number) => (await api('uploadToken', 'add', { uploadToken: { objectType: 'KalturaUploadToken', fileName: 'clip.mp4', fileSize } })).id as string;
  const fileOf = (id: string) => join(s.dataDir, 'uploads', id);
  const bytes = (n: number, seed: number) => {
    const b = Buffer.alloc(n);
    for (let i = 0; i < n; i += 4096) b[i] = (seed + i / 4096) & 0xff;
    return b.fill(seed & 0xff, 0, 1);
  };

  await t.test('the chunk rules', async (t) => {
    const a = bytes(3000, 1);
    const b = bytes(2000, 2);
    const id = await newToken(a.length + b.length);
    t.match(await upload(id, a, { finalChunk: false }), { objectType: 'KalturaUploadToken', status: 1, uploadedFileSize: 3000 });
    t.match(await upload(id, a, { resume: true, resumeAt: 0, finalChunk: false }), { status: 1, uploadedFileSize: 3000 }, 'a retried chunk is harmless');
    t.match(await upload(id, b, { resume: true, resumeAt: 4000, finalChunk: true }), {
      code: 'UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE', message: /the final chunk starts at byte 4000 but the bytes before it have arrived only up to byte 3000: send it again once the chunks before it are in/,
    }, 'a final chunk before the rest is refused');
    t.notOk(existsSync(`${fileOf(id)}.early`), 'and not kept');
    t.match(await upload(id, b.subarray(0, 1000), { resume: true, resumeAt: -1, finalChunk: true }), {
      code: 'UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE', message: /4000 bytes have arrived but the token was created for 5000: send the missing bytes from byte 4000/,
    });
    t.match(await api('uploadToken', 'get', { uploadTokenId: id }), { status: 1, uploadedFileSize: 4000 }, 'what arrived is kept');
    t.match(await upload(id, b, { resume: true, resumeAt: 3000, finalChunk: true }), { status: 2, uploadedFileSize: 5000 });
    t.same(readFileSync(fileOf(id)), Buffer.concat([a, b]));
    t.match(await upload(id, a, { resume: false }), { code: 'UPLOAD_TOKEN_INVALID_STATUS_FOR_UPLOAD', message: /already complete/ }, 'a token is written once');
    t.match(await upload(id, a, { resume: true, resumeAt: -5 }), { code: 'UPLOAD_ERROR', message: /resumeAt must be -1 or a byte offset/ });
    t.match(await upload('0_nosuchtk', a), { code: 'UPLOAD_TOKEN_NOT_FOUND' });

    const over = await newToken();
    await upload(over, a, { finalChunk: false });
    t.match(await upload(over, b, { resume: false, finalChunk: true }), { status: 2, uploadedFileSize: 2000 }, 'resume=false starts over');
    t.same(readFileSync(fileOf(over)), b);
    const fresh = await newToken();
    t.match(await upload(fresh, b, { resume: true, resumeAt: -1, finalChunk: false }), { status: 1, uploadedFileSize: 2000 }, 'resuming a token with no file yet');

    // more bytes than the token was made for: no byte is missing, and only a restart can help
    const small = await newToken(b.length);
    t.match(await upload(small, a, { finalChunk: true }), {
      code: 'UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE', message: /3000 bytes have arrived, more than the 2000 the token was created for: send the file again from byte 0 \(resume=false\)/,
    });
    t.match(await upload(small, b, { resume: false, finalChunk: true }), { status: 2, uploadedFileSize: 2000 }, 'and that restart completes it');
  });

  await t.test('a chunk being written does not hold up other requests', async (t) => {
    const first = bytes(1 << 20, 3);
    const big = bytes(32 << 20, 4);
    const id = await newToken();
    await upload(id, first, { finalChunk: false });
    const lease = await holdLease(t, fileOf(id));
    let uploadAnsweredAt = Infinity;
    const uploading = upload(id, big, { resume: true, resumeAt: -1, finalChunk: true }).then((r) => {
      uploadAnsweredAt = performance.now();
      return r;
    });
    await lease.broken;
    const sent = performance.now();
    const pong = await (await fetch(`${s.url}/api_v3/service/system/action/ping?format=1`)).json();
    const pingAnsweredAt = performance.now();
    t.equal(pong, true);
    t.notOk(lease.released, 'the ping was answered while the chunk was still being written');
    t.ok(pingAnsweredAt < uploadAnsweredAt, 'the ping was answered before the upload');
    t.ok(pingAnsweredAt - sent < 1000, `the ping took ${Math.round(pingAnsweredAt - sent)} ms`);
    await lease.release();
    t.match(await uploading, { status: 2, uploadedFileSize: first.length + big.length });
    t.same(readFileSync(fileOf(id)), Buffer.concat([first, big]));
  });

  await t.test('two chunks at once for one token are written one after the other', async (t) => {
    const first = bytes(1000, 5);
    const one = bytes(4 << 20, 6);
    const two = bytes(3000, 7);
    const id = await newToken();
    await upload(id, first, { finalChunk: false });
    const lease = await holdLease(t, fileOf(id));
    const a = upload(id, one, { resume: true, resumeAt: -1, finalChunk: false });
    await lease.broken;
    // the second arrives while the first waits to write; both append at the end
    const b = upload(id, two, { resume: true, resumeAt: -1, finalChunk: true });
    await new Promise((r) => setTimeout(r, 300));
    await lease.release();
    t.match(await a, { status: 1, uploadedFileSize: first.length + one.length });
    t.match(await b, { status: 2, uploadedFileSize: first.length + one.length + two.length });
    t.same(readFileSync(fileOf(id)), Buffer.concat([first, one, two]), 'each chunk whole, in the order they came');
  });

  await t.test('a token deleted while its chunk is written stays deleted, its file gone', async (t) => {
    const id = await newToken();
    await upload(id, bytes(1000, 8), { finalChunk: false });
    const lease = await holdLease(t, fileOf(id));
    const uploading = upload(id, bytes(2 << 20, 9), { resume: true, resumeAt: -1, finalChunk: false });
    await lease.broken;
    t.equal(await api('uploadToken', 'delete', { uploadTokenId: id }), null, 'deleted while the chunk waits');
    await lease.release();
    t.match(await uploading, { code: 'UPLOAD_TOKEN_NOT_FOUND' });
    t.match(await api('uploadToken', 'get', { uploadTokenId: id }), { code: 'UPLOAD_TOKEN_NOT_FOUND' });
    t.notOk(existsSync(fileOf(id)));
  });
});

t.test('a chunk the disk cannot take leaves the file as it was before it', async (t) => {
  // a server in a child process whose files may not grow past 16 MiB: past that a write fails
  // with EFBIG, as on a full disk (Node ignores SIGXFSZ)
  const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-test-'));
  const script = `
    const { loadConfig } = await import(${JSON.stringify(runnableModule('src/config.ts'))});
    const { buildServer } = await import(${JSON.stringify(runnableModule('src/server.ts'))});
    const app = await buildServer({ config: loadConfig(process.env) });
    await app.listen({ host: '127.0.0.1', port: 0 });
    console.log('port ' + app.server.address().port);
    process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
  `;
  // tap's process-info hook (in this process's arguments and NODE_OPTIONS) would answer SIGXFSZ by
  // killing the process with it: the child gets only the arguments its modules need
  const child = spawn('bash', ['-c', 'unset NODE_OPTIONS; ulimit -f 16384 && exec "$@"', 'bash', process.execPath, ...runnableArgs, '--input-type=module', '-e', script], {
    env: { ...process.env, KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent' }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
  const exited = new Promise<void>((resolve) => child.on('close', () => resolve()));
  t.teardown(async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout }).on('line', (line) => { if (line.startsWith('port ')) resolve(line.slice(5)); });
    void exited.then(() => reject(new Error(`the server did not start: ${stderr}`)));
  });
  const base = `http://127.0.0.1:${port}/api_v3/service`;
  const api = async (action: string, params: Record<string, unknown>): Promise<any> =>
    (await fetch(`${base}/${action}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ format: 1, ...params }) })).json();
  const ks = await api('session/action/start', { secret: 'sample-admin-secret-309', partnerId: 309, type: 2 });
  const upload = async (tokenId: string, data: Buffer, resume: boolean, finalChunk: boolean): Promise<any> => {
    const form = new FormData();
    for (const [k, v] of Object.entries({ format: '1', ks, uploadTokenId: tokenId, resume: resume ? '1' : '0', resumeAt: '-1', finalChunk: finalChunk ? '1' : '0' })) form.set(k, v);
    form.set('fileData', new Blob([new Uint8Array(data)]), 'chunk.bin');
    return (await fetch(`${base}/uploadToken/action/upload`, { method: 'POST', body: form })).json();
  };
  const id = (await api('uploadToken/action/add', { ks, uploadToken: { objectType: 'KalturaUploadToken', fileName: 'big.mp4' } })).id as string;
  const file = join(dataDir, 'uploads', id);
  const first = Buffer.alloc(10 << 20, 1);
  const second = Buffer.alloc(10 << 20, 2);
  const last = Buffer.alloc(1 << 20, 3);
  t.match(await upload(id, first, false, false), { status: 1, uploadedFileSize: first.length });
  t.match(await upload(id, second, true, false), {
    code: 'UPLOAD_ERROR', message: `Upload failed: the server's disk is full (EFBIG); the chunk was not kept: try again later from byte ${first.length}`,
  }, 'the part of the chunk that fitted was written, then the write failed');
  t.equal(statSync(file).size, first.length, 'cut back to what had arrived before the chunk');
  t.same(readFileSync(file), first);
  t.match(await api('uploadToken/action/get', { ks, uploadTokenId: id }), { status: 1, uploadedFileSize: first.length });
  t.match(await upload(id, last, true, true), { status: 2, uploadedFileSize: first.length + last.length }, 'the upload goes on from there');
  t.same(readFileSync(file), Buffer.concat([first, last]));
  t.same(readdirSync(join(dataDir, 'uploads')), [id]);
});

t.test('bytes a killed server wrote past what it recorded are never built on', async (t) => {
  // A server killed (kill -9) inside a chunk's write leaves part of that chunk in the upload
  // file, past the size the catalog recorded; the client never had an answer and, told by
  // uploadToken.get how much arrived, sends the chunk again from there. Seen with a real kill
  // during a 20 MB chunk: 29 MB on disk, 20 MB recorded. The same state is made here by hand.
  const s = await startServer(t);
  const { call } = await sampleAdminClient(s.url);
  const first = Buffer.alloc(3000, 1);
  const rest = Buffer.alloc(2000, 2);
  const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'clip.mp4' })));
  t.match(await call(kaltura.services.uploadToken.upload(token.id, first, false, false)), { uploadedFileSize: 3000 });
  const file = join(s.dataDir, 'uploads', token.id);
  appendFileSync(file, Buffer.alloc(1500, 9));
  t.match(await call(kaltura.services.uploadToken.get(token.id)), { status: 1, uploadedFileSize: 3000 }, 'the torn bytes were never recorded');

  t.match(await call(kaltura.services.uploadToken.upload(token.id, rest.subarray(0, 1000), true, false, -1)), { status: 1, uploadedFileSize: 4000 },
    'resumeAt -1 goes on from what was recorded');
  t.match(await call(kaltura.services.uploadToken.upload(token.id, rest.subarray(1000), true, true, 4000)), { status: 2, uploadedFileSize: 5000 });
  t.same(readFileSync(file), Buffer.concat([first, rest]), 'the file is what the client sent, nothing of the torn chunk');

  // a shorter chunk sent again at the recorded offset: the torn bytes past it are not kept either
  const other = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'clip.mp4' })));
  await call(kaltura.services.uploadToken.upload(other.id, first, false, false));
  appendFileSync(join(s.dataDir, 'uploads', other.id), Buffer.alloc(1500, 9));
  t.match(await call(kaltura.services.uploadToken.upload(other.id, rest.subarray(0, 500), true, true, 3000)), { status: 2, uploadedFileSize: 3500 });
  t.same(readFileSync(join(s.dataDir, 'uploads', other.id)), Buffer.concat([first, rest.subarray(0, 500)]));
});

t.test('a chunk over the body limit is refused with an answer the client reads', async (t) => {
  // The Node client (axios) writes the whole body before it reads: a server that answered at
  // once and closed the connection left it with EPIPE and no error code at all.
  const s = await startServer(t);
  const { call, refusal } = await sampleAdminClient(s.url);
  const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'movie.mp4' })));
  const tooBig = Buffer.alloc(65 * 1024 * 1024, 1);
  t.match(await refusal(kaltura.services.uploadToken.upload(token.id, tooBig, false, false)), {
    code: 'INTERNAL_SERVERL_ERROR', message: /the request body is over 64 MB; upload a larger file in chunks/,
  });
  t.match(await call(kaltura.services.uploadToken.get(token.id)), { status: 0, uploadedFileSize: 0 }, 'nothing was kept');
  t.match(await call(kaltura.services.uploadToken.upload(token.id, Buffer.alloc(1000, 2), false, true)), { status: 2, uploadedFileSize: 1000 }, 'and the token takes smaller chunks');
});

t.test('a file whose name holds double quotes uploads through the Node client', async (t) => {
  // The client writes the name into the part's header as it is (filename="take "2".mp4"); the
  // body was refused as unreadable, so such a file could not be uploaded at all.
  const s = await startServer(t);
  const { call } = await sampleAdminClient(s.url);
  const dir = mkdtempSync(join(tmpdir(), 'kdeliver-names-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const bytes = Buffer.alloc(3000, 5);
  for (const name of ['take "2".mp4', '"quoted".mp4']) {
    const file = join(dir, name);
    writeFileSync(file, bytes);
    const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'movie.mp4' })));
    t.match(await call(kaltura.services.uploadToken.upload(token.id, file)), { objectType: 'KalturaUploadToken', status: 2, uploadedFileSize: 3000 }, name);
    t.same(readFileSync(join(s.dataDir, 'uploads', token.id)), bytes);
  }
});

t.test("Kaltura's parallel chunked upload: chunks in any order, a final chunk sent again until the rest is in", async (t) => {
  // As Kaltura's uploadToken.upload documents it: one chunk with resume=false, the others at once
  // with resume=true at their resumeAt, then a final chunk (maybe empty) sent again on
  // UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE until every chunk before it is in. Chunks past the end
  // were refused (UPLOAD_TOKEN_CHUNK_OUT_OF_ORDER, a code Kaltura does not have).
  const s = await startServer(t);
  const { call, refusal } = await sampleAdminClient(s.url);
  const file = Buffer.from(Array.from({ length: 50_000 }, (_, i) => (i * 31 + (i >> 8)) & 0xff));
  const size = 10_000;
  const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'movie.mp4', fileSize: file.length })));
  t.match(await call(kaltura.services.uploadToken.upload(token.id, file.subarray(0, size), false, false, 0)), { uploadedFileSize: size });
  // chunks 5, 3 and 4 (by offset) arrive before chunk 2
  for (const at of [4 * size, 2 * size, 3 * size]) {
    t.match(await call(kaltura.services.uploadToken.upload(token.id, file.subarray(at, at + size), true, false, at)), { status: 1, uploadedFileSize: size }, `chunk at ${at} kept until the ones before it arrive`);
  }
  t.match(await refusal(kaltura.services.uploadToken.upload(token.id, Buffer.alloc(0), true, true, file.length)), { code: 'UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE' }, 'the final chunk, too early');
  t.match(await call(kaltura.services.uploadToken.upload(token.id, file.subarray(size, 2 * size), true, false, size)), { status: 1, uploadedFileSize: file.length }, 'chunk 2: every chunk counts now');
  t.match(await call(kaltura.services.uploadToken.upload(token.id, Buffer.alloc(0), true, true, file.length)), { status: 2, uploadedFileSize: file.length }, 'the final chunk again: complete');
  t.same(readFileSync(join(s.dataDir, 'uploads', token.id)), file, 'the file, byte for byte');
  t.notOk(existsSync(join(s.dataDir, 'uploads', `${token.id}.early`)) && readdirSync(join(s.dataDir, 'uploads', `${token.id}.early`)).length > 0, 'nothing left aside');

  // all at once, in parallel, as a client does it
  const other = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'movie.mp4', fileSize: file.length })));
  await call(kaltura.services.uploadToken.upload(other.id, file.subarray(0, size), false, false, 0));
  const answers = await Promise.all([4, 3, 2, 1].map((i) => call(kaltura.services.uploadToken.upload(other.id, file.subarray(i * size, (i + 1) * size), true, false, i * size))));
  t.equal(Math.max(...answers.map((a) => Number(a.uploadedFileSize))), file.length, 'the last answer counts every chunk');
  t.match(await call(kaltura.services.uploadToken.upload(other.id, Buffer.alloc(0), true, true, file.length)), { status: 2 });
  const entry = await call(kaltura.services.media.add(new kaltura.objects.MediaEntry({ name: 'parallel', mediaType: 1 })));
  t.match(await refusal(kaltura.services.media.addContent(entry.id, new kaltura.objects.UploadedFileTokenResource({ token: other.id }))), { code: 'INGEST_FAILED' }, 'used (the bytes are no media, as meant here)');
  t.same(readdirSync(join(s.dataDir, 'uploads')).filter((n) => n.startsWith(other.id)), [], 'its files are gone once used');

  // restarting drops what was kept aside
  const third = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'movie.mp4' })));
  await call(kaltura.services.uploadToken.upload(third.id, file.subarray(0, size), false, false, 0));
  await call(kaltura.services.uploadToken.upload(third.id, Buffer.alloc(size, 9), true, false, 2 * size));
  await call(kaltura.services.uploadToken.upload(third.id, file.subarray(0, 2 * size), false, false, 0));
  t.match(await call(kaltura.services.uploadToken.upload(third.id, file.subarray(2 * size, 3 * size), true, true, -1)), { status: 2, uploadedFileSize: 3 * size });
  t.same(readFileSync(join(s.dataDir, 'uploads', third.id)), file.subarray(0, 3 * size), 'nothing of the chunk sent before the restart');
  const fourth = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'movie.mp4' })));
  t.match(await refusal(kaltura.services.uploadToken.upload(fourth.id, file, true, false, 2 ** 60)), { code: 'UPLOAD_ERROR', message: /resumeAt must be -1 or a byte offset/ }, 'an offset past what a number holds exactly');
});

t.test('a file shorter than the catalog recorded: the upload goes on from what the file holds', async (t) => {
  // A crash that lost bytes not yet on disk (or an upload file missing on this node) leaves fewer
  // bytes in the file than uploadedFileSize says. A chunk at the recorded size was set aside as
  // early and answered with the old size, and every final chunk was then refused ("arrived only
  // up to byte 1000") while uploadToken.get said 3000: a parallel-upload client looped forever.
  const s = await startServer(t);
  const { call, refusal } = await sampleAdminClient(s.url);
  const file = Buffer.from(Array.from({ length: 5000 }, (_, i) => (i * 7 + (i >> 8)) & 0xff));
  const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'clip.mp4', fileSize: 5000 })));
  for (const at of [0, 1000, 2000]) await call(kaltura.services.uploadToken.upload(token.id, file.subarray(at, at + 1000), at > 0, false, at));
  t.match(await call(kaltura.services.uploadToken.get(token.id)), { status: 1, uploadedFileSize: 3000 });
  const path = join(s.dataDir, 'uploads', token.id);
  truncateSync(path, 1000);

  t.match(await call(kaltura.services.uploadToken.upload(token.id, file.subarray(3000, 4000), true, false, 3000)), { status: 1, uploadedFileSize: 1000 },
    'the answer says where the upload really ends');
  t.match(await call(kaltura.services.uploadToken.get(token.id)), { status: 1, uploadedFileSize: 1000 }, 'and so does uploadToken.get');
  t.match(await refusal(kaltura.services.uploadToken.upload(token.id, file.subarray(4000), true, true, 4000)), {
    code: 'UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE', message: /arrived only up to byte 1000/,
  }, 'a final chunk too early names the same size uploadToken.get does');
  t.match(await call(kaltura.services.uploadToken.upload(token.id, file.subarray(1000, 3000), true, false, -1)), { status: 1, uploadedFileSize: 4000 },
    'resumeAt -1 goes on from the real end, and the chunk kept aside follows on');
  t.match(await call(kaltura.services.uploadToken.upload(token.id, file.subarray(4000), true, true, 4000)), { status: 2, uploadedFileSize: 5000 });
  t.same(readFileSync(path), file, 'the file, byte for byte');

  // the file missing altogether: the upload goes on from byte 0
  const other = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'clip.mp4' })));
  await call(kaltura.services.uploadToken.upload(other.id, file.subarray(0, 2000), false, false));
  rmSync(join(s.dataDir, 'uploads', other.id));
  t.match(await refusal(kaltura.services.uploadToken.upload(other.id, file.subarray(2000), true, true, 2000)), {
    code: 'UPLOAD_TOKEN_CANNOT_MATCH_EXPECTED_SIZE', message: /arrived only up to byte 0/,
  });
  t.match(await call(kaltura.services.uploadToken.get(other.id)), { status: 1, uploadedFileSize: 0 });
  t.match(await call(kaltura.services.uploadToken.upload(other.id, file, true, true, -1)), { status: 2, uploadedFileSize: 5000 });
  t.same(readFileSync(join(s.dataDir, 'uploads', other.id)), file);
});

t.test('a token deleted after its chunk was checked and before it was recorded stays deleted', async (t) => {
  // The chunk's record was written whatever the token had become: a delete landing between the
  // chunk's last check and that write was turned back into PARTIAL_UPLOAD, its files gone. Here
  // the delete is made to land there: right after the chunk's second read of the token.
  const s = await startServer(t);
  const { call, refusal } = await sampleAdminClient(s.url);
  const ingest = s.app.catalog.ingest;
  const read = ingest.getUploadToken.bind(ingest);
  let deleteAfter: { id: string; reads: number } | null = null;
  ingest.getUploadToken = async (id: string) => {
    const answer = await read(id);
    if (deleteAfter?.id === id && --deleteAfter.reads === 0) {
      deleteAfter = null;
      await call(kaltura.services.uploadToken.deleteAction(id));
    }
    return answer;
  };
  t.teardown(() => { ingest.getUploadToken = read; });

  for (const [what, resumeAt] of [['a chunk at the end', 1000], ['a chunk kept aside for later', 5000]] as const) {
    const token = await call(kaltura.services.uploadToken.add(new kaltura.objects.UploadToken({ fileName: 'clip.mp4' })));
    await call(kaltura.services.uploadToken.upload(token.id, Buffer.alloc(1000, 1), false, false));
    deleteAfter = { id: token.id, reads: 2 };
    t.match(await refusal(kaltura.services.uploadToken.upload(token.id, Buffer.alloc(1000, 2), true, false, resumeAt)), { code: 'UPLOAD_TOKEN_NOT_FOUND' }, `${what}: answered as a deleted token`);
    t.equal(deleteAfter, null, `${what}: the delete landed inside the chunk`);
    t.match(await refusal(kaltura.services.uploadToken.get(token.id)), { code: 'UPLOAD_TOKEN_NOT_FOUND' }, `${what}: still deleted`);
    t.equal((await read(token.id))?.status, 5, `${what}: DELETED (5) in the catalog`);
    t.same(readdirSync(join(s.dataDir, 'uploads')).filter((n) => n.startsWith(token.id)), [], `${what}: its files gone`);
  }
});
