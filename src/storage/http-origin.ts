// A read-only HTTP origin (nginx, a CDN, a NAS) answering byte-range GETs: HEAD for size and
// ETag, ranged GET with If-Match for the bytes, over keep-alive connections. Every request is
// bounded by the connect and whole-request timeouts.
import http from 'node:http';
import https from 'node:https';
import { SourceError } from '../media/errors.js';
import type { ObjectMeta, Origin, OriginTimeouts } from './origin.js';

/** attempt()'s rejection when the origin reset a reused connection before answering (request() asks again). */
class ResetOnReuse extends Error {}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

export function httpOrigin(base: string, t: OriginTimeouts): Origin {
  const baseUrl = new URL(`${base}/`);
  const lib = baseUrl.protocol === 'https:' ? https : http;
  const agent = new lib.Agent({ keepAlive: true, maxSockets: 64, keepAliveMsecs: 1000 });
  const describe = `http origin ${base}`;
  const urlOf = (key: string) => new URL(key.split('/').map(encodeURIComponent).join('/'), baseUrl);
  const where = (key: string) => `${describe} (${key})`;

  /**
   * One request, asked again once on a new connection when the origin reset the kept-alive one it
   * went out on before answering: a server closes an idle connection after its own keep-alive
   * timeout (Node's is 5 s, Apache's 5 s, nginx's 75 s), and a request sent as the close crosses it
   * is reset though the origin is well (the reuse case of Node's http.ClientRequest.reusedSocket).
   * A reset on a new connection, or after answer bytes came, is the origin's failure.
   */
  async function request(key: string, method: 'HEAD' | 'GET', headers: Record<string, string>, maxBody: number): Promise<Answer> {
    try {
      return await attempt(key, method, headers, maxBody);
    } catch (e) {
      if (!(e instanceof ResetOnReuse)) throw e;
      return attempt(key, method, headers, maxBody, false);
    }
  }

  function attempt(key: string, method: 'HEAD' | 'GET', headers: Record<string, string>, maxBody: number, mayRetry = true): Promise<Answer> {
    return new Promise((resolve, reject) => {
      let done = false;
      const fail = (e: SourceError | ResetOnReuse) => {
        if (done) return;
        done = true;
        clearTimeout(deadline);
        req.destroy();
        reject(e);
      };
      let answered = false;
      const req = lib.request(urlOf(key), { method, headers, agent }, (res) => {
        answered = true;
        const chunks: Buffer[] = [];
        let got = 0;
        res.on('data', (c: Buffer) => {
          got += c.length;
          if (got > maxBody) fail(new SourceError('status', where(key), `answered more than the ${maxBody} bytes asked for`));
          else chunks.push(c);
        });
        res.on('end', () => {
          if (done) return;
          done = true;
          clearTimeout(deadline);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) });
        });
        res.on('aborted', () => fail(new SourceError('unreachable', where(key), 'closed the connection mid-answer')));
        res.on('error', (e) => fail(new SourceError('unreachable', where(key), `broke off the answer (${(e as NodeJS.ErrnoException).code ?? e.message})`)));
      });
      const deadline = setTimeout(() => fail(new SourceError('timeout', where(key), `no complete answer within ${t.timeoutMs} ms`)), t.timeoutMs);
      req.on('socket', (socket) => {
        if (!socket.connecting) return;
        const connectTimer = setTimeout(() => fail(new SourceError('timeout', where(key), `no connection within ${t.connectTimeoutMs} ms`)), t.connectTimeoutMs);
        socket.once('connect', () => clearTimeout(connectTimer));
        socket.once('close', () => clearTimeout(connectTimer));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        if (mayRetry && !answered && req.reusedSocket && e.code === 'ECONNRESET') return fail(new ResetOnReuse(where(key)));
        const what = e.code === 'ECONNREFUSED' ? 'refused the connection' : e.code === 'ECONNRESET' ? 'reset the connection' : `could not be reached (${e.code ?? e.message})`;
        fail(new SourceError('unreachable', where(key), what));
      });
      req.end();
    });
  }

  const statusError = (key: string, a: Answer): SourceError => {
    if (a.status === 404 || a.status === 410) return new SourceError('missing', where(key), `has no such object (${a.status})`);
    if (a.status === 412) return new SourceError('changed', where(key), 'the object changed while it was read (412)');
    return new SourceError('status', where(key), `answered ${a.status}`, a.status);
  };

  return {
    describe,
    async head(key) {
      const a = await request(key, 'HEAD', {}, 0);
      if (a.status !== 200) throw statusError(key, a);
      const size = Number(a.headers['content-length']);
      if (!Number.isSafeInteger(size) || size < 0) throw new SourceError('status', where(key), 'answered HEAD without a Content-Length');
      const tag = typeof a.headers.etag === 'string' ? a.headers.etag : null;
      const strong = tag && !tag.startsWith('W/') ? tag : null;
      return { size, version: tag ?? `${size}-${a.headers['last-modified'] ?? ''}`, etag: strong };
    },
    async read(key, meta: ObjectMeta, offset, length) {
      const headers: Record<string, string> = { Range: `bytes=${offset}-${offset + length - 1}` };
      if (meta.etag) headers['If-Match'] = meta.etag;
      const a = await request(key, 'GET', headers, length);
      if (a.status === 200 && offset === 0 && length === meta.size && a.body.length === length) return a.body;
      if (a.status === 200) throw new SourceError('status', where(key), 'ignored the byte range (answered 200, not 206)');
      if (a.status !== 206) throw statusError(key, a);
      if (a.body.length !== length) throw new SourceError('unreachable', where(key), `answered ${a.body.length} of ${length} bytes`);
      // the bytes asked for, of the object as it was measured: a range of the right length from
      // elsewhere in the file (or from a changed one) would be served as these, shifted
      const asked = `bytes ${offset}-${offset + length - 1}/`;
      const range = a.headers['content-range'];
      if (typeof range !== 'string' || !range.startsWith(asked)) {
        throw new SourceError('status', where(key), `answered ${typeof range === 'string' ? `Content-Range ${JSON.stringify(range.slice(0, 80))}` : 'no Content-Range'} for ${asked}${meta.size}`);
      }
      const total = range.slice(asked.length);
      if (total !== '*' && Number(total) !== meta.size) throw new SourceError('changed', where(key), `is ${total} bytes now, not ${meta.size}`);
      return a.body;
    },
    ffmpegUrl: async (key) => urlOf(key).toString(),
    close: () => agent.destroy(),
  };
}
