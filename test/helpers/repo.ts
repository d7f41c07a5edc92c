// Where the checkout is, for a test run either way: `npm test` builds the tests with src/ and
// routes/ into dist/ (tsconfig.test.json) and tap runs them from dist/test/, with no TypeScript
// loader in each test process; a person can also run one file from test/ through tsx
// (`node --import tsx test/.../x.test.ts`). Paths to the checkout's own files go through here so
// that both find the same fixtures, docker/ files and modules.
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** True when this test runs from its build in dist/test/, false when it runs from test/ through tsx. */
export const builtTests = import.meta.url.endsWith('.js');

/** The checkout's root folder. */
export const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), builtTests ? '../../..' : '../..');

/** A file or folder of the checkout: `repoPath('fixtures', 'media')`. */
export function repoPath(...parts: string[]): string {
  return join(projectRoot, ...parts);
}

/**
 * The module a child process runs for `rel`, a TypeScript file of src/ or routes/ such as
 * `src/cli/main.ts`: its build under dist/ when the tests run built, the file itself under tsx
 * (with `runnableArgs`).
 */
export function runnableModule(rel: string): string {
  return builtTests ? repoPath('dist', rel.replace(/\.ts$/, '.js')) : repoPath(rel);
}

/**
 * The node arguments of a child that runs `runnableModule`'s modules: source maps, and tsx when
 * the tests run from test/. Not this process's own arguments: under tap they carry tap's hooks
 * (test/helpers/tap-children.ts), and `node --import tsx` gives tsx's as two arguments.
 */
export const runnableArgs: readonly string[] = builtTests ? ['--enable-source-maps'] : ['--import=tsx', '--enable-source-maps'];

/**
 * tap's arguments to run other test files (`test/http/packager.test.ts`) in a child tap, the way
 * this one runs: their builds under dist/ with no loader, or the files themselves through tsx.
 */
export function childTapArgs(files: string[]): string[] {
  return builtTests ? files.map((f) => join('dist', f.replace(/\.ts$/, '.js'))) : ['--node-arg=--import=tsx', ...files];
}
