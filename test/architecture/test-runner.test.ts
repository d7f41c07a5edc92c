// How `npm test` runs the tests. pretest builds them with src/ and routes/ into dist/
// (tsconfig.test.json, which also checks their types) and tap runs the built files, with no
// TypeScript loader in any test process: through tsx each test process spent about 0.8 s more of
// CPU loading its modules (the loader's hooks see every import, node_modules included), some 200
// s of the suite's CPU. tap's TypeScript plugin stays left out (`tap.plugin`) and pretest runs
// `tap build`: `npm ci` installs tap built with every default plugin, and without the rebuild the
// first run after it loaded ts-node into every test process (202 s against 100 s for 38 files).
import t from 'tap';
import { readFileSync } from 'node:fs';
import { builtTests, repoPath } from '../helpers/repo.js';

t.test('a test process runs its built file, with no TypeScript loader', async (t) => {
  t.ok(builtTests, `run from dist/test/ (${import.meta.url})`);
  const loaders = process.execArgv.filter((a) => a.startsWith('--import') || a.startsWith('--loader') || a.startsWith('--require') || a.startsWith('--experimental-loader'));
  t.notOk(loaders.some((a) => /tsx|@tapjs[\\/]typescript|ts-node/.test(a)), `no tsx, @tapjs/typescript or ts-node loader (${loaders.join(' ')})`);
});

t.test('package.json builds the tests before tap runs them, and leaves tap\'s TypeScript plugin out', async (t) => {
  const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { scripts: Record<string, string>; tap: { plugin: string[]; include: string[]; 'node-arg'?: string[] } };
  t.ok(pkg.tap.plugin.includes('!@tapjs/typescript'), 'the plugin is left out');
  t.same(pkg.tap.include, ['dist/test/**/*.test.js'], 'tap runs the built tests');
  t.notOk((pkg.tap['node-arg'] ?? []).some((a) => /tsx|ts-node/.test(a)), 'with no TypeScript loader');
  t.match(pkg.scripts.pretest, /^npm run build:tests && tap build$/, 'pretest builds the tests, then tap');
  t.match(pkg.scripts['build:tests'], /^rm -rf dist\/test && tsc -p tsconfig.test.json$/, 'a test deleted from test/ leaves no built copy for tap to run');
});
