// package.json's `prepare` and `prestart`: builds dist/ (as `npm run build` does) unless it was
// built here from these very sources.
//
// Why: npm runs `prepare` after `npm ci`, and again when `npx kdeliver` is first typed in the
// checkout (npm 11 links a package's own command into npx's cache, which runs the package's
// `prepare`), and `prestart` before every `npm start`: each was a whole tsc build (15-30 s on two
// cores) of sources built a moment before. A build here leaves a stamp in dist/; the next one is
// skipped while no file of src/, routes/, tsconfig.json or package-lock.json is newer than the
// stamp (a git checkout or an edit gives a file the current time). `npm run build` always builds,
// and leaves the stamp too (package.json's `build`: after tsc succeeds).
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const stamp = join(root, 'dist', '.built-from-sources');
const bin = join(root, 'dist', 'src', 'cli', 'kdeliver.js');

/** The newest modification time of a file, or of any file under a folder (0 when missing). */
function newest(path) {
  if (!existsSync(path)) return 0;
  const st = statSync(path);
  if (!st.isDirectory()) return st.mtimeMs;
  let latest = st.mtimeMs; // a file removed changes its folder's time
  for (const name of readdirSync(path)) latest = Math.max(latest, newest(join(path, name)));
  return latest;
}

const sources = Math.max(...['src', 'routes', 'tsconfig.json', 'package-lock.json'].map((p) => newest(join(root, p))));
if (existsSync(stamp) && existsSync(bin) && statSync(stamp).mtimeMs > sources) {
  console.log('kdeliver: dist/ is built from the current sources (npm run build builds it again)');
  process.exit(0);
}
// package.json's `build`: tsc, then the command made executable (tsc writes a new file without
// the bit, and npm sets it only when it links the bin: not again for an npx cache that has the
// checkout linked already, nor after `rm -rf dist`), then the stamp
console.log(existsSync(bin) ? 'kdeliver: building dist/ (a source is newer than the last build; 15-30 s)' : 'kdeliver: building dist/ (15-30 s)');
const build = spawnSync('npm', ['run', '--silent', 'build'], { cwd: root, stdio: 'inherit' });
process.exit(build.status ?? 1);
