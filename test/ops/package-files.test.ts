// What `npm pack` puts in kdeliver's package (README: `npm install -g kdeliver-*.tgz`): the
// command, the server's compiled code, the sample library and its media, the console; not the
// tests, benchmarks, CI or Docker files (the package once shipped all of them, 1,007 files), and
// never the data directory. package.json's `files` decides; this reads npm's own listing.
import t from 'tap';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { repoPath, projectRoot } from '../helpers/repo.js';

const root = projectRoot;
// --ignore-scripts: the listing only (the build is `npm run build`'s, which the suite runs on)
const [pack] = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as [{ files: Array<{ path: string }> }];
const files = new Set(pack.files.map((f) => f.path));
const pkg = JSON.parse(readFileSync(repoPath('package.json'), 'utf8')) as { bin: Record<string, string> };
const library = JSON.parse(readFileSync(repoPath('fixtures/sample-library.json'), 'utf8'));

t.test('the package has what the installed command runs on', async (t) => {
  t.ok(files.has(pkg.bin.kdeliver), `the command ${pkg.bin.kdeliver}`);
  for (const f of ['dist/src/server.js', 'dist/routes/console.js', 'fixtures/sample-library.json', 'console/index.html', 'console/console.js', 'README.md', 'package.json']) {
    t.ok(files.has(f), f);
  }
  // every media file the sample library names (its relative paths under fixtures/media)
  const named = JSON.stringify(library).match(/"[^"]+\.(mp4|3gp|jpg|png|vtt|srt|mp3|m4a|pdf)"/g) ?? [];
  const shipped = [...files].filter((f) => f.startsWith('fixtures/media/'));
  t.ok(named.length > 0 && shipped.length > 0, `${shipped.length} media files shipped`);
  for (const name of new Set(named.map((n) => n.slice(1, -1).split('/').pop()!))) {
    t.ok(shipped.some((f) => f.endsWith(`/${name}`)), `the library's ${name} is shipped`);
  }
});

t.test('the package carries no tests, benchmarks, CI, Docker files or data', async (t) => {
  const outside = [...files].filter((f) => /^(test|bench|scripts|docker|\.ci|storage|test-artifacts|node_modules|dist\/test)\//.test(f));
  t.same(outside, [], 'nothing from test/, bench/, scripts/, docker/, .ci/, storage/');
});
