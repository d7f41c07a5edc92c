// Child-process entry: kdeliver as `npm start` runs it (one Node process, logging off), over a
// fresh data directory holding the sample library plus the benchmark entries of lib/media.mjs.
// Usage: node bench/lib/kdeliver-server.mjs <dataDir> <port> <benchLibrary.json>
import { join } from 'node:path';
import { distModule } from './build.mjs';
import { projectRoot } from './paths.mjs';

const [dataDir, port, benchLibrary] = process.argv.slice(2);
const { loadConfig } = await import(distModule('src/config.js'));
const { openDatabase } = await import(distModule('src/catalog/db.js'));
const { importLibrary, readLibraryFile } = await import(distModule('src/catalog/library.js'));
const { buildServer } = await import(distModule('src/server.js'));

// KDELIVER_MANIFEST_CACHE_ENTRIES passes through, so a benchmark can run the pipeline on every request
const config = loadConfig({
  KDELIVER_DATA_DIR: dataDir, KDELIVER_LOG_LEVEL: 'silent', PORT: port, HOST: '127.0.0.1',
  ...(process.env.KDELIVER_MANIFEST_CACHE_ENTRIES !== undefined ? { KDELIVER_MANIFEST_CACHE_ENTRIES: process.env.KDELIVER_MANIFEST_CACHE_ENTRIES } : {}),
});
// Seeded here rather than on first start, so the benchmark entries join the sample library
const db = openDatabase(config.dbFile);
for (const file of [join(projectRoot, 'fixtures', 'sample-library.json'), benchLibrary]) {
  const { library, mediaDir } = readLibraryFile(file);
  importLibrary(db, library, mediaDir, config.mediaRoot);
}
db.close();

const app = await buildServer({ config, logger: false });
await app.listen({ host: '127.0.0.1', port: Number(port) });
console.log(`kdeliver listening on http://127.0.0.1:${port}`);
process.on('SIGTERM', () => app.close().then(() => process.exit(0)));
