// `kdeliver import-kaltura` and additional admin secrets. The source's session may be started with
// an additional admin secret of the source partner (one an operator rotating the source's secret
// handed out), and the whole import runs under it. Here, the partner the first run made keeps
// every admin secret it was given since: a second run never replaces the partner's secrets. (No
// source sends additional admin secrets: Kaltura's API carries none, and kdeliver's partner.get
// no secret at all; the partner here gets new random secrets of its own.) The source is a
// kdeliver server whose catalog comes from a library file; --no-media keeps it quick.
import t from 'tap';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { installedCommand } from '../helpers/command.js';
import { projectRoot } from '../helpers/repo.js';

const work = mkdtempSync(join(tmpdir(), 'kdeliver-import-secrets-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const cmd = installedCommand(t, work);
const PRIMARY = 'source-admin-secret-778';
const ADDITIONAL = 'source-rotation-secret-778';

t.test('an import under an additional admin secret of the source; the partner here keeps the admin secrets it was given', async (t) => {
  const lib = join(work, 'lib');
  mkdirSync(join(lib, 'media'), { recursive: true });
  copyFileSync(join(projectRoot, 'fixtures', 'media', 'audio-128k.mp4'), join(lib, 'media', 'a.mp4'));
  writeFileSync(join(lib, 'library.json'), JSON.stringify({
    version: 1,
    partners: [{ id: 778, name: 'Rotating source', adminSecret: PRIMARY, additionalAdminSecrets: [ADDITIONAL], userSecret: 'source-user-secret-778' }],
    entries: [1, 2].map((i) => ({
      id: `0_sec0000${i}`, partnerId: 778, name: `Entry ${i}`, mediaType: 5, duration: 12,
      flavors: [{ id: `0_fsec000${i}`, flavorParamsId: 301981, file: 'a.mp4', tags: 'audio_only,web', bitrate: 128 }],
    })),
  }));
  const srcEnv = { KDELIVER_DATA_DIR: join(work, 'source'), KDELIVER_SAMPLE_LIBRARY: 'false' };
  const loaded = await cmd.kdeliver(['import', join(lib, 'library.json')], srcEnv);
  t.equal(loaded.code, 0, loaded.stderr);
  const src = await cmd.serve(srcEnv);
  t.teardown(() => src.stop());

  const dstDir = join(work, 'imported');
  const dstEnv = { KDELIVER_DATA_DIR: dstDir, KDELIVER_SAMPLE_LIBRARY: 'false' };
  const importOne = (id: string) => cmd.kdeliver(['import-kaltura', '--service-url', src.url, '--partner-id', '778', '--admin-secret', ADDITIONAL,
    '--entry-ids', id, '--no-media'], dstEnv);
  const first = await importOne('0_sec00001');
  t.equal(first.code, 0, first.stderr.slice(-2000));
  t.match(first.stdout, /partner 778 into partner 778: 1 imported/, "the source's additional admin secret opens an admin session there");
  t.notOk(first.stdout.includes(ADDITIONAL) || first.stderr.includes(ADDITIONAL), "the source's secret is never printed");

  const added = await cmd.kdeliver(['partner', 'secret', 'add', '--partner', '778', '--json'], dstEnv);
  t.equal(added.code, 0, added.stderr);
  const secret = (JSON.parse(added.stdout) as { adminSecret: string }).adminSecret;
  const secretsHere = () => {
    const db = new Database(join(dstDir, 'catalog.sqlite'), { readonly: true });
    try {
      return db.prepare('SELECT admin_secret AS adminSecret, additional_admin_secrets AS additional FROM partners WHERE id = 778').get() as { adminSecret: string; additional: string };
    } finally {
      db.close();
    }
  };
  const before = secretsHere();
  t.same(JSON.parse(before.additional), [secret]);
  t.not(before.adminSecret, PRIMARY, 'the partner here has a secret of its own, not the source\'s');

  const second = await importOne('0_sec00002');
  t.equal(second.code, 0, second.stderr.slice(-2000));
  t.match(second.stdout, /partner 778 into partner 778: 1 imported/);
  t.same(secretsHere(), before, 'a second run keeps the partner\'s admin secrets, the added one too');
});
