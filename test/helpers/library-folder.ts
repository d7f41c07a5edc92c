// A work folder for tests of `kdeliver import`: one media file (the 240p fixture as
// media/movie.mp4), a partner of its own (600), and library files written into the folder one
// after another; removed when the test ends.
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from './repo.js';

export function libraryFolder(t: { teardown(fn: () => unknown): void }, name: string) {
  const work = mkdtempSync(join(tmpdir(), `kdeliver-${name}-`));
  t.teardown(() => rmSync(work, { recursive: true, force: true }));
  mkdirSync(join(work, 'media'));
  const movie = join(work, 'media', 'movie.mp4');
  copyFileSync(join(projectRoot, 'fixtures/media/h264-240p.mp4'), movie);
  const partner = { id: 600, name: 'Mine', adminSecret: 'admin-secret-600', userSecret: 'user-secret-600' };
  const flavor = (id: string, over: Record<string, unknown> = {}) => ({ id, flavorParamsId: 0, file: 'movie.mp4', durationMs: 12000, ...over });
  const entry = (id: string, over: Record<string, unknown> = {}) => ({ id, partnerId: 600, name: id, flavors: [flavor(`${id}f`)], ...over });
  let n = 0;
  /** Writes a library file (version 1 plus `lib`) into the folder; its path. */
  const write = (lib: unknown): string => {
    const file = join(work, `lib-${++n}.json`);
    writeFileSync(file, JSON.stringify({ version: 1, ...(lib as object) }));
    return file;
  };
  return { work, movie, partner, flavor, entry, write };
}
