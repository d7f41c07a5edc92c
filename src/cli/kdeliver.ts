#!/usr/bin/env node
// The `kdeliver` executable (package.json "bin"). People reach it through symlinks with another
// name than this file: node_modules/.bin/kdeliver (npx), npm link or a global install, and
// /usr/local/bin/kdeliver in the Docker image. So it runs the command line unconditionally; it
// must never guess whether it is "the main module" from process.argv[1], which is the symlink.
import { main } from './main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kdeliver: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
