#!/usr/bin/env node
// The `kdeliver` executable (package.json "bin"). People reach it through symlinks with another
// name than this file: node_modules/.bin/kdeliver (npx), npm link or a global install, and
// /usr/local/bin/kdeliver in the Docker image. So it runs the command line unconditionally; it
// must never guess whether it is "the main module" from process.argv[1], which is the symlink.
import { main } from './main.js';

// A reader that has read enough (`kdeliver partner list | head -2`) closes the pipe: the next
// write fails with EPIPE, which unhandled is a stack trace. The command ends quietly then, as
// Unix tools do; the server's logs have their own handling (src/log-output.ts).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE') throw err;
  process.exit(0);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`kdeliver: ${err instanceof Error ? err.stack ?? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
