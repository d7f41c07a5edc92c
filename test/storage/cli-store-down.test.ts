// The kdeliver commands that write media to an S3 store that is down: `kdeliver import` (a library
// file's media) and `kdeliver serve` seeding the sample library into an empty catalog. Each says in
// one line which store and key failed (no credential), exit code 1, never a stack trace. Before,
// both printed the MediaWriteError's stack. A SQLite catalog whose seed failed so is seeded at the
// next start (its file is not left behind empty, which no start would seed again).
// Real parts: s3rver (started, then stopped), the built command, a throwaway PostgreSQL catalog.
import t, { type Test } from 'tap';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startS3, freePort } from '../helpers/media-origins.js';
import { startPostgres } from '../helpers/postgres.js';
import { binTarget, run } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';

const s3 = await startS3(t);
const env = s3.env('down');
await s3.stop();
const cluster = await startPostgres(t);

async function kdeliver(args: string[], extra: Record<string, string>) {
  const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-storedown-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  return run(process.execPath, [binTarget(), ...args], {
    env: { ...env, KDELIVER_DATA_DIR: dataDir, KDELIVER_DATABASE_URL: await cluster.createDatabase(), KDELIVER_MEDIA_TIMEOUT_MS: '2000', KDELIVER_LOG_LEVEL: 'silent', PORT: String(await freePort()), ...extra },
    timeoutMs: 90_000,
  });
}

function oneLine(t: Test, r: { code: number | null; stderr: string }, what: string) {
  t.equal(r.code, 1, `${what}: exit code 1`);
  const errors = r.stderr.trim().split('\n').filter((l) => l.startsWith('kdeliver:') || /^\s+at /.test(l));
  t.equal(errors.length, 1, `${what}: one error line (${JSON.stringify(r.stderr.slice(-400))})`);
  t.match(errors[0] ?? '', /^kdeliver: s3 store s3:\/\/media\/down \(309\/1_[a-z0-9]+\/[^)]+\): the upload failed: refused the connection$/, `${what}: names the store and key`);
  t.notMatch(r.stderr, /S3RVER/, `${what}: no credential`);
}

t.test('kdeliver import with the store down', async (t) => {
  oneLine(t, await kdeliver(['import', join(projectRoot, 'fixtures', 'sample-library.json')], { KDELIVER_SAMPLE_LIBRARY: 'false' }), 'import');
});

t.test('kdeliver serve seeding the sample library with the store down', async (t) => {
  oneLine(t, await kdeliver(['serve'], { KDELIVER_SAMPLE_LIBRARY: 'true' }), 'serve');
});

t.test('SQLite catalog: a seed that failed with the store down is made again at the next start', async (t) => {
  const dataDir = mkdtempSync(join(tmpdir(), 'kdeliver-storedown-'));
  t.teardown(() => rmSync(dataDir, { recursive: true, force: true }));
  const base = { KDELIVER_DATA_DIR: dataDir, KDELIVER_SAMPLE_LIBRARY: 'true', KDELIVER_MEDIA_TIMEOUT_MS: '2000', KDELIVER_LOG_LEVEL: 'silent' };
  const down = await run(process.execPath, [binTarget(), 'partner', 'list'], { env: { ...env, ...base }, timeoutMs: 60_000 });
  t.equal(down.code, 1, 'the first start fails with the store down');
  const up = await startS3(t);
  const again = await run(process.execPath, [binTarget(), 'partner', 'list'], { env: { ...up.env('again'), ...base }, timeoutMs: 60_000 });
  t.equal(again.code, 0, `the next start, the store up (${again.stderr.slice(0, 200)})`);
  t.match(again.stdout, /309/, 'the sample library was seeded');
  t.ok((await up.get('again/309/1_rcit0qgs/h264-720p.mp4')).length > 0, 'its media are in the store');
});
