// `kdeliver partner secret add|remove`, as an operator rotating a leaked admin secret runs it: a
// new secret (random, printed once; or given on standard input, out of the process list) made
// primary, the old one kept as an additional secret until removed, the primary never removable;
// each mistake one line on stderr with its exit status, no secret on stderr. `kdeliver ks` signs
// with the new primary, and export/import carry the additional secrets along.
import t from 'tap';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { KsError, parseKs, verifyKs } from '../../src/access/ks.js';
import { loadConfig } from '../../src/config.js';
import { openConfiguredCatalog } from '../../src/open-catalog.js';
import { runnableArgs, runnableModule, projectRoot } from '../helpers/repo.js';

const root = projectRoot;
const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('KDELIVER_') && k !== 'PORT' && k !== 'HOST' && k !== 'NODE_ENV')) as Record<string, string>;
const work = mkdtempSync(join(tmpdir(), 'kdeliver-partner-secrets-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const env = { ...inherited, KDELIVER_DATA_DIR: join(work, 'data'), KDELIVER_SAMPLE_LIBRARY: 'false', KDELIVER_LOG_LEVEL: 'silent' };

/** `kdeliver ...args` from the sources, `input` on its standard input. */
function kdeliver(args: string[], input = '', extraEnv: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...runnableArgs, runnableModule('src/cli/kdeliver.ts'), ...args], { cwd: root, env: { ...env, ...extraEnv }, stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, out, err }));
    child.stdin.end(input);
  });
}
const partnerOf = async (id: number, dataDir = env.KDELIVER_DATA_DIR) => {
  const catalog = await openConfiguredCatalog(loadConfig({ KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent' }));
  try {
    return (await catalog.getPartner(id))!;
  } finally {
    await catalog.close();
  }
};
const signedBy = (ks: string, secret: string): boolean => {
  try {
    verifyKs(parseKs(ks), { id: 100, adminSecret: secret }, { now: Math.floor(Date.now() / 1000) });
    return true;
  } catch (e) {
    if (e instanceof KsError) return false;
    throw e;
  }
};

t.test('rotating a partner\'s admin secret with kdeliver partner secret', async (t) => {
  const made = await kdeliver(['partner', 'add', '--name', 'Rotating', '--json']);
  t.equal(made.code, 0, made.err);
  const old = JSON.parse(made.out) as { id: number; adminSecret: string; userSecret: string };
  t.equal(old.id, 100);

  const added = await kdeliver(['partner', 'secret', 'add', '--partner', '100', '--primary']);
  t.equal(added.code, 0, added.err);
  const fresh = /new primary admin secret: ([0-9a-f]{32})\n/.exec(added.out)?.[1];
  t.ok(fresh, `a random secret printed: ${added.out}`);
  t.match(added.out, /shown only now/);
  t.match(added.out, /kdeliver partner secret remove --partner 100 --secret -/, 'it says how to remove the old one');
  let p = await partnerOf(100);
  t.equal(p.adminSecret, fresh, 'the new secret is the primary');
  t.same(p.additionalAdminSecrets, [old.adminSecret], 'the old one still an admin secret');

  const ks = await kdeliver(['ks', '--partner', '100', '--type', 'admin']);
  t.equal(ks.code, 0, ks.err);
  t.ok(signedBy(ks.out.trim(), fresh!) && !signedBy(ks.out.trim(), old.adminSecret), 'kdeliver ks signs with the new primary');

  const own = await kdeliver(['partner', 'secret', 'add', '--partner', '100', '--secret', '-', '--json'], 'an-operator-chosen-secret\n');
  t.equal(own.code, 0, own.err);
  t.same(JSON.parse(own.out), { partnerId: 100, adminSecret: 'an-operator-chosen-secret', primary: false }, 'a secret given on standard input, added as an additional one');

  // the mistakes: one line each, exit 1, nothing changed, no secret on stderr
  for (const [args, input, message] of [
    [['partner', 'secret', 'remove', '--partner', '100', '--secret', '-'], `${fresh}\n`, /^kdeliver partner secret remove: that is partner 100's primary admin secret, which every KS is signed with: make another one primary first \(kdeliver partner secret add --partner 100 --primary\)\n$/],
    [['partner', 'secret', 'remove', '--partner', '100', '--secret', 'no-such-secret-here'], '', /^kdeliver partner secret remove: partner 100 has no such admin secret\n$/],
    [['partner', 'secret', 'add', '--partner', '100', '--secret', '-'], `${old.adminSecret}\n`, /^kdeliver partner secret add: partner 100 has that admin secret already\n$/],
    [['partner', 'secret', 'add', '--partner', '100', '--secret', '-'], `${old.userSecret}\n`, /^kdeliver partner secret add: that is partner 100's user secret\n$/],
    [['partner', 'secret', 'add', '--partner', '100', '--secret', 'short'], '', /^kdeliver partner secret add: an admin secret is at least 8 characters/],
    [['partner', 'secret', 'add', '--partner', '4242'], '', /^kdeliver partner secret add: no partner 4242\n$/],
  ] as const) {
    const r = await kdeliver([...args], input);
    t.equal(r.code, 1, args.join(' '));
    t.match(r.err, message);
    for (const s of [fresh!, old.adminSecret, old.userSecret]) t.notOk(r.err.includes(s), 'no secret on stderr');
  }
  // the command line itself: exit 2 and the usage, before the catalog is opened
  for (const [args, message] of [
    [['partner', 'secret', 'add'], /^kdeliver partner secret add: --partner is required\n/],
    [['partner', 'secret', 'remove', '--partner', '100'], /^kdeliver partner secret remove: --secret is required/],
    [['partner', 'secret', 'remove', '--partner', '100', '--secret', 'x', '--primary'], /^kdeliver partner secret remove: unknown option --primary\n/],
    [['partner', 'secret', 'rotate'], /^kdeliver partner secret: unknown command "rotate": expected add or remove\n/],
    [['partner', 'secret', 'add', '--partner', 'abc'], /^kdeliver partner secret add: --partner abc: expected a partner id/],
  ] as const) {
    const r = await kdeliver([...args]);
    t.equal(r.code, 2, args.join(' '));
    t.match(r.err, message);
    t.match(r.err, /usage: kdeliver partner add/);
  }
  p = await partnerOf(100);
  t.same([p.adminSecret, ...p.additionalAdminSecrets], [fresh, old.adminSecret, 'an-operator-chosen-secret'], 'nothing changed by the mistakes');
  const listed = await kdeliver(['partner', 'list', '--json']);
  t.match(JSON.parse(listed.out), [{ id: 100, adminSecrets: 3 }], 'partner list counts the admin secrets');
  const table = await kdeliver(['partner', 'list']);
  t.match(table.out, /^PARTNER +STATUS +ENTRIES +ADMIN SECRETS NAME\n100 +active +0 +3 Rotating\n$/, '... in its table too');
  for (const s of [fresh!, old.adminSecret, old.userSecret]) t.notOk(listed.out.includes(s) || table.out.includes(s), 'and shows none');

  // export and import carry the additional secrets
  const lib = join(work, 'lib.json');
  t.equal((await kdeliver(['export', lib])).code, 0);
  const exported = (JSON.parse(readFileSync(lib, 'utf8')) as { partners: { id: number; additionalAdminSecrets?: string[] }[] }).partners.find((x) => x.id === 100);
  t.same(exported?.additionalAdminSecrets, [old.adminSecret, 'an-operator-chosen-secret'], 'export writes them');
  const other = join(work, 'other');
  const imported = await kdeliver(['import', lib], '', { KDELIVER_DATA_DIR: other });
  t.equal(imported.code, 0, imported.err);
  t.same((await partnerOf(100, other)).additionalAdminSecrets, [old.adminSecret, 'an-operator-chosen-secret'], 'import keeps them');

  const removed = await kdeliver(['partner', 'secret', 'remove', '--partner', '100', '--secret', '-'], `${old.adminSecret}\n`);
  t.equal(removed.code, 0, removed.err);
  t.match(removed.out, /^partner 100: admin secret removed/);
  t.same((await partnerOf(100)).additionalAdminSecrets, ['an-operator-chosen-secret'], 'the leaked secret is gone');
});
