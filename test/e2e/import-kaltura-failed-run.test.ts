// `kdeliver import-kaltura` run in which no entry comes over leaves nothing of its own in the
// catalog: the partner here (with its new secrets) is made when the first entry is written, and
// the access-control profiles and flavor params an entry names are written with it. The source is
// a real kdeliver serving the sample library, reached through a proxy that can refuse every media
// file (HTTP 503), so that entries fail after their profiles and flavor params have been read.
import t from 'tap';
import { createServer, request as httpRequest } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { installedCommand } from '../helpers/command.js';

const SOURCE_SECRET = 'sample-admin-secret-309';
const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-failed-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);

/** Passes api_v3 through; answers 503 instead of any media file while `refuse` is set. */
async function refusingProxy() {
  const state = { url: '', upstream: '', refuse: true };
  const server = createServer((req, res) => {
    const u = new URL(state.upstream);
    const up = httpRequest({ host: u.hostname, port: u.port, method: req.method, path: req.url, headers: { ...req.headers, host: u.host } }, (ur) => {
      if (state.refuse && /^(video|audio)\//.test(String(ur.headers['content-type']))) {
        ur.destroy();
        res.writeHead(503, { 'content-type': 'text/plain' }).end('unavailable');
        return;
      }
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502).end(); else res.destroy(); });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return state;
}

/** What the catalog holds that a run could have made: partners, their profiles, flavor params, entries. */
function made(dataDir: string) {
  const db = new Database(join(dataDir, 'catalog.sqlite'), { readonly: true, fileMustExist: true });
  try {
    return {
      partners: db.prepare('SELECT id FROM partners ORDER BY id').pluck().all(),
      profiles: db.prepare('SELECT id FROM access_control_profiles ORDER BY id').pluck().all(),
      flavorParams: db.prepare('SELECT id FROM flavor_params ORDER BY id').pluck().all(),
      entries: db.prepare('SELECT id FROM entries ORDER BY id').pluck().all(),
    };
  } finally {
    db.close();
  }
}

t.test('an import in which every entry fails makes no partner, profile or flavor params', async (t) => {
  const proxy = await refusingProxy();
  const src = await cmd.serve({ KDELIVER_DATA_DIR: join(work, 'source'), KDELIVER_SAMPLE_LIBRARY: 'true', KDELIVER_PUBLIC_URL: proxy.url, KDELIVER_LOG_LEVEL: 'warn' });
  t.teardown(() => src.stop());
  proxy.upstream = src.url;
  const env = { KDELIVER_DATA_DIR: join(work, 'imported'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const base = ['import-kaltura', '--service-url', proxy.url, '--partner-id', '309', '--admin-secret', SOURCE_SECRET, '--as-partner', '77'];
  const before = await cmd.kdeliver(['partner', 'list'], env);
  t.equal(before.code, 0, before.stderr);
  const empty = made(env.KDELIVER_DATA_DIR);

  // an unknown entry, one the source cannot deliver, and one (with an access-control profile)
  // whose files the source refuses: nothing is written
  const failed = await cmd.kdeliver([...base, '--entry-ids', '1_nosuch00,1_convert0,1_kssecure'], env);
  t.equal(failed.code, 1, `the run fails:\n${failed.stdout}\n${failed.stderr}`);
  t.match(failed.stdout, /: 0 imported, 0 unchanged, 1 undeliverable, 0 not imported, 2 failed;/);
  t.match(failed.stdout, /\n {2}1_kssecure: .*HTTP 503/, 'the entry whose files were refused is listed as failed');
  t.notMatch(failed.stdout, /created here:|admin secret/, 'no partner made, no secrets shown');
  t.match(failed.stdout, /\nNo entry was written, so partner 77 was not created here \(nor anything under it\)\.\n/, 'the summary says so');
  t.same(made(env.KDELIVER_DATA_DIR), empty, 'the catalog holds no partner, profile, flavor params or entry of the run');
  const list = await cmd.kdeliver(['partner', 'list'], env);
  t.notMatch(list.stdout, /^77 /m, '`partner list` does not show partner 77');

  // the same run once the source gives its files: the partner is made, and its secrets shown, then
  proxy.refuse = false;
  const ok = await cmd.kdeliver([...base, '--entry-ids', '1_kssecure'], env);
  t.equal(ok.code, 0, `${ok.stdout}\n${ok.stderr}`);
  t.match(ok.stdout, /^partner 77 created here: .*\n {2}admin secret: [0-9a-f]{32}\n {2}user secret: {2}[0-9a-f]{32}\n/m);
  t.match(ok.stdout, /: 1 imported, /);
  const after = made(env.KDELIVER_DATA_DIR);
  t.same(after.partners, [77]);
  t.same(after.entries, ['1_kssecure']);
  t.equal(after.profiles.length, 1, 'with the profile the entry names');
  t.ok(after.flavorParams.length > 0, 'and its flavor params');
});
