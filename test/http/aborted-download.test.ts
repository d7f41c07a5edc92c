// A progressive download the client abandons part-way (a <video> element seeking, a browser
// cancelling a range request) leaves no file open on the server. The answer's body is a stream
// piped from the file; when the client goes, the server destroys the body's stream, and the file
// behind it must close too: one descriptor kept per abandoned download would, over a day of
// viewers, run the server out of descriptors (EMFILE), after which nothing opens or accepts.
import t from 'tap';
import { get } from 'node:http';
import { readdirSync, readlinkSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startServer } from '../helpers/server.js';

const s = await startServer(t);
// a flavor's file made big enough that no socket buffer holds it: the server is still reading it
// when the client goes (a new file in place of the seeded hard link, so the fixture stays as it is)
const file = join(s.dataDir, 'media', '309', '1_rcit0qgs', 'h264-720p.mp4');
writeFileSync(`${file}.big`, Buffer.alloc(64 << 20, 1));
renameSync(`${file}.big`, file);

/** Descriptors of this process (the server runs in it) open on the flavor's file. */
const openOnFile = (): number => readdirSync('/proc/self/fd').filter((fd) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`) === file;
  } catch {
    return false; // closed meanwhile
  }
}).length;

/** Starts the download, takes its first bytes, then goes away. */
const abandon = (): Promise<void> => new Promise((resolve, reject) => {
  const req = get(`${s.url}/p/309/sp/30900/serveFlavor/entryId/1_rcit0qgs/v/1/flavorId/1_f3rcit00/name/a.mp4`, (res) => {
    if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
    res.once('data', () => {
      res.pause();
      setTimeout(() => {
        req.destroy();
        resolve();
      }, 50);
    });
  });
  req.on('error', () => undefined);
});

t.test('five abandoned downloads leave no file open', async (t) => {
  const before = openOnFile();
  for (let i = 0; i < 5; i++) await abandon();
  let open = openOnFile();
  // the server sees each socket close on a later turn: wait for the closes to land (bounded)
  for (let i = 0; i < 100 && open > before; i++) {
    await new Promise((r) => setTimeout(r, 20));
    open = openOnFile();
  }
  t.equal(open, before, `descriptors on the file: ${open}, ${before} before the downloads`);
});
