// KDELIVER_LOG_LEVEL above info (the README's own example sets `warn`): the server still says,
// once, that it is listening and where (README: "when ready the server logs a line containing
// `listening on http://`"), on stderr, and logs nothing below the level. It used to say nothing at
// all on a data directory without the sample library, so a supervisor or a person waiting for that
// line (or for the port, with PORT=0) waited in vain.
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedCommand } from '../helpers/command.js';

t.test('at level warn the listening line is still there, and no request line', async (t) => {
  const work = mkdtempSync(join(tmpdir(), 'kdeliver-log-level-'));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  const kd = installedCommand(t, work);
  const env = { KDELIVER_DATA_DIR: join(work, 'data'), NODE_ENV: 'production', KDELIVER_LOG_LEVEL: 'warn' };
  t.equal((await kd.kdeliver(['partner', 'add', '--name', 'Ops'], env)).code, 0, 'a production data directory with a partner');
  const s = await kd.serve(env); // resolves on the `listening on http://127.0.0.1:PORT` line
  t.equal((await fetch(`${s.url}/healthz`)).status, 200, `serving at ${s.url}`);
  t.equal(await s.stop(), 0, 'SIGTERM: exit 0');
  t.equal(s.log().match(/listening on http:\/\//g)?.length, 1, 'said once');
  t.notMatch(s.log(), /"level":30/, 'no line below warn');
});
