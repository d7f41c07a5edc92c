// `npm run bench`: every benchmark in one go, or the ones named.
// Usage: node bench/run.mjs [segments] [index] [playmanifest] [encryption]
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { benchDir } from './lib/paths.mjs';
import { buildProject } from './lib/build.mjs';

const all = { index: 'index-parse.mjs', playmanifest: 'playmanifest.mjs', segments: 'segments.mjs', encryption: 'encryption.mjs' };
const chosen = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = chosen.length ? chosen : Object.keys(all);
for (const n of names) if (!all[n]) throw new Error(`unknown benchmark ${n}; known: ${Object.keys(all).join(', ')}`);

buildProject();
let failed = 0;
for (const n of names) {
  console.log(`\n=== ${n} (bench/${all[n]}) ===`);
  const r = spawnSync(process.execPath, [join(benchDir, all[n]), '--no-build'], { stdio: 'inherit' });
  if (r.status !== 0) failed++;
}
process.exit(failed ? 1 : 0);
