// Child-process entry for bench/encryption.mjs --http: the compiled writers behind a plain
// node:http server, serving each segment of the benchmark file clear or encrypted as the packager
// route does (described, then streamed through the shared file handle with bodyStream, answer
// buffers recycled when sent). Paths: /{case}/{clear|enc}/{segment index}.
// Usage: node bench/lib/writer-server.mjs <media file> <port>
import { createServer } from 'node:http';
import { distModule } from './build.mjs';

const [file, port] = process.argv.slice(2);
const { readMediaIndex } = await import(distModule('src/media/mp4/reader.js'));
const { buildTimeline, flatPolicy, hlsPolicy } = await import(distModule('src/media/segment.js'));
const { tsSegment } = await import(distModule('src/media/ts/writer.js'));
const { describeMediaSegment } = await import(distModule('src/media/fmp4/writer.js'));
const { openFileSource } = await import(distModule('src/media/source.js'));
const { bodyStream, recycleWhenSent, setSegmentCacheBytes } = await import(distModule('src/media/body.js'));
// clear and encrypted segments both made for each request: with the segment answer cache on, a
// clear segment would be a kept copy (encrypted ones are never kept) and the ratio meaningless
setSegmentCacheBytes(0);
const { createHandleCache } = await import(distModule('src/media/file-handles.js'));
const { benchCases } = await import('./encryption-cases.mjs');

const index = await readMediaIndex(file, { maxMoovBytes: 64 << 20 });
const handles = createHandleCache();
// describing cenc/cbcs reads the samples: through a handle of its own, as the route would lease one
const { source: fh, close: closeSource } = await openFileSource(file);
const cases = benchCases({ index, buildTimeline, flatPolicy, hlsPolicy, tsSegment, describeMediaSegment, fh });

const server = createServer(async (req, res) => {
  try {
    const [, name, kind, n] = req.url.split('/');
    const c = cases.get(name);
    const i = Number(n);
    if (!c || (kind !== 'clear' && kind !== 'enc') || !(i >= 0 && i < c.tl.segments.length)) {
      res.writeHead(404).end();
      return;
    }
    const body = await (kind === 'clear' ? c.clear(i) : c.encrypted(i));
    res.writeHead(200, { 'content-type': body.contentType, 'content-length': body.length });
    recycleWhenSent(bodyStream(file, body, 0, body.length - 1, handles), res).pipe(res);
  } catch (err) {
    res.writeHead(500).end(String(err));
  }
});
server.listen(Number(port), '127.0.0.1', () => console.log(`writer server listening on http://127.0.0.1:${port}`));
process.on('SIGTERM', () => server.close(() => process.exit(0)));
