import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const benchDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const projectRoot = join(benchDir, '..');
/** Generated media and the compiled server live here (ignored by git). */
export const workDir = join(benchDir, '.work');
export const mediaDir = join(workDir, 'media');
/** The compiled project, as `npm run build` makes it and `npm start` runs it. */
export const distDir = join(projectRoot, 'dist');
