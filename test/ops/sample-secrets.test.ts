// The public sample secrets belong to a data directory that holds the sample library, not to a
// process that happens to run without NODE_ENV=production:
// - a data directory made in production (README's production quick start: `partner add`, its
//   secrets.json) opened later without NODE_ENV keeps its own secrets: `kdeliver sign` and the
//   server use secrets.json, a kt signed with the public sample secret is refused (403, error 27)
//   for its entries, the sample library is not seeded into it and the start banner prints no
//   sample URLs. It used to fall back to the sample secrets, so anyone could sign URLs for it;
// - `npm start`'s data directory (seeded with the sample library) keeps the sample secrets
//   whatever process opens it, also one seeded by an older kdeliver (no record of the seeding),
//   and a production process refuses it unless KDELIVER_SAMPLE_LIBRARY=true;
// - a data directory's own secrets.json wins over a `sample-library` record; a record left over
//   from another catalog (a real catalog.sqlite restored into an old sample directory, a sample
//   directory pointed at another KDELIVER_DATABASE_URL) makes every command that uses the secrets
//   (serve, sign) and every command that opens the catalog refuse to start, never sign for it;
// - on a shared PostgreSQL catalog, a new data directory refuses to take the sample secrets for a
//   catalog that is not the sample library, `kdeliver sign` (which does not otherwise open the
//   catalog) included.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installedCommand } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';
import { signPlayManifestUrl, verifyKt } from '../../src/access/kt.js';
import { ConfigError, loadConfig, SAMPLE_MEDIA_URL_SECRET, SAMPLE_URL_TOKEN_SECRET } from '../../src/config.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-sample-secrets-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);
const get = (url: string) => fetch(url, { redirect: 'manual' });
const expiry = () => Math.floor(Date.now() / 1000) + 3600;
const ktOf = (signed: string) => /\/kt\/([0-9a-f]{40})\//.exec(signed)![1];

t.test('a data directory made in production, opened without NODE_ENV, keeps its own secrets.json', async (t) => {
  const dir = join(work, 'media-data');
  const production = { KDELIVER_DATA_DIR: dir, NODE_ENV: 'production' };
  const added = await cmd.kdeliver(['partner', 'add', '--name', 'My media'], production);
  t.equal(added.code, 0, added.stderr);
  t.match(added.stdout, /^partner 100 created/);
  const file = join(dir, 'secrets.json');
  t.equal(statSync(file).mode & 0o777, 0o600, 'secrets.json written, private');
  const stored = JSON.parse(readFileSync(file, 'utf8')) as Record<string, string>;

  // an entry of partner 100 (a library file, so no transcoding is needed)
  const lib = join(work, 'mine.json');
  writeFileSync(lib, JSON.stringify({
    version: 1, mediaDir: join(projectRoot, 'fixtures', 'media'),
    entries: [{ id: '0_mine0001', partnerId: 100, name: 'mine', type: 1, mediaType: 1, status: 2, duration: 12,
      flavors: [{ id: '0_fmine001', flavorParamsId: 301961, file: 'h264-240p.mp4', width: 426, height: 240, bitrate: 378, tags: 'web,mbr' }] }],
  }));
  const imported = await cmd.kdeliver(['import', lib], production);
  t.equal(imported.code, 0, imported.code ? imported.stderr : 'an entry of partner 100 imported');

  // the real config loader, as a process without NODE_ENV reads it
  const loaded = loadConfig({ KDELIVER_DATA_DIR: dir, KDELIVER_LOG_LEVEL: 'silent' });
  t.equal(loaded.urlTokenSecret, stored.KDELIVER_URL_TOKEN_SECRET, 'the loader: secrets.json\'s kt secret, not the sample one');
  t.equal(loaded.mediaUrlSecret, stored.KDELIVER_MEDIA_URL_SECRET, 'the loader: secrets.json\'s media URL secret');

  const dev = { KDELIVER_DATA_DIR: dir }; // no NODE_ENV (the helper drops the test's own)
  const path = '/p/100/sp/10000/playManifest/entryId/0_mine0001/flavorParamId/301961/format/url/protocol/http/a.mp4';
  const signed = await cmd.kdeliver(['sign', path, '--expiry', String(expiry())], dev);
  t.equal(signed.code, 0, signed.stderr);
  const bySign = signed.stdout.trim();
  t.ok(verifyKt(bySign, ktOf(bySign), stored.KDELIVER_URL_TOKEN_SECRET), '`kdeliver sign` without NODE_ENV signs with secrets.json');
  t.notOk(verifyKt(bySign, ktOf(bySign), SAMPLE_URL_TOKEN_SECRET), '... not with the sample secret');

  const server = await cmd.serve({ ...dev, PORT: '0' });
  const forged = await get(server.url + signPlayManifestUrl(path, SAMPLE_URL_TOKEN_SECRET, expiry()));
  t.equal(forged.status, 403, 'a kt signed with the public sample secret is refused');
  t.equal(forged.headers.get('x-kaltura'), 'error-27');
  const good = await get(server.url + bySign);
  t.equal(good.status, 302, `the kt of secrets.json plays: ${good.headers.get('x-kaltura') ?? ''}`);
  const log = await server.waitForLog(/try:|no partner yet/, 500);
  t.notMatch(log, /1_rcit0qgs|1_kssecure/, 'no sample try-URLs in the banner');
  t.equal(await server.stop(), 0);

  const partners = await cmd.kdeliver(['partner', 'list', '--json'], dev);
  t.same((JSON.parse(partners.stdout) as { id: number }[]).map((p) => p.id), [100], 'the sample library was not seeded into it');
  t.same(JSON.parse(readFileSync(file, 'utf8')), stored, 'secrets.json unchanged');
});

t.test('the sample library\'s data directory keeps the sample secrets, whoever opens it', async (t) => {
  const dir = join(work, 'storage');
  const served = await cmd.serve({ KDELIVER_DATA_DIR: dir, PORT: '0' });
  const path = '/p/309/sp/30900/playManifest/entryId/1_kssecure/format/url/protocol/http/a.mp4';
  const sampleKt = await get(served.url + signPlayManifestUrl(path, SAMPLE_URL_TOKEN_SECRET, expiry()));
  t.equal(sampleKt.status, 302, 'npm start: the documented sample kt plays');
  t.match(await served.waitForLog(/try:/), /1_rcit0qgs\/format\/url/, 'the banner prints the sample URLs');
  t.equal(await served.stop(), 0);
  t.notOk(existsSync(join(dir, 'secrets.json')), 'no secrets.json: the sample secrets');
  t.ok(existsSync(join(dir, 'sample-library')), 'the seeding is recorded in the data directory');

  const sampleOff = loadConfig({ KDELIVER_DATA_DIR: dir, KDELIVER_SAMPLE_LIBRARY: 'false', KDELIVER_LOG_LEVEL: 'silent' });
  t.equal(sampleOff.urlTokenSecret, SAMPLE_URL_TOKEN_SECRET, 'KDELIVER_SAMPLE_LIBRARY=false (seeding only) does not change its secrets');
  t.equal(sampleOff.mediaUrlSecret, SAMPLE_MEDIA_URL_SECRET);
  t.throws(() => loadConfig({ KDELIVER_DATA_DIR: dir, NODE_ENV: 'production' }),
    { constructor: ConfigError, message: /holds the sample library.*KDELIVER_SAMPLE_LIBRARY=true/ }, 'production refuses it unless asked');
  t.equal(loadConfig({ KDELIVER_DATA_DIR: dir, NODE_ENV: 'production', KDELIVER_SAMPLE_LIBRARY: 'true' }).urlTokenSecret, SAMPLE_URL_TOKEN_SECRET);

  // seeded by an older kdeliver: the same catalog without the record of the seeding
  const old = join(work, 'old-storage');
  mkdirSync(old);
  for (const f of ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm']) {
    if (existsSync(join(dir, f))) writeFileSync(join(old, f), readFileSync(join(dir, f)));
  }
  t.notOk(existsSync(join(old, 'sample-library')));
  t.equal(loadConfig({ KDELIVER_DATA_DIR: old, KDELIVER_LOG_LEVEL: 'silent' }).urlTokenSecret, SAMPLE_URL_TOKEN_SECRET, 'an older sample directory still counts as one');
  t.notOk(existsSync(join(old, 'secrets.json')), 'no secrets generated for it');
  const listed = await cmd.kdeliver(['partner', 'list', '--json'], { KDELIVER_DATA_DIR: old });
  t.same((JSON.parse(listed.stdout) as { id: number }[]).map((p) => p.id).sort(), [309, 310], 'its catalog, as it was');
});

t.test('a stale sample-library record does not bring the sample secrets to a catalog that is not the sample library', async (t) => {
  // an old sample directory (npm start's, made by the previous subtest) into which the catalog of
  // the production-made directory (partner 100) is restored
  const dir = join(work, 'restored');
  mkdirSync(dir);
  writeFileSync(join(dir, 'sample-library'), readFileSync(join(work, 'storage', 'sample-library')));
  for (const f of ['catalog.sqlite', 'catalog.sqlite-wal', 'catalog.sqlite-shm']) {
    if (existsSync(join(work, 'media-data', f))) writeFileSync(join(dir, f), readFileSync(join(work, 'media-data', f)));
  }
  const env = { KDELIVER_DATA_DIR: dir };
  const refused = /recorded as holding the sample library .*sample-library\), but its catalog .*catalog\.sqlite is not the sample library.*Remove .*sample-library/;
  const listed = await cmd.kdeliver(['partner', 'list'], env);
  t.equal(listed.code, 2, 'a command on the catalog is refused');
  t.match(listed.stderr, refused);
  t.equal(listed.stderr.trim().split('\n').length, 1, 'in one line');
  const path = '/p/100/sp/10000/playManifest/entryId/0_mine0001/flavorParamId/301961/format/url/protocol/http/a.mp4';
  const signed = await cmd.kdeliver(['sign', path, '--expiry', String(expiry())], env);
  t.equal(signed.code, 2, `kdeliver sign refuses too, it does not sign with the sample secret: ${signed.stdout}`);
  t.match(signed.stderr, refused);
  await t.rejects(cmd.serve({ ...env, PORT: '0' }), /exited \(2\)[^]*recorded as holding the sample library/, 'the server does not start');
  t.notOk(existsSync(join(dir, 'secrets.json')), 'nothing generated behind the operator\'s back');

  // the way out the message names: without the record, the directory's own secrets
  rmSync(join(dir, 'sample-library'));
  const own = await cmd.kdeliver(['partner', 'list', '--json'], env);
  t.equal(own.code, 0, own.stderr);
  t.same((JSON.parse(own.stdout) as { id: number }[]).map((p) => p.id), [100]);
  const stored = JSON.parse(readFileSync(join(dir, 'secrets.json'), 'utf8')) as Record<string, string>;
  t.not(stored.KDELIVER_URL_TOKEN_SECRET, SAMPLE_URL_TOKEN_SECRET, 'its own secrets, generated');

  // a record written again (an old kdeliver, a copied directory) does not outweigh secrets.json
  writeFileSync(join(dir, 'sample-library'), 'stale\n');
  const loaded = loadConfig({ KDELIVER_DATA_DIR: dir, KDELIVER_LOG_LEVEL: 'silent' });
  t.equal(loaded.urlTokenSecret, stored.KDELIVER_URL_TOKEN_SECRET, 'secrets.json wins over the record');
  t.equal(loaded.mediaUrlSecret, stored.KDELIVER_MEDIA_URL_SECRET);
  const again = await cmd.kdeliver(['sign', path, '--expiry', String(expiry())], env);
  t.equal(again.code, 0, again.stderr);
  t.ok(verifyKt(again.stdout.trim(), ktOf(again.stdout.trim()), stored.KDELIVER_URL_TOKEN_SECRET), 'kdeliver sign: secrets.json');
});

t.test('on a shared PostgreSQL catalog, a new data directory does not take the sample secrets for a catalog that is not the sample library', async (t) => {
  const { pgDatabase } = await import('../helpers/postgres.js');
  const url = await pgDatabase(t);
  const made = await cmd.kdeliver(['partner', 'add', '--name', 'My media'], { KDELIVER_DATA_DIR: join(work, 'pg-prod'), KDELIVER_DATABASE_URL: url, NODE_ENV: 'production' });
  t.equal(made.code, 0, made.stderr);
  const node = await cmd.kdeliver(['partner', 'list'], { KDELIVER_DATA_DIR: join(work, 'pg-new'), KDELIVER_DATABASE_URL: url });
  t.equal(node.code, 2, 'refused');
  t.match(node.stderr, /is new and the catalog of KDELIVER_DATABASE_URL is not the sample library/);
  const path = '/p/100/sp/10000/playManifest/entryId/0_x/format/url/protocol/http/a.mp4';
  const sign = await cmd.kdeliver(['sign', path, '--expiry', String(expiry())], { KDELIVER_DATA_DIR: join(work, 'pg-sign'), KDELIVER_DATABASE_URL: url });
  t.equal(sign.code, 2, `kdeliver sign on a new data directory does not sign with the sample secret: ${sign.stdout}`);
  t.match(sign.stderr, /is new and the catalog of KDELIVER_DATABASE_URL is not the sample library/);
  const own = await cmd.kdeliver(['partner', 'list'], { KDELIVER_DATA_DIR: join(work, 'pg-new'), KDELIVER_DATABASE_URL: url, KDELIVER_SAMPLE_LIBRARY: 'false' });
  t.equal(own.code, 0, own.stderr);
  t.ok(existsSync(join(work, 'pg-new', 'secrets.json')), 'its own secrets, generated');

  // a second node on the sample library a first one seeded keeps the sample secrets
  const sampleUrl = await pgDatabase(t);
  t.equal((await cmd.kdeliver(['partner', 'list'], { KDELIVER_DATA_DIR: join(work, 'pg-a'), KDELIVER_DATABASE_URL: sampleUrl })).code, 0);
  t.ok(existsSync(join(work, 'pg-a', 'sample-library')), 'the seeding node records it');
  const b = await cmd.kdeliver(['partner', 'list'], { KDELIVER_DATA_DIR: join(work, 'pg-b'), KDELIVER_DATABASE_URL: sampleUrl });
  t.equal(b.code, 0, b.stderr);
  t.ok(existsSync(join(work, 'pg-b', 'sample-library')) && !existsSync(join(work, 'pg-b', 'secrets.json')), 'the other node finds the sample library: the sample secrets');

  // a sample data directory (its record) pointed at the other, non-sample catalog
  const moved = { KDELIVER_DATA_DIR: join(work, 'pg-a'), KDELIVER_DATABASE_URL: url };
  const stale = await cmd.kdeliver(['partner', 'list'], moved);
  t.equal(stale.code, 2, 'its record does not bring the sample secrets to that catalog');
  t.match(stale.stderr, /recorded as holding the sample library .*but the catalog of KDELIVER_DATABASE_URL is not the sample library/);
  const staleSign = await cmd.kdeliver(['sign', path, '--expiry', String(expiry())], moved);
  t.equal(staleSign.code, 2, `nor does kdeliver sign sign for it: ${staleSign.stdout}`);
  t.ok(existsSync(join(work, 'pg-a', 'sample-library')), 'the record stays, for the operator to remove (the message names it)');
});
