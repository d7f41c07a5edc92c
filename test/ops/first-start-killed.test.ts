// A first start killed while it seeds the sample library (kill -9, or Ctrl-C, which kills the
// process before the server's signal handlers exist) leaves catalog.sqlite made but holding no
// partner, and no record of the seed. The next start used to take that directory for one of its
// own: it generated secrets.json and never seeded, so the README's sample URLs answered 404 and
// `kdeliver ks --partner 309` said "no partner 309". It is still new, and is seeded.
// The first case kills a real first start the moment its catalog file appears; the second and
// third leave on disk exactly what such a kill leaves at its two moments (the file made, empty;
// the file migrated, its seed transaction not committed), as the kill's timing cannot be chosen.
import t from 'tap';
import type { Test } from 'tap';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, watch, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binTarget, cleanEnv, installedCommand } from '../helpers/command.js';
import { openDatabase } from '../../src/catalog/db.js';
import { createCatalog } from '../../src/catalog/catalog.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-first-start-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);

/** The next start on `dataDir` holds the sample library, signs with its secrets and serves its URLs. */
async function seededNow(t: Test, dataDir: string) {
  const list = await cmd.kdeliver(['partner', 'list'], { KDELIVER_DATA_DIR: dataDir });
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /^309 .*Sample Partner/m, 'the sample partner is there');
  t.notOk(existsSync(join(dataDir, 'secrets.json')), 'no secrets generated: the directory is the sample library');
  t.ok(existsSync(join(dataDir, 'sample-library')), 'the seed is recorded');
  const s = await cmd.serve({ KDELIVER_DATA_DIR: dataDir });
  const res = await fetch(`${s.url}/p/309/sp/0/playManifest/entryId/1_rcit0qgs/format/applehttp/protocol/http/a.m3u8`);
  t.equal(res.status, 200, 'the README\'s HLS URL plays');
  t.match(await res.text(), /^#EXTM3U/);
  t.equal(await s.stop(), 0);
}

t.test('a first start killed the moment its catalog file appears', async (t) => {
  const dataDir = join(work, 'killed');
  mkdirSync(dataDir);
  const child = spawn(process.execPath, [binTarget(), 'serve'], {
    env: { ...cleanEnv, KDELIVER_DATA_DIR: dataDir, HOST: '127.0.0.1', PORT: '0' }, stdio: 'ignore',
  });
  const exited = new Promise((r) => child.on('exit', r));
  const watcher = watch(dataDir, () => {
    if (existsSync(join(dataDir, 'catalog.sqlite'))) child.kill('SIGKILL');
  });
  await exited;
  watcher.close();
  t.ok(existsSync(join(dataDir, 'catalog.sqlite')), 'the catalog file was made');
  t.comment(existsSync(join(dataDir, 'sample-library')) ? 'the seed finished before the kill landed' : 'killed before the seed committed');
  await seededNow(t, dataDir);
});

t.test('the file made, empty (killed before the migrations)', async (t) => {
  const dataDir = join(work, 'empty-file');
  mkdirSync(dataDir);
  writeFileSync(join(dataDir, 'catalog.sqlite'), '');
  await seededNow(t, dataDir);
});

t.test('the file migrated, no partner (killed before the seed\'s transaction committed)', async (t) => {
  const dataDir = join(work, 'migrated');
  mkdirSync(join(dataDir, 'media'), { recursive: true });
  await createCatalog(openDatabase(join(dataDir, 'catalog.sqlite'))).close();
  await seededNow(t, dataDir);
});

t.test('a directory of its own is not seeded: its secrets.json says so, partner or not', async (t) => {
  const dataDir = join(work, 'own');
  const list = await cmd.kdeliver(['partner', 'list'], { KDELIVER_DATA_DIR: dataDir, KDELIVER_SAMPLE_LIBRARY: 'false' });
  t.equal(list.code, 0, list.stderr);
  t.ok(existsSync(join(dataDir, 'secrets.json')));
  const again = await cmd.kdeliver(['partner', 'list'], { KDELIVER_DATA_DIR: dataDir });
  t.notMatch(again.stdout, /Sample Partner/, 'without KDELIVER_SAMPLE_LIBRARY=false it stays empty');
});
