// How `npm test` runs the tests. pretest builds them with src/ and routes/ into dist/
// (tsconfig.test.json, which also checks their types) and tap runs the built files, with no
// TypeScript loader in any test process: through tsx each test process spent about 0.8 s more of
// CPU loading its modules (the loader's hooks see every import, node_modules included). For the
// same reason tap's module-mock plugin is left out (no test mocks a module; its hooks cost a test
// process about 0.5 s of CPU), and the node processes a test starts do not get tap's processinfo
// hooks (test/helpers/tap-children.ts). tap's TypeScript plugin stays left out (`tap.plugin`) and
// `build:tests` (pretest) runs `tap build`: `npm ci` installs tap built with every default plugin,
// and without the rebuild the first run after it loaded ts-node (and the mocks) into every test
// process (202 s against 100 s for 38 files).
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { builtTests, repoPath } from '../helpers/repo.js';
import { cleanEnv } from '../helpers/command.js';

t.test('a test process runs its built file, with no TypeScript loader', async (t) => {
  t.ok(builtTests, `run from dist/test/ (${import.meta.url})`);
  const loaders = process.execArgv.filter((a) => a.startsWith('--import') || a.startsWith('--loader') || a.startsWith('--require') || a.startsWith('--experimental-loader'));
  t.notOk(loaders.some((a) => /tsx|@tapjs[\\/]typescript|ts-node/.test(a)), `no tsx, @tapjs/typescript or ts-node loader (${loaders.join(' ')})`);
  t.notOk(loaders.some((a) => /@tapjs[\\/]mock/.test(a)), `no @tapjs/mock loader: no test mocks a module (${loaders.join(' ')})`);
});

t.test('a node process a test starts carries none of tap\'s module hooks (test/helpers/tap-children.ts)', async (t) => {
  t.ok(process.execArgv.some((a) => a.includes('tap-children')), 'tap loads test/helpers/tap-children.ts into the test process');
  const probe = ['-p', 'JSON.stringify({ execArgv: process.execArgv, NODE_OPTIONS: process.env.NODE_OPTIONS ?? null })'];
  for (const [how, env] of [['with the test\'s environment', process.env], ['with an environment of its own', cleanEnv]] as const) {
    const child = JSON.parse(execFileSync(process.execPath, probe, { env, encoding: 'utf8' })) as { execArgv: string[]; NODE_OPTIONS: string | null };
    t.notMatch(JSON.stringify(child), /@tapjs/, `${how}: ${JSON.stringify(child)}`);
  }
});

t.test('package.json builds the tests before tap runs them, and leaves tap\'s TypeScript plugin out', async (t) => {
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { scripts: Record<string, string>; tap: { plugin: string[]; include: string[]; 'node-arg'?: string[] } };
  t.ok(pkg.tap.plugin.includes('!@tapjs/typescript'), 'the plugin is left out');
  t.ok(pkg.tap.plugin.includes('!@tapjs/mock'), 'and the module mocks, which no test uses and which hook every module a test loads');
  t.same(pkg.tap.include, ['dist/test/**/*.test.js'], 'tap runs the built tests');
  t.notOk((pkg.tap['node-arg'] ?? []).some((a) => /tsx|ts-node/.test(a)), 'with no TypeScript loader');
  t.match(pkg.scripts.pretest, /^npm run build:tests$/, 'pretest builds the tests');
  // a test deleted from test/ leaves no built copy for tap to run; the command is executable, as
  // the tests run it (package.json's build does the same); tap is rebuilt for the plugin list,
  // also when a person runs one built file after `npm ci` (README)
  t.match(pkg.scripts['build:tests'], /^rm -rf dist\/test && tsc -p tsconfig.test.json && chmod \+x dist\/src\/cli\/kdeliver\.js && tap build$/, 'build:tests empties dist/test, compiles, makes the command executable, then builds tap');
});
