// Writes of media (ingest, upload, import) with KDELIVER_MEDIA_URL naming an HTTP origin, read-only
// by nature: the CLI's writing commands stop at start with a message naming the variable, and the
// server's API refuses its writing actions the same way, before reading anything. S3 takes writes
// (test/storage/s3-writes-nodes.test.ts, test/storage/import-kaltura-s3.test.ts).
import t from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binTarget, run } from '../helpers/command.js';
import { startServer } from '../helpers/server.js';
import { sampleFlavorFile } from '../helpers/media-tools.js';
import { projectRoot } from '../helpers/repo.js';

const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-writes-'));
t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
const stores = {
  http: { KDELIVER_MEDIA_URL: 'http://127.0.0.1:9/media' },
};
const s3 = { KDELIVER_MEDIA_URL: 's3://media/lib', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 's' };
const video = sampleFlavorFile('1_rcit0qgs', '1_f1rcit00');

for (const [kind, env] of Object.entries(stores)) {
  t.test(`${kind}: the CLI's writing commands refuse at start, naming KDELIVER_MEDIA_URL`, async (t) => {
    for (const args of [['ingest', '--partner', '309', video], ['import', join(projectRoot, 'fixtures', 'sample-library.json')], ['import-kaltura', '--service-url', 'http://127.0.0.1:9', '--partner-id', '1', '--admin-secret', 'x', '--all']]) {
      const r = await run(process.execPath, [binTarget(), ...args], { env: { KDELIVER_DATA_DIR: dataDir, ...env }, timeoutMs: 60_000 });
      t.equal(r.code, 1, `kdeliver ${args[0]} exits 1`);
      t.match(r.stderr, new RegExp(`^kdeliver ${args[0]}: KDELIVER_MEDIA_URL=${env.KDELIVER_MEDIA_URL.replace(/[/.]/g, '\\$&')} is .*ingest, upload and import of media are refused`), 'and says why');
      t.notMatch(r.stderr, /at .*\.js/, 'no stack');
    }
    // asking for help is answered whatever the configuration (src/cli/usage.ts)
    const help = await run(process.execPath, [binTarget(), 'import-kaltura', '--help'], { env: { KDELIVER_DATA_DIR: dataDir, ...env }, timeoutMs: 60_000 });
    t.equal(help.code, 0, 'import-kaltura --help still answers');
  });

  t.test(`${kind}: the API's writing actions are refused, naming KDELIVER_MEDIA_URL`, async (t) => {
    const srv = await startServer(t, { env });
    for (const [service, action] of [['uploadToken', 'upload'], ['media', 'addContent'], ['thumbAsset', 'setContent']]) {
      const r = await fetch(`${srv.url}/api_v3/service/${service}/action/${action}?format=1`, { method: 'POST' });
      const body = await r.json() as { code?: string; message?: string };
      t.equal(body.code, 'UPLOAD_ERROR', `${service}.${action}`);
      t.match(body.message, /KDELIVER_MEDIA_URL=\S+ is .*refused/);
    }
    const ping = await fetch(`${srv.url}/api_v3/service/system/action/ping?format=1`);
    t.equal(await ping.text(), 'true', 'other actions answer');
  });
}

t.test('s3: the API\'s writing actions are not refused for the store (they reach their own checks)', async (t) => {
  // no sample library: it would be seeded into this store, which is not there (src/catalog/open.ts)
  const srv = await startServer(t, { env: { ...s3, KDELIVER_SAMPLE_LIBRARY: 'false' } });
  const r = await fetch(`${srv.url}/api_v3/service/uploadToken/action/upload?format=1`, { method: 'POST' });
  const body = await r.json() as { code?: string };
  t.equal(body.code, 'MISSING_KS', 'uploadToken.upload asks for a session, as on local disk');
});
