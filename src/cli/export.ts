// `kdeliver export [file.json]`: the catalog as a library description that `kdeliver import`
// reads back. With a file, the media go beside it in `{file}-media/` (hard links or copies) and
// the description names that folder; without one, the description alone is printed.
import { renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { nearestExisting } from '../data-dir.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { describeCatalog, writeMedia } from '../catalog/export.js';
import { commandLine } from './usage.js';

const USAGE = 'usage: kdeliver export [library.json]\n' +
  '  without a file: the description on stdout; with one: the description in it, and the media in library.json-media/ beside it\n';

export async function main(args: string[]): Promise<number> {
  const cli = commandLine('export', USAGE);
  const parsed = cli.parse(args, {}, { optional: ['<library.json>'] });
  if (typeof parsed === 'number') return parsed;
  args = parsed.positionals;
  // the folders of the path are made (writeMedia); a file where one of them should be, or a folder
  // given as the file, is said before the catalog is opened
  if (args[0] !== undefined) {
    const out = resolve(args[0]);
    const there = nearestExisting(out);
    if (there.path === out && there.isFolder) return cli.error(`${args[0]}: is a folder; give the name of the file to write`);
    if (there.path !== out && !there.isFolder) return cli.error(`${args[0]}: ${there.path} is a file, not a folder`);
  }
  const config = loadConfig(process.env);
  const catalog = await openConfiguredCatalog(config);
  try {
    const { library, files } = await describeCatalog(catalog, config.mediaRoot);
    if (!args[0]) {
      process.stdout.write(`${JSON.stringify(library, null, 2)}\n`);
      process.stderr.write(`kdeliver export: description only (${files.size} media files not copied); give a file name to export the media too\n`);
      return 0;
    }
    const out = resolve(args[0]);
    const mediaName = `${basename(out)}-media`;
    const tmp = `${out}.tmp`;
    try {
      writeMedia(files, join(dirname(out), mediaName));
      library.mediaDir = mediaName;
      // it holds the partners' secrets (an import must give the same KSs): readable by its owner only
      writeFileSync(tmp, `${JSON.stringify(library, null, 2)}\n`, { mode: 0o600 });
      renameSync(tmp, out);
    } catch (e) {
      // a folder this user may not write, a full disk: one line, and no half-written description
      if (!(e as NodeJS.ErrnoException).code) throw e;
      rmSync(tmp, { force: true });
      process.stderr.write(`kdeliver export: cannot write ${out}: ${(e as Error).message}\n`);
      return 1;
    }
    process.stdout.write(`exported ${library.entries?.length ?? 0} entries and ${files.size} media files to ${out} (media in ${mediaName}/)\n`);
    return 0;
  } finally {
    await catalog.close();
  }
}
