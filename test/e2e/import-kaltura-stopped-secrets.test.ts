// `kdeliver import-kaltura` makes the partner here with new random secrets when its first run
// writes its first entry, and shows them once. A first run stopped after that, before its end
// (Ctrl-C, kill -9, a lost terminal: the README's "safe to stop, safe to re-run") must still have
// shown them: the next run finds the partner made and shows nothing, and no command prints a
// partner's secrets afterwards. The source is a real kdeliver serving the sample library, reached
// through a proxy that never sends the bytes of 1_rcit0qgs's media files, so that the importer is
// stopped after it wrote 1_audio001, while it waits for 1_rcit0qgs's downloads (--jobs 8: the
// held downloads leave a slot for 1_audio001's).
import t from 'tap';
import { spawn } from 'node:child_process';
import { createServer, request as httpRequest, type ServerResponse } from 'node:http';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { cleanEnv, installedCommand } from '../helpers/command.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-stopped-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);

/** Passes api_v3 through; holds every 1_rcit0qgs media file's answer after its headers (a download that never ends). */
async function stallingProxy() {
  const held = new Set<ServerResponse>();
  const state = { url: '', upstream: '', held };
  const server = createServer((req, res) => {
    const u = new URL(state.upstream);
    const up = httpRequest({ host: u.hostname, port: u.port, method: req.method, path: req.url, headers: { ...req.headers, host: u.host } }, (ur) => {
      res.writeHead(ur.statusCode ?? 502, ur.headers);
      if (/^(video|audio)\//.test(String(ur.headers['content-type'])) && (req.url ?? '').includes('1_rcit0qgs')) {
        held.add(res);
        ur.destroy();
        return;
      }
      ur.pipe(res);
    });
    up.on('error', () => { if (!res.headersSent) res.writeHead(502).end(); else res.destroy(); });
    req.pipe(up);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.teardown(() => new Promise<void>((r) => { for (const h of held) h.destroy(); server.closeAllConnections(); server.close(() => r()); }));
  state.url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  return state;
}

for (const signal of ['SIGINT', 'SIGKILL'] as const) {
  t.test(`a first run stopped by ${signal} has shown the new partner's secrets`, async (t) => {
    // the source's URLs (playManifest's redirects to the files) name the proxy
    const proxy = await stallingProxy();
    const src = await cmd.serve({
      KDELIVER_DATA_DIR: join(work, `source-${signal}`), KDELIVER_SAMPLE_LIBRARY: 'true', KDELIVER_PUBLIC_URL: proxy.url, KDELIVER_LOG_LEVEL: 'warn',
    });
    t.teardown(() => src.stop());
    proxy.upstream = src.url;
    const dstDir = join(work, `imported-${signal}`);
    const args = ['import-kaltura', '--service-url', proxy.url, '--partner-id', '309', '--admin-secret', 'sample-admin-secret-309', '--entry-ids', '1_audio001,1_rcit0qgs', '--jobs', '8'];
    const child = spawn('kdeliver', args, {
      env: { ...cleanEnv, PATH: `${join(work, 'bin')}:${process.env.PATH}`, KDELIVER_DATA_DIR: dstDir, KDELIVER_SAMPLE_LIBRARY: 'false' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    const exited = new Promise<void>((r) => child.on('close', () => r()));
    t.teardown(() => { if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL'); });
    const written = () => {
      if (!existsSync(join(dstDir, 'catalog.sqlite'))) return false;
      const db = new Database(join(dstDir, 'catalog.sqlite'), { readonly: true, fileMustExist: true });
      try {
        return db.prepare("SELECT 1 FROM entries WHERE id = '1_audio001'").get() !== undefined;
      } catch {
        return false; // the catalog is being made
      } finally {
        db.close();
      }
    };
    for (const end = Date.now() + 30_000; (proxy.held.size === 0 || !written()) && Date.now() < end;) await new Promise((r) => setTimeout(r, 25));
    t.ok(proxy.held.size > 0, 'the importer is waiting for a media file');
    t.ok(written(), 'after writing its first entry');
    child.kill(signal);
    await exited;

    const db = new Database(join(dstDir, 'catalog.sqlite'), { readonly: true, fileMustExist: true });
    const row = db.prepare('SELECT admin_secret AS a, user_secret AS u FROM partners WHERE id = 309').get() as { a: string; u: string } | undefined;
    t.same(db.prepare('SELECT id FROM entries').pluck().all(), ['1_audio001'], 'the first entry was written, 1_rcit0qgs was not');
    db.close();
    t.ok(row, 'the partner was made here');
    const m = /partner 309 created here: .*\n {2}admin secret: ([0-9a-f]{32})\n {2}user secret: {2}([0-9a-f]{32})\n/.exec(stdout);
    t.ok(m, `its secrets were printed before the run was stopped:\n${stdout}\n${stderr}`);
    if (m && row) t.same([m[1], m[2]], [row.a, row.u], 'the printed secrets are the partner\'s');
    t.notMatch(stdout + stderr, 'sample-admin-secret-309', 'the source\'s secret is never printed');
    t.notMatch(stderr, /\n\s+at /, 'no stack trace');
    const tmp = join(dstDir, 'tmp', 'import');
    t.notOk(existsSync(join(dstDir, 'media', '309', '1_rcit0qgs')), 'no media of 1_rcit0qgs in view');
    t.ok(existsSync(tmp), 'downloads go under tmp/import');
  });
}
