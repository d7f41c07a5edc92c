// `kdeliver import lib.json` into a data directory that holds the sample library (README "Your
// own library": the default data directory after `npm start`, or a new one, which gets the sample
// library first), with a library file whose partner 309 is not the sample's (its own secrets: a
// library exported from an import-kaltura of partner 309, say). Importing it replaced the sample
// partner, the import said `imported …` and exited 0, and from then on every command on the data
// directory (serve, entries list, partner list, import again) refused it: it is recorded as
// holding the sample library, whose public secrets are refused for a catalog that is not it. The
// import now refuses such a file before it changes anything, in one line naming the partner and
// what to do; with KDELIVER_SAMPLE_LIBRARY=false (a new data directory) the same file imports.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedCommand } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-over-sample-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);

const lib = join(work, 'lib.json');
writeFileSync(lib, JSON.stringify({
  version: 1, mediaDir: join(projectRoot, 'fixtures', 'media'),
  partners: [{ id: 309, name: 'My partner 309', adminSecret: '2c206363bba2262e02e8e97f7e653afe', userSecret: '10694ea8f0bf6db8d8f9323b380eeb8d' }],
  entries: [{ id: '1_mine0001', partnerId: 309, name: 'mine', type: 1, mediaType: 1, status: 2, duration: 12,
    flavors: [{ id: '1_fmine001', flavorParamsId: 301961, file: 'h264-240p.mp4', width: 426, height: 240, bitrate: 378, tags: 'web,mbr' }] }],
}));
const refusal = /^kdeliver: .*lib\.json: partners\[0\]: partner 309 is the sample library's partner in the data directory \/.*KDELIVER_SAMPLE_LIBRARY=false.*\n$/;

t.test('a new data directory (the sample library would be seeded first)', async (t) => {
  const env = { KDELIVER_DATA_DIR: join(work, 'new') };
  const r = await cmd.kdeliver(['import', lib], env);
  t.equal(r.code, 2, `refused:\n${r.stdout}${r.stderr}`);
  t.match(r.stderr.split('\n').filter((l) => l.startsWith('kdeliver:')).join('\n') + '\n', refusal, 'one line naming the partner and what to do');
  t.equal(r.stdout, '', 'nothing imported');
  t.notOk(existsSync(join(env.KDELIVER_DATA_DIR, 'catalog.sqlite')), 'no catalog was made');
  const after = await cmd.kdeliver(['entries', 'list'], env);
  t.equal(after.code, 0, `the data directory is still usable:\n${after.stderr}`);
});

t.test('a data directory that holds the sample library', async (t) => {
  const env = { KDELIVER_DATA_DIR: join(work, 'sample') };
  t.equal((await cmd.kdeliver(['entries', 'list'], env)).code, 0, 'seeded');
  const r = await cmd.kdeliver(['import', lib], env);
  t.equal(r.code, 2, `refused:\n${r.stdout}${r.stderr}`);
  t.match(r.stderr.split('\n').filter((l) => l.startsWith('kdeliver:')).join('\n') + '\n', refusal);
  const list = await cmd.kdeliver(['entries', 'list', '--partner', '309'], env);
  t.equal(list.code, 0, `entries list still works:\n${list.stderr}`);
  t.match(list.stdout, /1_rcit0qgs/, 'the sample library is as it was');
  t.notMatch(list.stdout, /1_mine0001/);
  // the sample library itself imports again over itself
  const again = await cmd.kdeliver(['import', join(projectRoot, 'fixtures', 'sample-library.json')], env);
  t.equal(again.code, 0, again.stderr);
});

t.test('without the sample library the same file imports', async (t) => {
  const env = { KDELIVER_DATA_DIR: join(work, 'own'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const r = await cmd.kdeliver(['import', lib], env);
  t.equal(r.code, 0, r.stderr);
  const list = await cmd.kdeliver(['entries', 'list'], env);
  t.equal(list.code, 0, list.stderr);
  t.match(list.stdout, /1_mine0001/);
});

t.test('a wrong library file leaves a new data directory as it was: nothing made, no secrets kept', async (t) => {
  const bad = join(work, 'bad.json');
  writeFileSync(bad, JSON.stringify({ version: 1, partners: [{ id: 'x' }] }));
  for (const sample of ['true', 'false']) {
    const dir = join(work, `untouched-${sample}`);
    const r = await cmd.kdeliver(['import', bad], { KDELIVER_DATA_DIR: dir, KDELIVER_SAMPLE_LIBRARY: sample });
    t.equal(r.code, 2, `refused (KDELIVER_SAMPLE_LIBRARY=${sample}):\n${r.stdout}${r.stderr}`);
    t.match(r.stderr, /^kdeliver: .*bad\.json/m, 'names the file');
    t.notOk(existsSync(dir), `KDELIVER_SAMPLE_LIBRARY=${sample}: the data directory was not made (no secrets.json, no catalog)`);
  }
});
