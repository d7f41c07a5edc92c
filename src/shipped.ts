// Files shipped with kdeliver (the sample library, its media), found from this module whether it
// runs compiled (dist/src/shipped.js) or from source under a TypeScript loader (src/shipped.ts):
// the one place that knows where the package's own files lie.
import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The absolute path of a file shipped with kdeliver ("fixtures/..."), or null when it is absent. */
export function shippedFile(relative: string): string | null {
  const here = dirname(fileURLToPath(import.meta.url));
  for (const up of ['..', '../..']) {
    const p = resolve(here, up, relative);
    if (existsSync(p)) return p;
  }
  return null;
}
