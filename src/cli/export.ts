// `kdeliver export [file.json]`: the catalog as a library description that `kdeliver import`
// reads back. With a file, the media go beside it in `{file}-media/` (hard links or copies) and
// the description names that folder; without one, the description alone is printed.
import { writeFileSync, renameSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { loadConfig } from '../config.js';
import { openConfiguredCatalog } from '../open-catalog.js';
import { describeCatalog, writeMedia } from '../catalog/export.js';

export async function main(args: string[]): Promise<number> {
  if (args.length > 1 || args[0]?.startsWith('-')) {
    process.stderr.write(args[0] === '--help' || args[0] === '-h' ? '' : `unexpected ${args.join(' ')}\n`);
    process.stderr.write('usage: kdeliver export [library.json]   (media are written to library.json-media/ beside it)\n');
    return args[0] === '--help' || args[0] === '-h' ? 0 : 2;
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
    writeMedia(files, join(dirname(out), mediaName));
    library.mediaDir = mediaName;
    const tmp = `${out}.tmp`;
    // it holds the partners' secrets (an import must give the same KSs): readable by its owner only
    writeFileSync(tmp, `${JSON.stringify(library, null, 2)}\n`, { mode: 0o600 });
    renameSync(tmp, out);
    process.stdout.write(`exported ${library.entries?.length ?? 0} entries and ${files.size} media files to ${out} (media in ${mediaName}/)\n`);
    return 0;
  } finally {
    await catalog.close();
  }
}
