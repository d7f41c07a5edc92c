// A new user's first minutes: a clean checkout (git clone of the commit under test), `npm ci`,
// then `npx --no kdeliver ...` as the README says. npm ci must build dist/ (the "prepare"
// script) and npx must find and run the package's own bin.
//
// Kept fast and off the network: npm ci --offline installs from npm's cache (which the
// project's own npm ci filled), and better-sqlite3 gets its native binary from a local prebuild
// made of this checkout's compiled one (prebuild-install's documented local-prebuilds folder),
// as it would download it, instead of compiling SQLite for minutes. npx runs with a cache of its
// own, removed at the end. Uncommitted changes are not in the clone: commit before running this.
import t from 'tap';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { requireCommands } from '../helpers/system.js';
import { projectRoot } from '../helpers/repo.js';
import { binTarget, run } from '../helpers/command.js';
import { parseKs, verifyKs } from '../../src/access/ks.js';

requireCommands(t, ['git', 'tar'], 'git');

// About a minute and a half on an idle 2-core machine (npm ci unpacking 555 packages, tsc, npx
// linking the package); several times that on a loaded one. The runner's 300 s limit per file is
// raised for this file only: tap's runner resets its timer on a "# timeout=<ms>" comment.
const TIMEOUT_MS = 900_000;
t.setTimeout(TIMEOUT_MS);
t.comment(`timeout=${TIMEOUT_MS}`);

const work = mkdtempSync(join(tmpdir(), 'kdeliver-checkout-'));
t.teardown(() => rmSync(work, { recursive: true, force: true }));
const checkout = join(work, 'kdeliver');

const git = (args: string[], cwd?: string) => {
  const r = spawnSync('git', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
};
const head = git(['rev-parse', 'HEAD'], projectRoot);
if (git(['status', '--porcelain', '--untracked-files=no'], projectRoot)) t.comment(`uncommitted changes are not tested here: the clone is of ${head}`);
git(['clone', '--quiet', '--no-checkout', projectRoot, checkout]);
git(['checkout', '--quiet', head], checkout);

// better-sqlite3's prebuilt binary, named as prebuild-install looks for it
const sqlitePkg = join(projectRoot, 'node_modules', 'better-sqlite3');
const version = JSON.parse(readFileSync(join(sqlitePkg, 'package.json'), 'utf8')).version as string;
const prebuilds = join(work, 'prebuilds');
mkdirSync(prebuilds);
const tarball = join(prebuilds, `better-sqlite3-v${version}-node-v${process.versions.modules}-${process.platform}-${process.arch}.tar.gz`);
const tar = spawnSync('tar', ['-czf', tarball, '-C', sqlitePkg, 'build/Release/better_sqlite3.node'], { encoding: 'utf8' });
if (tar.status !== 0) throw new Error(`tar: ${tar.stderr}`);

t.test('npm ci in a clean checkout builds dist/, and `npx --no kdeliver` runs the command', async (t) => {
  t.notOk(existsSync(join(checkout, 'dist')), 'a clean checkout has no dist/');
  const ci = await run('npm', ['ci', '--offline', '--no-audit', '--no-fund'], {
    cwd: checkout, timeoutMs: 600_000,
    env: { npm_config_better_sqlite3_local_prebuilds: prebuilds, npm_config_update_notifier: 'false' },
  });
  t.equal(ci.code, 0, `npm ci --offline (if a package is not in npm's cache, run \`npm ci\` once with the registry reachable):\n${ci.stderr.slice(-3000)}`);
  const bin = binTarget(checkout);
  t.ok(existsSync(bin), `npm ci built the bin ${bin}`);
  // npm sets the bit when it links the bin, not again where an npx cache links this folder already
  t.equal(statSync(bin).mode & 0o111, 0o111, 'the build made it executable');

  const npx = (args: string[]) => run('npx', ['--no', 'kdeliver', ...args], {
    cwd: checkout, timeoutMs: 120_000,
    env: { KDELIVER_DATA_DIR: join(work, 'data'), npm_config_cache: join(work, 'npx-cache'), npm_config_offline: 'true', npm_config_update_notifier: 'false' },
  });
  const built = readFileSync(bin, 'utf8');
  const builtAt = statSync(bin).mtimeMs;
  const ks = await npx(['ks', '--partner', '309', '--type', 'admin', '--user', 'newcomer']);
  // npm links the checkout into npx's cache at the first npx and runs its `prepare` there: the
  // build npm ci made stands (scripts/build-if-stale.mjs), where it was a whole tsc build again
  t.equal(statSync(bin).mtimeMs, builtAt, 'the first npx did not build again');
  t.equal(readFileSync(bin, 'utf8'), built);
  t.equal(ks.code, 0, ks.stderr);
  const parsed = verifyKs(parseKs(ks.stdout.trim()), { id: 309, adminSecret: 'sample-admin-secret-309' }, { now: Math.floor(Date.now() / 1000) });
  t.equal(parsed.userId, 'newcomer');

  // a source newer than the build: built again (as `npm start` would, through its prestart)
  const edited = join(checkout, 'src', 'cli', 'kdeliver.ts');
  const later = new Date();
  utimesSync(edited, later, later);
  const again = await run(process.execPath, [join(checkout, 'scripts', 'build-if-stale.mjs')], { cwd: checkout, timeoutMs: 300_000 });
  t.equal(again.code, 0, again.stderr);
  t.match(again.stdout, /building dist\/ \(a source is newer than the last build/, 'saying so while it builds');
  t.ok(statSync(bin).mtimeMs > builtAt, 'a changed source is built again');
  // the stamp is package.json's build's: `npm run build` by hand counts as much as prepare's
  const current = await run(process.execPath, [join(checkout, 'scripts', 'build-if-stale.mjs')], { cwd: checkout, timeoutMs: 300_000 });
  t.match(current.stdout, /dist\/ is built from the current sources/, 'and the next one is skipped');

  const unknown = await npx(['nosuchcommand']);
  t.not(unknown.code, 0, 'an unknown command fails');
  t.match(unknown.stderr, /kdeliver: unknown command "nosuchcommand"/);
});
