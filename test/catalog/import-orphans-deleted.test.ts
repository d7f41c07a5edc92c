// The files an import killed outright (kill -9) had placed are removed by the next import
// (README, "Your own library"), also those in the folder of an entry that `kdeliver entries delete`
// had deleted (status 3): its id used to keep them for good, as if the deleted entry still used
// them. A live entry's files stay, and so does a file a deleted entry's rows still name.
import t from 'tap';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { binTarget, cleanEnv, run } from '../helpers/command.js';
import { libraryFolder } from '../helpers/library-folder.js';

const { work, movie, partner, entry, write } = libraryFolder(t, 'import-orphans-deleted');

t.test('an interrupted import\'s files in a deleted entry\'s folder are removed; a live entry\'s stay', async (t) => {
  const data = join(work, 'data-deleted');
  const env = { ...cleanEnv, KDELIVER_DATA_DIR: data, KDELIVER_SAMPLE_LIBRARY: 'false' };
  const cli = (...args: string[]) => run(process.execPath, [binTarget(), ...args], { env, timeoutMs: 120000 });
  // 0_gone: imported, then deleted; 0_live: imported and kept; 0_asdel: imported as deleted
  // (status 3) with its flavor, which its rows still name
  const first = await cli('import', write({ partners: [partner], entries: [entry('0_gone'), entry('0_live'), entry('0_asdel', { status: 3 })] }));
  t.equal(first.code, 0, first.stderr);
  const del = await cli('entries', 'delete', '0_gone');
  t.equal(del.code, 0, del.stderr);
  const media = join(data, 'media');
  t.notOk(existsSync(join(media, '600', '0_gone')), 'the deleted entry\'s folder went with it');
  // what an import of 0_gone (and of new files beside the other two) killed with kill -9 leaves:
  // the files it placed and its journal, named by a process that no longer runs
  const deadPid = spawnSync(process.execPath, ['-e', '0']).pid!;
  const placed = ['600/0_gone/movie.mp4', '600/0_gone/other.mp4', '600/0_live/movie.2.mp4', '600/0_asdel/movie.mp4', '600/0_asdel/movie.2.mp4'];
  for (const p of placed) {
    mkdirSync(join(media, p, '..'), { recursive: true });
    if (!existsSync(join(media, p))) copyFileSync(movie, join(media, p));
  }
  writeFileSync(join(media, `.import-placing-${deadPid}`), placed.join('\n') + '\n');

  const next = await cli('import', write({ entries: [entry('0_new')] }));
  t.equal(next.code, 0, next.stderr);
  t.match(next.stderr, /removing the media files an interrupted import left/);
  t.notOk(existsSync(join(media, '600', '0_gone')), 'the files in the deleted entry\'s folder are removed, and the folder');
  t.ok(existsSync(join(media, '600', '0_live', 'movie.2.mp4')), 'a live entry\'s files are kept');
  t.ok(existsSync(join(media, '600', '0_live', 'movie.mp4')));
  t.ok(existsSync(join(media, '600', '0_asdel', 'movie.mp4')), 'a file a deleted entry\'s rows still name is kept');
  t.notOk(existsSync(join(media, '600', '0_asdel', 'movie.2.mp4')), 'a file they do not name is removed');
  t.same(readdirSync(media).filter((f) => f.startsWith('.import-placing')), [], 'no journal is left');
});
