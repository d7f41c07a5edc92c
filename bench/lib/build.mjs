// Compiles the project exactly as `npm run build` does (tsc into dist/), so the benchmarks
// measure what `npm start` runs. tsc emits even when a module has type errors; what matters
// here is that the server modules exist afterwards.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { distDir, projectRoot } from './paths.mjs';

export function buildProject({ required = ['src/server.js'] } = {}) {
  const tsc = join(projectRoot, 'node_modules', '.bin', 'tsc');
  const r = spawnSync(tsc, ['-p', join(projectRoot, 'tsconfig.json')], { cwd: projectRoot, encoding: 'utf8' });
  const missing = required.filter((f) => !existsSync(join(distDir, f)));
  if (missing.length) throw new Error(`build did not produce ${missing.join(', ')}:\n${(r.stdout || '').slice(-3000)}`);
  if (r.status !== 0) console.error(`note: tsc reported type errors (emitted anyway):\n${(r.stdout || '').split('\n').slice(0, 8).join('\n')}`);
  return distDir;
}

export const distModule = (rel) => new URL(`file://${join(distDir, rel)}`).href;
