// The library description file as people get it wrong: every mistake is refused by
// `kdeliver import` with its place in the file (exit 2, one line, no stack), before the catalog
// is opened, so the data directory is left as it was.
import t from 'tap';
import { copyFileSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { binTarget, cleanEnv, run } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';
import Database from 'better-sqlite3';
import { LibraryError, readLibraryFile } from '../../src/catalog/library.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-library-file-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
mkdirSync(join(work, 'media'));
copyFileSync(join(projectRoot, 'fixtures/media/h264-240p.mp4'), join(work, 'media', 'movie.mp4'));

const partner = { id: 500, name: 'Mine', adminSecret: 'admin-secret-500', userSecret: 'user-secret-500' };
const flavor = (id = '0_fmine001') => ({ id, flavorParamsId: 0, file: 'movie.mp4', durationMs: 12000 });
const entry = (over: Record<string, unknown> = {}) => ({ id: '0_mine0001', partnerId: 500, name: 'One', flavors: [flavor()], ...over });
let n = 0;
const write = (lib: unknown) => {
  const file = join(work, `lib-${++n}.json`);
  writeFileSync(file, JSON.stringify(lib));
  return file;
};

const refusals: [string, unknown, RegExp][] = [
  ['entries is an object', { version: 1, entries: { id: '0_x' } }, /: entries: must be a list/],
  ['an entry is null', { version: 1, entries: [null] }, /entries\[0\]: must be an object/],
  ['flavors is an object', { version: 1, entries: [entry({ flavors: {} })] }, /entries\[0\]\.flavors: must be a list/],
  ['a flavor is a string', { version: 1, entries: [entry({ flavors: ['movie.mp4'] })] }, /entries\[0\]\.flavors\[0\]: must be an object/],
  ['tags as a list', { version: 1, entries: [entry({ tags: ['a', 'b'] })] }, /entries\[0\]: tags must be a string \(got \["a","b"\]\)/],
  ['a name that is a number', { version: 1, entries: [entry({ name: 5 })] }, /entries\[0\]: name must be a string/],
  ['a partner id past 2^53', { version: 1, entries: [entry({ partnerId: 1e30 })] }, /entries\[0\]: partnerId must be a whole number up to 2\^53 \(got 1e\+30\)/],
  ['a bitrate of 1e300', { version: 1, entries: [entry({ flavors: [{ ...flavor(), bitrate: 1e300 }] })] }, /flavors\[0\]: bitrate must be a number/],
  ['a status as text', { version: 1, entries: [entry({ status: 'ready' })] }, /entries\[0\]: status must be a whole number/],
  ['a delivery profile without a name', { version: 1, deliveryProfiles: [{ id: 7, type: 61, streamerType: 'applehttp', url: '/hls' }] }, /deliveryProfiles\[0\]: name is missing/],
  ['a conversion profile with ids as text', { version: 1, conversionProfiles: [{ id: 7, partnerId: 500, name: 'x', flavorParamsIds: '0,301961' }] }, /conversionProfiles\[0\]: flavorParamsIds must be a list of whole numbers/],
  ['rules as an object', { version: 1, accessControlProfiles: [{ id: 7, partnerId: 500, name: 'x', rules: {} }] }, /accessControlProfiles\[0\]: rules must be a list/],
  ['remoteFiles keyed by name', { version: 1, entries: [entry({ flavors: [{ ...flavor(), remoteFiles: { cdn: 'a.mp4' } }] })] }, /flavors\[0\]\.remoteFiles: must map storage profile ids/],
  ['mediaDir as a list', { version: 1, mediaDir: ['media'] }, /: mediaDir: must be a string/],
  ['the same entry id twice', { version: 1, entries: [entry(), entry({ name: 'Two', flavors: [flavor('0_fmine002')] })] },
    /entries\[1\]: entry id "0_mine0001" is given twice \(first at entries\[0\]\)/],
  ['the same flavor id in two entries', { version: 1, entries: [entry(), entry({ id: '0_mine0002' })] },
    /entries\[1\]\.flavors\[0\]: flavor id "0_fmine001" is given twice \(first at entries\[0\]\.flavors\[0\]\)/],
  ['the same partner twice', { version: 1, partners: [partner, partner] }, /partners\[1\]: partner id 500 is given twice/],
  ['a file name with a space', { version: 1, entries: [entry({ flavors: [{ ...flavor(), file: 'my movie.mp4' }] })] },
    /flavors\[0\]: file "my movie\.mp4" must be a plain file name inside the media folder, 1-200 characters of A-Z a-z 0-9 \. _ - \(no space, no other letter, no folder\)/],
  ['a file name with an accented letter', { version: 1, entries: [entry({ flavors: [{ ...flavor(), file: 'café.mp4' }] })] }, /file "café\.mp4" must be .*A-Z a-z 0-9 \. _ -/],
  ['an additional admin secret that is the admin secret', { version: 1, partners: [{ ...partner, additionalAdminSecrets: [partner.adminSecret] }] },
    /partners\[0\]\.additionalAdminSecrets: must be a list of different strings of at least 8 characters, none the adminSecret or the userSecret/],
  ['additional admin secrets as one string', { version: 1, partners: [{ ...partner, additionalAdminSecrets: 'another-admin-secret' }] },
    /partners\[0\]\.additionalAdminSecrets: must be a list/],
];

t.test('readLibraryFile refuses each mistake with its place', async (t) => {
  for (const [what, lib, says] of refusals) {
    t.throws(() => readLibraryFile(write(lib)), says, what);
    try {
      readLibraryFile(write(lib));
    } catch (e) {
      t.ok(e instanceof LibraryError, `${what}: a LibraryError, not ${(e as Error).name}`);
    }
  }
  t.doesNotThrow(() => readLibraryFile(write({ version: 1, partners: [partner], entries: [entry({ startDate: null, tags: null })] })),
    'null stands for a field left out');
});

t.test('kdeliver import says the mistake in one line, exit 2, and makes no catalog', async (t) => {
  const bin = binTarget();
  for (const [what, lib, says] of refusals.slice(0, 3).concat(refusals.slice(9, 11))) {
    const data = join(work, `data-${++n}`);
    const r = await run(process.execPath, [bin, 'import', write(lib)], { env: { ...cleanEnv, KDELIVER_DATA_DIR: data } });
    t.equal(r.code, 2, `${what}: ${r.stderr}`);
    t.match(r.stderr, says, what);
    t.notMatch(r.stderr, /\n\s+at /, `${what}: no stack`);
    t.notOk(existsSync(join(data, 'catalog.sqlite')), `${what}: no catalog made`);
  }
});

t.test('a record that clashes with the catalog is refused, and the catalog and media stay as they were', async (t) => {
  const bin = binTarget();
  const data = join(work, 'data-clash');
  const env = { ...cleanEnv, KDELIVER_DATA_DIR: data };
  const imp = (lib: unknown) => run(process.execPath, [bin, 'import', write(lib)], { env });
  const first = await imp({ version: 1, partners: [partner], entries: [entry()] });
  t.equal(first.code, 0, first.stderr);
  const cases: [string, unknown, RegExp][] = [
    ['the same entry id for partner 309', { version: 1, entries: [entry({ partnerId: 309, flavors: [flavor('0_fnew0001')] })] },
      /entry 0_mine0001 belongs to partner 500 in the catalog, not to partner 309/],
    ['another entry with the first one\'s flavor id', { version: 1, entries: [entry({ id: '0_other001' })] },
      /flavor 0_fmine001 belongs to entry 0_mine0001 in the catalog, not to entry 0_other001/],
    ['a partner that is nowhere', { version: 1, entries: [entry({ id: '0_other001', partnerId: 777, flavors: [flavor('0_fnew0001')] })] },
      /entries\[0\] \(0_other001\): partner 777 is neither in the file nor in the catalog/],
    ['an access-control profile that is nowhere', { version: 1, entries: [entry({ id: '0_other001', accessControlProfileId: 99, flavors: [flavor('0_fnew0001')] })] },
      /access-control profile 99 is neither in the file nor in the catalog/],
    ['a conversion profile that is nowhere', { version: 1, entries: [entry({ id: '0_other001', conversionProfileId: 98, flavors: [flavor('0_fnew0001')] })] },
      /entries\[0\] \(0_other001\): conversion profile 98 is neither in the file nor in the catalog/],
    ['a conversion profile that is not a number', { version: 1, entries: [entry({ id: '0_other001', conversionProfileId: '1', flavors: [flavor('0_fnew0001')] })] },
      /entries\[0\]: conversionProfileId must be a whole number up to 2\^53 \(got "1"\)/],
    ['a storage profile that is nowhere', { version: 1, entries: [entry({ id: '0_other001', flavors: [{ ...flavor('0_fnew0001'), remoteFiles: { 9: 'x.mp4' } }] })] },
      /storage profile 9 is neither in the file nor in the catalog/],
  ];
  for (const [what, lib, says] of cases) {
    const r = await imp(lib);
    t.equal(r.code, 2, `${what}: ${r.stderr}`);
    t.match(r.stderr, says, what);
    t.notMatch(r.stderr, /\n\s+at |SqliteError/, `${what}: no stack`);
  }
  const list = await run(process.execPath, [bin, 'entries', 'list', '--partner', '500'], { env });
  t.match(list.stdout, /0_mine0001/, 'the first entry is still partner 500\'s');
  t.notMatch(list.stdout, /0_other001/, 'no other entry was written');
  t.ok(existsSync(join(data, 'media', '500', '0_mine0001', 'movie.mp4')), 'its media is still there');
  t.notOk(existsSync(join(data, 'media', '500', '0_other001', 'movie.mp4')), 'no media placed for a refused import');
});

t.test('kill -9 in the middle of placing media: the next import removes what it placed', async (t) => {
  const data = join(work, 'data-killed');
  const env = { ...cleanEnv, KDELIVER_DATA_DIR: data };
  const first = await run(process.execPath, [binTarget(), 'import', write({ version: 1, partners: [partner], entries: [entry()] })], { env });
  t.equal(first.code, 0, first.stderr);
  // enough entries (one shared file each) for the media phase to last a few seconds
  const many = Array.from({ length: 40000 }, (_, i) => entry({ id: `0_many${i}`, flavors: [flavor(`0_fmany${i}`)] }));
  const big = write({ version: 1, entries: many });
  const child = spawn(process.execPath, [binTarget(), 'import', big], { env, stdio: 'ignore' });
  const partnerDir = join(data, 'media', '500');
  for (let i = 0; i < 600 && readdirSync(partnerDir).length < 1000; i++) await new Promise((r) => setTimeout(r, 50));
  child.kill('SIGKILL');
  await new Promise((r) => child.once('exit', r));
  const left = readdirSync(partnerDir).length;
  t.ok(left > 1 && left < 40001, `killed while placing media (${left} entry folders)`);

  const next = await run(process.execPath, [binTarget(), 'import', write({ version: 1, entries: [entry({ name: 'again' })] })], { env, timeoutMs: 120000 });
  t.equal(next.code, 0, next.stderr);
  t.match(next.stderr, /removing the media files an interrupted import left/);
  t.same(readdirSync(partnerDir), ['0_mine0001'], 'only the catalog\'s entry keeps its folder');
  t.same(readdirSync(join(data, 'media')).filter((n) => n.startsWith('.')), [], 'no journal is left');
  t.ok(existsSync(join(partnerDir, '0_mine0001', 'movie.mp4')));
});

t.test('a symbolic link in the media folder is placed as its file; a folder named as a file is refused', async (t) => {
  const lib = join(work, 'linked');
  mkdirSync(join(lib, 'media', 'a-folder'), { recursive: true });
  symlinkSync(join(work, 'media', 'movie.mp4'), join(lib, 'media', 'absolute.mp4'));
  symlinkSync('../../media/movie.mp4', join(lib, 'media', 'relative.mp4'));
  const data = join(work, 'data-linked');
  const env = { ...cleanEnv, KDELIVER_DATA_DIR: data };
  const file = join(lib, 'lib.json');
  writeFileSync(file, JSON.stringify({ version: 1, partners: [partner], entries: [
    entry({ flavors: [{ ...flavor(), file: 'absolute.mp4' }, { ...flavor('0_fmine002'), file: 'relative.mp4' }] }),
  ] }));
  const r = await run(process.execPath, [binTarget(), 'import', file], { env });
  t.equal(r.code, 0, r.stderr);
  for (const name of ['absolute.mp4', 'relative.mp4']) {
    const placed = join(data, 'media', '500', '0_mine0001', name);
    t.notOk(lstatSync(placed).isSymbolicLink(), `${name}: the file itself, not a link pointing out of the data directory`);
    t.equal(statSync(placed).size, statSync(join(work, 'media', 'movie.mp4')).size, `${name}: readable, the movie's bytes`);
  }
  writeFileSync(file, JSON.stringify({ version: 1, partners: [partner], entries: [entry({ id: '0_folder01', flavors: [{ ...flavor('0_ffolder1'), file: 'a-folder' }] })] }));
  const folder = await run(process.execPath, [binTarget(), 'import', file], { env });
  t.equal(folder.code, 2, folder.stderr);
  t.match(folder.stderr, /entries\[0\]\.flavors\[0\]: file .*a-folder does not exist or is not a file/);
  t.notMatch(folder.stderr, /\n\s+at /);
});

t.test('a caption without language or languageCode imports: each is derived from the other, "und" when neither', async (t) => {
  copyFileSync(join(projectRoot, 'fixtures/media/captions-eng.vtt'), join(work, 'media', 'eng.vtt'));
  const data = join(work, 'data-captions');
  const cap = (id: string, over: Record<string, unknown>) => ({ id, format: 'vtt', file: 'eng.vtt', ...over });
  const r = await run(process.execPath, [binTarget(), 'import', write({ version: 1, partners: [partner], entries: [
    entry({ captions: [cap('0_cneith01', {}), cap('0_cname001', { language: 'Spanish' }), cap('0_ccode001', { languageCode: 'fr' })] }),
  ] })], { env: { ...cleanEnv, KDELIVER_DATA_DIR: data } });
  t.equal(r.code, 0, r.stderr);
  t.notMatch(r.stderr, /\n\s+at |NOT NULL/, 'no stack');
  const db = new Database(join(data, 'catalog.sqlite'), { readonly: true });
  t.teardown(() => db.close());
  t.same(db.prepare('SELECT id, language, language_code AS code, label FROM caption_assets WHERE entry_id = ? ORDER BY id').all('0_mine0001'), [
    { id: '0_ccode001', language: 'French', code: 'fr', label: 'French' },
    { id: '0_cname001', language: 'Spanish', code: 'es', label: 'Spanish' },
    { id: '0_cneith01', language: 'Undefined', code: 'und', label: 'Undefined' },
  ]);
});
