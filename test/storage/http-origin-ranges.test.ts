// An HTTP origin must answer the byte range asked for. One that answers a range of the right length
// from elsewhere in the file (a misconfigured cache, a proxy rewriting ranges) once had its bytes
// served as the ones asked for: serveFlavor answered 200 with the file shifted by 7 bytes. The
// Content-Range is checked against the request: a wrong one is a 502 naming the origin, and a
// total that is not the size measured is a changed object. Real parts: kdeliver servers whose
// media is read from a node:http origin serving the sample library's files.
import t from 'tap';
import { createServer } from 'node:http';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';
import { SAMPLE } from '../helpers/packager-urls.js';
import { originRange, sha256 } from '../helpers/media-origins.js';

const ref = await startServer(t);
type Mode = 'right' | 'shifted' | 'no-content-range' | 'other-total';
let mode: Mode = 'right';

const origin = createServer((req, res) => {
  const asked = originRange(req, res, ref.config.mediaRoot);
  if (!asked) return;
  const { file, size, start, end } = asked;
  const shift = mode === 'shifted' ? 7 : 0;
  // of the right length, whatever the shift (padded past the end), as a proxy's wrong range is
  const bytes = readFileSync(file);
  const body = Buffer.concat([bytes.subarray(start + shift, end + 1 + shift), Buffer.alloc(shift)]).subarray(0, end + 1 - start);
  const headers: Record<string, string> = { 'content-length': String(body.length), etag: '"v1"' };
  if (mode !== 'no-content-range') headers['content-range'] = `bytes ${start + shift}-${end + shift}/${mode === 'other-total' ? size + 100 : size}`;
  res.writeHead(206, headers).end(body);
});
await new Promise<void>((r) => origin.listen(0, '127.0.0.1', r));
t.teardown(() => origin.close());
const port = (origin.address() as { port: number }).port;

const flavor = `/p/309/sp/30900/serveFlavor/entryId/${SAMPLE.entryId}/v/1/flavorId/${SAMPLE.p240}/name/a.mp4`;
const file = readFileSync(join(ref.config.mediaRoot, '309', SAMPLE.entryId, 'h264-240p.mp4'));

t.test('the range asked for is served; any other is a 502 naming the origin, never shifted bytes', async (t) => {
  // a server per mode: each reads the object afresh (the block cache keeps what a server read)
  const read = async (m: Mode) => {
    mode = m;
    const s = await startServer(t, { env: { KDELIVER_MEDIA_URL: `http://127.0.0.1:${port}/media`, KDELIVER_SAMPLE_LIBRARY: 'true' } });
    const r = await fetch(`${s.url}${flavor}`);
    return { status: r.status, body: Buffer.from(await r.arrayBuffer()) };
  };
  const right = await read('right');
  t.equal(right.status, 200);
  t.equal(sha256(right.body), sha256(file), 'the file, byte for byte');
  for (const [m, why] of [['shifted', /answered Content-Range "bytes 7-\d+\/\d+" for bytes 0-\d+\/\d+/], ['no-content-range', /answered no Content-Range for bytes 0-/], ['other-total', /is \d+ bytes now, not \d+/]] as const) {
    const r = await read(m);
    t.equal(r.status, 502, `${m}: 502`);
    t.match(r.body.toString(), new RegExp(`http origin http://127\\.0\\.0\\.1:${port}/media \\(309/${SAMPLE.entryId}/h264-240p\\.mp4\\): ${why.source}`), `${m}: says what the origin answered`);
  }
});
