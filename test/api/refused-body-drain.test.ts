// A request whose declared body is over the limit is answered (api_v3's error, HTTP 200) after its
// client has been quiet a second, and the rest of its body is still read and dropped, bounded by a
// minute (routes/http.ts drainRefusedBody). Once answered, Node no longer tells the request that
// its connection closed: the drain's listeners and its one-minute timer stayed after the client
// had gone, holding a test process (or any process waiting for its event loop) for that minute.
// The drain now ends with its connection.
import t from 'tap';
import { connect } from 'node:net';
import { startServer } from '../helpers/server.js';

const srv = await startServer(t);
const { port } = new URL(srv.url);
const timers = () => process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
const settle = () => new Promise((r) => setTimeout(r, 300));

t.test('a refused body\'s drain ends when its client goes', async (t) => {
  await settle();
  const before = timers();
  const socket = connect(Number(port), '127.0.0.1');
  // 65 MB declared, 2 bytes sent: refused for its size, answered once the client is quiet
  socket.write(`POST /api_v3/service/system/action/ping?format=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${65 * 1024 * 1024}\r\n\r\n{}`);
  const answer = await new Promise<string>((resolve, reject) => {
    let got = '';
    socket.setEncoding('utf8').on('data', (d: string) => {
      got += d;
      const m = /\r\ncontent-length: (\d+)\r\n/i.exec(got);
      const head = got.indexOf('\r\n\r\n');
      if (m && head >= 0 && got.length >= head + 4 + Number(m[1])) resolve(got);
    }).on('error', reject);
  });
  t.match(answer, /^HTTP\/1\.1 200 /, 'answered, HTTP 200');
  t.match(answer, /the request body is over 64 MB; upload a larger file in chunks/, 'the API error says why');
  t.ok(timers() > before, 'while the connection is open, the drain still reads it');
  socket.destroy();
  await settle();
  t.ok(timers() <= before, `the client gone, nothing of the drain is left (timers ${timers()}, ${before} before)`);
});
