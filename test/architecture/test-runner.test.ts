// The tests run through tsx only (package.json's `tap.node-arg`), with tap's TypeScript plugin
// left out (`tap.plugin`). tap reads the loaders to give each test process from its own build,
// which `npm ci` installs with every default plugin, ts-node's among them; the runner rebuilds it
// for our plugin list only after it has read those loaders. So the first `npm test` after
// `npm ci` loaded ts-node into every test process beside tsx, and took twice as long (202 s
// against 100 s for 38 files). `pretest` runs `tap build` first; this file fails when a test
// process is started with the TypeScript plugin's loader or ts-node.
import t from 'tap';
import { readFileSync } from 'node:fs';

t.test('a test process carries no ts-node loader of tap\'s TypeScript plugin', async (t) => {
  const loaders = process.execArgv.filter((a) => a.startsWith('--import') || a.startsWith('--loader') || a.startsWith('--require'));
  t.ok(loaders.some((a) => a.includes('tsx')), `tsx loads the tests (${loaders.join(' ')})`);
  t.notOk(loaders.some((a) => /@tapjs[\\/]typescript|ts-node/.test(a)), `no @tapjs/typescript or ts-node loader (${loaders.join(' ')})`);
});

t.test('package.json leaves tap\'s TypeScript plugin out and builds tap before the tests', async (t) => {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { scripts: Record<string, string>; tap: { plugin: string[] } };
  t.ok(pkg.tap.plugin.includes('!@tapjs/typescript'), 'the plugin is left out');
  t.match(pkg.scripts.pretest, /(^|&& )tap build( |$)/, 'pretest runs tap build');
});
