// `kdeliver export` reads media from the local media folder only (README, "Media on S3 or an HTTP
// origin", Not yet). With KDELIVER_MEDIA_URL naming a store it must stop at start, saying so and
// writing nothing. Before, it found none of the files on local disk, left every flavor, caption and
// data file out of the description, and reported success ("exported 17 entries and 0 media files"):
// a library file that imports as entries without media.
// Real parts: the built command on a data directory holding the sample library.
import t from 'tap';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { binTarget, run } from '../helpers/command.js';

const dir = mkdtempSync(join(tmpdir(), 'kdeliver-export-remote-'));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const dataDir = join(dir, 'data');
const kdeliver = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, [binTarget(), ...args], { env: { KDELIVER_DATA_DIR: dataDir, KDELIVER_SAMPLE_LIBRARY: 'true', ...env }, timeoutMs: 60_000 });

t.equal((await kdeliver(['partner', 'list'])).code, 0, 'a data directory with the sample library');

for (const [label, env] of [
  ['S3', { KDELIVER_MEDIA_URL: 's3://media/lib', AWS_ENDPOINT_URL: 'http://127.0.0.1:9', AWS_ACCESS_KEY_ID: 'k', AWS_SECRET_ACCESS_KEY: 'exportsecret' }],
  ['an HTTP origin', { KDELIVER_MEDIA_URL: 'http://127.0.0.1:9/media' }],
] as const) {
  t.test(`media on ${label}`, async (t) => {
    for (const args of [['export', join(dir, 'lib.json')], ['export']]) {
      const r = await kdeliver(args, env);
      t.equal(r.code, 2, `${args.join(' ')}: exit 2`);
      t.match(r.stderr, /^kdeliver export: KDELIVER_MEDIA_URL=\S+ is not the local media folder: export reads media from local disk only/, 'says why');
      t.notMatch(r.stderr, /exportsecret/, 'no credential');
      t.equal(r.stdout, '', 'no description printed');
      t.notOk(existsSync(join(dir, 'lib.json')), 'no library file written');
    }
    const help = await kdeliver(['export', '--help'], env);
    t.equal(help.code, 0, 'export --help answers whatever the store');
    t.match(help.stdout + help.stderr, /usage/i);
  });
}

t.test('with local media the export still works', async (t) => {
  const r = await kdeliver(['export', join(dir, 'local.json')]);
  t.equal(r.code, 0);
  t.match(r.stdout, /exported 17 entries and [1-9]\d* media files/);
});
